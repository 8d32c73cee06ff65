"""Every benchmark script runs in its quick (CI) mode, so the scripts cannot rot.

The figures themselves are not asserted (tests never check wall-clock times); the test checks that
each script finishes and writes the JSON result it documents, with the sections a reader of
``benchmarks/README.md`` relies on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: script, arguments writing to ``{out}``, keys the JSON must have, shared data it reads
QUICK_RUNS = [
    ("bench_extract.py", ["--quick", "--out", "{out}"], ["scores", "timing", "errors"], "factual"),
    ("bench_parse.py", ["--quick", "-o", "{out}"], ["speed", "costs_without_spacy", "duplicates", "stream"],
     "coco_captions"),
    ("bench_corrupt.py", ["--quick", "--out", "{out}"], ["summary", "runs"], "coco_captions"),
    ("bench_build.py", ["--quick", "--out", "{out}"], ["timing", "per_million_captions_minutes_one_core", "stream",
                                                       "end_to_end",
                                                       "summary"], "coco_captions"),
    ("demo_shapes.py", ["--quick", "--json", "{out}"], ["runs", "losses", "config"], "nltk_data"),
    ("bench_train_gpu.py", ["--quick", "--out", "{out}"], ["throughput", "parameters", "machine"], "nltk_data"),
    ("bench_quality.py", ["--quick", "--out", "{out}"], ["lm", "classifier", "negative_checks"], "sugarcrepe"),
    ("bench_mix.py", ["--quick", "--out", "{out}"], ["requested", "achieved", "phenomena", "overall"], "coco_captions"),
    ("bench_rare.py", ["--quick", "--out", "{out}"], ["operations", "machine", "captions"], "coco_captions"),
    ("bench_rules.py", ["--quick", "--out", "{out}"], ["measure", "machine", "config"], "coco_captions"),
    ("bench_vision.py", ["--quick", "--out", "{out}"], ["encoder", "retrieval", "consistency", "arms", "cost",
                                                        "calibration"], "nltk_data"),
    ("bench_self_reward.py", ["--quick", "--out", "{out}"], ["config", "encoder", "arms", "timing", "machine"],
     "nltk_data"),
    ("study_iccc.py", ["--quick", "--out", "{out}"], ["config", "summary", "runs", "table", "data"], "nltk_data"),
]


@pytest.mark.slow
@pytest.mark.parametrize("script,args,keys,data", QUICK_RUNS, ids=[r[0] for r in QUICK_RUNS])
def test_quick_mode_runs_and_saves_results(tmp_path, script, args, keys, data):
    if not (SHARED_DATA / data).exists():
        pytest.skip(f"{script} reads {SHARED_DATA / data}, which is absent")
    out = tmp_path / "result.json"
    env = {**os.environ, "NLTK_DATA": str(SHARED_DATA / "nltk_data")}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *[a.format(out=out) for a in args]],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads(out.read_text())
    missing = [k for k in keys if k not in result]
    assert not missing, f"{script} result lacks {missing}; has {sorted(result)}"
    assert result.get("mode") == "quick"
    assert proc.stdout.strip(), f"{script} printed no table"


@pytest.mark.slow
def test_same_records_check_runs_and_compares(tmp_path):
    """``check_same_records.py`` (the equality check around engine changes) writes every entry
    point's records and finds no difference between two runs of the same code."""
    if not (SHARED_DATA / "coco_captions").exists():
        pytest.skip(f"check_same_records.py reads {SHARED_DATA / 'coco_captions'}, which is absent")
    env = {**os.environ, "NLTK_DATA": str(SHARED_DATA / "nltk_data")}
    script = str(BENCHMARKS / "check_same_records.py")
    first = subprocess.run([sys.executable, script, "--out", str(tmp_path / "a"), "--limit", "120"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert names == {"base.json", "concepts.jsonl.gz", "function.jsonl.gz", "map1.jsonl.gz", "map2.jsonl.gz",
                     "build.jsonl.gz"}
    again = subprocess.run([sys.executable, script, "--out", str(tmp_path / "b"), "--limit", "120",
                            "--against", str(tmp_path / "a")], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "map2: 120 rows, 0 differ" in again.stdout and "build: 120 rows, 0 with" in again.stdout


def test_bench_extract_resegments_a_compound_the_gold_graph_splits_but_credits_no_relation():
    # "bathroom sink on wall", gold ( sink , on , wall ) , ( sink , in , bathroom ): our compound
    # takes the gold segmentation; the relation between its parts is no prediction of ours
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_extract as be
    finally:
        sys.path.remove(str(BENCHMARKS))

    class Norm:
        @staticmethod
        def noun(phrase):
            return phrase

    gold = be.Gold(objects={"sink", "wall", "bathroom"}, relations={("sink", "on", "wall"), ("sink", "in", "bathroom")})
    noun = object()
    pred = be.Pred(objects={"bathroom sink": noun, "wall": noun}, relations=[("bathroom sink", "on", "wall", "relation", ())])
    assert be.align_compounds(pred, gold, Norm()) == 1
    assert set(pred.objects) == {"sink", "bathroom", "wall"}
    pairs, unmatched, missed = be.match_relations(pred, gold)
    assert len(pairs) == 1 and unmatched == [] and missed == [("sink", "in", "bathroom")]
