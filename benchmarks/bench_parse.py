"""Parse speed of ``iccc.parse`` against bare spaCy, on real COCO captions, in one run.

Usage::

    python benchmarks/bench_parse.py            # full, ~10 min on 2 idle cores -> results/parse.json
    python benchmarks/bench_parse.py --quick    # CI smoke run, seconds -> results/parse_quick.json
    python benchmarks/bench_parse.py --single-process --repeats 2   # (a), (x), (b), (o), (d) only

``--single-process`` leaves out the runs with worker processes, (c) and (e), and keeps the last
full run's figures for them in the JSON (``previous_multi_process``).

Data: the distinct captions of COCO 2017 val (``../shared/data/coco_captions/captions_val2017.json.gz``:
25,014 captions, 24,808 distinct; distinct, so that de-duplication does not flatter ``iccc.parse``).
Every run uses the same loaded pipeline, the default of ``iccc.load_parser()`` (NER excluded), and
the same ``nlp.pipe`` batch size.

What is measured:

* (a) bare spaCy: ``for doc in nlp.pipe(texts): pass``;
* (x) ``nlp.pipe`` plus ``iccc.extract(doc)`` on every doc: the least any caption-to-concepts
  pipeline must do, so ``b/x`` is the overhead of the pipeline itself and ``x/a`` the cost of the
  extraction rules;
* (b) ``iccc.parse(texts)``, one process. It runs the same components, but the two rule-based ones at
  the end of the pipeline (``attribute_ruler``, ``lemmatizer``: about a third of ``en_core_web_sm``'s
  time) through iccc's memo tables (``iccc/parsing/_fastrules.py``), which give the same annotations,
  token for token (``tests/test_fastrules.py``; checked on every distinct caption of the shared COCO
  and Flickr8k files);
* (b0) ``iccc.parse(texts, fast_rules=False)``: spaCy's own rule components, so ``b0/a`` is the cost of
  the extraction and of the pipeline on top of bare spaCy;
* (c) ``iccc.parse(texts, n_process=2)`` against (b), on a large input: ``--large`` distinct captions
  of all the shared COCO files (val2017, Karpathy test, SCAN; 60k by default), so that pool start-up
  and the last, half-empty block weigh as little as they would on a real dataset. Next to it, the same
  for bare spaCy: ``nlp.pipe(texts, n_process=2)`` against ``nlp.pipe(texts)`` (a2/a1), the scaling
  the machine and spaCy's own multiprocessing allow;
* (o) the same work with spaCy taken out, to split the cost of (b) without machine noise: the docs
  are made once, then ``extract`` alone and ``iccc.parse`` (whose ``nlp.pipe`` then hands back the
  ready docs) run on them; fastest of ``--repeats`` x 3 runs, in microseconds per caption. So do
  spaCy's rule components and iccc's memoised ones, on fresh copies of docs made without them. With
  the spaCy cost from (a), this gives the ratios b/a and b0/a expected on an idle machine;
* (d) a duplicate-heavy input (each caption 3 times, shuffled): how many docs spaCy really made (a
  counting component at the end of the pipeline), and the time relative to (b) on the distinct input;
* (e) streaming: a generator of ``--stream`` captions through ``iccc.iter_parse(..., n_process=2)``:
  every distinct caption of the shared COCO files (val2017, the Karpathy test split and the
  tokenised SCAN copies: about 75k distinct strings, more than the de-duplication memo holds), cycled
  and reshuffled on every pass. Resident memory of the main process and of the workers is sampled
  every 2% of the stream; "early" is the median over 25-50% of the stream, "late" over 75-100%
  (the memo is full before 25%). It runs in a fresh Python process, so that memory left over by the
  other measurements does not blur it.

How: the machine may be shared and noisy, so runs are interleaved and ratios are taken between runs
that ran next to each other. (a), (x), (b) and (b0) run on chunks of ``--chunk`` captions, all four on one
chunk before the next chunk, in an order that rotates; each chunk gives one paired sample, over
``--repeats`` passes over the data. (b) and (c) alternate on the whole input (pool start-up and
the last block included), ``--repeats`` times. Throughput is captions per second of wall-clock time
and per second of CPU time (this process, plus the workers' for (c)); CPU time is much less disturbed
by other load. Each ratio is the median of the per-sample ratios. Python's garbage-collector time is
recorded as well (``gc.callbacks``), and the 1-minute load average before and after.

Targets: ``b/a >= 0.95`` and ``c/b >= 1.8`` (wall-clock throughput).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import gzip
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "coco_captions" / "captions_val2017.json.gz"
TARGETS = {"b/a": 0.95, "c/b": 1.8}
COUNTER = "iccc_bench_doc_counter"


def load_captions(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        annotations = json.load(f)["annotations"]
    return list(dict.fromkeys(a["caption"] for a in annotations))  # distinct, in file order


def stream_source(path: Path) -> list[str]:
    """Every distinct caption string of the COCO caption files next to ``path``."""
    from iccc.io import read_captions

    folder = path.parent
    files = [path, folder / "coco_karpathy_test.json.gz", *sorted((folder / "scan_coco_precomp").glob("*.txt*"))]
    rows = (row["caption"] for f in files if f.is_file() for row in read_captions(f))
    return list(dict.fromkeys(c for c in rows if isinstance(c, str)))


# ------------------------------------------------------------------------ measuring
def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB from ``/proc`` (Linux); ``nan`` elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class _GCTimer:
    """Seconds this process spent in the cyclic garbage collector."""

    def __init__(self):
        self.seconds = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start


_GC = _GCTimer()


def timed(fn, *args) -> dict:
    gc.collect()
    wall, cpu, children, in_gc = (
        time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), _GC.seconds
    )
    fn(*args)
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu(resource.RUSAGE_SELF) - cpu + _cpu(resource.RUSAGE_CHILDREN) - children,
        "gc_s": _GC.seconds - in_gc,
    }


def interleave(runs: dict, inputs: list[list[str]], repeats: int, label: str) -> dict[str, list[dict]]:
    """Each run on each input, all runs on one input before the next, in a rotating order."""
    out: dict[str, list[dict]] = {key: [] for key in runs}
    keys = list(runs)
    step = 0
    for r in range(repeats):
        for i, chunk in enumerate(inputs):
            for key in keys[step % len(keys):] + keys[: step % len(keys)]:
                t = timed(runs[key], chunk)
                t["n"] = len(chunk)
                out[key].append(t)
            step += 1
            line = ", ".join(f"{k} {out[k][-1]['wall_s']:.2f}s/{out[k][-1]['cpu_s']:.2f}s" for k in keys)
            print(f"  {label} pass {r + 1}/{repeats} chunk {i + 1}/{len(inputs)} (wall/cpu): {line}", flush=True)
    return out


def summarize(results: dict[str, list[dict]], pairs: dict[str, tuple[str, str]]) -> dict:
    """Throughput from summed times, and each ratio as the median of per-sample ratios."""
    out: dict = {"throughput_per_s": {}, "ratios": {}}
    for key, runs in results.items():
        n = sum(t["n"] for t in runs)
        wall, cpu, in_gc = (sum(t[f] for t in runs) for f in ("wall_s", "cpu_s", "gc_s"))
        out["throughput_per_s"][key] = {"wall": n / wall, "cpu": n / cpu, "gc_share_of_cpu": in_gc / cpu}
    for name, (num, den) in pairs.items():
        ratio = {}
        for field in ("wall_s", "cpu_s"):
            samples = [d[field] / u[field] for u, d in zip(results[num], results[den])]
            ratio[field[:-2]] = statistics.median(samples)
            ratio[field[:-2] + "_samples"] = [round(s, 4) for s in samples]
        out["ratios"][name] = ratio
    return out


# ------------------------------------------------------------------------ the runs
def run_speed(nlp, texts: list[str], repeats: int, chunk: int, n_process: int, batch_size: int,
              processes: bool = True, large: list[str] | None = None) -> dict:
    import iccc
    from iccc.parsing import extract

    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    single = interleave(
        {
            "a": lambda t: [None for _ in nlp.pipe(t, batch_size=batch_size)],
            "x": lambda t: [extract(doc) for doc in nlp.pipe(t, batch_size=batch_size)],
            "b": lambda t: iccc.parse(t, nlp=nlp, batch_size=batch_size),
            "b0": lambda t: iccc.parse(t, nlp=nlp, batch_size=batch_size, fast_rules=False),
        },
        chunks, repeats, "a/x/b/b0",
    )
    one = summarize(single, {"b/a": ("b", "a"), "b0/a": ("b0", "a"), "x/a": ("x", "a"), "b0/x": ("b0", "x")})
    if not processes:  # --single-process: (c) is left out
        return {
            "n_captions": len(texts), "chunk": chunk, "repeats": repeats,
            "throughput_per_s": one["throughput_per_s"], "ratios": one["ratios"], "runs": {"single_process": single},
        }
    large = large or texts
    processes = interleave(
        {
            "b": lambda t: iccc.parse(t, nlp=nlp, batch_size=batch_size),
            "c": lambda t: iccc.parse(t, nlp=nlp, batch_size=batch_size, n_process=n_process),
            "a1": lambda t: [None for _ in nlp.pipe(t, batch_size=batch_size)],
            "a2": lambda t: [None for _ in nlp.pipe(t, batch_size=batch_size, n_process=n_process)],
        },
        [large], repeats, "b/c/a1/a2",
    )
    two = summarize(processes, {"c/b": ("c", "b"), "a2/a1": ("a2", "a1")})
    return {
        "n_captions": len(texts), "n_captions_processes": len(large), "chunk": chunk, "repeats": repeats,
        "throughput_per_s": {
            **one["throughput_per_s"],
            "b_whole": two["throughput_per_s"]["b"], "c": two["throughput_per_s"]["c"],
            "a_whole": two["throughput_per_s"]["a1"], "a_processes": two["throughput_per_s"]["a2"],
        },
        "ratios": {**one["ratios"], **two["ratios"]},
        "runs": {"single_process": single, "processes": processes},
    }


def run_overhead(nlp, texts: list[str], spacy_us: float, repeats: int) -> dict:
    """Microseconds per caption of ``extract``, of the rest of ``iccc.parse``, and of the rule
    components (spaCy's ``attribute_ruler`` + ``lemmatizer`` against iccc's memoised ones), spaCy's
    statistical components taken out."""
    import iccc
    from iccc.parsing import extract
    from iccc.parsing._fastrules import accelerator

    docs = {doc.text: doc for doc in nlp.pipe(texts)}
    rules, names = accelerator(nlp, [])
    bare = list(nlp.pipe(texts, disable=names))  # statistical components only

    def ready_docs(batch, **kwargs):
        return (docs[t] for t in batch)

    def fastest(fn) -> float:
        best = float("inf")
        for _ in range(repeats):
            gc.collect()
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        return best / len(texts) * 1e6

    def on_copies(apply) -> float:
        """Fastest time of ``apply(doc)`` over fresh copies of the statistical-only docs."""
        best = float("inf")
        for _ in range(repeats):
            copies = [doc.copy() for doc in bare]
            gc.collect()
            start = time.process_time()
            for doc in copies:
                apply(doc)
            best = min(best, time.process_time() - start)
        return best / len(texts) * 1e6

    components = [nlp.get_pipe(name) for name in names]

    def spacy_rules(doc):
        for proc in components:
            doc = proc(doc)

    rules_us = on_copies(spacy_rules) if rules is not None else 0.0
    fast_us = on_copies(rules) if rules is not None else 0.0
    extract_us = fastest(lambda: [extract(docs[t]) for t in texts])
    nlp.pipe = ready_docs  # an instance attribute: iccc.parse gets the ready docs
    try:
        parse_us = fastest(lambda: iccc.parse(texts, nlp=nlp, fast_rules=False))
    finally:
        del nlp.pipe
    pipeline_us = parse_us - extract_us
    return {
        "n_captions": len(texts), "runs": repeats, "spacy_us": spacy_us, "extract_us": extract_us,
        "pipeline_us": pipeline_us, "rule_components": names, "spacy_rules_us": rules_us, "fast_rules_us": fast_us,
        "expected_b_over_a": spacy_us / (spacy_us - rules_us + fast_us + parse_us),
        "expected_b0_over_a": spacy_us / (spacy_us + parse_us),
        "extract_share_of_spacy": extract_us / spacy_us, "pipeline_share_of_spacy": pipeline_us / spacy_us,
        "spacy_rules_share_of_spacy": rules_us / spacy_us,
    }


_DOCS_SEEN = [0]


def run_duplicates(nlp, texts: list[str], copies: int, batch_size: int, seed: int = 0) -> dict:
    """Each caption ``copies`` times, shuffled; a counting component tells how many docs spaCy made."""
    from spacy.language import Language

    import iccc
    from iccc.parsing._pipeline import DEFAULT_CACHE_SIZE

    if not Language.has_factory(COUNTER):

        @Language.component(COUNTER)
        def _count(doc):
            _DOCS_SEEN[0] += 1
            return doc

    data = [t for t in texts for _ in range(copies)]
    random.Random(seed).shuffle(data)
    out: list = []
    _DOCS_SEEN[0] = 0
    # Right after the parser: every doc spaCy makes passes it, and the rule components stay last,
    # so iccc.parse takes them over as it does in (b).
    nlp.add_pipe(COUNTER, **({"after": "parser"} if "parser" in nlp.pipe_names else {"last": True}))
    try:
        t = timed(lambda: out.extend(iccc.parse(data, nlp=nlp, batch_size=batch_size)))
    finally:
        nlp.remove_pipe(COUNTER)
    first: dict[str, object] = {}
    consistent = all(first.setdefault(p.text, p) == p for p in out)
    # Empty and non-English captions never reach spaCy.
    to_parse = {p.text for p in out if p.status not in ("empty", "non_english")}
    return {
        "n_inputs": len(data), "n_distinct": len(set(data)), "n_distinct_to_parse": len(to_parse),
        "copies": copies, "memo_size": DEFAULT_CACHE_SIZE,
        "docs_parsed": _DOCS_SEEN[0], "duplicates_equal": consistent, **t,
    }


def run_stream_in_fresh_process(data: Path, quick: bool, total: int, n_process: int, batch_size: int) -> dict:
    command = [sys.executable, __file__, "--stream-only", "--data", str(data), "--stream", str(total),
               "--n-process", str(n_process), "--batch-size", str(batch_size)] + (["--quick"] if quick else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the streaming run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_stream(nlp, texts: list[str], total: int, n_process: int, batch_size: int, seed: int = 0) -> dict:
    import iccc
    from iccc.parsing._pipeline import DEFAULT_CACHE_SIZE

    def captions():
        rng = random.Random(seed)
        while True:
            order = list(texts)
            rng.shuffle(order)
            yield from order

    every = max(1, total // 50)
    samples = []
    start = time.perf_counter()
    parsed = iccc.iter_parse(captions(), nlp=nlp, n_process=n_process, batch_size=batch_size)
    for i, _ in enumerate(islice(parsed, total), 1):
        if i % every == 0:
            workers = [_rss_mb(p.pid) for p in mp.active_children()]
            samples.append({
                "done": i, "seconds": round(time.perf_counter() - start, 2),
                "main_mb": round(_rss_mb(), 1), "workers_mb": round(sum(workers), 1),
            })
    wall = time.perf_counter() - start

    def window(lo, hi, field):
        values = [s[field] for s in samples if lo * total < s["done"] <= hi * total]
        return statistics.median(values) if values else float("nan")

    early, late = window(0.25, 0.5, "main_mb"), window(0.75, 1.0, "main_mb")
    return {
        "n_captions": total, "distinct_source": len(texts), "memo_size": DEFAULT_CACHE_SIZE,
        "n_process": n_process, "wall_s": wall,
        "main_rss_early_mb": early, "main_rss_late_mb": late, "main_rss_growth_mb": late - early,
        "workers_rss_early_mb": window(0.25, 0.5, "workers_mb"),
        "workers_rss_late_mb": window(0.75, 1.0, "workers_mb"),
        "peak_rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "samples": samples,
    }


# ------------------------------------------------------------------------ report
def machine_info(nlp) -> dict:
    import spacy

    import iccc
    from iccc.parsing._dataset import code_digest
    from iccc.parsing._loader import pipeline_name

    root = HERE.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "iccc"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": sys.version.split()[0],
        "spacy": spacy.__version__,
        "iccc": iccc.__version__,
        "pipeline": pipeline_name(nlp),
        "parsing_code_digest": code_digest(),  # which version of the rules was measured
        "git_commit": commit,
        "uncommitted_changes_in_iccc": dirty,
        "components": nlp.pipe_names,
    }


def print_report(res: dict) -> None:
    speed, cfg = res["speed"], res["config"]
    tp = speed["throughput_per_s"]
    print(f"\nParse speed: {speed['n_captions']} distinct COCO captions, batch size {cfg['batch_size']}")
    print("| run | captions/s (wall) | captions/s (CPU) | CPU share in Python's GC |")
    print("|---|---:|---:|---:|")
    rows = [
        ("a", "(a) bare `nlp.pipe`"), ("x", "(x) `nlp.pipe` + `extract`"), ("b", "(b) `iccc.parse`"),
        ("b0", "(b0) `iccc.parse(fast_rules=False)`"),
        ("b_whole", f"(b) `iccc.parse`, large input ({speed.get('n_captions_processes', '?')})"),
        ("c", f"(c) `iccc.parse`, n_process={cfg['n_process']}, large input"),
        ("a_whole", "(a1) bare `nlp.pipe`, large input"),
        ("a_processes", f"(a2) bare `nlp.pipe`, n_process={cfg['n_process']}, large input"),
    ]
    for key, label in rows:
        if key not in tp:
            continue
        t = tp[key]
        print(f"| {label} | {t['wall']:.0f} | {t['cpu']:.0f} | {t['gc_share_of_cpu']:.1%} |")
    print("\n| throughput ratio | wall | CPU | samples | target |")
    print("|---|---:|---:|---:|---:|")
    for name, r in speed["ratios"].items():
        target = TARGETS.get(name)
        print(f"| {name} | {r['wall']:.3f} | {r['cpu']:.3f} | {len(r['wall_samples'])} | "
              f"{'>= ' + str(target) if target else ''} |")
    if "c" in tp:
        print("c/b CPU = CPU seconds of (b) / CPU seconds of (c), workers included: the work added by the "
              "processes (with n free cores, the speed-up is at most n times it).")
    o = res["costs_without_spacy"]
    print(f"\n(o) per caption (CPU, fastest of {o['runs']} runs on {o['n_captions']} captions): spaCy "
          f"{o['spacy_us']:.0f} us (fastest (a) chunk), extract {o['extract_us']:.0f} us "
          f"({o['extract_share_of_spacy']:.1%} of spaCy), rest of iccc.parse {o['pipeline_us']:.1f} us "
          f"({o['pipeline_share_of_spacy']:.1%}); spaCy's {'+'.join(o['rule_components'])} "
          f"{o['spacy_rules_us']:.0f} us ({o['spacy_rules_share_of_spacy']:.1%} of spaCy), iccc's memoised "
          f"ones {o['fast_rules_us']:.0f} us; expected on an idle machine: b/a {o['expected_b_over_a']:.3f}, "
          f"b0/a {o['expected_b0_over_a']:.3f}")
    d = res["duplicates"]
    print(f"(d) {d['n_inputs']} inputs ({d['n_distinct']} distinct x {d['copies']}, shuffled; "
          f"{d['n_distinct_to_parse']} distinct need parsing, the rest are empty/non-English): spaCy parsed "
          f"{d['docs_parsed']} docs; {d['wall_s']:.1f}s wall = {d['time_vs_b']:.2f}x the time of (b) on the "
          f"distinct captions; repeated captions got equal results: {d['duplicates_equal']}")
    s = res["stream"]
    if s is None:
        print("(c) and (e) not run (--single-process); see `previous_multi_process` in the JSON for the last ones")
    else:
        _print_stream(s)
    print("Targets: " + ", ".join(f"{k} {'met' if v['met'] else 'NOT met'} ({v['value']:.3f} wall, "
                                   f"{v['cpu']:.3f} CPU)" for k, v in res["targets"].items()))
    print(f"Load average (1 min) before/after: {res['load_before']} / {res['load_after']}")


def _print_stream(s: dict) -> None:
    print(f"(e) streamed {s['n_captions']} captions ({s['distinct_source']} distinct, memo {s['memo_size']}, "
          f"n_process={s['n_process']}) in {s['wall_s']:.0f}s; "
          f"main process RSS early {s['main_rss_early_mb']:.0f} MB, late {s['main_rss_late_mb']:.0f} MB "
          f"({s['main_rss_growth_mb']:+.1f} MB); workers {s['workers_rss_early_mb']:.0f} -> "
          f"{s['workers_rss_late_mb']:.0f} MB")


def _previous_multi_process(path: Path) -> dict | None:
    """The (c) and (e) results of the last full run saved at ``path``, kept by a --single-process run."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if old.get("stream") is None:  # itself a single-process run: pass its copy on
        return old.get("previous_multi_process")
    keep = {"c/b": old["speed"]["ratios"].get("c/b"), "a2/a1": old["speed"]["ratios"].get("a2/a1"),
            **{k: old["speed"]["throughput_per_s"].get(k) for k in ("c", "b_whole", "a_whole", "a_processes")}}
    return {"date": old.get("date"), "parsing_code_digest": old.get("machine", {}).get("parsing_code_digest"),
            "speed": keep, "stream": {k: v for k, v in old["stream"].items() if k != "samples"},
            "targets": {k: v for k, v in old.get("targets", {}).items() if k == "c/b"}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds (CI)")
    parser.add_argument("--n", type=int, help="distinct captions for (a)-(d) (default: all; quick: 120)")
    parser.add_argument("--chunk", type=int, help="captions per paired a/x/b sample (default 2000; quick: 60)")
    parser.add_argument("--repeats", type=int, help="passes (default 3; quick: 2)")
    parser.add_argument("--stream", type=int, help="captions streamed in (e) (default 200000; quick: 1000)")
    parser.add_argument("--n-process", type=int, default=2)
    parser.add_argument("--large", type=int, default=60_000,
                        help="distinct captions (of all shared COCO files) for (c) and the 2-process spaCy reference")
    parser.add_argument("--batch-size", type=int, help="nlp.pipe batch size everywhere (default 256; quick: 32)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("-o", "--output", type=Path, help="JSON path (default results/parse[_quick].json)")
    parser.add_argument("--single-process", action="store_true",
                        help="leave out (c) and (e), the runs with worker processes (the last ones are kept in the JSON)")
    parser.add_argument("--stream-only", action="store_true", help=argparse.SUPPRESS)  # (e), in a child
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench_parse: data file {str(args.data)!r} not found (see ../shared/data/coco_captions).",
              file=sys.stderr)
        return 2
    n = args.n or (120 if args.quick else None)
    chunk = args.chunk or (60 if args.quick else 2000)
    repeats = args.repeats or (2 if args.quick else 3)
    stream = args.stream or (1000 if args.quick else 200_000)
    batch_size = args.batch_size or (32 if args.quick else 256)
    output = args.output or HERE / "results" / ("parse_quick.json" if args.quick else "parse.json")

    import iccc

    if args.stream_only:
        nlp = iccc.load_parser()
        source = load_captions(args.data)[:n] if args.quick else stream_source(args.data)
        print(json.dumps(run_stream(nlp, source, stream, args.n_process, batch_size)))
        return 0
    load_before = os.getloadavg()[0]
    started = datetime.datetime.now(datetime.timezone.utc)
    texts = load_captions(args.data)[:n]
    nlp = iccc.load_parser()
    iccc.parse(texts[:50], nlp=nlp)  # warm up
    print(f"{len(texts)} captions, pipeline {nlp.meta['name']} {nlp.pipe_names}", flush=True)
    large = None
    if not args.single_process:
        large = stream_source(args.data)[: args.large] if not args.quick else texts
        print(f"(c) on {len(large)} distinct captions of the shared COCO files", flush=True)
    speed = run_speed(nlp, texts, repeats, chunk, args.n_process, batch_size, processes=not args.single_process,
                      large=large)
    print("(o) costs with spaCy taken out", flush=True)
    spacy_us = min(t["cpu_s"] / t["n"] for t in speed["runs"]["single_process"]["a"]) * 1e6
    overhead = run_overhead(nlp, texts[: min(len(texts), 3000)], spacy_us, repeats * 3)
    print("(d) duplicates", flush=True)
    dup = run_duplicates(nlp, texts, 3, batch_size)
    b_key = "b" if args.single_process else "b_whole"
    dup["time_vs_b"] = dup["wall_s"] * speed["throughput_per_s"][b_key]["wall"] / len(texts)
    if args.single_process:
        stream_res = None
    else:
        print("(e) streaming, in a fresh process", flush=True)
        stream_res = run_stream_in_fresh_process(args.data, args.quick, stream, args.n_process, batch_size)
    res = {
        "benchmark": "parse",
        "date": started.isoformat(timespec="seconds"),
        "mode": ("quick" if args.quick else "full") + (", single process" if args.single_process else ""),
        "data": args.data.name,
        "machine": machine_info(nlp),
        "config": {
            "n": len(texts), "chunk": chunk, "repeats": repeats, "stream": stream,
            "n_process": args.n_process, "batch_size": batch_size,
        },
        "speed": speed,
        "costs_without_spacy": overhead,
        "duplicates": dup,
        "stream": stream_res,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "elapsed_s": round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), 1),
    }
    res["targets"] = {
        name: {
            "value": speed["ratios"][name]["wall"], "cpu": speed["ratios"][name]["cpu"], "target": target,
            "met": speed["ratios"][name]["wall"] >= target,
        }
        for name, target in TARGETS.items()
        if name in speed["ratios"]
    }
    if args.single_process:
        res["previous_multi_process"] = _previous_multi_process(output)
    print_report(res)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
