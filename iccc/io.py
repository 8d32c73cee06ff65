"""Caption files in, row files out: the one place iccc reads and writes files of rows.

Reading. Every entry point reads captions through the same four steps, so every subcommand
accepts the same files and sees the same rows:

1. :func:`find_caption_file`: a file, or a folder's captions file (:data:`FOLDER_CAPTION_FILES`);
2. :func:`file_format`: the format, from the name (and, for ``.txt``, the first line);
3. :func:`source_rows`: the file's rows as dicts, every field kept (COCO, Karpathy and Flickr
   token files are turned into rows here);
4. :func:`shape_captions`: the caption under ``caption``, a file of caption lists exploded.

:func:`read_captions` is these four steps (what ``iccc parse`` and ``iccc corrupt`` read);
:func:`iccc.dataset.load_captions` adds the standard ``image`` and ``image_id`` columns and
returns a ``datasets.Dataset``. :data:`SUPPORTED_FILES` lists the formats.

Writing. :func:`output_kind` tells from a name what to write (:data:`FILE_SUFFIXES`, or a
folder); :class:`RowWriter` (:func:`open_writer`, :func:`write_rows`) writes dict rows as they
come, :func:`write_dataset` a whole ``datasets.Dataset``. Both write CSV/TSV cells the same way.

Only the standard library is imported here; pyarrow and datasets when a function needs them.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import re
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from .columns import CAPTION, IMAGE_ID

#: Fields that name a row's image, in the order they are looked for.
IMAGE_FIELDS = ("image", "image_path", "file_name", "filename", "filepath", "image_name", "img_path", "img")
#: Caption files looked for in a folder of images, in this order (each also ``.gz``).
FOLDER_CAPTION_FILES = (
    "metadata.jsonl", "metadata.csv", "captions.jsonl", "captions.csv", "captions.txt", "captions.json",
    "results.csv", "Flickr8k.token.txt", "results_20130124.token",
)
#: Sub-folders holding the images of a folder dataset (Kaggle Flickr8k/Flickr30k layouts).
IMAGE_SUBFOLDERS = ("Images", "images", "Flicker8k_Dataset", "Flickr8k_Dataset", "flickr30k_images")
#: What :func:`file_format` returns: ``token`` is a Flickr ``name.jpg#N<TAB>caption`` file,
#: ``delimited`` a ``.txt`` whose first line is a header naming the caption column.
FORMATS = ("txt", "token", "delimited", "jsonl", "csv", "tsv", "json", "parquet")
#: The caption files and folders :func:`read_captions` and :func:`iccc.dataset.load_captions` read.
SUPPORTED_FILES = (
    "COCO captions_*.json; a JSON list of {'image', 'caption': str or [str, ...]} (Karpathy/LAVIS); "
    "Karpathy's dataset_*.json ({'images': [{'sentences': ...}]}); a JSON object of records; "
    ".jsonl (also .ndjson); .csv/.tsv with a header; .txt (one caption per line, or a delimited file with a "
    "header); Flickr .token/.token.txt ('name.jpg#0<TAB>caption'); .parquet; each text format optionally .gz; "
    "a folder with a captions file (" + ", ".join(FOLDER_CAPTION_FILES) + ")"
)

_FLICKR_TOKEN = re.compile(r"^([^\t#]+)#(\d+)\t")


# ------------------------------------------------------------------------------------- reading
def read_captions(path, *, caption_column: str = CAPTION) -> Iterator[dict]:
    """Yield the caption rows of a file or folder (:data:`SUPPORTED_FILES`): each source row as a dict
    with every field kept and the caption (``caption_column``) also under ``caption``.

    A file of caption lists (Karpathy/LAVIS JSON, or any file whose first caption is a list) gives
    one row per caption; a stray list among single captions is kept whole (an oddly typed caption).
    COCO rows are ``image_id``, ``id``, ``caption``, ``file_name``; Flickr token rows ``image``,
    ``caption_number``, ``caption``; plain text ``caption`` only. :func:`iccc.dataset.load_captions`
    gives the same rows with the standard ``image`` and ``image_id`` columns added.

    Raises FileNotFoundError for a missing ``path``, ValueError for a format it cannot read and
    KeyError when the first row has no ``caption_column`` (a later row without it has caption None).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.txt")
    >>> _ = open(path, "w").write("A dog.\\nA cat.\\n")
    >>> [r["caption"] for r in read_captions(path)]
    ['A dog.', 'A cat.']
    """
    file, _ = find_caption_file(path, argument="path")
    fmt = file_format(file, caption_column)
    field = caption_field(fmt, caption_column)
    first, rows = peek(source_rows(file, fmt, caption_column=caption_column))
    if first is None:
        return
    check_caption_field(list(first), str(file), field)
    yield from shape_captions(rows, caption_column=field)


def find_caption_file(source, *, argument: str = "source") -> tuple[Path, str | None]:
    """``(captions file, image folder)`` of ``source``: a file is itself (no image folder); a folder
    gives its captions file (the first of :data:`FOLDER_CAPTION_FILES`, else a ``*.token*`` file) and
    the absolute path of the folder holding its images. ``argument`` names ``source`` in errors.
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"`{argument}` {str(path)!r} does not exist.")
    if not path.is_dir():
        return path, None
    found = None
    for name in FOLDER_CAPTION_FILES:
        found = next((c for c in (path / name, path / f"{name}.gz") if c.is_file()), None)
        if found is not None:
            break
    if found is None:
        tokens = sorted(p for p in path.glob("*.token*") if "lemma" not in p.name.lower() and p.is_file())
        found = tokens[0] if tokens else None
    if found is None:
        listing = sorted(p.name for p in path.iterdir())[:20]
        raise ValueError(
            f"{str(path)!r} is neither a folder with a captions file (looked for {', '.join(FOLDER_CAPTION_FILES)}, "
            f"*.token.txt, each optionally .gz) nor a dataset saved with save_to_disk (which iccc build, iccc export "
            f"and iccc.dataset.load_captions read). It holds: {listing}. Pass the captions file itself."
        )
    images = next((path / sub for sub in IMAGE_SUBFOLDERS if (path / sub).is_dir()), path)
    return found, os.path.abspath(images)


def file_format(path, caption_column: str = CAPTION) -> str:
    """The format of a caption file (one of :data:`FORMATS`), from its name (``.gz`` aside) and, for
    ``.txt``, its first line: a Flickr token line, a header naming ``caption_column``, or a caption.

    >>> file_format("captions_val2017.json.gz"), file_format("rows.ndjson")
    ('json', 'jsonl')
    """
    path = Path(path)
    suffixes = [s.lstrip(".").lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext == "parquet" and gz:
        raise ValueError(f"{str(path)!r}: a Parquet file cannot be read gzipped; gunzip it (Parquet compresses "
                         "its columns itself).")
    if ext in ("json", "jsonl", "csv", "tsv", "parquet", "token"):
        return ext
    if ext == "ndjson":
        return "jsonl"
    if ext == "txt":
        first = _first_line(path)
        if _FLICKR_TOKEN.match(first):
            return "token"
        if _header_delimiter(first, caption_column) is not None:
            return "delimited"
        return "txt"
    raise ValueError(
        f"Unknown caption file format {''.join(path.suffixes)!r} for {str(path)!r}. Supported: {SUPPORTED_FILES}."
    )


def caption_field(fmt: str, caption_column: str) -> str:
    """The field holding the caption in :func:`source_rows` of format ``fmt``: plain text and Flickr
    token rows have it under ``caption`` whatever ``caption_column`` says."""
    return CAPTION if fmt in ("token", "txt") else caption_column


def source_rows(path, fmt: str, *, caption_column: str = CAPTION, explode: bool = True) -> Iterator[dict]:
    """The rows of a caption file of format ``fmt`` (:func:`file_format`), every field kept.

    With ``explode=False`` COCO, Karpathy and Flickr token files give one row per image, its captions
    (and per-caption ids) as lists. ``caption_column`` finds the header line of a delimited file.
    """
    path = Path(path)
    if fmt == "txt":
        with _open(path) as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield {CAPTION: line}
    elif fmt == "token":
        rows = _token_rows(path)
        yield from (rows if explode else _grouped(rows, "image", ("caption_number",)))
    elif fmt == "jsonl":
        with _open(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield _json_line(line, f"{path}:{number}")
    elif fmt in ("csv", "tsv", "delimited"):
        yield from _delimited_rows(path, "\t" if fmt == "tsv" else None, caption_column)
    elif fmt == "json":
        yield from _json_file_rows(path, explode)
    elif fmt == "parquet":
        yield from _parquet_rows(path)
    else:
        raise ValueError(f"Unknown caption file format {fmt!r}. Available: {', '.join(map(repr, FORMATS))}.")


def check_caption_field(names, where: str, caption_column: str, *, rename: str = "") -> None:
    """Refuse a source without ``caption_column`` (KeyError listing ``names``), or one whose own
    ``caption`` field the caption would overwrite (ValueError; ``rename`` says how to rename)."""
    names = list(names)
    if caption_column not in names:
        raise KeyError(f"{where}: no caption column {caption_column!r}. Available: {names}. Pass caption_column=.")
    if caption_column != CAPTION and CAPTION in names:
        raise ValueError(
            f"{where}: caption_column={caption_column!r}, but the source also has a {CAPTION!r} field, which the "
            f"output's caption column would overwrite. Rename one of them first{rename}."
        )


def shape_captions(rows: Iterable[dict], *, caption_column: str = CAPTION, explode: bool = True) -> Iterator[dict]:
    """Rows with their caption (``caption_column``) under ``caption``.

    ``explode=True``: in a file of caption lists (the first row with a caption decides) a row gives one
    row per caption (an empty list one row with caption None), without the list field itself; in a
    file of single captions a stray list is kept whole. ``explode=False``: every caption is a list
    (a single caption a one-element list).

    >>> list(shape_captions([{"img": "a.jpg", "text": ["A dog.", "A cat."]}], caption_column="text"))
    [{'img': 'a.jpg', 'caption': 'A dog.'}, {'img': 'a.jpg', 'caption': 'A cat.'}]
    """
    lists = None
    for row in rows:
        value = row.get(caption_column)
        if lists is None and value is not None:
            lists = isinstance(value, (list, tuple))
        if not explode:
            yield {**row, CAPTION: list(value) if isinstance(value, (list, tuple)) else [value]}
        elif lists and isinstance(value, (list, tuple)):
            rest = {k: v for k, v in row.items() if k != caption_column}
            for caption in value or [None]:
                yield {**rest, CAPTION: caption}
        elif caption_column == CAPTION:
            yield row if CAPTION in row else {**row, CAPTION: None}
        else:
            yield {**row, CAPTION: value}


def image_ref(row: Mapping, image_column: str | None = None):
    """The image a row names as written in the source: ``image_column``, else the first of
    :data:`IMAGE_FIELDS` that is not None (None when there is none)."""
    if image_column is not None:
        return row.get(image_column)
    return next((row[f] for f in IMAGE_FIELDS if row.get(f) is not None), None)


def group_key(row: Mapping):
    """The id that groups captions of one image: ``image_id``, else the image the row names
    (:func:`image_ref`), else ``None`` — the ``image_id`` :func:`iccc.dataset.load_captions` gives.

    >>> group_key({"image_id": 0, "image": "a.jpg"}), group_key({"file_name": "b.jpg"})
    (0, 'b.jpg')
    """
    group = row.get(IMAGE_ID)
    return group if group is not None else image_ref(row)


def peek(rows: Iterable) -> tuple:
    """``(first item or None, an iterator of all the items)``."""
    rows = iter(rows)
    first = next(rows, None)
    return first, (rows if first is None else itertools.chain([first], rows))


def _open(path: Path):
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    # utf-8-sig: files saved by spreadsheet programs start with a byte-order mark
    return open(path, encoding="utf-8-sig", newline="")


def _first_line(path: Path) -> str:
    with _open(path) as f:
        for line in f:
            if line.strip():
                return line.rstrip("\r\n")
    return ""


def _header_delimiter(line: str, caption_column: str) -> str | None:
    """The delimiter that makes ``line`` a header naming ``caption_column``, if any."""
    for delimiter in (",", "\t", "|"):
        if delimiter in line and caption_column in (f.strip().strip('"') for f in line.split(delimiter)):
            return delimiter
    return None


def _json_line(line: str, where: str) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: not valid JSON ({err.msg}): {line[:80]!r}") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object per line, got {type(row).__name__}: {line[:80]!r}")
    return row


def _token_rows(path: Path) -> Iterator[dict]:
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            match = _FLICKR_TOKEN.match(line)
            if match is None:
                raise ValueError(f"{path}:{number}: expected 'name.jpg#N<TAB>caption', got {line[:80]!r}")
            yield {"image": match.group(1), "caption_number": int(match.group(2)), CAPTION: line[match.end():]}


def _delimited_rows(path: Path, delimiter: str | None, caption_column: str) -> Iterator[dict]:
    with _open(path) as f:
        header = f.readline()
        if delimiter is None:
            delimiter = _header_delimiter(header.rstrip("\r\n"), caption_column) or ","
        # "image_name| comment_number| comment" (Flickr30k results.csv): spaces after the delimiter
        skip = f"{delimiter} " in header
        reader = csv.reader(itertools.chain([header], f), delimiter=delimiter, skipinitialspace=skip)
        names = next(reader, None)
        if names is None:
            return
        names = [name.strip() or f"unnamed_{k}" for k, name in enumerate(names)]
        for values in reader:
            if not values:
                continue
            if len(values) < len(names):
                values = values + [None] * (len(names) - len(values))
            row = dict(zip(names, values))
            if len(values) > len(names):
                row["extra_fields"] = values[len(names):]
            yield row


def _json_file_rows(path: Path, explode: bool) -> Iterator[dict]:
    with _open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            if err.msg == "Extra data":  # JSON Lines under a .json name
                yield from source_rows(path, "jsonl")
                return
            raise ValueError(f"{str(path)!r}: not valid JSON ({err.msg} at line {err.lineno}).") from None
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        rows = _coco_rows(data)
        yield from (rows if explode else _grouped(rows, IMAGE_ID, ("id",)))
    elif isinstance(data, dict) and isinstance(data.get("images"), list) and data["images"] \
            and isinstance(data["images"][0], dict) and "sentences" in data["images"][0]:
        yield from _karpathy_rows(data["images"], explode)
    elif isinstance(data, list):
        for k, row in enumerate(data):
            if not isinstance(row, dict):
                raise ValueError(f"{str(path)!r}: item {k} of the JSON list is {type(row).__name__}, not an object.")
            yield row
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        for key, row in data.items():  # {"0": {...}, "1": {...}} (SugarCrepe, FACTUAL)
            yield {"key": key, **row}
    else:
        raise ValueError(
            f"{str(path)!r}: a JSON caption file should be COCO (with 'annotations'), Karpathy (with 'images' "
            f"holding 'sentences'), a list of objects or an object of objects; got "
            f"{type(data).__name__}{' with keys ' + repr(sorted(data)[:10]) if isinstance(data, dict) else ''}."
        )


def _coco_rows(data: dict) -> Iterator[dict]:
    files = {img.get("id"): img.get("file_name") for img in data.get("images") or () if isinstance(img, dict)}
    for ann in data["annotations"]:
        image_id = ann.get("image_id")
        yield {IMAGE_ID: image_id, "id": ann.get("id"), CAPTION: ann.get("caption"), "file_name": files.get(image_id)}


def _karpathy_rows(images: list, explode: bool) -> Iterator[dict]:
    for img in images:
        base = {k: v for k, v in img.items() if k not in ("sentences", "sentids")}
        name = img.get("filename")
        image = f"{img['filepath']}/{name}" if img.get("filepath") and name else name
        group = img.get("cocoid", name)
        sentences = img.get("sentences") or []
        raw = [s.get("raw") if isinstance(s, dict) else s for s in sentences]
        if explode:
            for k, caption in enumerate(raw or [None]):
                sentid = sentences[k].get("sentid") if raw and isinstance(sentences[k], dict) else None
                yield {"image": image, IMAGE_ID: group, CAPTION: caption, **base, "sentid": sentid}
        else:
            yield {"image": image, IMAGE_ID: group, CAPTION: raw, **base}


def _grouped(rows: Iterable[dict], key: str, per_caption: tuple[str, ...]) -> Iterator[dict]:
    """Rows of one image merged into one, in first-appearance order: the caption and the
    ``per_caption`` fields become lists, the others are the image's (taken from its first row)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row.get(key), []).append(row)
    lists = (CAPTION, *per_caption)
    for members in groups.values():
        yield {name: [m.get(name) for m in members] if name in lists else value for name, value in members[0].items()}


def _parquet_rows(path: Path) -> Iterator[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches()
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"{str(path)!r} is not a readable Parquet file: {err}") from None
    for batch in batches:
        yield from batch.to_pylist()


# ------------------------------------------------------------------------------------- writing
#: File name endings per output kind; a name without a suffix (or ending in ``/``) is a folder
#: (``save_to_disk``), :data:`FOLDER`.
FILE_SUFFIXES = {
    "jsonl": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"),
    "json": (".json",),
    "parquet": (".parquet",),
    "csv": (".csv", ".csv.gz"),
    "tsv": (".tsv", ".tsv.gz"),
}
FOLDER = "folder"
#: Every kind :func:`output_kind` knows (:func:`write_dataset` writes them all).
OUTPUT_KINDS = (FOLDER, "jsonl", "json", "parquet", "csv", "tsv")
#: The kinds :class:`RowWriter` writes (row by row, without ``datasets``).
ROW_KINDS = ("jsonl", "csv", "tsv", "parquet")
#: File name endings :func:`open_writer` accepts, and the format each is written in.
OUTPUT_SUFFIXES = {suffix: kind for kind in ROW_KINDS for suffix in FILE_SUFFIXES[kind]}


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] == ".gz":
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


def describe(kinds) -> str:
    """The names ``kinds`` accept, for a message: ``".csv/.csv.gz, .tsv/.tsv.gz"``."""
    return ", ".join("a folder name without a suffix (save_to_disk)" if kind == FOLDER else "/".join(FILE_SUFFIXES[kind])
                     for kind in kinds)


def output_kind(path, allowed=OUTPUT_KINDS, *, what: str = "the output", option: str = "-o") -> str:
    """What the name ``path`` asks to be written as (``"folder"``, ``"jsonl"``, ...), or a ``ValueError``
    listing what ``allowed`` accepts (``what`` and ``option`` name the output in it). A name without
    a suffix, ending in ``/`` or naming an existing folder is a folder. ``.parquet`` without pyarrow
    raises ModuleNotFoundError (name ``pyarrow``).

    >>> output_kind("out"), output_kind("pairs.jsonl.gz")
    ('folder', 'jsonl')
    >>> output_kind("x.json", ("jsonl",))
    Traceback (most recent call last):
    ...
    ValueError: `-o` 'x.json': the output can be written as .jsonl/.jsonl.gz/.ndjson/.ndjson.gz; got the suffix '.json'.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{option}` should be a file path, got {type(path).__name__}: {path!r:.80}.")
    text = os.fspath(path)
    p = Path(text)
    suffix = "" if text.endswith(("/", os.sep)) or p.is_dir() else _suffix(p)
    if not suffix:
        kind, got = FOLDER, "a folder name (no suffix)"
    else:
        kind = next((k for k, names in FILE_SUFFIXES.items() if suffix in names), None)
        got = f"the suffix {suffix!r}"
    if kind not in allowed:
        raise ValueError(f"`{option}` {text!r}: {what} can be written as {describe(allowed)}; got {got}.")
    if kind == "parquet" and find_spec("pyarrow") is None:
        raise ModuleNotFoundError("writing .parquet needs pyarrow", name="pyarrow")
    return kind


def output_format(path, *, option: str = "path") -> str:
    """The format (``"jsonl"``, ``"csv"``, ``"tsv"``, ``"parquet"``) :class:`RowWriter` writes ``path``
    in, from its name (:data:`OUTPUT_SUFFIXES`); errors as :func:`output_kind`.

    >>> output_format("out.jsonl.gz"), output_format("OUT.CSV")
    ('jsonl', 'csv')
    """
    return output_kind(path, ROW_KINDS, option=option)


def _cell(value) -> str:
    """A CSV/TSV cell: text as is, None empty, lists and dicts (concepts ...) JSON-encoded."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _write_table(f, kind: str, columns: list, rows: Iterable[Mapping]) -> None:
    """A CSV (``kind`` ``"csv"``) or TSV table: the header, then one line per row (:func:`_cell`)."""
    writer = csv.writer(f, delimiter="\t" if kind == "tsv" else ",", lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])


def _open_text_out(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "wt", encoding="utf-8", newline="")


class RowWriter:
    """Writes dict rows to ``path`` in the format its name says (:func:`output_format`).

    The rows go to a temporary file next to ``path``, which replaces ``path`` on :meth:`close`: a
    failed run leaves no half-written file (and an old file stays as it was). JSONL is written as the
    rows come; CSV/TSV/Parquet need every column name first, so their rows are spooled to a temporary
    JSONL file and the table is written on close (a CSV/TSV header is the union of the rows' fields,
    in order of appearance; Parquet stores a column Arrow cannot type as one type as text, like CSV).
    Use as a context manager: the file is finished on a normal exit and discarded on an exception.
    ``option`` names ``path`` in errors (``"-o"`` for the command line).
    """

    def __init__(self, path, *, option: str = "path"):
        self.format = output_format(path, option=option)
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"Cannot write {str(self.path)!r}: the folder {str(self.path.parent)!r} "
                                    "does not exist.")
        self.n_rows = 0
        self._columns: dict[str, None] = {}
        # the temporary name keeps the ending: .gz decides the compression
        self._tmp = self.path.with_name(f".{os.getpid()}.tmp.{self.path.name}")
        self._spool = None if self.format == "jsonl" else tempfile.TemporaryFile("w+", encoding="utf-8")
        self._out = _open_text_out(self._tmp) if self.format == "jsonl" else None

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
                self._out = _open_text_out(self._tmp)
                _write_table(self._out, self.format, list(self._columns), self._spooled())
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


def open_writer(path, *, option: str = "path") -> RowWriter:
    """A :class:`RowWriter` for ``path``; checks the name (and the folder) before anything is computed.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> with open_writer(path) as out:
    ...     out.write({"caption": "A dog.", "concepts": [{"text": "dog"}]})
    >>> [r["caption"] for r in read_captions(path)]
    ['A dog.']
    """
    return RowWriter(path, option=option)


def write_rows(path, rows: Iterable[Mapping]) -> int:
    """Write ``rows`` to ``path`` (format from the name, :data:`OUTPUT_SUFFIXES`); the number written."""
    with open_writer(path) as out:
        for row in rows:
            out.write(row)
    return out.n_rows


def _check_flat(ds, kind: str, path) -> None:
    """CSV/TSV hold flat columns only: refuse a dataset with nested ones (lists, messages, images) by name."""
    if kind not in ("csv", "tsv"):
        return
    from datasets import Value

    nested = [name for name, f in ds.features.items() if not isinstance(f, Value)]
    if nested:
        raise ValueError(f"`-o` {os.fspath(path)!r}: {kind.upper()} holds flat columns only, but {nested} are nested "
                         f"(lists, messages or images); write .jsonl, .json, .parquet or a folder instead.")


def write_dataset(ds, path, kind: str | None = None, *, num_proc: int | None = None) -> Path:
    """Write the ``datasets.Dataset`` ``ds`` as ``kind`` (default: what the name says, :func:`output_kind`):

    * a folder: ``save_to_disk`` (what ``iccc train``, ``iccc export`` and ``datasets.load_from_disk``
      read; images embedded);
    * ``jsonl``: JSON Lines (``.gz``: gzipped); ``json``: one JSON array of row objects;
    * ``parquet``: Parquet; ``csv``/``tsv``: flat columns only, cells as :class:`RowWriter` writes them.
    """
    kind = kind or output_kind(path)
    path = Path(path)
    _check_flat(ds, kind, path)
    if kind == FOLDER:
        ds.save_to_disk(str(path), num_proc=num_proc)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        ds.to_parquet(str(path))
    elif kind == "jsonl":
        gz = path.suffix.lower() == ".gz"
        ds.to_json(str(path), lines=True, force_ascii=False, compression="gzip" if gz else None)
    elif kind == "json":
        with open(path, "w", encoding="utf-8") as f:
            f.write("[")
            for k, row in enumerate(_dataset_rows(ds)):
                f.write(("\n" if k == 0 else ",\n") + json.dumps(row, ensure_ascii=False, default=str))
            f.write("\n]\n")
    else:
        with _open_text_out(path) as f:
            _write_table(f, kind, ds.column_names, _dataset_rows(ds))
    return path


def _dataset_rows(ds) -> Iterator[dict]:
    for batch in ds.iter(batch_size=1000):
        names = list(batch)
        for values in zip(*(batch[n] for n in names)):
            yield dict(zip(names, values))
