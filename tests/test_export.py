"""iccc.dataset._export (DPO, NegCLIP, SugarCrepe) and the ``iccc export`` command."""

from __future__ import annotations

import argparse
import ast
import csv
import json
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from iccc import _cli_export  # noqa: E402
from iccc.dataset._export import (  # noqa: E402
    SUGARCREPE_TYPES,
    read_negclip,
    sugarcrepe_type,
    to_dpo,
    to_negclip,
    to_sugarcrepe,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared(*parts) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (the ../shared/data directory is absent)")
    return path


@pytest.fixture(scope="module")
def corrupted(engine_rows, engine_parsed, engine_base):
    """The engine sample as a dataset with image paths, concepts and one corruption per row."""
    import iccc

    rows = [{"caption": r["caption"], "image": f"img/{r['image_id']}.jpg", "image_id": r["image_id"],
             "concepts": [c.to_dict() for c in p.concepts], "parse_status": p.status}
            for r, p in zip(engine_rows, engine_parsed)]
    rows.append({"caption": "Hello there.", "image": "img/x.jpg", "image_id": -1, "concepts": [],
                 "parse_status": "no_concepts"})
    ds = datasets.Dataset.from_list(rows)
    return ds.map(iccc.corrupt, batched=True, with_indices=True,
                  fn_kwargs={"concepts": engine_base, "seed": 0, "group_column": "image_id"})


def _expected_pairs(ds):
    return [(r["caption"], r["corrupted_caption"]) for r in ds.select_columns(["caption", "corrupted_caption"])
            if r["corrupted_caption"] is not None]


# ------------------------------------------------------------------ DPO
def test_dpo_conversational_pairs(corrupted, tmp_path):
    pairs, counts = to_dpo(corrupted, return_counts=True)
    expected = _expected_pairs(corrupted)
    assert len(pairs) == counts["exported"] == len(expected) > 0
    assert sum(counts.values()) == len(corrupted)  # no row silently lost
    assert counts["not_corrupted:no_concepts"] >= 1
    raw = pairs.cast_column("images", datasets.List(datasets.Image(decode=False)))
    for row, (caption, negative) in zip(raw, expected):
        assert row["prompt"][0]["role"] == "user"
        assert [c["type"] for c in row["prompt"][0]["content"]] == ["image", "text"]
        assert row["chosen"] == [{"role": "assistant", "content": [{"type": "text", "text": caption}]}]
        assert row["rejected"] == [{"role": "assistant", "content": [{"type": "text", "text": negative}]}]
        assert negative != caption
        assert len(row["images"]) == 1 and row["images"][0]["path"].startswith("img/")
    assert isinstance(pairs.features["images"], datasets.List)
    assert isinstance(pairs.features["images"].feature, datasets.Image)



def test_dpo_save_to_disk_round_trip(corrupted, tmp_path):
    # save_to_disk looks at the image files (their sizes), so they must exist here
    (tmp_path / "img").mkdir()
    ds = corrupted.map(lambda p: {"image": [str(tmp_path / x) for x in p]}, input_columns=["image"], batched=True)
    for path in ds["image"]:
        Path(path).write_bytes(b"")
    pairs = to_dpo(ds)
    pairs.save_to_disk(str(tmp_path / "dpo"))
    again = datasets.load_from_disk(str(tmp_path / "dpo"))
    raw = datasets.List(datasets.Image(decode=False))
    assert again.features == pairs.features
    texts = ["prompt", "chosen", "rejected"]
    assert again.select_columns(texts).to_list() == pairs.select_columns(texts).to_list()
    # save_to_disk embeds the image files: their bytes travel with the dataset
    saved = again.cast_column("images", raw)["images"]
    assert [im[0]["bytes"] for im in saved] == [b""] * len(again)
    assert [im[0]["path"] for im in saved] == [Path(im[0]["path"]).name for im in pairs.cast_column("images", raw)["images"]]


def test_dpo_standard_strings_round_trip_jsonl(corrupted, tmp_path):
    pairs = to_dpo(corrupted, conversational=False, prompt="Caption it.", image_features=False,
                   keep_columns=["image_id", "operation"])
    assert pairs.column_names == ["prompt", "chosen", "rejected", "images", "image_id", "operation"]
    pairs.to_json(str(tmp_path / "dpo.jsonl"), lines=True)
    with open(tmp_path / "dpo.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert [(r["chosen"], r["rejected"]) for r in rows] == _expected_pairs(corrupted)
    # with images, a standard prompt starts with the image token (TRL passes the text to the processor as is)
    assert all(r["prompt"] == "<image>\nCaption it." and r["images"] == [f"img/{r['image_id']}.jpg"] for r in rows)


def test_dpo_prompt_phrasings_drawn_per_row(corrupted):
    from iccc.dataset._prompts import CAPTION_PROMPTS

    a = to_dpo(corrupted, prompt=CAPTION_PROMPTS, conversational=False, image_features=False, seed=1)["prompt"]
    b = to_dpo(corrupted, prompt=list(CAPTION_PROMPTS), conversational=False, image_features=False, seed=1)["prompt"]
    c = to_dpo(corrupted, prompt=CAPTION_PROMPTS, conversational=False, image_features=False, seed=2)["prompt"]
    assert a == b and a != c and set(a) == {"<image>\n" + p for p in CAPTION_PROMPTS}
    # the draw belongs to the source row, not to its position among exported rows
    first = to_dpo(corrupted.select(range(20)), prompt=CAPTION_PROMPTS, conversational=False, seed=1,
                   image_features=False)["prompt"]
    assert first == a[: len(first)]


def test_dpo_prompts_are_the_draws_of_the_export_prompt_streams(corrupted):
    """The phrasing of source row i is the first draw of its ``(seed, 0, i, "export-prompt")`` stream,
    also when rows before it are skipped."""
    from iccc.dataset._prompts import CAPTION_PROMPTS
    from iccc.streams import stream

    ds = corrupted.map(lambda neg, i: {"corrupted_caption": None if i % 3 == 0 else neg, "row": i},
                       input_columns=["corrupted_caption"], with_indices=True)
    pairs = to_dpo(ds, prompt=CAPTION_PROMPTS, conversational=False, image_features=False, seed=1,
                   keep_columns=["row"])
    assert len(pairs) > 20 and all(r % 3 for r in pairs["row"])
    for row, prompt in zip(pairs["row"], pairs["prompt"]):
        assert prompt == "<image>\n" + stream(1, 0, row, "export-prompt").choice(CAPTION_PROMPTS)
    # the values of the iccc.streams scheme, pinned so that a change of the derivation shows
    full = to_dpo(corrupted, prompt=CAPTION_PROMPTS, conversational=False, image_features=False, seed=1)
    assert [CAPTION_PROMPTS.index(p.split("\n", 1)[1]) for p in full["prompt"][:10]] == [0, 3, 4, 0, 4, 2, 4, 4, 0, 1]


def test_dpo_text_only_has_no_images():
    ds = datasets.Dataset.from_dict({"caption": ["A red bus.", "A dog."], "corrupted_caption": ["A blue bus.", None]})
    pairs = to_dpo(ds)
    assert pairs.column_names == ["prompt", "chosen", "rejected"]
    assert pairs[0]["prompt"][0]["content"] == [{"type": "text", "text": "Write a short caption for this image."}]


def test_dpo_skips_and_counts_every_kind_of_unusable_row():
    ds = datasets.Dataset.from_dict({
        "caption": ["A red bus.", "A dog.", "A cat.", None, "A car.", "A cow."],
        "corrupted_caption": ["A blue bus.", None, "A cat.", "x", "A van.", None],
        "task": ["correction", "caption", "correction", "correction", "correction", "correction"],
        "image": ["1.jpg", "2.jpg", "3.jpg", "4.jpg", None, "6.jpg"],
        "corrupt_status": ["ok", None, "ok", "ok", "ok", "no_candidate"],
    })
    pairs, counts = to_dpo(ds, return_counts=True)
    assert len(pairs) == 1
    assert dict(counts) == {"exported": 1, "task:caption": 1, "negative_equals_caption": 1, "no_caption": 1,
                            "no_image": 1, "not_corrupted:no_candidate": 1}


def test_dpo_image_feature_is_not_decoded():
    feats = datasets.Features({"caption": datasets.Value("string"), "corrupted_caption": datasets.Value("string"),
                               "image": datasets.Image()})
    ds = datasets.Dataset.from_dict({"caption": ["A red bus."], "corrupted_caption": ["A blue bus."],
                                     "image": [{"bytes": None, "path": "/nope/1.png"}]}, features=feats)
    pairs = to_dpo(ds)  # the file does not exist: decoding would raise
    assert pairs.features["images"] == datasets.List(datasets.Image())
    raw = pairs.cast_column("images", datasets.List(datasets.Image(decode=False)))
    assert raw[0]["images"] == [{"bytes": None, "path": "/nope/1.png"}]


def test_dpo_errors(corrupted):
    with pytest.raises(KeyError, match=r"no column\(s\) \['corrupted_caption'\]"):
        to_dpo(datasets.Dataset.from_dict({"caption": ["A dog."]}))
    with pytest.raises(TypeError, match=r"Pick a split first"):
        to_dpo(datasets.DatasetDict(train=corrupted))
    with pytest.raises(ValueError, match="`prompt` should be a non-empty string"):
        to_dpo(corrupted, prompt=" ")
    with pytest.raises(ValueError, match="`prompt` should be a non-empty string or a sequence"):
        to_dpo(corrupted, prompt=["ok", 3])
    with pytest.raises(KeyError, match="`image_column` 'picture' not found"):
        to_dpo(corrupted, image_column="picture")


# ------------------------------------------------------------------ NegCLIP
def _read_like_negclip(path):
    """How NegCLIP's training code reads its TSV: pandas with literal_eval converters."""
    import pandas as pd

    return pd.read_csv(path, sep="\t", converters={"neg_caption": ast.literal_eval, "neg_image": ast.literal_eval})


def test_negclip_several_negatives_round_trip(corrupted, engine_base, tmp_path):
    path = tmp_path / "neg.tsv"
    table, counts = to_negclip(corrupted, path, n_negatives=3, concepts=engine_base, seed=0, return_counts=True)
    df = _read_like_negclip(path)
    assert list(df.columns) == ["Unnamed: 0", "title", "filepath", "neg_caption", "neg_image"]
    assert df["title"].tolist() == table["title"] and df["neg_caption"].tolist() == table["neg_caption"]
    assert read_negclip(path) == table.to_list()
    assert sum(v for k, v in counts.items() if "=" not in k) == len(corrupted)
    assert counts["exported"] == len(table)
    assert sum(v for k, v in counts.items() if k.startswith("negatives=")) == len(table)
    first = {r["caption"]: r["corrupted_caption"] for r in corrupted if r["corrupted_caption"]}
    images = dict(zip(table["title"], table["filepath"]))
    for row in table:
        negs = row["neg_caption"]
        assert 1 <= len(negs) <= 3 and len(set(negs)) == len(negs)
        assert all(n != row["title"] for n in negs)
        assert negs[0] == first[row["title"]]  # the row's own corruption comes first
        assert len(row["neg_image"]) == 3
        assert all(0 <= j < len(table) and images[table["title"][j]] != row["filepath"] for j in row["neg_image"])
    assert counts["negatives=3"] > len(table) // 2


def test_negclip_is_deterministic_per_seed(corrupted, engine_base, tmp_path):
    a = to_negclip(corrupted, tmp_path / "a.tsv", n_negatives=2, concepts=engine_base, seed=3)
    b = to_negclip(corrupted, tmp_path / "b.tsv", n_negatives=2, concepts=engine_base, seed=3)
    c = to_negclip(corrupted, tmp_path / "c.tsv", n_negatives=2, concepts=engine_base, seed=4)
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()
    assert a.to_list() == b.to_list() and a.to_list() != c.to_list()


def test_negclip_images_pinned_values_of_the_streams_scheme(corrupted):
    # The rows sharing the most rare words are taken; the picks among rows tied at the cut come from
    # each row's "export-pairs" stream of iccc.streams. These are that scheme's values for seed 0.
    table = to_negclip(corrupted, seed=0)
    assert table["neg_image"][:5] == [[102, 123, 101], [101, 69, 128], [66, 42, 62], [84, 117, 135], [80, 2, 14]]
    other = to_negclip(corrupted, seed=1)["neg_image"]
    assert other != table["neg_image"] and all(len(a) == len(b) == 3 for a, b in zip(other, table["neg_image"]))


def test_negclip_draws_match_corrupt_epochs(corrupted, engine_base):
    """Negative k of a row is the corruption ds.map(corrupt, epoch=k) gives it (when distinct)."""
    import iccc

    bare = corrupted.remove_columns(["corrupted_caption", "corrupt_status"])
    table = to_negclip(bare, n_negatives=1, concepts=engine_base, seed=5, n_negative_images=0)
    epoch0 = bare.map(iccc.corrupt, batched=True, with_indices=True,
                      fn_kwargs={"concepts": engine_base, "seed": 5, "group_column": "image_id"})
    assert table["neg_caption"] == [[n] for n in epoch0["corrupted_caption"] if n is not None]


def test_negclip_csv_gz_and_one_negative(corrupted, tmp_path):
    path = tmp_path / "neg.csv.gz"
    table = to_negclip(corrupted, path, n_negative_images=0)
    assert [r["neg_caption"] for r in table] == [[n] for _, n in _expected_pairs(corrupted)]
    assert read_negclip(path) == table.to_list()


def test_negclip_errors(corrupted):
    with pytest.raises(ValueError, match=r"n_negatives=2: pass `concepts=`"):
        to_negclip(corrupted, n_negatives=2)
    with pytest.raises(ValueError, match=r"has no 'corrupted_caption' column: pass `concepts=`"):
        to_negclip(corrupted.remove_columns(["corrupted_caption"]))
    with pytest.raises(ValueError, match=r"`n_negatives` should be an integer >= 1, got 0"):
        to_negclip(corrupted, n_negatives=0)


def test_negclip_shape_matches_the_original_file():
    path = shared("negclip_coco", "valid_neg_clip.tsv.gz")
    rows = read_negclip(path)
    assert len(rows) == 4_839
    assert set(rows[0]) == {"title", "filepath", "neg_caption", "neg_image"}
    assert all(isinstance(r["neg_caption"], list) and isinstance(r["neg_image"], list) for r in rows)


# ------------------------------------------------------------------ SugarCrepe
def test_sugarcrepe_files_round_trip(corrupted, tmp_path):
    data, counts = to_sugarcrepe(corrupted, tmp_path / "sc", return_counts=True)
    files = sorted(p.name for p in (tmp_path / "sc").iterdir())
    assert files == sorted(f"{name}.json" for name in data)
    assert set(data) <= set(SUGARCREPE_TYPES.values())
    total = 0
    for name in data:
        with open(tmp_path / "sc" / f"{name}.json", encoding="utf-8") as f:
            records = json.load(f)
        assert records == data[name]
        assert list(records) == [str(k) for k in range(len(records))]
        for rec in records.values():
            assert set(rec) == {"filename", "caption", "negative_caption"}
            assert rec["negative_caption"] != rec["caption"] and rec["filename"].startswith("img/")
        total += len(records)
    # number and existence edits have no SugarCrepe type: counted, not exported
    typed = [r for r in corrupted.select_columns(["corrupted_caption", "operation", "concept_kind"])
             if r["corrupted_caption"] is not None and sugarcrepe_type(r["operation"], r["concept_kind"])]
    assert total == counts["exported"] == len(typed)
    assert counts["exported"] + sum(v for k, v in counts.items() if k.startswith("no_sugarcrepe_type:")) == \
        len(_expected_pairs(corrupted))
    assert sum(v for k, v in counts.items() if "=" not in k) == len(corrupted)


def test_sugarcrepe_type_mapping_and_names_match_the_benchmark():
    folder = shared("sugarcrepe")
    names = {p.stem for p in folder.glob("*.json")}
    assert set(SUGARCREPE_TYPES.values()) <= names | {"add_rel"}
    assert sugarcrepe_type("replace", "noun") == "replace_obj"
    assert sugarcrepe_type("swap", "relation") == "swap_obj"
    assert sugarcrepe_type("add", "entity") == "add_obj"
    assert sugarcrepe_type("none", None) is None
    with open(folder / "swap_att.json", encoding="utf-8") as f:
        original = json.load(f)
    assert set(original["0"]) == {"filename", "caption", "negative_caption"}


def test_sugarcrepe_relative_paths_and_unknown_types(tmp_path):
    ds = datasets.Dataset.from_dict({
        "caption": ["A red bus.", "A dog."], "corrupted_caption": ["A blue bus.", "A dog."],
        "operation": ["replace", "none"], "concept_kind": ["attribute", None], "image": ["/data/coco/1.jpg"] * 2})
    data, counts = to_sugarcrepe(ds, relative_to="/data/coco", return_counts=True)
    assert data == {"replace_att": {"0": {"filename": "1.jpg", "caption": "A red bus.",
                                          "negative_caption": "A blue bus."}}}
    assert counts["negative_equals_caption"] == 1
    with pytest.raises(KeyError, match=r"no column\(s\) \['operation', 'concept_kind'\]"):
        to_sugarcrepe(ds.remove_columns(["operation", "concept_kind"]))


# ------------------------------------------------------------------ CLI
def _cli(argv):
    parser = argparse.ArgumentParser()
    _cli_export.add_arguments(parser)
    return _cli_export.run(parser.parse_args(argv))


@pytest.fixture(scope="module")
def saved_corrupted(corrupted, tmp_path_factory):
    """A dataset on disk that already has corruptions (like `iccc build` output)."""
    path = tmp_path_factory.mktemp("built") / "ds"
    corrupted.save_to_disk(str(path))
    return path


def test_cli_exports_a_saved_dataset(saved_corrupted, tmp_path, capsys):
    assert _cli(["dpo", str(saved_corrupted), "-o", str(tmp_path / "dpo.jsonl"), "-q"]) == 0
    out = capsys.readouterr().out
    n = len(_expected_pairs(datasets.load_from_disk(str(saved_corrupted))))
    assert f"Exported {n} of " in out and "not_corrupted:no_concepts" in out
    with open(tmp_path / "dpo.jsonl", encoding="utf-8") as f:
        assert sum(1 for _ in f) == n
    assert _cli(["sugarcrepe", str(saved_corrupted), "-o", str(tmp_path / "sc"), "-q"]) == 0
    assert any((tmp_path / "sc").glob("replace_*.json"))
    assert _cli(["negclip", str(saved_corrupted), "-o", str(tmp_path / "neg.tsv"), "-q"]) == 0
    assert len(read_negclip(tmp_path / "neg.tsv")) == n


def test_cli_corrupts_a_caption_file_deterministically(tmp_path, capsys):
    lines = [{"caption": c, "image": f"{k // 2}.jpg"} for k, c in enumerate([
        "A black dog sitting on a red couch.", "A brown dog lying on a couch.", "A man riding a horse on a beach.",
        "A woman riding a brown horse.", "Two cats sleeping on a white bed.", "A cat on a bed next to a dog.",
        "A red car parked next to a blue truck.", "A white truck parked on a street.", "Hello there."])]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    for name in ("a.tsv", "b.tsv"):
        assert _cli(["negclip", str(src), "-o", str(tmp_path / name), "--n-negatives", "2", "--seed", "1",
                     "--no-balance", "-q"]) == 0
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()
    rows = read_negclip(tmp_path / "a.tsv")
    assert 0 < len(rows) < len(lines) and all(r["title"] not in r["neg_caption"] for r in rows)
    out = capsys.readouterr().out
    assert f"of {len(lines)} rows" in out


def test_cli_real_coco_sugarcrepe(tmp_path, capsys):
    src = shared("coco_captions", "captions_val2017.json.gz")
    assert _cli(["sugarcrepe", str(src), "-o", str(tmp_path / "sc"), "--limit", "150", "--no-balance",
                 "--operations", "replace,swap,add", "--p-add", "0.2", "-q"]) == 0
    out = capsys.readouterr().out
    assert "of 150 rows" in out
    written = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "sc").glob("*.json")}
    assert {"replace_obj", "replace_att", "replace_rel"} <= set(written)
    assert any(name.startswith("add_") for name in written)
    with open(tmp_path / "sc" / "replace_obj.json", encoding="utf-8") as f:
        rec = json.load(f)["0"]
    assert rec["filename"].endswith(".jpg") and rec["caption"] != rec["negative_caption"]


def test_cli_dict_input_needs_split(corrupted, tmp_path):
    path = tmp_path / "dd"
    datasets.DatasetDict(train=corrupted, test=corrupted).save_to_disk(str(path))
    with pytest.raises(ValueError, match=r"holds several splits \['test', 'train'\]; pick one with --split"):
        _cli(["dpo", str(path), "-o", str(tmp_path / "out")])
    assert _cli(["dpo", str(path), "-o", str(tmp_path / "out"), "--split", "test", "-q"]) == 0


def test_csv_module_reads_our_tsv(corrupted, tmp_path):
    """Plain csv (what the NegCLIP README suggests for its file) reads what we write."""
    path = tmp_path / "neg.tsv"
    table = to_negclip(corrupted, path)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [r["title"] for r in rows] == table["title"]
    assert [ast.literal_eval(r["neg_caption"]) for r in rows] == table["neg_caption"]


def test_cli_recorrupt_covers_captioning_rows(corrupted, tmp_path, capsys):
    """Like `iccc build` output: captioning rows carry no negative until --recorrupt."""
    n = len(corrupted)
    built = corrupted.map(lambda c, i: {"task": "caption" if i % 2 else "correction",
                                        "corrupted_caption": None if i % 2 else c},
                          input_columns=["corrupted_caption"], with_indices=True)
    path = tmp_path / "built"
    built.save_to_disk(str(path))
    assert _cli(["negclip", str(path), "-o", str(tmp_path / "a.tsv"), "-q", "--n-negative-images", "0"]) == 0
    out = capsys.readouterr().out
    assert "Using the corruptions in" in out and f"task:caption {n // 2}" in out
    assert _cli(["negclip", str(path), "-o", str(tmp_path / "b.tsv"), "-q", "--recorrupt", "--no-balance"]) == 0
    assert len(read_negclip(tmp_path / "b.tsv")) > len(read_negclip(tmp_path / "a.tsv"))
    assert "task:caption" not in capsys.readouterr().out
