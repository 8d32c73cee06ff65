"""Shared candidate weighting: how typical a candidate is in context, minus what would not be truly wrong."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..balance import balance_vector
from ..base import ConceptBase, content_words

#: How strongly a context's distribution is pulled towards the overall frequency: a context seen
#: n times gives P(c | k) = (n(c, k) + PRIOR_STRENGTH * P(c)) / (n + PRIOR_STRENGTH).
PRIOR_STRENGTH = 2.0
#: Exponent on the pooled fit, per kind. Tuned on COCO val2017 against two blind detectors
#: (benchmarks/bench_quality.py): higher makes negatives more typical for their context, which
#: fools an n-gram LM, but over-uses frequent words, which a classifier then learns.
FIT_POWER = {"entity": 1.0, "noun": 1.5, "attribute": 2.0, "relation": 2.0, "verb": 2.0, "count": 2.0}
#: Kinds whose replacements stay in their semantic category. Verb and relation categories
#: (WordNet lexicographer files of a verb's first sense) are too coarse and noisy; their
#: contexts (subject, object, neighbours) say more.
CATEGORY_KINDS = frozenset(("noun", "entity", "attribute", "count"))


class Choices:
    """A lazy sequence of ``(lemma, surface)`` for selected pool indices."""

    __slots__ = ("pool", "idx")

    def __init__(self, pool, idx: np.ndarray | None):
        self.pool = pool
        self.idx = idx

    def __len__(self):
        return len(self.pool.lemmas) if self.idx is None else len(self.idx)

    def __getitem__(self, k):
        j = int(k) if self.idx is None else int(self.idx[k])
        return self.pool.lemmas[j], self.pool.surfaces[j]


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
    zeroed for the lemma itself, its synonyms,
    hypernyms and hyponyms, and, when ``same_category`` and possible, for other semantic
    categories. Cached per (kind, form, lemma, contexts): captions repeat their contexts a lot.
    Returns ``(pool, weights, cumulative)`` or ``None`` when nothing is left.
    """
    cache_key = ("w", kind, form, lemma, keys, same_category, use_context)
    cached = base._masks.get(cache_key, False)
    if cached is not False:
        return cached
    result = None
    pool = base.pool(kind, form)
    if pool is not None:
        w = pool.prob.copy()
        if use_context:
            # Geometric mean of the smoothed conditionals P(c | k) over the contexts: every
            # context has a say, uninformative ones fall back to the overall frequency, and
            # correlated contexts are not counted twice (as a naive-Bayes product would).
            logs, used = np.zeros_like(w), 0
            for key in keys:
                found = base.context_vector(kind, form, key)
                if found is not None:
                    vec, total = found
                    logs += np.log((vec + PRIOR_STRENGTH * pool.prob) / (total + PRIOR_STRENGTH))
                    used += 1
            if used:
                w = np.exp(logs / used)
            power = FIT_POWER.get(kind, 1.0)
            if power != 1.0:
                w = w**power
        balance = balance_vector(base, kind, form, pool)
        if balance is not None:
            w = w * balance
        if lemma is not None:
            w *= base.unrelated_mask(kind, form, lemma)
        if same_category and lemma is not None and kind in CATEGORY_KINDS:
            mask = base.category_mask(kind, form, base.category(kind, lemma))
            if mask is not None:
                restricted = w * mask
                if restricted.sum() > 0:
                    w = restricted
        if w.sum() > 0:
            result = (pool, w, np.cumsum(w))
    if len(base._masks) > 500_000:
        base._masks.clear()
    base._masks[cache_key] = result
    return result


def blocked_words(text: str, base: ConceptBase, group: Any) -> set[str]:
    """Words a new concept must not bring in: those of the caption and of its sibling captions."""
    words = content_words(text)
    if group is not None:
        siblings = base.group_words(group)
        if siblings:
            return words | siblings
    return words


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

    return Options(Choices(pool, None), w, cumulative=cumulative, blocked=blocked)
