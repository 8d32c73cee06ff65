"""The concept base: what concepts exist in a caption collection, how often, in which forms and
contexts, and which captions share an image. Replacements are drawn from it.

Built from parsed captions (a list, an iterable, or a dataset with a ``concepts`` column). Saved
as JSON, never pickle. A base is plain data: what the corruption engine derives from it (candidate
pools, masks, weights) lives in :class:`iccc.operators.CandidateIndex`, which watches the base's
:attr:`~ConceptBase.revision` and :attr:`~ConceptBase.balance_revision` to know when to recompute.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import semantics
from ._schema import KINDS, NO_LINK, ParsedCaption
from .contexts import caption_context_keys
from .textedit import mid_sentence, shouted

FORMAT_VERSION = 1
#: Verbs without content of their own: never inserted, never replaced as verbs.
LIGHT_VERBS = frozenset(("be", "have", "do", "get", "seem", "appear", "become"))
#: A lemma is offered in a form only if at least this share of its mentions has that form.
MIN_FORM_SHARE = 0.05
_WORD = re.compile(r"[a-z][a-z'-]*")
# Words too common to tell two captions apart; ignored by the sibling-caption guard.
STOP_WORDS = frozenset(
    """a an the of in on at with and or is are was were be been being to by for from over under
    his her its their this that these those there some it he she they up down into onto while who
    which has have had near next top front side into out off as it's one""".split()
)
#: Separates a kind from a context key in the names of the balance's per-context factor tables
#: (``"noun|L1:on"``: nouns right after "on"; see :func:`iccc.balance.balance_insertions`).
CONTEXT_SEP = "|"
#: Name of the removal-factor table of a kind (after :data:`CONTEXT_SEP`).
REMOVAL = "remove"


def removal_table(kind: str) -> str:
    """The key in ``base.balance`` of ``kind``'s removal factors (how readily its lemmas are edited)."""
    return f"{kind}{CONTEXT_SEP}{REMOVAL}"


@lru_cache(maxsize=65_536)
def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of ``text`` minus :data:`STOP_WORDS` (with a crude plural strip).

    >>> sorted(content_words("Two dogs on the red couch"))
    ['couch', 'dog', 'dogs', 'red', 'two']
    """
    words = set()
    for w in _WORD.findall(text.lower()):
        if w in STOP_WORDS:
            continue
        words.add(w)
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            words.add(w[:-1])
    return frozenset(words)


_SINGULAR_TAGS = frozenset(("NN", "NNP"))
_DETERMINER_TAGS = frozenset(("DT", "PRP$", "WP$", "CD", "PDT"))


#: Words that open an entity lemma without naming anything ("a dog", "his hat").
_ENTITY_OPENERS = frozenset("a an the his her its their this that these those some my your our another".split())


def entity_key(lemma: str) -> str:
    """What an entity lemma names, for WordNet: its last two words without determiners when they
    are a known compound ("drinking water", "tennis racket", "hot dog"), else its head word
    ("a drink" -> "drink", "a black dog" -> "dog": WordNet would look "black dog" up as "dog"
    anyway, and sharing the head's key keeps the masks cached per head).

    >>> entity_key("a tennis racket"), entity_key("the dog"), entity_key("a big dog")
    ('tennis racket', 'dog', 'dog')
    """
    words = lemma.split(" ")
    start = 0
    while start < len(words) - 1 and words[start] in _ENTITY_OPENERS:
        start += 1
    if len(words) - start < 2:
        return words[-1]
    compound = " ".join(words[-2:])
    return compound if _known_compound(compound) else words[-1]


def _known_compound(compound: str) -> bool:
    """Whether a two-word noun has synonyms of its own (built-in or in WordNet, either backend:
    :func:`iccc.semantics.in_wordnet`) rather than its head's."""
    return semantics.has_builtin_synonyms(compound) or semantics.in_wordnet(compound, "noun")


def _transitive(parsed: ParsedCaption | None, concept) -> bool:
    """Whether a verb takes a direct object (a relation spanning exactly the verb)."""
    if parsed is None:
        return False
    return any(r.kind == "relation" and r.start == concept.start and r.end == concept.end
               for r in parsed.concepts)


def form_of(concept, parsed: ParsedCaption | None = None) -> str:
    """The grammatical slot a replacement must fill, so the caption stays grammatical.

    Nouns: the head's number (``NN``/``NNS``); entities: that plus ``+det`` when they open with a
    determiner, possessive or numeral; verbs: their tag (``VBG``...), with
    ``+obj`` when they take a direct object in ``parsed`` ("holding a bat" needs a transitive verb);
    attributes: ``ATTR`` (any prenominal modifier); relations: the verb tag they contain or
    ``PREP`` (``CC`` for coordination, which is never replaced), with ``-noobj`` when the relation
    has no object ("sitting down", "looking out" cannot trade places with "sitting on");
    counts: ``CD-word``/``CD-digit``.

    >>> from iccc import Concept
    >>> form_of(Concept("relation", "sitting on", 0, 10, "sit on", "VBG", "VBG IN", "acl", subj=0, obj=1))
    'VBG'
    >>> form_of(Concept("relation", "sitting down", 0, 12, "sit down", "VBG", "VBG RP", "acl", subj=0))
    'VBG-noobj'
    """
    kind = concept.kind
    if kind == "noun":
        return "NNS" if concept.tag in ("NNS", "NNPS") else "NN"
    if kind == "entity":
        # "a dog" and "dogs" / "fire" fill different slots: keep determiner-ness too
        number = "NNS" if concept.tag in ("NNS", "NNPS") else "NN"
        first = concept.tags.split(" ", 1)[0]
        return number + ("+det" if first in _DETERMINER_TAGS else "")
    if kind == "verb":
        return concept.tag + ("+obj" if _transitive(parsed, concept) else "")
    if kind == "attribute":
        return "ATTR"
    if kind == "count":
        return "CD-digit" if concept.text[:1].isdigit() else "CD-word"
    if kind == "relation":
        if concept.tag == "CC":
            return "CC"
        suffix = "-noobj" if concept.obj == NO_LINK else ""
        for tag in concept.tags.split():
            if tag.startswith("VB"):
                return tag + suffix
        return "PREP" + suffix
    return concept.tag


def surface_of(parsed: ParsedCaption, concept) -> str:
    """The concept's text as it would appear mid-sentence (in a caption written in capitals,
    lower-cased: "A DOG ON A BED" must not teach the base that "dog" is written "DOG").

    >>> from iccc import Concept
    >>> dogs = Concept("noun", "DOGS", 0, 4, "dog", "NNP", "NNP", "ROOT")
    >>> surface_of(ParsedCaption("DOGS ON A BED", (dogs,)), dogs)
    'dogs'
    """
    if shouted(parsed.text):  # the tagger calls most words of such captions NNP: lower them all
        return concept.text.lower()
    return mid_sentence(parsed.text, concept.start, concept.text)


def _coerce(item) -> ParsedCaption:
    if isinstance(item, ParsedCaption):
        return item
    if isinstance(item, Mapping) and "concepts" in item:
        return ParsedCaption.from_dict(
            {"text": item.get("text", item.get("caption", "")) or "", "concepts": item["concepts"] or ()}
        )
    raise TypeError(
        f"Expected a ParsedCaption or a dict with 'concepts' (and 'caption'), got {type(item).__name__}: {item!r:.80}."
    )


class Factors(dict):
    """Balance factors, read-only: ``{table: {lemma: factor}}``. Assign new factors to
    :attr:`ConceptBase.balance` instead of editing these in place, so that everything computed
    from the old ones is recomputed."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("Balance factors are read-only: assign new ones, e.g. "
                        "base.balance = {**base.balance, 'noun': {...}}, so the engine recomputes its weights.")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse

    def __reduce__(self):
        return (Factors, (dict(self),))


def _frozen_factors(factors) -> Factors:
    if not isinstance(factors, Mapping):
        raise TypeError(f"`balance` should be a mapping {{table: {{lemma: factor}}}}, got {type(factors).__name__}: "
                        f"{factors!r:.80}.")
    out = {}
    for table, values in factors.items():
        if not isinstance(table, str) or not isinstance(values, Mapping):
            raise TypeError(f"`balance` should map table names to {{lemma: factor}} mappings, got {table!r}: "
                            f"{values!r:.80}.")
        out[table] = Factors(values)
    return Factors(out)


class ConceptBase:
    """Counts of concepts by kind and lemma, with surface forms, contexts and image groups.

    Args:
        min_count: candidates need at least this many occurrences.
        top_k: keep only the ``top_k`` most frequent lemmas of each kind (``None``: no limit).
        above_mean: keep only lemmas more frequent than the mean count of their kind (the
            paper's filter). Filters only limit what is *inserted*; anything can be replaced.
        keep_groups: remember which content words each group (image) uses, for the
            sibling-caption guard.

    >>> import iccc
    >>> base = iccc.ConceptBase.from_parsed(iccc.parse(["A red car.", "A blue car.", "A red bus."]))
    >>> base.count("attribute", "red"), base.count("noun", "car")
    (2, 2)
    """

    def __init__(self, *, min_count: int = 1, top_k: int | None = None, above_mean: bool = True,
                 keep_groups: bool = True):
        _validate_filter(min_count, top_k, above_mean)
        self.min_count = min_count
        self.top_k = top_k
        self.above_mean = above_mean
        self.keep_groups = keep_groups
        self.n_captions = 0
        self.counts: dict[str, Counter] = {k: Counter() for k in KINDS}
        # kind -> lemma -> form -> surface -> n
        self.forms: dict[str, dict[str, dict[str, Counter]]] = {k: defaultdict(lambda: defaultdict(Counter)) for k in KINDS}
        # kind -> context key -> lemma -> n
        self.contexts: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in KINDS}
        self.groups: dict[str, set[str]] = defaultdict(set)
        # group -> last words of the nouns its captions write in the singular ("dog"): the
        # content words cannot tell (a caption's "dogs" lists "dog" too), the number guard must
        self.singulars: dict[str, set[str]] = defaultdict(set)
        #: Counts changes of the counts, forms, contexts and groups (:meth:`add`, :meth:`changed`).
        self.revision = 0
        #: Counts assignments of :attr:`balance`.
        self.balance_revision = 0
        self._derived: dict = {}  # answers computed from the data (category fallbacks, the JSON state)
        self.balance = {}

    @property
    def balance(self) -> Factors:
        """Per-lemma (and per-neighbour) insertion factors set by
        :func:`iccc.balance.balance_insertions`, read-only (:class:`Factors`); assign new ones to
        change them (the engine then recomputes its weights)."""
        return self._balance

    @balance.setter
    def balance(self, factors: Mapping[str, Mapping[str, float]]) -> None:
        self._balance = _frozen_factors(factors)
        self.balance_revision += 1
        for name in ("state", "fingerprint"):  # the content's; category fallbacks do not read the balance
            self._derived.pop(name, None)

    def changed(self) -> None:
        """Record a change made to :attr:`counts`, :attr:`forms`, :attr:`contexts` or
        :attr:`groups` by hand (:meth:`add` and :meth:`merge` do this themselves), so that
        whatever was computed from them is computed again."""
        self.revision += 1
        self._derived.clear()

    # ------------------------------------------------------------------ building
    @classmethod
    def from_parsed(cls, parsed: Iterable, *, groups: Iterable | None = None, progress: bool = False,
                    **config) -> ConceptBase:
        """Build from parsed captions (``ParsedCaption`` objects or dicts with ``concepts``), with
        an optional parallel iterable of group ids (e.g. image ids); ``progress`` shows a tqdm bar
        on stderr (its total is ``len(parsed)`` when ``parsed`` has a length)."""
        base = cls(**config)
        if isinstance(parsed, (str, bytes)) or not isinstance(parsed, Iterable):
            raise TypeError(f"`parsed` must be an iterable of parsed captions, got {type(parsed).__name__}.")
        if not isinstance(progress, bool):
            raise TypeError(f"`progress` should be True or False, got {progress!r}.")
        if progress:
            from tqdm import tqdm

            parsed = tqdm(parsed, total=len(parsed) if hasattr(parsed, "__len__") else None,
                          desc="Building concept base", unit=" captions")
        if groups is None:
            for p in parsed:
                base.add(p)
        else:
            for p, g in zip(parsed, groups, strict=True):
                base.add(p, group=g)
        return base

    @classmethod
    def from_dataset(cls, dataset, *, caption_column: str = "caption", concepts_column: str = "concepts",
                     group_column: str | None = None, **config) -> ConceptBase:
        """Build from a ``datasets.Dataset`` that has a concepts column (see :func:`iccc.add_concepts`)."""
        names = getattr(dataset, "column_names", None) or []
        for col in (caption_column, concepts_column) + ((group_column,) if group_column else ()):
            if col not in names:
                raise KeyError(f"Column {col!r} not found. Available: {sorted(names)}.")
        base = cls(**config)
        columns = [caption_column, concepts_column] + ([group_column] if group_column else [])
        for batch in dataset.select_columns(columns).iter(batch_size=1000):
            groups = batch[group_column] if group_column else [None] * len(batch[caption_column])
            for text, concepts, group in zip(batch[caption_column], batch[concepts_column], groups):
                base.add({"text": text or "", "concepts": concepts or ()}, group=group)
        return base

    def add(self, parsed, *, group: Any = None) -> None:
        """Count one parsed caption (and remember its words under ``group``)."""
        parsed = _coerce(parsed)
        self.n_captions += 1
        self.changed()
        counts, forms, contexts = self.counts, self.forms, self.contexts
        for c, keys in zip(parsed.concepts, caption_context_keys(parsed)):
            kind, lemma = c.kind, c.lemma
            counts[kind][lemma] += 1
            forms[kind][lemma][form_of(c, parsed)][surface_of(parsed, c)] += 1
            by_key = contexts[kind]
            for key in keys:
                by_key[key][lemma] += 1
        if group is not None and self.keep_groups:
            words = content_words(parsed.text)
            if words:  # a caption without words (None, "") adds no empty group
                self.groups[str(group)].update(words)
                singular = [c.text.lower().rsplit(" ", 1)[-1] for c in parsed.concepts
                            if c.kind == "noun" and c.tag in _SINGULAR_TAGS]
                if singular:
                    self.singulars[str(group)].update(singular)

    def merge(self, other: ConceptBase) -> ConceptBase:
        """A new base with the counts, forms, contexts and groups of both (the filter settings and
        insertion balance of ``self``; neither base changes).

        Mixes a base of your own captions with the shipped one, so that rare words of your data
        and the broad COCO vocabulary are both candidates: ``mine.merge(ConceptBase.default())``
        (``mine`` first to keep its filter and balance; rerun
        :func:`iccc.balance.balance_insertions` on your captions to balance the mix).

        >>> import iccc
        >>> mine = iccc.ConceptBase.from_parsed(iccc.parse(["A red tram."]))
        >>> mixed = mine.merge(ConceptBase.default())
        >>> mixed.count("noun", "tram") >= 1 and mixed.n_captions == mine.n_captions + ConceptBase.default().n_captions
        True
        """
        if not isinstance(other, ConceptBase):
            raise TypeError(f"`other` must be a ConceptBase, got {type(other).__name__}.")
        merged = ConceptBase.from_json(self.to_json())
        merged._absorb(other)
        return merged

    def _absorb(self, other: ConceptBase) -> None:
        """Add ``other``'s counts, forms, contexts and groups to this base, in place. Bases of
        consecutive pieces of some captions, absorbed in order, equal the base of all of them
        (the same counts, with every key in the same order)."""
        for kind in KINDS:
            self.counts[kind].update(other.counts[kind])
            for lemma, forms in other.forms[kind].items():
                for form, surfaces in forms.items():
                    self.forms[kind][lemma][form].update(surfaces)
            for key, lemmas in other.contexts[kind].items():
                self.contexts[kind][key].update(lemmas)
        for g, words in other.groups.items():
            self.groups[g].update(words)
        for g, words in other.singulars.items():
            self.singulars[g].update(words)
        self.n_captions += other.n_captions
        self.changed()

    @classmethod
    def default(cls) -> ConceptBase:
        """The concept base shipped with iccc: the 25,014 human captions of COCO 2017 val (CC BY 4.0,
        ``iccc/data/DEFAULT_BASE_NOTICE.txt``), frequency-balanced, without image groups (built by
        ``scripts/build_default_base.py``). :func:`iccc.corrupt` uses it when no base is given.

        The file is read once per process; every call returns a new, independent base, so adding
        captions to it or changing its balance affects no other caller (nor :func:`iccc.corrupt`,
        which keeps its own copy). Mix it with your own base by :meth:`merge`.

        >>> base = ConceptBase.default()
        >>> base.n_captions, base.category("noun", "dog"), base is ConceptBase.default()
        (25014, 'animal', False)
        """
        return cls.from_json(_default_data())

    def filtered(self, *, min_count: int | None = None, top_k: int | None = None,
                 above_mean: bool | None = None) -> ConceptBase:
        """A copy with other frequency-filter settings (counts are shared, not copied)."""
        clone = object.__new__(ConceptBase)
        clone.__dict__.update(self.__dict__)
        clone.min_count = self.min_count if min_count is None else min_count
        clone.top_k = top_k if top_k is not None else self.top_k
        clone.above_mean = self.above_mean if above_mean is None else above_mean
        _validate_filter(clone.min_count, clone.top_k, clone.above_mean)
        clone._derived = {}
        return clone

    # ------------------------------------------------------------------ queries
    def count(self, kind: str, lemma: str) -> int:
        _check_kind(kind)
        return self.counts[kind].get(lemma, 0)

    def kinds(self) -> list[str]:
        """Kinds that have at least one lemma."""
        return [k for k in KINDS if self.counts[k]]

    def kept(self, kind: str) -> list[str]:
        """Lemmas of ``kind`` that pass the frequency filter, most frequent first (ties in
        alphabetical order, so the order never depends on the order captions were added in)."""
        _check_kind(kind)
        counts = self.counts[kind]
        if not counts:
            return []
        threshold = self.min_count
        by_count = ranked(counts)
        if self.above_mean:
            mean = sum(counts.values()) / len(counts)
            kept_ranked = [(lemma, n) for lemma, n in by_count if n > mean and n >= threshold]
            if not kept_ranked:  # tiny bases: everything equal to the mean
                kept_ranked = [(lemma, n) for lemma, n in by_count if n >= threshold]
        else:
            kept_ranked = [(lemma, n) for lemma, n in by_count if n >= threshold]
        if self.top_k is not None:
            kept_ranked = kept_ranked[: self.top_k]
        return [lemma for lemma, _ in kept_ranked]

    def category(self, kind: str, lemma: str) -> str | None:
        """Semantic category (WordNet/built-in groups), else the lemma's most frequent context."""
        found = semantics.category(lemma, kind)
        if found is not None:
            return found
        fallback = self._derived.get(("category-fallback", kind))
        if fallback is None:  # lemma -> its most frequent context, computed once per kind
            best: dict[str, tuple[int, str]] = {}
            for key, lemmas in self.contexts[kind].items():
                for other, n in lemmas.items():
                    known = best.get(other)
                    if known is None or n > known[0] or (n == known[0] and key < known[1]):
                        best[other] = (n, key)
            fallback = self._derived[("category-fallback", kind)] = {other: f"ctx:{key}" for other, (_, key) in best.items()}
        return fallback.get(lemma)

    def group_words(self, group: Any) -> set[str]:
        """Content words used by the captions of ``group`` (empty when unknown)."""
        if group is None:
            return set()
        return self.groups.get(str(group), set())

    def group_singulars(self, group: Any) -> set[str]:
        """Nouns (their last word, lower-cased) that the captions of ``group`` write in the
        singular: "dog" for "A dog on a bed", nothing for "Two dogs" (whose content words list
        "dog" as well). Empty when unknown, and for bases saved before iccc remembered them."""
        if group is None:
            return set()
        return self.singulars.get(str(group), set())

    # ------------------------------------------------------------------ persistence
    def to_json(self) -> dict:
        return {
            "format": "iccc.ConceptBase",
            "version": FORMAT_VERSION,
            "config": {"min_count": self.min_count, "top_k": self.top_k, "above_mean": self.above_mean,
                       "keep_groups": self.keep_groups},
            "n_captions": self.n_captions,
            "counts": {k: dict(self.counts[k]) for k in KINDS},
            "forms": {k: {lemma: {f: dict(s) for f, s in forms.items()} for lemma, forms in self.forms[k].items()}
                      for k in KINDS},
            "contexts": {k: {key: dict(v) for key, v in self.contexts[k].items()} for k in KINDS},
            "groups": {g: sorted(words) for g, words in self.groups.items()},
            "singulars": {g: sorted(words) for g, words in self.singulars.items()},
            "balance": {k: dict(sorted(v.items())) for k, v in sorted(self.balance.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ConceptBase:
        if not isinstance(data, Mapping) or data.get("format") != "iccc.ConceptBase":
            raise ValueError("Not a saved iccc ConceptBase (missing \"format\": \"iccc.ConceptBase\").")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"Unsupported ConceptBase version {data.get('version')!r}; this iccc reads {FORMAT_VERSION}.")
        base = cls(**data["config"])
        base.n_captions = data["n_captions"]
        for k in KINDS:
            base.counts[k].update(data["counts"].get(k, {}))
            for lemma, forms in data["forms"].get(k, {}).items():
                for f, surfaces in forms.items():
                    base.forms[k][lemma][f].update(surfaces)
            for key, lemmas in data["contexts"].get(k, {}).items():
                base.contexts[k][key].update(lemmas)
        base.balance = {k: dict(v) for k, v in data.get("balance", {}).items()}
        for g, words in data.get("groups", {}).items():
            base.groups[g] = set(words)
        for g, words in data.get("singulars", {}).items():
            base.singulars[g] = set(words)
        return base

    def save(self, path) -> None:
        """Write the base as JSON (``.json`` or ``.json.gz``)."""
        path = Path(path)
        text = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
        if path.suffix == ".gz":
            import gzip

            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write(text)
        else:
            path.write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path) -> ConceptBase:
        """Read a base written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"`path` {str(path)!r} is not a file.")
        if path.suffix == ".gz":
            import gzip

            with gzip.open(path, "rt", encoding="utf-8") as f:
                return cls.from_json(json.load(f))
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def __getstate__(self):
        # One JSON string rather than the nested dicts (defaultdict factories with lambdas do not
        # pickle): ``datasets`` hashes map arguments (and ships them to workers) with a pure-Python
        # pickler that takes seconds to walk a COCO-sized base. It is the base's content, so the
        # pickle (and a ``datasets`` fingerprint) changes exactly when the content does; computed
        # once per revision (``datasets`` asks on every ``map`` call).
        state = self._derived.get("state")
        if state is None:
            state = self._derived["state"] = json.dumps(self.to_json(), ensure_ascii=False)
        return state

    def fingerprint(self) -> str:
        """A hash of the base's content (counts, forms, contexts, groups, filter, balance): equal
        for equal bases, however they were built, and different after any change.

        >>> a, b = ConceptBase(), ConceptBase()
        >>> a.fingerprint() == b.fingerprint()
        True
        >>> b.balance = {"noun": {"dog": 2.0}}; a.fingerprint() == b.fingerprint()
        False
        """
        found = self._derived.get("fingerprint")
        if found is None:
            text = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
            found = self._derived["fingerprint"] = hashlib.sha256(text.encode()).hexdigest()
        return found

    def __setstate__(self, state):
        if isinstance(state, str):
            state = json.loads(state)
        self.__dict__.update(ConceptBase.from_json(state).__dict__)

    def __eq__(self, other):
        return isinstance(other, ConceptBase) and self.to_json() == other.to_json()

    # ------------------------------------------------------------------ display
    def summary(self, top: int = 8) -> str:
        """A readable overview: per kind, distinct lemmas, kept lemmas, most frequent."""
        lines = [f"ConceptBase: {self.n_captions} captions, {len(self.groups)} groups, "
                 f"filter: min_count={self.min_count} top_k={self.top_k} above_mean={self.above_mean}"]
        for k in KINDS:
            counts = self.counts[k]
            if not counts:
                continue
            common = ", ".join(f"{lemma} ({n})" for lemma, n in counts.most_common(top))
            lines.append(f"  {k:<9} {sum(counts.values()):>8} mentions {len(counts):>7} lemmas "
                         f"{len(self.kept(k)):>6} kept | {common}")
        return "\n".join(lines)

    def __repr__(self):
        sizes = ", ".join(f"{k}={len(self.counts[k])}" for k in KINDS if self.counts[k])
        return f"ConceptBase(n_captions={self.n_captions}, {sizes})"


#: File name of the default base in ``iccc.data`` (see :meth:`ConceptBase.default`).
DEFAULT_BASE_FILE = "default_base.json.gz"


@lru_cache(maxsize=1)
def _default_data() -> dict:
    """The saved default base as JSON data (read once; :meth:`ConceptBase.default` copies it)."""
    import gzip
    from importlib import resources

    path = resources.files("iccc.data").joinpath(DEFAULT_BASE_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"The default concept base {path} is missing (a broken install?): reinstall iccc, "
                                "or pass a base of your own (ConceptBase.from_parsed(iccc.parse(captions))).")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return json.load(f)


def ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """``(key, n)`` most frequent first, ties in key order: independent of insertion order, so
    a base gives the same pools (and the same corruptions for a seed) however it was built,
    merged, saved or loaded."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"Unknown concept kind {kind!r}. Available: {', '.join(repr(k) for k in KINDS)}.")


def _validate_filter(min_count, top_k, above_mean):
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"`min_count` should be a positive integer, got {min_count!r}.")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"`top_k` should be a positive integer or None, got {top_k!r}.")
    if not isinstance(above_mean, bool):
        raise ValueError(f"`above_mean` should be True or False, got {above_mean!r}.")
