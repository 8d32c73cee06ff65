"""``CandidateIndex``: everything the corruption engine derives from one concept base.

A :class:`iccc.ConceptBase` is plain data (counts, forms, contexts, groups, categories, balance
factors) that a user saves and shares. The engine needs much more, computed from it and kept for
speed: candidate pools per (kind, form), WordNet masks, context vectors, the balance factors laid
out over the pools, recent weight vectors, per-caption memos. All of it lives here, in one
object per base, in two stores:

- ``content``: what depends only on the base's counts, forms and contexts (pools, masks, context
  vectors, per-caption memos); dropped when :attr:`ConceptBase.revision` changes (a caption added,
  :meth:`ConceptBase.changed`);
- ``balanced``: what also depends on the balance factors (priors, factor tables, weight vectors);
  dropped when :attr:`ConceptBase.balance_revision` changes (``base.balance = ...``).

:meth:`sync` compares the revisions and drops what is stale; every engine entry point calls it
first, so an index never serves weights of a base that has changed. :meth:`CandidateIndex.of`
gives the index shared by every engine on one base object (it goes when the base does).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from .. import semantics
from ..base import LIGHT_VERBS, MIN_FORM_SHARE, ConceptBase, content_words, entity_key, ranked, removal_table


@dataclass
class Pool:
    """Candidates of one (kind, form): parallel arrays for fast weighted sampling."""

    lemmas: list[str]
    surfaces: list[str]
    counts: np.ndarray
    prob: np.ndarray
    categories: list[str | None]
    index: dict[str, int]
    by_word: dict[str, list[int]]
    by_head: dict[str, list[int]]
    #: content words of each candidate (lemma and surface): ``by_word`` the other way round
    words: list[frozenset] = field(default_factory=list)


def evict_older_half(cache: dict) -> None:
    """Drop the first-inserted half of ``cache``'s entries (dicts keep insertion order)."""
    for key in list(islice(cache, len(cache) // 2)):
        del cache[key]


class CandidateIndex:
    """The engine's derived state for one :class:`ConceptBase` (see the module docstring).

    >>> import iccc
    >>> base = iccc.ConceptBase.from_parsed(iccc.parse(["A red car.", "A blue car.", "A red bus."]), above_mean=False)
    >>> index = CandidateIndex.of(base)
    >>> index.pool("noun", "NN").lemmas
    ['car', 'bus']
    >>> base.add(iccc.parse(["A green tram."])[0]); index.pool("noun", "NN").lemmas
    ['car', 'bus', 'tram']
    """

    #: id(base) -> the index :meth:`of` shares for that base (it holds the base weakly, and the
    #: entry goes when the base does)
    _shared: dict = {}

    def __init__(self, base: ConceptBase, *, weak: bool = False):
        if not isinstance(base, ConceptBase):
            raise TypeError(f"`base` must be an iccc.ConceptBase, got {type(base).__name__}: {base!r:.80}.")
        self._base = weakref.ref(base) if weak else (lambda: base)
        self.content: dict = {}
        self.balanced: dict = {}
        self._revisions = (base.revision, base.balance_revision)

    @property
    def base(self) -> ConceptBase:
        """The concept base this index derives from."""
        return self._base()

    @classmethod
    def of(cls, base: ConceptBase) -> CandidateIndex:
        """The index shared by every engine on ``base`` (made on first use, gone with the base)."""
        found = cls._shared.get(id(base))
        if found is not None and found.base is base:
            return found.sync()
        if not isinstance(base, ConceptBase):
            raise TypeError(f"`base` must be an iccc.ConceptBase, got {type(base).__name__}: {base!r:.80}.")
        index = cls._shared[id(base)] = cls(base, weak=True)
        weakref.finalize(base, cls._shared.pop, id(base), None)
        return index

    def sync(self) -> CandidateIndex:
        """Drop what the base's changes made stale: everything after a content change, the
        balance-dependent part after new balance factors."""
        base = self._base()
        revisions = (base.revision, base.balance_revision)
        if revisions != self._revisions:
            if revisions[0] != self._revisions[0]:
                self.content.clear()
            self.balanced.clear()
            self._revisions = revisions
        return self

    def store(self, name, limit: int | None = None, *, balanced: bool = False) -> dict:
        """The cache dict ``name`` (made on first use); at ``limit`` entries its older half goes.
        The engine's draws read it after their entry point's :meth:`sync`; the queries below
        (:meth:`pool`, the masks, ...) sync themselves."""
        caches = self.balanced if balanced else self.content
        cache = caches.get(name)
        if cache is None:
            cache = caches[name] = {}
        elif limit is not None and len(cache) >= limit:
            evict_older_half(cache)
        return cache

    # ------------------------------------------------------------------ pools
    def pool(self, kind: str, form: str) -> Pool | None:
        """Insertable lemmas of ``kind`` with a surface form for ``form`` (``None``: none)."""
        self.sync()
        pools = self.store("pools")
        key = (kind, form)
        if key in pools:
            return pools[key]
        base = self.base
        lemmas, surfaces, counts = [], [], []
        for lemma in base.kept(kind):
            if kind == "verb" and lemma in LIGHT_VERBS:
                continue
            forms = base.forms[kind].get(lemma, {})
            surface_counts = forms.get(form)
            if not surface_counts:
                continue
            n = sum(surface_counts.values())
            if n < max(base.min_count, MIN_FORM_SHARE * base.counts[kind][lemma]):
                continue  # a rare form of a lemma is mostly parse errors ("lying a racquet")
            lemmas.append(lemma)
            surfaces.append(ranked(surface_counts)[0][0])
            counts.append(n)
        if not lemmas:
            pools[key] = None
            return None
        counts_arr = np.asarray(counts, dtype=np.float64)
        by_word: dict[str, list[int]] = defaultdict(list)
        by_head: dict[str, list[int]] = defaultdict(list)
        words = []
        for i, (lemma, surface) in enumerate(zip(lemmas, surfaces)):
            words.append(content_words(lemma) | content_words(surface))
            for w in words[-1]:
                by_word[w].append(i)
            by_head[lemma.rsplit(" ", 1)[-1]].append(i)
        pool = pools[key] = Pool(
            lemmas=lemmas, surfaces=surfaces, counts=counts_arr, prob=counts_arr / counts_arr.sum(),
            categories=[base.category(kind, lemma) for lemma in lemmas],
            index={lemma: i for i, lemma in enumerate(lemmas)}, by_word=dict(by_word), by_head=dict(by_head),
            words=words,
        )
        return pool

    # ------------------------------------------------------------------ what is not truly wrong
    def _hyponym_index(self, kind: str, form: str) -> dict[str, list[int]]:
        """WordNet word -> pool indices of candidates that have it as a hypernym."""
        cache = self.store("hyponyms")
        index = cache.get((kind, form))
        if index is None:
            pool = self.pool(kind, form)
            nominal = kind in ("noun", "entity")
            found = defaultdict(list)
            for j, lemma in enumerate(pool.lemmas):
                probes = {entity_key(lemma)} if kind == "entity" else {lemma}
                if nominal:
                    probes.add(lemma.rsplit(" ", 1)[-1])
                for probe in probes:
                    for name in semantics.hypernym_names(probe, kind):
                        found[name].append(j)
            index = cache[(kind, form)] = dict(found)
        return index

    def unrelated_mask(self, kind: str, form: str, lemma: str) -> np.ndarray:
        """Boolean mask over the pool: False for ``lemma`` itself and for its synonyms, hypernyms
        and hyponyms (nouns and entities also by head word: "tennis racket" ~ "racket"; entities
        by their last two words without determiners: "drinking water" ~ "beverage")."""
        self.sync()
        nominal = kind in ("noun", "entity")
        key_lemma = entity_key(lemma) if kind == "entity" else lemma
        cache = self.store("related")
        pool = self.pool(kind, form)
        mask = cache.get((kind, form, key_lemma))
        if mask is None:
            mask = np.ones(len(pool.lemmas), dtype=bool)
            probes = {key_lemma, key_lemma.rsplit(" ", 1)[-1]} if nominal else {key_lemma}
            synonyms, names = set(), set()
            for probe in probes:
                synonyms |= semantics.synonym_names(probe, kind)
                names |= semantics.hypernym_names(probe, kind)
            names |= synonyms
            for name in names:
                j = pool.index.get(name)
                if j is not None:
                    mask[j] = False
                if nominal:
                    hits = pool.by_head.get(name)
                    if hits:
                        mask[hits] = False
            if semantics.wordnet_available():
                hyponyms = self._hyponym_index(kind, form)
                for name in synonyms:
                    hits = hyponyms.get(name)
                    if hits:
                        mask[hits] = False
            cache[(kind, form, key_lemma)] = mask
        if kind == "entity" and lemma in pool.index:  # the entity itself, beside its key's relatives
            mask = mask.copy()
            mask[pool.index[lemma]] = False
        return mask

    def unrelated_indices(self, kind: str, form: str, lemma: str) -> np.ndarray:
        """Pool positions where :meth:`unrelated_mask` is False."""
        cache = self.store("related-positions")
        found = cache.get((kind, form, lemma))
        if found is None:
            found = cache[(kind, form, lemma)] = np.flatnonzero(~self.unrelated_mask(kind, form, lemma))
        return found

    def category_mask(self, kind: str, form: str, category: str | None) -> np.ndarray | None:
        """Boolean mask over the pool: True where the candidate has ``category``."""
        self.sync()
        if category is None:
            return None
        cache = self.store("categories")
        mask = cache.get((kind, form, category))
        if mask is None:
            pool = self.pool(kind, form)
            mask = cache[(kind, form, category)] = np.array([c == category for c in pool.categories], dtype=bool)
        return mask

    def lemma_of_surface(self, kind: str, surface: str) -> str | None:
        """The lemma a surface form belongs to (any form; the first lemma in the base's order)."""
        self.sync()
        cache = self.store("surface-lemmas")
        table = cache.get(kind)
        if table is None:
            table = cache[kind] = {}
            for lemma, forms in self.base.forms[kind].items():
                for counts in forms.values():
                    for s in counts:
                        table.setdefault(s.lower(), lemma)
        return table.get(surface.lower())

    # ------------------------------------------------------------------ balance factors over the pools
    def balance_vector(self, kind: str, form: str, pool: Pool) -> np.ndarray | None:
        """The per-lemma factors of ``base.balance[kind]`` over a pool (``None`` when there are none)."""
        factors = self.base.balance.get(kind)
        if not factors:
            return None
        cache = self.store("balance-vectors", balanced=True)
        vec = cache.get((kind, form))
        if vec is None:
            vec = cache[(kind, form)] = np.array([factors.get(lemma, 1.0) for lemma in pool.lemmas])
        return vec

    def context_tables(self, kind: str) -> dict | None:
        """``{context key: {lemma: factor}}``: the per-neighbour factor tables of ``kind`` (``None``: none)."""
        self.sync()
        cache = self.store("context-tables", balanced=True)
        tables = cache.get(kind, False)
        if tables is False:
            prefix = f"{kind}|"
            removal = removal_table(kind)
            tables = cache[kind] = {name[len(prefix):]: factors for name, factors in self.base.balance.items()
                                    if name.startswith(prefix) and factors and name != removal} or None
        return tables

    def context_factors(self, kind: str, form: str, pool: Pool, key: str):
        """``(pool positions, log factors)`` of the factor table of context ``key`` (``None``: none in the pool)."""
        cache = self.store("context-factors", balanced=True)
        found = cache.get((kind, form, key), False)
        if found is False:
            found = None
            table = self.context_tables(kind)[key]
            idx = [(pool.index[lemma], f) for lemma, f in table.items() if lemma in pool.index]
            if idx:
                found = (np.array([i for i, _ in idx], dtype=np.intp), np.log([f for _, f in idx]))
            cache[(kind, form, key)] = found
        return found

    def __repr__(self):
        return f"CandidateIndex({self.base!r}, cached={len(self.content)}+{len(self.balanced)})"
