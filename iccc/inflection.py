"""English number inflection: nouns singular <-> plural, verbs third person singular <-> base form.

Pure functions over single words (no spaCy, no WordNet), used by the number operator
(:mod:`iccc.operators.number`) to change the grammatical number of a noun and of the verb that
agrees with it. Irregular forms are listed here; words whose number cannot be changed are
listed too, so the caller can leave them alone:

- :data:`MASS_NOUNS`: nouns used without a plural in captions ("water", "grass", "furniture");
- :data:`UNIQUE_NOUNS`: nouns naming the one thing of their kind in a scene ("the sky", "the ground");
- :data:`INVARIANT_NOUNS`: singular and plural alike ("sheep", "deer", "aircraft");
- :data:`PLURALIA_TANTUM`: plural-only nouns ("scissors", "pants", "glasses").

The shipped WordNet lexicon (:mod:`iccc.data.lexicon`) has no morphological exception lists (its
``exceptions`` tables are empty) and WordNet says nothing about countability, so these tables are
our own. Every function keeps the word's capitalisation ("Men" -> "Man", "DOGS" -> "DOG") and
returns ``None`` when it has no reliable answer.

>>> pluralize("man"), pluralize("bench"), pluralize("knife"), pluralize("sheep")
('men', 'benches', 'knives', None)
>>> singularize("People"), singularize("FIREMEN"), singularize("puppies")
('Person', 'FIREMAN', 'puppy')
>>> third_person("watch"), base_form("flies"), number_variant("is"), number_variant("were")
('watches', 'fly', 'are', 'was')
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------ nouns
#: Irregular plurals (singular -> plural), lower case. "-man" compounds follow "man" (see
#: :func:`pluralize`) and need no entry.
IRREGULAR_PLURALS: dict[str, str] = {
    "person": "people", "child": "children", "mouse": "mice", "goose": "geese", "foot": "feet",
    "tooth": "teeth", "ox": "oxen", "louse": "lice", "die": "dice", "cactus": "cacti", "fungus": "fungi",
    "octopus": "octopuses", "hippopotamus": "hippopotamuses", "radius": "radii", "stimulus": "stimuli",
    "analysis": "analyses", "axis": "axes", "basis": "bases", "crisis": "crises", "oasis": "oases",
    "thesis": "theses", "ellipsis": "ellipses", "criterion": "criteria", "phenomenon": "phenomena",
    "quiz": "quizzes", "passerby": "passersby", "passer-by": "passers-by",
    # -f / -fe -> -ves (other words in -f/-fe take -s: roofs, chefs, giraffes, cliffs)
    "knife": "knives", "wife": "wives", "life": "lives", "leaf": "leaves", "loaf": "loaves",
    "shelf": "shelves", "wolf": "wolves", "calf": "calves", "half": "halves", "thief": "thieves",
    "elf": "elves", "scarf": "scarves", "hoof": "hooves", "self": "selves", "sheaf": "sheaves",
    "midwife": "midwives", "housewife": "housewives", "pocketknife": "pocketknives",
    "penknife": "penknives", "bookshelf": "bookshelves",
    # -o -> -oes (other words in -o take -s: photos, pianos, zoos, kangaroos, avocados)
    "potato": "potatoes", "tomato": "tomatoes", "hero": "heroes", "echo": "echoes",
    "volcano": "volcanoes", "mango": "mangoes", "torpedo": "torpedoes", "buffalo": "buffaloes",
    "domino": "dominoes", "mosquito": "mosquitoes", "tornado": "tornadoes", "veto": "vetoes",
}
#: Plural -> singular for the irregular plurals.
IRREGULAR_SINGULARS: dict[str, str] = {plural: singular for singular, plural in IRREGULAR_PLURALS.items()}

#: Words in "-man" that take "-s" ("humans", "ottomans"), not "-men".
_MAN_TAKES_S = frozenset(
    "human shaman talisman caiman cayman ottoman german roman walkman pacman doberman batman "
    "superman catamaran".split()
)
#: Singular nouns ending in "-s" (their plural adds "-es"; their plural loses "-es").
_S_SINGULARS = frozenset(
    """bus lens gas canvas bonus campus circus virus walrus iris atlas chorus census plus bias
    alias asparagus hibiscus citrus abacus cosmos""".split()
)
#: Singular nouns ending in "-men" (their plural adds "-s").
_MEN_SINGULARS = frozenset("omen abdomen stamen specimen regimen hymen amen dolmen".split())
#: Singular nouns ending in "-che" (plural "-ches" loses only "-s").
_CHE_SINGULARS = frozenset(
    """avalanche headache toothache stomachache ache mustache moustache niche quiche cache cliche
    microfiche psyche""".split()
)
#: Words in "-ch" said with a hard "k": their plural adds "-s".
_CH_TAKES_S = frozenset("stomach monarch epoch patriarch matriarch".split())

#: Nouns used without a plural in captions (a compound counts by its head: "ice cream" by "cream").
#: Nouns that are countable in use as well ("a pizza", "two cakes", "a glass") are not listed.
MASS_NOUNS = frozenset(
    """water grass food furniture snow sand dirt mud rice meat cheese milk coffee tea juice wine beer
    soup sauce broth chili stew broccoli lettuce spinach cereal pasta spaghetti luggage baggage
    equipment clothing traffic information advice money hair fur ice smoke steam air sunlight sunshine
    shade hay straw wood paper cardboard metal plastic concrete asphalt gravel cement pavement
    foliage vegetation greenery scenery shrubbery brush underbrush moss ivy algae seaweed lava sawdust
    weather rain fog mist darkness lighting bedding seating flooring carpeting paneling fencing
    wiring plumbing wallpaper icing frosting cream butter jam honey sugar salt flour dough batter
    bread toast bacon ham beef pork seafood tuna celery corn garlic ginger parsley cilantro basil
    kale produce fruit candy chocolate popcorn oatmeal yogurt yoghurt pudding custard syrup ketchup
    mustard mayonnaise mayo dressing gravy salsa guacamole hummus tofu sushi garnish stuffing filling
    confetti oil vinegar wax foam glue paint ink soap shampoo toothpaste lotion tape yarn lace fabric
    cloth cotton denim wool leather silk velvet satin linen junk trash garbage rubbish debris litter
    clutter stuff gear merchandise jewelry jewellery machinery hardware software silverware cutlery
    dinnerware tableware glassware cookware kitchenware homework work research music art graffiti
    writing lettering signage advertising footage land soil terrain grassland farmland woodland
    livestock poultry wildlife""".split()
)

#: Nouns naming the one thing of their kind in a scene: "the sky" has no plural in a caption.
UNIQUE_NOUNS = frozenset(
    """sky sun moon horizon background foreground distance ground wind world earth daylight daytime
    nighttime sunset sunrise dusk dawn outdoors indoors surface middle center centre ocean sea
    wilderness countryside tarmac skyline shoreline waterfront""".split()
)
#: Singular and plural alike: no number change is visible.
INVARIANT_NOUNS = frozenset(
    """sheep deer fish moose bison elk aircraft spacecraft hovercraft watercraft series species
    salmon trout shrimp swine offspring corps means headquarters barracks crossroads""".split()
)
#: Plural-only nouns (or plurals whose singular means something else: "glasses").
PLURALIA_TANTUM = frozenset(
    """scissors pants trousers jeans shorts glasses sunglasses eyeglasses spectacles goggles
    binoculars pliers tongs tweezers clothes headphones earphones earbuds overalls pajamas pyjamas
    leggings tights suspenders boxers briefs trunks stairs surroundings outskirts remains goods
    belongings groceries contents premises odds thanks savings arms electronics graphics physics
    athletics gymnastics mathematics politics economics news clippers shears handcuffs cattle police""".split()
)

_LETTERS = re.compile(r"[A-Za-z]+$")


def _check_word(word, name: str = "word") -> None:
    if not isinstance(word, str):
        raise TypeError(f"`{name}` must be a str, got {type(word).__name__}: {word!r:.80}.")


def recase(template: str, word: str) -> str:
    """``word`` written in the capitalisation of ``template``: all capitals, capitalised, or as given.

    >>> recase("DOGS", "dog"), recase("Men", "man"), recase("iPhones", "iPhone")
    ('DOG', 'Man', 'iPhone')
    """
    _check_word(template, "template")
    _check_word(word)
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[:1].isupper() and template[1:].islower() and word[:1].islower():
        return word[0].upper() + word[1:]
    return word


def _keep_case(word: str, new: str) -> str:
    """``new`` (lower case, another form of ``word``) with ``word``'s letters kept where the two
    agree ("iPhone" -> "iPhones") and capitals carried on in a word written in capitals."""
    k = 0
    while k < min(len(word), len(new)) and word[k].lower() == new[k]:
        k += 1
    rest = new[k:].upper() if len(word) > 1 and word.isupper() else new[k:]
    return word[:k] + rest


def countable(noun: str) -> bool:
    """Whether ``noun`` (a singular or plural form; a compound counts by its last word) can change
    number: not a mass, unique, invariant or plural-only noun.

    >>> countable("dog"), countable("ice cream"), countable("sheep"), countable("scissors"), countable("sky")
    (True, False, False, False, False)
    """
    _check_word(noun, "noun")
    found = _LETTERS.search(noun)
    if not found:
        return False
    head = found.group().lower()
    if head in INVARIANT_NOUNS or head in PLURALIA_TANTUM:
        return False
    singular = IRREGULAR_SINGULARS.get(head, head)
    if head.endswith("s") and head not in _S_SINGULARS:
        singular = _singular_lower(head) or head
    return not (head in MASS_NOUNS or singular in MASS_NOUNS or head in UNIQUE_NOUNS or singular in UNIQUE_NOUNS)


def pluralize(noun: str) -> str | None:
    """The plural of a singular count noun (a compound or hyphenated word inflects its last part:
    "fire hydrant" -> "fire hydrants", "T-shirt" -> "T-shirts"); ``None`` for nouns whose number
    cannot change (see :func:`countable`).

    >>> [pluralize(w) for w in ["dog", "bus", "box", "baby", "boy", "fireman", "human", "photo", "potato"]]
    ['dogs', 'buses', 'boxes', 'babies', 'boys', 'firemen', 'humans', 'photos', 'potatoes']
    >>> pluralize("fire hydrant"), pluralize("T-shirt"), pluralize("water"), pluralize("")
    ('fire hydrants', 'T-shirts', None, None)
    """
    _check_word(noun, "noun")
    found = _LETTERS.search(noun)
    if not found or not countable(noun):
        return None
    whole = noun.lower()
    if whole in IRREGULAR_PLURALS:  # "passer-by"
        return recase(noun, IRREGULAR_PLURALS[whole])
    head = found.group()
    plural = _plural_lower(head.lower())
    if plural is None:
        return None
    return noun[: found.start()] + _keep_case(head, plural)


def _plural_lower(w: str) -> str | None:
    if w in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[w]
    if w.endswith("man") and w not in _MAN_TAKES_S:
        return w[:-3] + "men"
    if w in _S_SINGULARS or w.endswith(("ss", "sh", "x", "z")) or (w.endswith("ch") and w not in _CH_TAKES_S):
        return w + "es"
    if w.endswith("s"):
        return None  # probably a plural already, or a word we do not know
    if len(w) > 1 and w.endswith("y") and w[-2] not in "aeiou":
        return w[:-1] + "ies"
    return w + "s"


def singularize(noun: str) -> str | None:
    """The singular of a plural count noun; ``None`` when ``noun`` does not look plural or its number
    cannot change. Rules guess for words not listed ("movies" -> "movie", but "puppies" ->
    "puppy"), so a caller with a lemma should prefer it (the number operator checks that
    :func:`pluralize` of the result gives ``noun`` back).

    >>> [singularize(w) for w in ["dogs", "buses", "boxes", "benches", "women", "knives", "gloves", "shoes"]]
    ['dog', 'bus', 'box', 'bench', 'woman', 'knife', 'glove', 'shoe']
    >>> singularize("horses"), singularize("glasses"), singularize("dog"), singularize("sheep")
    ('horse', None, None, None)
    """
    _check_word(noun, "noun")
    found = _LETTERS.search(noun)
    if not found or not countable(noun):
        return None
    whole = noun.lower()
    if whole in IRREGULAR_SINGULARS:  # "passers-by"
        return recase(noun, IRREGULAR_SINGULARS[whole])
    head = found.group()
    singular = _singular_lower(head.lower())
    if singular is None:
        return None
    return noun[: found.start()] + _keep_case(head, singular)


def _singular_lower(w: str) -> str | None:
    if w in IRREGULAR_SINGULARS:
        return IRREGULAR_SINGULARS[w]
    if w.endswith("men") and w not in _MEN_SINGULARS and w[:-3] + "man" not in _MAN_TAKES_S:
        return w[:-3] + "man"
    if not w.endswith("s") or w.endswith(("ss", "us", "is")) or len(w) < 3:
        return None
    if w.endswith("es"):
        stem = w[:-2]
        if stem in _S_SINGULARS or w[:-1] in _CHE_SINGULARS:
            return stem if stem in _S_SINGULARS else w[:-1]
        if w.endswith("ies") and len(w) > 4:
            return w[:-3] + "y"
        if stem.endswith(("ss", "sh", "x", "zz")) or (stem.endswith("ch") and stem not in _CH_TAKES_S):
            return stem
    return w[:-1]


# ------------------------------------------------------------------ verbs
#: Finite verbs that change with number (singular -> plural), besides regular "-s" forms.
SINGULAR_TO_PLURAL_VERBS: dict[str, str] = {
    "is": "are", "was": "were", "has": "have", "does": "do",
    "isn't": "aren't", "wasn't": "weren't", "hasn't": "haven't", "doesn't": "don't",
}
#: The same table read the other way.
PLURAL_TO_SINGULAR_VERBS: dict[str, str] = {p: s for s, p in SINGULAR_TO_PLURAL_VERBS.items()}
#: Finite forms that are the same in both numbers (modals, and past tense other than "was").
NUMBERLESS_FINITE = frozenset(
    "can could will would may might must shall should can't couldn't won't wouldn't shouldn't mustn't "
    "did didn't had hadn't".split()
)

_3SG_ES = ("s", "sh", "ch", "x", "z")


def third_person(verb: str) -> str | None:
    """The third person singular present of a base form ("sit" -> "sits", "watch" -> "watches",
    "fly" -> "flies", "be" -> "is", "have" -> "has"); ``None`` for an empty word.

    >>> [third_person(v) for v in ["sit", "watch", "fly", "play", "go", "have", "be", "buzz"]]
    ['sits', 'watches', 'flies', 'plays', 'goes', 'has', 'is', 'buzzes']
    """
    _check_word(verb, "verb")
    found = _LETTERS.search(verb)
    if not found or found.start() != 0:
        return None
    w = verb.lower()
    if w == "be":
        out = "is"
    elif w in PLURAL_TO_SINGULAR_VERBS:
        out = PLURAL_TO_SINGULAR_VERBS[w]
    elif w.endswith(_3SG_ES) or (len(w) > 1 and w.endswith("o") and w[-2] not in "aeiou"):
        out = w + "es"  # "watches", "goes"; but "videos", "tattoos"
    elif len(w) > 1 and w.endswith("y") and w[-2] not in "aeiou":
        out = w[:-1] + "ies"
    else:
        out = w + "s"
    return recase(verb, out)


def base_form(verb: str) -> str | None:
    """The base form of a third person singular present ("sits" -> "sit", "watches" -> "watch",
    "is" -> "are" as the plural present); ``None`` when ``verb`` does not end in "-s". Rules guess
    ("uses" -> "use", "passes" -> "pass"); a caller with the lemma should prefer it.

    >>> [base_form(v) for v in ["sits", "watches", "flies", "goes", "uses", "passes", "rides", "lies"]]
    ['sit', 'watch', 'fly', 'go', 'use', 'pass', 'ride', 'lie']
    """
    _check_word(verb, "verb")
    w = verb.lower()
    if w in SINGULAR_TO_PLURAL_VERBS:
        return recase(verb, SINGULAR_TO_PLURAL_VERBS[w])
    if not w.endswith("s") or w.endswith("ss") or len(w) < 3 or not w.isalpha():
        return None
    if w.endswith("ies"):
        out = w[:-1] if len(w) <= 4 else w[:-3] + "y"  # "lies", "ties" -> "lie", "tie"
    elif w.endswith(("sses", "shes", "ches", "xes", "zzes", "oes")):
        out = w[:-2]
    else:
        out = w[:-1]
    return recase(verb, out)


def number_variant(verb: str) -> str | None:
    """The other number of a finite "be"/"have"/"do" form ("is" <-> "are", "was" <-> "were",
    "has" <-> "have", "doesn't" <-> "don't"); ``None`` for any other word.

    >>> number_variant("Is"), number_variant("haven't"), number_variant("sits")
    ('Are', "hasn't", None)
    """
    _check_word(verb, "verb")
    w = verb.lower()
    out = SINGULAR_TO_PLURAL_VERBS.get(w) or PLURAL_TO_SINGULAR_VERBS.get(w)
    return None if out is None else recase(verb, out)


__all__ = [
    "INVARIANT_NOUNS", "IRREGULAR_PLURALS", "IRREGULAR_SINGULARS", "MASS_NOUNS", "NUMBERLESS_FINITE",
    "PLURALIA_TANTUM", "PLURAL_TO_SINGULAR_VERBS", "SINGULAR_TO_PLURAL_VERBS", "UNIQUE_NOUNS", "base_form",
    "countable", "number_variant", "pluralize", "recase", "singularize", "third_person",
]


#: Nouns in "-ing" that are count nouns; any other "-ing" word tagged as a noun is left alone (a
#: participle the tagger took for a noun, "standing on the pavement looking").
ING_NOUNS = frozenset(
    """building painting ceiling railing awning ring wing swing string king sibling earring wedding
    evening morning opening crossing drawing carving sling spring thing duckling seedling dumpling
    stocking topping serving sapling darling recording sighting outing""".split()
)
