"""``iccc corrupt``: parse captions, build the concept base, write one corruption per row."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter

from ._cli_args import (
    INPUT_HELP,
    MODEL_HELP,
    ROWS_OUTPUT_HELP,
    default_of,
    no_rows_error,
    non_negative_int,
    positive_int,
    probability,
    shorten,
)
from .columns import CAPTION
from .corrupt import CORRUPTIBLE, DEFAULT_OPERATIONS, DEFAULT_P_SWAP, RECORD_COLUMNS, STATUS_COLUMN, Corruptor
from .corrupt import MANY_CHUNK as CHUNK


def add_arguments(p) -> None:
    p.add_argument("input", nargs="?", help=INPUT_HELP + " (default: the built-in sample)")
    p.add_argument("-o", "--output", help="every input row plus the corruption columns and corrupt_status"
                   + ROWS_OUTPUT_HELP)
    p.add_argument("--seed", type=non_negative_int, default=0, help="same seed, same corruptions (default 0)")
    p.add_argument("--operations", default=",".join(DEFAULT_OPERATIONS), help="comma-separated: replace,swap,add")
    p.add_argument("--kinds", default=None, help="comma-separated concept kinds (default: all)")
    p.add_argument("--p-swap", type=probability, default=DEFAULT_P_SWAP,
                   help="share of the corrections that are swaps, as far as the captions allow")
    p.add_argument("--p-add", type=probability, default=default_of(Corruptor, "p_add"),
                   help="share of corrections tried as additions first")
    p.add_argument("--caption-column", default=CAPTION, help="field of the input holding the caption")
    p.add_argument("--group-column", default=None,
                   help="column with the image id (default: image_id, else the image the row names)")
    p.add_argument("--base", default=None, help="use this saved ConceptBase (.json/.json.gz) instead of building one")
    p.add_argument("--save-base", default=None, help="save the ConceptBase built from the input here")
    p.add_argument("--no-balance", action="store_true",
                   help="skip frequency balancing of inserted words (faster, easier to detect blind)")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--n-process", type=positive_int, default=1, help="parser processes (default 1)")
    p.add_argument("--show", type=non_negative_int, default=8, help="examples to print (default 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _no_usable_captions(n: int, statuses: Counter) -> ValueError:
    found = ", ".join(f"{k} {v}" for k, v in statuses.most_common())
    return ValueError(f"the input has no usable captions: none of its {n} rows has an English caption with "
                      f"concepts ({found}), so there is no concept base to draw replacements from. Pass "
                      "--base FILE (a ConceptBase saved with --save-base) to give every row a status anyway.")


def run(args) -> int:
    from .io import open_writer

    if args.base is not None and not os.path.isfile(args.base):
        raise FileNotFoundError(f"`--base` {args.base!r} is not a file (a ConceptBase saved with --save-base).")
    if args.save_base is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.save_base))):
        raise FileNotFoundError(f"Cannot write `--save-base` {args.save_base!r}: its folder does not exist.")
    # a bad name is refused before any work; the file is finished on success, discarded on an error
    with open_writer(args.output, option="-o") if args.output else contextlib.nullcontext() as out:
        summary = _corrupt(args, out)
    _print_summary(args, *summary)
    return 0


def _corrupt(args, out):
    from tqdm import tqdm

    from .balance import balance_insertions
    from .base import ConceptBase
    from .io import group_key, read_captions
    from .parsing import iter_parse, load_parser
    from .samples import sample_captions
    from .streams import Streams as RowStreams

    rows = list(sample_captions() if args.input is None else read_captions(args.input, caption_column=args.caption_column))
    if not rows:
        raise no_rows_error(args.input, "corrupt")
    if args.group_column is not None:
        if args.group_column not in rows[0]:
            raise KeyError(f"`--group-column` {args.group_column!r} not found. Fields: {sorted(rows[0])}.")
        groups = [r.get(args.group_column) for r in rows]
    else:
        groups = [group_key(r) for r in rows]
    nlp = load_parser(args.model)
    start = time.perf_counter()
    quiet = args.quiet
    parsed = list(tqdm(iter_parse((r.get(CAPTION) for r in rows), nlp=nlp, n_process=args.n_process,
                                  on_invalid="status"),
                       total=len(rows), desc="Parsing", unit=" captions", disable=quiet, file=sys.stderr))
    if args.base:
        base = ConceptBase.load(args.base)
    else:
        base = ConceptBase.from_parsed(parsed, groups=groups, progress=not quiet)
        if base.n_captions == 0 or not base.kinds():
            raise _no_usable_captions(len(rows), Counter(p.status for p in parsed))
        if not args.no_balance:
            balance_insertions(base, parsed, groups=groups, seed=args.seed, progress=not quiet)
        if args.save_base:
            base.save(args.save_base)
    engine = Corruptor(base, operations=[o for o in args.operations.split(",") if o],
                       kinds=args.kinds.split(",") if args.kinds else None, p_swap=args.p_swap, p_add=args.p_add)
    ops, statuses, examples = Counter(), Counter(), []
    progress = tqdm(total=len(rows), desc="Corrupting", unit=" captions", disable=quiet, file=sys.stderr)
    for lo in range(0, len(rows), CHUNK):
        hi = min(len(rows), lo + CHUNK)
        # the same per-row streams as Dataset.map(corrupt, ..., fn_kwargs={"seed": S}) at epoch 0
        streams = RowStreams(args.seed, 0, range(lo, hi))
        usable = [p if p.status in CORRUPTIBLE else None for p in parsed[lo:hi]]
        records = engine.many(usable, [streams[k] for k in range(hi - lo)], groups[lo:hi])
        for row, p, record in zip(rows[lo:hi], parsed[lo:hi], records):
            if p.status in CORRUPTIBLE:
                status = "ok" if record is not None else "no_candidate"
            else:
                status = p.status
            statuses[status] += 1
            values = record.to_dict() if record is not None else {}
            if record is not None:
                ops[f"{record.operation} {record.concept_kind}"] += 1
                if len(examples) < args.show:
                    examples.append(record)
            if out is not None:
                out.write({**row, **{name: values.get(name) for name in RECORD_COLUMNS}, STATUS_COLUMN: status})
        progress.update(hi - lo)
    progress.close()
    return len(rows), base, statuses, ops, examples, time.perf_counter() - start


def _print_summary(args, n, base, statuses, ops, examples, seconds) -> None:
    done = statuses.get("ok", 0)
    print(f"Corrupted {done} of {n} captions ({done / max(n, 1):.1%} coverage) in {seconds:.1f}s; "
          f"concept base from {base.n_captions} captions, {len(base.groups)} images.")
    print("Status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("Operations: " + (", ".join(f"{k} {v}" for k, v in ops.most_common()) or "none"))
    for r in examples:
        print(f"  {shorten(r.caption)}\n    -> {shorten(r.corrupted_caption)}\n       {shorten(r.target)}")
    if args.output:
        print(f"Wrote {args.output}")
