"""The ``iccc`` command line: ``iccc parse``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import iccc
from iccc.cli import main

pytestmark = pytest.mark.model

ROWS = [
    {"id": 1, "caption": "A black dog sitting next to a red fire hydrant."},
    {"id": 2, "caption": None},
    {"id": 3, "caption": ""},
    {"id": 4, "caption": 42},
    {"id": 5, "caption": "猫がソファの上で寝ている。"},
    {"id": 6, "caption": "Hello there."},
    {"id": 7, "caption": "Two cats on a <b>wooden</b> bench."},
]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_parse_builtin_sample(capsys):
    assert main(["parse", "--show", "2"]) == 0
    out = capsys.readouterr().out
    n = len(iccc.sample_captions())
    assert f"Parsed {n} captions" in out
    assert "Status: ok " in out and "Concepts: " in out and "entity" in out
    examples = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(examples) == 2 and "]noun" in examples[0]


def test_parse_file_keeps_every_row(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", ROWS)
    dst = tmp_path / "out.jsonl"
    assert main(["parse", str(src), "-o", str(dst), "-q", "--batch-size", "2"]) == 0
    out = read_jsonl(dst)
    assert [r["id"] for r in out] == [r["id"] for r in ROWS]
    assert [r["caption"] for r in out] == [r["caption"] for r in ROWS]
    assert [r["parse_status"] for r in out] == ["ok", "missing", "empty", "not_string", "non_english", "no_concepts", "ok"]
    assert all(r["concepts"] == [] for r in out[1:6])
    first = iccc.ParsedCaption.from_dict({"text": out[0]["caption"], "concepts": out[0]["concepts"]})
    assert first == iccc.parse([ROWS[0]["caption"]])[0]
    last = out[-1]
    assert all(last["caption"][c["start"] : c["end"]] == c["text"] for c in last["concepts"])
    printed = capsys.readouterr().out
    assert "Parsed 7 captions" in printed and f"Wrote {dst}" in printed


def test_parse_txt_with_two_processes(tmp_path):
    captions = [f"A dog with {i} red balls." for i in range(40)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(captions) + "\n", encoding="utf-8")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main(["parse", str(src), "-o", str(one), "-q", "--batch-size", "4"]) == 0
    assert main(["parse", str(src), "-o", str(two), "-q", "--batch-size", "4", "--n-process", "2"]) == 0
    assert read_jsonl(one) == read_jsonl(two)
    assert [r["caption"] for r in read_jsonl(two)] == captions


def test_caption_column(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "A red bus."}])
    dst = tmp_path / "out.jsonl"
    assert main(["parse", str(src), "-o", str(dst), "--caption-column", "text", "-q"]) == 0
    assert read_jsonl(dst)[0]["parse_status"] == "ok"


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda d: [str(d / "missing.jsonl")], "does not exist"),
        (lambda d: [str(write_jsonl(d / "in.xlsx", ROWS))], "Unknown caption file format '.xlsx'"),
        (lambda d: [str(write_jsonl(d / "in.parquet", ROWS))], "is not a readable Parquet file"),
        (lambda d: [str(write_jsonl(d / "in.jsonl", [{"text": "A dog."}]))], "no caption column 'caption'"),
        (lambda d: ["--model", "xx_no_such_pipeline"], "No spaCy pipeline found"),
        (lambda d: ["-o", str(d / "out.txt")], "`-o` '"),
        (lambda d: ["-o", str(d / "out.txt")], "can be written as .jsonl/.jsonl.gz/.ndjson/.ndjson.gz, .csv"),
    ],
)
def test_errors_exit_2_with_a_message(tmp_path, capsys, make_args, message):
    assert main(["parse", *make_args(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("iccc parse: error: ") and message in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["parse", "--batch-size", "many"])
    assert info.value.code == 2
    assert "argument --batch-size: should be a positive integer (1, 2, 3, ...), got 'many'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["parse", "--batch-size", "0"])
    assert info.value.code == 2
    assert "argument --batch-size: should be a positive integer (1, 2, 3, ...), got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_console_script(tmp_path):
    script = shutil.which("iccc", path=str(Path(sys.executable).parent)) or shutil.which("iccc")
    if script is None:
        pytest.skip("the `iccc` console script is not installed (pip install -e .)")
    src = write_jsonl(tmp_path / "in.jsonl", ROWS[:3])
    dst = tmp_path / "out.jsonl"
    done = subprocess.run([script, "parse", str(src), "-o", str(dst), "--show", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Parsed 3 captions" in done.stdout
    assert [r["parse_status"] for r in read_jsonl(dst)] == ["ok", "missing", "empty"]
    failed = subprocess.run([script, "parse", str(tmp_path / "nope.txt")], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and "iccc parse: error:" in failed.stderr


def test_a_missing_optional_package_gives_an_install_hint(monkeypatch, capsys):
    import builtins

    from iccc import cli

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets" or name.startswith("datasets."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    assert cli.main(["build", "-o", "unused-dir"]) == 2
    err = capsys.readouterr().err
    assert "'datasets'" in err and cli.install_hint("datasets") in err
    # from this clone iccc is not on PyPI: the hint installs the extra from the checkout
    root = Path(cli.__file__).resolve().parents[1]
    assert cli.install_hint("datasets") == f'pip install -e "{root}[datasets]"'
    monkeypatch.setattr(cli, "_source_root", lambda: None)  # an installed wheel
    assert cli.install_hint("datasets") == 'pip install "iccc[datasets]"'
    assert cli.install_hint("no_such_package") is None
