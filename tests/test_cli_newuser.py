"""What a new user meets on the command line (issue 12): bad numbers refused at once (a negative seed
used to hang), empty inputs refused clearly, ``-o`` names honoured, short summaries, ``iccc train``
into an existing folder, ``--version``, help on every option, progress totals, install hints, and
``iccc evaluate``.

Every CLI call runs ``iccc.cli.main`` in this process under a SIGALRM deadline (a hang fails the
test instead of blocking it); the one console-script call has a subprocess timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import deadline as _deadline

import iccc
from iccc.io import OUTPUT_SUFFIXES, read_captions

BAD_INPUTS = Path(__file__).resolve().parent / "bad_inputs"
#: Seconds one in-process CLI call may take; refusals of bad options must be much quicker.
DEADLINE_S = 240
QUICK_S = 30
LONG_CAPTION = "A dog on a couch " + "and a very long tail " * 5_000 + "."


def deadline(seconds: int = DEADLINE_S):
    """Fail the test (raise) when the block runs longer than ``seconds``."""
    return _deadline(seconds)


def run_cli(argv, capsys, seconds: int = DEADLINE_S) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``iccc argv`` run in this process under a deadline."""
    from iccc.cli import main

    with deadline(seconds):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse refusing an option, --version, --help
            code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code, err, command: str, *needles: str) -> None:
    assert code == 2, (code, err)
    assert "Traceback" not in err
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last.startswith(f"iccc {command}: error: "), last
    for needle in needles:
        assert needle in err, (needle, err)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- 1. numbers and seeds
BAD_OPTIONS = [
    (["corrupt", "--seed", "-1"], "argument --seed: should be a non-negative integer (0, 1, 2, ...), got '-1'"),
    (["corrupt", "--seed", "-12345678901234567890"], "argument --seed: should be a non-negative integer"),
    (["corrupt", "--seed", "1.5"], "argument --seed: should be a non-negative integer (0, 1, 2, ...), got '1.5'"),
    (["corrupt", "--p-swap", "1.5"], "argument --p-swap: should be a number in [0, 1], got '1.5'"),
    (["corrupt", "--p-add", "nan"], "argument --p-add: should be a number in [0, 1], got 'nan'"),
    (["corrupt", "--n-process", "0"], "argument --n-process: should be a positive integer (1, 2, 3, ...), got '0'"),
    (["corrupt", "--show", "-2"], "argument --show: should be a non-negative integer"),
    (["parse", "--batch-size", "-1"], "argument --batch-size: should be a positive integer"),
    (["parse", "--n-process", "-1"], "argument --n-process: should be a positive integer"),
    (["parse", "--show", "x"], "argument --show: should be a non-negative integer (0, 1, 2, ...), got 'x'"),
    (["build", "--seed", "-1"], "argument --seed: should be a non-negative integer"),
    (["build", "--epoch", "-1"], "argument --epoch: should be a non-negative integer"),
    (["export", "dpo", "--seed", "-1"], "argument --seed: should be a non-negative integer"),
    (["evaluate", "--model", "m", "--data", "d", "--limit", "0"], "argument --limit: should be a positive integer"),
    (["evaluate", "--model", "m", "--data", "d", "--batch-size", "-3"], "argument --batch-size: should be a positive"),
    (["correct", "i.png", "a dog", "--model", "m", "--max-new-tokens", "0"],
     "argument --max-new-tokens: should be a positive integer"),
]


@pytest.mark.parametrize("argv, message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_numbers_are_refused_at_once(argv, message, capsys):
    code, out, err = run_cli(argv, capsys, QUICK_S)
    assert_refused(code, err, argv[0], message)
    assert out == ""


def test_negative_seed_via_train_is_refused(tmp_path, capsys):
    code, _, err = run_cli(["train", "--model", "m", "--data", tmp_path, "-o", tmp_path / "o", "--seed", "-1"],
                           capsys, QUICK_S)
    assert_refused(code, err, "train", "`seed` should be an int >= 0, got -1")


def test_fold_and_row_streams_refuse_what_would_not_end():
    from iccc.streams import Streams as RowStreams
    from iccc.streams import _fold
    from iccc.streams import stream as row_stream

    with deadline(QUICK_S):
        for bad in (-1, -(2**70), 1.5, "3", True, None):
            with pytest.raises(ValueError, match="`seed` should be a non-negative integer, got"):
                _fold(bad)
        with pytest.raises(ValueError, match="`seed` should be a non-negative integer, got -1"):
            RowStreams(-1, 0, [0, 1])
        with pytest.raises(ValueError, match="`epoch` should be a non-negative integer, got -5"):
            RowStreams(0, -5, [0])
        with pytest.raises(ValueError, match=r"`rows` should be a sequence of non-negative integers, got \[3, -1\]"):
            RowStreams(0, 0, [3, -1])
    # 128-bit entropy and numpy integers still work, and give the same stream as row_stream
    import numpy as np

    big, one = RowStreams(2**130 + 7, np.int64(2), [5])[0], row_stream(2**130 + 7, 2, 5)
    assert [big.random() for _ in range(10)] == [one.random() for _ in range(10)]


def test_balance_insertions_checks_its_seed_first():
    from iccc.balance import balance_insertions

    with deadline(QUICK_S):
        for bad in (-1, 2.0, "0"):
            with pytest.raises(ValueError, match=r"`seed` should be a non-negative integer, got"):
                balance_insertions(None, [], seed=bad)  # refused before base or captions are looked at


# ---------------------------------------------------------------------------- 2. empty inputs
EMPTY = ["empty.txt", "empty.jsonl", "blank_lines.txt", "header_only.csv"]


@pytest.mark.parametrize("command", ["parse", "corrupt"])
@pytest.mark.parametrize("name", EMPTY)
def test_an_input_without_rows_is_refused(command, name, tmp_path, capsys):
    out_file = tmp_path / "out.jsonl"
    code, out, err = run_cli([command, BAD_INPUTS / name, "-o", out_file, "-q"], capsys, QUICK_S)
    assert_refused(code, err, command, f"the input has no rows (no captions to {command}).")
    assert not out_file.exists() and list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.model
def test_corrupt_without_a_usable_caption_asks_for_a_base(tmp_path, capsys):
    src = BAD_INPUTS / "other_languages.txt"
    code, _, err = run_cli(["corrupt", src, "-o", tmp_path / "out.jsonl", "-q"], capsys)
    assert_refused(code, err, "corrupt", "no usable captions", "non_english 3", "--base")
    assert not (tmp_path / "out.jsonl").exists()
    # with a concept base every row is kept, with its status
    base = iccc.ConceptBase.from_parsed(iccc.parse([r["caption"] for r in iccc.sample_captions()]))
    base.save(tmp_path / "base.json")
    code, out, err = run_cli(["corrupt", src, "-o", tmp_path / "out.jsonl", "-q", "--base", tmp_path / "base.json"],
                             capsys)
    assert code == 0, err
    rows = list(read_captions(tmp_path / "out.jsonl"))
    assert [r["corrupt_status"] for r in rows] == ["non_english"] * 3
    assert "Operations: none" in out


# ------------------------------------------------------------------------- 3. -o names honoured
@pytest.mark.model
@pytest.mark.parametrize("suffix", list(OUTPUT_SUFFIXES))
def test_parse_and_corrupt_write_what_the_name_says(suffix, tmp_path, capsys):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"image_id": 1, "caption": "A black dog sitting next to a red fire hydrant."},
        {"image_id": 1, "caption": "A dog next to a hydrant on a street."},
        {"image_id": 2, "caption": None},
        {"image_id": 3, "caption": "A cat, with a hat\tand\nscarf, on a wooden bench."},
    ])
    parsed = tmp_path / f"parsed{suffix}"
    code, _, err = run_cli(["parse", src, "-o", parsed, "-q"], capsys)
    assert code == 0, err
    if suffix.endswith(".gz"):
        assert parsed.read_bytes()[:2] == b"\x1f\x8b"  # gzip, not plain text
    rows = list(read_captions(parsed))
    assert [r["parse_status"] for r in rows] == ["ok", "ok", "missing", "ok"]
    concepts = rows[0]["concepts"]
    concepts = json.loads(concepts) if isinstance(concepts, str) else concepts  # CSV/TSV: JSON in a cell
    assert {c["text"] for c in concepts} >= {"dog", "black"}
    # the output is an input again: parse it, and corrupt it
    again = tmp_path / "again.jsonl"
    code, out, err = run_cli(["parse", parsed, "-o", again, "-q"], capsys)
    assert code == 0 and "Parsed 4 captions" in out, err
    corrupted = tmp_path / f"corrupted{suffix}"
    code, out, err = run_cli(["corrupt", parsed, "-o", corrupted, "-q", "--no-balance"], capsys)
    assert code == 0, err
    rows = list(read_captions(corrupted))
    # a CSV/TSV cell cannot tell None from "": the missing caption reads back as an empty one
    assert len(rows) == 4 and rows[2]["corrupt_status"] == ("empty" if ".csv" in suffix or ".tsv" in suffix
                                                            else "missing")
    assert any(r["corrupt_status"] == "ok" and r["target"] for r in rows)


@pytest.mark.parametrize("command", ["parse", "corrupt"])
@pytest.mark.parametrize("name", ["out.txt", "out.json", "out", "out.parquet.gz"])
def test_an_output_name_without_a_format_is_refused_before_any_work(command, name, tmp_path, capsys):
    code, out, err = run_cli([command, "-o", tmp_path / name], capsys, QUICK_S)
    assert_refused(code, err, command, "`-o` ", "the output can be written as .jsonl/.jsonl.gz/.ndjson/.ndjson.gz, "
                   ".csv/.csv.gz, .tsv/.tsv.gz, .parquet; got ")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_an_output_in_a_missing_folder_is_refused(tmp_path, capsys):
    code, _, err = run_cli(["parse", "-o", tmp_path / "no" / "out.csv"], capsys, QUICK_S)
    assert_refused(code, err, "parse", "does not exist")
    code, _, err = run_cli(["corrupt", "--base", tmp_path / "base.json"], capsys, QUICK_S)
    assert_refused(code, err, "corrupt", "`--base`", "is not a file")
    code, _, err = run_cli(["corrupt", "--save-base", tmp_path / "no" / "base.json"], capsys, QUICK_S)
    assert_refused(code, err, "corrupt", "`--save-base`", "its folder does not exist")


# ------------------------------------------------------------------------- 4. short summaries
def test_shorten():
    from iccc._cli_args import shorten

    assert shorten("A dog.") == "A dog."
    assert shorten("A  dog\non a\tbed. ") == "A dog on a bed."
    long = shorten(LONG_CAPTION)
    assert len(long) == 200 and long.endswith("…") and long.startswith("A dog on a couch and")
    assert shorten(LONG_CAPTION, 10) == "A dog on…"
    assert shorten(None) == "None" and shorten(42) == "42"
    with pytest.raises(ValueError, match="`width` should be a positive int, got 0"):
        shorten("x", 0)


@pytest.mark.model
@pytest.mark.parametrize("command", ["parse", "corrupt"])
def test_summaries_shorten_long_captions(command, tmp_path, capsys):
    # the long caption first (shown among the examples), then the sample as the concept base
    src = write_jsonl(tmp_path / "in.jsonl", [{"image_id": -1, "caption": LONG_CAPTION}, *iccc.sample_captions()])
    code, out, err = run_cli([command, src, "-q", "--show", "2"], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) < 400, out[:2000]
    assert "…" in out


# ------------------------------------------------------------- 6. version, help, progress, hints
def test_version(capsys):
    code, out, _ = run_cli(["--version"], capsys, QUICK_S)
    assert code == 0 and out.strip() == f"iccc {iccc.__version__}"


def test_console_script_version():
    script = shutil.which("iccc", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the `iccc` console script is not installed (pip install -e .)")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"iccc {iccc.__version__}"


def test_every_option_of_every_subcommand_has_help():
    from iccc.cli import build_parser

    missing, seen = [], set()

    def walk(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    seen.add(sub_name)
                    walk(sub, f"{name} {sub_name}")
            elif not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "iccc")
    assert {"parse", "corrupt", "build", "export", "train", "correct", "evaluate"} <= seen
    assert missing == [], f"options without help: {missing}"


@pytest.mark.model
def test_progress_bars_have_totals(tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("A dog on a bed.\nA cat on a mat.\nA red bus.\n", encoding="utf-8")
    code, _, err = run_cli(["parse", src], capsys)
    assert code == 0 and "Parsing: 100%" in err and "3/3" in err, err
    code, _, err = run_cli(["corrupt", src], capsys)
    assert code == 0, err
    for phase in ("Parsing", "Building concept base", "Balancing insertions", "Corrupting"):
        assert f"{phase}: 100%" in err, (phase, err)
    assert "3/3" in err and "12/12" in err  # balancing: 4 rounds over 3 captions
    code, _, err = run_cli(["parse", src, "-q"], capsys)
    assert code == 0 and err == ""


def test_install_hints_work_from_a_clone(monkeypatch, tmp_path):
    from iccc import cli

    root = Path(cli.__file__).resolve().parents[1]
    assert cli._source_root() == root  # this test runs from the checkout
    assert cli.install_hint("nltk") == f'pip install -e "{root}[wordnet]"'
    assert cli.install_hint("torch").endswith(f'then pip install -e "{root}[train]"')
    # an installed wheel: the folder above the package has no iccc setup.cfg
    fake = tmp_path / "site-packages" / "iccc"
    fake.mkdir(parents=True)
    monkeypatch.setattr(cli, "__file__", str(fake / "cli.py"))
    assert cli._source_root() is None
    assert cli.install_hint("pyarrow") == 'pip install "iccc[datasets]"'


# ------------------------------------------------------------------ 5. and 7. train, evaluate
def test_train_refuses_a_non_empty_output_folder(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    argv = ["train", "--model", "m", "--data", tmp_path, "-o", out]
    code, _, err = run_cli(argv, capsys, QUICK_S)
    assert_refused(code, err, "train", "exists and is not empty", "--resume latest", "--overwrite")
    # --overwrite removes only what an earlier `iccc train` wrote
    code, _, err = run_cli(argv + ["--overwrite"], capsys, QUICK_S)
    assert_refused(code, err, "train", "is not the output folder of an earlier `iccc train`")
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_train_summary_counts_only_this_runs_steps():
    from iccc._cli_train import summary_line
    from iccc.train.loop import TrainResult

    fresh = TrainResult(output_dir="o", global_step=3, first_step=0, total_steps=3, losses=[3.0, 2.0, 1.0])
    assert fresh.run_losses == [3.0, 2.0, 1.0]
    assert summary_line(fresh).startswith("Trained steps 1-3 of 3 in ")
    assert summary_line(fresh).endswith("loss 3.0000 -> 1.0000.")
    resumed = TrainResult(output_dir="o", global_step=6, first_step=4, total_steps=6,
                          losses=[9.0, 8.0, 7.0, 6.0, 2.5, 2.0])
    assert resumed.run_losses == [2.5, 2.0]
    line = summary_line(resumed)
    assert line.startswith("Resumed at step 4; trained steps 5-6 of 6 in ") and line.endswith("loss 2.5000 -> 2.0000.")
    done = TrainResult(output_dir="o", global_step=6, first_step=6, total_steps=6, losses=[1.0] * 6)
    assert done.run_losses == [] and summary_line(done) == "Nothing to train: already at step 6 of 6."


COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220)}


def tiny_rows():
    """Two correction rows and two caption rows over plain coloured squares."""
    from PIL import Image

    out = {"image": [], "prompt": [], "target": [], "task": []}
    for colour, wrong in (("red", "blue"), ("blue", "red")):
        image = Image.new("RGB", (24, 24), COLOURS[colour])
        out["image"] += [image, image]
        out["prompt"] += [f'Is this caption correct? "a {wrong} square" If not, say what is wrong.',
                          "Write a short caption for this image."]
        out["target"] += [f'"{wrong}" should be "{colour}".', f"a {colour} square"]
        out["task"] += ["correction", "caption"]
    return out


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """``(tiny llava checkpoint, DatasetDict folder with train/validation)``, built once."""
    torch = pytest.importorskip("torch")
    for name in ("transformers", "peft", "accelerate", "PIL", "datasets"):
        pytest.importorskip(name)
    import datasets

    from iccc.train import build_tiny_model

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("newuser_train")
    data = tiny_rows()
    model = build_tiny_model("llava", root / "tiny", texts=data["prompt"] + data["target"])
    ds = datasets.Dataset.from_dict(data).cast_column("image", datasets.Image())
    datasets.DatasetDict(train=ds, validation=ds).save_to_disk(str(root / "data"))
    return model, root / "data"


def train_argv(model, data, out, *extra):
    return ["train", "--model", model, "--data", data, "-o", out, "--per-device-batch-size", "2",
            "--learning-rate", "5e-3", "--lora-dropout", "0", "--max-new-tokens", "6", "--eval-batch-size", "4",
            "--logging-steps", "1", *extra]


@pytest.mark.slow
def test_train_resume_overwrite_and_evaluate(tiny_setup, tmp_path, capsys):
    model, data = tiny_setup
    out = tmp_path / "run"
    code, printed, err = run_cli(train_argv(model, data, out, "--max-steps", "2", "--save-steps", "1",
                                            "--eval-split", "none"), capsys)
    assert code == 0, err
    assert "Trained steps 1-2 of 2" in printed
    first_losses = json.loads((out / "checkpoints" / "step-0000002" / "trainer_state.json").read_text())["losses"]
    # the same folder again: refused, nothing touched
    code, _, err = run_cli(train_argv(model, data, out, "--max-steps", "2"), capsys)
    assert_refused(code, err, "train", "exists and is not empty")
    # resumed: the summary reports this run's steps and losses only
    code, printed, err = run_cli(train_argv(model, data, out, "--max-steps", "4", "--save-steps", "1",
                                            "--eval-split", "none", "--resume", "latest"), capsys)
    assert code == 0, err
    summary = next(line for line in printed.splitlines() if "rained steps" in line)
    assert summary.startswith("Resumed at step 2; trained steps 3-4 of 4 in "), summary
    state = json.loads((out / "checkpoints" / "step-0000004" / "trainer_state.json").read_text())
    assert state["losses"][:2] == first_losses
    assert summary.endswith(f"loss {state['losses'][2]:.4f} -> {state['losses'][3]:.4f}.")
    # --overwrite replaces the earlier run's folder (its checkpoints are gone)
    code, printed, err = run_cli(train_argv(model, data, out, "--max-steps", "1", "--save-steps", "none",
                                            "--overwrite"), capsys)
    assert code == 0, err
    assert "Trained steps 1-1 of 1" in printed and "correction_exact" in printed
    assert sorted(os.listdir(out / "checkpoints")) == ["step-0000001"]
    saved = json.loads((out / "eval.json").read_text())

    # iccc evaluate: the same metrics as the run's own evaluation, printed and written
    metrics_file = tmp_path / "metrics.json"
    code, printed, err = run_cli(["evaluate", "--model", out, "--data", data, "--batch-size", "4",
                                  "--max-new-tokens", "6", "--device", "cpu", "--output", metrics_file], capsys)
    assert code == 0, err
    assert "[validation]: 2 correction rows, 2 caption rows" in printed
    assert "correction_exact" in printed and "caption_loss" in printed and f"Wrote {metrics_file}" in printed
    metrics = json.loads(metrics_file.read_text())
    assert metrics["split"] == "validation"
    assert {k: metrics[k] for k in ("correction_exact", "n_correction", "n_caption")} == \
        {k: saved[k] for k in ("correction_exact", "n_correction", "n_caption")}
    assert metrics["caption_loss"] == pytest.approx(saved["caption_loss"], rel=1e-4)
    code, printed, err = run_cli(["evaluate", "--model", out, "--data", data, "--split", "train", "--limit", "1",
                                  "--device", "cpu", "--max-new-tokens", "4", "--show", "0"], capsys)
    assert code == 0, err
    assert "[train]: 1 correction rows, 1 caption rows" in printed and "target:" not in printed


def test_evaluate_refuses_bad_arguments_clearly(tiny_setup, tmp_path, capsys):
    model, data = tiny_setup
    cases = [
        (["--model", model, "--data", tmp_path / "missing"], "`--data`", "not found"),
        (["--model", tmp_path / "nope", "--data", data], "`--model`", "is not a folder"),
        (["--model", model, "--data", data, "--split", "dev"], "`--split` 'dev' not in the data",
         "Splits: train, validation"),
        (["--model", model, "--data", data, "--output", tmp_path / "m.txt"], "should name a .json file"),
    ]
    for argv, *needles in cases:
        code, _, err = run_cli(["evaluate", *argv], capsys, QUICK_S * 4)
        assert_refused(code, err, "evaluate", *needles)
