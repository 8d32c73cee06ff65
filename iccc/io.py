"""Reading caption files: plain text, JSONL, CSV, COCO ``captions_*.json`` and the Karpathy/LAVIS
list format. Every reader yields dict rows with at least ``caption``; rows keep their other fields."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Iterator

FORMATS = ("txt", "jsonl", "csv", "json")


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    # utf-8-sig: files saved by spreadsheet programs start with a byte-order mark
    return open(path, encoding="utf-8-sig", newline="")


def _format_of(path: Path) -> str:
    suffixes = [s.lstrip(".").lower() for s in path.suffixes if s != ".gz"]
    return suffixes[-1] if suffixes else ""


def read_captions(path, *, caption_column: str = "caption") -> Iterator[dict]:
    """Yield caption rows from a file (optionally ``.gz``).

    * ``.txt``: one caption per line (``{"caption": line}``);
    * ``.jsonl``: one object per line with a ``caption_column`` field;
    * ``.csv``/``.tsv``: a header with a ``caption_column`` column;
    * ``.json``: COCO captions (``annotations`` with ``image_id``/``caption``), or a list of
      objects whose caption field is a string or a list of strings (Karpathy/LAVIS: one row per
      caption, ``image`` kept as the group).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.txt")
    >>> _ = open(path, "w").write("A dog.\\nA cat.\\n")
    >>> [r["caption"] for r in read_captions(path)]
    ['A dog.', 'A cat.']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`path` {str(path)!r} is not a file.")
    fmt = _format_of(path)
    if fmt == "txt":
        with _open(path) as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield {"caption": line}
    elif fmt == "jsonl":
        with _open(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as err:
                        raise ValueError(f"{path}:{number}: not valid JSON ({err.msg}): {line[:80]!r}") from None
                    yield _with_caption(row, caption_column, f"{path}:{number}")
    elif fmt in ("csv", "tsv"):
        with _open(path) as f:
            reader = csv.DictReader(f, delimiter="\t" if fmt == "tsv" else ",")
            for number, row in enumerate(reader, 2):
                yield _with_caption(dict(row), caption_column, f"{path}:{number}")
    elif fmt == "json":
        with _open(path) as f:
            data = json.load(f)
        yield from _json_rows(data, caption_column, path)
    else:
        raise ValueError(
            f"Unknown caption file format {path.suffix!r} for {str(path)!r}. "
            f"Available: .txt, .jsonl, .csv, .tsv, .json (COCO or list), each optionally .gz."
        )


def _with_caption(row: dict, column: str, where: str) -> dict:
    if column not in row:
        raise KeyError(f"{where}: no {column!r} field (fields: {sorted(row)}). Pass caption_column=.")
    if column != "caption":
        row = {**row, "caption": row[column]}
    return row


def _json_rows(data, column: str, path: Path) -> Iterator[dict]:
    if isinstance(data, dict) and "annotations" in data:
        for ann in data["annotations"]:
            yield {"image_id": ann.get("image_id"), "id": ann.get("id"), "caption": ann.get("caption")}
        return
    if isinstance(data, list):
        for row in data:
            captions = row.get(column)
            if isinstance(captions, list):
                for caption in captions:
                    yield {**{k: v for k, v in row.items() if k != column}, "caption": caption}
            else:
                yield _with_caption(row, column, str(path))
        return
    raise ValueError(
        f"{str(path)!r}: a JSON caption file must be COCO-style (with 'annotations') or a list of "
        f"objects, got {type(data).__name__}."
    )


def group_key(row: dict):
    """The id that groups captions of one image (``image_id``, ``image``, else ``None``)."""
    for key in ("image_id", "image", "filename", "file_name"):
        if row.get(key) is not None:
            return row[key]
    return None
