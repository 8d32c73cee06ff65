"""Shared candidate weighting: frequency x context fit, minus what would not be truly wrong."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..base import ConceptBase, content_words

#: Additive smoothing of the context-fit ratio (larger: context matters less).
CONTEXT_SMOOTHING = 1.0
#: Exponent applied to the weights (>1 favours the best-fitting candidates).
FIT_POWER = 2.0
#: How contexts combine: "product" (naive Bayes) or "mixture" (interpolated conditionals).
COMBINE = "geomean"
#: Mixture: a context with n observations gets weight n / (n + MIXTURE_K).
MIXTURE_K = 2.0


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

    Weight = corpus frequency x context fit (how much more often the candidate occurs in the
    concept's contexts than its frequency predicts), zeroed for the lemma itself, its synonyms,
    hypernyms and hyponyms, and, when ``same_category`` and possible, for other semantic
    categories. Cached per (kind, form, lemma, contexts): captions repeat their contexts a lot.
    Returns ``(pool, weights, cumulative)`` or ``None`` when nothing is left.
    """
    cache_key = ("w", kind, form, lemma, keys, same_category, use_context, FIT_POWER, CONTEXT_SMOOTHING, COMBINE, MIXTURE_K)
    cached = base._masks.get(cache_key, False)
    if cached is not False:
        return cached
    result = None
    pool = base.pool(kind, form)
    if pool is not None:
        w = pool.prob.copy()
        if use_context and COMBINE == "geomean":
            # log-linear average of smoothed conditionals P(c | k): every context has a say,
            # uninformative ones fall back to the prior, none is counted twice
            logs, n_used = np.zeros_like(w), 0
            for key in keys:
                found = base.context_vector(kind, form, key)
                if found is not None:
                    vec, total = found
                    logs += np.log((vec + MIXTURE_K * pool.prob) / (total + MIXTURE_K))
                    n_used += 1
            if n_used:
                w = np.exp(logs / n_used)
        elif use_context and COMBINE == "mixture":
            mix = w * 0.05
            for key in keys:
                found = base.context_vector(kind, form, key)
                if found is not None:
                    vec, total = found
                    mix += (total / (total + MIXTURE_K)) * (vec / total)
            w = mix
        elif use_context:
            for key in keys:
                found = base.context_vector(kind, form, key)
                if found is not None:
                    vec, total = found
                    w *= (vec + CONTEXT_SMOOTHING) / (pool.prob * total + CONTEXT_SMOOTHING)
        if FIT_POWER != 1.0:
            w = w**FIT_POWER
        if lemma is not None:
            w *= base.unrelated_mask(kind, form, lemma)
        if same_category and lemma is not None:
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
