"""Execute ``explore.ipynb`` top to bottom and store it with its outputs (tables and plots show on GitHub).

Usage::

    python notebooks/run.py            # run in place, on COCO val2017 when ../shared/data is present
    python notebooks/run.py --check    # exit 1 when the stored outputs are missing or partial

The kernel is the interpreter running this script (run it with the venv's Python). Plots are drawn
with matplotlib's inline backend, so each figure is embedded as PNG.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parent / "explore.ipynb"


def _complete(nb) -> bool:
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    return [cell.execution_count for cell in code] == list(range(1, len(code) + 1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every cell has stored outputs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run (default 600)")
    args = parser.parse_args(argv)

    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    if args.check:
        ok = _complete(nb)
        print(f"{NOTEBOOK.name}: {'outputs stored' if ok else 'outputs missing or partial; run notebooks/run.py'}")
        return 0 if ok else 1
    # inline: plt.show() embeds each figure as PNG in the stored outputs
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    client = nbclient.NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    for cell in nb.cells:  # the kernel's id differs per run; keep the file diff to real output changes
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, NOTEBOOK)
    print(f"Wrote {NOTEBOOK} with outputs (kernel: {sys.executable})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
