"""Loading caption data of the usual shapes into a HuggingFace dataset with standard columns.

:func:`load_captions` reads COCO ``captions_*.json``, the Karpathy/LAVIS list format, Karpathy's
original ``dataset_*.json``, CSV/TSV/JSONL/TXT/Parquet, Flickr ``*.token.txt``, a folder of images
with a captions file, a dataset saved with ``save_to_disk`` and an already-loaded ``datasets``
object. Every result has ``caption``, ``image`` (a path string, or the source's own image column)
and ``image_id`` (the group id of sibling captions), plus every other field of the source.
Images are never opened.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import columns
from ..io import _open

CAPTION = columns.CAPTION
#: The image column: a path string (joined with ``image_root``), or the source's own image feature.
IMAGE = getattr(columns, "IMAGE", "image")
#: The group id of captions of one image (the sibling-caption guard of :func:`iccc.corrupt`).
IMAGE_ID = getattr(columns, "IMAGE_ID", "image_id")
STANDARD_COLUMNS = (CAPTION, IMAGE, IMAGE_ID)

#: Fields that name a row's image, in the order they are looked for.
IMAGE_FIELDS = ("image", "image_path", "file_name", "filename", "filepath", "image_name", "img_path", "img")

#: Caption files looked for in a folder of images, in this order (each also ``.gz``).
FOLDER_CAPTION_FILES = (
    "metadata.jsonl", "metadata.csv", "captions.jsonl", "captions.csv", "captions.txt", "captions.json",
    "results.csv", "Flickr8k.token.txt", "results_20130124.token",
)
#: Sub-folders holding the images of a folder dataset (Kaggle Flickr8k/Flickr30k layouts).
IMAGE_SUBFOLDERS = ("Images", "images", "Flicker8k_Dataset", "Flickr8k_Dataset", "flickr30k_images")

SUPPORTED = (
    "COCO captions_*.json; a JSON list of {'image', 'caption': str or [str, ...]} (Karpathy/LAVIS); "
    "Karpathy's dataset_*.json ({'images': [{'sentences': ...}]}); a JSON object of records; "
    ".jsonl; .csv/.tsv with a header; .txt (one caption per line, or a delimited file with a header); "
    "Flickr .token/.token.txt ('name.jpg#0<TAB>caption'); .parquet; each text format optionally .gz; "
    "a folder with a captions file (" + ", ".join(FOLDER_CAPTION_FILES) + "); a folder written by "
    "save_to_disk; a datasets.Dataset, IterableDataset, DatasetDict or IterableDatasetDict"
)

_FLICKR_TOKEN = re.compile(r"^([^\t#]+)#(\d+)\t")
#: Bumped when the rows produced for a file change (part of the on-disk cache key).
_READER_VERSION = "2"


# --------------------------------------------------------------------------------------- public
def load_captions(
    source: Any,
    *,
    caption_column: str = CAPTION,
    image_column: str | None = None,
    image_root: str | os.PathLike | None = None,
    group_column: str | None = None,
    explode: bool = True,
    streaming: bool = False,
    split: str | None = None,
):
    """Load captions from a file, a folder or a ``datasets`` object into a dataset with standard columns.

    Output columns: ``caption``; ``image`` (the image path as a string, joined with ``image_root``
    when given; ``None`` when the source names no image; an ``image`` feature of a dataset is passed
    through untouched); ``image_id`` (the group id shared by captions of one image: ``group_column``,
    else the source's ``image_id``/``cocoid``, else the image reference as written in the source);
    then every other field of the source, unchanged. Rows are never dropped: a row without a caption
    keeps ``caption=None`` (the parser gives it a status later).

    Args:
        source: a path (file or folder) or a ``datasets.Dataset``/``IterableDataset``/``DatasetDict``/
            ``IterableDatasetDict``. See :data:`SUPPORTED` for the formats.
        caption_column: the source's caption field (CSV/TSV/JSONL/JSON lists/datasets; COCO, Karpathy
            and Flickr token files have fixed fields).
        image_column: the source's image field (default: the first of :data:`IMAGE_FIELDS` present).
        image_root: folder that image paths are relative to; joined in front of them.
        group_column: the field to use as ``image_id`` (a source ``image_id`` field is then replaced).
        explode: one row per caption (rows with a list of captions become several rows sharing their
            ``image_id``). ``False``: ``caption`` is a list of strings; COCO and Flickr token files are
            grouped per image, lists stay whole, single captions become one-element lists.
        streaming: return an ``IterableDataset`` read lazily (flat memory for any size).
        split: for a ``DatasetDict``, the split to return; for a file or dataset with a ``split``
            field (Karpathy), keep only the rows of that split.

    Returns:
        A ``Dataset`` (``IterableDataset`` when ``streaming``); a ``DatasetDict`` for a dict of splits
        when ``split`` is ``None``.

    >>> import os, tempfile, json
    >>> path = os.path.join(tempfile.mkdtemp(), "k.json")
    >>> _ = open(path, "w").write(json.dumps([{"image": "a.jpg", "caption": ["A dog.", "A brown dog."]}]))
    >>> ds = load_captions(path, image_root="/data/coco")
    >>> ds.to_list()[1]
    {'caption': 'A brown dog.', 'image': '/data/coco/a.jpg', 'image_id': 'a.jpg'}
    """
    for name, value in (("caption_column", caption_column),):
        if not isinstance(value, str) or not value:
            raise TypeError(f"`{name}` should be a non-empty string, got {value!r}.")
    for name, value in (("image_column", image_column), ("group_column", group_column), ("split", split)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"`{name}` should be a non-empty string or None, got {value!r}.")
    if image_root is not None and not isinstance(image_root, (str, os.PathLike)):
        raise TypeError(f"`image_root` should be a path (str or os.PathLike) or None, got {image_root!r}.")
    for name, value in (("explode", explode), ("streaming", streaming)):
        if not isinstance(value, bool):
            raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    root = _absolute_root(image_root)
    config = dict(caption_column=caption_column, image_column=image_column, image_root=root,
                  group_column=group_column, explode=explode, split=split)

    if _is_datasets_object(source):
        return _from_dataset(source, streaming=streaming, **config)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"`source` should be a path or a datasets object, got {type(source).__name__}: {source!r:.80}. "
            f"Supported: {SUPPORTED}."
        )
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"`source` {str(path)!r} does not exist.")
    if path.is_dir():
        if _is_saved_dataset(path):
            from datasets import load_from_disk

            return _from_dataset(load_from_disk(str(path)), streaming=streaming, **config)
        path, default_root = _folder_caption_file(path)
        if config["image_root"] is None:
            config["image_root"] = default_root
    fmt = _format_of(path, caption_column)
    if fmt == "parquet":
        from datasets import Dataset

        ds = Dataset.from_parquet(str(path))
        return _from_dataset(ds, streaming=streaming, **config)
    if streaming:
        from datasets import IterableDataset

        return IterableDataset.from_generator(_generate, gen_kwargs=dict(path=str(path), fmt=fmt, **config))
    return _cached_file_dataset(path, fmt, config)


def iter_caption_rows(source, *, caption_column: str = CAPTION, image_column: str | None = None,
                      image_root=None, group_column: str | None = None, explode: bool = True,
                      split: str | None = None) -> Iterator[dict]:
    """The rows :func:`load_captions` would produce for a caption file or folder, as plain dicts.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "c.csv")
    >>> _ = open(path, "w").write("file,text\\nx.jpg,A cat.\\n")
    >>> next(iter_caption_rows(path, caption_column="text", image_column="file"))
    {'caption': 'A cat.', 'image': 'x.jpg', 'image_id': 'x.jpg', 'file': 'x.jpg', 'text': 'A cat.'}
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"`source` {str(path)!r} does not exist.")
    root = _absolute_root(image_root)
    if path.is_dir():
        path, default_root = _folder_caption_file(path)
        root = default_root if root is None else root
    fmt = _format_of(path, caption_column)
    if fmt == "parquet":
        raise ValueError(f"{str(path)!r}: read Parquet files with load_captions, not iter_caption_rows.")
    yield from _generate(str(path), fmt, caption_column=caption_column, image_column=image_column, image_root=root,
                         group_column=group_column, explode=explode, split=split)


# ------------------------------------------------------------------------------ file detection
def _is_datasets_object(source) -> bool:
    try:
        from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict
    except ImportError:  # pragma: no cover - datasets is a dependency
        return False
    return isinstance(source, (Dataset, IterableDataset, DatasetDict, IterableDatasetDict))


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def _folder_caption_file(folder: Path) -> tuple[Path, str]:
    """The captions file of a folder dataset, and the folder its images are in."""
    found = None
    for name in FOLDER_CAPTION_FILES:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found = candidate
                break
        if found:
            break
    if found is None:
        tokens = sorted(p for p in folder.glob("*.token*") if "lemma" not in p.name.lower() and p.is_file())
        found = tokens[0] if tokens else None
    if found is None:
        listing = sorted(p.name for p in folder.iterdir())[:20]
        raise ValueError(
            f"{str(folder)!r} is neither a dataset saved with save_to_disk nor a folder with a captions file "
            f"(looked for {', '.join(FOLDER_CAPTION_FILES)}, *.token.txt, each optionally .gz). "
            f"It holds: {listing}. Pass the captions file itself, with image_root=."
        )
    images = folder
    for sub in IMAGE_SUBFOLDERS:
        if (folder / sub).is_dir():
            images = folder / sub
            break
    return found, os.path.abspath(images)


def _format_of(path: Path, caption_column: str) -> str:
    suffixes = [s.lstrip(".").lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == "gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
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
        f"Unknown caption file format {''.join(path.suffixes)!r} for {str(path)!r}. Supported: {SUPPORTED}."
    )


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


# ------------------------------------------------------------------------------ row readers
def _generate(path: str, fmt: str, *, caption_column, image_column, image_root, group_column, explode, split):
    """Standard rows of one caption file (the generator behind both the cached and streaming datasets)."""
    path = Path(path)
    raw = _raw_rows(path, fmt, caption_column, explode)
    return _standardize(raw, where=str(path), caption_column=_caption_field(fmt, caption_column),
                        image_column=image_column, image_root=image_root, group_column=group_column,
                        explode=explode, split=split)


def _caption_field(fmt: str, caption_column: str) -> str:
    # COCO, Karpathy and Flickr token rows are produced here with a ``caption`` field
    return CAPTION if fmt in ("token", "txt") else caption_column


def _raw_rows(path: Path, fmt: str, caption_column: str, explode: bool) -> Iterator[dict]:
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
    else:  # pragma: no cover - _format_of only returns the formats above
        raise ValueError(f"Unknown format {fmt!r}.")


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
                yield from _raw_rows(path, "jsonl", CAPTION, explode)
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


def _check_columns(names, where, caption_column, image_column, group_column, *, rename) -> None:
    """The caption column exists and would not overwrite a ``caption`` field; image/group columns exist."""
    names = list(names)
    if caption_column not in names:
        raise KeyError(f"{where}: no caption column {caption_column!r}. Available: {names}. Pass caption_column=.")
    if caption_column != CAPTION and CAPTION in names:
        raise ValueError(
            f"{where}: caption_column={caption_column!r}, but the source also has a {CAPTION!r} field, which the "
            f"output's caption column would overwrite. Rename one of them first{rename}."
        )
    for name, value in (("image_column", image_column), ("group_column", group_column)):
        if value is not None and value not in names:
            raise KeyError(f"{where}: no {name.split('_')[0]} column {value!r} (`{name}`). Available: {names}.")


# ------------------------------------------------------------------------------ standard rows
def _standardize(rows: Iterable[dict], *, where: str, caption_column, image_column, image_root, group_column,
                 explode, split) -> Iterator[dict]:
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    fields = list(first)
    _check_columns(fields, where, caption_column, image_column, group_column, rename="")
    if split is not None and "split" not in first:
        raise ValueError(f"{where}: `split`={split!r} given, but the rows have no 'split' field. Available: {fields}.")
    # A file of caption lists (Karpathy/LAVIS) is exploded; in a file of single captions a stray
    # list is an oddly typed caption, kept whole (status ``not_string`` later, as `iccc parse` says).
    # The first row with a caption decides.
    lists = None
    for row in itertools.chain([first], rows):
        if split is not None and row.get("split") != split:
            continue
        value = row.get(caption_column)
        if lists is None and value is not None:
            lists = isinstance(value, (list, tuple))
        if explode and lists is False and isinstance(value, (list, tuple)):
            yield from _standard_rows({**row, caption_column: _Whole(value)}, caption_column, image_column,
                                      image_root, group_column, explode)
            continue
        yield from _standard_rows(row, caption_column, image_column, image_root, group_column, explode)


class _Whole:
    """A list caption not to explode (see :func:`_standardize`)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = list(value)


def _standard_rows(row: dict, caption_column, image_column, image_root, group_column, explode) -> Iterator[dict]:
    value = row.get(caption_column)
    whole = isinstance(value, _Whole)
    if whole:
        value = value.value
        row = {**row, caption_column: value}
    if image_column is not None:
        ref = row.get(image_column)
    else:
        ref = next((row[f] for f in IMAGE_FIELDS if row.get(f) is not None), None)
    image = _join(image_root, ref)
    if group_column is not None:
        group = row.get(group_column)
    elif row.get(IMAGE_ID) is not None:
        group = row[IMAGE_ID]
    else:
        group = ref
    rest = {k: v for k, v in row.items() if k not in STANDARD_COLUMNS}
    if whole:
        yield {CAPTION: value, IMAGE: image, IMAGE_ID: group, **rest}
        return
    if isinstance(value, (list, tuple)):
        if not explode:
            yield {CAPTION: list(value), IMAGE: image, IMAGE_ID: group, **rest}
            return
        if caption_column != CAPTION:
            rest.pop(caption_column)  # the list itself is not repeated on each exploded row
        for caption in value or [None]:  # an empty list still gives one row (caption None)
            yield {CAPTION: caption, IMAGE: image, IMAGE_ID: group, **rest}
        return
    yield {CAPTION: value if explode else [value], IMAGE: image, IMAGE_ID: group, **rest}


def _absolute_root(image_root) -> str | None:
    """``image_root`` as an absolute path (resolved against the working directory now, so that the
    stored image paths do not depend on where a later stage runs)."""
    return os.path.abspath(os.fspath(image_root)) if image_root is not None else None


def _join(root: str | None, ref):
    if root is None or not isinstance(ref, str) or not ref or "://" in ref:
        return ref
    return os.path.join(root, ref)


# ------------------------------------------------------------------------------ cached dataset
def _cached_file_dataset(path: Path, fmt: str, config: dict):
    """Read a caption file once into an Arrow file in the ``datasets`` cache (memory-mapped), keyed
    by the file's path, size and modification time, the options and this module's code."""
    from datasets import Dataset
    from datasets import config as ds_config

    stat = path.stat()
    key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, fmt, config, _READER_VERSION,
                      _code_digest()], sort_keys=True, default=str)
    fingerprint = hashlib.sha1(key.encode()).hexdigest()[:20]
    cache_dir = Path(ds_config.HF_DATASETS_CACHE) / "iccc_captions"
    target = cache_dir / f"{fingerprint}.arrow"
    if not target.is_file():
        tables, encoded, chunk, json_columns, offset = [], [], [], set(), 0
        for row in _generate(str(path), fmt, **config):
            chunk.append(row)
            if len(chunk) >= 50_000:
                tables.append(_table(chunk, path, offset, json_columns))
                encoded.append(set(json_columns))
                offset += len(chunk)
                chunk = []
        if chunk or not tables:
            tables.append(_table(chunk, path, offset, json_columns))
            encoded.append(set(json_columns))
        table, json_columns = _concat(tables, encoded, path, json_columns)
        table = _standard_order(table)
        from datasets import Features

        features = Features.from_arrow_schema(table.schema)
        for name in json_columns:
            features[name] = _json_feature()
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{fingerprint}.{os.getpid()}.tmp"
        from datasets.arrow_writer import ArrowWriter

        with ArrowWriter(path=str(tmp), features=features) as writer:
            writer.write_table(table)
            writer.finalize()
        os.replace(tmp, target)
    ds = Dataset.from_file(str(target))
    return ds


# A field whose values have different types in different rows (an int caption among strings, ids
# that are numbers on some lines and strings on others) is kept, not refused: ``image_id`` becomes
# strings (it is only compared for equality), any other field a ``datasets.Json`` column, which
# gives every value back as it was (so an int caption still reads as an int and gets the status
# ``not_string``). With a ``datasets`` too old for ``Json`` the message names the field and rows.
def _json_feature():
    from datasets import Json

    return Json()


def _has_json() -> bool:
    try:
        import datasets

        return hasattr(datasets, "Json")
    except ImportError:  # pragma: no cover - datasets is a dependency here
        return False


def _type_mix(name: str, values: list, offset: int) -> str:
    """Which rows of a field hold which types: "row 1 holds str, row 2 holds int"."""
    seen: dict[str, int] = {}
    for k, v in enumerate(values):
        if v is not None:
            seen.setdefault(type(v).__name__, offset + k + 1)
    return ", ".join(f"row {row} holds {kind}" for kind, row in sorted(seen.items(), key=lambda kv: kv[1])[:4])


def _as_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _as_json(value):
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _mixed_array(name: str, values: list, path: Path, offset: int, json_columns: set):
    import pyarrow as pa

    if name == IMAGE_ID:
        return pa.array([_as_text(v) for v in values], pa.string())
    if not _has_json():
        raise ValueError(
            f"{str(path)!r}: field {name!r} has values of different types ({_type_mix(name, values, offset)}; rows "
            "counted from 1 in file order); make them one type, or install datasets>=4 to keep them as JSON."
        )
    json_columns.add(name)
    return pa.array([_as_json(v) for v in values], pa.string())


def _table(rows: list[dict], path: Path, offset: int = 0, json_columns: set | None = None):
    import pyarrow as pa

    json_columns = set() if json_columns is None else json_columns
    if not rows:
        return pa.table({CAPTION: pa.array([], pa.string()), IMAGE: pa.array([], pa.string()),
                         IMAGE_ID: pa.array([], pa.string())})
    names = list(dict.fromkeys(name for row in rows for name in row))
    arrays = {}
    for name in names:
        values = [r.get(name) for r in rows]
        if name in json_columns:
            arrays[name] = pa.array([_as_json(v) for v in values], pa.string())
            continue
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[name] = _mixed_array(name, values, path, offset, json_columns)
    return pa.Table.from_pydict(arrays)


def _concat(tables: list, encoded: list[set], path: Path, json_columns: set):
    """One table from the chunks (``encoded[k]``: the JSON columns of chunk ``k``); a field typed
    differently in different chunks is made uniform as within a chunk (strings for ``image_id``,
    JSON otherwise)."""
    import pyarrow as pa

    def convert(table, name, to_json: bool):
        values = table.column(name).to_pylist()
        array = pa.array([_as_json(v) if to_json else _as_text(v) for v in values], pa.string())
        return table.set_column(table.column_names.index(name), name, array)

    names = list(dict.fromkeys(n for t in tables for n in t.column_names))
    for name in names:
        parts = [k for k, t in enumerate(tables) if name in t.column_names]
        if name not in json_columns:
            try:
                pa.concat_tables([tables[k].select([name]) for k in parts], promote_options="permissive")
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
            if name != IMAGE_ID and not _has_json():
                values = [v for k in parts for v in tables[k].column(name).to_pylist()]
                raise ValueError(
                    f"{str(path)!r}: field {name!r} has values of different types ({_type_mix(name, values, 0)}; "
                    "rows counted from 1 in file order); make them one type, or install datasets>=4 to keep "
                    "them as JSON."
                ) from None
            if name != IMAGE_ID:
                json_columns.add(name)
        to_json = name != IMAGE_ID
        for k in parts:
            if not (to_json and name in encoded[k]):
                tables[k] = convert(tables[k], name, to_json)
    try:
        return pa.concat_tables(tables, promote_options="permissive"), json_columns
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:  # pragma: no cover - every field is made uniform above
        raise ValueError(f"{str(path)!r}: a field has values of different types in different rows ({err}).") from None


def _standard_order(table):
    import pyarrow as pa

    for name in STANDARD_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(len(table), pa.string()))
        elif pa.types.is_null(table.schema.field(name).type):
            table = table.set_column(table.column_names.index(name), name, pa.nulls(len(table), pa.string()))
    order = list(STANDARD_COLUMNS) + [n for n in table.column_names if n not in STANDARD_COLUMNS]
    return table.select(order)


def _code_digest() -> str:
    try:
        return hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12]
    except OSError:  # pragma: no cover - zipped install
        return _READER_VERSION


# ------------------------------------------------------------------------------ datasets objects
def _from_dataset(ds, *, streaming: bool, caption_column, image_column, image_root, group_column, explode, split):
    from datasets import Dataset, DatasetDict, IterableDataset, IterableDatasetDict

    if isinstance(ds, (DatasetDict, IterableDatasetDict)):
        if split is not None:
            if split not in ds:
                raise KeyError(f"`split` {split!r} not found. Available: {sorted(ds)}.")
            ds = ds[split]
            split = None
        else:
            out = {name: _from_dataset(d, streaming=streaming, caption_column=caption_column,
                                       image_column=image_column, image_root=image_root, group_column=group_column,
                                       explode=explode, split=None) for name, d in ds.items()}
            return IterableDatasetDict(out) if streaming or isinstance(ds, IterableDatasetDict) else DatasetDict(out)
    if streaming and isinstance(ds, Dataset):
        ds = ds.to_iterable_dataset()
    return _standardize_dataset(ds, caption_column=caption_column, image_column=image_column, image_root=image_root,
                                group_column=group_column, explode=explode, split=split,
                                iterable=isinstance(ds, IterableDataset))


def _column_names(ds) -> list[str] | None:
    names = ds.column_names
    if names is None and ds.features is not None:
        names = list(ds.features)
    return names


def _standardize_dataset(ds, *, caption_column, image_column, image_root, group_column, explode, split, iterable):
    from datasets import Value

    names = _column_names(ds)
    if names is None:  # an IterableDataset of unknown columns: look at the first row
        names = list(next(iter(ds.take(1)), {}) or {})
    where = "the dataset"
    _check_columns(names, where, caption_column, image_column, group_column, rename=" (ds.rename_column)")
    if split is not None:
        if "split" not in names:
            raise ValueError(f"{where}: `split`={split!r} given, but the dataset has no 'split' column. Available: {names}.")
        ds = ds.filter(lambda s: s == split, input_columns=["split"])
    features = ds.features
    if image_column is None:
        image_column = next((f for f in IMAGE_FIELDS if f in names), None)
    image_is_path = image_column is not None and (
        features is None or image_column not in features
        or (isinstance(features[image_column], Value) and features[image_column].dtype in ("string", "large_string")))
    if image_root is not None and image_column is not None and not image_is_path:
        raise ValueError(
            f"`image_root`={image_root!r} joins image paths, but the image column {image_column!r} holds "
            f"{features[image_column]!r}, not path strings."
        )

    # 1. caption: copy (or explode) the caption column
    if explode and _holds_lists(ds, caption_column, features):
        ds = _explode(ds, caption_column)
    elif caption_column != CAPTION:
        ds = ds.map(lambda c: {CAPTION: c}, input_columns=[caption_column], batched=True, **_quiet(iterable))
    if not explode and not _holds_lists(ds, CAPTION, ds.features):
        ds = ds.map(lambda c: {CAPTION: [[x] for x in c]}, input_columns=[CAPTION], batched=True, **_quiet(iterable))
    # 2. image_id (before the image column is rewritten: it is the image as written in the source)
    if group_column is not None and group_column != IMAGE_ID:
        ds = ds.map(lambda g: {IMAGE_ID: g}, input_columns=[group_column], batched=True, **_quiet(iterable))
    elif group_column is None and IMAGE_ID not in names:
        if image_column is not None and image_is_path:
            ds = ds.map(lambda g: {IMAGE_ID: g}, input_columns=[image_column], batched=True, **_quiet(iterable))
        elif image_column is not None and _is_image_feature(features[image_column]):
            ds = _image_feature_ids(ds, image_column, iterable)
        else:
            ds = _add_nulls(ds, IMAGE_ID, iterable)
    # 3. image: a path (joined with image_root), or the source's own image feature, untouched
    if image_column is None:
        if IMAGE not in names:
            ds = _add_nulls(ds, IMAGE, iterable)
    elif image_is_path and (image_root is not None or image_column != IMAGE):
        ds = ds.map(lambda refs: {IMAGE: [_join(image_root, r) for r in refs]}, input_columns=[image_column],
                    batched=True, **_quiet(iterable))
    elif not image_is_path and image_column != IMAGE:
        if IMAGE in names:
            raise ValueError(f"{where}: image_column={image_column!r}, but an {IMAGE!r} column exists too. "
                             f"Rename one of them first.")
        ds = ds.rename_column(image_column, IMAGE) if not iterable else ds.rename_column(image_column, IMAGE)
    if not iterable:
        order = list(STANDARD_COLUMNS) + [n for n in ds.column_names if n not in STANDARD_COLUMNS]
        ds = ds.select_columns(order)
    return ds


def _quiet(iterable: bool) -> dict:
    return {} if iterable else {"desc": None}


def _add_nulls(ds, name: str, iterable: bool):
    from datasets import Value

    if iterable:
        return ds.map(lambda c: {name: [None] * len(c)}, input_columns=[CAPTION], batched=True)
    return ds.add_column(name, [None] * len(ds), feature=Value("string"))


def _is_image_feature(feature) -> bool:
    from datasets import Image

    return isinstance(feature, Image)


def _image_feature_ids(ds, column: str, iterable: bool):
    """``image_id`` from the file path stored in an ``Image`` feature (read as Arrow: not decoded)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def ids(table: pa.Table) -> pa.Table:
        return table.append_column(IMAGE_ID, pc.struct_field(table.column(column), "path"))

    kwargs = {} if iterable else {"desc": None}
    return ds.with_format("arrow").map(ids, batched=True, **kwargs).with_format(None)


def _holds_lists(ds, column: str, features) -> bool:
    from datasets import LargeList, List, Sequence

    if features is not None and column in features:
        feature = features[column]
        return isinstance(feature, (list, List, LargeList, Sequence))
    first = next(iter(ds.select_columns([column]).take(1)), None) if hasattr(ds, "take") else None
    return isinstance(first and first.get(column), list)


def _explode(ds, column: str):
    """One row per element of a list column (an empty or null list gives one row with ``None``);
    done on Arrow batches, so no image or other column is decoded."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from datasets import Dataset

    def explode_table(table: pa.Table) -> pa.Table:
        values = table.column(column).combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(values), 0)
        # empty/null lists keep their row: give them a one-element list holding null
        empty = pc.equal(lengths, 0)
        if pc.any(empty).as_py():
            items = values.to_pylist()
            values = pa.array([v if v else [None] for v in items], type=values.type)
        parents = pc.list_parent_indices(values)
        flat = pc.list_flatten(values)
        out = table.take(parents)
        if column == CAPTION:
            return out.set_column(out.column_names.index(CAPTION), CAPTION, flat)
        out = out.drop_columns([column])  # the list itself is not repeated on each exploded row
        return out.append_column(CAPTION, flat)

    if isinstance(ds, Dataset):
        return ds.with_format("arrow").map(explode_table, batched=True, desc=None).with_format(None)
    return ds.with_format("arrow").map(explode_table, batched=True).with_format(None)
