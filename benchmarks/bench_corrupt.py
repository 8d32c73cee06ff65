"""Corruption speed: corruptions per second per core, from parsed captions.

Usage::

    python benchmarks/bench_corrupt.py            # all 25k val2017 captions -> results/corrupt.json
    python benchmarks/bench_corrupt.py --quick    # 300 images, CI smoke run -> results/corrupt_quick.json

Data: every COCO 2017 val caption (``../shared/data/coco_captions/captions_val2017.json.gz``,
25,014 captions of 5,000 images), parsed once and cached by ``bench_quality.parsed_val2017()``;
parsing is not timed here (see ``bench_parse.py``). The concept base is built from the same captions,
grouped by image (the sibling-caption guard is on), frequency-balanced with the default
``balance_insertions`` (as ``build_dataset`` does; not timed, see ``bench_build.py``), and corrupted
with the default ``Corruptor`` settings (replace, and swap first with p = 0.15). WordNet is used when its data is found
(``NLTK_DATA`` or ``../shared/data/nltk_data``), as a user with the data would run it.

What is measured, ``--repeats`` times, each time on a fresh copy of the base with every cache empty
(the base's pools, masks and weights, and the WordNet/category/word caches of ``iccc.semantics``
and ``iccc.base``):

* **cold**: the first pass over all captions (epoch 0): caches fill as it goes;
* **warm**: the second and third passes (epochs 1 and 2) over the same base: new draws (each row's
  random stream comes from ``(seed, epoch, index)``), so most rows draw a slot (a concept and its
  contexts) whose candidate weights are not cached (~190k distinct slots in 25k captions; the
  weights cache keeps the most recent 4,096): what every epoch of on-the-fly training costs. Context
  vectors, WordNet masks and per-caption slots are cached by then;
* **hot**: the floor of the per-row cost, what every epoch would cost if the candidate weights of
  every slot stayed cached: each chunk of 1,000 rows (epoch 5) runs twice and only the second
  run, whose weights the first computed, is timed;
* **map**: ``Dataset.map(corrupt, batched=True, with_indices=True, fn_kwargs={"concepts": base,
  "seed": 0, "group_column": "image_id", "epoch": 4}, features=...)`` over a dataset holding the
  captions, their ``concepts`` and the image ids, on the same warm base, after one untimed map
  epoch (3; a map rebuilds its caption objects from the rows, so it warms its own), in this process
  (``num_proc=None``): Arrow decoding, ``Concept`` objects rebuilt from dicts, per-row streams,
  writing the record columns, and ``datasets``' hashing of the function and its arguments;

Every engine pass runs ``Corruptor.many`` on chunks of 1,000 rows (as a map's batches), which
computes the candidate weights a chunk needs as one matrix per pool, and draws from the per-row
streams a map uses (``iccc.corrupt.row_stream``, computed for 1,000 rows at a time); the cost of a stream per row is measured, next to that of a
``numpy.random.Generator`` per row (what the map used before). Rates are per second of CPU time of this
process (``time.process_time``: one core, little disturbed by other load on a shared machine) and,
for reference, per second of wall-clock time. Each figure is the median over the repeats. The warm
path is then profiled (cProfile, one more warm pass) and the top costs by own time are reported,
with totals per source file.

Target: >= 30,000 corruptions per second per core (issue 3); each figure says whether it meets it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import os
import platform
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
NLTK_DIR = ROOT.parent / "shared" / "data" / "nltk_data"
TARGET = 30_000

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))


def _use_wordnet() -> bool:
    if "NLTK_DATA" not in os.environ and NLTK_DIR.is_dir():
        os.environ["NLTK_DATA"] = str(NLTK_DIR)
    from iccc import semantics

    return semantics.wordnet_available()


def clear_caches() -> None:
    """Empty every module-level cache the corruption path fills (a base's own caches go with it)."""
    import importlib

    from iccc import base, semantics

    corrupt = importlib.import_module("iccc.corrupt")  # ``iccc.corrupt`` is also the function's name
    for fn in (semantics._synsets, semantics.synonym_names, semantics.hypernym_names, semantics.related,
               semantics.category, base.content_words):
        fn.cache_clear()
    corrupt._ENGINES.clear()


def fresh_copy(base):
    """A copy of ``base`` with empty caches (the JSON state, as pickling does)."""
    from iccc import ConceptBase

    return ConceptBase.from_json(base.to_json())


def _streams(seed: int, epoch: int, n: int) -> list:
    from iccc.streams import Streams as RowStreams

    out = []
    for start in range(0, n, 1000):
        batch = RowStreams(seed, epoch, range(start, min(n, start + 1000)))
        out.extend(batch[k] for k in range(len(batch)))
    return out


def one_pass(engine, parsed, groups, *, seed: int, epoch: int) -> dict:
    """Corrupt every caption once, each with its row's stream from ``(seed, epoch, index)``."""
    made = 0
    gc.collect()
    load = os.getloadavg()[0]
    cpu, wall = time.process_time(), time.perf_counter()
    streams = _streams(seed, epoch, len(parsed))
    for lo in range(0, len(parsed), 1000):  # as a map's batches of 1,000 rows
        records = engine.many(parsed[lo:lo + 1000], streams[lo:lo + 1000], groups[lo:lo + 1000])
        made += sum(record is not None for record in records)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"captions": len(parsed), "corruptions": made, "cpu_s": cpu, "wall_s": wall,
            "per_cpu_s": made / cpu, "per_wall_s": made / wall, "loadavg_1min": load}


def floor_pass(engine, parsed, groups, *, seed: int, epoch: int) -> dict:
    """The draw path alone: each chunk of 1,000 rows runs twice and only the second run is timed
    (every candidate-weight vector it needs was computed by the first)."""
    made, cpu, wall = 0, 0.0, 0.0
    gc.collect()
    load = os.getloadavg()[0]
    streams = _streams(seed, epoch, len(parsed))
    replay = _streams(seed, epoch, len(parsed))  # the same streams again, from their first draw
    for lo in range(0, len(parsed), 1000):
        part = slice(lo, lo + 1000)
        engine.many(parsed[part], streams[part], groups[part])
        c, w = time.process_time(), time.perf_counter()
        records = engine.many(parsed[part], replay[part], groups[part])
        cpu, wall = cpu + time.process_time() - c, wall + time.perf_counter() - w
        made += sum(record is not None for record in records)
    return {"captions": len(parsed), "corruptions": made, "cpu_s": cpu, "wall_s": wall,
            "per_cpu_s": made / cpu, "per_wall_s": made / wall, "loadavg_1min": load}


def rng_cost(n: int, *, seed: int = 0) -> dict:
    """CPU µs per row: a ``numpy.random.Generator`` from ``(seed, epoch, index)``, and a row stream
    (made for 1,000 rows at a time) with four draws, about what a corruption takes."""
    cpu = time.process_time()
    for i in range(n):
        np.random.default_rng([seed, 1, i])
    generator = (time.process_time() - cpu) / n
    cpu = time.process_time()
    for rng in _streams(seed, 1, n):
        rng.random(), rng.random(), rng.random(), rng.random()
    stream = (time.process_time() - cpu) / n
    return {"generator_us": 1e6 * generator, "stream_us": 1e6 * stream}


def build_dataset(parsed, groups):
    from datasets import Dataset

    return Dataset.from_dict({
        "caption": [p.text for p in parsed],
        "concepts": [[c.to_dict() for c in p.concepts] for p in parsed],
        "image_id": groups,
    })


def map_pass(dataset, base, *, seed: int, epoch: int) -> dict:
    import datasets

    import iccc
    from iccc.corrupt import STATUS_COLUMN, corruption_features

    features = datasets.Features({**dataset.features, **corruption_features()})
    gc.collect()
    load = os.getloadavg()[0]
    cpu, wall = time.process_time(), time.perf_counter()
    out = dataset.map(
        iccc.corrupt, batched=True, with_indices=True, batch_size=1000, features=features,
        fn_kwargs={"concepts": base, "seed": seed, "group_column": "image_id", "epoch": epoch},
        load_from_cache_file=False, keep_in_memory=True,
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    made = sum(s == "ok" for s in out[STATUS_COLUMN])
    return {"captions": len(dataset), "corruptions": made, "cpu_s": cpu, "wall_s": wall,
            "per_cpu_s": made / cpu, "per_wall_s": made / wall, "loadavg_1min": load}


def profile_warm(engine, parsed, groups, *, seed: int, epoch: int, top: int = 20) -> dict:
    """cProfile one more warm pass: the top functions by own time, and own time per source file."""
    profiler = cProfile.Profile()
    profiler.enable()
    streams = _streams(seed, epoch, len(parsed))
    for lo in range(0, len(parsed), 1000):
        engine.many(parsed[lo:lo + 1000], streams[lo:lo + 1000], groups[lo:lo + 1000])
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows, by_file = [], {}
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        short = _short(path)
        by_file[short] = by_file.get(short, 0.0) + tottime
        rows.append({"function": f"{short}:{line}({name})", "calls": ncalls, "own_s": round(tottime, 4),
                     "cum_s": round(cumtime, 4), "own_share": round(tottime / total, 4)})
    rows.sort(key=lambda r: -r["own_s"])
    files = sorted(({"file": f, "own_s": round(t, 4), "own_share": round(t / total, 4)} for f, t in by_file.items()),
                   key=lambda r: -r["own_s"])
    cumulative = sorted(rows, key=lambda r: -r["cum_s"])
    return {"total_s": round(total, 3), "captions": len(parsed), "top_own": rows[:top],
            "top_cumulative": [r for r in cumulative if not r["function"].startswith("~")][:top], "by_file": files[:top]}


def _short(path: str) -> str:
    if path == "~":
        return "~"  # built-in functions (numpy ufunc methods, dict.get, ...)
    p = Path(path)
    for anchor in ("iccc", "numpy", "datasets", "nltk"):
        if anchor in p.parts:
            return "/".join(p.parts[p.parts.index(anchor):])
    return p.name


def _machine() -> dict:
    import subprocess

    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "iccc"], capture_output=True,
                                    text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", None
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "cpu": cpu_model or platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "git_commit": commit, "uncommitted_changes_in_iccc": dirty}


def _median(values):
    return statistics.median(values) if values else None


def format_table(result: dict) -> str:
    s = result["summary"]

    def f(v, digits=0):
        return "-" if v is None else f"{v:,.{digits}f}"

    lines = [
        f"| pass | corruptions/s per core (CPU) | corruptions/s (wall) | µs per caption (CPU) | load avg | "
        f"≥ {TARGET:,}/s |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for name in ("cold", "warm", "hot", "map"):
        row = s.get(name)
        if row is None:
            continue
        met = "yes" if row["per_cpu_s"] >= TARGET else "no"
        lines.append(f"| {name} | {f(row['per_cpu_s'])} | {f(row['per_wall_s'])} | "
                     f"{f(row['us_per_caption_cpu'], 1)} | {f(row['loadavg_1min'], 1)} | {met} |")
    lines.append("")
    lines.append(f"map / warm (per core): {f(s.get('map_over_warm'), 2)}; per row: numpy Generator "
                 f"{f(s['rng']['generator_us'], 1)} µs, row stream (4 draws) {f(s['rng']['stream_us'], 2)} µs")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 images (~1.5k captions), 2 repeats (CI)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats of cold+warm+map (default 3; quick 2)")
    parser.add_argument("--images", type=int, default=None, help="use the captions of this many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-map", action="store_true", help="skip the Dataset.map pass")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile pass")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default results/corrupt[_quick].json)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 3)
    n_images = args.images or (300 if args.quick else None)

    wordnet = _use_wordnet()
    from bench_quality import parsed_val2017

    import iccc

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    anns, parsed = parsed_val2017(n_images)
    groups = [a["image_id"] for a in anns]
    print(f"{len(parsed):,} parsed captions of {len(set(groups)):,} images; WordNet: {wordnet}", file=sys.stderr)

    cpu = time.process_time()
    base = iccc.ConceptBase.from_parsed(parsed, groups=groups)
    build_cpu = time.process_time() - cpu
    from iccc.balance import balance_insertions

    cpu = time.process_time()
    balance_insertions(base, parsed, groups=groups, seed=args.seed)
    balance_cpu = time.process_time() - cpu
    print(f"balanced in {balance_cpu:.1f}s CPU", file=sys.stderr)
    print(f"concept base built in {build_cpu:.1f}s CPU: {base!r}", file=sys.stderr)
    dataset = None if args.no_map else build_dataset(parsed, groups)

    runs = []
    for r in range(repeats):
        clear_caches()
        fresh = fresh_copy(base)
        engine = iccc.Corruptor(fresh)
        run = {"cold": one_pass(engine, parsed, groups, seed=args.seed, epoch=0)}
        run["warm"] = [one_pass(engine, parsed, groups, seed=args.seed, epoch=e) for e in (1, 2)]
        run["hot"] = floor_pass(engine, parsed, groups, seed=args.seed, epoch=5)
        if dataset is not None:
            # a map rebuilds its own caption objects from the rows, whose per-caption caches are
            # cold at first: one untimed map epoch, then the timed one (as "warm" for the engine)
            map_pass(dataset, fresh, seed=args.seed, epoch=3)
            run["map"] = map_pass(dataset, fresh, seed=args.seed, epoch=4)
        runs.append(run)
        warm = _median([w["per_cpu_s"] for w in run["warm"]])
        print(f"repeat {r + 1}/{repeats}: cold {run['cold']['per_cpu_s']:,.0f}/s, warm {warm:,.0f}/s, "
              f"hot {run['hot']['per_cpu_s']:,.0f}/s"
              + (f", map {run['map']['per_cpu_s']:,.0f}/s"
                 if "map" in run else "") + " (per CPU second)", file=sys.stderr)

    def summary(rows):
        per_cpu = _median([x["per_cpu_s"] for x in rows])
        return {"per_cpu_s": per_cpu, "per_wall_s": _median([x["per_wall_s"] for x in rows]),
                "us_per_caption_cpu": _median([1e6 * x["cpu_s"] / x["captions"] for x in rows]),
                "loadavg_1min": _median([x["loadavg_1min"] for x in rows]),
                "coverage": _median([x["corruptions"] / x["captions"] for x in rows]), "samples": len(rows)}

    result_summary = {"cold": summary([run["cold"] for run in runs]),
                      "warm": summary([w for run in runs for w in run["warm"]]),
                      "hot": summary([run["hot"] for run in runs])}
    if dataset is not None:
        result_summary["map"] = summary([run["map"] for run in runs])
        result_summary["map_over_warm"] = result_summary["map"]["per_cpu_s"] / result_summary["warm"]["per_cpu_s"]
    result_summary["rng"] = rng_cost(min(len(parsed), 20_000), seed=args.seed)
    result_summary["target_per_core"] = TARGET

    profile = None
    if not args.no_profile:
        n = min(len(parsed), 5_000)
        profile = profile_warm(engine, parsed[:n], groups[:n], seed=args.seed, epoch=4)  # a warm epoch

    result = {
        "benchmark": "corrupt",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "data": {"captions": len(parsed), "images": len(set(groups)), "source": "COCO captions_val2017"},
        "settings": {"corruptor": "default", "groups": True, "balanced": True, "wordnet": wordnet, "seed": args.seed,
                     "repeats": repeats, "timer": "time.process_time (CPU of this process)"},
        "base": {"build_cpu_s": round(build_cpu, 2), "balance_cpu_s": round(balance_cpu, 2), "repr": repr(base)},
        "machine": _machine(),
        "loadavg_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "summary": result_summary,
        "runs": runs,
        "profile_warm": profile,
        "seconds_total": round(time.perf_counter() - t0, 1),
    }
    result["table_markdown"] = format_table(result)
    print(result["table_markdown"])
    if profile:
        print(f"\nwarm profile ({profile['captions']:,} captions, {profile['total_s']}s under cProfile), "
              "top own time:")
        for row in profile["top_own"][:12]:
            print(f"  {row['own_share']:6.1%}  {row['own_s']:7.3f}s  {row['calls']:>8}  {row['function']}")
        print("own time by file:")
        for row in profile["by_file"][:10]:
            print(f"  {row['own_share']:6.1%}  {row['own_s']:7.3f}s  {row['file']}")
    path = args.out or RESULTS / ("corrupt_quick.json" if args.quick else "corrupt.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    import json

    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"saved {path} ({result['seconds_total']:.0f}s)", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
