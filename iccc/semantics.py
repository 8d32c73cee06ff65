"""Semantic knowledge for choosing replacements: WordNet relatedness and semantic categories.

With WordNet 3.0 a replacement is never a synonym, hypernym or hyponym of the original, and
nouns/verbs get a category from their WordNet hypernyms (animal, food, vehicle, furniture,
person, ...); the built-in word groups below apply either way. WordNet is read through one small
interface with two backends that give the same answers (``tests/test_lexicon.py``):

- ``"nltk"``: NLTK's WordNet reader, when NLTK and its WordNet data are installed (preferred;
  ``pip install "iccc[wordnet]"``, data e.g. ``NLTK_DATA=../shared/data/nltk_data``);
- ``"lexicon"``: the compact lexicon shipped in the package (:mod:`iccc.data.lexicon`), so the
  default install needs neither NLTK nor a download.

:func:`use_wordnet` (or the environment variable ``ICCC_WORDNET``: ``auto``, ``nltk``,
``lexicon``, ``off``) picks one explicitly; ``off`` leaves only the built-in word groups, and
categories then fall back to data (see :class:`iccc.ConceptBase`). A backend offers
``synsets(word, pos)`` (``pos`` in ``n v a s``; words with spaces, inflections looked up as NLTK's
``morphy`` does), and per synset ``words``, ``similar_tos``, ``ancestors`` (hypernyms and instance
hypernyms, transitively), ``is_instance``, ``lexname`` and ``name``.
"""

from __future__ import annotations

import os
import warnings
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

#: Environment variable naming the WordNet backend (see :data:`WORDNET_CHOICES`).
WORDNET_ENV = "ICCC_WORDNET"
#: What :func:`use_wordnet` and ``ICCC_WORDNET`` accept: ``auto`` (NLTK's WordNet when it loads,
#: else the shipped lexicon), one backend, or ``off`` (built-in word groups only).
WORDNET_CHOICES = ("auto", "nltk", "lexicon", "off")

_choice: str | None = None  # set by use_wordnet(); None: ICCC_WORDNET, else "auto"
_warned: set[str] = set()


class NltkWordNet:
    """The backend interface over NLTK's WordNet reader ``wn`` (synsets are NLTK ``Synset`` objects)."""

    backend = "nltk"

    def __init__(self, wn):
        self.wn = wn

    def synsets(self, word: str, pos: str) -> tuple:
        return tuple(self.wn.synsets(word.replace(" ", "_"), pos=pos))

    def words(self, synset) -> tuple[str, ...]:
        return tuple(name.replace("_", " ").lower() for name in synset.lemma_names())

    def similar_tos(self, synset) -> tuple:
        return tuple(synset.similar_tos())

    def ancestors(self, synset):
        return synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())

    def is_instance(self, synset) -> bool:
        return bool(synset.instance_hypernyms())

    def lexname(self, synset) -> str:
        return synset.lexname()

    def name(self, synset) -> str:
        return synset.name()

    def __repr__(self):
        return f"NltkWordNet({self.wn.get_version()})"


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def _requested() -> str:
    """The backend asked for: :func:`use_wordnet`'s, else ``ICCC_WORDNET``'s, else ``"auto"``."""
    if _choice is not None:
        return _choice
    value = os.environ.get(WORDNET_ENV, "").strip().lower() or "auto"
    if value not in WORDNET_CHOICES:
        _warn_once(f"env:{value}", f"iccc: ignoring {WORDNET_ENV}={value!r}; it should be one of "
                                   f"{', '.join(WORDNET_CHOICES)}. Using 'auto'.")
        return "auto"
    return value


def _load_nltk() -> NltkWordNet | None:
    try:
        from nltk.corpus import wordnet as wn
    except ImportError:
        return None
    try:
        wn.ensure_loaded()
    except LookupError:
        return None
    return NltkWordNet(wn)


@lru_cache(maxsize=1)
def _load_lexicon():
    """``(lexicon, None)``, or ``(None, why)`` when the shipped lexicon cannot be read (read once
    per process: it never changes)."""
    from .data import lexicon

    try:
        return lexicon.Lexicon.load(), None
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError) as error:
        return None, f"the shipped lexicon {lexicon.default_path()} could not be read ({type(error).__name__}: {error})"


@lru_cache(maxsize=1)
def load_wordnet():
    """The WordNet backend in use (:class:`NltkWordNet` or :class:`iccc.data.lexicon.Lexicon`), or
    ``None`` when WordNet is off or nothing loads (warned once: replacements are then checked
    against the built-in word groups only)."""
    choice = _requested()
    if choice == "off":
        return None
    if choice in ("auto", "nltk"):
        found = _load_nltk()
        if found is not None:
            return found
        if choice == "nltk":
            _warn_once("nltk", f"iccc: {WORDNET_ENV}=nltk but NLTK's WordNet is not installed or has no data; "
                               "using the shipped WordNet lexicon (same answers).")
    found, why = _load_lexicon()
    if found is not None:
        return found
    _warn_once("none", f"iccc: WordNet is unavailable: NLTK's WordNet is not installed and {why}. Replacements "
                       "are checked against iccc's built-in synonym lists only, so some negatives are synonyms, "
                       "hypernyms or hyponyms of the original (not wrong about the image), categories fall back "
                       "to data, and many more corruptions become swaps. Reinstall iccc or install NLTK's "
                       "WordNet (pip install \"iccc[wordnet]\").")
    return None


def wordnet_available() -> bool:
    """Whether WordNet can be used (either backend, see :func:`load_wordnet`).

    >>> wordnet_available()  # the shipped lexicon at least
    True
    """
    return load_wordnet() is not None


def wordnet_backend() -> str | None:
    """The WordNet backend in use: ``"nltk"``, ``"lexicon"`` or ``None`` (off/unavailable)."""
    found = load_wordnet()
    return None if found is None else found.backend


def use_wordnet(backend: str | None = "auto") -> str | None:
    """Choose the WordNet backend for this process and return the one in use.

    Args:
        backend: ``"auto"`` (NLTK's WordNet when it loads, else the shipped lexicon), ``"nltk"``,
            ``"lexicon"``, ``"off"`` (built-in word groups only), or ``None`` to follow the
            environment variable ``ICCC_WORDNET`` again (``auto`` when unset).

    Clears every WordNet cache of this module. Concept bases keep the masks and categories they
    computed, so switch before building or using one. Raises ``LookupError`` (and keeps the
    previous choice) when the backend asked for cannot be loaded.

    >>> use_wordnet("lexicon"), use_wordnet(None) in ("nltk", "lexicon")
    ('lexicon', True)
    """
    global _choice
    if backend is not None and backend not in WORDNET_CHOICES:
        raise ValueError(f"`backend` should be one of {', '.join(map(repr, WORDNET_CHOICES))} or None, "
                         f"got {backend!r}.")
    if backend == "nltk" and _load_nltk() is None:
        raise LookupError("WordNet backend 'nltk' is not available: install NLTK and its WordNet data "
                          "(pip install \"iccc[wordnet]\"; NLTK_DATA=folder with corpora/wordnet).")
    if backend == "lexicon" and _load_lexicon()[0] is None:
        raise LookupError(f"WordNet backend 'lexicon' is not available: {_load_lexicon()[1]}.")
    _choice = backend
    clear_caches()
    return wordnet_backend()


def clear_caches() -> None:
    """Forget the backend in use and every answer computed with it (the next lookup loads the
    backend :func:`use_wordnet` / ``ICCC_WORDNET`` ask for)."""
    for fn in (load_wordnet, _synsets, _in_wordnet, synonym_names, hypernym_names, related, category):
        fn.cache_clear()


_POS = {"noun": "n", "entity": "n", "verb": "v", "attribute": "a", "relation": None, "count": None}


@lru_cache(maxsize=200_000)
def _synsets(lemma: str, pos: str) -> tuple:
    wn = load_wordnet()
    if wn is None or pos is None:
        return ()
    found = wn.synsets(lemma, pos)
    if pos == "a":
        found = found + wn.synsets(lemma, "s")
    if not found and " " in lemma:  # "tennis racket" -> "racket"
        found = wn.synsets(lemma.rsplit(" ", 1)[1], pos) if pos == "n" else ()
    return found


@lru_cache(maxsize=100_000)
def _in_wordnet(lemma: str, pos: str, wn) -> bool:
    return bool(wn.synsets(lemma, pos))


def in_wordnet(lemma: str, kind: str) -> bool:
    """Whether WordNet has ``lemma`` itself (or the lemma it inflects: "tennis rackets") as a
    ``kind`` ("noun", "entity", "verb", "attribute"), not only its head word. ``False`` without WordNet.

    >>> in_wordnet("hot dog", "noun"), in_wordnet("black dog", "noun")
    (True, False)
    """
    pos = _POS.get(kind)
    wn = load_wordnet()
    return pos is not None and wn is not None and _in_wordnet(lemma, pos, wn)


_SYNONYM_INDEX: dict[str, frozenset] = {}
for _group in SYNONYM_SETS:
    for _word in _group:
        _SYNONYM_INDEX[_word] = _SYNONYM_INDEX.get(_word, frozenset()) | _group


def has_builtin_synonyms(word: str) -> bool:
    """Whether ``word`` is in one of iccc's built-in near-synonym sets (:data:`SYNONYM_SETS`).

    >>> has_builtin_synonyms("couch"), has_builtin_synonyms("zebra")
    (True, False)
    """
    return word in _SYNONYM_INDEX


@lru_cache(maxsize=100_000)
def synonym_names(lemma: str, kind: str) -> frozenset:
    """``lemma``, its built-in near-synonyms and, with WordNet, the words of its synsets (for
    attributes also of the head/satellite adjectives it is clustered with).

    >>> "sofa" in synonym_names("couch", "noun")
    True
    """
    names = {lemma} | set(_SYNONYM_INDEX.get(lemma, ()))
    pos = _POS.get("noun" if kind == "entity" else kind)
    synsets = _synsets(lemma, pos) if pos else ()
    wn = load_wordnet() if synsets else None
    for synset in synsets:
        names.update(wn.words(synset))
        if pos == "a":
            for other in wn.similar_tos(synset):
                names.update(wn.words(other))
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
    synsets = _synsets(lemma, pos)
    wn = load_wordnet() if synsets else None
    for synset in synsets:
        for other in wn.ancestors(synset):
            names.update(wn.words(other))
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
        return load_wordnet().lexname(synsets[0]) if synsets else None
    if kind == "relation":
        return "spatial" if all(w in _PREPOSITION_WORDS for w in lemma.split()) else "action"
    if kind == "verb":
        synsets = _synsets(lemma, "v")
        return load_wordnet().lexname(synsets[0]) if synsets else None
    head = lemma.rsplit(" ", 1)[-1]
    synsets = _synsets(head, "n")
    if not synsets:
        return None
    # The first senses that reach a specific anchor decide ("table": furniture, not data table).
    wn = load_wordnet()
    fallback = None
    senses = [s for s in synsets if not wn.is_instance(s)][:3]  # not "C. P. Snow"
    for rank, synset in enumerate(senses):
        names = {wn.name(synset)} | {wn.name(s) for s in wn.ancestors(synset)}  # its hypernym paths
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
    return fallback or wn.lexname((senses or synsets)[0])


_PREPOSITION_WORDS = frozenset(
    """on in at under over above below beneath behind beside besides between among near by next to of
    front top the a side middle inside outside into onto across from along against around through
    toward towards with without off out up down underneath atop upon close edge back corner center
    end bottom within past away alongside opposite""".split()
)


def set_wordnet_path(path: str | os.PathLike) -> bool:
    """Add a folder holding ``corpora/wordnet`` to NLTK's search path (when NLTK is installed) and
    start over with the backend asked for (see :func:`clear_caches`); returns :func:`wordnet_available`."""
    try:
        import nltk
    except ImportError:
        nltk = None
    if nltk is not None:
        nltk.data.path.insert(0, os.fspath(path))
    clear_caches()
    return wordnet_available()
