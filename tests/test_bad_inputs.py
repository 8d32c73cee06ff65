"""The bad-input corpus (``tests/bad_inputs/``) through every CLI subcommand and the Python entry points.

For every file and command: the call ends within a deadline (no hang), never leaks a traceback, and
either keeps every input row (with a status for the rows that cannot be used, or counted skips) or
fails with one clear ``iccc <command>: error: ...`` line and exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import deadline as _deadline

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
#: Seconds any single call may take (the sample files are tiny; a hang is caught, not waited for).
DEADLINE_S = 240

#: file -> number of input rows (None: nothing to do, the command must refuse clearly).
FILES = {
    "mixed.jsonl": 16,
    "mixed.csv": 6,
    "other_languages.txt": 3,
    "coco_broken_images.json": 4,
    "long.jsonl": 3,
    "empty.jsonl": None,
    "empty.txt": None,
    "blank_lines.txt": None,
    "header_only.csv": None,
}
LONG_CAPTION = "A dog on a couch " + "and a very long tail " * 5_000 + "."


class Deadline(Exception):
    pass


def deadline(seconds: int = DEADLINE_S):
    """:func:`helpers.deadline` raising :class:`Deadline`."""
    return _deadline(seconds, Deadline)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The committed corpus plus ``long.jsonl`` (a 100,000-character caption), in a scratch folder."""
    import shutil

    folder = tmp_path_factory.mktemp("bad_inputs")
    shutil.copytree(CORPUS, folder, dirs_exist_ok=True)
    with open(folder / "long.jsonl", "w", encoding="utf-8") as f:
        for caption in ("A cat sleeping on a bed.", LONG_CAPTION, "A red bus on a street."):
            f.write(json.dumps({"image_id": 1, "caption": caption}) + "\n")
    assert len(LONG_CAPTION) > 100_000
    return folder


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """``iccc.cli.main(argv)`` in this process, under the deadline; ``(exit code, stdout, stderr)``."""
    from iccc.cli import main

    with deadline():
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse refusing an option
            code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code, out, err, command: str, nothing_to_do: bool):
    assert "Traceback" not in out + err, f"a traceback leaked:\n{err[-2000:]}"
    assert code in (0, 2), f"exit code {code}: {err[-2000:]}"
    for line in (out + err).splitlines():
        assert len(line) < 2_000, f"an unshortened line of {len(line)} characters was printed"
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, "exit code 2 without a message"
        assert lines[-1].startswith(f"iccc {command}: error: "), lines[-1]
    if nothing_to_do:
        assert code == 2, f"an input with nothing in it should be refused, got exit 0:\n{out[-1000:]}"
        assert "no rows" in err or "no captions" in err, err


def jsonl_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.model
@pytest.mark.parametrize("name", list(FILES))
def test_parse_keeps_every_row(name, corpus, tmp_path, capsys):
    out_file = tmp_path / "parsed.jsonl"
    code, out, err = run_cli(["parse", corpus / name, "-o", out_file], capsys)
    assert_clean(code, out, err, "parse", FILES[name] is None)
    if code == 0:
        rows = jsonl_rows(out_file)
        assert len(rows) == FILES[name]
        assert all(r["parse_status"] for r in rows)


@pytest.mark.model
@pytest.mark.parametrize("name", list(FILES))
def test_corrupt_keeps_every_row(name, corpus, tmp_path, capsys):
    out_file = tmp_path / "corrupted.jsonl"
    code, out, err = run_cli(["corrupt", corpus / name, "-o", out_file, "--seed", 3], capsys)
    assert_clean(code, out, err, "corrupt", FILES[name] is None)
    if code == 0:
        rows = jsonl_rows(out_file)
        assert len(rows) == FILES[name]
        assert all(r["corrupt_status"] for r in rows)
        ok = [r for r in rows if r["corrupt_status"] == "ok"]
        assert all(isinstance(r["target"], str) and r["corrupted_caption"] != r["caption"] for r in ok)


@pytest.mark.model
@pytest.mark.parametrize("name", list(FILES))
def test_build_keeps_every_row(name, corpus, tmp_path, capsys):
    pytest.importorskip("datasets")
    from datasets import load_from_disk

    out_dir = tmp_path / "built"
    code, out, err = run_cli(["build", corpus / name, "-o", out_dir, "-q"], capsys)
    assert_clean(code, out, err, "build", FILES[name] is None)
    if code == 0:
        built = load_from_disk(str(out_dir))
        assert len(built) == FILES[name]
        assert "build_status" in built.column_names


@pytest.mark.model
@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("fmt,suffix", [("dpo", "pairs.jsonl"), ("negclip", "neg.tsv"), ("sugarcrepe", "sc")])
def test_export_is_clean(name, fmt, suffix, corpus, tmp_path, capsys):
    pytest.importorskip("datasets")
    code, out, err = run_cli(["export", fmt, corpus / name, "-o", tmp_path / suffix, "-q"], capsys)
    assert_clean(code, out, err, "export", FILES[name] is None)
    if code == 0:
        assert "Exported" in out and f"of {FILES[name]} rows" in out, out


@pytest.mark.model
@pytest.mark.parametrize("seed", ["-1", "-12345678901234567890", "1.5", "x"])
@pytest.mark.parametrize("command", [["parse"], ["corrupt"], ["build"], ["export", "dpo"]])
def test_bad_seeds_are_refused_quickly(command, seed, corpus, tmp_path, capsys):
    if command == ["parse"]:
        pytest.skip("iccc parse has no seed")
    argv = command + [corpus / "mixed.jsonl", "-o", tmp_path / ("o.jsonl" if command[0] != "build" else "o"),
                      "--seed", seed]
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (code, err)
    assert "Traceback" not in err and "seed" in err, err


@pytest.mark.model
def test_python_entry_points_on_bad_values(capsys):
    """The same troubles through the Python API: statuses, never an unexplained exception."""
    import iccc

    values = [None, "", "   ", 12345, ["a list"], {"a": 1}, "🐶🐱", "<b>A dog</b> on a <i>couch</i>.",
              "Un chien brun couché sur un canapé vert.", "一只狗躺在沙发上。", LONG_CAPTION, "A dog on a couch."]
    with deadline():
        parsed = iccc.parse(values, on_invalid="status")
    assert len(parsed) == len(values)
    statuses = [p.status for p in parsed]
    assert statuses[:6] == ["missing", "empty", "empty", "not_string", "not_string", "not_string"]
    assert statuses[8] == "non_english" and statuses[9] == "non_english"
    assert statuses[10] == "truncated" and statuses[-1] == "ok"
    with deadline():
        for value in values:
            if isinstance(value, str):
                record = iccc.corrupt(value, seed=0)  # the shipped default base
                assert record is None or record.caption == value
            else:  # a dict is read as a dataset batch: it must name its caption column
                with pytest.raises((TypeError, KeyError), match="[Cc]aption"):
                    iccc.corrupt(value, seed=0)
    with pytest.raises(ValueError, match="seed"):
        with deadline(30):
            iccc.corrupt("A dog on a couch.", seed=-1)


@pytest.mark.model
def test_dataset_map_keeps_every_row(corpus):
    datasets = pytest.importorskip("datasets")
    import iccc

    rows = jsonl_rows(corpus / "mixed.jsonl")
    # one column of one type, as a user's Dataset would hold it: the odd values as strings or None
    captions = [r["caption"] if isinstance(r["caption"], str) or r["caption"] is None else json.dumps(r["caption"])
                for r in rows]
    ds = datasets.Dataset.from_dict({"caption": captions, "image_id": [str(r["image_id"]) for r in rows]})
    with deadline():
        parsed = iccc.add_concepts(ds)
        out = parsed.map(iccc.corrupt, batched=True, with_indices=True,
                         fn_kwargs={"seed": 0, "group_column": "image_id"})
        built = iccc.build_dataset(ds, group_column="image_id", seed=0)
    assert len(out) == len(ds) == len(built)
    assert all(out["corrupt_status"]) and all(built["build_status"])
    assert out["caption"] == captions
