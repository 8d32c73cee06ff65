"""Semantic knowledge for choosing replacements: WordNet relatedness and semantic categories.

WordNet (through NLTK) is optional. When it is installed (``pip install nltk`` and the WordNet
corpus, e.g. ``NLTK_DATA=../shared/data/nltk_data``), a replacement is never a synonym, hypernym
or hyponym of the original, and nouns/verbs get a category from their WordNet hypernyms
(animal, food, vehicle, furniture, person, ...). Without it, the built-in word groups below still
apply, and categories fall back to data (see :class:`iccc.ConceptBase`).
"""

from __future__ import annotations

import os
from functools import lru_cache

# Attribute groups: a replacement stays in its group (red -> blue, wooden -> metal).
ATTRIBUTE_GROUPS: dict[str, frozenset] = {
    "colour": frozenset(
        """black white red blue green yellow orange purple pink brown gray grey silver gold golden tan
        beige maroon navy teal turquoise dark light bright colorful colourful multicolored""".split()
    ),
    "size": frozenset(
        "big large small little tiny huge giant tall short long wide narrow thick thin massive enormous "
        "miniature oversized".split()
    ),
    "material": frozenset(
        """wooden wood metal metallic glass plastic stone brick leather steel iron concrete marble paper
        cardboard wicker ceramic porcelain cotton denim wool woolen straw bamboo rubber tiled
        aluminum copper brass chrome granite clay furry stainless""".split()
    ),
    "shape": frozenset("round square rectangular circular triangular oval flat curved straight".split()),
    "age": frozenset("old young new older elderly ancient modern vintage antique baby adult".split()),
    "pattern": frozenset("striped spotted checkered plaid floral dotted patterned plain".split()),
    "state": frozenset(
        """empty full open closed wet dry clean dirty broken cooked raw fresh ripe sliced cut frozen
        lit parked crowded busy covered filled stuffed""".split()
    ),
    "weather": frozenset("sunny cloudy rainy snowy foggy overcast clear".split()),
    "emotion": frozenset("happy sad smiling angry tired surprised".split()),
}

# Near-synonyms WordNet misses or that it files under different synsets; never replace one by
# another. Lemmas as produced by the parser.
SYNONYM_SETS: tuple[frozenset, ...] = tuple(
    frozenset(s.split("|"))
    for s in (
        "big|large|huge|giant|enormous|massive",
        "small|little|tiny|miniature",
        "gray|grey|silver",
        "gold|golden|yellow",
        "wood|wooden",
        "metal|metallic|steel|iron",
        "colorful|colourful|multicolored",
        "near|by|beside|next to|close to|alongside|adjacent to",
        "on|on top of|atop|upon|onto",
        "in|inside|within|into|inside of",
        "under|beneath|below|underneath",
        "above|over",
        "behind|in back of",
        "in front of|before",
        "man|guy|gentleman|male|men",
        "woman|lady|female",
        "child|kid|youngster",
        "boy|kid",
        "girl|kid",
        "person|people|individual",
        "sofa|couch",
        "puppy|dog",
        "kitten|cat",
        "bike|bicycle",
        "motorcycle|motorbike|motor bike",
        "plane|airplane|jet|aircraft|airliner",
        "tv|television",
        "phone|cellphone|cell phone|smartphone",
        "picture|photo|photograph|image",
        "street|road",
        "sit|seat",
        "look|watch|stare|gaze",
        "hold|carry|grasp|grip",
        "walk|stroll",
        "stand|stay",
        "lie|lay",
        "ride|sit on",
    )
)

# Nouns naming people by age/sex only. Replacing one by another is wrong about the image;
# replacing a role ("runner", "chef") by one of these may not be, so they form their own category.
GENERIC_PEOPLE = frozenset(
    """man men woman women boy boys girl girls child children kid kids person people lady ladies
    guy guys gentleman baby toddler adult adults teenager teen couple family""".split()
)

# Anchor synsets for noun categories, most specific first (checked along hypernym paths).
_NOUN_ANCHORS = (
    "person.n.01", "animal.n.01", "plant.n.02", "food.n.01", "food.n.02", "vehicle.n.01",
    "conveyance.n.03",
    "furniture.n.01", "clothing.n.01", "container.n.01", "device.n.01", "instrument.n.01",
    "structure.n.01", "body_part.n.01", "geological_formation.n.01", "body_of_water.n.01",
    "way.n.06", "tableware.n.01", "equipment.n.01", "implement.n.01", "covering.n.02",
    "area.n.05", "artifact.n.01",
)

_ANCHOR_NAMES = {"conveyance.n.03": "vehicle", "food.n.02": "food", "plant.n.02": "plant"}

_WORDNET_PATH_ENV = "NLTK_DATA"


@lru_cache(maxsize=1)
def load_wordnet():
    """The NLTK WordNet reader, or ``None`` when NLTK or its WordNet data is not installed."""
    try:
        from nltk.corpus import wordnet as wn
    except ImportError:
        return None
    try:
        wn.ensure_loaded()
    except LookupError:
        return None
    return wn


def wordnet_available() -> bool:
    """Whether WordNet can be used (see :func:`load_wordnet`)."""
    return load_wordnet() is not None


_POS = {"noun": "n", "entity": "n", "verb": "v", "attribute": "a", "relation": None, "count": None}


@lru_cache(maxsize=200_000)
def _synsets(lemma: str, pos: str) -> tuple:
    wn = load_wordnet()
    if wn is None or pos is None:
        return ()
    key = lemma.replace(" ", "_")
    found = wn.synsets(key, pos=pos)
    if pos == "a":
        found = found + wn.synsets(key, pos="s")
    if not found and " " in lemma:  # "tennis racket" -> "racket"
        found = wn.synsets(lemma.rsplit(" ", 1)[1], pos=pos) if pos == "n" else []
    return tuple(found)


_SYNONYM_INDEX: dict[str, frozenset] = {}
for _group in SYNONYM_SETS:
    for _word in _group:
        _SYNONYM_INDEX[_word] = _SYNONYM_INDEX.get(_word, frozenset()) | _group


def _lemma_names(synset) -> set[str]:
    return {name.replace("_", " ").lower() for name in synset.lemma_names()}


@lru_cache(maxsize=100_000)
def synonym_names(lemma: str, kind: str) -> frozenset:
    """``lemma``, its built-in near-synonyms and, with WordNet, the words of its synsets (for
    attributes also of the head/satellite adjectives it is clustered with).

    >>> "sofa" in synonym_names("couch", "noun")
    True
    """
    names = {lemma} | set(_SYNONYM_INDEX.get(lemma, ()))
    pos = _POS.get("noun" if kind == "entity" else kind)
    for synset in _synsets(lemma, pos) if pos else ():
        names |= _lemma_names(synset)
        if pos == "a":
            for other in synset.similar_tos():
                names |= _lemma_names(other)
    return frozenset(names)


@lru_cache(maxsize=100_000)
def hypernym_names(lemma: str, kind: str) -> frozenset:
    """With WordNet, the words of every hypernym of every sense of ``lemma`` (nouns, verbs).

    >>> "animal" in hypernym_names("dog", "noun") or not wordnet_available()
    True
    """
    pos = _POS.get("noun" if kind == "entity" else kind)
    if pos not in ("n", "v"):
        return frozenset()
    names: set[str] = set()
    for synset in _synsets(lemma, pos):
        for other in synset.closure(lambda x: x.hypernyms() + x.instance_hypernyms()):
            names |= _lemma_names(other)
    return frozenset(names)


def related_names(lemma: str, kind: str) -> frozenset:
    """Synonyms and hypernyms of ``lemma`` (hyponyms are found from the other side)."""
    return synonym_names(lemma, kind) | hypernym_names(lemma, kind)


def _head(lemma: str) -> str:
    return lemma.rsplit(" ", 1)[-1]


@lru_cache(maxsize=500_000)
def related(a: str, b: str, kind: str) -> bool:
    """Whether lemmas ``a`` and ``b`` may describe the same thing: equal, near-synonyms, or (with
    WordNet) sharing a synset, or one a hypernym or hyponym of the other. Nouns and entities are
    compared by their full lemma and by their head word ("tennis racket" ~ "racket").

    >>> related("couch", "sofa", "noun"), related("dog", "cat", "noun")
    (True, False)
    >>> related("dog", "animal", "noun") or not wordnet_available()
    True
    """
    if a == b:
        return True
    if kind in ("noun", "entity"):
        kind = "noun"
        a_forms, b_forms = {a, _head(a)}, {b, _head(b)}
        if a_forms & b_forms:
            return True
        return any(y in related_names(x, kind) or x in related_names(y, kind) for x in a_forms for y in b_forms)
    return b in related_names(a, kind) or a in related_names(b, kind)


def attribute_group(lemma: str) -> str | None:
    """The built-in group of an attribute lemma, or ``None``.

    >>> attribute_group("red"), attribute_group("wooden"), attribute_group("happy")
    ('colour', 'material', 'emotion')
    """
    for name, words in ATTRIBUTE_GROUPS.items():
        if lemma in words:
            return name
    return None


@lru_cache(maxsize=200_000)
def category(lemma: str, kind: str) -> str | None:
    """Semantic category of a concept lemma, or ``None`` when unknown (data decides then).

    Attributes use :data:`ATTRIBUTE_GROUPS`; nouns and entities the first WordNet anchor on a
    hypernym path of their most frequent sense; verbs the WordNet lexicographer file; relations
    "spatial" (prepositions) or "action" (with a verb); counts "number".

    >>> category("red", "attribute"), category("two", "count"), category("sitting on", "relation")
    ('colour', 'number', 'action')
    """
    if kind == "count":
        return "number"
    if kind == "attribute":
        group = attribute_group(lemma)
        if group is not None:
            return group
        synsets = _synsets(lemma, "a")
        return synsets[0].lexname() if synsets else None
    if kind == "relation":
        return "spatial" if all(w in _PREPOSITION_WORDS for w in lemma.split()) else "action"
    if kind == "verb":
        synsets = _synsets(lemma, "v")
        return synsets[0].lexname() if synsets else None
    head = lemma.rsplit(" ", 1)[-1]
    synsets = _synsets(head, "n")
    if not synsets:
        return None
    # The first senses that reach a specific anchor decide ("table": furniture, not data table).
    fallback = None
    senses = [s for s in synsets if not s.instance_hypernyms()][:3]  # not "C. P. Snow"
    for rank, synset in enumerate(senses):
        names = {s.name() for path in synset.hypernym_paths() for s in path}
        for anchor in _NOUN_ANCHORS:
            if anchor in names:
                if anchor == "person.n.01" and rank > 0:
                    break  # later "person" senses are figurative ("a rock" for a steady person)
                if anchor == "person.n.01":
                    # "man" -> "woman" is wrong about the image; "runner" -> "man" may be true
                    return "person" if head in GENERIC_PEOPLE else "person-role"
                if anchor != "artifact.n.01":
                    return _ANCHOR_NAMES.get(anchor, anchor.split(".")[0])
                fallback = fallback or "artifact"
                break
    return fallback or (senses or synsets)[0].lexname()


_PREPOSITION_WORDS = frozenset(
    """on in at under over above below beneath behind beside besides between among near by next to of
    front top the a side middle inside outside into onto across from along against around through
    toward towards with without off out up down underneath atop upon close edge back corner center
    end bottom within past away alongside opposite""".split()
)


def set_wordnet_path(path: str | os.PathLike) -> bool:
    """Add a folder holding ``corpora/wordnet`` to NLTK's search path; returns availability."""
    try:
        import nltk
    except ImportError:
        return False
    nltk.data.path.insert(0, os.fspath(path))
    load_wordnet.cache_clear()
    _synsets.cache_clear()
    synonym_names.cache_clear()
    related.cache_clear()
    hypernym_names.cache_clear()
    category.cache_clear()
    return wordnet_available()
