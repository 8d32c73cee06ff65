"""Candidate weighting: how typical a candidate is in context, minus what would not be truly wrong.

Weights are asked for by :class:`WeightRequest` and computed by :func:`compute_weights`, many
requests at once (one matrix per pool: every step is elementwise or per row, so a request's
numbers never depend on the others computed with it). The engine's draw states the request it
needs (:meth:`iccc.operators.Operator.draw` yields it) and receives the weights; a batch of rows
is served by one :func:`compute_weights` call per round (:meth:`iccc.Corruptor.many`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..base import content_words, form_of
from ..contexts import context_keys
from ._index import CandidateIndex, Pool

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
#: Kinds whose replacements stay in their semantic category. Verb and relation categories
#: (WordNet lexicographer files of a verb's first sense) are too coarse and noisy; their
#: contexts (subject, object, neighbours) say more.
CATEGORY_KINDS = frozenset(("noun", "entity", "attribute", "count"))
#: Of those, the kinds whose semantic category is a hard rule: a replacement comes from the
#: original's category (WordNet anchor or lexicographer file, built-in attribute group) or not
#: at all ("a small dog" never becomes "a red dog"). When the candidates of the category hold
#: less than :data:`CATEGORY_MIN_SHARE` of the context-fit weight (none left, or none that fits
#: the context: forcing one would make a negative a text-only model spots), the concept is
#: skipped and the operator edits another one.
STRICT_CATEGORY_KINDS = frozenset(("attribute", "count"))
#: The share of the context-fit weight the candidates in the category must hold. Below it, a
#: strict kind's concept is skipped; the other kinds, and categories that are only a guess from
#: the data (``ctx:...``, the lemma's most frequent context, see
#: :meth:`iccc.ConceptBase.category`), draw from the whole pool instead: "people" (WordNet
#: noun.group) would otherwise become "teams", "rows" or "branches" in "people standing
#: near...", which no real caption says.
CATEGORY_MIN_SHARE = 0.1
#: Kinds whose candidates may be names ("Big Ben", "London", "the Wii", "Asian"): a name replaces only a
#: name (see :func:`name_positions`).
NAME_KINDS = frozenset(("noun", "entity", "attribute"))




class WeightRequest(NamedTuple):
    """What a slot's candidate weights depend on: the (kind, form) pool, the lemma replaced
    (``None`` when inserting), the concept's context keys and the two settings."""

    kind: str
    form: str
    lemma: str | None
    keys: tuple[str, ...]
    same_category: bool
    use_context: bool


#: Marks a request whose weights are not known yet (``None`` is a result: no candidate left).
MISSING = object()


def known_weights(index: CandidateIndex, request: WeightRequest):
    """The weights of ``request`` if they are cached in ``index``, else :data:`MISSING` (the
    draws' lookup: their entry point has synced the index)."""
    return index.store("weights", balanced=True).get(request, MISSING)


def candidate_weights(index: CandidateIndex, request: WeightRequest):
    """Weights over the ``(request.kind, request.form)`` pool for replacing ``request.lemma``.

    Weight = how typical the candidate is in the concept's contexts (see :data:`FIT_POWER`),
    zeroed for the lemma itself, its synonyms, hypernyms and hyponyms, for names when the lemma
    is not one (:func:`name_positions`), and, when ``same_category``, for other semantic
    categories when the category keeps :data:`CATEGORY_MIN_SHARE` of the weight (else, for
    :data:`STRICT_CATEGORY_KINDS` with a semantic category, for all: ``None``, the concept is
    skipped). Returns ``(pool, weights, cumulative)`` or ``None`` when nothing is left; the
    result is kept in the index (the most recent :data:`WEIGHTS_CACHE` requests).
    """
    found = known_weights(index.sync(), request)
    if found is MISSING:
        found = compute_weights(index, [request])[0]
    return found


def compute_weights(index: CandidateIndex, requests: list) -> list:
    """The :func:`candidate_weights` result of each request, computed together per pool and kept
    in the index (requests already cached are served from it)."""
    index.sync()
    cache = index.store("weights", WEIGHTS_CACHE, balanced=True)
    out: list = [cache.get(r, MISSING) for r in requests]
    groups: dict = {}
    for n, request in enumerate(requests):
        if out[n] is MISSING:
            groups.setdefault((request.kind, request.form, request.use_context), {}).setdefault(request, []).append(n)
    for (kind, form, use_context), members in groups.items():
        pool = index.pool(kind, form)
        todo = list(members)
        rows = _weight_rows(index, kind, form, pool, todo, use_context) if pool is not None else [None] * len(todo)
        for request, row in zip(todo, rows):
            cache[request] = row
            for n in members[request]:
                out[n] = row
    return out


def _sparse_context(index: CandidateIndex, kind: str, form: str, key: str, pool: Pool):
    """Context ``key`` as sparse log-ratios over the pool: ``(idx, delta)`` with
    ``delta = log(1 + n(c, k) / (PRIOR_STRENGTH * P(c)))``, so that
    ``log P(c | k) = log P(c) + delta + const`` (cached per context, shared by all captions)."""
    cache = _context_cache(index, kind, form)
    found = cache.get(key, False)
    if found is not False:
        return found
    lemmas = index.base.contexts[kind].get(key)
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
    cache[key] = found
    return found


def _context_cache(index: CandidateIndex, kind: str, form: str) -> dict:
    """Context key -> sparse log-ratios over the (kind, form) pool (see :func:`_sparse_context`)."""
    return index.store(("sparse-contexts", kind, form), CONTEXTS_CACHE)


#: Context keys remembered per pool (each a sparse vector shared by every caption that has it).
CONTEXTS_CACHE = 200_000
#: Weight vectors remembered (the most recent ones); a map computes the weights of a whole
#: batch's slots at once, so this only has to outlive one batch.
WEIGHTS_CACHE = 4_096


def _weight_rows(index: CandidateIndex, kind: str, form: str, pool: Pool, requests: list, use_context: bool) -> list:
    """The weights of ``requests`` (all on ``pool``) as the rows of one matrix, in log space:
    ``w = P(c) ** power * balance(c) * exp(power * L(c) / n ** POOLING + C(c)) * masks``, where
    ``L`` sums the contexts' log-ratios (:func:`_sparse_context`), ``n`` counts those contexts and
    ``C`` sums the logs of the per-neighbour balance factors; one ``exp`` per element."""
    m, size = len(requests), len(pool.lemmas)
    power = FIT_POWER.get(kind, 1.0) if use_context else 1.0
    pooling = POOLING.get(kind, 1.0)
    contexts = _context_cache(index, kind, form)
    factors = index.context_tables(kind)
    fit, fit_rows, ctx, ctx_rows, scales = [], [], [], [], []
    for r, request in enumerate(requests):
        used = 0
        for key in request[3]:
            if use_context:
                found = contexts.get(key, False)
                if found is False:
                    found = _sparse_context(index, kind, form, key, pool)
                if found is not None:
                    fit.append(found)
                    fit_rows.append(r)
                    used += 1
            if factors is not None and key in factors:
                found = index.context_factors(kind, form, pool, key)
                if found is not None:
                    ctx.append(found)
                    ctx_rows.append(r)
        scales.append(power / used**pooling if used else 0.0)
    exponent = None
    if fit:
        exponent = _scatter(fit, fit_rows, m, size) * np.asarray(scales)[:, None]
    if ctx:
        logs = _scatter(ctx, ctx_rows, m, size)
        exponent = logs if exponent is None else exponent + logs
    prior = _prior(index, kind, form, pool, power)
    w = np.broadcast_to(prior, (m, size)) if exponent is None else prior * np.exp(exponent)
    # the lemma itself, its synonyms, hypernyms and hyponyms: zeroed (as a 0/1 mask would)
    zeros = [index.unrelated_indices(kind, form, request[2]) + r * size
             for r, request in enumerate(requests) if request[2] is not None]
    if zeros:
        w = np.array(w)
        w.reshape(-1)[np.concatenate(zeros)] = 0.0
    if kind in NAME_KINDS:
        names = name_positions(index, kind, form, pool)
        if len(names):
            name_set = _name_lemmas(index, kind, form, pool)
            rows = [r for r, request in enumerate(requests) if request[2] is not None and request[2] not in name_set]
            if rows:
                w = np.array(w)
                w[np.ix_(rows, names)] = 0.0
    if kind in CATEGORY_KINDS:
        restrict, masks, strict = [], [], []
        for r, (_k, _f, lemma, _keys, same_category, _u) in enumerate(requests):
            if same_category and lemma is not None:
                category = index.base.category(kind, lemma)
                mask = index.category_mask(kind, form, category)
                if mask is not None:
                    restrict.append(r)
                    masks.append(mask)
                    strict.append(kind in STRICT_CATEGORY_KINDS and not category.startswith("ctx:"))
        if restrict:
            w = np.array(w)
            current = w[restrict]
            restricted = current * np.stack(masks)
            keep = restricted.sum(axis=1) > CATEGORY_MIN_SHARE * current.sum(axis=1)
            chosen = [r for r, k in zip(restrict, keep) if k]
            if chosen:
                w[chosen] = restricted[keep]
            skipped = [r for r, k, hard in zip(restrict, keep, strict) if hard and not k]
            if skipped:
                w[skipped] = 0.0
    w = np.ascontiguousarray(w)
    cumulative = np.cumsum(w, axis=1)
    positive = (cumulative[:, -1] > 0).tolist()
    return [(pool, w[r], cumulative[r]) if positive[r] else None for r in range(m)]


def is_name(surface: str) -> bool:
    """Whether a candidate's mid-sentence form names one particular thing: it has a word with a
    capital that is not an acronym ("Big Ben", "London", "the Wii", "a Christmas tree",
    "an iPhone"). Acronyms ("TV", "a flat screen TV") and one-letter parts ("T-shirt") are
    common nouns.

    >>> [is_name(s) for s in ("Big Ben", "the Wii", "an iPhone", "a TV", "T-shirt", "a dog")]
    [True, True, True, False, False, False]
    """
    if surface.islower():
        return False
    for word in surface.replace("-", " ").split():
        if len(word) > 1 and not word.islower() and not word.isupper():
            return True
    return False


def name_positions(index: CandidateIndex, kind: str, form: str, pool: Pool) -> np.ndarray:
    """Pool positions of names (:func:`is_name` of the surface). A name is never put in
    place of a common noun ("laying in bed" -> "laying in Big Ben", "a stop sign" -> "a Wii
    game"): mid-sentence it is a capitalised word no caption has there, and as a replacement of
    a thing it rarely makes sense. Names still replace names."""
    cache = index.store("names")
    found = cache.get((kind, form))
    if found is None:
        found = cache[(kind, form)] = np.flatnonzero([is_name(s) for s in pool.surfaces])
    return found


def _name_lemmas(index: CandidateIndex, kind: str, form: str, pool: Pool) -> frozenset:
    cache = index.store("name-lemmas")
    found = cache.get((kind, form))
    if found is None:
        found = cache[(kind, form)] = frozenset(pool.lemmas[j] for j in name_positions(index, kind, form, pool))
    return found


def _scatter(found: list, rows: list, m: int, size: int) -> np.ndarray:
    """Sum sparse ``(idx, values)`` vectors into the rows ``rows`` of an ``(m, size)`` matrix
    (``bincount`` adds in input order: the same sums as a loop over one row's vectors)."""
    idx = np.concatenate([f[0] for f in found])
    offsets = np.repeat(np.asarray(rows, dtype=np.intp) * size, [len(f[0]) for f in found])
    values = np.concatenate([f[1] for f in found])
    return np.bincount(idx + offsets, weights=values, minlength=m * size).reshape(m, size)


def _prior(index: CandidateIndex, kind: str, form: str, pool: Pool, power: float) -> np.ndarray:
    """``P(c) ** power`` times the per-lemma balance factors, over the pool."""
    cache = index.store("priors", balanced=True)
    prior = cache.get((kind, form, power))
    if prior is None:
        prior = pool.prob**power if power != 1.0 else pool.prob
        balance = index.balance_vector(kind, form, pool)
        if balance is not None:
            prior = prior * balance
        cache[(kind, form, power)] = prior
    return prior


def blocked_words(text: str, index: CandidateIndex, group: Any) -> set[str]:
    """Words a new concept must not bring in: those of the caption and of its sibling captions."""
    words = content_words(text)
    if group is not None:
        siblings = index.base.group_words(group)
        if siblings:
            memo = index.store("blocked-words", 200_000)
            key = (text, group)
            found = memo.get(key)
            if found is None:
                found = memo[key] = words | siblings
            return found
    return words


def slot_context(parsed, i: int) -> tuple[str, tuple[str, ...]]:
    """``(form_of(concept), context_keys(parsed, i))`` of concept ``i`` (pure functions of the
    caption; the operators keep them with the caption's prepared slots)."""
    return form_of(parsed.concepts[i], parsed), context_keys(parsed, i)
