"""Swaps at the share the user asks for: the mix plan (:class:`iccc.corrupt.MixPlan`), its
calibration on the data (:func:`iccc.balance.calibrate_mix`), the draws that follow it, the
summary that reports it, and the same rows for any ``num_proc``, batch size or mode."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import build_caption

datasets = pytest.importorskip("datasets")
from datasets import Dataset  # noqa: E402

import iccc  # noqa: E402
from iccc import ConceptBase, Corruptor  # noqa: E402
from iccc.balance import calibrate_mix  # noqa: E402
from iccc.corrupt import DEFAULT_MIX, DEFAULT_OPERATIONS, MIX_TABLE, MixPlan, requested_shares  # noqa: E402
from iccc.dataset import build_dataset, build_summary, concept_base, format_summary  # noqa: E402
from iccc.streams import Streams  # noqa: E402

#: The operations of the swap-share tests (the default mix has more; these isolate the swaps).
SWAPS = ("replace", "swap")


# ------------------------------------------------------------------------------ the plan alone
def _table(**patterns):
    return {"@replace": 1.0, "@swap": 1.0, "@add": 1.0, **{k.replace("__", ","): v for k, v in patterns.items()}}


def test_the_rates_give_each_operation_its_share_where_the_captions_allow_it():
    # a swap is possible in 30% of the captions: those get one half of the time
    table = _table(**{"replace:noun": 70.0, "replace:noun__swap:noun": 30.0})
    plan = MixPlan({"replace": 0.85, "swap": 0.15}, table)
    assert plan.calibrated and plan.rows == 100
    assert plan.feasible == {"replace": 1.0, "swap": 0.3}
    assert plan.expected["swap"] == pytest.approx(0.15, abs=1e-8)
    assert plan.conditional()["swap"] == pytest.approx(0.5, abs=1e-7)
    assert plan.probabilities(["replace", "swap"])["swap"] == pytest.approx(0.5, abs=1e-7)
    assert plan.probabilities(["replace"]) == {"replace": 1.0}
    assert plan.explain() == ["replace: requested 0.85, achieved 0.85", "swap: requested 0.15, achieved 0.15"]


def test_an_unreachable_share_is_given_every_caption_that_allows_it_and_explained():
    table = _table(**{"replace:noun": 90.0, "replace:noun__swap:noun": 8.0, "swap:relation": 2.0})
    plan = MixPlan({"replace": 0.85, "swap": 0.15}, table)
    assert plan.expected["swap"] == pytest.approx(0.10, abs=1e-6)  # 8 + 2 of the 100 captions
    assert plan.conditional()["swap"] == pytest.approx(1.0, abs=1e-6)
    lines = plan.explain({"replace": 0.9, "swap": 0.1})
    assert lines[1] == "swap: requested 0.15, achieved 0.10: only 10% of the captions allow a swap"
    assert lines[0].endswith("it takes the corrections swap could not make")
    # a share under 1% is not shown as 0%
    rare = MixPlan({"replace": 0.85, "swap": 0.15},
                   _table(**{"replace:noun": 996.0, "replace:noun__swap:noun": 4.0}))
    assert rare.explain()[1].endswith("only 0.4% of the captions allow a swap"), rare.explain()


def test_the_others_keep_their_ratio_when_one_share_is_unreachable():
    table = _table(**{"replace:noun__add:attribute": 90.0, "replace:noun__swap:noun": 10.0})
    plan = MixPlan({"replace": 0.7, "swap": 0.15, "add": 0.15}, table)
    assert plan.expected["swap"] == pytest.approx(0.10, abs=1e-6)
    assert plan.expected["replace"] / plan.expected["add"] == pytest.approx(0.7 / 0.15, rel=1e-4)


def test_only_the_configured_kinds_count():
    # the swaps of this table are all of attributes: an engine swapping nouns only has none
    table = _table(**{"replace:noun": 50.0, "replace:noun__swap:attribute": 50.0})
    assert MixPlan({"replace": 0.85, "swap": 0.15}, table).feasible["swap"] == 0.5
    assert MixPlan({"replace": 0.85, "swap": 0.15}, table, {"swap": ("noun",)}).feasible["swap"] == 0.0


def test_without_a_calibration_the_shares_are_tried_first():
    plan = MixPlan({"replace": 0.85, "swap": 0.15})
    assert not plan.calibrated and plan.feasible is None
    assert plan.probabilities(["replace", "swap"])["swap"] == pytest.approx(0.15)
    assert "no mix calibration" in plan.explain({"replace": 1.0, "swap": 0.0})[1]
    # a table that did not measure an operation the engine uses is not used
    assert not MixPlan({"replace": 0.5, "swap": 0.5}, {"@replace": 1.0, "replace:noun": 3.0}).calibrated


def test_requested_shares_and_the_mix_table():
    assert DEFAULT_MIX["swap"] == 0.15 and DEFAULT_OPERATIONS == ("replace", "swap", "add", "number", "existence")
    assert requested_shares() == pytest.approx({"replace": 0.67, "swap": 0.15, "add": 0.03, "number": 0.1, "existence": 0.05})
    assert list(requested_shares()) == list(DEFAULT_OPERATIONS)
    assert requested_shares(SWAPS) == {"replace": 0.85, "swap": 0.15}
    assert requested_shares(["replace", "swap", "add"], p_add=0.1) == pytest.approx(
        {"replace": 0.75, "swap": 0.15, "add": 0.1})
    assert requested_shares(["replace", "swap"], mix={"replace": 1.0, "swap": 1.0}) == {
        "replace": 0.5, "swap": 0.5}
    assert requested_shares(["replace", "swap"], p_swap=0.0) == {"replace": 1.0}  # never drawn, not even as a fallback
    assert requested_shares(["swap"], p_swap=0.0) == {"swap": 1.0}  # asked for by name
    with pytest.raises(ValueError, match=r"Unknown operation 'shuffle' in `mix`\. Available: 'replace', 'swap', 'add', 'number', 'existence'"):
        requested_shares(mix={"shuffle": 0.1})
    with pytest.raises(ValueError, match=r"`mix\['add'\]` should be a probability in \[0, 1\], got 2"):
        requested_shares(["replace", "add"], mix={"add": 2})
    with pytest.raises(ValueError, match="`mix` gives 'add' a share but `operations`"):
        requested_shares(["replace", "swap"], mix={"add": 0.1})
    with pytest.raises(ValueError, match="in `mix` or as `p_swap`, not both"):
        requested_shares(mix={"swap": 0.2}, p_swap=0.3)
    with pytest.raises(TypeError, match="`mix` should be a mapping"):
        requested_shares(mix=[("swap", 0.2)])


# ------------------------------------------------------------------------------ a hand-built set
def _chase(a: str, b: str):
    text = f"A {a} chasing a {b}."
    return build_caption(
        text,
        ("entity", f"A {a}", f"a {a}", "NN", {"tags": "DT NN", "dep": "nsubj"}),
        ("noun", a, a, "NN", {"head": 0}),
        ("relation", "chasing", "chase", "VBG", {"subj": 0, "obj": 3}),
        ("entity", f"a {b}", f"a {b}", "NN", {"tags": "DT NN", "dep": "dobj", "after": text.index("chasing")}),
        ("noun", b, b, "NN", {"head": 3, "after": text.index("chasing")}),
    )


def _thing(attribute: str, noun: str):
    text = f"A {attribute} {noun}."
    return build_caption(
        text,
        ("entity", f"A {attribute} {noun}", f"a {attribute} {noun}", "NN", {"tags": "DT JJ NN", "dep": "ROOT"}),
        ("attribute", attribute, attribute, "JJ", {"head": 2}),
        ("noun", noun, noun, "NN", {"head": 0}),
    )


@pytest.fixture(scope="module")
def hand_built():
    """200 captions: 20% "A dog chasing a cat." and the other way round (a plausible swap), 80% "A red car."-like
    ones (replacements only; other animals, so that a dog can be replaced); a base of them, calibrated."""
    chases = [_chase(*pair) for pair in (("dog", "cat"), ("cat", "dog"))] * 20
    things = [_thing(a, n) for a in ("red", "blue", "green", "white") for n in ("car", "bus", "truck", "van")] * 9
    animals = [_thing(a, n) for a in ("brown", "black") for n in ("horse", "cow", "sheep", "goat")] * 2
    parsed = chases + things + animals
    base = ConceptBase.from_parsed(parsed, above_mean=False)
    calibrate_mix(base, parsed)
    return parsed, base


def _shares(engine, parsed, epochs=range(3)):
    counts = Counter()
    for epoch in epochs:
        streams = Streams(0, epoch, range(len(parsed)))
        records = engine.many(parsed, [streams[i] for i in range(len(parsed))])
        counts.update(r.operation for r in records if r is not None)
    total = sum(counts.values())
    return {op: n / total for op, n in counts.items()}


def test_the_calibration_counts_what_each_caption_allows(hand_built):
    parsed, base = hand_built
    table = base.balance[MIX_TABLE]
    assert {k for k in table if k.startswith("@")} == {"@replace", "@swap", "@add", "@number", "@existence"}
    swappable = sum(v for k, v in table.items() if "swap:" in k)
    assert swappable == 40 and sum(v for k, v in table.items() if not k.startswith("@")) == 200
    assert Corruptor(base).mix.feasible["swap"] == pytest.approx(0.2)


@pytest.mark.parametrize("p_swap", [0.1, 0.15])
def test_the_achieved_share_is_the_requested_one_on_a_hand_built_set(hand_built, p_swap):
    parsed, base = hand_built
    engine = Corruptor(base, operations=SWAPS, p_swap=p_swap)
    assert engine.mix.expected["swap"] == pytest.approx(p_swap, abs=1e-6)
    got = _shares(engine, parsed)
    assert abs(got["swap"] - p_swap) < 0.035  # 600 draws: 3.5 sd at 0.15
    # the swap-capable captions are the ones swapped: P(swap | possible) = p_swap / 0.2
    assert engine.mix.conditional()["swap"] == pytest.approx(p_swap / 0.2, abs=1e-6)


def test_above_what_the_captions_allow_every_swap_capable_caption_is_swapped(hand_built):
    parsed, base = hand_built
    engine = Corruptor(base, operations=SWAPS, p_swap=0.5)
    got = _shares(engine, parsed, epochs=[0])
    assert got["swap"] == pytest.approx(0.2)  # all 40 chases, every time
    assert engine.mix.explain(got)[1] == "swap: requested 0.50, achieved 0.20: only 20% of the captions allow a swap"


def test_p_swap_zero_gives_no_swap(hand_built):
    parsed, base = hand_built
    engine = Corruptor(base, operations=SWAPS, p_swap=0.0)
    assert [name for name, _ in engine.plan.operators] == ["replace"]
    assert "swap" not in _shares(engine, parsed)


def test_an_uncalibrated_base_tries_the_shares_first(hand_built):
    parsed, _ = hand_built
    plain = ConceptBase.from_parsed(parsed, above_mean=False)
    engine = Corruptor(plain)
    assert not engine.mix.calibrated
    got = _shares(engine, parsed)
    assert abs(got["swap"] - 0.2 * 0.15) < 0.02  # the swap-capable fifth, 15% of the time


# ------------------------------------------------------------------------------ widened swaps
def test_attribute_binding_across_categories_when_plausible(make_caption):
    # colours and materials both go with cars and benches in this base: trading them is plausible
    def pair(a, n, b, m):
        text = f"A {a} {n} next to a {b} {m}."
        after = text.index("next")
        return make_caption(
            text,
            ("entity", f"A {a} {n}", f"a {a} {n}", "NN", {"tags": "DT JJ NN", "dep": "nsubj"}),
            ("attribute", a, a, "JJ", {"head": 2}),
            ("noun", n, n, "NN", {"head": 0}),
            ("relation", "next to", "next to", "IN", {"subj": 0, "obj": 4, "symmetric": True}),
            ("entity", f"a {b} {m}", f"a {b} {m}", "NN", {"tags": "DT JJ NN", "dep": "pobj", "after": after}),
            ("attribute", b, b, "JJ", {"head": 6, "after": after}),
            ("noun", m, m, "NN", {"head": 4, "after": after}),
        )

    captions = [pair(a, n, b, m) for a, b in (("red", "wooden"), ("wooden", "red"))
                for n, m in (("car", "bench"), ("bench", "car"))] * 5
    base = ConceptBase.from_parsed(captions, above_mean=False)
    caption = captions[0]  # "A red car next to a wooden bench."
    assert iccc.semantics.category("red", "attribute") != iccc.semantics.category("wooden", "attribute")
    slots = iccc.Swap(["attribute"]).slots(caption, base)
    assert [(caption.concepts[s.i].lemma, caption.concepts[s.j].lemma) for s in slots] == [("red", "wooden")]
    record = iccc.Swap(["attribute"])(caption, base, rng=np.random.default_rng(0))
    assert record.corrupted_caption == "A wooden car next to a red bench."
    # kept to one category on request, or without a context model to judge by
    assert iccc.Swap(["attribute"], same_category=True).slots(caption, base) == []
    assert iccc.Swap(["attribute"], use_context=False).slots(caption, base) == []


def test_an_implausible_swap_is_not_made(make_caption):
    # "a table" is never chased, "a dog" never sits in a room: swapping them reads as nonsense
    def chase(a, b):
        return _chase(a, b)

    captions = [chase("dog", "cat"), chase("cat", "dog")] * 5 + [chase("dog", "ball"), chase("cat", "ball")] * 20
    base = ConceptBase.from_parsed(captions, above_mean=False)
    ball = captions[-1]  # "A cat chasing a ball."
    swap = iccc.Swap(["noun"])
    assert swap.slots(ball, base)  # listed (categories may differ) ...
    assert swap(ball, base, rng=np.random.default_rng(0)) is None  # ... but not plausible enough
    assert swap(captions[0], base, rng=np.random.default_rng(0)).corrupted_caption == "A cat chasing a dog."
    # with no data on the words at all, one category is the rule, as in the paper
    assert swap(captions[0], ConceptBase(), rng=np.random.default_rng(0)).corrupted_caption == "A cat chasing a dog."


# ------------------------------------------------------------------------------ real captions
@pytest.fixture(scope="module")
def coco(coco_val2017_rows, nlp):
    """The first 2,000 COCO val2017 captions, parsed, and their calibrated concept base."""
    ds = iccc.add_concepts(Dataset.from_list(coco_val2017_rows), nlp=nlp)
    base = concept_base([ds], group_column="image_id", balance=False)
    return ds, base


@pytest.mark.model
def test_swap_share_on_real_captions(coco):
    ds, base = coco
    out = build_dataset(ds, group_column="image_id", p_correction=1.0, balance=False, operations=SWAPS)
    s = build_summary(out)
    swap = s["mix"]["operations"]["swap"]
    assert s["mix"]["calibrated"] and swap["requested"] == 0.15
    assert 0.01 < swap["feasible"] < 0.5
    corrupted = sum(s["operations"].values())
    assert corrupted > 1900
    # as close to the request as the captions allow (2,000 draws: sd about 0.006)
    assert abs(swap["achieved"] - min(0.15, swap["feasible"])) < 0.025
    assert swap["achieved"] == s["swap_share"]
    if swap["feasible"] < 0.14:
        assert any("of the captions allow a swap" in line for line in s["mix"]["lines"])
        assert "of the captions allow a swap" in format_summary(s)
    # below what the captions allow, the share is the requested one
    half = round(swap["feasible"] / 2, 3)
    lower = build_summary(build_dataset(ds, concepts=base, group_column="image_id", p_correction=1.0, p_swap=half,
                                        operations=SWAPS))
    assert abs(lower["mix"]["operations"]["swap"]["achieved"] - half) < 0.02
    assert lower["mix"]["lines"] == []
    none = build_summary(build_dataset(ds, concepts=base, group_column="image_id", p_correction=1.0, p_swap=0.0,
                                       operations=SWAPS))
    assert "swap" not in none["operations"] and set(none["mix"]["operations"]) == {"replace"}


@pytest.mark.model
def test_the_same_rows_for_any_num_proc_batch_size_and_mode(coco):
    ds, base = coco
    small = ds.select(range(300))
    config = dict(concepts=base, group_column="image_id", p_correction=0.6, seed=3)
    one = build_dataset(small, num_proc=1, batch_size=1000, **config)
    assert Counter(one["operation"])["swap"] > 0  # the test would be vacuous without swaps
    two = build_dataset(small, num_proc=2, batch_size=17, **config)
    fly = build_dataset(small, mode="transform", batch_size=7, **config)
    assert one.to_list() == two.to_list()
    assert fly[:] == one[:]
    assert build_summary(fly) == build_summary(one)
    # a map of iccc.corrupt itself: the same for any batch size
    engine = dict(concepts=base, seed=5, group_column="image_id")
    a = small.map(iccc.corrupt, batched=True, with_indices=True, batch_size=1000, fn_kwargs=engine)
    b = small.map(iccc.corrupt, batched=True, with_indices=True, batch_size=9, num_proc=2, fn_kwargs=engine)
    assert a.to_list() == b.to_list() and "swap" in a["operation"]


@pytest.mark.model
def test_a_row_s_record_depends_on_its_stream_only(coco):
    ds, base = coco
    rows = ds.select(range(200))
    out = rows.map(iccc.corrupt, batched=True, with_indices=True, batch_size=50,
                   fn_kwargs=dict(concepts=base, seed=1, epoch=2, group_column="image_id"))
    from iccc.corrupt import _parsed_row
    from iccc.streams import stream

    engine = Corruptor(base)
    for k in range(0, 200, 13):
        parsed = _parsed_row(rows[k]["caption"], rows[k]["concepts"], {})
        alone = engine.one(parsed, rng=stream(1, 2, k), group=rows[k]["image_id"])
        assert (alone.corrupted_caption if alone else None) == out[k]["corrupted_caption"]
