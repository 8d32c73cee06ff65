"""iccc.dataset._inputs.load_captions: every input shape, standard columns, errors, real files."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from pathlib import Path

import pytest
from helpers import write

from iccc.dataset._inputs import SUPPORTED, iter_caption_rows, load_captions

datasets = pytest.importorskip("datasets")

#: Real caption data beside the repository (``../shared/data``); tests using it skip when absent.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


COCO = {
    "info": {"description": "test"},
    "images": [{"id": 1, "file_name": "000001.jpg"}, {"id": 2, "file_name": "000002.jpg"}],
    "annotations": [
        {"image_id": 1, "id": 10, "caption": "A dog on a bed."},
        {"image_id": 2, "id": 12, "caption": "A red bus."},
        {"image_id": 1, "id": 11, "caption": "A brown dog sleeping. "},
    ],
}
KARPATHY = [
    {"image": "val2014/a.jpg", "caption": ["A cat.", "A cat on a mat. "], "split": "test"},
    {"image": "val2014/b.jpg", "caption": "A single caption.", "split": "train"},
    {"image": "val2014/c.jpg", "caption": [], "split": "test"},
]


def shared(*parts) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared caption data not found: {path} (the ../shared/data directory is absent)")
    return path


# ------------------------------------------------------------------ small files
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_coco_rows_have_image_paths_and_group_ids(tmp_path, gz):
    path = write(tmp_path / f"captions_val.json{gz}", json.dumps(COCO))
    ds = load_captions(path, image_root="/coco/val2017")
    assert ds.column_names[:3] == ["caption", "image", "image_id"]
    assert ds.to_list() == [
        {"caption": "A dog on a bed.", "image": "/coco/val2017/000001.jpg", "image_id": 1, "id": 10, "file_name": "000001.jpg"},
        {"caption": "A red bus.", "image": "/coco/val2017/000002.jpg", "image_id": 2, "id": 12, "file_name": "000002.jpg"},
        {"caption": "A brown dog sleeping. ", "image": "/coco/val2017/000001.jpg", "image_id": 1, "id": 11,
         "file_name": "000001.jpg"},
    ]


def test_coco_grouped_per_image(tmp_path):
    path = write(tmp_path / "c.json", json.dumps(COCO))
    ds = load_captions(path, explode=False)
    assert ds["caption"] == [["A dog on a bed.", "A brown dog sleeping. "], ["A red bus."]]
    assert ds["id"] == [[10, 11], [12]]
    assert ds["image_id"] == [1, 2]
    assert ds["image"] == ["000001.jpg", "000002.jpg"]  # no image_root: the path as written


def test_karpathy_list_exploded_keeps_group_and_empty_rows(tmp_path):
    path = write(tmp_path / "k.json", json.dumps(KARPATHY))
    ds = load_captions(path, image_root=tmp_path)
    assert ds["caption"] == ["A cat.", "A cat on a mat. ", "A single caption.", None]
    assert ds["image_id"] == ["val2014/a.jpg", "val2014/a.jpg", "val2014/b.jpg", "val2014/c.jpg"]
    assert ds["image"][0] == str(tmp_path / "val2014" / "a.jpg")
    assert ds["split"] == ["test", "test", "train", "test"]


def test_karpathy_list_grouped_and_split(tmp_path):
    path = write(tmp_path / "k.json", json.dumps(KARPATHY))
    ds = load_captions(path, explode=False)
    assert ds["caption"] == [["A cat.", "A cat on a mat. "], ["A single caption."], []]
    test = load_captions(path, split="test")
    assert test["caption"] == ["A cat.", "A cat on a mat. ", None]


def test_karpathy_original_dataset_json(tmp_path):
    data = {"dataset": "coco", "images": [
        {"filepath": "val2014", "filename": "x.jpg", "imgid": 0, "split": "val", "cocoid": 7, "sentids": [0, 1],
         "sentences": [{"raw": "A cat.", "tokens": ["a", "cat"], "sentid": 0}, {"raw": "A cat sleeps.", "sentid": 1}]},
        {"filepath": "train2014", "filename": "y.jpg", "imgid": 1, "split": "train", "cocoid": 8, "sentids": [2],
         "sentences": [{"raw": "A dog.", "sentid": 2}]},
    ]}
    path = write(tmp_path / "dataset_coco.json", json.dumps(data))
    ds = load_captions(path, image_root="/coco")
    assert ds["caption"] == ["A cat.", "A cat sleeps.", "A dog."]
    assert ds["image"] == ["/coco/val2014/x.jpg", "/coco/val2014/x.jpg", "/coco/train2014/y.jpg"]
    assert ds["image_id"] == [7, 7, 8]
    assert ds["sentid"] == [0, 1, 2]
    assert load_captions(path, split="train")["caption"] == ["A dog."]


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_jsonl_other_columns_kept(tmp_path, gz):
    lines = [{"text": "A dog.", "img": "1.jpg", "extra": 1}, {"text": None, "img": "2.jpg", "extra": 2}]
    path = write(tmp_path / f"c.jsonl{gz}", "\n".join(json.dumps(r) for r in lines) + "\n\n")
    ds = load_captions(path, caption_column="text", image_column="img", image_root="/r")
    assert ds.to_list() == [
        {"caption": "A dog.", "image": "/r/1.jpg", "image_id": "1.jpg", "text": "A dog.", "img": "1.jpg", "extra": 1},
        {"caption": None, "image": "/r/2.jpg", "image_id": "2.jpg", "text": None, "img": "2.jpg", "extra": 2},
    ]


@pytest.mark.parametrize("name,delimiter", [("c.csv", ","), ("c.tsv", "\t"), ("c.csv.gz", ",")])
def test_delimited_with_group_column(tmp_path, name, delimiter):
    text = delimiter.join(["pic", "caption", "group"]) + "\n" + delimiter.join(["a.jpg", "A dog, running.", "g1"]) \
        + "\n" if delimiter == "\t" else 'pic,caption,group\na.jpg,"A dog, running.",g1\n'
    path = write(tmp_path / name, text + delimiter.join(["b.jpg", "A cat.", "g1"]) + "\n")
    ds = load_captions(path, image_column="pic", group_column="group")
    assert ds["caption"] == ["A dog, running.", "A cat."]
    assert ds["image_id"] == ["g1", "g1"]
    assert ds["image"] == ["a.jpg", "b.jpg"]


def test_plain_txt_has_no_image(tmp_path):
    ds = load_captions(write(tmp_path / "c.txt", "A dog.\n\nA cat.\n"))
    assert ds.to_list() == [{"caption": "A dog.", "image": None, "image_id": None},
                            {"caption": "A cat.", "image": None, "image_id": None}]


def test_folder_with_kaggle_flickr_captions_txt(tmp_path):
    (tmp_path / "Images").mkdir()
    write(tmp_path / "captions.txt", "image,caption\n1.jpg,A dog runs.\n1.jpg,\"A dog, brown.\"\n2.jpg,A cat.\n")
    ds = load_captions(tmp_path)
    assert ds["caption"] == ["A dog runs.", "A dog, brown.", "A cat."]
    assert ds["image"] == [str(tmp_path / "Images" / n) for n in ("1.jpg", "1.jpg", "2.jpg")]
    assert ds["image_id"] == ["1.jpg", "1.jpg", "2.jpg"]


def test_folder_with_flickr30k_results_csv(tmp_path):
    write(tmp_path / "results.csv", "image_name| comment_number| comment\n1.jpg| 0| Two dogs play .\n1.jpg| 1| Dogs .\n")
    ds = load_captions(tmp_path, caption_column="comment")
    assert ds["caption"] == ["Two dogs play .", "Dogs ."]
    assert ds["image"] == [str(tmp_path / "1.jpg")] * 2


def test_folder_with_metadata_jsonl(tmp_path):
    write(tmp_path / "metadata.jsonl", json.dumps({"file_name": "a.png", "caption": "A dog."}) + "\n")
    ds = load_captions(tmp_path)
    assert ds.to_list() == [{"caption": "A dog.", "image": str(tmp_path / "a.png"), "image_id": "a.png",
                             "file_name": "a.png"}]


def test_flickr_token_file_and_grouping(tmp_path):
    path = write(tmp_path / "Flickr8k.token.txt", "1.jpg#0\tA dog .\n1.jpg#1\tA brown dog .\n2.jpg#0\tA cat .\n")
    ds = load_captions(path)
    assert ds["caption"] == ["A dog .", "A brown dog .", "A cat ."]
    assert ds["image_id"] == ["1.jpg", "1.jpg", "2.jpg"]
    assert ds["caption_number"] == [0, 1, 0]
    grouped = load_captions(path, explode=False)
    assert grouped["caption"] == [["A dog .", "A brown dog ."], ["A cat ."]]


def test_json_object_of_records(tmp_path):
    path = write(tmp_path / "swap_att.json", json.dumps({"0": {"filename": "1.jpg", "caption": "A red car."}}))
    assert load_captions(path).to_list() == [
        {"caption": "A red car.", "image": "1.jpg", "image_id": "1.jpg", "key": "0", "filename": "1.jpg"}]


def test_jsonl_named_json(tmp_path):
    path = write(tmp_path / "c.json", '{"caption": "A dog."}\n{"caption": "A cat."}\n')
    assert load_captions(path)["caption"] == ["A dog.", "A cat."]


def test_parquet(tmp_path):
    datasets.Dataset.from_dict({"caption": ["A dog."], "image_id": [3]}).to_parquet(str(tmp_path / "c.parquet"))
    ds = load_captions(tmp_path / "c.parquet")
    assert ds.to_list() == [{"caption": "A dog.", "image": None, "image_id": 3}]


def test_streaming_matches_materialised(tmp_path):
    path = write(tmp_path / "k.json", json.dumps(KARPATHY))
    ds = load_captions(path, image_root="/r")
    stream = load_captions(path, image_root="/r", streaming=True)
    assert isinstance(stream, datasets.IterableDataset)
    assert list(stream) == ds.to_list()


def test_streaming_types_mixed_fields_as_the_materialised_dataset(tmp_path):
    rows = [{"caption": "A dog.", "image_id": 1, "extra": 1}, {"caption": 5, "image_id": "x", "extra": "one"},
            {"caption": None, "image_id": 2, "extra": [1]}, {"caption": ["a", "list"], "image_id": None}]
    path = write(tmp_path / "mixed.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    ds = load_captions(path)
    stream = load_captions(path, streaming=True)
    assert stream.features == ds.features
    assert stream.features["image_id"] == datasets.Value("string")
    assert isinstance(stream.features["caption"], datasets.Json)
    assert list(stream) == ds.to_list()
    assert [r["image_id"] for r in stream] == ["1", "x", "2", None]  # one group id type, as materialised
    assert [r["extra"] for r in stream] == [1, "one", [1], None]


def test_streaming_types_fields_mixed_across_chunks(tmp_path, monkeypatch):
    from iccc.dataset import _inputs

    monkeypatch.setattr(_inputs, "_CHUNK_ROWS", 2)  # each chunk is of one type; the file is not
    rows = [{"caption": "A dog.", "image_id": 1, "n": 1}, {"caption": "A cat.", "image_id": 2, "n": 2},
            {"caption": 7, "image_id": "three", "n": 2.5}]
    path = write(tmp_path / "chunks.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    ds = load_captions(path)
    stream = load_captions(path, streaming=True)
    assert stream.features == ds.features and list(stream) == ds.to_list()
    assert ds["caption"] == ["A dog.", "A cat.", 7] and ds["image_id"] == ["1", "2", "three"]
    assert ds["n"] == [1.0, 2.0, 2.5]


def test_cache_follows_file_changes(tmp_path):
    path = write(tmp_path / "c.jsonl", json.dumps({"caption": "A dog."}) + "\n")
    assert load_captions(path)["caption"] == ["A dog."]
    write(path, json.dumps({"caption": "A cat."}) + "\n" + json.dumps({"caption": "A bird."}) + "\n")
    assert load_captions(path)["caption"] == ["A cat.", "A bird."]


def test_iter_caption_rows_matches_dataset(tmp_path):
    path = write(tmp_path / "c.json", json.dumps(COCO))
    assert list(iter_caption_rows(path, image_root="/r")) == load_captions(path, image_root="/r").to_list()
    datasets.Dataset.from_dict({"caption": [["A dog.", "A cat."]], "image": ["a.jpg"]}).to_parquet(
        str(tmp_path / "c.parquet"))
    assert list(iter_caption_rows(tmp_path / "c.parquet")) == load_captions(tmp_path / "c.parquet").to_list()


def test_rows_are_those_read_captions_reads_with_the_standard_columns(tmp_path):
    from iccc.io import read_captions

    for name, text in (("k.json", json.dumps(KARPATHY)), ("c.json", json.dumps(COCO)),
                       ("f.token.txt", "1.jpg#0\tA dog .\n2.jpg#0\tA cat .\n"), ("t.csv", "img,text\na,A b.\n")):
        path = write(tmp_path / name, text)
        column = "text" if name == "t.csv" else "caption"
        read = list(read_captions(path, caption_column=column))
        loaded = list(iter_caption_rows(path, caption_column=column))
        assert [r["caption"] for r in read] == [r["caption"] for r in loaded]
        # every field read is loaded as it was; load_captions adds (or fills) the standard columns
        assert all({k: v for k, v in a.items() if k not in ("image", "image_id")}
                   == {k: v for k, v in b.items() if k not in ("image", "image_id")} for a, b in zip(read, loaded))


# ------------------------------------------------------------------ datasets objects
def test_dataset_with_other_caption_column_and_lists():
    ds = datasets.Dataset.from_dict({"text": [["A dog.", "A cat."], [], None], "img": ["a.jpg", "b.jpg", "c.jpg"],
                                     "x": [1, 2, 3]})
    out = load_captions(ds, caption_column="text", image_column="img", image_root="/r")
    assert out.column_names == ["caption", "image", "image_id", "img", "x"]
    assert out["caption"] == ["A dog.", "A cat.", None, None]  # empty and null lists keep their row
    assert out["image"] == ["/r/a.jpg", "/r/a.jpg", "/r/b.jpg", "/r/c.jpg"]
    assert out["image_id"] == ["a.jpg", "a.jpg", "b.jpg", "c.jpg"]
    assert out["x"] == [1, 1, 2, 3]


def test_dataset_image_feature_passes_through_undecoded():
    # the files do not exist: any decoding would raise
    feats = datasets.Features({"caption": datasets.List(datasets.Value("string")), "image": datasets.Image()})
    ds = datasets.Dataset.from_dict({"caption": [["A dog.", "A cat."], ["A bus."]],
                                     "image": [{"bytes": None, "path": "/nope/a.png"},
                                               {"bytes": None, "path": "/nope/b.png"}]}, features=feats)
    out = load_captions(ds)
    assert isinstance(out.features["image"], datasets.Image)
    assert out.select_columns(["caption", "image_id"]).to_list() == [
        {"caption": "A dog.", "image_id": "/nope/a.png"}, {"caption": "A cat.", "image_id": "/nope/a.png"},
        {"caption": "A bus.", "image_id": "/nope/b.png"}]
    with pytest.raises(ValueError, match="joins image paths"):
        load_captions(ds, image_root="/r")


def test_dataset_dict_and_split_and_streaming():
    ds = datasets.Dataset.from_dict({"caption": ["A dog.", "A cat."], "image_id": [1, 2]})
    dd = datasets.DatasetDict(train=ds, test=ds.select([1]))
    out = load_captions(dd)
    assert isinstance(out, datasets.DatasetDict) and out["test"]["caption"] == ["A cat."]
    assert load_captions(dd, split="train")["image_id"] == [1, 2]
    stream = load_captions(ds, streaming=True)
    assert isinstance(stream, datasets.IterableDataset)
    assert [r["caption"] for r in stream] == ["A dog.", "A cat."]
    with pytest.raises(KeyError, match=r"`split` 'val' not found\. Available: \['test', 'train'\]"):
        load_captions(dd, split="val")


def test_saved_dataset_folder(tmp_path):
    ds = datasets.Dataset.from_dict({"caption": ["A dog."], "image": ["a.jpg"]})
    ds.save_to_disk(str(tmp_path / "saved"))
    assert load_captions(tmp_path / "saved", image_root="/r").to_list() == [
        {"caption": "A dog.", "image": "/r/a.jpg", "image_id": "a.jpg"}]
    datasets.DatasetDict(train=ds).save_to_disk(str(tmp_path / "saved_dict"))
    assert load_captions(tmp_path / "saved_dict", split="train")["caption"] == ["A dog."]


# ------------------------------------------------------------------ errors
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_captions(tmp_path / "nope.json")


def test_unknown_format_lists_supported(tmp_path):
    path = write(tmp_path / "c.xml", "<x/>")
    with pytest.raises(ValueError, match=r"Unknown caption file format '\.xml'.*Supported: COCO"):
        load_captions(path)


def test_missing_caption_column_lists_available(tmp_path):
    path = write(tmp_path / "c.csv", "image,text\na.jpg,A dog.\n")
    with pytest.raises(KeyError, match=re.escape("no caption column 'caption'. Available: ['image', 'text']")):
        load_captions(path)
    with pytest.raises(KeyError, match=re.escape("no caption column 'cap'. Available: ['text']")):
        load_captions(datasets.Dataset.from_dict({"text": ["A dog."]}), caption_column="cap")


def test_folder_without_captions_file(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"neither a folder with a captions file .* nor a dataset saved with save_to_disk"):
        load_captions(tmp_path)


@pytest.mark.parametrize("kwargs,match", [
    ({"caption_column": ""}, "`caption_column` should be a non-empty string"),
    ({"explode": "yes"}, "`explode` should be True or False, got 'yes'"),
    ({"image_root": 3}, "`image_root` should be a path"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    path = write(tmp_path / "c.txt", "A dog.\n")
    with pytest.raises(TypeError, match=match):
        load_captions(path, **kwargs)


def test_bad_source_type():
    with pytest.raises(TypeError, match=r"`source` should be a path or a datasets object, got int"):
        load_captions(3)
    assert "Karpathy" in SUPPORTED


def test_caption_column_clash(tmp_path):
    path = write(tmp_path / "c.jsonl", json.dumps({"caption": "x", "text": "A dog."}) + "\n")
    with pytest.raises(ValueError, match="also has a 'caption' field"):
        load_captions(path, caption_column="text")


# ------------------------------------------------------------------ real files
def test_real_coco_val2017():
    path = shared("coco_captions", "captions_val2017.json.gz")
    ds = load_captions(path, image_root="val2017")
    assert len(ds) == 25_014
    assert len(set(ds["image_id"])) == 5_000
    row = ds[0]
    assert row["caption"] == "A black Honda motorcycle parked in front of a garage."
    # a relative image_root is resolved when loading: the paths work from any working directory
    assert row["image"] == os.path.abspath("val2017/000000179765.jpg") and row["image_id"] == 179765
    grouped = load_captions(path, explode=False)
    assert len(grouped) == 5_000 and sum(len(c) for c in grouped["caption"]) == 25_014


def test_real_karpathy_test():
    path = shared("coco_captions", "coco_karpathy_test.json.gz")
    ds = load_captions(path)
    assert len(ds) == 25_010 and len(set(ds["image_id"])) == 5_000
    assert ds[0]["image"] == "val2014/COCO_val2014_000000391895.jpg"
    assert ds[0]["caption"].endswith(" ")  # captions untouched
    assert len(load_captions(path, explode=False)) == 5_000


def test_real_scan_lines():
    assert len(load_captions(shared("coco_captions", "scan_coco_precomp", "testall_caps.txt.gz"))) == 25_000


def test_real_flickr8k_folder():
    folder = shared("flickr8k", "hodosh2013")
    ds = load_captions(folder)
    assert len(ds) == 40_460 and len(set(ds["image_id"])) == 8_093
    assert ds[0]["image_id"] == "1000268201_693b08cb0e.jpg"
    assert ds[0]["image"] == str(folder / "1000268201_693b08cb0e.jpg")
    assert ds[0]["caption"] == "A child in a pink dress is climbing up a set of stairs in an entry way ."


def test_real_negclip_tsv():
    path = shared("negclip_coco", "valid_neg_clip.tsv.gz")
    ds = load_captions(path, caption_column="title")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(ds) == len(rows) == 4_839  # quoted newlines inside neg_caption are read as one row
    assert ds["caption"] == [r["title"] for r in rows]
    assert ds[0]["image"] == "coco/val2014/COCO_val2014_000000184613.jpg"


def test_real_sugarcrepe_and_factual_json():
    ds = load_captions(shared("sugarcrepe", "swap_obj.json"))
    assert len(ds) == 245 and ds[0]["image"].endswith(".jpg") and "negative_caption" in ds.column_names
    factual = load_captions(shared("flickr8k", "factual_expert_json", "flickr8k.json.gz"), caption_column="ground_truth")
    assert len(set(factual["image_id"])) == 1_000 and all(isinstance(c, str) for c in factual["caption"])
