"""Blind detectability of a rare phenomenon, on enough pairs to mean something.

``bench_quality.py`` scores every phenomenon on the negatives one default build of COCO val2017
makes; existence edits are ~0.1% of them there (about 20 pairs), too few for its figures to mean
anything. Here one operation alone (``--operations existence``; ``number`` works too) edits every
caption it can in a pool of COCO captions -- val2017 plus Karpathy test minus the images in val2017
(about 45k captions, 10k images) -- with the direction balance of :mod:`iccc.operators._directions`
solved on the pool, as a user's build would (``iccc.balance.calibrate_mix`` with the image ids as
groups, so the sibling guard is seen too).

Detectors (:mod:`iccc.detectors`), as in ``bench_quality.py``: the trigram Kneser-Ney LM, total
and per-token log-probability, and the hashed n-gram classifier (2 folds; rows under 2,000 pairs:
the mean of 8 splits). The LM is **cross-fitted**: the images are split in two halves by a hash of their id; the pairs of one half
are scored by an LM trained on every caption of the other half (never a caption of the same
image). Rows per direction ("negate" / "affirm" for existence, "plural" / "singular" for number)
show why balance matters: each direction alone is detectable, the balanced mix is what is not.
An ``unbalanced`` row (every slot kept) is the control.

Usage::

    python benchmarks/bench_rare.py                      # existence -> results/rare.json (~2 minutes)
    python benchmarks/bench_rare.py --operations existence,number --out rare_all
    python benchmarks/bench_rare.py --quick              # 2,000 images (CI) -> results/rare_quick.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import hashlib
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

#: Captions with none of these words have no slot of the operation (parsing them is skipped; the
#: LMs still train on them). ``None``: every caption is parsed.
TRIGGERS = {"existence": re.compile(r"with|there|\bno\b", re.IGNORECASE), "number": None}


def pool(n_images: int | None = None) -> tuple[list[str], list[int]]:
    """``(captions, image ids)``: COCO val2017, then Karpathy test without val2017's images."""
    path = DATA / "coco_captions" / "captions_val2017.json.gz"
    karpathy = DATA / "coco_captions" / "coco_karpathy_test.json.gz"
    for p in (path, karpathy):
        if not p.is_file():
            raise SystemExit(f"missing {p} (the shared COCO captions; set ICCC_SHARED_DATA)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        val = json.load(f)
    captions = [a["caption"].strip() for a in val["annotations"]]
    groups = [int(a["image_id"]) for a in val["annotations"]]
    seen = {im["id"] for im in val["images"]}
    with gzip.open(karpathy, "rt", encoding="utf-8") as f:
        for rec in json.load(f):
            image_id = int(re.search(r"(\d+)\.jpg$", rec["image"]).group(1))
            if image_id not in seen:
                captions += [c.strip() for c in rec["caption"]]
                groups += [image_id] * len(rec["caption"])
    if n_images is not None:
        keep = set(sorted(set(groups))[:n_images])
        rows = [k for k, g in enumerate(groups) if g in keep]
        captions, groups = [captions[k] for k in rows], [groups[k] for k in rows]
    return captions, groups


def half(image_id: int) -> int:
    """The cross-fitting half of an image (a stable hash of its id)."""
    return hashlib.blake2b(str(image_id).encode(), digest_size=1).digest()[0] & 1


def negatives(operation: str, captions: list[str], groups: list[int], *, balance: bool, seed: int = 0,
              parsed=None) -> list[dict]:
    """Every caption's edit by ``operation`` alone: ``{"real", "negative", "group", "direction"}``."""
    import iccc
    from iccc.balance import calibrate_mix
    from iccc.operators import OPERATORS

    base = iccc.ConceptBase.from_parsed(parsed, groups=groups)
    if balance:
        calibrate_mix(base, parsed, groups=groups)
    engine = iccc.Corruptor(base, operations=[operation], mix={operation: 1.0})
    op = OPERATORS[operation]()
    records = engine.many(parsed, [np.random.default_rng([seed, k]) for k in range(len(parsed))], groups)
    out = []
    for p, g, r in zip(parsed, groups, records):
        if r is None or r.operation != operation:
            continue
        # the direction of the edit made: the candidate whose edit gives this caption
        direction = next((op.direction(p, slot) for slot, label, _ in op.candidates(p, base, group=g)
                          if (made := op.apply(p, slot, label)) is not None
                          and made.corrupted_caption == r.corrupted_caption), None)
        out.append({"real": r.caption, "negative": r.corrupted_caption, "group": g,
                    "direction": direction or "?"})
    return out


def score(rows: list[dict], lms: dict, *, seed: int = 0) -> dict:
    """Pairwise accuracies (0.5 = undetectable) of ``rows``, each pair scored by the LM of the other half."""
    from bench_quality import _classifier

    from iccc.detectors import lm_pairwise_accuracy

    out = {"pairs": len(rows), "ci95": round(1.96 * 0.5 / np.sqrt(len(rows)), 3) if rows else None}
    if not rows:
        return out
    for name, per_token in (("lm_total", False), ("lm_per_token", True)):
        wins = 0.0
        for h in (0, 1):
            part = [(r["real"], r["negative"]) for r in rows if half(r["group"]) == h]
            if part:
                wins += lm_pairwise_accuracy(lms[1 - h], part, per_token=per_token) * len(part)
        out[name] = round(wins / len(rows), 3)
    pairs = [(r["real"], r["negative"]) for r in rows]
    out["classifier"] = None
    if len({r["real"] for r in rows}) >= 4:
        # a small row's 2-fold split moves the figure by +-0.1: bench_quality averages several
        accuracy, out["classifier_splits"] = _classifier(pairs, seed=seed, n_folds=2)
        out["classifier"] = round(accuracy, 3)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--operations", default="existence", help="comma-separated: existence, number")
    ap.add_argument("--quick", action="store_true", help="2,000 images (CI)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="results/<out>.json (default rare, or rare_quick)")
    args = ap.parse_args(argv)
    operations = [o.strip() for o in args.operations.split(",") if o.strip()]
    bad = [o for o in operations if o not in TRIGGERS]
    if bad:
        ap.error(f"--operations: unknown {bad!r}; allowed: {', '.join(TRIGGERS)}")

    import iccc
    from iccc.detectors import NgramLM

    t0 = time.time()
    captions, groups = pool(2000 if args.quick else None)
    lms = {h: NgramLM(3).fit([c for c, g in zip(captions, groups) if half(g) == h]) for h in (0, 1)}
    result = {"benchmark": "rare", "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "mode": "quick" if args.quick else "full", "captions": len(captions), "images": len(set(groups)),
              "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "iccc": iccc.__version__},
              "operations": {}}
    for operation in operations:
        trigger = TRIGGERS[operation]
        rows = [k for k, c in enumerate(captions) if trigger is None or trigger.search(c)]
        texts, rgroups = [captions[k] for k in rows], [groups[k] for k in rows]
        parsed = iccc.parse(texts)
        table = {}
        for balance in (True, False):
            made = negatives(operation, texts, rgroups, balance=balance, seed=args.seed, parsed=parsed)
            label = "balanced" if balance else "unbalanced"
            table[label] = score(made, lms, seed=args.seed)
            table[label]["share_of_pool"] = round(len(made) / len(captions), 5)
            for d in sorted({r["direction"] for r in made}):
                table[f"{label} / {d}"] = score([r for r in made if r["direction"] == d], lms, seed=args.seed)
            if balance:
                table["examples"] = [(r["real"], r["negative"], r["direction"]) for r in made[:: max(1, len(made) // 12)]][:12]
        result["operations"][operation] = table
        print(f"\n{operation} on {len(captions):,} captions ({len(texts):,} parsed)")
        print("| rows | pairs | ±95% | LM total | LM per-token | classifier |\n|---|---:|---:|---:|---:|---:|")
        for label, row in table.items():
            if label != "examples":
                print(f"| {label} | {row['pairs']:,} | {row.get('ci95')} | {row.get('lm_total')} | "
                      f"{row.get('lm_per_token')} | {row.get('classifier')} |")
    result["seconds"] = round(time.time() - t0, 1)
    out = args.out or ("rare_quick" if args.quick else "rare")
    path = Path(out) if out.endswith(".json") else RESULTS / f"{out}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"saved {path} ({result['seconds']}s)")
    return result


if __name__ == "__main__":
    main()
