"""``iccc.dataset.build_dataset``: correction + captioning samples as HF datasets, reproducible per
(seed, epoch, row) whatever the mode, ``num_proc`` or batch size; images never decoded; no row lost."""

from __future__ import annotations

import pytest

datasets = pytest.importorskip("datasets")

import iccc  # noqa: E402
from iccc.dataset import build_dataset, build_summary, concept_base, format_summary, set_epoch  # noqa: E402
from iccc.dataset._prompts import CAPTION_PROMPTS, CORRECTION_PROMPTS, NO_ERROR_TARGET  # noqa: E402

Dataset, DatasetDict, Features, Image, Value = (datasets.Dataset, datasets.DatasetDict, datasets.Features,
                                                datasets.Image, datasets.Value)

ODD_CAPTIONS = [None, "", "   ", "这是一只猫在沙发上。", "Hello there."]
ADDED = ["prompt", "target", "task", "corrupted_caption", "operation", "concept_kind", "original", "replacement",
         "build_status"]


@pytest.fixture(scope="module")
def rows(engine_rows):
    captions = [r["caption"] for r in engine_rows] + ODD_CAPTIONS
    ids = [r["image_id"] for r in engine_rows] + [0] * len(ODD_CAPTIONS)
    return [{"image_id": i, "caption": c, "note": f"row {k}", "image": f"images/{i}.jpg"}
            for k, (i, c) in enumerate(zip(ids, captions))]


@pytest.fixture(scope="module")
def plain(rows):
    return Dataset.from_list(rows)


@pytest.fixture(scope="module")
def parsed(plain, nlp):
    return iccc.add_concepts(plain, nlp=nlp)


@pytest.fixture(scope="module")
def base(parsed):
    return concept_base([parsed], group_column="image_id", seed=0)


def _build(ds, base, **kwargs):
    kwargs.setdefault("group_column", "image_id")
    kwargs.setdefault("load_from_cache_file", False)
    return build_dataset(ds, concepts=base, **kwargs)


@pytest.fixture(scope="module")
def built(parsed, base):
    return _build(parsed, base, p_correction=0.5, p_correct_caption=0.1)


def _columns(ds) -> dict:
    """Every column of a (possibly on-the-fly) dataset, as lists."""
    return ds[:]


# ---------------------------------------------------------------------------------- rows and columns
def test_every_row_and_column_is_kept(parsed, built, rows):
    assert len(built) == len(rows)
    assert set(ADDED) <= set(built.column_names)
    for name in ("image_id", "caption", "note", "image"):
        assert built[name] == [r[name] for r in rows]
    assert set(built["task"]) == {"correction", "caption"}
    assert all(s == "ok" or t == "caption" for s, t in zip(built["build_status"], built["task"]))


def test_correction_rows_show_the_corrupted_caption_exactly(built):
    n = 0
    for row in built:
        if row["task"] == "correction" and row["operation"] != "none":
            n += 1
            assert row["corrupted_caption"] != row["caption"]
            assert any(t.replace("{caption}", row["corrupted_caption"]) == row["prompt"] for t in CORRECTION_PROMPTS)
            record = iccc.Corruption(row["caption"], row["corrupted_caption"], row["operation"], row["concept_kind"],
                                     row["original"], row["replacement"], 0, 0, 0, 0)
            if row["operation"] == "replace":  # the statement is Corruption.target's
                assert row["target"] == record.target
            assert row["target"].endswith(".") and '"' in row["target"]
        elif row["task"] == "caption":
            assert row["prompt"] in CAPTION_PROMPTS
            assert row["target"] == (row["caption"].strip() if row["target"] is not None else None)
            assert row["corrupted_caption"] is None and row["operation"] is None
    assert n > 20


def test_correct_caption_samples(built):
    rows = [r for r in built if r["operation"] == "none"]
    assert rows
    for r in rows:
        assert r["task"] == "correction" and r["target"] == NO_ERROR_TARGET and r["corrupted_caption"] is None
        assert any(t.replace("{caption}", r["caption"]) == r["prompt"] for t in CORRECTION_PROMPTS)


def test_rows_that_cannot_be_corrupted_become_captioning_samples(parsed, base, rows):
    out = _build(parsed, base, p_correction=1.0)
    by_caption = dict(zip(out["note"], out.to_list()))
    odd = {r["note"]: r["caption"] for r in rows[-len(ODD_CAPTIONS):]}
    expected = {None: "missing", "": "empty", "   ": "empty", "这是一只猫在沙发上。": "non_english",
                "Hello there.": "no_concepts"}
    for note, caption in odd.items():
        row = by_caption[note]
        assert row["task"] == "caption" and row["build_status"] == expected[caption]
        assert row["target"] == (caption.strip() if caption and caption.strip() else None)
    summary = build_summary(out)
    assert summary["rows"] == len(rows)
    assert summary["unusable"] == 3
    assert summary["fallbacks"].get("non_english") == 1 and summary["fallbacks"].get("no_concepts", 0) >= 1
    assert summary["tasks"]["caption"] == sum(summary["fallbacks"].values()) + 3
    assert "became captioning" in format_summary(summary)


def test_target_formats(parsed, base):
    statement = _build(parsed, base, p_correction=1.0)
    caption = _build(parsed, base, p_correction=1.0, target_format="caption")
    both = _build(parsed, base, p_correction=1.0, target_format="both")
    for s, c, b in zip(statement, caption, both):
        assert s["prompt"] == c["prompt"] == b["prompt"]
        if s["task"] == "correction":
            assert c["target"] == s["caption"].strip()
            assert b["target"] == f"{s['target']} Corrected caption: {s['caption'].strip()}"


def test_custom_prompts_are_drawn_per_row(parsed, base):
    cap = ["Caption A.", "Caption B."]
    fix = ["Fix: {caption}", "What is wrong in «{caption}»?", "{caption} -- correct it."]
    out = _build(parsed, base, caption_prompts=cap, correction_prompts=fix, p_correction=0.5)
    used = set()
    for row in out:
        if row["task"] == "caption":
            assert row["prompt"] in cap
        else:
            matches = [t for t in fix if t.replace("{caption}", row["corrupted_caption"]) == row["prompt"]]
            assert matches
            used.update(matches)
    assert used == set(fix) and set(cap) <= set(out["prompt"])


def test_other_column_names(plain, base):
    ds = plain.rename_columns({"caption": "text", "image": "file"})
    out = _build(ds, base, caption_column="text", image_column="file", p_correction=0.5)
    assert out["caption"] == [t if isinstance(t, str) else None for t in ds["text"]]
    assert out["text"] == ds["text"] and out["image"] == ds["file"] and "file" not in out.column_names
    reference = _build(plain, base, p_correction=0.5)
    assert out["target"] == reference["target"] and out["prompt"] == reference["prompt"]


def test_parses_once_and_hides_what_it_added(plain, base, nlp):
    out = build_dataset(plain, concepts=base, nlp=nlp, group_column="image_id")
    assert "concepts" not in out.column_names and "parse_status" not in out.column_names
    kept = build_dataset(plain, concepts=base, nlp=nlp, group_column="image_id", keep_concepts=True)
    assert "concepts" in kept.column_names and kept["target"] == out["target"]


def test_captioning_only_needs_no_concepts(nlp):
    ds = Dataset.from_dict({"caption": ["Hello there.", "Hi."]})
    out = build_dataset(ds, p_correction=0.0, nlp=nlp)
    assert out["task"] == ["caption", "caption"] and out["target"] == ["Hello there.", "Hi."]
    with pytest.raises(ValueError, match="No caption in column 'caption' has concepts"):
        build_dataset(ds, nlp=nlp)


# ---------------------------------------------------------------------------------- reproducibility
def test_transform_mode_gives_the_materialised_rows(parsed, base, built):
    fly = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1, mode="transform")
    assert _columns(fly) == _columns(built)
    assert fly[7] == built[7]
    order = [5, 0, 99, 3]
    assert fly.select(order)[:] == built.select(order)[:]  # rows keep their draws when reordered


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_any_batch_size_gives_the_same_rows(parsed, base, built, batch_size):
    out = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1, batch_size=batch_size)
    assert out.to_list() == built.to_list()


def test_any_number_of_processes_gives_the_same_rows(parsed, base, built):
    out = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1, num_proc=2, batch_size=16)
    assert out.to_list() == built.to_list()


def test_epochs_draw_new_samples(parsed, base, built):
    again = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1)
    assert again.to_list() == built.to_list()
    other = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1, epoch=1)
    changed = sum(a != b for a, b in zip(other["prompt"], built["prompt"]))
    assert changed > len(built) // 2
    seed = _build(parsed, base, p_correction=0.5, p_correct_caption=0.1, seed=1)
    assert sum(a != b for a, b in zip(seed["prompt"], built["prompt"])) > len(built) // 2


def test_task_and_prompt_are_the_draws_of_the_sample_streams(built):
    """Row i's task is the first draw of its ``(seed, epoch, i, "sample")`` stream (below p_correction:
    a corruption; below p_correction + p_correct_caption: a correct caption), its prompt the second."""
    from iccc.dataset._prompts import fill
    from iccc.streams import stream

    kinds = set()
    for i, row in enumerate(built):
        draws = stream(0, 0, i, "sample")
        u = draws.random()
        if row["target"] is None:  # no usable caption: a captioning row whatever the draw
            kind = "unusable"
        elif u < 0.5:
            kind = "corrupted" if row["task"] == "correction" else "fallback"
            assert row["operation"] not in (None, "none") if kind == "corrupted" else row["build_status"] != "ok"
        elif u < 0.6:
            kind = "correct caption"
            assert row["task"] == "correction" and row["operation"] == "none"
        else:
            kind = "caption"
            assert row["task"] == "caption" and row["build_status"] == "ok"
        kinds.add(kind)
        if row["task"] == "correction":
            shown = row["corrupted_caption"] if row["operation"] != "none" else row["caption"]
            assert row["prompt"] == fill(draws.choice(CORRECTION_PROMPTS), shown)
        else:
            assert row["prompt"] == draws.choice(CAPTION_PROMPTS)
    assert {"unusable", "corrupted", "correct caption", "caption"} <= kinds


def test_pinned_tasks_and_prompts_of_the_streams_scheme(built):
    # The values of the iccc.streams scheme (purpose "sample"), pinned so that a change of the
    # derivation shows: the task of the first 16 rows and the phrasing each prompt uses.
    rows = built.select(range(16)).to_list()
    assert [r["task"][:4] for r in rows] == [
        "corr", "corr", "capt", "corr", "corr", "capt", "corr", "corr",
        "corr", "corr", "corr", "corr", "corr", "capt", "corr", "corr"]
    templates = [next(k for k, t in enumerate(CORRECTION_PROMPTS)
                      if t.replace("{caption}", r["corrupted_caption"] or r["caption"]) == r["prompt"])
                 if r["task"] == "correction" else CAPTION_PROMPTS.index(r["prompt"]) for r in rows]
    assert templates == [2, 3, 3, 1, 0, 1, 1, 0, 0, 3, 1, 2, 3, 4, 0, 3]


def test_set_epoch_on_the_fly(parsed, base):
    fly = _build(parsed, base, p_correction=0.5, mode="transform")
    first = _columns(fly)
    set_epoch(fly, 2)
    assert _columns(fly) == _columns(_build(parsed, base, p_correction=0.5, epoch=2))
    set_epoch(fly, 0)
    assert _columns(fly) == first
    with pytest.raises(TypeError, match="on-the-fly build"):
        set_epoch(_build(parsed, base), 1)
    with pytest.raises(ValueError, match="`epoch` should be a non-negative integer, got -1"):
        set_epoch(fly, -1)


def test_ratios_follow_the_arguments(nlp):
    rows = iccc.sample_captions()
    ds = Dataset.from_list([dict(r, image_id=r["image_id"]) for r in rows * 34])  # ~4,000 rows, parsed once each
    out = build_dataset(ds, p_correction=0.3, p_correct_caption=0.2, nlp=nlp, balance=False)
    n = len(out)
    s = build_summary(out)
    corrupted = sum(s["operations"].values())
    assert n > 4000 and sum(s["fallbacks"].values()) < 0.02 * n
    assert abs((corrupted + sum(s["fallbacks"].values())) / n - 0.3) < 0.03  # 4 sd
    assert abs(s["correct_captions"] / n - 0.2) < 0.03
    # swaps get their share as far as the captions allow: the summary says how far that is
    # (these ~120 captions are too few for the context model to find a swap plausible)
    swap = s["mix"]["operations"]["swap"]
    assert swap["requested"] == 0.15 and s["mix"]["calibrated"]
    assert abs(swap["achieved"] - min(0.15, swap["feasible"])) < 0.03
    if swap["achieved"] < 0.14:
        assert any(line.startswith("swap: requested 0.15") and "of the captions allow a swap" in line
                   for line in s["mix"]["lines"])


# ---------------------------------------------------------------------------------- images
def test_image_bytes_are_never_decoded(rows, base, nlp):
    features = Features({"image_id": Value("int64"), "caption": Value("string"), "note": Value("string"),
                         "image": Image()})
    garbage = [dict(r, image={"bytes": b"not an image %d" % k, "path": None}) for k, r in enumerate(rows)]
    ds = Dataset.from_list(garbage, features=features)
    out = build_dataset(ds, concepts=base, nlp=nlp, group_column="image_id", p_correction=0.5)
    assert out.features["image"] == Image()
    raw = out.cast_column("image", Image(decode=False))
    assert raw["image"] == [{"bytes": b"not an image %d" % k, "path": None} for k in range(len(rows))]
    fly = build_dataset(ds, concepts=base, nlp=nlp, group_column="image_id", p_correction=0.5, mode="transform")
    assert build_summary(fly) == build_summary(out)  # summarising reads no image either


def test_iterable_images_are_not_decoded_and_rows_match(rows, base, nlp):
    features = Features({"image_id": Value("int64"), "caption": Value("string"), "note": Value("string"),
                         "image": Image()})
    garbage = [dict(r, image={"bytes": b"x%d" % k, "path": None}) for k, r in enumerate(rows)]
    ds = Dataset.from_list(garbage, features=features)
    out = build_dataset(ds.to_iterable_dataset(num_shards=3), concepts=base, nlp=nlp, group_column="image_id",
                        p_correction=0.5)
    assert out.features["image"] == Image()
    streamed = list(out.cast_column("image", Image(decode=False)))
    materialised = build_dataset(ds, concepts=base, nlp=nlp, group_column="image_id", p_correction=0.5)
    assert streamed == materialised.cast_column("image", Image(decode=False)).to_list()


# ---------------------------------------------------------------------------------- iterable datasets
@pytest.fixture(scope="module")
def streamed(plain, base, nlp):
    return build_dataset(plain.to_iterable_dataset(num_shards=2), concepts=base, nlp=nlp, group_column="image_id",
                         p_correction=0.5)


def test_iterable_build_matches_and_follows_set_epoch(plain, parsed, base, streamed, nlp):
    hidden = ["concepts", "parse_status"]
    epoch0 = _build(parsed, base, p_correction=0.5).remove_columns(hidden).to_list()
    epoch3 = _build(parsed, base, p_correction=0.5, epoch=3).remove_columns(hidden).to_list()
    assert list(streamed) == epoch0
    # with one shard the stream's order stays the same across epochs: row k is row k of a
    # materialised build of that epoch (the index of a streamed row is its position in the stream)
    single = build_dataset(plain.to_iterable_dataset(num_shards=1), concepts=base, nlp=nlp,
                           group_column="image_id", p_correction=0.5)
    single.set_epoch(3)
    assert list(single) == epoch3
    single.set_epoch(0)
    assert list(single) == epoch0
    # with several shards set_epoch also reorders them (datasets does): new draws, same rows
    streamed.set_epoch(3)
    again = list(streamed)
    assert again == list(streamed) and again != epoch0
    assert sorted(r["note"] for r in again) == sorted(r["note"] for r in epoch0)
    streamed.set_epoch(0)
    assert list(streamed) == epoch0


def _epochs_through(loader, ds, epochs=2):
    seen = []
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        seen.append([(r["note"], r["prompt"]) for r in loader])
    return seen


def test_iterable_build_follows_set_epoch_in_persistent_workers(streamed):
    torch = pytest.importorskip("torch")
    ds = streamed.select_columns(["note", "prompt"])
    DataLoader = torch.utils.data.DataLoader
    one = _epochs_through(DataLoader(ds, batch_size=None, num_workers=1, persistent_workers=True), ds)
    assert one == _epochs_through(ds, ds)  # one worker: the rows of the main process
    assert one[0] != one[1]
    # two workers each stream a shard; a shard's rows get their own indices, so the draws differ
    # from one process, but stay reproducible and follow the epoch
    two = _epochs_through(DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True), ds)
    assert two == _epochs_through(DataLoader(ds, batch_size=None, num_workers=2), ds)
    assert two[0] != two[1] and sorted(n for n, _ in two[0]) == sorted(n for n, _ in one[0])


# ---------------------------------------------------------------------------------- DatasetDict
def test_dataset_dict_is_built_per_split(parsed, base):
    splits = DatasetDict({"train": parsed.select(range(0, 100)), "test": parsed.select(range(100, len(parsed)))})
    out = _build(splits, base, p_correction=0.5)
    assert isinstance(out, DatasetDict) and set(out) == {"train", "test"}
    for name, split in splits.items():
        assert out[name].to_list() == _build(split, base, p_correction=0.5).to_list()
    fly = _build(splits, base, p_correction=0.5, mode="transform")
    set_epoch(fly, 1)
    assert _columns(fly["test"]) == _columns(_build(splits["test"], base, p_correction=0.5, epoch=1))
    summary = build_summary(out)
    assert set(summary["splits"]) == {"train", "test"}
    assert sum(s["rows"] for s in summary["splits"].values()) == len(parsed)
    assert "[train]" in format_summary(summary)


def test_dataset_dict_builds_one_base_from_all_splits(plain, nlp):
    splits = DatasetDict({"a": plain.select(range(60)), "b": plain.select(range(60, len(plain)))})
    out = build_dataset(splits, nlp=nlp, group_column="image_id", balance=False)
    assert isinstance(out, DatasetDict) and sum(len(v) for v in out.values()) == len(plain)


# ---------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("kwargs, error, message", [
    ({"p_correction": 1.5}, ValueError, r"`p_correction` should be a probability in \[0, 1\], got 1.5"),
    ({"p_correction": 0.8, "p_correct_caption": 0.3}, ValueError, r"`p_correction` \+ `p_correct_caption`"),
    ({"p_swap": -0.1}, ValueError, r"`p_swap` should be a probability"),
    ({"target_format": "sentence"}, ValueError, r"Unknown `target_format` 'sentence'. Available: 'statement'"),
    ({"mode": "lazy"}, ValueError, r"Unknown `mode` 'lazy'. Available: 'materialize', 'transform'"),
    ({"caption_prompts": "Describe."}, TypeError, r"`caption_prompts` should be a list or tuple"),
    ({"caption_prompts": []}, ValueError, r"`caption_prompts` should hold at least one template"),
    ({"caption_prompts": ["Say {caption}"]}, ValueError, r"should not contain '\{caption\}'"),
    ({"correction_prompts": ["What is wrong?"]}, ValueError, r"template 0 should contain '\{caption\}'"),
    ({"caption_column": "text"}, KeyError, r"Caption column 'text' not found in `ds`. Available:"),
    ({"group_column": "img"}, KeyError, r"Group column 'img' not found"),
    ({"image_column": "picture"}, KeyError, r"Image column 'picture' not found"),
    ({"num_proc": 0}, ValueError, r"`num_proc` should be a positive integer or None, got 0"),
    ({"batch_size": 0}, ValueError, r"`batch_size` should be a positive integer, got 0"),
    ({"seed": -1}, ValueError, r"`seed` should be a non-negative integer, got -1"),
    ({"seed": 1.5}, ValueError, r"`seed` should be a non-negative integer, got 1.5"),
    ({"epoch": "1"}, ValueError, r"`epoch` should be a non-negative integer, got '1'"),
    ({"operations": ["shuffle"]}, ValueError, r"Unknown operation 'shuffle'. Available: 'replace'"),
    ({"kinds": ["colour"]}, ValueError, r"Unknown concept kind 'colour'"),
    ({"concepts": {"a": 1}}, TypeError, r"`concepts` should be an iccc.ConceptBase or None"),
    ({"balance": "yes"}, TypeError, r"`balance` should be True or False"),
])
def test_bad_arguments_are_named(plain, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_dataset(plain, **kwargs)


def test_bad_inputs_are_explained(plain):
    with pytest.raises(TypeError, match=r"`ds` should be a datasets.Dataset.*got list"):
        build_dataset([{"caption": "A cat."}])
    with pytest.raises(ValueError, match=r"already has column\(s\) \['prompt'\]"):
        build_dataset(plain.add_column("prompt", ["x"] * len(plain)))
    lists = Dataset.from_dict({"caption": [["A cat.", "A dog."]], "image": ["a.jpg"]})
    with pytest.raises(ValueError, match=r"holds lists of captions.*explode=True"):
        build_dataset(lists)
    with pytest.raises(ValueError, match=r"empty DatasetDict"):
        build_dataset(DatasetDict())
    with pytest.raises(ValueError, match=r"has a 'concepts' column but not both"):
        build_dataset(plain.add_column("concepts", ["x"] * len(plain)))
    with pytest.raises(ValueError, match=r"`examples` should be a non-negative integer"):
        build_summary(plain, examples=-1)
    with pytest.raises(ValueError, match=r"no \['task', .*column"):
        build_summary(plain)


# ---------------------------------------------------------------------------------- real data
def test_real_coco_captions(coco_val2017_rows, nlp):
    ds = Dataset.from_list(coco_val2017_rows[:600])
    out = build_dataset(ds, group_column="image_id", nlp=nlp, p_correction=0.5)
    s = build_summary(out, examples=2)
    assert s["rows"] == 600 and s["unusable"] == 0
    assert sum(s["fallbacks"].values()) <= 6  # nearly every COCO caption can be corrupted
    assert abs(s["tasks"]["correction"] / 600 - 0.5) < 0.08
    assert len(s["examples"]) == 3


def test_iterable_dataset_of_unknown_features(rows, base, nlp):
    def gen():
        for r in rows:
            yield {"caption": r["caption"], "image_id": r["image_id"], "file": r["image"]}

    stream = datasets.IterableDataset.from_generator(gen)
    out = build_dataset(stream, concepts=base, nlp=nlp, group_column="image_id", image_column="file",
                        p_correction=0.5)
    got = list(out)
    assert len(got) == len(rows) and [r["image"] for r in got] == [r["image"] for r in rows]
    assert {"prompt", "target", "task", "build_status"} <= set(got[0]) and "file" not in got[0]
    splits = datasets.IterableDatasetDict({"train": stream})
    built = build_dataset(splits, concepts=base, nlp=nlp, group_column="image_id", p_correction=0.5)
    assert isinstance(built, datasets.IterableDatasetDict)
    assert [r["prompt"] for r in built["train"]] == [r["prompt"] for r in got]
