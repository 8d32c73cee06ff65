"""The exploration notebook runs top to bottom, on the built-in sample and on COCO captions.

The notebook is committed with its outputs (so its tables and plots show on GitHub), written by
``python notebooks/run.py`` (``--check`` tells whether the stored outputs are stale); these tests also
execute it with ``nbclient`` in a kernel that runs this interpreter (the venv's), and fail on the first
cell that raises.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
pytest.importorskip("datasets")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"
TIMEOUT_S = 300  # per cell


def _execute(monkeypatch, shared_data: Path):
    """Execute the notebook from its own folder, reading data from ``shared_data``; return it with outputs."""
    # The kernel inherits this environment: headless plots, the chosen data folder.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("ICCC_SHARED_DATA", str(shared_data))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:  # the message holds the cell and traceback
        pytest.fail(f"{NOTEBOOK.name} failed:\n{err}", pytrace=False)
    # Kernel "python3" runs the interpreter running the tests (the venv's, with iccc installed);
    # sys.prefix tells a venv from the system Python that its executable links to.
    kernel_prefix = nb.cells[-1].outputs[0]["text"].strip()
    assert Path(kernel_prefix) == Path(sys.prefix), f"the kernel runs {kernel_prefix}, not {sys.prefix}"
    return nb


def _text(nb) -> str:
    return json.dumps([cell.get("outputs", []) for cell in nb.cells])


def test_notebook_is_stored_with_outputs():
    """Every code cell ran, in order, without an error, and the plots are in the file."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        "cells not run top to bottom in one kernel; regenerate with python notebooks/run.py")
    outputs = [out for cell in code for out in cell.outputs]
    assert not [out for out in outputs if out.get("output_type") == "error"], "a stored cell output is an error"
    assert any("image/png" in out.get("data", {}) for out in outputs), "no plot is stored in the notebook"
    assert any("using COCO val2017" in json.dumps(out) for out in outputs), "stored outputs should show COCO"


@pytest.mark.model
@pytest.mark.slow
def test_notebook_runs_on_builtin_sample(tmp_path, monkeypatch):
    nb = _execute(monkeypatch, tmp_path / "no_shared_data")
    text = _text(nb)
    assert "uses the built-in sample" in text
    assert "using built-in sample: 120 captions" in text


@pytest.mark.model
@pytest.mark.slow
def test_notebook_runs_on_coco(monkeypatch, coco_dir):
    nb = _execute(monkeypatch, coco_dir.parent)
    assert "using COCO val2017" in _text(nb)
