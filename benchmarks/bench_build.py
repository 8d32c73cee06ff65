"""Dataset build: time for parse + concept base + ICCC samples, extrapolated per million captions; memory.

Usage::

    python benchmarks/bench_build.py            # every COCO caption here (50,024) -> results/build.json
    python benchmarks/bench_build.py --quick    # 2,000 val2017 captions, CI smoke run -> results/build_quick.json

Data: COCO 2017 val captions (``../shared/data/coco_captions/captions_val2017.json.gz``, 25,014
captions of 5,000 images) and, in full mode, also the Karpathy 5k test split
(``coco_karpathy_test.json.gz``, 25,010 captions), one row per caption with ``caption``,
``image_id`` and an ``image`` path string, as ``iccc build`` gets them. Read with
``iccc.io.read_captions`` (loading is not timed).

Stages, each timed once in this process (``num_proc=None``), in CPU seconds of this process
(``time.process_time``: one core, little disturbed by other load on a shared machine) and wall seconds:

* **parse**: ``iccc.add_concepts`` (spaCy; the dominant cost);
* **base**: ``iccc.dataset.concept_base(balance=False)`` — the concept base from every caption,
  grouped by image;
* **balance**: :func:`iccc.balance.balance_insertions` on the sample ``concept_base`` balances on
  (an even sample of at most 50,000 captions; two simulated corruption rounds, cold caches);
* **build**: ``build_dataset(..., mode="materialize")`` on the parsed dataset: per-row draws,
  corruption of the ~30% correction rows, prompts, writing Arrow;
* **transform**: reading every row of an on-the-fly build (``mode="transform"``) in batches of 256,
  as a DataLoader would (the same work as *build*, done at read time; the rows are identical);

**warm**: the same on-the-fly build read again as epoch 1 (``set_epoch``): new draws, the
engine's per-caption caches warm, as in every epoch after the first;

then **per million captions** = CPU seconds per caption x 10^6, for one core (parsing and
building scale with ``num_proc``; the base is built in one process); balancing is capped at 50,000
captions, so its per-million figure is its time on 50,000 (scaled linearly from a smaller run). Memory: resident set size (RSS) after each stage
and the peak. **stream**: an ``IterableDataset`` of the parsed rows, cycled to ``--stream`` rows,
built with the base from above and iterated to the end; RSS is sampled ten times: it must stay
flat (the growth from the second sample to the last is reported).

**End to end vs parsing** (the targets of the scale issue): for each size in ``--sizes`` (default
25,000, 50,000 and every distinct caption here: COCO val2017, Karpathy test, Flickr8k and FACTUAL,
~125k), a fresh process times ``iccc.add_concepts`` alone and then ``build_dataset`` on the raw
captions (parse + base + balance + build, ``datasets`` caching off), and reports their ratio (CPU
seconds of the process and its workers; target <= 1.2), the peak RSS and the RSS after each stage.
With ``--num-proc 2`` (default: also run at the middle size) the same build runs with
``num_proc=2``, and its wall-clock speed-up over one process is reported (target >= 1.8; only
meaningful on an otherwise idle machine with two free cores).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DATA = ROOT.parent / "shared" / "data"
COCO = DATA / "coco_captions"
NLTK_DIR = DATA / "nltk_data"

sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:  # not Linux: fall back to the peak
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB. On Linux ``VmHWM``: getrusage's
    ``ru_maxrss`` survives fork + exec, so a fresh child would report its parent's peak (the
    end-to-end runs used to show the parent's 2.6 GB)."""
    try:
        with open("/proc/self/status") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
        return kib * 1024 / 1e6
    except (OSError, StopIteration):
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1e3 if sys.platform != "darwin" else kb / 1e6


def load_rows(quick: bool) -> tuple[list[dict], list[str]]:
    from iccc.io import group_key, read_captions

    files = ["captions_val2017.json.gz"] + ([] if quick else ["coco_karpathy_test.json.gz"])
    rows = []
    for name in files:
        path = COCO / name
        if not path.is_file():
            sys.exit(f"bench_build: {path} not found (the shared data directory is absent).")
        for r in read_captions(path):
            group = group_key(r)
            image = r.get("image") or f"val2017/{int(group):012d}.jpg"
            rows.append({"caption": r["caption"], "image_id": f"{name.split('_')[1]}:{group}", "image": image})
    return (rows[:2000] if quick else rows), files


def distinct_rows(limit: int | None = None) -> list[dict]:
    """Distinct captions (first occurrence kept) of COCO val2017, Karpathy test, Flickr8k and
    FACTUAL (train + dev), in that order, with a source-prefixed ``image_id``."""
    import csv
    import gzip

    from iccc.io import group_key, read_captions

    seen, rows = set(), []

    def keep(text, image):
        if isinstance(text, str) and text not in seen:
            seen.add(text)
            rows.append({"caption": text, "image_id": image})

    for name in ("captions_val2017.json.gz", "coco_karpathy_test.json.gz"):
        for r in read_captions(COCO / name):
            keep(r["caption"], f"coco:{group_key(r)}")
    flickr = DATA / "flickr8k" / "hodosh2013" / "Flickr8k.token.txt.gz"
    if flickr.is_file():
        for r in read_captions(flickr):
            keep(r["caption"], f"flickr:{group_key(r)}")
    for split in ("train.csv.gz", "dev.csv"):
        path = DATA / "factual" / "factual_sg" / "random" / split
        if path.is_file():
            opener = gzip.open if split.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    keep(r["caption"], f"vg:{r['image_id']}")
    return rows[:limit] if limit else rows


def cpu_with_children() -> float:
    """CPU seconds of this process and its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(n_rows: int, num_proc: int | None) -> dict:
    """In a fresh process: parse alone, then the whole build from raw captions, on ``n_rows``."""
    import datasets

    import iccc
    from iccc.dataset import build_dataset

    datasets.disable_progress_bars()
    datasets.disable_caching()
    rows = distinct_rows(n_rows)
    ds = datasets.Dataset.from_list(rows)
    iccc.load_parser()
    build_dataset(ds.select(range(50)), group_column="image_id")  # one-time loading is not per caption
    out = {"rows": len(rows), "num_proc": num_proc, "rss_mb_start": round(rss_mb(), 1)}
    gc.collect()
    cpu, wall = cpu_with_children(), time.perf_counter()
    parsed = iccc.add_concepts(ds, batch_size=1000, num_proc=num_proc)
    out["parse"] = {"cpu_s": round(cpu_with_children() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2),
                    "rss_mb_after": round(rss_mb(), 1)}
    del parsed
    gc.collect()
    out["rss_mb_before_build"] = round(rss_mb(), 1)
    cpu, wall = cpu_with_children(), time.perf_counter()
    built = build_dataset(ds, group_column="image_id", batch_size=1000, num_proc=num_proc)
    out["build"] = {"cpu_s": round(cpu_with_children() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2),
                    "rss_mb_after": round(rss_mb(), 1)}
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["ratio_cpu"] = round(out["build"]["cpu_s"] / out["parse"]["cpu_s"], 3)
    out["ratio_wall"] = round(out["build"]["wall_s"] / out["parse"]["wall_s"], 3)
    out["corrections"] = sum(t == "correction" for t in built["task"])
    return out


def run_child(n_rows: int, num_proc: int | None) -> dict:
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n_rows)]
    if num_proc:
        cmd += ["--num-proc", str(num_proc)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench_build child {n_rows} rows failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale_runs(sizes: list[int], parallel: list[int], num_proc: int) -> dict:
    runs = []
    for n in sizes:
        runs.append(run_child(n, None))
        print(f"  {runs[-1]['rows']:,} rows, 1 process: build/parse CPU {runs[-1]['ratio_cpu']:.2f}, "
              f"peak RSS {runs[-1]['peak_rss_mb']:,.0f} MB", flush=True)
    for n in parallel:
        one = runs[sizes.index(n)]
        two = run_child(n, num_proc)
        two["speedup_wall_vs_one_process"] = round(one["build"]["wall_s"] / two["build"]["wall_s"], 3)
        runs.append(two)
        print(f"  {two['rows']:,} rows, num_proc={num_proc}: speed-up {two['speedup_wall_vs_one_process']:.2f}x",
              flush=True)
    return {"runs": runs, "num_proc": num_proc}


class Timer:
    def __init__(self):
        self.stages = {}

    def run(self, name: str, rows: int, fn):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        self.stages[name] = {"rows": rows, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                             "rows_per_s_cpu": round(rows / cpu, 1) if cpu else None,
                             "rows_per_s_wall": round(rows / wall, 1) if wall else None,
                             "rss_mb_after": round(rss_mb(), 1)}
        return out


def balance_sample(parsed):
    """The captions ``concept_base`` balances on: an even sample of at most BALANCE_ROWS."""
    from math import ceil

    from iccc import ParsedCaption
    from iccc.dataset._builder import BALANCE_ROWS

    stride = max(1, ceil(len(parsed) / BALANCE_ROWS))
    rows = parsed.select(range(0, len(parsed), stride)).select_columns(["caption", "concepts", "image_id"])
    sample, groups = [], []
    for r in rows:
        if r["concepts"]:
            sample.append(ParsedCaption.from_dict({"text": r["caption"], "concepts": r["concepts"]}))
            groups.append(r["image_id"])
    return sample, groups


def read_all(ds, batch: int = 256) -> int:
    n = 0
    for start in range(0, len(ds), batch):
        n += len(ds[start : start + batch]["prompt"])
    return n


def stream_check(parsed, base, n_rows: int) -> dict:
    """Iterate an on-the-fly build over a stream of ``n_rows`` and sample RSS ten times."""
    from datasets import IterableDataset

    from iccc.dataset import build_dataset

    def rows(n):
        produced = 0
        while True:
            for r in parsed.iter(batch_size=1):
                if produced >= n:
                    return
                yield {k: v[0] for k, v in r.items()}
                produced += 1

    stream = IterableDataset.from_generator(rows, gen_kwargs={"n": n_rows}, features=parsed.features)
    built = build_dataset(stream, concepts=base, group_column="image_id").select_columns(["prompt", "target"])
    samples, step, seen = [], max(1, n_rows // 10), 0
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in built:
        seen += 1
        if seen % step == 0:
            samples.append(round(rss_mb(), 1))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    growth = samples[-1] - samples[1] if len(samples) > 2 else None
    return {"rows": seen, "rss_mb_samples": samples, "rss_growth_mb_after_first_tenth": growth,
            "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "rows_per_s_cpu": round(seen / cpu, 1) if cpu else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 captions (CI)")
    parser.add_argument("--stream", type=int, default=None, help="rows of the streaming check (default 4,000 quick, "
                        "60,000 full)")
    parser.add_argument("--out", default=None, help="JSON path (default results/build[_quick].json)")
    parser.add_argument("--sizes", default=None, help="comma-separated caption counts of the end-to-end runs "
                        "(default 25000,50000,all; quick: 2000)")
    parser.add_argument("--num-proc", type=int, default=None, help="processes of the parallel end-to-end run "
                        "(default 2; 1: none)")
    parser.add_argument("--no-scale", action="store_true", help="skip the end-to-end runs")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "NLTK_DATA" not in os.environ and NLTK_DIR.is_dir():
        os.environ["NLTK_DATA"] = str(NLTK_DIR)
    if args.child is not None:
        print(json.dumps(child(args.child, args.num_proc if args.num_proc and args.num_proc > 1 else None)))
        return 0

    import datasets

    import iccc
    from iccc.balance import balance_insertions
    from iccc.dataset import build_dataset, build_summary, concept_base, format_summary, set_epoch

    datasets.disable_progress_bars()
    datasets.disable_caching()
    rows, files = load_rows(args.quick)
    n = len(rows)
    stream_rows = args.stream or (4_000 if args.quick else 60_000)
    ds = datasets.Dataset.from_list(rows)
    del rows
    start_rss = rss_mb()
    iccc.load_parser()  # one-time loading (spaCy; WordNet and word lists on first use) is not a per-caption cost
    concept_base([iccc.add_concepts(ds.select(range(20)))], group_column="image_id", balance=False)
    timer = Timer()
    parsed = timer.run("parse", n, lambda: iccc.add_concepts(ds, batch_size=1000))
    base = timer.run("base", n, lambda: concept_base([parsed], group_column="image_id", balance=False))
    sample, groups = balance_sample(parsed)
    timer.run("balance", len(sample), lambda: balance_insertions(base, sample, groups=groups, seed=0))
    built = timer.run("build", n, lambda: build_dataset(parsed, concepts=base, group_column="image_id",
                                                         load_from_cache_file=False))
    fly = build_dataset(parsed, concepts=base, group_column="image_id", mode="transform")
    timer.run("transform", n, lambda: read_all(fly))
    same = fly[:200] == built.select(range(min(200, n)))[:]
    set_epoch(fly, 1)
    timer.run("transform_warm", n, lambda: read_all(fly))
    summary = build_summary(built, examples=3)
    stream = stream_check(parsed, base, stream_rows)

    stages = timer.stages
    # per million: linear stages scale with the rows; balancing runs on at most BALANCE_ROWS captions,
    # so at a million it costs what it costs on min(n, BALANCE_ROWS) -> scaled up to that sample size
    per_million = {s: round(stages[s]["cpu_s"] / n * 1e6 / 60, 1)
                   for s in ("parse", "base", "build", "transform", "transform_warm")}
    per_million["balance"] = round(stages["balance"]["cpu_s"] * 50_000 / max(1, stages["balance"]["rows"]) / 60, 1)
    total_cpu = sum(stages[s]["cpu_s"] for s in ("parse", "base", "balance", "build"))
    per_million["parse+base+build"] = round(sum(per_million[s] for s in ("parse", "base", "balance", "build")), 1)
    result = {
        "benchmark": "build",
        "mode": "quick" if args.quick else "full",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "datasets": datasets.__version__, "iccc": iccc.__version__},
        "data": {"files": files, "captions": n, "images": len(set(ds["image_id"]))},
        "config": {"p_correction": 0.3, "p_swap": 0.15, "num_proc": None, "batch_size": 1000,
                   "wordnet": bool(os.environ.get("NLTK_DATA")), "stream_rows": stream_rows},
        "timing": stages,
        "per_million_captions_minutes_one_core": per_million,
        "memory": {"rss_mb_before": round(start_rss, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                   "base_captions": base.n_captions},
        "transform_rows_equal_materialised": same,
        "summary": {k: v for k, v in summary.items() if k != "examples"},
        "examples": summary["examples"],
        "stream": stream,
    }
    if not args.no_scale:
        print("End to end vs parsing alone (fresh process per run):", flush=True)
        if args.sizes:
            sizes = [int(x) for x in args.sizes.split(",")]
        else:
            sizes = [2_000] if args.quick else [25_000, 50_000, len(distinct_rows())]
        middle = sizes[len(sizes) // 2] if len(sizes) > 1 else sizes[0]
        num_proc = args.num_proc or 2
        result["end_to_end"] = scale_runs(sizes, [middle] if num_proc > 1 else [], num_proc)

    out = Path(args.out) if args.out else RESULTS / ("build_quick.json" if args.quick else "build.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")

    print(f"ICCC dataset build, {n:,} COCO captions ({result['mode']}), one process")
    print("| stage | rows/s (CPU) | rows/s (wall) | CPU s | min per 1M captions (CPU, 1 core) | RSS after (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, s in stages.items():
        print(f"| {name} | {s['rows_per_s_cpu']:,.0f} | {s['rows_per_s_wall']:,.0f} | {s['cpu_s']:,.1f} | "
              f"{per_million[name]:,.1f} | {s['rss_mb_after']:,.0f} |")
    print(f"| **parse + base + balance + build** | | | {total_cpu:,.1f} | **{per_million['parse+base+build']:,.1f}** | |")
    print(f"Peak RSS {result['memory']['peak_rss_mb']:,.0f} MB. On-the-fly rows equal materialised rows: {same}.")
    print(f"Stream of {stream['rows']:,} rows: {stream['rows_per_s_cpu']:,.0f} rows/s (CPU); RSS samples (MB) "
          f"{stream['rss_mb_samples']}; growth after the first tenth {stream['rss_growth_mb_after_first_tenth']} MB.")
    if "end_to_end" in result:
        print("| captions | processes | parse s (CPU) | build s (CPU) | build / parse | build wall s | speed-up | "
              "peak RSS MB |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in result["end_to_end"]["runs"]:
            print(f"| {r['rows']:,} | {r['num_proc'] or 1} | {r['parse']['cpu_s']:,.1f} | {r['build']['cpu_s']:,.1f} | "
                  f"{r['ratio_cpu']:.2f} | {r['build']['wall_s']:,.1f} | {r.get('speedup_wall_vs_one_process', '')} | "
                  f"{r['peak_rss_mb']:,.0f} |")
    print(format_summary(summary))
    print(f"Saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
