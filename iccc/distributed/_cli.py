"""``iccc build --engine ray``: the build of ``iccc build`` on a Ray cluster (or a local one).

Reads INPUT with :func:`iccc.distributed.read_captions` (parquet lazily, as it is; every other
format with the loader of ``iccc build``, its rows keyed by their index, so the samples are those
of the local engine), builds with :func:`iccc.distributed.build_dataset` and writes a folder of
parquet files (``datasets.load_dataset("parquet", data_files=f"{OUT}/*.parquet")`` loads it).
``--address`` joins a running cluster (default: start a local one); ``--num-workers`` sets the
actors per stage (default: the cluster's CPUs).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from pathlib import Path

from .. import columns

#: Options of ``iccc build`` the Ray engine does not take, with what to do instead.
UNSUPPORTED = {
    "vision": "--vision (image-conditioned negatives) runs on the local engine only",
    "embed_images": "--embed-images writes a save_to_disk folder: use the local engine",
    "num_proc": "--num-proc is the local engine's: pass --num-workers N",
}


def _check(args) -> Path | None:
    for name, why in UNSUPPORTED.items():
        if getattr(args, name, None):
            raise ValueError(f"{why}.")
    if args.base and args.save_base:
        raise ValueError("--save-base saves the base built from the input; it cannot be combined with --base.")
    if not args.output:
        return None
    out = Path(args.output)
    if out.suffix and out.suffix != ".parquet":
        raise ValueError(f"--engine ray writes a folder of parquet files; `-o` {args.output!r} names a "
                         f"{out.suffix} file. Name a folder.")
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"Output {str(out)!r} exists and is not a folder.")
        if any(out.iterdir()) and not args.overwrite:
            raise FileExistsError(f"Output folder {str(out)!r} exists and is not empty; pass --overwrite to replace it.")
    return out


def _start(address):
    """``(ray, started)``: Ray initialised (joining ``address``, else a local instance) unless it already is."""
    try:
        import ray
    except ModuleNotFoundError:
        raise ValueError("--engine ray needs Ray Data: pip install 'iccc[ray]' (ray[data]).") from None
    if ray.is_initialized():
        return ray, False
    ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    return ray, True


def _counts(table) -> dict:
    return {name: Counter(table.column(name).to_pylist()) for name in (columns.TASK, columns.BUILD_STATUS,
                                                                        columns.OPERATION)}


def _first_rows(table, *, limit: int):
    import pyarrow.compute as pc

    return table.filter(pc.less(table.column(columns.ROW), limit))


def run(args) -> int:
    """Run ``iccc build`` on Ray (``args`` from :func:`iccc._cli_build.add_arguments`)."""
    out = _check(args)
    ray, started = _start(getattr(args, "address", None))
    try:
        import ray.data

        from ..base import ConceptBase
        from ._build import build_dataset
        from ._io import read_captions, write_parquet

        context = ray.data.DataContext.get_current()
        if args.quiet:
            context.enable_progress_bars = False
        workers = args.num_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        start = time.perf_counter()
        source = args.input
        if source is None:
            from datasets import Dataset

            from ..samples import sample_captions
            from ._io import from_dataset

            ds = from_dataset(Dataset.from_list(sample_captions()), row_column=columns.ROW)
        else:
            ds = read_captions(source, caption_column=args.caption_column, image_column=args.image_column,
                               group_column=args.group_column, image_root=args.image_root, row_column=columns.ROW)
        names = ds.schema().names
        internal = columns.ROW in names
        id_column = args.id_column or (columns.ROW if internal else None)
        standard = internal  # read by iccc's loader: the standard column names
        if args.limit is not None:  # the first rows when they are numbered, else some rows
            ds = ds.map_batches(_first_rows, fn_kwargs=dict(limit=args.limit), batch_format="pyarrow") if internal \
                else ds.limit(args.limit)
        operations = [o for o in args.operations.split(",") if o]
        kinds = [k for k in args.kinds.split(",") if k] if args.kinds else None
        built = build_dataset(
            ds, caption_column=columns.CAPTION if standard else args.caption_column,
            image_column=columns.IMAGE if standard else (args.image_column or columns.IMAGE),
            group_column=columns.IMAGE_ID if standard else (args.group_column or "auto"), id_column=id_column,
            concepts=ConceptBase.load(args.base) if args.base else None, balance=not args.no_balance,
            seed=args.seed, epoch=args.epoch, p_correction=args.p_correction, p_swap=args.p_swap,
            p_correct_caption=args.p_correct_caption, target_format=args.target_format, operations=operations,
            mix=args.mix,
            # with --base the parse and build pools run at once: each grows to `workers` as CPUs allow
            kinds=kinds, nlp=args.model, batch_size=args.batch_size, concurrency=(1, workers) if args.base else workers,
            drop_unusable=args.drop_unusable, save_base=args.save_base)
        if internal:
            built = built.drop_columns([columns.ROW])
        if out is not None:
            files = write_parquet(built, out, overwrite=args.overwrite)
            import pyarrow.parquet as pq

            table = pq.read_table([str(f) for f in files], columns=[columns.TASK, columns.BUILD_STATUS,
                                                                   columns.OPERATION]) if files else None
        else:
            import pyarrow as pa

            batches = list(built.select_columns([columns.TASK, columns.BUILD_STATUS, columns.OPERATION])
                           .iter_batches(batch_format="pyarrow", batch_size=None))
            table = pa.concat_tables(batches) if batches else None
        seconds = time.perf_counter() - start
        rows = 0 if table is None else len(table)
        print(f"Built {rows} ICCC samples from {source or 'the built-in sample'} on Ray in {seconds:.1f}s "
              f"({workers} worker(s) per stage; rows keyed by {id_column or 'content (caption + image id)'}).")
        if table is not None:
            for name, counts in _counts(table).items():
                print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
        if out is not None:
            print(f"Wrote {out} ({len(files)} parquet file(s)); load it with "
                  f"datasets.load_dataset('parquet', data_files='{out}/*.parquet').")
        if args.save_base:
            print(f"Saved the concept base to {args.save_base}")
        sys.stdout.flush()
        return 0
    finally:
        if started:
            ray.shutdown()
