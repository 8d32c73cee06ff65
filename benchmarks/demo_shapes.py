"""Demo without downloads: a tiny VLM trained from scratch on synthetic shapes, correction accuracy before vs after.

Usage::

    python benchmarks/demo_shapes.py                  # documented run -> results/demo_shapes.json
    python benchmarks/demo_shapes.py --quick          # smoke run (a minute or two) -> results/demo_shapes_quick.json
    python benchmarks/demo_shapes.py --runs iccc,blind,caption --max-steps 1000   # any DemoConfig field

What it builds, trains and measures is described in :mod:`iccc.train.demo`; this script only parses the
options (every ``DemoConfig`` field is one) and saves the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    from iccc.train.demo import main as demo_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in argv:
        name = "demo_shapes_quick.json" if "--quick" in argv else "demo_shapes.json"
        argv += ["--json", str(HERE / "results" / name)]
    return demo_main(argv)


if __name__ == "__main__":
    sys.exit(main())
