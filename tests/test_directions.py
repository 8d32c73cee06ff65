"""Direction balance (:mod:`iccc.operators._directions`): number and existence edits go about as
often one way as the other, per noun for number, so the direction tells a text-only model nothing."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import numpy as np
import pytest

import iccc
from iccc.balance import calibrate_mix
from iccc.operators import DIRECTIONS_TABLE, CandidateIndex, Existence, Number
from iccc.operators import _directions as directions


def test_the_solver_thins_the_common_direction_to_the_rare_one():
    share = directions.solve({(1, 0): 80.0, (0, 1): 20.0})
    assert share.tolist() == pytest.approx([0.25, 1.0], abs=1e-4)
    # captions that offer both draw among their kept slots: the solver accounts for it
    sigs = {(1, 1): 40.0, (2, 0): 60.0, (0, 1): 5.0}
    share = directions.solve(sigs)
    assert share.max() == 1.0
    draws = directions._expected_draws(sigs, share)
    assert draws[0] == pytest.approx(draws[1], rel=1e-3)
    # a direction nobody offers leaves the other FLOOR expected edits, not zero, not all
    share = directions.solve({(3, 0): 10.0})
    assert directions._expected_draws({(3, 0): 10.0}, share)[0] == pytest.approx(directions.FLOOR, rel=1e-3)


def test_tables_are_keyed_by_group_and_direction():
    shares, captions = directions.tables([Number()], {
        "number|entity": {(1, 0): 80.0, (0, 1): 20.0},
        "number|entity|dog": {(1, 0): 10.0, (0, 1): 10.0},
        "number|entity|frisbee": {(1, 0): 30.0},
    })
    assert shares["number|entity:plural"] == 0.25 and shares["number|entity:singular"] == 1.0
    assert captions == {"number|entity:plural": 80.0, "number|entity:singular": 20.0}
    # a balanced noun keeps an entry at 1.0; a one-way noun lists only what it thins
    assert shares["number|entity|dog:plural"] == 1.0 and "number|entity|dog:singular" not in shares
    assert shares["number|entity|frisbee:plural"] == pytest.approx(directions.FLOOR / 30, abs=1e-4)
    assert "number|entity|frisbee:singular" not in shares


def test_the_keep_value_is_a_pure_function_of_the_caption_and_the_group():
    a = directions.keep_value("A dog on a bench.", "number|entity|dog", "plural")
    assert a == directions.keep_value("A dog on a bench.", "number|entity|dog", "plural")
    assert 0.0 <= a < 1.0
    values = {directions.keep_value(f"A dog on bench {k}.", "number|entity|dog", "plural") for k in range(200)}
    assert len(values) == 200 and 0.35 < np.mean(list(values)) < 0.65


@pytest.fixture(scope="module")
def karpathy(nlp, coco_dir):
    with gzip.open(coco_dir / "coco_karpathy_test.json.gz", "rt", encoding="utf-8") as f:
        recs = json.load(f)[:600]
    captions = [c.strip() for r in recs for c in r["caption"]]
    parsed = iccc.parse(captions, nlp=nlp)
    base = iccc.ConceptBase.from_parsed(parsed)
    calibrate_mix(base, parsed)
    return parsed, base


@pytest.mark.model
def test_number_edits_are_balanced_on_real_captions(karpathy):
    parsed, base = karpathy
    table = base.balance[DIRECTIONS_TABLE]
    assert table["number|entity:plural"] < 0.6 and table["number|entity:singular"] == 1.0  # COCO: mostly singular
    captions = base.balance[f"{DIRECTIONS_TABLE}:captions"]
    assert captions["number|entity:plural"] > 2 * captions["number|entity:singular"]
    op, index = Number(), CandidateIndex.of(base)
    raw, drawn = Counter(), Counter()
    engine = iccc.Corruptor(base, operations=["number"])
    for k, p in enumerate(parsed):
        for s in op.slots(p, index):
            raw[op.direction(p, s)] += 1
        kept = op.prepare(p, index).slots
        assert set(kept) <= set(op.slots(p, index))
        record = engine.one(p, rng=np.random.default_rng(k))
        if record is None:
            continue
        (s,) = [s for s in kept if op.apply(p, s, op.plan(p, s.i).labels[0]).start == record.start][:1] or [None]
        if s is not None:
            drawn[op.direction(p, s)] += 1
    assert raw["plural"] > 3 * raw["singular"]  # what the captions offer
    total = drawn["plural"] + drawn["singular"]
    assert total > 300 and abs(drawn["plural"] / total - 0.5) < 0.1  # what the engine draws


@pytest.mark.model
def test_thinning_is_the_same_in_every_process_and_seen_by_the_mix_calibration(karpathy):
    parsed, base = karpathy
    op, index = Number(), CandidateIndex.of(base)
    again = iccc.ConceptBase.from_json(base.to_json())
    assert [op.prepare(p, index).slots for p in parsed[:300]] == \
        [op.prepare(p, CandidateIndex.of(again)).slots for p in parsed[:300]]
    feasible = np.mean([bool(op.prepare(p, index).slots) for p in parsed if p.status == "ok"])
    assert iccc.Corruptor(base, operations=["replace", "number"]).mix.feasible["number"] == pytest.approx(feasible, abs=0.01)
    # a base without the table keeps every slot
    plain = iccc.ConceptBase.from_parsed(parsed)
    assert all(op.prepare(p, CandidateIndex.of(plain)).slots == op.slots(p) for p in parsed[:300])


def test_existence_directions(nlp):
    parsed = iccc.parse(["A man with a hat.", "A man without a hat.", "There is no dog on the bed."], nlp=nlp)
    op = Existence()
    found = [[op.direction(p, s) for s in op.slots(p)] for p in parsed]
    assert found == [["negate"], ["affirm"], ["affirm"]]
    # one construction is one group across the kinds: "with a hat" (a relation slot) is balanced
    # against "with no hats" (an entity slot), "There is no dog" against "There is a dog"
    more = iccc.parse(["A man with no hats.", "There is a dog on the bed."], nlp=nlp)
    groups = {directions.group_of(op, p, s) for p in (parsed[0], more[0]) for s in op.slots(p)}
    assert groups == {"existence|*|with"}
    assert {directions.group_of(op, p, s) for p in (parsed[2], more[1]) for s in op.slots(p)} == {"existence|*|there"}
    # operators that do not span kinds keep the kind in the group
    assert all(directions.group_of(Number(), p, s).startswith("number|entity") for p in more for s in Number().slots(p))
