"""Candidate weighting details (iccc/operators/_weights.py) and context balance (iccc/balance.py)."""

from __future__ import annotations

import numpy as np
import pytest

import iccc
from iccc.balance import balance_insertions
from iccc.base import CONTEXT_SEP
from iccc.contexts import edge_keys
from iccc.operators import CandidateIndex, WeightRequest, candidate_weights
from iccc.operators._weights import CATEGORY_MIN_SHARE
from iccc.semantics import category


def _weights(captions, kind="attribute", form="ATTR", lemma="red"):
    parsed = iccc.parse(captions)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    found = candidate_weights(CandidateIndex.of(base), WeightRequest(kind, form, lemma, (), True, False))
    if found is None:
        return None
    pool, w, _ = found
    return {lemma: float(x) for lemma, x in zip(pool.lemmas, w)}


def test_attribute_replacements_stay_in_their_category_however_little_weight_it_holds():
    if category("red", "attribute") is None or category("red", "attribute") == category("big", "attribute"):
        pytest.skip("needs colour and size categories")
    rich = _weights(["A red car."] * 3 + ["A blue car."] * 3 + ["A big car."] * 3)
    assert rich["blue"] > 0 and rich["big"] == 0
    # a few blues among many big/small: still only colours ("a small dog" never becomes "a red dog")
    fair = _weights(["A red car."] + ["A blue car."] * 3 + ["A big car.", "A small car."] * 12)
    assert fair["blue"] > 0 and fair["big"] == 0 and fair["small"] == 0
    # one blue among many big/small (< CATEGORY_MIN_SHARE of the weight), or no other colour at
    # all: nothing to draw (the operator edits another concept)
    assert _weights(["A red car.", "A blue car."] + ["A big car.", "A small car."] * 12) is None
    assert _weights(["A red car."] + ["A big car.", "A small car."] * 12) is None


def test_noun_category_restriction_gives_way_when_the_category_holds_almost_no_weight():
    if category("dog", "noun") != category("cat", "noun") or category("dog", "noun") == category("car", "noun"):
        pytest.skip("needs WordNet noun categories")
    rich = _weights(["A dog."] * 3 + ["A cat."] * 3 + ["A car."] * 3, "noun", "NN", "dog")
    assert rich["cat"] > 0 and rich["car"] == 0
    # one cat among many cars: the animal category holds < CATEGORY_MIN_SHARE, so it is not forced
    poor = _weights(["A dog.", "A cat."] + ["A car.", "A bus."] * 12, "noun", "NN", "dog")
    assert poor["cat"] / sum(poor.values()) < CATEGORY_MIN_SHARE
    assert poor["car"] > 0 and poor["cat"] > 0


CAPTIONS = [
    "A dog sitting on a bed.", "A cat sitting on a couch.", "A man standing on a street.",
    "A woman standing in a kitchen.", "A dog lying on a bed.", "A cat lying in the sun.",
    "A man riding a horse.", "A woman riding a bike.", "A boy holding a kite.", "A girl holding a cat.",
]


def test_context_factors_are_stored_per_kind_and_neighbouring_word(tmp_path):
    parsed = iccc.parse(CAPTIONS * 3)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    factors = balance_insertions(base, parsed, seed=1)
    tables = [k for k in factors if CONTEXT_SEP in k and not k.endswith(CONTEXT_SEP + "remove")]
    assert tables and all(k.split(CONTEXT_SEP)[0] in iccc.KINDS for k in tables)
    assert all(k.split(CONTEXT_SEP)[1][:3] in ("L1:", "N1:") for k in tables)
    assert all(1 / 20 <= f <= 20 for k in tables for f in factors[k].values())
    path = tmp_path / "base.json.gz"
    base.save(path)
    assert iccc.ConceptBase.load(path).balance == base.balance

    plain = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    assert not [k for k in balance_insertions(plain, parsed, seed=1, by_context=False, removal_strength=0)
                if CONTEXT_SEP in k]


def test_context_factors_change_the_weights_only_next_to_their_word():
    parsed = iccc.parse(CAPTIONS * 3)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    base.balance = {f"verb{CONTEXT_SEP}N1:on": {"lie": 0.05}}
    text = "A dog sitting on a bed."
    start = text.index("sitting")
    on = edge_keys(text, start, start + len("sitting"))
    assert on == ("L1:dog", "N1:on")

    def weight(keys):
        pool, w, _ = candidate_weights(CandidateIndex.of(base), WeightRequest("verb", "VBG", None, keys, False, False))
        return dict(zip(pool.lemmas, np.asarray(w) / np.sum(w)))

    damped, other = weight(on), weight(("L1:dog", "N1:in"))
    assert damped["lie"] < other["lie"]


def _reference_weights(base, kind, form, lemma, keys, same_category, use_context):
    """The weighting written out for one slot, step by step (what the batched rows must equal):
    P(c) ** power * balance(c) * exp(power * sum of context log-ratios / n ** pooling
    + sum of log per-neighbour factors), without the unrelated lemmas and (for a lemma that is no
    name) the names, in category when it holds enough weight (else, for the strict kinds, nothing)."""
    from iccc.operators._weights import (
        CATEGORY_KINDS,
        FIT_POWER,
        NAME_KINDS,
        POOLING,
        STRICT_CATEGORY_KINDS,
        _sparse_context,
        is_name,
    )

    index = CandidateIndex(base)  # its own caches: nothing computed by the code under test
    pool = index.pool(kind, form)
    if pool is None:
        return None
    power = FIT_POWER.get(kind, 1.0) if use_context else 1.0
    exponent = np.zeros(len(pool.lemmas))
    if use_context:
        logs, used = np.zeros(len(pool.lemmas)), 0
        for key in keys:
            found = _sparse_context(index, kind, form, key, pool)
            if found is not None:
                logs[found[0]] += found[1]
                used += 1
        if used:
            exponent = logs * (power / used ** POOLING.get(kind, 1.0))
    tables = index.context_tables(kind) or {}
    factors = np.ones(len(pool.lemmas))
    for key in keys:
        found = index.context_factors(kind, form, pool, key) if key in tables else None
        if found is not None:
            factors[found[0]] *= np.exp(found[1])
    exponent = exponent + np.log(factors)
    w = pool.prob ** power if power != 1.0 else pool.prob
    if index.balance_vector(kind, form, pool) is not None:
        w = w * index.balance_vector(kind, form, pool)
    w = w * np.exp(exponent)
    if lemma is not None:
        w = w * index.unrelated_mask(kind, form, lemma)
    if lemma is not None and kind in NAME_KINDS:  # names replace only names
        names = np.array([is_name(s) for s in pool.surfaces])
        if not (lemma in pool.index and names[pool.index[lemma]]):
            w = w * ~names
    if same_category and lemma is not None and kind in CATEGORY_KINDS:
        cat = base.category(kind, lemma)
        mask = index.category_mask(kind, form, cat)
        strict = kind in STRICT_CATEGORY_KINDS and cat is not None and not cat.startswith("ctx:")
        if mask is not None and (w * mask).sum() > CATEGORY_MIN_SHARE * w.sum():
            w = w * mask
        elif mask is not None and strict:
            return None
    return w if np.cumsum(w)[-1] > 0 else None


def test_batched_weights_equal_one_slot_at_a_time_bit_for_bit(coco_captions):
    """A map computes a whole batch's weights as one matrix per pool; each row must be exactly what
    the slot alone gives (else a row's corruption would depend on the batch it falls in)."""
    from iccc.operators import Replace, compute_weights
    from iccc.operators._weights import slot_context

    parsed = iccc.parse(coco_captions)
    base = iccc.ConceptBase.from_parsed(parsed)
    balance_insertions(base, parsed, rounds=1)
    op = Replace()
    requests = []
    for p in parsed:
        for slot in op.slots(p, base):
            c = p.concepts[slot.i]
            form, keys = slot_context(p, slot.i)
            requests.append(WeightRequest(c.kind, form, c.lemma, keys, True, True))
            requests.append(WeightRequest(c.kind, form, None, keys, False, True))
    assert len(requests) > 1500 and len({r[0] for r in requests}) >= 5
    together = compute_weights(CandidateIndex(base), requests)
    fresh = CandidateIndex(base)

    def alone(request):
        fresh.balanced.pop("weights", None)  # computed anew, not read back
        return compute_weights(fresh, [request])[0]

    alone = [alone(r) for r in requests]
    for r, a, b in zip(requests, together, alone):
        assert (a is None) == (b is None), r
        if a is not None:
            ref = _reference_weights(base, *r)
            assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]), r
            np.testing.assert_allclose(a[1], ref, rtol=1e-12, atol=0)
