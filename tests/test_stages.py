"""Every stage feeds the next (issue 12): build -> train/export, with odd rows, odd names and odd inputs.

CLI calls run as subprocesses under a timeout (no input may hang a call; errors are one
``iccc <cmd>: error: ...`` line with exit status 2 and no traceback).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

import iccc  # noqa: E402
from iccc.dataset import build_dataset, build_summary, format_summary, to_dpo, to_sft  # noqa: E402

CLI_TIMEOUT = 300
COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30), "yellow": (230, 230, 20)}


def cli(*argv, cwd=None, timeout=CLI_TIMEOUT):
    """``iccc ARGV`` in a subprocess: ``(returncode, stdout, stderr)``."""
    env = {**os.environ, "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "iccc.cli", *map(str, argv)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def assert_cli_error(result, message):
    code, out, err = result
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("iccc ") and ": error: " in err
    assert message in err, err


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def image_data(tmp_path):
    """``data/captions.jsonl`` naming images in ``data/images/`` (relative), with a None, an empty
    and a non-string caption among ordinary ones."""
    from PIL import Image

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    rows = []
    for i in range(12):
        colour = list(COLOURS)[i % 4]
        Image.new("RGB", (24, 24), COLOURS[colour]).save(root / "images" / f"{i}.png")
        rows.append({"image": f"{i}.png", "caption": f"A {colour} square on a wooden table."})
    rows[3]["caption"] = None
    rows[5]["caption"] = ""
    rows[7]["caption"] = 7  # not a string, in a column of strings
    return write_jsonl(root / "captions.jsonl", rows)


# ------------------------------------------------------------------ 1. + 3. build output trains
@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    pytest.importorskip("accelerate")
    import torch

    from iccc.train import build_tiny_model

    torch.set_num_threads(1)
    texts = [f"A {c} square on a wooden table." for c in COLOURS] + list(iccc.dataset.CAPTION_PROMPTS)
    return build_tiny_model("llava", tmp_path_factory.mktemp("tiny_llava"), texts=texts)


def small_config(model, data, out, **kw):
    from iccc.train.config import TrainConfig

    base = dict(model=model, data=data, output_dir=str(out), max_steps=2, per_device_batch_size=2,
                learning_rate=1e-3, lora_dropout=0.0, logging_steps=1, save_steps=None, eval_batch_size=2,
                max_new_tokens=4)
    base.update(kw)
    return TrainConfig(**base)


def test_build_output_with_unusable_rows_trains_from_another_folder(image_data, tiny_llava, tmp_path, capsys,
                                                                    monkeypatch):
    from iccc.train import train

    work = image_data.parent
    code, out, err = cli("build", "captions.jsonl", "--image-root", "images", "-o", "built", "-q", cwd=work)
    assert code == 0, err
    assert "Rows without a usable caption (target None): 3" in out
    assert "Images: 12 of 12 rows found" in out
    built = datasets.load_from_disk(str(work / "built"))
    assert len(built) == 12 and sorted(built["build_status"]).count("not_string") == 1
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in built["image"])  # absolute: any working folder

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    skipped = {}
    from iccc.train.data import load_splits

    cfg = small_config(tiny_llava, str(work / "built"), tmp_path / "o")
    train_rows, _, _ = load_splits(cfg, skipped=skipped)
    assert len(train_rows) == 9 and skipped == {"train": 3, "eval": 0}
    result = train(cfg)
    assert result.global_step == 2 and all(loss == loss for loss in result.losses)
    assert "Skipped rows without a usable prompt or target" in capsys.readouterr().out

    # --drop-unusable leaves them out at build time, counted in the summary; the rest is the same build
    code, out, err = cli("build", "captions.jsonl", "--image-root", "images", "-o", "dropped", "--drop-unusable",
                         "-q", cwd=work)
    assert code == 0, err
    assert "Rows dropped without a usable caption (--drop-unusable): 3" in out
    dropped = datasets.load_from_disk(str(work / "dropped"))
    assert dropped.to_list() == [r for r in built.to_list() if r["target"] is not None]


def test_drop_unusable_in_python_keeps_the_other_rows_identical(nlp):
    rows = iccc.sample_captions()[:40] + [{"image_id": 900, "caption": None}, {"image_id": 901, "caption": "  "}]
    ds = datasets.Dataset.from_list(rows)
    full = build_dataset(ds, p_correction=0.5, nlp=nlp)
    for mode in ("materialize", "transform"):
        out = build_dataset(ds, p_correction=0.5, nlp=nlp, drop_unusable=True, mode=mode)
        assert len(out) == len(ds) - 2
        assert [r["prompt"] for r in out] == [r["prompt"] for r in full if r["target"] is not None]
    with pytest.raises(TypeError, match="`drop_unusable` should be True or False, got 'yes'"):
        build_dataset(ds, drop_unusable="yes")


def test_missing_images_are_counted_and_embed_images_stores_bytes(image_data, nlp):
    work = image_data.parent
    (work / "images" / "0.png").unlink()
    code, out, err = cli("build", "captions.jsonl", "--image-root", "images", "-q", cwd=work)
    assert code == 0, err
    assert "Images: 11 of 12 rows found; 1 image files missing (first: " in out and "0.png" in out
    assert_cli_error(cli("build", "captions.jsonl", "--image-root", "images", "--embed-images", "-o", "e", "-q",
                         cwd=work), "--embed-images needs every image file: 1 of 12 are missing")
    from PIL import Image

    Image.new("RGB", (24, 24), (1, 2, 3)).save(work / "images" / "0.png")
    code, out, err = cli("build", "captions.jsonl", "--image-root", "images", "--embed-images", "-o", "e", "-q",
                         cwd=work)
    assert code == 0, err
    for name in os.listdir(work / "images"):
        os.remove(work / "images" / name)  # the images now live in the dataset
    embedded = datasets.load_from_disk(str(work / "e"))
    assert isinstance(embedded.features["image"], datasets.Image)
    assert embedded[0]["image"].size == (24, 24)
    assert build_summary(embedded)["images"]["missing"] == 0


# ------------------------------------------------------------------ 2. transform build + eval_fraction
def test_transform_build_trains_with_eval_fraction(tiny_llava, tmp_path, nlp):
    from PIL import Image

    from iccc.train import train

    rows = []
    for i in range(8):
        colour = list(COLOURS)[i % 4]
        rows.append({"image": Image.new("RGB", (24, 24), COLOURS[colour]), "image_id": i,
                     "caption": f"A {colour} square on a wooden table."})
    rows.append({"image": Image.new("RGB", (24, 24), (0, 0, 0)), "image_id": 99, "caption": None})
    ds = datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
    fly = build_dataset(ds, mode="transform", p_correction=0.5, balance=False, nlp=nlp)
    result = train(small_config(tiny_llava, fly, tmp_path / "o", eval_fraction=0.5))
    assert result.global_step == 2
    assert result.eval["n_correction"] + result.eval["n_caption"] + result.eval["n_skipped"] >= 1


# ------------------------------------------------------------------ 4. oddly typed rows
def test_mixed_types_keep_their_rows_and_status(tmp_path, nlp):
    path = write_jsonl(tmp_path / "mixed.jsonl", [
        {"caption": "A red bus on a street.", "image_id": 1, "extra": 1},
        {"caption": 5, "image_id": "x", "extra": "one"},
        {"caption": "A dog on a sofa.", "image_id": 2, "extra": [1]},
        {"caption": ["a list", "in a file of single captions"], "image_id": 3},
    ])
    ds = iccc.dataset.load_captions(path)
    assert ds["image_id"][:] == ["1", "x", "2", "3"]  # ids compared for equality only: strings
    # nothing lost: a stray list is one oddly typed caption (as iccc parse reads it), not exploded
    assert ds["caption"][:] == ["A red bus on a street.", 5, "A dog on a sofa.", ["a list", "in a file of single captions"]]
    assert ds["extra"][:] == [1, "one", [1], None]
    code, out, err = cli("build", path, "-q", "-o", tmp_path / "b")
    assert code == 0, err
    assert "not_string 2" in out
    built = datasets.load_from_disk(str(tmp_path / "b"))
    assert built["build_status"][1] == "not_string" and built["target"][1] is None
    code, out, err = cli("parse", path, "-q")
    assert code == 0 and "not_string 2" in out
    code, out, err = cli("export", "dpo", path, "-o", tmp_path / "d.jsonl", "-q")
    assert code == 0, err
    assert "no_caption 2" in out


# ------------------------------------------------------------------ 5. empty inputs
def test_empty_inputs_say_so(tmp_path, nlp):
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "header.csv").write_text("caption,image\n")
    for name in ("empty.jsonl", "header.csv"):
        assert_cli_error(cli("build", tmp_path / name), "the input has no rows")
        assert_cli_error(cli("export", "dpo", tmp_path / name, "-o", tmp_path / "d"), "the input has no rows")
    # Python: an empty Dataset gives an empty build with every output column (documented)
    out = build_dataset(datasets.Dataset.from_dict({"caption": []}, features=datasets.Features(
        {"caption": datasets.Value("string")})), nlp=nlp)
    assert len(out) == 0 and {"prompt", "target", "task", "build_status"} <= set(out.column_names)
    assert "concepts" not in out.column_names


# ------------------------------------------------------------------ 6. -o names and numbers
def test_output_names_are_honoured_or_refused(tmp_path, nlp):
    captions = write_jsonl(tmp_path / "c.jsonl", [{"caption": r["caption"], "image_id": r["image_id"]}
                                                  for r in iccc.sample_captions()[:30]])
    assert_cli_error(cli("export", "negclip", captions, "-o", tmp_path / "n.json"), ".tsv/.tsv.gz, .csv/.csv.gz")
    assert_cli_error(cli("export", "dpo", captions, "-o", tmp_path / "d.txt"), "got the suffix '.txt'")
    assert not (tmp_path / "d.txt").exists() and not (tmp_path / "n.json").exists()
    assert_cli_error(cli("export", "sugarcrepe", captions, "-o", tmp_path / "s.jsonl"), "a folder name")
    code, out, err = cli("export", "dpo", captions, "-o", tmp_path / "d.json", "-q")
    assert code == 0, err
    pairs = json.loads((tmp_path / "d.json").read_text())  # a JSON array, as the name says
    assert isinstance(pairs, list) and {"prompt", "chosen", "rejected"} <= set(pairs[0])
    code, out, err = cli("export", "negclip", captions, "-o", tmp_path / "n.tsv.gz", "-q")
    assert code == 0, err
    with gzip.open(tmp_path / "n.tsv.gz", "rt") as f:
        assert f.readline().rstrip("\n").split("\t")[1:] == ["title", "filepath", "neg_caption", "neg_image"]
    code, out, err = cli("build", captions, "-o", tmp_path / "b.jsonl.gz", "-q")
    assert code == 0, err
    with gzip.open(tmp_path / "b.jsonl.gz", "rt") as f:
        assert len([json.loads(line) for line in f]) == 30
    code, out, err = cli("build", captions, "-o", tmp_path / "b.tsv", "-q")
    assert code == 0, err
    assert (tmp_path / "b.tsv").read_text().split("\n")[0].split("\t")[:2] == ["caption", "image"]
    assert_cli_error(cli("build", captions, "-o", tmp_path / "b.tsv", "-q"), "exists; pass --overwrite")
    # bad numbers fail at once (argparse), never hang
    for argv in (("build", "--seed", "-1"), ("export", "dpo", captions, "-o", tmp_path / "x", "--seed", "-1"),
                 ("build", "--limit", "0"), ("export", "negclip", captions, "-o", tmp_path / "n2.tsv",
                                             "--n-negatives", "0"), ("build", "--p-swap", "1.5")):
        code, out, err = cli(*argv, timeout=60)
        assert code == 2 and "error: argument --" in err and "Traceback" not in err, err


def test_training_reads_a_build_written_as_a_file(tmp_path, nlp):
    from iccc.train.data import load_splits

    captions = write_jsonl(tmp_path / "c.jsonl", [{"caption": "A red car.", "image": "x.png"},
                                                  {"caption": None, "image": "y.png"}])
    code, out, err = cli("build", captions, "--p-correction", "0", "-o", tmp_path / "b.jsonl", "-q")
    assert code == 0, err
    cfg = small_config("unused", str(tmp_path / "b.jsonl"), tmp_path / "o")
    train_rows, _, base_dir = load_splits(cfg)
    assert len(train_rows) == 1 and base_dir == str(tmp_path)


# ------------------------------------------------------------------ 7. summaries
def test_summaries_shorten_long_captions_and_print_well(nlp):
    long = "A dog " + "and a very long caption " * 4000 + "on a sofa."
    ds = datasets.Dataset.from_list([{"caption": long, "image_id": 1}, {"caption": "A red bus.", "image_id": 2}])
    out = build_dataset(ds, p_correction=1.0, balance=False, nlp=nlp)
    summary = build_summary(out)
    assert isinstance(summary, dict) and str(summary) == format_summary(summary)
    text = str(summary)
    assert len(text) < 2000 and "…" in text
    assert all(len(ex["prompt"]) <= 201 for ex in summary["examples"])
    assert "{'rows'" not in text and text.startswith("Rows: 2")


# ------------------------------------------------------------------ 8. + 9. TRL formats
def test_dpo_standard_prompts_carry_the_image_token(tmp_path):
    ds = datasets.Dataset.from_dict({"caption": ["A red bus."], "corrupted_caption": ["A blue bus."],
                                     "image": [str(tmp_path / "1.png")]})
    assert to_dpo(ds, conversational=False, image_features=False)[0]["prompt"].startswith("<image>\n")
    assert to_dpo(ds, conversational=False, image_features=False,
                  image_token="<|image_pad|>")[0]["prompt"].startswith("<|image_pad|>\n")

    class Processor:
        image_token = "<img>"

    assert to_dpo(ds, conversational=False, image_features=False, processor=Processor())[0]["prompt"][:6] == "<img>\n"
    with pytest.raises(ValueError, match="`image_token` should be a non-empty string"):
        to_dpo(ds, conversational=False, image_token="")
    text_only = datasets.Dataset.from_dict({"caption": ["A red bus."], "corrupted_caption": ["A blue bus."]})
    assert to_dpo(text_only, conversational=False)[0]["prompt"] == "Write a short caption for this image."


def test_exports_are_accepted_by_trl(tiny_llava, tmp_path):
    trl_data = pytest.importorskip("trl.data_utils")
    from PIL import Image

    from iccc.train.modeling import load_processor

    processor = load_processor(tiny_llava)
    Image.new("RGB", (24, 24), (200, 0, 0)).save(tmp_path / "a.png")
    ds = datasets.Dataset.from_dict({"caption": ["A red square."], "corrupted_caption": ["A blue square."],
                                     "image": [str(tmp_path / "a.png")], "prompt": ["Write a short caption."],
                                     "target": ["A red square."]})
    for conversational in (True, False):
        row = to_dpo(ds, conversational=conversational, processor=processor)[0]
        assert trl_data.is_conversational(row) is conversational
        text = trl_data.maybe_apply_chat_template(row, processor)
        encoded = processor(images=row["images"], text=text["prompt"])  # what TRL's DPO tokenisation calls
        assert len(encoded["input_ids"][0]) > 1
    if hasattr(processor, "image_token"):
        with pytest.raises(ValueError, match="tokens"):  # the old standard prompt: no image token
            processor(images=row["images"], text="Write a short caption for this image.")
    for fmt in ("prompt_completion", "messages"):
        row = to_sft(ds, format=fmt)[0]
        assert trl_data.is_conversational(row)
        rendered = trl_data.maybe_apply_chat_template(row, processor)
        assert "A red square." in (rendered.get("completion") or rendered.get("text"))
        assert row["images"][0].size == (24, 24)
    row = to_sft(ds, conversational=False, processor=processor)[0]
    assert not trl_data.is_conversational(row) and row["prompt"].startswith(processor.image_token)


def test_export_sft_from_a_build_and_from_captions(tmp_path, nlp):
    captions = write_jsonl(tmp_path / "c.jsonl", [{"caption": r["caption"], "image_id": r["image_id"]}
                                                  for r in iccc.sample_captions()[:20]] + [{"caption": None}])
    code, out, err = cli("export", "sft", captions, "-o", tmp_path / "s.jsonl", "-q")
    assert code == 0, err
    assert "Exported 20 of 21 rows" in out and "no_target 1" in out
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert rows[0]["prompt"][0]["role"] == "user" and rows[0]["completion"][0]["role"] == "assistant"
    code, out, err = cli("build", captions, "-o", tmp_path / "b", "-q")
    assert code == 0, err
    code, out, err = cli("export", "sft", tmp_path / "b", "-o", tmp_path / "m", "--sft-format", "messages", "-q")
    assert code == 0, err
    messages = datasets.load_from_disk(str(tmp_path / "m"))
    assert messages.column_names == ["messages"] and len(messages) == 20
    built = datasets.load_from_disk(str(tmp_path / "b"))
    assert [m[1]["content"][0]["text"] for m in messages["messages"]] == [t for t in built["target"] if t]


# ------------------------------------------------------------------ 10. on-the-fly builds show their columns
def test_transform_build_shows_the_columns_its_rows_have(nlp, tmp_path):
    ds = datasets.Dataset.from_list(iccc.sample_captions()[:30])
    fly = build_dataset(ds, mode="transform", p_correction=0.5, nlp=nlp)
    assert isinstance(fly, datasets.Dataset) and isinstance(fly, iccc.dataset.OnTheFlyDataset)
    assert fly.column_names == list(fly[0]) and list(fly.features) == fly.column_names
    for hidden in ("concepts", "parse_status", "_iccc_row"):
        assert hidden not in fly.column_names and hidden not in repr(fly)
    assert "prompt" in repr(fly) and fly.features["target"] == datasets.Value("string")
    assert fly["task"] == [r["task"] for r in fly]
    with pytest.raises(KeyError, match="concepts"):
        fly["concepts"]
    parts = fly.train_test_split(test_size=0.3, seed=0)
    assert isinstance(parts["test"], iccc.dataset.OnTheFlyDataset) and "task" in parts["test"].column_names
    assert parts["test"]["task"] == [r["task"] for r in parts["test"]]
    # without the build's transform it describes the stored table again
    assert "concepts" in fly.with_format(None).column_names and "prompt" not in fly.with_format(None).column_names
    iccc.dataset.set_epoch(fly, 1)
    assert fly.shuffle(seed=0).select(range(3)).column_names == fly.column_names


# ------------------------------------------------------------------ 11. group column default
def test_group_column_is_detected_in_python_as_in_the_cli(nlp):
    ds = datasets.Dataset.from_list(iccc.sample_captions())
    auto = build_dataset(ds, p_correction=1.0, nlp=nlp)
    explicit = build_dataset(ds, p_correction=1.0, group_column="image_id", nlp=nlp)
    assert auto.to_list() == explicit.to_list()
    off = build_dataset(ds, p_correction=1.0, group_column=None, nlp=nlp)
    assert off.column_names == explicit.column_names
    assert iccc.dataset.detect_group_column([ds]) == "image_id"
    with pytest.raises(TypeError, match='`group_column` should be a column name .*"auto" or None, got 3'):
        build_dataset(ds, group_column=3)


# ------------------------------------------------------------------ 12. add_concepts(caption_column=)
def test_add_concepts_takes_caption_column_and_the_old_name_warns(nlp):
    ds = datasets.Dataset.from_dict({"text": ["A red bus.", None]})
    new = iccc.add_concepts(ds, caption_column="text", nlp=nlp)
    with pytest.warns(DeprecationWarning, match="caption_column"):
        old = iccc.add_concepts(ds, column="text", nlp=nlp)
    assert new.to_list() == old.to_list() and new["parse_status"][:] == ["ok", "missing"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iccc.add_concepts(ds, caption_column="text", nlp=nlp)
    with pytest.raises(TypeError, match="disagree"):
        iccc.add_concepts(ds, caption_column="caption", column="text", nlp=nlp)


READ = {"rows": 0}


def _counted_rows():
    for row in iccc.sample_captions()[:40]:
        READ["rows"] += 1
        yield row


def test_streaming_build_returns_before_parsing(nlp):
    stream = datasets.IterableDataset.from_generator(_counted_rows)
    READ["rows"] = 0
    built = build_dataset(stream, p_correction=1.0, nlp=nlp, group_column="image_id")
    assert READ["rows"] == 0  # nothing read, nothing parsed yet
    rows = list(built)
    assert READ["rows"] > 0 and len(rows) == 40
    plain = build_dataset(datasets.Dataset.from_list(iccc.sample_captions()[:40]), p_correction=1.0, nlp=nlp,
                          group_column="image_id")
    assert [r["prompt"] for r in rows] == plain["prompt"][:]  # the same base, built later
    text_only = datasets.IterableDataset.from_generator(lambda: iter([{"caption": "Okay.", "image_id": 1}] * 5))
    lazy = build_dataset(text_only, p_correction=1.0, nlp=nlp)  # returns; the problem shows on reading
    with pytest.raises(Exception, match="has concepts to corrupt"):
        list(lazy)
