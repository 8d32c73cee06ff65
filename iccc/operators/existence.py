"""Negate or affirm that something is there: "with" <-> "without", "there is a" <-> "there is no".

Existence negatives are what VALSE's and CREPE's "existence"/"negation" foils test: the caption
stays fluent, only whether an entity is present changes. The operator works on the parse alone
(no concept base) and edits in both directions:

- **"with X" -> "without X"** (a relation slot): "a man with a hat" -> "a man without a hat",
  "a table with two plates" -> "a table without plates" (a count or quantifier is dropped: "without
  two plates" says something else), "with one hand" -> "without a hand"; or, where "no" fits the
  object, "with no X" ("a man with no hat", "a table with no plates"), drawn with the weights of
  :data:`WITH_NO_SHARE`; and back, "without a hat" -> "with a hat", "without any shoes" -> "with
  shoes".
- **"there is/are X" -> "there is/are no X"** (an entity slot): "There is a dog" -> "There is no
  dog", "There are two cats" -> "There are no cats", "There is some water" -> "There is no water".
- **"no X" -> "X"** (an entity slot), wherever the parse has an entity that starts with "no":
  "There is no dog" -> "There is a dog", "There are no dogs" -> "There are dogs", "a street with
  no cars" -> "a street with cars", "No people are on the beach." -> "People are on the beach.";
  "no" before a mass noun gives the bare noun ("no water" -> "water").

Only "with" as a relation of its own counts, never a verb's ("filled with", "playing with": the
parser makes those one relation), and not after the words in :data:`NOT_POSSESSION_BEFORE`
("together with", "covered with" when the parser split them); where the parse has no relation
for a "with" ("a table with two plates on it"), it counts right after a noun. There is no slot
when the edit would not be clean: the object is coordinated ("with a hat and a scarf": "without"
would deny both, and "no" would deny one of them only; a "no" of its own is affirmed: "walls and
no curtain" -> "walls and a curtain"), a reciprocal or idiom ("with each other", "with ease",
:data:`IDIOM_OBJECTS`), a person with a person ("a man with his mother": company, not
possession), an absolute construction ("with his arms crossed": "without his arms crossed" is
not English), a definite noun phrase after "there is" ("there is the dog"), a number that the
verb does not agree with ("there is a lot of people"), a comparison "no" would make ("no
different foods"), or a compound "no" ("no parking", "no one").

The target names the change with the smallest span that covers it, the anchor word included:
``"without a hat" should be "with a hat".``, ``"is no dog" should be "is a dog".``.

Measured on 3,000 random captions each of COCO val2017 and the Karpathy test split: 14.6% and
15.3% have a slot (about nine in ten of them "with" -> "without", one in eight "there is"; "no"
and "without" are rare in COCO); of 40 drawn edits read by hand all were grammatical and changed
the meaning, two read oddly ("catch the ball without her hand"). Most captions with a "with"
and no slot coordinate its object ("a pizza with cheese and herbs").
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Sequence

import numpy as np

from .. import inflection, semantics
from .._schema import NO_LINK, Concept, ParsedCaption
from ..parsing.lexicon import ABSOLUTE_PREDICATIVES, NUMBER_WORDS, QUANTIFIER_NOUNS, RECIPROCALS
from ..textedit import indefinite_article, match_case, replace_span
from ._base import Operator, Options, Prepared, Slot, slot
from ._index import CandidateIndex
from ._record import Corruption
from .swap import coordinated

_ONE = Options((None,), np.ones(1))
#: How often a "with X" that "no" fits is negated as "with no X" rather than "without X": the
#: share of "with no" among the two in real captions (COCO val2017 and the Karpathy test split,
#: 50,024 captions: "with no" in 47, "without" in 32), so that neither word is a mark of the
#: negatives to a text-only model (the affirmed real captions keep theirs).
WITH_NO_SHARE = 0.6
_WITHOUT_OR_NO = Options(("without", "with no"), np.array([1.0 - WITH_NO_SHARE, WITH_NO_SHARE]))
_THERE_ANCHOR = re.compile(r"(?:there|is|are|was|were|'s|\u2019s)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:no|without)\b", re.IGNORECASE)
#: Every site needs one of these: "with"/"without" (a relation site), "there" or a "no" (an entity site).
_TRIGGER = re.compile(r"with|there|\bno\b", re.IGNORECASE)

#: Words before "with" that make it part of a verb or a fixed phrase, not possession: kept here
#: for when the parser does not join them into one relation ("filled with" usually is one).
NOT_POSSESSION_BEFORE = frozenset(
    """filled covered topped loaded packed stuffed decorated lined stacked piled crowded littered
    dotted surrounded served garnished sprinkled coated frosted drizzled smeared paired mixed
    combined associated compared equipped adorned accompanied made full along together up down
    off out playing interacting fighting competing meeting talking chatting intersection""".split()
)

#: Objects of "with" that make an idiom or a manner, not a thing that is there: "with each
#: other", "with ease".
IDIOM_OBJECTS = frozenset(
    """other another eachother ease care caution regard respect exception help interest pride
    joy love passion style skill purpose intent delight excitement""".split()
) | RECIPROCALS

#: Nouns read as mass nouns when "no" goes: "no water" -> "water", not "a water". Other singular
#: nouns take "a"/"an" ("no dog" -> "a dog").
MASS_NOUNS = frozenset(
    """water grass snow sand food traffic furniture luggage baggage hair milk coffee tea juice
    wine beer bread rice meat cheese pasta soup broccoli lettuce fruit ice dirt mud smoke fog
    light sunlight shade rain foliage equipment clothing gear paint trash garbage debris money
    space room electricity power wood plastic metal cloth fabric sauce frosting icing cream
    butter sugar salt candy chocolate cake salad ketchup mustard mayo mayonnaise dressing
    vegetation greenery scenery sky air wind wifi information""".split()
)

#: Nouns of a note about the image rather than of its content: "There is no image here to
#: provide a caption for." (annotators' notes in COCO) is not denying a thing in the scene, and
#: affirming it gives nonsense. A "no" before them is left alone.
_META_NOUNS = frozenset("image images picture pictures photo photos photograph photographs pic caption".split())

#: Words that, right after "no", make a compound, a pronoun or an idiom ("no one", "no parking",
#: "has no intention of", "no doubt") rather than a denied entity.
_NO_COMPOUNDS = frozenset(
    """one body thing where parking smoking entry exit trespassing u-turn left right intention
    doubt matter way problem longer""".split()
)

#: Words after an object of "with" that make an absolute construction ("with arms outstretched",
#: "with the door open"): there is no "without" of those. After a definite object ("with his
#: glove out", "with the sun setting") also particles and any participle.
_PREDICATIVES = ABSOLUTE_PREDICATIVES
_DEFINITE_PREDICATIVES = _PREDICATIVES | frozenset("up down out".split())
_POSSESSIVES = frozenset("his her its their my your our".split())
_PLACING_PREPS = frozenset("on in against over under around behind across between through".split())

_QUANTIFIER_WORDS = frozenset("some several many multiple numerous various few".split())
#: Quantifier phrases that go when existence is denied ("a lot of people" -> "no people").
_QUANTIFIER_PHRASE = re.compile(
    r"(?:a\s+lot\s+of|lots\s+of|plenty\s+of|a\s+couple\s+of|a\s+couple|a\s+few|a\s+number\s+of)\s+",
    re.I,
)
_DEFINITE = frozenset("the this that these those his her its their my your our whose".split())
_NOT_DENIABLE = frozenset("""all both each every either neither most more half another other such what
    only just exactly nearly almost approximately roughly""".split())  # "with only one toilet"
_FIRST_WORD = re.compile(r"(\S+)\s+")
#: Adjectives that "no" would turn into a comparison ("no different foods", "no other cars").
_NOT_AFTER_NO = frozenset("different various other same such".split())
#: A quantifier outside the entity's span ("a lot of people", "a piece of cake": the parse's
#: entity is "people", "cake"), with its determiner and at most one adjective.
_GAP_QUANTIFIER = re.compile(
    r"(?:(?:a|an|one|some|several|many|\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:[a-z-]+\s+)??)?"
    r"(?P<noun>"
    + "|".join(sorted(QUANTIFIER_NOUNS | {n + "s" for n in QUANTIFIER_NOUNS if not n.endswith("s")}))
    + r")\s+of\s+$",
    re.I,
)
#: "there is/are/was/were/'s" (and an optional "also"/"still") right before a noun phrase.
_THERE = re.compile(
    r"(?:^|(?<=[\s,;]))there(?:\s+(is|are|was|were)|(['\u2019]s))\s+(?:(?:also|still)\s+)?$", re.I
)
#: "with"/"without" right before a noun phrase.
_WITH_BEFORE = re.compile(r"(?:^|(?<=[\s,;(]))(with|without)\s+$", re.I)
_NEXT_WORD = re.compile(r"\s*([\w-]+)")
#: A coordinator right after a noun phrase, or after a comma and a few list words ("a mango,
#: orange, and banana").
_COORDINATOR_AFTER = re.compile(
    r"\s*(?:,(?:\s*(?!(?:with|in|on|at|of|by|for|from|to|near|that|which|who|is|are|was|were)\b)"
    r"[\w-]+){1,3}\s*)?"
    r",?\s*(?:and|or|&|plus|nor)\b",
    re.I,
)

SINGULAR_VERBS = frozenset(("is", "was", "'s", "\u2019s"))


class Phrase(NamedTuple):
    """A noun phrase as the operator sees it: its determiner and what follows.

    Attributes:
        det: the determiner class: ``"indef"`` (a/an), ``"one"``, ``"number"`` (a count > 1),
            ``"quant"`` (some, many, a lot of, ...), ``"no"``, ``"any"``, ``"definite"`` (the,
            his, ...), ``"other"`` (every, all, ...) or ``"bare"`` (no determiner).
        det_text: the determiner as written ("" when bare).
        rest: the phrase after the determiner ("red hat" in "a red hat").
    """

    det: str
    det_text: str
    rest: str


def split_determiner(phrase: str) -> Phrase:
    """The determiner class of a noun phrase and the words after it.

    >>> split_determiner("a red hat")
    Phrase(det='indef', det_text='a', rest='red hat')
    >>> [split_determiner(p).det for p in ["two cats", "A lot of food", "no dogs", "his hat", "grass"]]
    ['number', 'quant', 'no', 'definite', 'bare']
    """
    if not isinstance(phrase, str) or not phrase.strip():
        raise ValueError(f"`phrase` must be a non-empty string, got {phrase!r}.")
    phrase = phrase.strip()
    quantifier = _QUANTIFIER_PHRASE.match(phrase)
    if quantifier:
        return Phrase("quant", phrase[: quantifier.end()].rstrip(), phrase[quantifier.end():])
    m = _FIRST_WORD.match(phrase)
    if m is None:
        return Phrase("bare", "", phrase)
    word, rest = m.group(1), phrase[m.end():]
    lower = word.lower()
    if lower in ("a", "an"):
        det = "indef"
    elif lower == "no":
        det = "no"
    elif lower == "any":
        det = "any"
    elif lower in ("one", "1"):
        det = "one"
    elif lower.isdigit() or lower in NUMBER_WORDS:
        det = "number"
    elif lower in _QUANTIFIER_WORDS:
        det = "quant"
    elif lower in _DEFINITE or lower.endswith(("'s", "\u2019s", "s'")):
        det = "definite"
    elif lower in _NOT_DENIABLE:
        det = "other"
    else:
        return Phrase("bare", "", phrase)
    return Phrase(det, word, rest)


def _check_flags(**flags) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"`{name}` must be True or False, got {value!r}.")


def denied(phrase: str, *, plural: bool) -> str | None:
    """``phrase`` with "no" for its determiner (existence denied), or ``None`` when that is not
    clean: definite or universal determiners, or a count that does not match ``plural`` (the
    head noun's number).

    >>> [denied(p, plural=False) for p in ["a dog", "one cat", "some water", "grass", "the dog"]]
    ['no dog', 'no cat', 'no water', 'no grass', None]
    >>> [denied(p, plural=True) for p in ["two cats", "a lot of people", "cats", "a dog", "many other cars"]]
    ['no cats', 'no people', 'no cats', None, None]
    """
    _check_flags(plural=plural)
    p = split_determiner(phrase)
    if not p.rest or p.rest.split(None, 1)[0].lower() in _NOT_AFTER_NO:
        return None  # "no different foods" reads as "foods that are not different"
    if p.det in ("indef", "one"):
        return None if plural else "no " + p.rest
    if p.det == "number":
        return "no " + p.rest if plural else None
    if p.det in ("quant", "bare"):
        return "no " + p.rest
    return None


def affirmed(phrase: str, *, plural: bool, mass: bool = False) -> str | None:
    """``phrase`` without its "no" (or "any"): a plural or a mass noun goes bare, a singular takes
    "a"/"an"; ``None`` when it has neither, or "no" makes a compound ("no parking", "no one").

    >>> [affirmed(p, plural=False) for p in ["no dog", "no owl", "no red hat", "no parking", "no peddling"]]
    ['a dog', 'an owl', 'a red hat', None, None]
    >>> affirmed("no building", plural=False)
    'a building'
    >>> affirmed("no dogs", plural=True), affirmed("No water", plural=False, mass=True)
    ('dogs', 'water')
    """
    _check_flags(plural=plural, mass=mass)
    p = split_determiner(phrase)
    if p.det not in ("no", "any") or not p.rest:
        return None
    first = p.rest.split(None, 1)[0].lower()
    if first in ("a", "an", "the"):
        return None  # a typo'd caption's "riding no a motorcycle"
    if first in _NO_COMPOUNDS or (first.endswith("ing") and first not in inflection.ING_NOUNS):
        return None  # "no parking sign", "no smoking area", a sign's "no peddling" (not "no building")
    if plural or mass:
        return p.rest
    if p.det == "any":
        return None  # "without any load": "with a load" or "with load" is a guess
    return indefinite_article(p.rest) + " " + p.rest


def without_form(phrase: str, *, plural: bool) -> str | None:
    """The object of "without" that denies what "with ``phrase``" affirms: counts and
    quantifiers go ("two plates" -> "plates"), "one" becomes "a"/"an"; ``None`` for "no"/"any"
    (already negative) and universal determiners.

    >>> [without_form(p, plural=False) for p in ["a hat", "the hat", "one hand", "some water"]]
    ['a hat', 'the hat', 'a hand', 'water']
    >>> without_form("two dogs", plural=True), without_form("no dogs", plural=True)
    ('dogs', None)
    """
    _check_flags(plural=plural)
    p = split_determiner(phrase)
    if not p.rest and p.det != "bare":
        return None
    if p.det in ("indef", "definite", "bare"):
        return phrase.strip()
    if p.det == "one":
        return None if plural else indefinite_article(p.rest) + " " + p.rest
    if p.det in ("number", "quant"):
        return p.rest
    return None


class _Site(NamedTuple):
    """Where an edit goes: ``text[start:end]`` becomes ``new`` (before casing), or ``alt``, a
    second form of the same edit ("with no hat" beside "without a hat"), where there is one."""

    start: int
    end: int
    new: str
    alt: str | None = None


def _noun_of(concepts: Sequence[Concept], e: int) -> int:
    """The head noun of entity ``e`` (the last noun inside its span), or ``-1``."""
    entity = concepts[e]
    found = NO_LINK
    for k, c in enumerate(concepts):
        if c.kind == "noun" and c.head == e and entity.start <= c.start and c.end <= entity.end:
            found = k
    return found


def _phrase(text: str, entity: Concept, noun: Concept) -> tuple[int, bool]:
    """Where the noun phrase of ``entity`` starts, and whether it is plural: a quantifier the
    parse left outside the entity belongs to it ("a lot of people", "a group of people", whose
    entity is "people"); a collective noun gives the phrase its own number ("a group of people"
    is singular), a quantity does not ("a lot of people" is plural)."""
    before = text[max(0, entity.start - 40) : entity.start]  # the longest gap is a few words
    m = _GAP_QUANTIFIER.search(before) if before.rstrip().lower().endswith(" of") else None
    if m is not None:
        m = _GAP_QUANTIFIER.search(text, entity.start - len(before), entity.start)
    if m is None or (m.start() > 0 and text[m.start() - 1].isalnum()):
        return entity.start, noun.plural
    if _QUANTIFIER_PHRASE.match(text, m.start()):
        return m.start(), noun.plural
    collective = m.group("noun").lower()
    return m.start(), collective.endswith("s") and collective not in QUANTIFIER_NOUNS


def _lone(parsed: ParsedCaption, e: int, noun: Concept) -> bool:
    """Whether entity ``e`` stands alone: not a member of a coordination ("a hat and a scarf")."""
    concepts = parsed.concepts
    if concepts[e].dep == "conj" or _COORDINATOR_AFTER.match(parsed.text, noun.end):
        return False
    for k, c in enumerate(concepts):
        if c.kind == "relation" and c.tag == "CC" and e in (c.subj, c.obj):
            return False
        if c.kind == "entity" and k != e and c.dep == "conj" and coordinated(parsed, e, k):
            return False
    return True


_LIST_INSIDE = re.compile(r",|;|&|\b(?:and|or|nor)\b", re.I)


def _phrase_text(text: str, start: int, noun: Concept) -> str | None:
    """``text[start:noun.end]``, or ``None`` when the parse's noun spans a list ("a couch, coffee
    table"): the phrase is then not one entity."""
    phrase = text[start : noun.end]
    return None if _LIST_INSIDE.search(phrase) else phrase


def _mass(noun: Concept) -> bool:
    return not noun.plural and (noun.lemma in MASS_NOUNS or noun.lemma.split()[-1] in MASS_NOUNS)


def _with_site(parsed: ParsedCaption, e: int) -> _Site | None:
    """The edit that turns the "with"/"without" before entity ``e`` into its opposite, if it is
    clean. The word is a relation of its own in the parse, or, where the parse has no relation
    for it ("a table with two plates on it": the plates are "on" the table), directly follows a
    noun."""
    concepts, text = parsed.concepts, parsed.text
    entity = concepts[e]
    n = _noun_of(concepts, e)
    if entity.kind != "entity" or n == NO_LINK:
        return None
    noun = concepts[n]
    start, plural = _phrase(text, entity, noun)
    m = _WITH_BEFORE.search(text, max(0, start - 12), start)  # "without" and spaces
    if m is None:
        return None
    w_start, w_end = m.span(1)
    word = m.group(1).lower()
    rel = next((c for c in concepts if c.kind == "relation" and c.start <= w_start and w_end <= c.end), None)
    if rel is not None:
        if rel.text.lower() != word:
            return None  # part of a verb's relation: "filled with", "playing with"
        subj = rel.subj
    else:
        subj = next((c.head for c in concepts if c.kind == "noun" and c.end <= w_start
                     and not text[c.end : w_start].strip(" ,")), None)
        if subj is None:
            return None
    before = text[:w_start].split()
    if before and before[-1].lower().strip(",") in NOT_POSSESSION_BEFORE:
        return None
    if noun.lemma.split()[-1] in IDIOM_OBJECTS or not _lone(parsed, e, noun):
        return None
    phrase = _phrase_text(text, start, noun)
    if phrase is None:
        return None
    p = split_determiner(phrase)
    if p.det == "no":
        return None  # "with no cars": the entity slot affirms it
    alt = None
    if word == "with":
        if _company(parsed, subj, noun) or _absolute(text, noun, p):
            return None
        obj = without_form(phrase, plural=plural)
        no = denied(phrase, plural=plural)
        if obj is not None and no is not None:
            alt = match_case(m.group(1), "with no") + no[2:]
    else:
        obj = affirmed(phrase, plural=plural, mass=_mass(noun)) if p.det == "any" else phrase.strip()
    if obj is None:
        return None
    new_word = match_case(m.group(1), "without" if word == "with" else "with")
    return _Site(w_start, noun.end, new_word + " " + obj, alt)


def _company(parsed: ParsedCaption, subj: int, noun: Concept) -> bool:
    """Whether "with" joins two people ("a man with his mother"): company, not possession."""
    if subj == NO_LINK:
        return False
    subj_noun = _noun_of(parsed.concepts, subj)
    if subj_noun == NO_LINK:
        return False
    return _person(noun.lemma) and _person(parsed.concepts[subj_noun].lemma)


#: People nouns, for when WordNet gives no category (its categories "person", "person-role"
#: cover the rest).
PEOPLE = frozenset(
    """man men woman women boy girl child children kid baby toddler person guy lady gentleman
    mother father mom dad parent son daughter brother sister friend wife husband family owner
    player skier surfer skateboarder rider teammate coach""".split()
)


def _person(lemma: str) -> bool:
    head = lemma.split()[-1]
    return head in PEOPLE or semantics.category(head, "noun") in ("person", "person-role")


def _absolute(text: str, noun: Concept, phrase: Phrase) -> bool:
    """Whether a definite or bare object of "with" is followed by a predicate ("with his arms
    crossed", "with the sun setting", "with arms outstretched", "with its nose on the heel")."""
    det = phrase.det
    if det not in ("definite", "bare"):
        return False
    m = _NEXT_WORD.match(text, noun.end)
    if m is None or text[noun.end : m.start(1)].strip():
        return False
    word = m.group(1).lower()
    if det == "bare":
        return word in _PREDICATIVES
    if phrase.det_text.lower() in _POSSESSIVES and word in _PLACING_PREPS:
        return True  # a body part placed somewhere: "with his hands in his pockets"
    return word in _DEFINITE_PREDICATIVES or word.endswith(("ed", "ing"))


def _there(text: str, start: int) -> re.Match | None:
    # "there" plus the verb and "also" fit in 24 characters; the look-behind sees before them
    return _THERE.search(text, max(0, start - 24), start)


def _entity_site(parsed: ParsedCaption, e: int) -> _Site | None:
    """The edit that denies or affirms entity ``e`` ("there is a dog", "no dogs"), if it is clean."""
    concepts, text = parsed.concepts, parsed.text
    entity = concepts[e]
    n = _noun_of(concepts, e)
    if entity.kind != "entity" or n == NO_LINK:
        return None
    noun = concepts[n]
    start, plural = _phrase(text, entity, noun)
    phrase = _phrase_text(text, start, noun)
    if phrase is None:
        return None
    p = split_determiner(phrase)
    if p.det == "no" and noun.lemma.lower() in _META_NOUNS:
        return None  # "there is no image to describe": a note about the picture, not its content
    if p.det != "no" and not _lone(parsed, e, noun):
        return None  # "there is a dog and a cat"; a "no" is the conjunct's own ("with walls and no curtain")
    there = _there(text, start)
    if there is not None:
        verb = there.group(1) or there.group(2)
        singular = verb.lower().replace("\u2019", "'") in SINGULAR_VERBS
        if singular == plural:
            return None  # "there is a lot of people": the verb would not agree with what is left
        anchor = there.start(1) if there.group(1) else there.start()  # "There's": whole
        new = affirmed(phrase, plural=plural, mass=_mass(noun)) if p.det == "no" else denied(
            phrase, plural=plural)
        if new is None:
            return None
        if p.det != "no":
            new = _cased_det(p, new)
        return _Site(anchor, noun.end, text[anchor:start] + new)
    if p.det != "no" or re.search(r"\bbut\s+$", text[:start], re.I):
        return None  # "two shoes but no person": "but a person" is no sentence
    new = affirmed(phrase, plural=plural, mass=_mass(noun))
    if new is None:
        return None
    # after "with" the target reads "with cars" (the anchor word is part of the change)
    m = re.search(r"(?:^|(?<=\s))(with)\s+$", text[:start], re.I)
    anchor = m.start(1) if m else start
    return _Site(anchor, noun.end, text[anchor:start] + new)


def _site(parsed: ParsedCaption, slot: Slot) -> _Site | None:
    """The edit of ``slot``: the "with"/"without" before entity ``slot.i`` (a relation slot) or its
    determiner (an entity slot)."""
    return _with_site(parsed, slot.i) if slot.kind == "relation" else _entity_site(parsed, slot.i)


def _cased_det(p: Phrase, new: str) -> str:
    """The new "no" in the case of the determiner it replaces ("A" -> "No"; "TWO" -> "NO")."""
    if p.det == "bare" or not new.startswith("no "):
        return new
    return match_case(p.det_text, "no") + new[2:]


class Existence(Operator):
    """Deny or affirm that an entity is there: "with" <-> "without", "there is a" <-> "there is
    no", "no X" -> "X" (see the module docstring for the rules and where there is no slot).

    Needs no concept base; edits are deterministic (one option per slot, two forms of a "with"
    negation: "without a hat", "with no hat"): only which slot, and form, is drawn. A slot's
    ``i`` is the entity whose existence changes: a ``"relation"`` slot edits the
    "with"/"without" before it, an ``"entity"`` slot its determiner.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A man with a hat.", "There are two cats on a bed."])
    >>> op = Existence()
    >>> sorted({op(parsed[0], iccc.ConceptBase(), rng=np.random.default_rng(seed)).corrupted_caption
    ...         for seed in range(20)})
    ['A man with no hat.', 'A man without a hat.']
    >>> record = op(parsed[1], iccc.ConceptBase(), rng=np.random.default_rng(0))
    >>> record.corrupted_caption, record.target
    ('There are no cats on a bed.', '"are no cats" should be "are two cats".')
    """

    name = "existence"
    supported_kinds = ("entity", "relation")
    settings = ()
    needs_base = False
    directions = ("negate", "affirm")
    directions_span_kinds = True

    def __init__(self, kinds: Sequence[str] | None = None):
        super().__init__(kinds)

    def sites(self, parsed: ParsedCaption) -> list[tuple[Slot, _Site]]:
        """Every clean edit of the caption with its slot, in caption order (deterministic)."""
        if not isinstance(parsed, ParsedCaption):
            raise TypeError(
                f"`parsed` must be an iccc.ParsedCaption, got {type(parsed).__name__}: {parsed!r:.80}.")
        out = []
        if _TRIGGER.search(parsed.text) is None:
            return out  # no "with", "there" or "no": no site (most captions; the rules below are slower)
        relations, entities = "relation" in self.kinds, "entity" in self.kinds
        for i, c in enumerate(parsed.concepts):
            if c.kind != "entity":
                continue
            site = _with_site(parsed, i) if relations else None
            if site is not None:
                out.append((slot("relation", i), site))
            site = _entity_site(parsed, i) if entities else None
            if site is not None:
                out.append((slot("entity", i), site))
        return out

    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        return [s for s, _ in self.sites(parsed)]

    def direction(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """``"negate"`` (the edit brings in "without"/"no") or ``"affirm"`` (it takes one out)."""
        site = _site(parsed, slot)
        if site is None:
            return None
        return "negate" if _NEGATION.search(site.new) else "affirm"

    def direction_group(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """The construction: ``"there"`` ("there is a dog" <-> "there is no dog") or ``"with"``
        ("with" <-> "without", "with no cars" -> "with cars", any other "no X"). Each is balanced
        on its own: a text-only model learns the construction too ("is no" only ever in
        negatives, "with no" only ever in real captions, when the directions are balanced
        across constructions only). A construction spans the kinds
        (:attr:`directions_span_kinds`): "with cars" -> "without cars" (relation) is balanced
        against "without cars" -> "with cars" (relation) and "with no cars" -> "with cars" (entity)."""
        site = None if slot.kind == "relation" else _entity_site(parsed, slot.i)
        return "there" if site is not None and _THERE_ANCHOR.match(parsed.text, site.start) else "with"

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any,
                weights) -> Options | None:
        """One edit per slot; a "with X" that "no" fits has two forms of it, "without X" and
        "with no X" (:data:`WITH_NO_SHARE`)."""
        if slot.kind == "relation":
            site = _with_site(prepared.parsed, slot.i)
            if site is not None and site.alt is not None:
                return _WITHOUT_OR_NO
        return _ONE

    def apply(self, parsed: ParsedCaption, slot: Slot, label) -> Corruption | None:
        """The edit of ``slot``; ``label`` ``"with no"`` picks that form where the slot has it
        (any other label, ``None`` included, the first form)."""
        site = _site(parsed, slot)
        if site is None:
            return None
        text = parsed.text
        new = site.alt if label == "with no" and site.alt is not None else site.new
        edit = replace_span(text, site.start, site.end, new, fix_article=False)
        if edit.text == text:
            return None
        return Corruption(
            caption=text, corrupted_caption=edit.text, operation=self.name, concept_kind=slot.kind,
            original=text[site.start : site.end], replacement=edit.text[edit.start : edit.end],
            start=site.start, end=site.end, new_start=edit.start, new_end=edit.end,
        )
