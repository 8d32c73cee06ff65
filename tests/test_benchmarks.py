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
                                                       "summary"], "coco_captions"),
    ("demo_shapes.py", ["--quick", "--json", "{out}"], ["runs", "losses", "config"], "nltk_data"),
    ("bench_train_gpu.py", ["--quick", "--out", "{out}"], ["throughput", "parameters", "machine"], "nltk_data"),
    ("bench_quality.py", ["--quick", "--out", "{out}"], ["lm", "classifier", "negative_checks"], "sugarcrepe"),
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
