"""Where the engine's state lives and when it is recomputed (iccc/operators/_index.py), and the one
stream derivation every entry point shares (iccc/streams.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from datasets import Dataset

import iccc
from iccc import ConceptBase, Corruptor, corrupt
from iccc.balance import balance_insertions
from iccc.operators import CandidateIndex, Replace, WeightRequest, candidate_weights
from iccc.streams import PURPOSES, Streams, stream

CAPTIONS = [
    "A red car on a street.", "A blue car on a road.", "A red bus on a street.", "A green bus near a road.",
    "A white car near a house.", "A black dog on a couch.", "A brown dog on a bed.", "A white cat on a bed.",
    "A black cat near a window.", "A small dog on a street.", "A large bus on a road.", "A yellow car near a tree.",
    "Two dogs chasing a cat in a yard.", "A man riding a horse on a beach.", "A woman holding an umbrella.",
]


@pytest.fixture(scope="module")
def parsed():
    return iccc.parse(CAPTIONS)


def _base(parsed):
    base = ConceptBase.from_parsed(parsed, above_mean=False)
    balance_insertions(base, parsed, rounds=1)
    return base


def _request(index, lemma="red"):
    return WeightRequest("attribute", "ATTR", lemma, ("noun:car",), False, True)


def _fresh_weights(base, request):
    """The weights of ``request`` from an index that has computed nothing before."""
    return candidate_weights(CandidateIndex(base), request)


def test_the_base_holds_no_engine_cache(parsed):
    base = _base(parsed)
    Corruptor(base).many(parsed, [stream(0, 0, i) for i in range(len(parsed))])
    assert not any(isinstance(v, dict) and v and "weights" in v for v in vars(base).values())
    assert set(vars(base)) <= {"min_count", "top_k", "above_mean", "keep_groups", "n_captions", "counts", "forms",
                               "contexts", "groups", "singulars", "revision", "balance_revision", "_derived", "_balance"}
    assert CandidateIndex.of(base).balanced.get("weights")  # the index has them


def test_new_balance_factors_give_new_weights(parsed):
    base = _base(parsed)
    index = CandidateIndex.of(base)
    before = candidate_weights(index, _request(index))
    pool, w, _ = before
    blue = pool.index["blue"]
    table = dict(base.balance.get("attribute", {}))
    table["blue"] = table.get("blue", 1.0) * 10
    base.balance = {**base.balance, "attribute": table}
    after = candidate_weights(index, _request(index))
    assert after[1][blue] / after[1].sum() > w[blue] / w.sum()
    assert np.array_equal(after[1], _fresh_weights(base, _request(index))[1])


def test_balance_factors_cannot_be_edited_in_place(parsed):
    base = _base(parsed)
    with pytest.raises(TypeError, match="read-only: assign new ones"):
        base.balance["noun"]["dog"] = 5.0
    with pytest.raises(TypeError, match="read-only"):
        base.balance["noun"] = {}
    with pytest.raises(TypeError, match="`balance` should be a mapping"):
        base.balance = [("noun", {})]


def test_an_added_caption_reaches_the_pools_and_weights(parsed):
    base = ConceptBase.from_parsed(parsed, above_mean=False)
    index = CandidateIndex.of(base)
    assert "purple" not in index.pool("attribute", "ATTR").index
    before = candidate_weights(index, _request(index))
    base.add(iccc.parse(["A purple car on a street."])[0])
    assert "purple" in index.pool("attribute", "ATTR").index
    after = candidate_weights(index, _request(index))
    assert len(after[1]) == len(before[1]) + 1
    assert np.array_equal(after[1], _fresh_weights(base, _request(index))[1])


def test_hand_edits_are_seen_after_changed(parsed):
    base = ConceptBase.from_parsed(parsed, above_mean=False)
    index = CandidateIndex.of(base)
    assert "teal" not in index.pool("attribute", "ATTR").index
    base.counts["attribute"]["teal"] += 3
    base.forms["attribute"]["teal"]["ATTR"]["teal"] += 3
    base.changed()
    assert "teal" in index.pool("attribute", "ATTR").index


def test_merged_and_reloaded_bases_draw_like_fresh_ones(parsed, tmp_path):
    base = _base(parsed)
    engine = Corruptor(base)
    records = [engine.one(p, rng=stream(1, 0, i)) for i, p in enumerate(parsed)]
    path = tmp_path / "base.json"
    base.save(path)
    loaded = ConceptBase.load(path)
    assert loaded.fingerprint() == base.fingerprint()
    assert [Corruptor(loaded).one(p, rng=stream(1, 0, i)) for i, p in enumerate(parsed)] == records
    other = ConceptBase.from_parsed(iccc.parse(["A purple tram on a bridge.", "An orange tram."]), above_mean=False)
    merged = base.merge(other)
    assert merged.fingerprint() != base.fingerprint()
    assert "tram" in CandidateIndex.of(merged).pool("noun", "NN").index
    assert "tram" not in CandidateIndex.of(base).pool("noun", "NN").index
    again = ConceptBase.from_json(merged.to_json())
    assert [Corruptor(merged).one(p, rng=stream(2, 0, i)) for i, p in enumerate(parsed)] == \
        [Corruptor(again).one(p, rng=stream(2, 0, i)) for i, p in enumerate(parsed)]


def test_pickle_and_fingerprint_follow_the_content(parsed):
    base = _base(parsed)
    first, print1 = pickle.dumps(base), base.fingerprint()
    assert pickle.dumps(base) == first  # computed once per revision
    table = dict(base.balance.get("attribute", {}))
    table["blue"] = 7.0
    base.balance = {**base.balance, "attribute": table}
    assert pickle.dumps(base) != first and base.fingerprint() != print1
    assert pickle.loads(pickle.dumps(base)).balance["attribute"]["blue"] == 7.0


def test_an_index_goes_with_its_base(parsed):
    import gc

    base = ConceptBase.from_parsed(parsed, above_mean=False)
    CandidateIndex.of(base).pool("noun", "NN")
    key = id(base)
    assert key in CandidateIndex._shared
    del base
    gc.collect()
    assert key not in CandidateIndex._shared


# --------------------------------------------------------------------------- one stream derivation
def _records(parsed, base, seed, epoch, rows):
    return [corrupt(p, concepts=base, rng=stream(seed, epoch, r)) for p, r in zip(parsed, rows)]


@pytest.mark.parametrize("batch_size", [1, 4, 100])
def test_every_entry_point_draws_the_same_stream(parsed, batch_size):
    base = _base(parsed)
    rows = list(range(len(parsed)))
    by_function = _records(parsed, base, 3, 2, rows)
    assert sum(r is not None for r in by_function) >= len(parsed) - 2
    engine = Corruptor(base)
    assert engine.many(parsed, [stream(3, 2, r) for r in rows]) == by_function
    ds = iccc.add_concepts(Dataset.from_dict({"caption": CAPTIONS}))
    mapped = ds.map(corrupt, batched=True, with_indices=True, batch_size=batch_size,
                    fn_kwargs={"concepts": base, "seed": 3, "epoch": 2}, load_from_cache_file=False)
    one_by_one = ds.map(corrupt, with_indices=True, fn_kwargs={"concepts": base, "seed": 3, "epoch": 2},
                        load_from_cache_file=False)
    for k, record in enumerate(by_function):
        for out in (mapped, one_by_one):
            assert out[k]["corrupted_caption"] == (record.corrupted_caption if record else None)
            assert out[k]["target"] == (record.target if record else None)


def test_purposes_are_independent_streams_and_batches_equal_single_rows():
    rows = [0, 5, 17, 2**40]
    for purpose in PURPOSES:
        batch = Streams(9, 1, rows, purpose)
        for k, r in enumerate(rows):
            a, b = batch[k], stream(9, 1, r, purpose)
            assert [a.random() for _ in range(12)] == [b.random() for _ in range(12)]
    firsts = {purpose: stream(9, 1, 5, purpose).random() for purpose in PURPOSES}
    assert len(set(firsts.values())) == len(PURPOSES)
    with pytest.raises(ValueError, match="`purpose` should be one of 'corrupt'"):
        stream(0, 0, 0, "prompts")


def test_row_streams_offer_the_generator_methods():
    s = stream(4, 0, 11)
    values = [s.integers(3, 9) for _ in range(400)]
    assert set(values) == set(range(3, 9))
    assert all(0 <= s.integers(5) < 5 for _ in range(50))
    assert s.choice(["a", "b", "c"]) in "abc" and 0 <= s.choice(4) < 4
    assert {s.choice(["x", "y"], p=[0.0, 1.0]) for _ in range(20)} == {"y"}
    items = list(range(10))
    s.shuffle(items)
    assert sorted(items) == list(range(10))
    assert sorted(s.permutation(6).tolist()) == list(range(6))
    assert s.random(3).shape == (3,) and 2.0 <= s.uniform(2.0, 3.0) < 3.0
    # the same draws again from the same (seed, epoch, row, purpose)
    t = stream(4, 0, 11)
    assert [t.integers(3, 9) for _ in range(400)] == values
    with pytest.raises(ValueError, match="`high` should be greater than `low`"):
        s.integers(3, 3)


def test_an_operator_using_generator_methods_works_with_a_map_stream(parsed):
    """Operators may call any Generator method the streams offer: here one that draws its slot
    with ``integers`` runs the same with a numpy Generator and with a map's row stream."""

    class FirstSlotByIntegers(Replace):
        def draw(self, prepared, index, rng, group=None):
            slots = prepared.slots
            if not slots:
                return None
            slot = slots[rng.integers(len(slots))]
            request = self.request(prepared, slot)
            (weights,) = yield (request,)
            opts = self.options(prepared, slot, index, group, weights)
            return None if opts is None else self.apply(prepared.parsed, slot, opts.labels[0])

    base = _base(parsed)
    op = FirstSlotByIntegers(["attribute"])
    for i, p in enumerate(parsed):
        op(p, base, rng=np.random.default_rng(i))
        a, b = op(p, base, rng=stream(0, 0, i)), op(p, base, rng=stream(0, 0, i))
        assert a == b
