"""Same corruptions before and after an engine change: every record, through every entry point.

Runs the engine on all COCO val2017 captions and the Karpathy test captions (``../shared/data``)
and writes what each entry point produces, one JSON line per row, to ``OUT/``:

- ``concepts.jsonl.gz``: the parse (``add_concepts``) of every caption;
- ``base.json``: the balanced concept base ``build_dataset`` builds from them (``concept_base``);
- ``function.jsonl.gz``: ``corrupt(parsed, concepts=base, rng=row_stream(0, epoch, row))`` per row,
  epochs 0 and 1, and ``corrupt(parsed, concepts=base, seed=row)`` (a numpy Generator);
- ``map1.jsonl.gz`` / ``map2.jsonl.gz``: ``Dataset.map(corrupt, batched=True, with_indices=True)``
  with ``num_proc`` 1 and 2 (epochs 0 and 1, the base loaded back from ``base.json``);
- ``build.jsonl.gz``: ``build_dataset`` rows (records, task, prompt, target).

``--against REF`` compares with a reference folder written earlier (by the code before the
change) and prints, per file, the number of rows and of differing rows (the first few shown);
for the build, every correction sample must carry its row's epoch-0 map record in both runs
(the task and prompt draws have a stream of their own and may differ); the exit status is 1
when a corruption record differs. Usage::

    python benchmarks/check_same_records.py --out /tmp/records-before          # on the old code
    python benchmarks/check_same_records.py --out /tmp/records-after --against /tmp/records-before
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco_captions"
FILES = ("captions_val2017.json.gz", "coco_karpathy_test.json.gz")
RECORD = ("corrupted_caption", "operation", "concept_kind", "original", "replacement", "start", "end",
          "new_start", "new_end", "other_start", "other_end", "target", "corrupt_status")


def load(limit: int | None):
    from datasets import concatenate_datasets

    from iccc.dataset import load_captions

    parts = []
    for name in FILES:
        path = SHARED / name
        if not path.is_file():
            sys.exit(f"check_same_records: {path} not found (the shared data directory is absent).")
        ds = load_captions(path).select_columns(["caption", "image_id"])
        ds = ds.map(lambda b, n=name: {"image_id": [f"{n.split('_')[1]}:{g}" for g in b["image_id"]]},
                    batched=True)
        parts.append(ds)
    ds = concatenate_datasets(parts)
    return ds.select(range(min(limit, len(ds)))) if limit else ds


def dump(path: Path, rows) -> int:
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
            n += 1
    return n


def record_of(rec) -> dict:
    return rec.to_dict() if rec is not None else None


def run(out: Path, limit: int | None) -> None:
    import iccc
    from iccc import ConceptBase, ParsedCaption, corrupt
    from iccc.corrupt import row_stream
    from iccc.dataset import build_dataset
    from iccc.dataset._builder import concept_base
    from iccc.parsing import add_concepts

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ds = load(limit)
    parsed_ds = add_concepts(ds)
    print(f"parsed {len(parsed_ds)} captions in {time.perf_counter() - t0:.0f} s", flush=True)
    dump(out / "concepts.jsonl.gz", ({"caption": r["caption"], "concepts": r["concepts"],
                                      "parse_status": r["parse_status"]} for r in parsed_ds))
    base = concept_base([parsed_ds], group_column="image_id")
    base.save(out / "base.json")
    print(f"base in {time.perf_counter() - t0:.0f} s", flush=True)

    parsed = [ParsedCaption.from_dict({"text": r["caption"], "concepts": r["concepts"]}) for r in parsed_ds]
    groups = parsed_ds["image_id"]

    def function_rows():
        for i, (p, g) in enumerate(zip(parsed, groups)):
            row = {"row": i}
            for epoch in (0, 1):
                row[f"stream{epoch}"] = record_of(corrupt(p, concepts=base, rng=row_stream(0, epoch, i), group=g))
            row["seeded"] = record_of(corrupt(p, concepts=base, seed=i, group=g))
            yield row

    dump(out / "function.jsonl.gz", function_rows())
    print(f"function in {time.perf_counter() - t0:.0f} s", flush=True)

    loaded = ConceptBase.load(out / "base.json")
    for num_proc in (1, 2):
        def map_rows(num_proc=num_proc):
            per_epoch = []
            for epoch in (0, 1):
                mapped = parsed_ds.map(corrupt, batched=True, with_indices=True, num_proc=num_proc,
                                       load_from_cache_file=False, batch_size=500,
                                       fn_kwargs={"concepts": loaded, "seed": 0, "epoch": epoch,
                                                  "group_column": "image_id"})
                per_epoch.append(mapped.select_columns(list(RECORD)).to_list())
            for i, (a, b) in enumerate(zip(*per_epoch)):
                yield {"row": i, "epoch0": a, "epoch1": b}

        dump(out / f"map{num_proc}.jsonl.gz", map_rows())
        print(f"map num_proc={num_proc} in {time.perf_counter() - t0:.0f} s", flush=True)

    built = build_dataset(ds, seed=0, group_column="image_id", load_from_cache_file=False)
    dump(out / "build.jsonl.gz", ({"row": i, **r} for i, r in enumerate(built.remove_columns(
        [c for c in built.column_names if c in ("image",)]).to_list())))
    print(f"build in {time.perf_counter() - t0:.0f} s; iccc {iccc.__version__}", flush=True)


BUILD_RECORD = ("corrupted_caption", "operation", "concept_kind", "original", "replacement")


def _rows(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        yield from f


def _check_build(out: Path, ref: Path) -> tuple[int, dict]:
    """Build rows: the corruption of a correction sample must be the row's epoch-0 map record,
    in this run and in the reference; the task and prompt draws may differ between runs (their
    stream is not the corruption's), every other column must not."""
    counts = {"rows": 0, "correction_both": 0, "task_differs": 0, "prompt_differs": 0, "bad": 0}
    shown = 0
    runs = ((out, "now"), (ref, "ref"))
    files = [(_rows(d / "build.jsonl.gz"), _rows(d / "map1.jsonl.gz")) for d, _ in runs]
    for lines in zip(*(x for pair in files for x in pair), strict=True):
        counts["rows"] += 1
        (bx, mx, by, my) = (json.loads(line) for line in lines)
        problems = []
        for built, mapped, name in ((bx, mx, "now"), (by, my, "ref")):
            record = mapped["epoch0"]
            if built.get("task") == "correction" and built.get("operation") not in (None, "none"):
                wrong = [k for k in BUILD_RECORD if built.get(k) != record.get(k)]
                if wrong or built.get("target") != record.get("target"):
                    problems.append(f"{name}: correction sample differs from its map record in {wrong or ['target']}")
        same_task = bx.get("task") == by.get("task")
        counts["task_differs"] += not same_task
        if same_task:
            counts["correction_both"] += bx.get("task") == "correction"
            counts["prompt_differs"] += bx.get("prompt") != by.get("prompt")
            if bx.get("task") == "correction" and any(bx.get(k) != by.get(k) for k in BUILD_RECORD + ("target",)):
                problems.append("the correction differs between runs")
        kept = [k for k in set(bx) | set(by) if k not in BUILD_RECORD + ("task", "prompt", "target", "build_status")]
        if any(bx.get(k) != by.get(k) for k in kept):
            problems.append(f"passed-through columns differ: {[k for k in kept if bx.get(k) != by.get(k)]}")
        if problems:
            counts["bad"] += 1
            if shown < 3:
                shown += 1
                print(f"  build row {counts['rows'] - 1}: {'; '.join(problems)}")
    return counts["bad"], counts


def compare(out: Path, ref: Path) -> int:
    bad = 0
    a, b = json.loads((out / "base.json").read_text()), json.loads((ref / "base.json").read_text())
    same = a == b
    print(f"base.json: {'identical' if same else 'DIFFERENT'}")
    bad += not same
    for name in ("concepts", "function", "map1", "map2"):
        rows = diffs = shown = 0
        for x, y in zip(_rows(out / f"{name}.jsonl.gz"), _rows(ref / f"{name}.jsonl.gz"), strict=True):
            rows += 1
            if x != y:
                diffs += 1
                if shown < 3:
                    shown += 1
                    print(f"  {name} row {rows - 1}:\n    now {x[:400]}\n    ref {y[:400]}")
        print(f"{name}: {rows} rows, {diffs} differ")
        bad += diffs > 0
    problems, counts = _check_build(out, ref)
    print(f"build: {counts['rows']} rows, {problems} with a corruption or column that differs; "
          f"{counts['correction_both']} correction samples in both runs; task drawn differently in "
          f"{counts['task_differs']}, prompt in {counts['prompt_differs']} of the others")
    bad += problems > 0
    return 1 if bad else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for this run's files")
    parser.add_argument("--against", type=Path, help="a reference folder to compare with")
    parser.add_argument("--limit", type=int, help="only the first N captions (a quick look)")
    args = parser.parse_args(argv)
    run(args.out, args.limit)
    return compare(args.out, args.against) if args.against else 0


if __name__ == "__main__":
    sys.exit(main())
