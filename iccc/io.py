"""Reading and writing caption files.

:func:`read_captions` reads plain text, JSONL, CSV/TSV, Parquet, COCO ``captions_*.json`` and the
Karpathy/LAVIS list format; every reader yields dict rows with at least ``caption``; rows keep their
other fields. :func:`open_writer` / :func:`write_rows` write dict rows in the format the file name
says (:data:`OUTPUT_SUFFIXES`), readable back by :func:`read_captions`."""

from __future__ import annotations

import csv
import gzip
import json
import os
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable, Iterator, Mapping

#: Input formats :func:`read_captions` knows (each but parquet optionally ``.gz``).
FORMATS = ("txt", "jsonl", "csv", "tsv", "json", "parquet")
#: File name endings :func:`open_writer` accepts, and the format each is written in.
OUTPUT_SUFFIXES = {
    ".jsonl": "jsonl", ".jsonl.gz": "jsonl",
    ".csv": "csv", ".csv.gz": "csv",
    ".tsv": "tsv", ".tsv.gz": "tsv",
    ".parquet": "parquet",
}


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
    * ``.parquet``: a table with a ``caption_column`` column (needs ``pyarrow``; not ``.gz``);
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
    elif fmt == "parquet" and path.suffix.lower() != ".gz":
        yield from _parquet_rows(path, caption_column)
    else:
        raise ValueError(
            f"Unknown caption file format {path.suffix!r} for {str(path)!r}. "
            f"Available: .txt, .jsonl, .csv, .tsv, .json (COCO or list), each optionally .gz, and .parquet."
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


def _parquet_rows(path: Path, column: str) -> Iterator[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches()
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"{str(path)!r} is not a readable Parquet file: {err}") from None
    number = 0
    for batch in batches:
        for row in batch.to_pylist():
            number += 1
            yield _with_caption(row, column, f"{path}: row {number}")


def group_key(row: dict):
    """The id that groups captions of one image (``image_id``, ``image``, else ``None``)."""
    for key in ("image_id", "image", "filename", "file_name"):
        if row.get(key) is not None:
            return row[key]
    return None


# ---------------------------------------------------------------------------------------- writing
def output_format(path) -> str:
    """The format (``"jsonl"``, ``"csv"``, ``"tsv"``, ``"parquet"``) a file is written in, from its name.

    Raises ValueError listing :data:`OUTPUT_SUFFIXES` for any other name, and ModuleNotFoundError
    (name ``pyarrow``) for ``.parquet`` without pyarrow.

    >>> output_format("out.jsonl.gz"), output_format("OUT.CSV")
    ('jsonl', 'csv')
    """
    name = os.path.basename(os.fspath(path)).lower() if isinstance(path, (str, os.PathLike)) else None
    if name is None:
        raise TypeError(f"`path` should be a file path, got {type(path).__name__}: {path!r:.80}.")
    for suffix in sorted(OUTPUT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            fmt = OUTPUT_SUFFIXES[suffix]
            if fmt == "parquet" and find_spec("pyarrow") is None:
                raise ModuleNotFoundError("writing .parquet needs pyarrow", name="pyarrow")
            return fmt
    raise ValueError(f"Cannot tell the output format of {os.fspath(path)!r} from its name. "
                     f"Accepted endings: {', '.join(OUTPUT_SUFFIXES)}.")


def _cell(value) -> str:
    """A CSV/TSV cell: text as is, None empty, lists and dicts (concepts ...) JSON-encoded."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


class RowWriter:
    """Writes dict rows to ``path`` in the format its name says (:func:`output_format`).

    The rows go to a temporary file next to ``path``, which replaces ``path`` on :meth:`close`: a
    failed run leaves no half-written file (and an old file stays as it was). JSONL is written as the
    rows come; CSV/TSV/Parquet need every column name first, so their rows are spooled to a temporary
    JSONL file and the table is written on close (a CSV/TSV header is the union of the rows' fields,
    in order of appearance; Parquet stores a column Arrow cannot type as one type as text, like CSV).
    Use as a context manager: the file is finished on a normal exit and discarded on an exception.
    """

    def __init__(self, path):
        self.format = output_format(path)
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"Cannot write {str(self.path)!r}: the folder {str(self.path.parent)!r} "
                                    "does not exist.")
        if self.path.is_dir():
            raise IsADirectoryError(f"Cannot write {str(self.path)!r}: it is a folder.")
        self.gz = self.path.name.lower().endswith(".gz")
        self.n_rows = 0
        self._columns: dict[str, None] = {}
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._spool = None if self.format == "jsonl" else tempfile.TemporaryFile("w+", encoding="utf-8")
        self._out = self._open_out() if self.format == "jsonl" else None

    def _open_out(self):
        if self.gz:
            return gzip.open(self._tmp, "wt", encoding="utf-8", newline="")
        return open(self._tmp, "w", encoding="utf-8", newline="")

    def write(self, row: Mapping) -> None:
        """Add one row (a mapping of field names to JSON-able values; others are written as ``str``)."""
        if not isinstance(row, Mapping):
            raise TypeError(f"A row should be a dict, got {type(row).__name__}: {row!r:.80}.")
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        if self._spool is None:
            self._out.write(line)
        else:
            self._spool.write(line)
            for key in row:
                self._columns.setdefault(str(key))
        self.n_rows += 1

    def _spooled(self) -> Iterator[dict]:
        self._spool.seek(0)
        for line in self._spool:
            yield json.loads(line)

    def close(self) -> None:
        """Finish the file: write the table (CSV/TSV/Parquet) and move it to ``path``."""
        try:
            if self.format in ("csv", "tsv"):
                self._out = self._open_out()
                writer = csv.writer(self._out, delimiter="\t" if self.format == "tsv" else ",")
                columns = list(self._columns)
                writer.writerow(columns)
                for row in self._spooled():
                    writer.writerow([_cell(row.get(c)) for c in columns])
            elif self.format == "parquet":
                self._write_parquet()
            if self._out is not None:
                self._out.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        finally:
            if self._spool is not None:
                self._spool.close()

    def _write_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        values = {c: [] for c in self._columns}
        for row in self._spooled():
            for c in values:
                values[c].append(row.get(c))
        arrays = {}
        for c, column in values.items():
            try:
                arrays[c] = pa.array(column)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                arrays[c] = pa.array([None if v is None else _cell(v) for v in column], pa.string())
        pq.write_table(pa.table(arrays) if arrays else pa.table({}), self._tmp)

    def abort(self) -> None:
        """Discard what was written (``path`` is left untouched)."""
        for f in (self._out, self._spool):
            if f is not None:
                f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def open_writer(path) -> RowWriter:
    """A :class:`RowWriter` for ``path``; checks the name (and the folder) before anything is computed.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> with open_writer(path) as out:
    ...     out.write({"caption": "A dog.", "concepts": [{"text": "dog"}]})
    >>> [r["caption"] for r in read_captions(path)]
    ['A dog.']
    """
    return RowWriter(path)


def write_rows(path, rows: Iterable[Mapping]) -> int:
    """Write ``rows`` to ``path`` (format from the name, :data:`OUTPUT_SUFFIXES`); the number written."""
    with open_writer(path) as out:
        for row in rows:
            out.write(row)
    return out.n_rows
