"""Scale-out: the Ray Data build (``iccc.distributed``) beside the local build, rows/s vs actors.

Usage::

    python benchmarks/bench_scale.py            # 10,000 Karpathy test captions -> results/scale.json
    python benchmarks/bench_scale.py --quick    # 1,000 captions, a smoke run -> results/scale_quick.json

Data: the first N captions of the Karpathy 5k test split (``../shared/data/coco_captions/
coco_karpathy_test.json.gz``, 5 per image, file order), loaded with ``iccc.dataset.load_captions``
as ``iccc build`` loads them (loading is not timed), with a ``row`` column (the row index).

Runs, wall seconds, each once, in this order:

* **local**: ``iccc.build_dataset(ds, seed=0)`` in this process (``num_proc=None``): parse, base,
  balance, samples;
* **worker memory**: peak RSS of one process doing one worker's work (a ``ParserActor``, then a
  ``SampleActor`` holding the base, on one batch of 250 rows), without Ray's own share;
* **ray, 1 and 2 actors**: a local Ray instance (``ray.init(num_cpus=2)``, started once, its start
  timed apart), then the stages of ``iccc.distributed.build_dataset`` timed one by one: *parse*
  (``add_concepts`` with N parser actors, materialised), *base* (``concept_base``: partial bases
  per block, merged and balanced on the driver; *base_count_merge_only*: the same without the
  balance simulation, run before it and not counted in the total), *build* (``build_samples`` with N actors,
  written as parquet). Rows keyed by ``row``, so every row must equal the local build's
  (``same_rows``).

Reported: rows/s of each, and the Ray overhead as a ratio (Ray wall / local wall: above 1 means
slower than the local build). On a 2-core machine the two actors share the cores with the driver
and Ray's own processes: the 2-actor figure shows how the stages spread, not a cluster's speed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
KARPATHY = ROOT.parent / "shared" / "data" / "coco_captions" / "coco_karpathy_test.json.gz"

sys.path.insert(0, str(ROOT))


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def load(n: int):
    from iccc.dataset import load_captions

    ds = load_captions(str(KARPATHY))
    ds = ds.select(range(min(n, len(ds))))
    return ds.add_column("row", list(range(len(ds))))


def ray_run(ds, actors: int, local_rows: list, batch_size: int) -> dict:
    import iccc.distributed as idist
    from iccc import columns

    times = {}
    start = time.perf_counter()
    parsed = idist.add_concepts(idist.from_dataset(ds), concurrency=actors, batch_size=batch_size).materialize()
    times["parse"] = time.perf_counter() - start
    t = time.perf_counter()
    idist.concept_base(parsed, group_column="image_id", id_column="row", balance=False, rows=len(ds))
    times["base_count_merge_only"] = time.perf_counter() - t
    t = time.perf_counter()
    base = idist.concept_base(parsed, group_column="image_id", id_column="row", seed=0, rows=len(ds))
    times["base"] = time.perf_counter() - t
    start += times["base_count_merge_only"]  # a measurement of its own, not a stage of the build
    t = time.perf_counter()
    built = idist.build_samples(parsed, base, group_column="image_id", id_column="row", seed=0, concurrency=actors,
                                batch_size=batch_size, hidden=(columns.CONCEPTS, columns.PARSE_STATUS))
    with tempfile.TemporaryDirectory() as folder:
        files = idist.write_parquet(built, Path(folder) / "out")
        import pyarrow.parquet as pq

        rows = pq.read_table([str(f) for f in files]).to_pylist()
    times["build"] = time.perf_counter() - t
    total = time.perf_counter() - start
    rows.sort(key=lambda r: r["row"])
    if actors == 1:
        ray_run.base = base
    return {"actors": actors, "seconds": {k: round(v, 2) for k, v in times.items()}, "total_s": round(total, 2),
            "rows_per_s": round(len(ds) / total, 1), "same_rows": rows == local_rows, "rows": len(rows)}


_WORKER_PROBE = """
import json, sys
import pyarrow as pa
import iccc, iccc.distributed as idist
from iccc.base import ConceptBase
from iccc.dataset._samples import SampleBuilder
base = ConceptBase.load(sys.argv[1])
captions = json.loads(sys.argv[2])
def rss():  # peak RSS of this process (VmHWM starts afresh at exec, unlike ru_maxrss)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
start = rss()
parsed = idist.ParserActor()(pa.table({"caption": captions, "image_id": list(range(len(captions)))}))
after_parse = rss()
idist.SampleActor(SampleBuilder(base, group_column="image_id", p_correction=0.3))(parsed)
print(json.dumps({"python_and_iccc_mb": round(start, 1), "parser_actor_peak_mb": round(after_parse, 1),
                  "parser_and_sample_actor_peak_mb": round(rss(), 1)}))
"""


def worker_memory(base, captions: list) -> dict:
    """Peak RSS of one process doing what one worker does (a ParserActor, then a SampleActor with
    the base, on one batch), without Ray: the memory a worker needs besides Ray's own."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.json"
        base.save(path)
        done = subprocess.run([sys.executable, "-c", _WORKER_PROBE, str(path), json.dumps(captions)],
                              capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["base_json_mb"] = round(len(json.dumps(base.to_json())) / 1e6, 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 captions (a smoke run)")
    parser.add_argument("--rows", type=int, default=None, help="captions to build from (default 10,000; quick 1,000)")
    parser.add_argument("--batch-size", type=int, default=250, help="rows per Ray batch")
    parser.add_argument("--out", default=None, help="results file (default results/scale[_quick].json)")
    args = parser.parse_args(argv)
    if not KARPATHY.is_file():
        print(f"Karpathy test captions not found: {KARPATHY}", file=sys.stderr)
        return 1
    n = args.rows or (1_000 if args.quick else 10_000)
    import datasets

    import iccc

    datasets.disable_progress_bars()
    ds = load(n)
    start = time.perf_counter()
    local = iccc.build_dataset(ds, seed=0)
    local_s = time.perf_counter() - start
    local_rows = local.to_list()

    import ray
    from ray.data import DataContext

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    init_s = time.perf_counter() - start
    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    runs = []
    try:
        for actors in (1, 2):
            run = ray_run(ds, actors, local_rows, args.batch_size)
            run["overhead_ratio"] = round(run["total_s"] / local_s, 2)
            runs.append(run)
            print(f"ray, {actors} actor(s): {run['total_s']:.1f}s {run['seconds']} ({run['rows_per_s']} rows/s, "
                  f"{run['overhead_ratio']}x local), same rows: {run['same_rows']}", flush=True)
    finally:
        ray.shutdown()
    result = {
        "benchmark": "scale",
        "mode": "quick" if args.quick else "full",
        "date": datetime.date.today().isoformat(),
        "git_commit": git_commit(),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "ray": ray.__version__, "datasets": datasets.__version__,
                    "iccc": iccc.__version__},
        "data": {"source": "coco_karpathy_test.json.gz (first rows, file order)", "captions": len(ds)},
        "config": {"seed": 0, "batch_size": args.batch_size, "ray_num_cpus": 2, "keys": "row index (id column)"},
        "local": {"total_s": round(local_s, 2), "rows_per_s": round(len(ds) / local_s, 1)},
        "ray_init_s": round(init_s, 2),
        "ray": runs,
        "note": ("wall seconds, one run each, on a shared 2-core machine; Ray runs include actor start-up "
                 "(each actor imports iccc and loads spaCy) and the driver's base merge and balance simulation"),
    }
    result["worker_memory"] = worker_memory(ray_run.base, [c for c in ds["caption"][:250]])
    print(f"worker memory: {result['worker_memory']}")
    print(f"local: {local_s:.1f}s ({result['local']['rows_per_s']} rows/s); ray init {init_s:.1f}s")
    out = Path(args.out) if args.out else RESULTS / ("scale_quick.json" if args.quick else "scale.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {out}")
    return 0 if all(r["same_rows"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
