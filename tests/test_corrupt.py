"""``corrupt()``: one caption, or a ``Dataset.map`` function that keeps every row and is
reproducible for any ``num_proc`` and batch size."""

from __future__ import annotations

import numpy as np
import pytest

import iccc
from iccc import ConceptBase, Corruptor, ParsedCaption, corrupt
from iccc.base import content_words
from iccc.corrupt import RECORD_COLUMNS, STATUS_COLUMN, corruption_features, row_stream

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def base(engine_base):
    return engine_base


@pytest.fixture(scope="module")
def dog_chasing_cat(engine_parsed) -> ParsedCaption:
    return next(p for p in engine_parsed if p.text == "A dog chasing a cat in a yard.")


# ------------------------------------------------------------------------------ one caption


def test_corrupt_a_parsed_caption_and_a_string(base, dog_chasing_cat, nlp):
    record = corrupt(dog_chasing_cat, concepts=base, seed=0)
    assert isinstance(record, iccc.Corruption)
    assert record.caption == dog_chasing_cat.text != record.corrupted_caption
    # a string is parsed first; the result is the same as for its parse
    assert corrupt(dog_chasing_cat.text, concepts=base, seed=0, nlp=nlp) == record


def test_seed_and_rng_give_the_engine_s_draw(base, dog_chasing_cat):
    by_seed = [corrupt(dog_chasing_cat, concepts=base, seed=s) for s in range(20)]
    by_rng = [corrupt(dog_chasing_cat, concepts=base, rng=np.random.default_rng(s)) for s in range(20)]
    by_engine = [Corruptor(base).one(dog_chasing_cat, rng=np.random.default_rng(s)) for s in range(20)]
    assert by_seed == by_rng == by_engine
    assert len({r.corrupted_caption for r in by_seed}) > 1  # seeds matter


def test_seed_and_rng_together_are_refused(base, dog_chasing_cat):
    with pytest.raises(ValueError, match="Pass either `seed` or `rng`, not both."):
        corrupt(dog_chasing_cat, concepts=base, seed=0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seeds(base, dog_chasing_cat, seed):
    with pytest.raises(ValueError, match=r"`seed` should be a non-negative integer or None, got"):
        corrupt(dog_chasing_cat, concepts=base, seed=seed)


def test_bad_rng_and_input_types(base, dog_chasing_cat):
    with pytest.raises(TypeError, match="`rng` must be a numpy.random.Generator, got int"):
        corrupt(dog_chasing_cat, concepts=base, rng=3)
    with pytest.raises(TypeError, match="`caption_or_parsed` must be a caption string"):
        corrupt(42, concepts=base, seed=0)
    with pytest.raises(TypeError, match="`concepts` must be an iccc.ConceptBase, got dict"):
        corrupt(dog_chasing_cat, concepts={}, seed=0)


def test_unknown_operation_lists_the_available_ones(base, dog_chasing_cat):
    with pytest.raises(ValueError) as err:
        corrupt(dog_chasing_cat, concepts=base, seed=0, operations=["shuffle"])
    assert str(err.value) == "Unknown operation 'shuffle'. Available: 'replace', 'swap', 'add', 'number', 'existence'."
    with pytest.raises(ValueError, match="`operations` must name at least one"):
        Corruptor(base, operations=[])


def test_empty_concept_base_is_refused(dog_chasing_cat):
    with pytest.raises(ValueError, match="The concept base is empty"):
        corrupt(dog_chasing_cat, concepts=ConceptBase(), seed=0)
    # swaps need no base
    assert corrupt(dog_chasing_cat, concepts=ConceptBase(), seed=0, operations=["swap"]).operation == "swap"


def test_kinds_the_base_lacks_or_the_operations_do_not_support(make_caption, dog_chasing_cat):
    nouns_only = ConceptBase.from_parsed(
        [make_caption(f"A {w}.", ("noun", w, w, "NN")) for w in ("dog", "cat", "cow")], above_mean=False
    )
    with pytest.raises(ValueError, match=r"has no concepts of kind\(s\) \['count'\]\. It has: 'noun'"):
        corrupt(dog_chasing_cat, concepts=nouns_only, seed=0, kinds=["count"])
    with pytest.raises(ValueError, match=r"Kind\(s\) \['count'\] not supported by operations \['swap'\]"):
        corrupt(dog_chasing_cat, concepts=nouns_only, seed=0, kinds=["count"], operations=["swap"])
    record = corrupt(dog_chasing_cat, concepts=nouns_only, seed=0, kinds="noun", operations=["replace"])
    assert record.concept_kind == "noun"


@pytest.mark.parametrize(
    "config, message",
    [
        ({"p_swap": 1.5}, "`p_swap` should be a probability in [0, 1], got 1.5."),
        ({"p_swap": -0.1}, "`p_swap` should be a probability in [0, 1], got -0.1."),
        ({"p_add": "0.2"}, "`p_add` should be a probability in [0, 1], got '0.2'."),
        ({"p_swap": 0.7, "p_add": 0.6, "operations": ["replace", "swap", "add"]}, "must be at most 1"),
    ],
)
def test_probabilities_out_of_range(base, dog_chasing_cat, config, message):
    with pytest.raises(ValueError) as err:
        corrupt(dog_chasing_cat, concepts=base, seed=0, **config)
    assert message in str(err.value)


def test_operation_shares_follow_p_swap_and_p_add(engine_parsed, nlp):
    # a base where the caption's swap is plausible (both orders seen); it has no mix
    # calibration, so a caption that allows both gets a swap with probability p_swap
    chases = iccc.parse(["A dog in the sand chasing a cat.", "A cat in the sand chasing a dog."], nlp=nlp)
    base = ConceptBase.from_parsed(list(engine_parsed) + chases * 5, above_mean=False)
    caption = chases[0]
    assert not Corruptor(base).mix.calibrated

    def operations(**config):
        engine = Corruptor(base, **config)
        return [engine.one(caption, rng=np.random.default_rng(s)).operation for s in range(300)]

    default = operations()
    assert 0.05 < default.count("swap") / 300 < 0.3  # the paper's 0.15
    assert set(operations(operations=["replace", "swap", "add"], p_swap=0.0, p_add=1.0)) == {"add"}
    assert set(operations(operations=["replace", "swap"], p_swap=1.0)) == {"swap"}


def test_captions_without_concepts_give_none(base, nlp):
    assert corrupt(ParsedCaption("Hello there.", (), "no_concepts"), concepts=base, seed=0) is None
    assert corrupt("Hello there.", concepts=base, seed=0, nlp=nlp) is None


def test_sibling_guard_for_one_caption(base, engine_rows, engine_parsed):
    row, parsed = engine_rows[0], engine_parsed[0]  # image 1: a dog on a couch, five captions
    words = base.group_words(row["image_id"])
    assert {"sofa", "couch", "puppy"} <= words
    for seed in range(40):
        record = corrupt(parsed, concepts=base, seed=seed, group=row["image_id"], operations=["replace"])
        assert not content_words(record.replacement) & words


def test_a_saved_and_loaded_base_gives_the_same_corruptions(base, engine_parsed, tmp_path):
    base.save(tmp_path / "base.json.gz")
    loaded = ConceptBase.load(tmp_path / "base.json.gz")
    for k, parsed in enumerate(engine_parsed[:40]):
        assert corrupt(parsed, concepts=loaded, seed=k) == corrupt(parsed, concepts=base, seed=k)


# ------------------------------------------------------------------------------ Dataset.map

ODD_CAPTIONS = [None, "", "   ", "这是一只猫在沙发上。", "Hello there."]
ODD_STATUSES = ["missing", "empty", "empty", "non_english", "no_concepts"]


@pytest.fixture(scope="module")
def dataset(engine_rows, nlp):
    datasets = pytest.importorskip("datasets")
    captions = [r["caption"] for r in engine_rows] + ODD_CAPTIONS
    ids = [r["image_id"] for r in engine_rows] + [0] * len(ODD_CAPTIONS)
    ds = datasets.Dataset.from_dict({"caption": captions, "image_id": ids})
    return iccc.add_concepts(ds, nlp=nlp)


@pytest.fixture(scope="module")
def features(dataset):
    from datasets import Features

    return Features({**dataset.features, **corruption_features()})


def _map(dataset, base, features, **kwargs):
    fn_kwargs = {"concepts": base, "seed": 0, **kwargs.pop("fn_kwargs", {})}
    return dataset.map(corrupt, batched=True, with_indices=True, fn_kwargs=fn_kwargs, features=features,
                       load_from_cache_file=False, **kwargs)


@pytest.fixture(scope="module")
def mapped(dataset, base, features):
    return _map(dataset, base, features)


def test_map_keeps_every_row_and_gives_each_a_status(dataset, mapped):
    assert len(mapped) == len(dataset)
    assert set(RECORD_COLUMNS) | {STATUS_COLUMN} <= set(mapped.column_names)
    assert mapped["caption"] == dataset["caption"]
    statuses = mapped[STATUS_COLUMN]
    assert statuses[-len(ODD_CAPTIONS):] == ODD_STATUSES
    for row in mapped.select(range(len(dataset) - len(ODD_CAPTIONS), len(dataset))):
        assert all(row[name] is None for name in RECORD_COLUMNS)
    assert statuses[: -len(ODD_CAPTIONS)].count("ok") >= len(statuses) - len(ODD_CAPTIONS) - 2
    for row in mapped:
        if row[STATUS_COLUMN] == "ok":
            assert row["corrupted_caption"] != row["caption"]
            assert row["corrupted_caption"][row["new_start"] : row["new_end"]] == row["replacement"]


def test_map_rows_match_corrupting_each_caption_alone(dataset, mapped, base):
    for k in range(0, len(dataset) - len(ODD_CAPTIONS), 9):
        parsed = ParsedCaption(dataset[k]["caption"], tuple(iccc.Concept.from_dict(c) for c in dataset[k]["concepts"]))
        record = Corruptor(base).one(parsed, rng=row_stream(0, 0, k))
        assert mapped[k]["corrupted_caption"] == (record.corrupted_caption if record else None)


def test_many_gives_the_records_of_one_row_by_row(engine_parsed, engine_rows):
    """``Corruptor.many`` defers weight computation to one matrix per pool and reruns the rows that
    waited; the records must equal ``one`` on each row, with fresh caches and warm ones, with row
    streams and with numpy Generators, and ``None`` rows stay ``None``."""
    from iccc.streams import Streams as RowStreams

    parsed = list(engine_parsed) + [None]
    groups = [r["image_id"] for r in engine_rows] + [None]
    assert len(groups) == len(parsed)
    for epoch in (0, 1):
        cold = iccc.ConceptBase.from_parsed(engine_parsed, groups=groups[:-1], above_mean=False)
        streams = RowStreams(5, epoch, range(len(parsed)))
        together = Corruptor(cold).many(parsed, [streams[k] for k in range(len(parsed))], groups)
        fresh = iccc.ConceptBase.from_json(cold.to_json())
        alone = [Corruptor(fresh).one(p, rng=row_stream(5, epoch, k), group=g) if p is not None else None
                 for k, (p, g) in enumerate(zip(parsed, groups))]
        assert together == alone
        assert together[-1] is None and sum(r is not None for r in together) >= len(parsed) - 3
        again = Corruptor(cold).many(parsed, [np.random.default_rng([epoch, k]) for k in range(len(parsed))], groups)
        assert again == [Corruptor(fresh).one(p, rng=np.random.default_rng([epoch, k]), group=g) if p else None
                         for k, (p, g) in enumerate(zip(parsed, groups))]
    with pytest.raises(ValueError, match="`rngs` has 1 items"):
        Corruptor(cold).many(parsed, [row_stream(0, 0, 0)])


def test_unhashable_group_ids_work_like_their_string_form(engine_parsed):
    # image ids may come as lists from a dataset column; the base keys groups by str()
    parsed = list(engine_parsed[:12])
    base = iccc.ConceptBase.from_parsed(parsed, groups=[[k // 3] for k in range(12)], above_mean=False)
    for k, p in enumerate(parsed):
        as_list = corrupt(p, concepts=base, seed=k, group=[k // 3])
        assert as_list == corrupt(p, concepts=base, seed=k, group=str([k // 3]))


def test_row_streams_do_not_depend_on_the_batch():
    from iccc.streams import Streams as RowStreams

    whole = RowStreams(3, 1, range(40))
    for start, stop in ((0, 1), (5, 12), (39, 40)):
        part = RowStreams(3, 1, range(start, stop))
        for k in range(stop - start):
            a, b = whole[start + k], part[k]
            assert [a.random() for _ in range(20)] == [b.random() for _ in range(20)]  # past the precomputed
    firsts = [whole[k].random() for k in range(40)]
    assert len(set(firsts)) == 40 and all(0.0 <= u < 1.0 for u in firsts)
    assert row_stream(3, 1, 7).random() != row_stream(3, 2, 7).random() != row_stream(4, 1, 7).random()
    # 128-bit entropy (seed=None in a map) is a valid seed too
    assert 0.0 <= row_stream(2**127 + 5, 0, 0).random() < 1.0


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_row_stream_arguments(bad):
    with pytest.raises(ValueError, match=r"`row` should be a non-negative integer, got"):
        row_stream(0, 0, bad)


def test_map_rejects_a_bad_epoch(dataset, base):
    with pytest.raises(ValueError, match=r"`epoch` should be a non-negative integer, got -1"):
        corrupt(dataset[:4], list(range(4)), concepts=base, seed=0, epoch=-1)


def test_engine_caches_follow_the_caption_content(base, dog_chasing_cat):
    """Per-caption caches are keyed by the whole row: a row with other concepts is another caption."""
    engine = Corruptor(base, operations=["replace"])
    entities = [c.to_dict() for c in dog_chasing_cat.concepts if c.kind == "entity"]  # they point nowhere
    rows = {"caption": [dog_chasing_cat.text] * 2,
            "concepts": [[c.to_dict() for c in dog_chasing_cat.concepts], entities]}
    kinds = set()
    for index in range(30):  # each row a second time from the caches
        for _ in range(2):
            out = engine.batch(rows, [index, index], seed=1)
            assert out[STATUS_COLUMN] == ["ok", "ok"]
            assert out["concept_kind"][1] == "entity"
            kinds.add(out["concept_kind"][0])
    assert len(kinds) > 1


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_map_is_the_same_for_any_batch_size(dataset, mapped, base, features, batch_size):
    assert _map(dataset, base, features, batch_size=batch_size).to_list() == mapped.to_list()


@pytest.mark.slow
def test_map_is_the_same_for_any_number_of_processes(dataset, mapped, base, features):
    two = _map(dataset, base, features, num_proc=2, batch_size=16)
    assert two.to_list() == mapped.to_list()


def test_map_without_batching(dataset, mapped, base, features):
    single = dataset.map(corrupt, with_indices=True, fn_kwargs={"concepts": base, "seed": 0}, features=features,
                         load_from_cache_file=False)
    assert single.to_list() == mapped.to_list()


def test_map_needs_the_indices(dataset, base):
    with pytest.raises(ValueError, match="with_indices=True"):
        corrupt(dataset[:4], concepts=base, seed=0)


def test_epochs_draw_new_corruptions(dataset, mapped, base, features):
    again = _map(dataset, base, features, fn_kwargs={"epoch": 0})
    assert again.to_list() == mapped.to_list()
    other = _map(dataset, base, features, fn_kwargs={"epoch": 1})
    before, after = mapped["corrupted_caption"], other["corrupted_caption"]
    changed = sum(a != b for a, b in zip(before, after))
    assert changed > len(before) // 3
    assert [s == "ok" for s in other[STATUS_COLUMN]] == [s == "ok" for s in mapped[STATUS_COLUMN]]


def test_map_parses_on_the_fly_without_a_concepts_column(dataset, mapped, base, nlp):
    plain = dataset.remove_columns(["concepts", "parse_status"])
    out = plain.map(corrupt, batched=True, with_indices=True, fn_kwargs={"concepts": base, "seed": 0, "nlp": nlp},
                    load_from_cache_file=False)
    assert out["corrupted_caption"] == mapped["corrupted_caption"]
    assert out[STATUS_COLUMN][-len(ODD_CAPTIONS):] == ODD_STATUSES


def test_map_with_a_group_column_applies_the_sibling_guard(dataset, base, features):
    grouped = _map(dataset, base, features, fn_kwargs={"group_column": "image_id", "operations": ["replace"]})
    ungrouped = _map(dataset, base, features, fn_kwargs={"operations": ["replace"]})
    leaks = 0
    for with_group, without in zip(grouped, ungrouped):
        if with_group[STATUS_COLUMN] != "ok":
            continue
        words = base.group_words(with_group["image_id"])
        assert not content_words(with_group["replacement"]) & words
        leaks += bool(content_words(without["replacement"]) & words)
    assert leaks > 0  # without the group column sibling words do get in: the guard is doing the work
    with pytest.raises(KeyError, match="Group column 'img' not found"):
        _map(dataset, base, features, fn_kwargs={"group_column": "img"})


# ------------------------------------------------------------------------------ real data


@pytest.mark.slow
def test_coverage_on_real_coco_captions(coco_val2017_rows, nlp):
    """At least 98% of 2,000 COCO val2017 captions get a corruption with the default settings."""
    parsed = iccc.parse([r["caption"] for r in coco_val2017_rows], nlp=nlp)
    groups = [r["image_id"] for r in coco_val2017_rows]
    real_base = ConceptBase.from_parsed(parsed, groups=groups)
    engine = Corruptor(real_base)
    records = [engine.one(p, rng=np.random.default_rng([0, k]), group=g) for k, (p, g) in enumerate(zip(parsed, groups))]
    coverage = sum(r is not None for r in records) / len(records)
    assert coverage >= 0.98, f"coverage {coverage:.1%}"
    assert any(r is not None and r.operation == "swap" for r in records)
