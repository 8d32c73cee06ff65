"""Shared candidate weighting: how typical a candidate is in context, minus what would not be truly wrong."""

from __future__ import annotations

from itertools import islice
from typing import Any, Iterable

import numpy as np

from ..balance import balance_vector, context_balance
from ..base import ConceptBase, content_words, form_of
from ..contexts import context_keys

#: How strongly a context's distribution is pulled towards the overall frequency: a context seen
#: n times gives P(c | k) = (n(c, k) + PRIOR_STRENGTH * P(c)) / (n + PRIOR_STRENGTH).
PRIOR_STRENGTH = 2.0
#: Exponent on the pooled fit, per kind. Tuned on COCO val2017 against two blind detectors
#: (benchmarks/bench_quality.py): higher makes negatives more typical for their context, which
#: fools an n-gram LM, but over-uses frequent words, which a classifier then learns.
FIT_POWER = {"entity": 1.0, "noun": 1.5, "attribute": 2.0, "relation": 2.0, "verb": 2.0, "count": 2.0}
#: How the contexts' log-ratios are pooled, per kind: their sum divided by (number of contexts) **
#: POOLING (1: a geometric mean of the conditionals; 0: a naive-Bayes product). Verbs and
#: relations are judged by a few sharp contexts (the preposition after "flying through", the
#: object of "eating"); averaging over all of them lets a frequent verb that never occurs in one of
#: them ("a jet sitting through the sky") through, so their evidence is pooled more strongly.
POOLING = {"verb": 0.5, "relation": 0.5}
#: The semantic-category restriction applies only when the candidates in the category hold at
#: least this share of the context-fit weight: "people" (WordNet noun.group) would otherwise become
#: "teams", "rows" or "branches" in "people standing near...", which no real caption says.
CATEGORY_MIN_SHARE = 0.1
#: Kinds whose replacements stay in their semantic category. Verb and relation categories
#: (WordNet lexicographer files of a verb's first sense) are too coarse and noisy; their
#: contexts (subject, object, neighbours) say more.
CATEGORY_KINDS = frozenset(("noun", "entity", "attribute", "count"))


class Choices:
    """A lazy sequence of ``(lemma, surface)`` over a whole pool."""

    __slots__ = ("pool",)

    def __init__(self, pool):
        self.pool = pool

    def __len__(self):
        return len(self.pool.lemmas)

    def __getitem__(self, k):
        j = int(k)
        return self.pool.lemmas[j], self.pool.surfaces[j]


def side_cache(base: ConceptBase, name: str, limit: int) -> dict:
    """A cache dict living in ``base._masks`` (so it is dropped whenever the base changes); when
    it reaches ``limit`` entries, the older half goes (dicts keep insertion order)."""
    cache = base._masks.get(name)
    if cache is None:
        cache = base._masks[name] = {}
    elif len(cache) >= limit:
        evict_older_half(cache)
    return cache


def evict_older_half(cache: dict) -> None:
    """Drop the first-inserted half of ``cache``'s entries."""
    for key in list(islice(cache, len(cache) // 2)):
        del cache[key]


def _sparse_context(base: ConceptBase, kind: str, form: str, key: str, pool):
    """Context ``key`` as sparse log-ratios over the pool: ``(idx, delta)`` with
    ``delta = log(1 + n(c, k) / (PRIOR_STRENGTH * P(c)))``, so that
    ``log P(c | k) = log P(c) + delta + const`` (cached per context, shared by all captions)."""
    cache = side_cache(base, "sparse-contexts", 400_000)
    cache_key = (kind, form, key)
    found = cache.get(cache_key, False)
    if found is not False:
        return found
    lemmas = base.contexts[kind].get(key)
    found = None
    if lemmas:
        idx, counts = [], []
        for other, n in lemmas.items():
            j = pool.index.get(other)
            if j is not None:
                idx.append(j)
                counts.append(n)
        idx_arr = np.asarray(idx, dtype=np.intp)
        found = (idx_arr, np.log1p(np.asarray(counts, dtype=np.float64) / (PRIOR_STRENGTH * pool.prob[idx_arr])))
    cache[cache_key] = found
    return found


def candidate_weights(
    base: ConceptBase,
    kind: str,
    form: str,
    *,
    lemma: str | None,
    keys: tuple[str, ...],
    same_category: bool,
    use_context: bool,
):
    """Weights over the (kind, form) pool for replacing ``lemma`` (``None`` when inserting).

    Weight = how typical the candidate is in the concept's contexts (see :data:`FIT_POWER`),
    zeroed for the lemma itself, its synonyms, hypernyms and hyponyms, and, when
    ``same_category`` and possible, for other semantic categories. Each context is cached once
    as a sparse vector shared by every caption that has it; the pooled weights of the most
    recent (lemma, contexts) combinations are cached too.
    Returns ``(pool, weights, cumulative)`` or ``None`` when nothing is left.
    """
    recent = side_cache(base, "weights", 50_000)
    cache_key = (kind, form, lemma, keys, same_category, use_context)
    cached = recent.get(cache_key, False)
    if cached is not False:
        return cached
    result = None
    pool = base.pool(kind, form)
    if pool is not None:
        w = pool.prob
        if use_context:
            # Pooled smoothed conditionals P(c | k) over the contexts: every context has a say,
            # uninformative ones fall back to the overall frequency, and correlated contexts are
            # not counted fully twice (as a naive-Bayes product would). Up to a constant factor:
            # P(c) * exp(sum over contexts of delta_k(c) / n_contexts ** POOLING[kind]).
            logs, used = None, 0
            for key in keys:
                found = _sparse_context(base, kind, form, key, pool)
                if found is not None:
                    if logs is None:
                        logs = np.zeros(len(w))
                    idx, delta = found
                    logs[idx] += delta
                    used += 1
            if used:
                w = w * np.exp(logs / used ** POOLING.get(kind, 1.0))
            power = FIT_POWER.get(kind, 1.0)
            if power != 1.0:
                w = w**power
        balance = balance_vector(base, kind, form, pool)
        if balance is not None:
            w = w * balance
        ctx_balance = context_balance(base, kind, form, pool, keys)
        if ctx_balance is not None:
            w = w * ctx_balance
        if lemma is not None:
            w = w * base.unrelated_mask(kind, form, lemma)
        if same_category and lemma is not None and kind in CATEGORY_KINDS:
            mask = base.category_mask(kind, form, base.category(kind, lemma))
            if mask is not None:
                restricted = w * mask
                if restricted.sum() > CATEGORY_MIN_SHARE * w.sum():
                    w = restricted
        cumulative = np.cumsum(w)
        if cumulative[-1] > 0:
            result = (pool, w, cumulative)
    recent[cache_key] = result
    return result


def blocked_words(text: str, base: ConceptBase, group: Any) -> set[str]:
    """Words a new concept must not bring in: those of the caption and of its sibling captions."""
    words = content_words(text)
    if group is not None:
        siblings = base.group_words(group)
        if siblings:
            memo = side_cache(base, "blocked-words", 200_000)
            key = (text, group)
            found = memo.get(key)
            if found is None:
                found = memo[key] = words | siblings
            return found
    return words


def slot_context(base: ConceptBase, parsed, i: int) -> tuple[str, tuple[str, ...]]:
    """``(form_of(concept), context_keys(parsed, i))`` of concept ``i``, remembered per caption
    object (both are pure functions of the caption; a map sees each caption every epoch)."""
    from ._base import per_caption

    memo = per_caption(base, "slot-context")
    entry = memo.get(id(parsed))
    if entry is None or entry[0] is not parsed:
        entry = memo[id(parsed)] = (parsed, {})
    found = entry[1].get(i)
    if found is None:
        found = entry[1][i] = (form_of(parsed.concepts[i], parsed), context_keys(parsed, i))
    return found


def blocked_indices(pool, words: Iterable[str]) -> frozenset:
    """Pool indices of candidates containing any of ``words``."""
    out: set[int] = set()
    for word in words:
        hits = pool.by_word.get(word)
        if hits:
            out.update(hits)
    return frozenset(out)


def pool_options(pool, w: np.ndarray, cumulative: np.ndarray, blocked: frozenset):
    """Options over a whole pool: labels are ``(lemma, surface)``; ``blocked`` are never drawn."""
    from ._base import Options

    return Options(Choices(pool), w, cumulative=cumulative, blocked=blocked)
