"""iccc.io.read_captions: every supported format, .gz variants, errors, and the real COCO files."""

from __future__ import annotations

import csv
import gzip
import json
import re

import pytest
from helpers import write

from iccc.io import group_key, read_captions

COCO = {
    "info": {"description": "test"},
    "images": [{"id": 1, "file_name": "1.jpg"}],
    "annotations": [
        {"image_id": 1, "id": 10, "caption": "A dog on a bed."},
        {"image_id": 1, "id": 11, "caption": "A brown dog sleeping. "},
    ],
}
KARPATHY = [
    {"image": "val2014/a.jpg", "caption": ["A cat.", "A cat on a mat. "], "split": "test"},
    {"image": "val2014/b.jpg", "caption": "A single caption."},
]


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_txt_one_caption_per_line_blank_lines_skipped(tmp_path, gz):
    path = write(tmp_path / f"c.txt{gz}", "A dog.\r\n\n  A cat  \n   \nA bird.")
    assert list(read_captions(path)) == [{"caption": "A dog."}, {"caption": "  A cat  "}, {"caption": "A bird."}]


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_jsonl_keeps_other_fields(tmp_path, gz):
    lines = [{"caption": "A dog.", "image_id": 3}, {"caption": None, "image_id": 4}, {"caption": "A cat.", "x": [1]}]
    path = write(tmp_path / f"c.jsonl{gz}", "\n".join(json.dumps(r) for r in lines) + "\n\n")
    assert list(read_captions(path)) == lines


def test_jsonl_other_caption_column(tmp_path):
    path = write(tmp_path / "c.jsonl", json.dumps({"text": "A dog.", "id": 1}) + "\n")
    assert list(read_captions(path, caption_column="text")) == [{"text": "A dog.", "id": 1, "caption": "A dog."}]


def test_jsonl_missing_field_names_path_line_and_field(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"caption": "A dog."}\n\n{"text": "A cat."}\n')
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}:3: no 'caption' field \(fields: \['text'\]\)\. Pass caption_column="):
        list(read_captions(path))


@pytest.mark.parametrize("name, delimiter", [("c.csv", ","), ("c.tsv", "\t"), ("c.csv.gz", ","), ("c.tsv.gz", "\t")])
def test_csv_and_tsv(tmp_path, name, delimiter):
    rows = [
        {"image_id": "1", "caption": "A dog, brown, on a bed."},
        {"image_id": "2", "caption": 'A "quoted"\nmulti-line caption.'},
        {"image_id": "3", "caption": ""},
    ]
    path = tmp_path / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image_id", "caption"], delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    assert list(read_captions(path)) == rows


def test_csv_missing_column_names_path_and_row(tmp_path):
    path = write(tmp_path / "c.csv", "id,text\n1,A dog.\n")
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}:2: no 'caption' field \(fields: \['id', 'text'\]\)"):
        list(read_captions(path))


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_coco_json(tmp_path, gz):
    path = write(tmp_path / f"captions.json{gz}", json.dumps(COCO))
    assert list(read_captions(path)) == [
        {"image_id": 1, "id": 10, "caption": "A dog on a bed."},
        {"image_id": 1, "id": 11, "caption": "A brown dog sleeping. "},
    ]


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_karpathy_list_one_row_per_caption(tmp_path, gz):
    path = write(tmp_path / f"karpathy.json{gz}", json.dumps(KARPATHY))
    assert list(read_captions(path)) == [
        {"image": "val2014/a.jpg", "split": "test", "caption": "A cat."},
        {"image": "val2014/a.jpg", "split": "test", "caption": "A cat on a mat. "},
        {"image": "val2014/b.jpg", "caption": "A single caption."},
    ]


def test_json_list_missing_field_names_the_path(tmp_path):
    path = write(tmp_path / "list.json", json.dumps([{"image": "a.jpg", "text": "A dog."}]))
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}: no 'caption' field"):
        list(read_captions(path))


def test_json_of_another_shape_names_the_path(tmp_path):
    path = write(tmp_path / "other.json", json.dumps({"captions": ["A dog."]}))
    with pytest.raises(ValueError, match=rf"'{re.escape(str(path))}': a JSON caption file must be COCO-style .* got dict"):
        list(read_captions(path))


# ------------------------------------------------------------------ errors
def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"`path` '{re.escape(str(tmp_path / 'nope.txt'))}' is not a file"):
        list(read_captions(tmp_path / "nope.txt"))
    with pytest.raises(FileNotFoundError, match="is not a file"):
        list(read_captions(tmp_path))  # a directory


@pytest.mark.parametrize("name", ["c.parquet", "c", "c.gz", "c.xml.gz"])
def test_unknown_format_lists_the_formats(tmp_path, name):
    path = write(tmp_path / name, "A dog.")
    with pytest.raises(ValueError, match=r"Unknown caption file format .* Available: \.txt, \.jsonl, \.csv, \.tsv, \.json"):
        list(read_captions(path))


def test_group_key():
    assert group_key({"image_id": 0, "image": "a.jpg"}) == 0
    assert group_key({"image": "a.jpg"}) == "a.jpg"
    assert group_key({"file_name": "b.jpg", "image_id": None}) == "b.jpg"
    assert group_key({"caption": "A dog."}) is None


# ------------------------------------------------------------------ real files
def test_real_coco_val2017(coco_dir):
    rows = list(read_captions(coco_dir / "captions_val2017.json.gz"))
    assert len(rows) == 25_014
    assert rows[0] == {"image_id": 179765, "id": 38, "caption": "A black Honda motorcycle parked in front of a garage."}
    assert len({group_key(r) for r in rows}) == 5_000
    assert all(isinstance(r["caption"], str) and r["caption"].strip() for r in rows)


def test_real_karpathy_test_split(coco_dir):
    path = coco_dir / "coco_karpathy_test.json.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found (the shared data directory is incomplete)")
    rows = list(read_captions(path))
    assert len(rows) == 25_010
    assert len({group_key(r) for r in rows}) == 5_000
    assert rows[0]["image"] == "val2014/COCO_val2014_000000391895.jpg"
    assert rows[0]["caption"].endswith("dirt road. ")  # captions are untouched, trailing space kept


def test_real_scan_text_files(coco_dir):
    folder = coco_dir / "scan_coco_precomp"
    if not (folder / "testall_caps.txt.gz").is_file() or not (folder / "test_caps.txt").is_file():
        pytest.skip(f"{folder} not found (the shared data directory is incomplete)")
    five_k = list(read_captions(folder / "testall_caps.txt.gz"))
    one_k = list(read_captions(folder / "test_caps.txt"))
    assert (len(five_k), len(one_k)) == (25_000, 5_000)
    assert one_k[0] == {"caption": "A man with a red helmet on a small moped on a dirt road ."}


def test_csv_with_byte_order_mark_reads_the_caption_column(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("caption,id\nA dog on a bed.,7\n", encoding="utf-8-sig")
    from iccc.io import read_captions

    assert list(read_captions(path)) == [{"caption": "A dog on a bed.", "id": "7"}]


def test_bad_jsonl_line_names_the_file_and_line(tmp_path):
    import pytest

    from iccc.io import read_captions

    path = tmp_path / "rows.jsonl"
    path.write_text('{"caption": "A cat."}\n{not json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"rows\.jsonl:2: not valid JSON"):
        list(read_captions(path))
