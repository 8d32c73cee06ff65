"""How the default phenomena mix was chosen: per-phenomenon blind detectability on held-out captions.

:data:`iccc.corrupt.DEFAULT_MIX` gives each operation a share of the corrections. The shares are
chosen here, on COCO Karpathy *test* captions (never on val2017, where ``bench_quality.py``
reports the result), by building with a candidate mix and reading, per phenomenon, the share
achieved and how well the blind detectors of :mod:`iccc.detectors` tell the real caption from the
negative (0.5 = undetectable). A phenomenon stays in the default at a share that keeps the
overall LM / classifier within the targets (LM <= 0.62, classifier <= 0.65).

The concept base is built from the same captions (grouped by image) and balanced on them, as a
user would. The LM is trained as in ``bench_quality.py`` (``fit_lms``: Karpathy test minus every
image with an evaluated caption, plus SCAN's Karpathy-val captions).

Usage::

    python benchmarks/bench_mix.py                   # 8,000 captions, DEFAULT_MIX -> results/mix.json
    python benchmarks/bench_mix.py --n 2000 --mix number=0.1,existence=0.05,add=0.05 --out mix_try
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ICCC_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def karpathy_test(n: int, seed: int = 0) -> list[tuple[str, int]]:
    """``n`` (caption, image id) of the Karpathy test split, whole images, in a seeded random order."""
    path = DATA / "coco_captions" / "coco_karpathy_test.json.gz"
    if not path.exists():
        sys.exit(f"Data file not found: {path}. Put the project's shared data at {DATA} (or set ICCC_SHARED_DATA).")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        recs = json.load(f)
    order = np.random.default_rng(seed).permutation(len(recs))
    out: list[tuple[str, int]] = []
    for k in order:
        image_id = int(re.search(r"(\d+)\.jpg$", recs[k]["image"]).group(1))
        out += [(c.strip(), image_id) for c in recs[k]["caption"]]
        if len(out) >= n:
            break
    return out[:n]


def parse_mix(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        out[name.strip()] = float(value)
    return out


def run(n: int = 8000, *, mix: dict[str, float] | None = None, seed: int = 0) -> dict:
    import bench_quality as bq

    import iccc
    from iccc.balance import balance_insertions

    rows = karpathy_test(n, seed)
    t0 = time.perf_counter()
    parsed = iccc.parse([c for c, _ in rows])
    groups = [g for _, g in rows]
    base = iccc.ConceptBase.from_parsed(parsed, groups=groups)
    from iccc.operators import OPERATIONS

    config = {} if mix is None else {"operations": OPERATIONS, "mix": mix}
    balance_insertions(base, parsed, groups=groups, seed=seed, **config)
    engine = iccc.Corruptor(base, **config)
    records = engine.many(parsed, [np.random.default_rng([seed, i]) for i in range(len(parsed))], groups)
    build_s = time.perf_counter() - t0
    pairs = [(r.caption, r.corrupted_caption, f"{r.operation}_{r.concept_kind}", g)
             for r, g in zip(records, groups) if r is not None]
    lm, _cased, info = bq.fit_lms(exclude=bq.texts_of({"iccc": pairs}))
    by_image: dict = {}
    for c, g in rows:
        by_image.setdefault(g, []).append(c)
    table = bq.phenomenon_table({"iccc": pairs}, lm=lm, seed=seed, sources=("iccc",), captions_by_image=by_image)
    overall = bq.evaluate({"iccc": lambda: [p[:3] for p in pairs]}, lm=lm, surface_lm=None, seed=seed)
    ops = [r.operation for r in records if r is not None]
    achieved = {op: ops.count(op) / len(ops) for op in dict.fromkeys(ops)}
    return {
        "captions": len(rows), "corrupted": len(pairs),
        "requested": engine.mix.requested, "achieved": achieved, "feasible": engine.mix.feasible,
        "explain": engine.mix.explain(achieved), "directions": {k: v for k, v in base.balance.get("directions", {}).items() if k.count("|") == 1},
        "phenomena": table, "overall": overall, "lm_corpus": info, "build_seconds": round(build_s, 1),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="Karpathy test captions, whole images (default 8,000)")
    p.add_argument("--quick", action="store_true", help="800 captions (CI)")
    p.add_argument("--mix", default=None, help="operation=share,... (default: DEFAULT_MIX)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="results/<out>.json, or a path ending in .json "
                   "(default: mix, or mix_quick with --quick)")
    args = p.parse_args(argv)
    import bench_quality as bq

    n = args.n or (800 if args.quick else 8000)
    result = run(n, mix=parse_mix(args.mix), seed=args.seed)
    result["mode"] = "quick" if args.quick else "full"
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                         "date": _dt.date.today().isoformat()}
    print("requested", {k: round(v, 3) for k, v in result["requested"].items()})
    print("achieved ", {k: round(v, 3) for k, v in result["achieved"].items()})
    print("feasible ", {k: round(v, 3) for k, v in (result["feasible"] or {}).items()})
    print("\n".join(result["explain"]))
    print(bq.format_phenomena(result["phenomena"]))
    print(bq.format_table(result["overall"]))
    out = args.out or ("mix_quick" if args.quick else "mix")
    path = Path(out) if out.endswith(".json") else RESULTS / f"{out}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"saved {path}")
    return result


if __name__ == "__main__":
    main()
