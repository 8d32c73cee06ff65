"""``iccc corrupt``: parse captions, build the concept base, write one corruption per row."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from .corrupt import CORRUPTIBLE, RECORD_COLUMNS, STATUS_COLUMN
from .corrupt import MANY_CHUNK as CHUNK


def add_arguments(p) -> None:
    p.add_argument("input", nargs="?", help=".txt/.jsonl/.csv/.tsv/.json (COCO or list) file, optionally .gz "
                   "(default: the built-in sample)")
    p.add_argument("-o", "--output", help="JSONL output: every input row plus the corruption columns")
    p.add_argument("--seed", type=int, default=0, help="same seed, same corruptions (default 0)")
    p.add_argument("--operations", default="replace,swap", help="comma-separated: replace,swap,add")
    p.add_argument("--kinds", default=None, help="comma-separated concept kinds (default: all)")
    p.add_argument("--p-swap", type=float, default=0.15, help="share of corrections tried as swaps first")
    p.add_argument("--p-add", type=float, default=0.0, help="share of corrections tried as additions first")
    p.add_argument("--caption-column", default="caption")
    p.add_argument("--group-column", default=None,
                   help="column with the image id (default: image_id/image/filename when present)")
    p.add_argument("--base", default=None, help="use this saved ConceptBase (.json/.json.gz) instead of building one")
    p.add_argument("--save-base", default=None, help="save the ConceptBase built from the input here")
    p.add_argument("--no-balance", action="store_true",
                   help="skip frequency balancing of inserted words (faster, easier to detect blind)")
    p.add_argument("--model", default=None, help="spaCy pipeline name or path")
    p.add_argument("--n-process", type=int, default=1)
    p.add_argument("--show", type=int, default=8, help="examples to print")
    p.add_argument("-q", "--quiet", action="store_true")


def run(args) -> int:
    from tqdm import tqdm

    from .balance import balance_insertions
    from .base import ConceptBase
    from .corrupt import Corruptor
    from .io import group_key, read_captions
    from .operators._streams import RowStreams
    from .parsing import iter_parse, load_parser
    from .samples import sample_captions

    rows = list(sample_captions() if args.input is None else read_captions(args.input, caption_column=args.caption_column))
    if args.group_column is not None:
        missing = [i for i, r in enumerate(rows[:1]) if args.group_column not in r]
        if missing:
            raise KeyError(f"Group column {args.group_column!r} not found. Fields: {sorted(rows[0])}.")
        groups = [r.get(args.group_column) for r in rows]
    else:
        groups = [group_key(r) for r in rows]
    nlp = load_parser(args.model)
    start = time.perf_counter()
    quiet = args.quiet or args.output is None
    parsed = list(tqdm(iter_parse((r.get("caption") for r in rows), nlp=nlp, n_process=args.n_process,
                                  on_invalid="status"),
                       total=len(rows), desc="Parsing", unit=" captions", disable=quiet, file=sys.stderr))
    if args.base:
        base = ConceptBase.load(args.base)
    else:
        base = ConceptBase.from_parsed(parsed, groups=groups)
        if not args.no_balance:
            balance_insertions(base, parsed, groups=groups, seed=args.seed)
        if args.save_base:
            base.save(args.save_base)
    engine = Corruptor(base, operations=[o for o in args.operations.split(",") if o],
                       kinds=args.kinds.split(",") if args.kinds else None, p_swap=args.p_swap, p_add=args.p_add)
    out = open(args.output, "w", encoding="utf-8") if args.output else None
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
                line = {**row, **{name: values.get(name) for name in RECORD_COLUMNS}, STATUS_COLUMN: status}
                out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        progress.update(hi - lo)
    progress.close()
    if out is not None:
        out.close()
    seconds = time.perf_counter() - start
    n = len(rows)
    done = statuses.get("ok", 0)
    print(f"Corrupted {done} of {n} captions ({done / max(n, 1):.1%} coverage) in {seconds:.1f}s; "
          f"concept base from {base.n_captions} captions, {len(base.groups)} images.")
    print("Status: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("Operations: " + ", ".join(f"{k} {v}" for k, v in ops.most_common()))
    for r in examples:
        print(f"  {r.caption.strip()}\n    -> {r.corrupted_caption.strip()}\n       {r.target}")
    if args.output:
        print(f"Wrote {args.output}")
    return 0
