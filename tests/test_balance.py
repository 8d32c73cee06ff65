"""Frequency balancing of inserted words (iccc/balance.py)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import iccc
from iccc.balance import balance_insertions
from iccc.base import removal_table
from iccc.streams import BALANCE_EPOCH
from iccc.streams import Streams as RowStreams

CAPTIONS = [
    "A red car on a street.", "A blue car on a road.", "A red bus on a street.",
    "A green bus near a road.", "A white car near a house.", "A black dog on a couch.",
    "A brown dog on a bed.", "A white cat on a bed.", "A black cat near a window.",
    "A small dog on a street.", "A large bus on a road.", "A yellow car near a tree.",
]


@pytest.fixture(scope="module")
def parsed():
    return iccc.parse(CAPTIONS)


def test_factors_are_deterministic_and_saved_with_the_base(parsed, tmp_path):
    a = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    b = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    fa = balance_insertions(a, parsed, seed=3)
    fb = balance_insertions(b, parsed, seed=3)
    assert fa == fb and fa
    path = tmp_path / "base.json.gz"
    a.save(path)
    assert iccc.ConceptBase.load(path).balance == a.balance


def test_over_inserted_words_are_damped_and_under_inserted_words_boosted(parsed):
    plain = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    engine = iccc.Corruptor(plain, operations=["replace"], kinds=["attribute"])
    inserted, replaced = Counter(), Counter()
    rows = parsed * 10
    streams = RowStreams(0, BALANCE_EPOCH, range(len(rows)))  # the simulation's own draws (seed 0)
    for i, p in enumerate(rows):
        r = engine.one(p, rng=streams[i])
        if r is not None:
            inserted[r.replacement.lower()] += 1
            replaced[r.original.lower()] += 1
    over = max(inserted, key=lambda w: inserted[w] - replaced[w])
    under = max(replaced, key=lambda w: replaced[w] - inserted[w])
    assert inserted[over] > replaced[over] and replaced[under] > inserted[under]

    factors = balance_insertions(plain, parsed * 10, rounds=1, operations=["replace"], kinds=["attribute"])
    assert factors["attribute"][over] < 1.0 < factors["attribute"][under]
    # and the other side: the under-inserted (over-removed) word is edited less readily
    removal = factors[removal_table("attribute")]
    assert removal[under] < 1.0 < removal[over]


COUNT_CAPTIONS = ["Two dogs on a bed.", "Two cats on a couch.", "Two men on a street.", "Two birds in a tree.",
                  "Two horses in a field.", "Three dogs on a bed.", "Four cats on a couch."]


def test_an_over_removed_lemma_is_edited_less_often():
    # "two" can only become a rarer count, so counts remove "two" far more often than they insert it;
    # the removal factors make corruptions pick the other kinds of such captions more often
    parsed = iccc.parse(COUNT_CAPTIONS * 6)
    base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)

    def count_edits_of_two():
        engine = iccc.Corruptor(base, operations=["replace"])
        streams = [np.random.default_rng([7, i]) for i in range(20 * len(parsed))]
        return sum(r is not None and r.concept_kind == "count" and r.original.lower() == "two"
                   for r in engine.many(parsed * 20, streams))

    before = count_edits_of_two()
    balance_insertions(base, parsed, removal_strength=0.0)
    assert removal_table("count") not in base.balance
    plain = count_edits_of_two()
    factors = balance_insertions(base, parsed, removal_strength=0.5)
    assert factors[removal_table("count")]["two"] < 0.8
    assert count_edits_of_two() < 0.85 * plain and before > 20
    # a caption with an edit still always gets one
    assert all(r is not None for r in iccc.Corruptor(base).many(parsed, [np.random.default_rng(i) for i in range(len(parsed))]))


@pytest.mark.parametrize("kwargs, message", [
    ({"rounds": 0}, "`rounds`"), ({"strength": 0.0}, "`strength`"), ({"groups": [1]}, "`groups`"),
    ({"removal_strength": 1.5}, "`removal_strength`"), ({"removal_strength": True}, "`removal_strength`"),
])
def test_bad_arguments_name_the_argument(parsed, kwargs, message):
    base = iccc.ConceptBase.from_parsed(parsed)
    with pytest.raises(ValueError, match=message):
        balance_insertions(base, parsed, **kwargs)


def test_new_factors_give_the_records_of_a_fresh_base(parsed):
    """Assigning ``base.balance`` keeps the caches that do not depend on it (WordNet masks, context
    vectors) and drops the rest: the records must equal those of a fresh base with the same factors."""
    warm = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    balance_insertions(warm, parsed, rounds=1)
    engine = iccc.Corruptor(warm)
    engine.many(parsed, [np.random.default_rng(i) for i in range(len(parsed))])  # fill the caches
    factors = {k: {lemma: f * (2.0 if lemma.startswith("b") else 0.5) for lemma, f in v.items()}
               for k, v in warm.balance.items()}
    warm.balance = factors
    fresh = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    fresh.balance = factors
    for seed in range(3):
        def rngs(seed=seed):
            return [np.random.default_rng([seed, i]) for i in range(len(parsed))]

        assert iccc.Corruptor(warm).many(parsed, rngs()) == iccc.Corruptor(fresh).many(parsed, rngs())
