"""Sources and sinks of the Ray engine: what a build reads, and the parquet it writes.

Any ``ray.data.Dataset`` is a source (``read_parquet``, ``read_json``, ``from_arrow``, ...).
:func:`read_captions` adds the sources iccc knows: a ``datasets.Dataset`` (its Arrow table, with
any ``select``/``filter`` applied, without ``ray.data.from_huggingface``'s look-up of the Hub),
parquet files (``ray.data.read_parquet``, columns as they are), and every other format
:func:`iccc.dataset.load_captions` reads (COCO JSON, JSON lines, CSV, text, ...: loaded with the
same loader as a local build, so the columns are ``caption``, ``image``, ``image_id``).
:func:`write_parquet` writes a folder of parquet files that
``datasets.load_dataset("parquet", data_files=f"{folder}/*.parquet")`` loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import columns

#: Rows per block of :func:`from_dataset` at most (and at least :data:`MIN_BLOCKS` blocks when
#: there are that many rows, so a small dataset still feeds a pool of actors).
BLOCK_ROWS = 10_000
MIN_BLOCKS = 8


def from_dataset(ds, *, row_column: str | None = None, num_blocks: int | None = None):
    """A ``datasets.Dataset`` as a Ray dataset (its Arrow table, in order, cut into ``num_blocks``
    blocks: by default one per :data:`BLOCK_ROWS` rows, at least :data:`MIN_BLOCKS`); with
    ``row_column``, an ``int64`` column of the row indices is added under that name (the row keys
    of a local build).
    """
    import pyarrow as pa
    import ray.data
    from datasets import Dataset

    if not isinstance(ds, Dataset):
        raise TypeError(f"`ds` should be a datasets.Dataset (one split), got {type(ds).__name__}: {ds!r:.80}.")
    table = ds.with_format("arrow")[:] if len(ds) else ds.data.table.slice(0, 0)
    if row_column is not None:
        if row_column in table.column_names:
            raise ValueError(f"The dataset already has a column {row_column!r}; pass another `row_column`.")
        table = table.append_column(row_column, pa.array(range(len(table)), pa.int64()))
    n = len(table)
    if num_blocks is None:
        num_blocks = max(min(n, MIN_BLOCKS), -(-n // BLOCK_ROWS), 1)
    else:
        from ._options import check_positive

        check_positive("num_blocks", num_blocks)
    step = max(1, -(-n // num_blocks))
    return ray.data.from_arrow([table.slice(lo, step) for lo in range(0, n, step)] or [table])


def _parquet_files(path: Path) -> bool:
    if path.is_file():
        return path.suffix == ".parquet"
    return path.is_dir() and any(path.glob("*.parquet")) and not (path / "dataset_info.json").exists()


def read_captions(source: Any, *, caption_column: str = columns.CAPTION, image_column: str | None = None,
                  group_column: str | None = None, image_root: str | None = None, row_column: str | None = None):
    """A Ray dataset of captions from ``source``: a ``ray.data.Dataset`` (returned as it is), a
    ``datasets.Dataset``, a parquet file or folder of them, or any file :func:`iccc.dataset.load_captions` reads.

    Args:
        source: what to read.
        caption_column, image_column, group_column, image_root: passed to
            :func:`iccc.dataset.load_captions` (files it loads).
        row_column: for data loaded into memory (a ``datasets.Dataset`` or a file ``load_captions``
            reads), add the row indices under this name: pass it as ``id_column`` and the rows are
            those of a local build. Parquet files are read lazily: no row index.

    Returns:
        A ``ray.data.Dataset``.
    """
    import ray.data

    if isinstance(source, ray.data.Dataset):
        return source
    try:
        from datasets import Dataset, DatasetDict
    except ImportError:  # only parquet files and Ray datasets then
        Dataset = DatasetDict = ()
    if Dataset and isinstance(source, Dataset):
        return from_dataset(source, row_column=row_column)
    if isinstance(source, (str, Path)) and _parquet_files(Path(source)):
        return ray.data.read_parquet(str(source))
    if not isinstance(source, (str, Path)):
        raise TypeError(f"`source` should be a ray.data.Dataset, a datasets.Dataset or a path, got "
                        f"{type(source).__name__}: {source!r:.80}.")
    from ..dataset import load_captions

    loaded = load_captions(str(source), caption_column=caption_column, image_column=image_column,
                           group_column=group_column, image_root=image_root)
    if DatasetDict and isinstance(loaded, DatasetDict):
        if len(loaded) != 1:
            raise ValueError(f"{str(source)!r} has several splits {sorted(loaded)}: build one at a time "
                             "(load it with iccc.dataset.load_captions and pass a split).")
        loaded = next(iter(loaded.values()))
    return from_dataset(loaded, row_column=row_column)


def write_parquet(ds, path, *, overwrite: bool = False) -> list[Path]:
    """Write a Ray dataset as a folder of parquet files (an empty dataset: one file with its columns
    and no rows), loadable by ``datasets.load_dataset("parquet", data_files=...)``.

    Args:
        ds: the ``ray.data.Dataset``.
        path: the folder (created; it must not hold files unless ``overwrite``).
        overwrite: replace what the folder holds.

    Returns:
        The parquet files written.
    """
    import shutil

    import pyarrow.parquet as pq

    from ._options import check_dataset

    check_dataset(ds)
    out = Path(path)
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"`path` {str(out)!r} exists and is not a folder.")
        if any(out.iterdir()):
            if not overwrite:
                raise FileExistsError(f"`path` {str(out)!r} is not empty; pass overwrite=True to replace it.")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    ds.write_parquet(str(out))
    files = sorted(out.glob("*.parquet"))
    if not files:
        schema = ds.schema()
        if schema is not None:
            import pyarrow as pa

            arrow = schema if isinstance(schema, pa.Schema) else getattr(schema, "base_schema", None)
            if isinstance(arrow, pa.Schema):
                pq.write_table(arrow.empty_table(), out / "part-00000.parquet")
        files = sorted(out.glob("*.parquet"))
    return files
