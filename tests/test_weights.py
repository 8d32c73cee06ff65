"""Candidate weighting details (iccc/operators/_weights.py) and context balance (iccc/balance.py)."""

from __future__ import annotations

import numpy as np
import pytest

import iccc
from iccc.balance import CONTEXT_SEP, balance_insertions
from iccc.contexts import edge_keys
from iccc.operators._weights import CATEGORY_MIN_SHARE, candidate_weights
from iccc.semantics import category


def _attribute_weights(captions):
    parsed = iccc.parse(captions)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    found = candidate_weights(base, "attribute", "ATTR", lemma="red", keys=(), same_category=True,
                              use_context=False)
    pool, w, _ = found
    return {lemma: float(x) for lemma, x in zip(pool.lemmas, w)}


def test_category_restriction_gives_way_when_the_category_holds_almost_no_weight():
    if category("red", "attribute") is None or category("red", "attribute") == category("big", "attribute"):
        pytest.skip("needs colour and size categories")
    # colours hold a fair share of the weight: only colours are drawn
    rich = _attribute_weights(["A red car."] * 3 + ["A blue car."] * 3 + ["A big car."] * 3)
    assert rich["blue"] > 0 and rich["big"] == 0
    # one blue among many big/small: the colour category holds < CATEGORY_MIN_SHARE, so it is not forced
    poor = _attribute_weights(["A red car.", "A blue car."] + ["A big car.", "A small car."] * 12)
    assert poor["blue"] / sum(poor.values()) < CATEGORY_MIN_SHARE
    assert poor["big"] > 0 and poor["blue"] > 0


CAPTIONS = [
    "A dog sitting on a bed.", "A cat sitting on a couch.", "A man standing on a street.",
    "A woman standing in a kitchen.", "A dog lying on a bed.", "A cat lying in the sun.",
    "A man riding a horse.", "A woman riding a bike.", "A boy holding a kite.", "A girl holding a cat.",
]


def test_context_factors_are_stored_per_kind_and_neighbouring_word(tmp_path):
    parsed = iccc.parse(CAPTIONS * 3)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    factors = balance_insertions(base, parsed, seed=1)
    tables = [k for k in factors if CONTEXT_SEP in k]
    assert tables and all(k.split(CONTEXT_SEP)[0] in iccc.KINDS for k in tables)
    assert all(k.split(CONTEXT_SEP)[1][:3] in ("L1:", "N1:") for k in tables)
    assert all(1 / 20 <= f <= 20 for k in tables for f in factors[k].values())
    path = tmp_path / "base.json.gz"
    base.save(path)
    assert iccc.ConceptBase.load(path).balance == base.balance

    plain = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    assert not [k for k in balance_insertions(plain, parsed, seed=1, by_context=False) if CONTEXT_SEP in k]


def test_context_factors_change_the_weights_only_next_to_their_word():
    parsed = iccc.parse(CAPTIONS * 3)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    base.balance = {f"verb{CONTEXT_SEP}N1:on": {"lie": 0.05}}
    text = "A dog sitting on a bed."
    start = text.index("sitting")
    on = edge_keys(text, start, start + len("sitting"))
    assert on == ("L1:dog", "N1:on")

    def weight(keys):
        pool, w, _ = candidate_weights(base, "verb", "VBG", lemma=None, keys=keys, same_category=False,
                                       use_context=False)
        return dict(zip(pool.lemmas, np.asarray(w) / np.sum(w)))

    damped, other = weight(on), weight(("L1:dog", "N1:in"))
    assert damped["lie"] < other["lie"]
