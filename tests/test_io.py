"""iccc.io: read_captions (every supported format, .gz variants, errors, the real COCO files), the
row writers (write_rows / open_writer: every output suffix reads back) and write_dataset."""

from __future__ import annotations

import csv
import gzip
import json
import re

import pytest
from helpers import write

from iccc.io import (
    OUTPUT_SUFFIXES,
    file_format,
    group_key,
    open_writer,
    output_format,
    output_kind,
    read_captions,
    write_dataset,
    write_rows,
)

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


def test_jsonl_without_the_caption_field(tmp_path):
    # the first row decides: without the field the file is refused, naming it and the fields there are
    path = write(tmp_path / "c.jsonl", '{"text": "A cat."}\n')
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}: no caption column 'caption'\. Available: \['text'\]\. "
                                       "Pass caption_column="):
        list(read_captions(path))
    # a later row without it is kept, with caption None (iccc parse gives it the status "missing")
    path = write(tmp_path / "c.jsonl", '{"caption": "A dog."}\n\n{"text": "A cat."}\n')
    assert list(read_captions(path)) == [{"caption": "A dog."}, {"text": "A cat.", "caption": None}]


def test_other_caption_column_may_not_hide_a_caption_field(tmp_path):
    path = write(tmp_path / "c.jsonl", json.dumps({"caption": "x", "text": "A dog."}) + "\n")
    with pytest.raises(ValueError, match="caption_column='text', but the source also has a 'caption' field"):
        list(read_captions(path, caption_column="text"))


@pytest.mark.parametrize("name", ["c.ndjson", "c.json", "c.ndjson.gz"])
def test_json_lines_under_other_names(tmp_path, name):
    path = write(tmp_path / name, '{"caption": "A dog."}\n{"caption": "A cat."}\n')
    assert list(read_captions(path)) == [{"caption": "A dog."}, {"caption": "A cat."}]


def test_jsonl_line_that_is_no_object(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"caption": "A dog."}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"c\.jsonl:2: expected a JSON object per line, got list"):
        list(read_captions(path))


def test_a_file_of_caption_lists_is_exploded_a_stray_list_kept_whole(tmp_path):
    lists = write(tmp_path / "lists.jsonl", json.dumps({"image": "a.jpg", "caption": ["A dog.", "A cat."]}) + "\n"
                  + json.dumps({"image": "b.jpg", "caption": "A bird."}) + "\n")
    assert list(read_captions(lists)) == [{"image": "a.jpg", "caption": "A dog."}, {"image": "a.jpg", "caption": "A cat."},
                                          {"image": "b.jpg", "caption": "A bird."}]
    single = write(tmp_path / "single.jsonl", json.dumps({"caption": "A bird."}) + "\n"
                   + json.dumps({"caption": ["a list", "of words"]}) + "\n")
    assert [r["caption"] for r in read_captions(single)] == ["A bird.", ["a list", "of words"]]


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


def test_csv_missing_column_names_path_and_columns(tmp_path):
    path = write(tmp_path / "c.csv", "id,text\n1,A dog.\n")
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}: no caption column 'caption'\. Available: \['id', 'text'\]"):
        list(read_captions(path))


def test_csv_rows_with_extra_or_missing_cells_and_spaced_headers(tmp_path):
    path = write(tmp_path / "c.csv", "image, caption\na.jpg, A dog., x, y\nb.jpg\n")
    assert list(read_captions(path)) == [{"image": "a.jpg", "caption": "A dog.", "extra_fields": ["x", "y"]},
                                         {"image": "b.jpg", "caption": None}]


@pytest.mark.parametrize("text, rows", [
    ("1.jpg#0\tA dog .\n1.jpg#1\tA cat .\n", [{"image": "1.jpg", "caption_number": 0, "caption": "A dog ."},
                                               {"image": "1.jpg", "caption_number": 1, "caption": "A cat ."}]),
    ("image|caption\na.jpg|A dog, brown.\n", [{"image": "a.jpg", "caption": "A dog, brown."}]),
    ("A dog, brown.\nA cat.\n", [{"caption": "A dog, brown."}, {"caption": "A cat."}]),
])
def test_txt_is_a_flickr_token_file_a_delimited_table_or_lines(tmp_path, text, rows):
    path = write(tmp_path / "c.txt", text)
    assert list(read_captions(path)) == rows


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_coco_json(tmp_path, gz):
    path = write(tmp_path / f"captions.json{gz}", json.dumps(COCO))
    assert list(read_captions(path)) == [
        {"image_id": 1, "id": 10, "caption": "A dog on a bed.", "file_name": "1.jpg"},
        {"image_id": 1, "id": 11, "caption": "A brown dog sleeping. ", "file_name": "1.jpg"},
    ]


def test_karpathy_dataset_json_and_an_object_of_records(tmp_path):
    karpathy = {"images": [{"filepath": "val2014", "filename": "a.jpg", "cocoid": 5, "split": "test",
                            "sentences": [{"raw": "A dog.", "sentid": 1}, {"raw": "A cat.", "sentid": 2}]}]}
    rows = list(read_captions(write(tmp_path / "dataset_coco.json", json.dumps(karpathy))))
    assert [(r["caption"], r["image"], r["image_id"], r["sentid"]) for r in rows] == [
        ("A dog.", "val2014/a.jpg", 5, 1), ("A cat.", "val2014/a.jpg", 5, 2)]
    records = write(tmp_path / "swap_att.json", json.dumps({"0": {"filename": "1.jpg", "caption": "A red car."}}))
    assert list(read_captions(records)) == [{"key": "0", "filename": "1.jpg", "caption": "A red car."}]


def test_a_folder_reads_its_captions_file(tmp_path):
    (tmp_path / "images").mkdir()
    write(tmp_path / "captions.csv.gz", "image,caption\na.jpg,A dog.\n")
    assert list(read_captions(tmp_path)) == [{"image": "a.jpg", "caption": "A dog."}]


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
    with pytest.raises(KeyError, match=rf"{re.escape(str(path))}: no caption column 'caption'"):
        list(read_captions(path))


def test_json_of_another_shape_names_the_path(tmp_path):
    path = write(tmp_path / "other.json", json.dumps({"captions": ["A dog."]}))
    with pytest.raises(ValueError, match=rf"'{re.escape(str(path))}': a JSON caption file should be COCO .* got dict "
                                         r"with keys \['captions'\]"):
        list(read_captions(path))
    path = write(tmp_path / "strings.json", json.dumps(["A dog."]))
    with pytest.raises(ValueError, match="item 0 of the JSON list is str, not an object"):
        list(read_captions(path))


def test_parquet_rows_and_lists(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"image": ["a.jpg"], "caption": [["A dog.", "A cat."]]}), tmp_path / "c.parquet")
    assert list(read_captions(tmp_path / "c.parquet")) == [{"image": "a.jpg", "caption": "A dog."},
                                                          {"image": "a.jpg", "caption": "A cat."}]
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="is not a readable Parquet file"):
        list(read_captions(tmp_path / "bad.parquet"))


# ------------------------------------------------------------------ errors
def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"`path` '{re.escape(str(tmp_path / 'nope.txt'))}' does not exist"):
        list(read_captions(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="is neither a folder with a captions file"):
        list(read_captions(tmp_path))  # a folder without one


@pytest.mark.parametrize("name", ["c.xlsx", "c", "c.gz", "c.xml.gz"])
def test_unknown_format_lists_the_formats(tmp_path, name):
    path = write(tmp_path / name, "A dog.")
    with pytest.raises(ValueError, match=r"Unknown caption file format .* Supported: COCO captions_\*\.json; .*\.jsonl"):
        list(read_captions(path))


def test_gzipped_parquet_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"a Parquet file cannot be read gzipped"):
        file_format(tmp_path / "c.parquet.gz")


def test_group_key_is_the_image_id_load_captions_gives():
    assert group_key({"image_id": 0, "image": "a.jpg"}) == 0
    assert group_key({"image": "a.jpg"}) == "a.jpg"
    assert group_key({"file_name": "b.jpg", "image_id": None}) == "b.jpg"
    assert group_key({"image_path": "c.jpg", "img": "d.jpg"}) == "c.jpg"
    assert group_key({"caption": "A dog."}) is None


# ------------------------------------------------------------------ real files
def test_real_coco_val2017(coco_dir):
    rows = list(read_captions(coco_dir / "captions_val2017.json.gz"))
    assert len(rows) == 25_014
    assert rows[0] == {"image_id": 179765, "id": 38, "caption": "A black Honda motorcycle parked in front of a garage.",
                       "file_name": "000000179765.jpg"}
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


# ------------------------------------------------------------------ writing
#: Rows as a parse/corrupt output holds them: nested concepts, odd captions, mixed types in a column.
WRITTEN = [
    {"image_id": 1, "caption": "A dog, brown, on a bed.", "concepts": [{"kind": "noun", "text": "dog", "start": 2}],
     "parse_status": "ok"},
    {"image_id": 2, "caption": 'A "quoted"\tcaption\nover two lines.', "concepts": [], "parse_status": "ok"},
    {"image_id": "3", "caption": None, "concepts": [], "parse_status": "missing", "extra": True},
    {"image_id": 4, "caption": 42, "concepts": [], "parse_status": "not_string"},
    {"image_id": 5, "caption": "猫がソファの上で寝ている。", "concepts": [], "parse_status": "non_english"},
]


def _cell_text(value):
    """What a CSV/TSV (or a Parquet column of mixed types) reads back for ``value``: text."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("suffix", list(OUTPUT_SUFFIXES))
def test_every_output_suffix_reads_back(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"rows{suffix}"
    assert write_rows(path, WRITTEN) == len(WRITTEN)
    if suffix.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            f.read()  # really gzipped
    back = list(read_captions(path))
    assert len(back) == len(WRITTEN)
    fmt = output_format(path)
    if fmt == "jsonl":
        assert back == WRITTEN
    elif fmt in ("csv", "tsv"):
        columns = ["image_id", "caption", "concepts", "parse_status", "extra"]  # union, in order of appearance
        assert all(list(r) == columns for r in back)
        assert [r["caption"] for r in back] == [_cell_text(r["caption"]) for r in WRITTEN]
        assert [json.loads(r["concepts"]) for r in back] == [r["concepts"] for r in WRITTEN]
        assert [r["extra"] for r in back] == ["", "", "true", "", ""]
    else:  # parquet: typed columns where arrow can, text for a column of mixed types
        assert [r["concepts"] for r in back] == [r["concepts"] for r in WRITTEN]
        assert [r["parse_status"] for r in back] == [r["parse_status"] for r in WRITTEN]
        assert [r["caption"] for r in back] == [None if r["caption"] is None else _cell_text(r["caption"])
                                               for r in WRITTEN]
        assert [r["extra"] for r in back] == [None, None, True, None, None]


def test_csv_output_of_no_rows_reads_back_as_no_rows(tmp_path):
    assert write_rows(tmp_path / "none.csv", []) == 0
    assert list(read_captions(tmp_path / "none.csv", caption_column="caption")) == []


@pytest.mark.parametrize("name, got", [("out.txt", "the suffix '.txt'"), ("out.json", "the suffix '.json'"),
                                       ("out", "a folder name (no suffix)"), ("out.gz", "the suffix '.gz'"),
                                       ("out.parquet.gz", "the suffix '.parquet.gz'"), (".jsonl", "a folder name")])
def test_unknown_output_suffix_lists_the_accepted_ones(tmp_path, name, got):
    accepted = ".jsonl/.jsonl.gz/.ndjson/.ndjson.gz, .csv/.csv.gz, .tsv/.tsv.gz, .parquet"
    with pytest.raises(ValueError, match=rf"`path` '.*': the output can be written as {re.escape(accepted)}; "
                                         rf"got {re.escape(got)}"):
        open_writer(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_output_kind_names_the_option_and_what_is_written(tmp_path):
    assert [output_kind(tmp_path / n) for n in ("b", "b/", "b.JSON", "b.ndjson.gz", "b.tsv.gz")] == [
        "folder", "folder", "json", "jsonl", "tsv"]
    with pytest.raises(ValueError, match=r"`-o` '.*n\.json': `iccc export negclip` can be written as "
                                         r"\.tsv/\.tsv\.gz, \.csv/\.csv\.gz; got the suffix '\.json'\."):
        output_kind(tmp_path / "n.json", ("tsv", "csv"), what="`iccc export negclip`")
    with pytest.raises(ValueError, match="can be written as a folder name without a suffix"):
        output_kind(tmp_path / "s.jsonl", ("folder",))


def test_writer_refuses_a_missing_folder_and_a_bad_row(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_writer(tmp_path / "no" / "such" / "out.jsonl")
    with pytest.raises(TypeError, match="A row should be a dict, got list"):
        write_rows(tmp_path / "out.jsonl", [["not", "a", "dict"]])
    with pytest.raises(TypeError, match="`path` should be a file path, got int"):
        open_writer(3)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_failed_write_leaves_no_file_and_keeps_an_old_one(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with pytest.raises(RuntimeError):
        with open_writer(path) as out:
            out.write({"caption": "A dog."})
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    write_rows(path, [{"caption": "Old."}])
    with pytest.raises(RuntimeError):
        with open_writer(path) as out:
            out.write({"caption": "New."})
            raise RuntimeError("interrupted")
    assert [r["caption"] for r in read_captions(path)] == ["Old."]
    assert list(tmp_path.iterdir()) == [path]


def test_parquet_without_pyarrow_names_the_package(tmp_path, monkeypatch):
    import iccc.io

    monkeypatch.setattr(iccc.io, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError) as info:
        open_writer(tmp_path / "out.parquet")
    assert info.value.name == "pyarrow"


def test_write_dataset_writes_what_the_name_says_with_the_cells_of_row_writer(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = [{"caption": "A dog, brown.", "n": 1, "ok": True, "image": None},
            {"caption": 'A "cat"\nover two lines.', "n": 2, "ok": False, "image": "b.jpg"}]
    ds = datasets.Dataset.from_list(rows)
    for name in ("d.csv", "d.tsv.gz"):
        write_dataset(ds, tmp_path / name)
        write_rows(tmp_path / f"rows.{name}", rows)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(tmp_path / name, "rt", encoding="utf-8", newline="") as a, \
                opener(tmp_path / f"rows.{name}", "rt", encoding="utf-8", newline="") as b:
            assert a.read() == b.read()  # one cell writer: true/false, empty None, quoted newlines
        assert [r["caption"] for r in read_captions(tmp_path / name)] == [r["caption"] for r in rows]
    assert [r["ok"] for r in read_captions(tmp_path / "d.csv")] == ["true", "false"]
    write_dataset(ds, tmp_path / "d.json")
    assert json.loads((tmp_path / "d.json").read_text(encoding="utf-8")) == rows
    write_dataset(ds, tmp_path / "d.jsonl.gz")
    assert list(read_captions(tmp_path / "d.jsonl.gz")) == rows
    write_dataset(ds, tmp_path / "folder")
    assert datasets.load_from_disk(str(tmp_path / "folder")).to_list() == rows
    nested = datasets.Dataset.from_list([{"caption": "A dog.", "concepts": [{"text": "dog"}]}])
    with pytest.raises(ValueError, match=r"CSV holds flat columns only, but \['concepts'\] are nested"):
        write_dataset(nested, tmp_path / "n.csv")
