"""``iccc build``: load, build, save_to_disk, print the summary (called through its own parser)."""

from __future__ import annotations

import argparse
import re

import pytest

datasets = pytest.importorskip("datasets")

from iccc import _cli_build  # noqa: E402


def _run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="iccc build")
    _cli_build.add_arguments(parser)
    return _cli_build.run(parser.parse_args([str(a) for a in argv]))


def test_builds_the_sample_and_saves_it(tmp_path, capsys, nlp):
    out = tmp_path / "built"
    assert _run("-o", out, "--seed", "1", "-q") == 0
    text = capsys.readouterr().out
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 120 and f"Rows: {len(ds)}" in text
    assert {"prompt", "target", "task", "caption", "image_id", "build_status"} <= set(ds.column_names)
    assert "concepts" not in ds.column_names
    shares = ds["task"].count("correction") / len(ds)
    assert 0.15 < shares < 0.45
    with pytest.raises(FileExistsError, match="--overwrite"):
        _run("-o", out, "-q")
    assert _run("-o", out, "-q", "--overwrite", "--p-correction", "0.6", "--target-format", "both") == 0
    again = datasets.load_from_disk(str(out))
    assert any(t.startswith('"') and "Corrected caption:" in t for t in again["target"] if t)


def test_without_output_only_prints(capsys, nlp):
    assert _run("-q", "--show", "1", "--p-correction", "1", "--no-balance") == 0
    text = capsys.readouterr().out
    assert "Rows: 120 (correction" in text and "[correction]" in text and "Wrote" not in text


def test_bad_options(tmp_path, capsys):
    # numbers are checked by argparse: "iccc build: error: argument --num-proc: ...", exit 2
    for argv, message in ((("--num-proc", "0"), "argument --num-proc: should be a positive integer"),
                          (("--p-correction", "2", "-q"), r"argument --p-correction: should be a number in \[0, 1\]"),
                          (("--seed", "-1"), "argument --seed: should be a non-negative integer")):
        with pytest.raises(SystemExit) as err:
            _run(*argv)
        assert err.value.code == 2
        assert re.search(message, capsys.readouterr().err)
    with pytest.raises(ValueError, match="cannot be combined with --base"):
        _run("--base", tmp_path / "b.json", "--save-base", tmp_path / "c.json")


def test_builds_real_coco_captions_grouped_by_image(coco_dir, tmp_path, capsys, nlp):
    out = tmp_path / "coco"
    base = tmp_path / "base.json.gz"
    assert _run(coco_dir / "captions_val2017.json.gz", "-o", out, "--limit", "300", "--save-base", base, "-q") == 0
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 300 and len(set(ds["image_id"])) < 300
    assert base.is_file()
    text = capsys.readouterr().out
    assert "Rows: 300" in text and "concept base: 300 captions" in text
    # the saved base gives the same dataset
    out2 = tmp_path / "coco2"
    assert _run(coco_dir / "captions_val2017.json.gz", "-o", out2, "--limit", "300", "--base", base, "-q") == 0
    assert datasets.load_from_disk(str(out2)).to_list() == ds.to_list()
