"""Loading caption data of the usual shapes into a HuggingFace dataset with standard columns.

:func:`load_captions` reads every caption file and folder :mod:`iccc.io` reads (COCO
``captions_*.json``, the Karpathy/LAVIS list format, Karpathy's original ``dataset_*.json``,
CSV/TSV/JSONL/TXT/Parquet, Flickr ``*.token.txt``, a folder of images with a captions file), a
dataset saved with ``save_to_disk`` and an already-loaded ``datasets`` object. Files are read by
:func:`iccc.io.source_rows` and :func:`iccc.io.shape_captions`, the reader of ``iccc parse`` and
``iccc corrupt``; this module adds the standard columns and owns the Arrow side: the on-disk cache,
the streaming dataset and fields of mixed types. Every result has ``caption``, ``image`` (a path
string, or the source's own image column) and ``image_id`` (the group id of sibling captions), plus
every other field of the source. Images are never opened.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from .. import io
from ..columns import CAPTION, IMAGE, IMAGE_ID
from ..io import (
    IMAGE_FIELDS,
    SUPPORTED_FILES,
    caption_field,
    check_caption_field,
    file_format,
    find_caption_file,
    image_ref,
    peek,
    shape_captions,
    source_rows,
)

STANDARD_COLUMNS = (CAPTION, IMAGE, IMAGE_ID)

SUPPORTED = SUPPORTED_FILES + (
    "; a folder written by save_to_disk; a datasets.Dataset, IterableDataset, DatasetDict or IterableDatasetDict"
)

#: Bumped when the rows produced for a file change (part of the on-disk cache key).
_READER_VERSION = "3"
#: Rows turned into one Arrow table at a time when a file is cached or its types are scanned.
_CHUNK_ROWS = 50_000


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
    keeps ``caption=None`` (the parser gives it a status later). A field whose values have different
    types in different rows is kept: ``image_id`` as strings, any other field as ``datasets.Json``
    (each value read back as it was), with and without ``streaming``.

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
        streaming: return an ``IterableDataset`` read lazily (flat memory for any size; a caption file
            is read once first to learn its column types).
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
    if not isinstance(caption_column, str) or not caption_column:
        raise TypeError(f"`caption_column` should be a non-empty string, got {caption_column!r}.")
    for name, value in (("image_column", image_column), ("group_column", group_column), ("split", split)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"`{name}` should be a non-empty string or None, got {value!r}.")
    if image_root is not None and not isinstance(image_root, (str, os.PathLike)):
        raise TypeError(f"`image_root` should be a path (str or os.PathLike) or None, got {image_root!r}.")
    for name, value in (("explode", explode), ("streaming", streaming)):
        if not isinstance(value, bool):
            raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    config = dict(caption_column=caption_column, image_column=image_column, image_root=_absolute_root(image_root),
                  group_column=group_column, explode=explode, split=split)

    if _is_datasets_object(source):
        return _from_dataset(source, streaming=streaming, **config)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"`source` should be a path or a datasets object, got {type(source).__name__}: {source!r:.80}. "
            f"Supported: {SUPPORTED}."
        )
    if Path(source).is_dir() and _is_saved_dataset(Path(source)):
        from datasets import load_from_disk

        return _from_dataset(load_from_disk(os.fspath(source)), streaming=streaming, **config)
    path, images = find_caption_file(source)
    if config["image_root"] is None:
        config["image_root"] = images
    fmt = file_format(path, caption_column)
    if fmt == "parquet":
        from datasets import Dataset

        ds = Dataset.from_parquet(str(path))
        return _from_dataset(ds, streaming=streaming, **config)
    if streaming:
        return _streaming_file_dataset(path, fmt, config)
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
    path, images = find_caption_file(source)
    root = _absolute_root(image_root)
    yield from _generate(str(path), file_format(path, caption_column), caption_column=caption_column,
                         image_column=image_column, image_root=images if root is None else root,
                         group_column=group_column, explode=explode, split=split)


# ------------------------------------------------------------------------------ standard rows
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


def _generate(path: str, fmt: str, *, caption_column, image_column, image_root, group_column, explode, split):
    """Standard rows of one caption file (behind :func:`iter_caption_rows`, the cached and the streaming
    datasets): the rows :func:`iccc.io.read_captions` reads, with ``image`` and ``image_id`` first."""
    field = caption_field(fmt, caption_column)
    first, rows = peek(source_rows(path, fmt, caption_column=caption_column, explode=explode))
    if first is None:
        return
    _check_columns(list(first), path, field, image_column, group_column, rename="")
    if split is not None:
        if "split" not in first:
            raise ValueError(f"{path}: `split`={split!r} given, but the rows have no 'split' field. "
                             f"Available: {list(first)}.")
        rows = (row for row in rows if row.get("split") == split)
    for row in shape_captions(rows, caption_column=field, explode=explode):
        ref = image_ref(row, image_column)
        if group_column is not None:
            group = row.get(group_column)
        else:
            group = row[IMAGE_ID] if row.get(IMAGE_ID) is not None else ref
        yield {CAPTION: row.get(CAPTION), IMAGE: _join(image_root, ref), IMAGE_ID: group,
               **{k: v for k, v in row.items() if k not in STANDARD_COLUMNS}}


def _check_columns(names, where, caption_column, image_column, group_column, *, rename) -> None:
    """The caption column exists and would not overwrite a ``caption`` field; image/group columns exist."""
    names = list(names)
    check_caption_field(names, where, caption_column, rename=rename)
    for name, value in (("image_column", image_column), ("group_column", group_column)):
        if value is not None and value not in names:
            raise KeyError(f"{where}: no {name.split('_')[0]} column {value!r} (`{name}`). Available: {names}.")


def _absolute_root(image_root) -> str | None:
    """``image_root`` as an absolute path (resolved against the working directory now, so that the
    stored image paths do not depend on where a later stage runs)."""
    return os.path.abspath(os.fspath(image_root)) if image_root is not None else None


def _join(root: str | None, ref):
    if root is None or not isinstance(ref, str) or not ref or "://" in ref:
        return ref
    return os.path.join(root, ref)


# ------------------------------------------------------------------------------ cached and streaming
def _cached_file_dataset(path: Path, fmt: str, config: dict):
    """Read a caption file once into an Arrow file in the ``datasets`` cache (memory-mapped), keyed
    by the file's path, size and modification time, the options and the reader's code."""
    from datasets import Dataset
    from datasets import config as ds_config

    stat = path.stat()
    key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, fmt, config, _READER_VERSION,
                      _code_digest()], sort_keys=True, default=str)
    fingerprint = hashlib.sha1(key.encode()).hexdigest()[:20]
    cache_dir = Path(ds_config.HF_DATASETS_CACHE) / "iccc_captions"
    target = cache_dir / f"{fingerprint}.arrow"
    if not target.is_file():
        json_columns: set = set()
        tables, encoded = map(list, zip(*_chunk_tables(path, fmt, config, json_columns)))
        table, json_columns = _concat(tables, encoded, path, json_columns)
        table = _standard_order(table)
        features = _features(table.schema, json_columns)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f"{fingerprint}.{os.getpid()}.tmp"
        from datasets.arrow_writer import ArrowWriter

        with ArrowWriter(path=str(tmp), features=features) as writer:
            writer.write_table(table)
            writer.finalize()
        os.replace(tmp, target)
    return Dataset.from_file(str(target))


def _streaming_file_dataset(path: Path, fmt: str, config: dict):
    """An ``IterableDataset`` of a caption file with the features the cached dataset would have: a
    first pass learns the column types (one chunk of rows in memory at a time), the second yields
    the rows with mixed-type fields encoded as in the cached dataset."""
    import pyarrow as pa
    from datasets import IterableDataset

    schema, json_columns = _scan_schema(path, fmt, config)
    text = (IMAGE_ID,) if pa.types.is_string(schema.field(IMAGE_ID).type) else ()
    # tuples, not lists: from_generator shards list-valued gen_kwargs
    return IterableDataset.from_generator(
        _typed_rows, features=_features(schema, json_columns),
        gen_kwargs=dict(path=str(path), fmt=fmt, json_columns=tuple(sorted(json_columns)), text_columns=text,
                        **config))


def _typed_rows(path: str, fmt: str, *, json_columns: tuple, text_columns: tuple, **config) -> Iterator[dict]:
    for row in _generate(path, fmt, **config):
        for name in json_columns:
            if name in row:
                row[name] = _as_json(row[name])
        for name in text_columns:
            row[name] = _as_text(row.get(name))
        yield row


def _chunk_tables(path: Path, fmt: str, config: dict, json_columns: set) -> Iterator[tuple]:
    """``(table, JSON columns so far)`` for each :data:`_CHUNK_ROWS` standard rows of the file (one
    empty table for a file without rows); ``json_columns`` collects the fields found of mixed types."""
    chunk, offset = [], 0
    for row in _generate(str(path), fmt, **config):
        chunk.append(row)
        if len(chunk) >= _CHUNK_ROWS:
            yield _table(chunk, path, offset, json_columns), set(json_columns)
            offset += len(chunk)
            chunk = []
    if chunk or offset == 0:
        yield _table(chunk, path, offset, json_columns), set(json_columns)


def _scan_schema(path: Path, fmt: str, config: dict):
    """``(schema, JSON columns)`` of the table :func:`_cached_file_dataset` would write, from the
    chunks' schemas alone (what :func:`_concat` decides from the chunks themselves)."""
    import pyarrow as pa

    json_columns: set = set()
    types: dict = {}
    for table, _ in _chunk_tables(path, fmt, config, json_columns):
        for field in table.schema:
            name, old = field.name, types.get(field.name)
            if old is None or old == field.type or name in json_columns:
                types[name] = pa.string() if name in json_columns else field.type
                continue
            try:
                types[name] = pa.unify_schemas([pa.schema([pa.field(name, old)]), pa.schema([field])],
                                               promote_options="permissive").field(name).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                if name != IMAGE_ID and not _has_json():
                    raise ValueError(
                        f"{str(path)!r}: field {name!r} has values of different types in different rows ({old} and "
                        f"{field.type}); make them one type, or install datasets>=4 to keep them as JSON."
                    ) from None
                if name != IMAGE_ID:
                    json_columns.add(name)
                types[name] = pa.string()
    empty = pa.schema(list(types.items())).empty_table()
    return _standard_order(empty).schema, json_columns


def _features(schema, json_columns: set):
    from datasets import Features

    features = Features.from_arrow_schema(schema)
    for name in json_columns:
        features[name] = _json_feature()
    return features


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
    """A digest of the code that makes the rows (this module and :mod:`iccc.io`): a cached file is
    read again after either changes."""
    try:
        code = b"".join(Path(f).read_bytes() for f in (__file__, io.__file__))
    except OSError:  # pragma: no cover - zipped install
        return _READER_VERSION
    return hashlib.sha1(code).hexdigest()[:12]


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
