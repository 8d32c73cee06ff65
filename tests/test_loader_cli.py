"""One caption loader for every subcommand: the same six captions, written in every supported format,
are read by ``iccc parse``, ``iccc corrupt``, ``iccc build`` and ``iccc export`` as the same captions in
the same order (parse and corrupt read with :func:`iccc.io.read_captions`, build and export with
:func:`iccc.dataset.load_captions`; both are :mod:`iccc.io`'s reader).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from helpers import write

from iccc.io import read_captions

pytestmark = pytest.mark.model
datasets = pytest.importorskip("datasets")

#: Two captions per image, three images: enough for a concept base with siblings.
IMAGES = ("a.jpg", "b.jpg", "c.jpg")
CAPTIONS = (
    "A black dog sitting on a red couch.", "A brown dog lying on a green bed.",
    "Two cats sitting on a wooden table.", "A white cat sleeping on a table.",
    "A man riding a blue bicycle down a street.", "A woman riding a red bike on a road.",
)
ROWS = [{"image": IMAGES[k // 2], "caption": c} for k, c in enumerate(CAPTIONS)]


def _table(delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["image", "caption"], delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ROWS)
    return out.getvalue()


def _coco() -> str:
    images = [{"id": k + 1, "file_name": name} for k, name in enumerate(IMAGES)]
    annotations = [{"image_id": IMAGES.index(r["image"]) + 1, "id": 10 + k, "caption": r["caption"]}
                   for k, r in enumerate(ROWS)]
    return json.dumps({"info": {}, "images": images, "annotations": annotations})


def _karpathy_lists() -> str:
    return json.dumps([{"image": name, "caption": list(CAPTIONS[2 * k: 2 * k + 2]), "split": "test"}
                       for k, name in enumerate(IMAGES)])


def _karpathy_dataset() -> str:
    return json.dumps({"images": [{"filepath": "val2014", "filename": name, "cocoid": k, "split": "test",
                                   "sentences": [{"raw": c, "sentid": 2 * k + j}
                                                 for j, c in enumerate(CAPTIONS[2 * k: 2 * k + 2])]}
                                  for k, name in enumerate(IMAGES)]})


#: name -> text of each caption file (a name ending in / is a folder, holding the files listed).
FILES = {
    "lines.txt": "\n".join(CAPTIONS) + "\n",
    "lines.txt.gz": "\n".join(CAPTIONS) + "\n",
    "rows.jsonl": "".join(json.dumps(r) + "\n" for r in ROWS),
    "rows.jsonl.gz": "".join(json.dumps(r) + "\n" for r in ROWS),
    "rows.ndjson": "".join(json.dumps(r) + "\n" for r in ROWS),
    "rows.csv": _table(","),
    "rows.csv.gz": _table(","),
    "rows.tsv": _table("\t"),
    "rows.tsv.gz": _table("\t"),
    "table.txt": _table("|"),
    "list.json": json.dumps(ROWS),
    "list.json.gz": json.dumps(ROWS),
    "captions_val.json": _coco(),
    "captions_val.json.gz": _coco(),
    "karpathy_lists.json": _karpathy_lists(),
    "dataset_coco.json": _karpathy_dataset(),
    "Flickr8k.token.txt": "".join(f"{r['image']}#{k % 2}\t{r['caption']}\n" for k, r in enumerate(ROWS)),
    "rows.parquet": None,
    "kaggle_folder/": {"captions.txt": _table(","), "Images/": None},
    "metadata_folder/": {"metadata.jsonl.gz": "".join(json.dumps({"file_name": r["image"], "caption": r["caption"]})
                                                      + "\n" for r in ROWS)},
}
#: Files whose rows name no image: every caption is its own group.
NO_IMAGES = ("lines.txt", "lines.txt.gz")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    for name, text in FILES.items():
        if name == "rows.parquet":
            datasets.Dataset.from_list(ROWS).to_parquet(str(folder / name))
        elif name.endswith("/"):
            (folder / name).mkdir()
            for inner, content in text.items():
                if inner.endswith("/"):
                    (folder / name / inner).mkdir()
                else:
                    write(folder / name / inner, content)
        else:
            write(folder / name, text)
    return folder


def run_cli(argv, capsys) -> str:
    from iccc.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    return out


def test_every_format_is_a_format_of_the_list():
    from iccc.io import SUPPORTED_FILES

    for shown in ("COCO", "Karpathy", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", "token", ".parquet", ".gz", "folder"):
        assert shown in SUPPORTED_FILES


@pytest.mark.parametrize("name", list(FILES))
def test_every_subcommand_reads_the_same_captions(name, inputs, tmp_path, capsys, nlp):
    source = inputs / name.rstrip("/")
    assert [r["caption"] for r in read_captions(source)] == list(CAPTIONS)

    run_cli(["parse", source, "-o", tmp_path / "parsed.jsonl", "-q", "--show", "0"], capsys)
    parsed = list(read_captions(tmp_path / "parsed.jsonl"))
    assert [r["caption"] for r in parsed] == list(CAPTIONS)
    assert [r["parse_status"] for r in parsed] == ["ok"] * len(CAPTIONS)

    run_cli(["corrupt", source, "-o", tmp_path / "corrupted.jsonl", "-q", "--show", "0", "--no-balance"], capsys)
    corrupted = list(read_captions(tmp_path / "corrupted.jsonl"))
    assert [r["caption"] for r in corrupted] == list(CAPTIONS)
    assert [r["corrupt_status"] for r in corrupted] == ["ok"] * len(CAPTIONS)

    out = run_cli(["build", source, "-o", tmp_path / "built.jsonl", "-q", "--show", "0", "--no-balance"], capsys)
    built = list(read_captions(tmp_path / "built.jsonl"))
    assert [r["caption"] for r in built] == list(CAPTIONS)
    assert f"Rows: {len(CAPTIONS)}" in out
    # the group id build uses is the one corrupt uses: the image, when the rows name one
    groups = [r["image_id"] for r in built]
    assert len(set(groups)) == (1 if name in NO_IMAGES else len(IMAGES))
    assert groups[0] == groups[1] != groups[2] or name in NO_IMAGES

    out = run_cli(["export", "dpo", source, "-o", tmp_path / "pairs.jsonl", "-q", "--no-balance", "--standard"],
                  capsys)
    assert f"of {len(CAPTIONS)} rows" in out
    pairs = list(read_captions(tmp_path / "pairs.jsonl", caption_column="chosen"))
    chosen = [p["chosen"] for p in pairs]
    assert chosen and chosen == [c for c in CAPTIONS if c in chosen]  # the captions, in order, those with a negative


def test_parse_and_build_of_the_same_file_agree_on_every_field(inputs, tmp_path, capsys, nlp):
    """The rows ``iccc parse`` writes are the rows ``iccc build`` starts from, less the standard columns."""
    source = inputs / "captions_val.json.gz"
    run_cli(["parse", source, "-o", tmp_path / "parsed.jsonl", "-q", "--show", "0"], capsys)
    run_cli(["build", source, "-o", tmp_path / "built.jsonl", "-q", "--show", "0", "--no-balance"], capsys)
    parsed = list(read_captions(tmp_path / "parsed.jsonl"))
    built = list(read_captions(tmp_path / "built.jsonl"))
    for p, b in zip(parsed, built, strict=True):
        assert {k: p[k] for k in ("caption", "image_id", "id", "file_name")} == {
            k: b[k] for k in ("caption", "image_id", "id", "file_name")}
        assert b["image"] == p["file_name"]
    with gzip.open(source, "rt", encoding="utf-8") as f:
        assert [p["id"] for p in parsed] == [a["id"] for a in json.load(f)["annotations"]]
