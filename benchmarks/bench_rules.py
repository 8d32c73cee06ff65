"""What concept extraction costs, pass by pass, and next to the spaCy parse it follows.

Usage::

    python benchmarks/bench_rules.py            # 3,000 captions, ~2 min -> results/rules.json
    python benchmarks/bench_rules.py --quick    # 300 captions, seconds (CI) -> results/rules_quick.json

Data: the distinct captions of COCO 2017 val (``../shared/data/coco_captions/captions_val2017.json.gz``),
in file order, parsed once with the default pipeline of ``iccc.load_parser()``.

What is measured (CPU time of this process, fastest of ``--repeats`` runs over all the docs, in
microseconds per caption, so that other load on a shared machine disturbs it little):

* ``spacy_us``: ``nlp.pipe`` over the captions (tagger, parser and rule components);
* ``extract_us``: ``iccc.parsing.extract`` on the ready docs; ``extract_share_of_spacy`` is the ratio,
  the figure that says extraction stays a small part of parsing;
* ``passes_us``: the passes of ``iccc/parsing/rules/`` (read the annotation, 1 tag repairs, 2 redirects,
  3 entities, 4 predicative attributes, 5 relations, assembly), each summed over the docs from a
  wall clock read between the passes (its own cost taken off), fastest of the rounds per pass. The
  sum of the passes is within noise of ``extract_us``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import gzip
import json
import os
import sys
import time
from pathlib import Path

from bench_parse import machine_info  # the same machine record as the parse benchmark

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "coco_captions" / "captions_val2017.json.gz"

#: The passes of ``extract``, in its order (the names of ``passes_us``).
PASSES = ("tokens", "tags", "redirects", "entities", "predicative_attributes", "relations", "assemble")


def load_captions(path: Path, n: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        annotations = json.load(f)["annotations"]
    return list(dict.fromkeys(a["caption"] for a in annotations))[:n]  # distinct, in file order


def pass_times(docs: list) -> list[float]:
    """Seconds spent in each pass of ``extract`` (``extract``'s own calls, in its order) over
    ``docs``, from a clock read between the passes of every doc, less the clock's own cost."""
    from iccc.parsing.rules._assemble import assemble
    from iccc.parsing.rules._attributes import Attributes, find_predicative_attributes
    from iccc.parsing.rules._entities import find_entities
    from iccc.parsing.rules._redirects import find_redirects
    from iccc.parsing.rules._relations import find_relations
    from iccc.parsing.rules._tags import repair_tags
    from iccc.parsing.rules._tokens import Tokens

    clock = time.perf_counter
    sums = [0.0] * len(PASSES)
    for doc in docs:
        t0 = clock()
        tokens = Tokens(doc)
        t1 = clock()
        if not tokens.n:
            sums[0] += t1 - t0
            continue
        qualities = repair_tags(tokens)
        t2 = clock()
        redirect, prep_nouns = find_redirects(tokens)
        t3 = clock()
        protos: list[tuple] = []
        attributes = Attributes(tokens, protos)
        entities = find_entities(tokens, redirect, prep_nouns, attributes, protos)
        t4 = clock()
        find_predicative_attributes(tokens, entities, attributes, qualities)
        t5 = clock()
        find_relations(tokens, entities, attributes, protos)
        t6 = clock()
        assemble(tokens, protos)
        t7 = clock()
        for k, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6), (t6, t7))):
            sums[k] += b - a
    tick = _clock_cost()
    return [max(0.0, total - tick * len(docs)) for total in sums]


def _clock_cost() -> float:
    """Seconds one ``time.perf_counter()`` call adds to an interval (the fastest of many)."""
    clock = time.perf_counter
    best = float("inf")
    for _ in range(2000):
        a = clock()
        b = clock()
        best = min(best, b - a)
    return best


def fastest_us(fn, n: int, repeats: int) -> float:
    """Fastest CPU time of ``fn()`` over ``repeats`` runs, in microseconds per caption."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best / n * 1e6


def measure(nlp, texts: list[str], repeats: int, batch_size: int) -> dict:
    from iccc.parsing import extract

    spacy_us = fastest_us(lambda: [None for _ in nlp.pipe(texts, batch_size=batch_size)], len(texts), repeats)
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    pass_times(docs)  # the string caches and spaCy's lazy imports, outside the timings
    # interleaved: the passes timed doc by doc, then extract as a whole, once per round
    per_pass = [float("inf")] * len(PASSES)
    extract_us = float("inf")
    for r in range(repeats):
        gc.collect()
        per_pass = [min(old, new) for old, new in zip(per_pass, pass_times(docs))]
        extract_us = min(extract_us, fastest_us(lambda: [extract(d) for d in docs], len(docs), 1))
        print(f"  round {r + 1}/{repeats}: extract {extract_us:.1f} us/caption", flush=True)
    passes = {name: per_pass[k] / len(docs) * 1e6 for k, name in enumerate(PASSES)}
    total = sum(passes.values())
    return {
        "n_captions": len(texts), "repeats": repeats, "spacy_us": spacy_us, "extract_us": extract_us,
        "extract_share_of_spacy": extract_us / spacy_us, "passes_us": passes, "passes_sum_us": total,
        "passes_share_of_extract": {k: v / total for k, v in passes.items()},
    }


def print_report(res: dict) -> None:
    m = res["measure"]
    print(f"\nExtraction cost on {m['n_captions']} distinct COCO val captions (fastest of {m['repeats']} runs)")
    print(f"spaCy {m['spacy_us']:.0f} us/caption, extract {m['extract_us']:.1f} us/caption "
          f"= {m['extract_share_of_spacy']:.1%} of spaCy")
    print("\n| pass | us/caption | share of the passes |")
    print("|---|---:|---:|")
    for name in PASSES:
        print(f"| {name} | {m['passes_us'][name]:.1f} | {m['passes_share_of_extract'][name]:.1%} |")
    print(f"| all passes | {m['passes_sum_us']:.1f} | |")
    print(f"Load average (1 min) before/after: {res['load_before']} / {res['load_after']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 captions, 3 repeats (CI)")
    parser.add_argument("--n", type=int, help="distinct captions (default 3000; quick: 300)")
    parser.add_argument("--repeats", type=int, help="runs of each measurement (default 7; quick: 3)")
    parser.add_argument("--batch-size", type=int, default=256, help="nlp.pipe batch size")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, help="JSON path (default results/rules[_quick].json)")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench_rules: data file {str(args.data)!r} not found (see ../shared/data/coco_captions).",
              file=sys.stderr)
        return 2
    n = args.n or (300 if args.quick else 3000)
    repeats = args.repeats or (3 if args.quick else 7)
    out = args.out or HERE / "results" / ("rules_quick.json" if args.quick else "rules.json")

    import iccc

    load_before = os.getloadavg()[0]
    started = datetime.datetime.now(datetime.timezone.utc)
    nlp = iccc.load_parser()
    texts = load_captions(args.data, n)
    print(f"{len(texts)} captions, pipeline {nlp.meta['name']} {nlp.pipe_names}", flush=True)
    res = {
        "benchmark": "rules",
        "date": started.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "data": args.data.name,
        "config": {"n": len(texts), "repeats": repeats, "batch_size": args.batch_size},
        "measure": measure(nlp, texts, repeats, args.batch_size),
    }
    res["machine"] = machine_info(nlp)
    res["load_before"] = round(load_before, 2)
    res["load_after"] = round(os.getloadavg()[0], 2)
    print_report(res)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
