"""Calibrated Self-Rewarding end to end on tiny random models: ``iccc preferences`` on a tiny run (pairs that
``iccc train --objective dpo`` reads), ``iccc.train.self_reward`` for two rounds (records, checkpoints)."""

from __future__ import annotations

import argparse
import json

import pytest

COLOURS = {"red": (220, 30, 30), "blue": (30, 70, 225), "green": (30, 160, 40), "yellow": (235, 205, 0)}
PROMPT = "Caption:"
SAMPLING = dict(num_candidates=3, beams=1, keep_worst=1, max_sentences=2, max_sentence_tokens=4, max_new_tokens=8)


@pytest.fixture(scope="module")
def torch_stack():
    torch = pytest.importorskip("torch")
    for name in ("transformers", "peft", "accelerate", "PIL", "datasets"):
        pytest.importorskip(name, reason=f"self-rewarding needs {name}")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="module")
def images_data(torch_stack, tmp_path_factory):
    """Captioning rows over plain coloured squares, two rows per image (one image per image_id)."""
    import datasets
    from PIL import Image

    names = list(COLOURS)
    rows = [(i, names[i]) for i in range(4) for _ in range(2)]
    ds = datasets.Dataset.from_dict({
        "image": [Image.new("RGB", (32, 32), COLOURS[c]) for _, c in rows],
        "image_id": [i for i, _ in rows],
        "prompt": [PROMPT] * len(rows),
        "target": [f"a {c} square." for _, c in rows],
        "task": ["caption"] * len(rows),
    }).cast_column("image", datasets.Image())
    path = tmp_path_factory.mktemp("data") / "captions"
    ds.save_to_disk(str(path))
    return str(path)


@pytest.fixture(scope="module")
def run_dir(torch_stack, images_data, tmp_path_factory):
    """A tiny `iccc train` run (LoRA, two caption steps) from a random tiny LLaVA."""
    from iccc.train import TrainConfig, build_tiny_model, train

    texts = [PROMPT] + [f"a {c} square." for c in COLOURS]
    model = build_tiny_model("llava", tmp_path_factory.mktemp("tiny"), texts=texts)
    out = tmp_path_factory.mktemp("run") / "run"
    train(TrainConfig(model=model, data=images_data, output_dir=str(out), max_steps=2, per_device_batch_size=4,
                      save_steps=None, eval_split=None, lora_r=4))
    return str(out)


@pytest.fixture(scope="module")
def clip_dir(torch_stack, tmp_path_factory):
    from iccc.vision.tiny import build_tiny_dual_encoder

    texts = [f"a {c} square." for c in COLOURS]
    return str(build_tiny_dual_encoder("clip", tmp_path_factory.mktemp("clip"), texts=texts, image_size=32, seed=0))


def _cli(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def test_cli_preferences_writes_pairs_that_dpo_training_reads(run_dir, images_data, clip_dir, tmp_path, capsys):
    import datasets

    from iccc import _cli_preferences, _cli_train
    from iccc.train.dpo import message_text

    sampling = [f"--{k.replace('_', '-')}={v}" for k, v in SAMPLING.items()]
    code = _cli(_cli_preferences, ["--model", run_dir, "--data", images_data, "-o", str(tmp_path / "prefs"),
                                   "--embedder", clip_dir, *sampling])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Sampled 4 images with 'Caption:' (alpha 0.9, rank)" in printed and "Wrote" in printed
    pairs = datasets.load_from_disk(str(tmp_path / "prefs"))
    assert pairs.column_names == ["prompt", "chosen", "rejected", "images"]    # to_dpo's columns
    assert 0 < len(pairs) <= 4
    row = pairs[0]
    assert message_text(row["prompt"]) == PROMPT and message_text(row["chosen"]) != message_text(row["rejected"])
    assert row["images"][0].size == (32, 32)
    base = json.loads(open(f"{run_dir}/iccc_train_config.json").read())["model"]
    assert _cli(_cli_train, ["--objective", "dpo", "--model", base, "--data", str(tmp_path / "prefs"),
                             "-o", str(tmp_path / "dpo"), "--max-steps", "2", "--per-device-batch-size", "2",
                             "--save-steps", "none", "--lora-r", "4"]) == 0
    assert "Trained steps 1-2 of 2" in capsys.readouterr().out

    # without an embedder: likelihood only, said so; an explicit alpha > 0 is refused
    assert _cli(_cli_preferences, ["--model", run_dir, "--data", images_data, "-o", str(tmp_path / "prefs0"),
                                   "--limit", "2", *sampling]) == 0
    printed = capsys.readouterr().out
    assert "No --embedder: the reward is the model's likelihood alone (alpha 0)" in printed
    assert "Sampled 2 images" in printed and "(alpha 0, rank)" in printed
    with pytest.raises(ValueError, match="needs --embedder"):
        _cli(_cli_preferences, ["--model", run_dir, "--data", images_data, "-o", str(tmp_path / "p2"), "--alpha", "0.5"])
    with pytest.raises(FileExistsError, match="already exists"):
        _cli(_cli_preferences, ["--model", run_dir, "--data", images_data, "-o", str(tmp_path / "prefs")])


def test_preferences_is_a_registered_subcommand():
    from iccc.cli import build_parser

    args = build_parser().parse_args(["preferences", "--model", "m", "--data", "d", "-o", "o"])
    assert args.command == "preferences" and args.alpha is None and args.embedder is None


def test_self_reward_two_rounds_make_records_and_checkpoints(run_dir, images_data, clip_dir, tmp_path):
    import os

    from iccc.train import SelfRewardResult, TrainConfig, self_reward

    calls = []

    def eval_fn(model, processor):
        calls.append(type(model).__name__)
        return {"n": len(calls)}

    config = TrainConfig(model=run_dir, data=images_data, output_dir=str(tmp_path / "csr"), max_steps=2,
                         per_device_batch_size=2, save_steps=None, lora_r=4, learning_rate=1e-3)
    result = self_reward(config, iterations=2, embedder=clip_dir, alpha=0.9, sampling=SAMPLING, eval_fn=eval_fn,
                         log=lambda line: None)
    assert isinstance(result, SelfRewardResult)
    assert [r["iteration"] for r in result.records] == [0, 1, 2]
    assert [r["eval"] for r in result.records] == [{"n": 1}, {"n": 2}, {"n": 3}]
    for record in result.records[1:]:
        assert record["images"] == 4 and 0 < record["pairs"] <= 4
        assert record["reward_margin"] == pytest.approx(record["chosen_reward"] - record["rejected_reward"])
        assert record["reward_margin"] > 0
        assert record["dpo"]["steps"] == 2
        assert os.path.isfile(os.path.join(record["checkpoint_dir"], "trainer_state.json"))
        assert os.path.isfile(os.path.join(record["model_dir"], "config.json"))      # merged: a full checkpoint
    assert result.records[2]["model_dir"] == result.model_dir
    assert result.records[1]["model_dir"] != result.records[2]["model_dir"]
    saved = json.loads((tmp_path / "csr" / "self_reward.json").read_text())
    assert [r["iteration"] for r in saved] == [0, 1, 2]
    assert os.path.isdir(tmp_path / "csr" / "iteration-1" / "pairs")
    assert os.path.isdir(tmp_path / "csr" / "start-model")          # the run's adapter merged to start from


def test_self_reward_checks_its_arguments(run_dir, images_data, tmp_path):
    from iccc.train import TrainConfig, self_reward

    config = TrainConfig(model=run_dir, data=images_data, output_dir=str(tmp_path / "x"))
    with pytest.raises(ValueError, match=r"alpha=0.9 weighs an image-text score, but `embedder` is None"):
        self_reward(config, iterations=1)
    with pytest.raises(ValueError, match="`iterations` should be a positive int, got 0"):
        self_reward(config, iterations=0, alpha=0.0)
    with pytest.raises(ValueError, match=r"Unknown `sampling` option\(s\) \['beam'\]"):
        self_reward(config, alpha=0.0, sampling={"beam": 2})
    with pytest.raises(TypeError, match="`config` should be a TrainConfig"):
        self_reward({"model": run_dir}, alpha=0.0)
