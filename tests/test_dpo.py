"""DPO (iccc.train.dpo, ``iccc train --objective dpo``): the loss by hand, sequence log-probs on every tiny
architecture, the disabled adapter as reference, training raises the margin, exact resume, the CLI."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math

import pytest

from iccc.train.config import TrainConfig

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30), "yellow": (230, 230, 20)}
PROMPT = "Write a short caption for this image."


def captions(n=4):
    names = list(COLOURS)
    return [(names[i % 4], f"a {names[i % 4]} square", f"a {names[(i + 1) % 4]} square") for i in range(n)]


@pytest.fixture(scope="module")
def torch_stack():
    torch = pytest.importorskip("torch")
    for name in ("transformers", "peft", "accelerate", "PIL", "datasets"):
        pytest.importorskip(name, reason=f"DPO training needs {name}")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="module")
def source(torch_stack):
    """Captions with a corrupted twin over plain coloured images (what ``to_dpo`` turns into pairs)."""
    import datasets
    from PIL import Image

    rows = captions()
    return datasets.Dataset.from_dict({
        "image": [Image.new("RGB", (24, 24), COLOURS[c]) for c, _, _ in rows],
        "caption": [good for _, good, _ in rows],
        "corrupted_caption": [bad for _, _, bad in rows],
    }).cast_column("image", datasets.Image())


@pytest.fixture(scope="module")
def pairs(source):
    from iccc.dataset import to_dpo

    return to_dpo(source, prompt=PROMPT)


@pytest.fixture(scope="module")
def tiny(torch_stack, tmp_path_factory):
    from iccc.train import build_tiny_model

    texts = [PROMPT] + [t for _, good, bad in captions() for t in (good, bad)]
    cache = {}

    def get(arch):
        if arch not in cache:
            cache[arch] = build_tiny_model(arch, tmp_path_factory.mktemp(f"tiny_{arch}"), texts=texts)
        return cache[arch]

    return get


def dpo_config(model, data, out, **kw):
    base = dict(model=model, data=data, output_dir=str(out), objective="dpo", max_steps=8, per_device_batch_size=4,
                learning_rate=1e-2, lora_dropout=0.0, full_finetune_modules=["lm_head"], logging_steps=2,
                save_steps=None, eval_batch_size=4, beta=0.1)
    base.update(kw)
    return TrainConfig(**base)


# --------------------------------------------------------------------------------------- the loss
def log_sigmoid(x):
    return -math.log1p(math.exp(-x))


def test_dpo_loss_equals_a_hand_computation(torch_stack):
    import torch

    from iccc.train.dpo import dpo_loss

    pc = torch.tensor([-10.0, -12.0, -7.0], requires_grad=True)
    pr = torch.tensor([-11.0, -9.0, -7.5])
    rc = torch.tensor([-10.5, -11.0, -8.0])
    rr = torch.tensor([-10.0, -10.0, -7.0])
    beta, eps = 0.5, 0.2
    # margins beta * ((pc - pr) - (rc - rr)): 0.5 * (1 + 0.5) = 0.75, 0.5 * (-3 + 1) = -1, 0.5 * (0.5 + 1) = 0.75
    margins = [0.75, -1.0, 0.75]
    expected = sum(-(1 - eps) * log_sigmoid(m) - eps * log_sigmoid(-m) for m in margins) / 3
    out = dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=eps)
    assert out.loss.item() == pytest.approx(expected, rel=1e-6)
    assert out.chosen_rewards.tolist() == pytest.approx([0.25, -0.5, 0.5])       # beta * (pc - rc)
    assert out.rejected_rewards.tolist() == pytest.approx([-0.5, 0.5, -0.25])    # beta * (pr - rr)
    assert out.accuracy.item() == pytest.approx(2 / 3)
    assert not out.chosen_rewards.requires_grad
    # d loss / d pc_i = -beta / n * ((1 - eps) * sigmoid(-m_i) - eps * sigmoid(m_i))
    out.loss.backward()

    def sigmoid(x):
        return 1 / (1 + math.exp(-x))

    grad = [-beta / 3 * ((1 - eps) * sigmoid(-m) - eps * sigmoid(m)) for m in margins]
    assert pc.grad.tolist() == pytest.approx(grad, rel=1e-5)
    # plain DPO: label_smoothing 0; equal policy and reference: log 2 whatever beta
    plain = dpo_loss([-1.0], [-2.0], [-1.5], [-1.5], beta=0.5)
    assert plain.loss.item() == pytest.approx(-log_sigmoid(0.5))
    assert dpo_loss([-3.0, -1.0], [-2.0, -4.0], [-3.0, -1.0], [-2.0, -4.0], beta=2.0).loss.item() == \
        pytest.approx(math.log(2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(beta=0.0), "`beta` should be a positive number, got 0.0."),
    (dict(beta=True), "`beta` should be a positive number, got True."),
    (dict(label_smoothing=0.5), "`label_smoothing` should be a number in [0, 0.5), got 0.5."),
])
def test_dpo_loss_rejects_bad_options(torch_stack, kwargs, message):
    from iccc.train.dpo import dpo_loss

    with pytest.raises(ValueError) as err:
        dpo_loss([-1.0], [-2.0], [-1.0], [-2.0], **kwargs)
    assert message in str(err.value)


def test_dpo_loss_rejects_mismatched_shapes(torch_stack):
    from iccc.train.dpo import dpo_loss

    with pytest.raises(ValueError, match=r"one shape, got policy_chosen_logps \(2,\), .*ref_rejected_logps \(1,\)"):
        dpo_loss([-1.0, -2.0], [-2.0, -3.0], [-1.0, -2.0], [-2.0])
    with pytest.raises(ValueError, match=r"`policy_chosen_logps` should be a non-empty 1-D tensor"):
        dpo_loss([[-1.0]], [-2.0], [-1.0], [-2.0])


@pytest.mark.parametrize("field, value, message", [
    ("objective", "ppo", "`objective` should be one of 'sft', 'dpo', got 'ppo'."),
    ("beta", 0, "`beta` should be a number in (0, inf], got 0."),
    ("label_smoothing", 0.5, "`label_smoothing` should be a number in [0, 0.5), got 0.5."),
    ("eval_embedder", "clip", "`eval_embedder` scores generated captions (objective 'sft')"),
])
def test_config_validates_the_dpo_options(field, value, message):
    with pytest.raises(ValueError) as err:
        TrainConfig(**{"model": "m", "data": "d", "output_dir": "o", "objective": "dpo", field: value})
    assert message in str(err.value)


# --------------------------------------------------------------------------------------- rows
def test_both_to_dpo_forms_become_the_same_rows(source, pairs):
    from iccc.dataset import to_dpo
    from iccc.train.dpo import PairDataset, message_text

    standard = to_dpo(source, prompt=PROMPT, conversational=False)
    assert standard[0]["prompt"] == "<image>\n" + PROMPT and message_text(pairs[0]["prompt"]) == PROMPT
    for ds in (pairs, standard):
        row = PairDataset(ds, image_token="<image>")[1]
        assert (row["prompt"], row["chosen"], row["rejected"]) == (PROMPT, "a blue square", "a green square")
        assert row["image"].mode == "RGB" and row["image"].getpixel((0, 0)) == COLOURS["blue"]
    with pytest.raises(TypeError, match="`prompt` should be a string or a non-empty list of messages"):
        message_text([])


def test_pairs_without_the_dpo_columns_are_refused(torch_stack, tiny, tmp_path):
    import datasets

    from iccc.train import train

    bad = datasets.Dataset.from_dict({"image": ["x.png"], "prompt": ["p"], "target": ["t"]})
    with pytest.raises(KeyError, match=r"DPO pairs lack column\(s\) \['chosen', 'rejected'\]"):
        train(dpo_config(tiny("llava"), bad, tmp_path / "o"))
    no_image = datasets.Dataset.from_dict({"prompt": ["p"], "chosen": ["a"], "rejected": ["b"]})
    with pytest.raises(KeyError, match="DPO pairs lack an image column"):
        train(dpo_config(tiny("llava"), no_image, tmp_path / "o"))


# --------------------------------------------------------------------------------------- log-probs
def batch_for(processor, pairs, seq2seq=False):
    from iccc.train.dpo import PairCollator, PairDataset, image_token_of

    rows = PairDataset(pairs, image_token=image_token_of(processor))
    return PairCollator(processor, seq2seq=seq2seq)([rows[i] for i in range(len(rows))])


def check_logps_match_the_models_loss(model, processor, pairs):
    """Summed answer log-probs equal minus the model's own mean token loss times the answer length."""
    import torch

    from iccc.train.dpo import sequence_logps

    batch = batch_for(processor, pairs)
    model.eval()
    with torch.no_grad():
        logps = sequence_logps(model, batch)
        assert logps.shape == (2 * len(pairs),) and (logps < 0).all()
        for i in range(len(logps)):
            row = {k: v[i:i + 1] for k, v in batch.items() if k not in ("pixel_values", "image_grid_thw")}
            if "image_grid_thw" in batch:  # Qwen2-VL: patches of all images in one tensor
                per = batch["pixel_values"].shape[0] // batch["image_grid_thw"].shape[0]
                row["pixel_values"] = batch["pixel_values"][i * per:(i + 1) * per]
                row["image_grid_thw"] = batch["image_grid_thw"][i:i + 1]
            else:
                row["pixel_values"] = batch["pixel_values"][i:i + 1]
            n = int((row["labels"][:, 1:] != -100).sum())
            assert float(logps[i]) == pytest.approx(-float(model(**row).loss) * n, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("arch", ["blip2", "instructblip", "llava"])
def test_sequence_logps_follow_the_architectures_own_loss(arch, tiny, pairs):
    from iccc.train.modeling import load_model, load_processor

    check_logps_match_the_models_loss(load_model(tiny(arch)), load_processor(tiny(arch)), pairs.select(range(2)))


def test_sequence_logps_on_qwen2_vl(torch_stack, pairs):
    """Qwen2-VL (image_grid_thw, M-RoPE), through a processor assembled without torchvision."""
    from test_train import qwen_processor_without_torchvision

    from iccc.train.tiny import qwen2_vl_parts

    model, tokenizer, image_processor = qwen2_vl_parts([PROMPT] + [t for _, g, b in captions() for t in (g, b)])
    check_logps_match_the_models_loss(model, qwen_processor_without_torchvision(tokenizer, image_processor),
                                      pairs.select(range(2)))


def tiny_blip2_t5(blip2_dir):
    """``(model, processor)``: a tiny random BLIP-2 whose language model is a T5 (encoder-decoder, as
    BLIP-2 Flan-T5), sharing the tokenizer, vision and Q-Former sizes of the tiny BLIP-2 at ``blip2_dir``."""
    import torch
    import transformers as tf

    from iccc.train.modeling import load_processor

    processor = load_processor(blip2_dir)
    tok = processor.tokenizer
    source = tf.AutoConfig.from_pretrained(blip2_dir)
    text = tf.T5Config(vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                       num_heads=2, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                       decoder_start_token_id=tok.pad_token_id)
    config = tf.Blip2Config(vision_config=source.vision_config.to_dict(), qformer_config=source.qformer_config.to_dict(),
                            text_config=text.to_dict(), num_query_tokens=source.num_query_tokens,
                            image_token_index=source.image_token_index)
    torch.manual_seed(0)
    model = tf.Blip2ForConditionalGeneration(config).eval()
    for name in ("pad_token_id", "decoder_start_token_id"):
        setattr(model.generation_config, name, tok.pad_token_id)
    model.generation_config.eos_token_id = tok.eos_token_id
    return model, processor


def test_sequence_logps_on_an_encoder_decoder_language_model(tiny, pairs):
    import torch

    from iccc.train.dpo import sequence_logps
    from iccc.train.modeling import is_seq2seq

    model, processor = tiny_blip2_t5(tiny("blip2"))
    assert is_seq2seq(model)
    batch = batch_for(processor, pairs.select(range(2)), seq2seq=True)
    with torch.no_grad():
        logps = sequence_logps(model, batch, seq2seq=True)
        for i in range(len(logps)):
            row = {k: v[i:i + 1] for k, v in batch.items()}
            n = int((row["labels"] != -100).sum())
            assert float(logps[i]) == pytest.approx(-float(model(**row).loss) * n, rel=1e-4, abs=1e-4)


def test_the_disabled_adapter_is_the_starting_model(tiny, pairs, tmp_path):
    import torch

    from iccc.train.dpo import pair_loss, reference_logps, sequence_logps
    from iccc.train.modeling import load_model, load_processor, prepare_trainable

    processor = load_processor(tiny("llava"))
    batch = batch_for(processor, pairs)
    base = load_model(tiny("llava")).eval()
    with torch.no_grad():
        start = sequence_logps(base, batch)
    model = prepare_trainable(load_model(tiny("llava")), dpo_config(tiny("llava"), pairs, tmp_path))
    model.train()
    # LoRA starts as the identity (B = 0) and lm_head's trained copy as the original: the loss is log 2
    assert pair_loss(model, batch, beta=0.1).loss.item() == pytest.approx(math.log(2), abs=1e-6)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    policy = sequence_logps(model, batch)
    reference = reference_logps(model, batch)
    assert model.training                                     # put back in training mode
    assert not reference.requires_grad and policy.requires_grad
    assert torch.allclose(reference, start, atol=1e-5)        # adapter and the lm_head copy both switched off
    assert not torch.allclose(policy, start, atol=1e-3)
    with pytest.raises(TypeError, match="has no disable_adapter"):
        reference_logps(base, batch)


# --------------------------------------------------------------------------------------- training
@pytest.mark.slow
def test_dpo_steps_raise_the_chosen_over_rejected_margin(tiny, pairs, tmp_path):
    from iccc.train import train
    from iccc.train.dpo import evaluate_pairs

    result = train(dpo_config(tiny("llava"), pairs, tmp_path / "o", max_steps=8, eval_fraction=0.0))
    assert result.losses[0] == pytest.approx(math.log(2), abs=1e-5)   # policy == reference before step 1
    assert result.losses[-1] < result.losses[0] - 0.05, result.losses
    assert len(result.step_metrics) == 8
    first, last = result.step_metrics[0], result.step_metrics[-1]
    assert first["reward_margin"] == pytest.approx(0.0, abs=1e-5)
    assert last["reward_margin"] > 0.1 and last["reward_accuracy"] == 1.0
    assert last["reward_margin"] == pytest.approx(last["chosen_reward"] - last["rejected_reward"])
    after = evaluate_pairs(result.model, pairs, processor=result.processor, beta=0.1)
    assert after["n_pairs"] == 4 and after["reward_accuracy"] == 1.0 and after["reward_margin"] > 0.1
    assert after["dpo_loss"] < math.log(2) - 0.05
    logged = [json.loads(line) for line in (tmp_path / "o" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [2, 4, 6, 8]
    assert all({"chosen_reward", "rejected_reward", "reward_margin", "reward_accuracy"} <= set(r) for r in logged)
    saved = json.loads((tmp_path / "o" / "iccc_train_config.json").read_text())
    assert (saved["objective"], saved["beta"]) == ("dpo", 0.1)


@pytest.mark.slow
def test_dpo_without_lora_uses_a_frozen_copy(tiny, pairs, tmp_path):
    from iccc.train import train

    result = train(dpo_config(tiny("blip2"), pairs, tmp_path / "f", lora=False, lora_dropout=0.0,
                              full_finetune_modules=["language_projection"], max_steps=4, learning_rate=5e-3))
    # BLIP-2's OPT has dropout in training mode, so the first loss is log 2 only up to that noise
    assert result.losses[0] == pytest.approx(math.log(2), abs=0.05)
    assert result.step_metrics[-1]["reward_margin"] > result.step_metrics[0]["reward_margin"]
    assert {n for n, p in result.model.named_parameters() if p.requires_grad} == \
        {"language_projection.weight", "language_projection.bias"}


@pytest.mark.slow
def test_dpo_resume_is_exact(tiny, pairs, tmp_path):
    from iccc.train import train

    common = dict(max_steps=6, per_device_batch_size=1, gradient_accumulation_steps=2, lr_scheduler="constant",
                  learning_rate=5e-3, save_steps=3, eval_split=None)
    full = train(dpo_config(tiny("llava"), pairs, tmp_path / "a", **common))
    ckpt = tmp_path / "a" / "checkpoints" / "step-0000003"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and len(state["step_metrics"]) == 3
    resumed = train(dpo_config(tiny("llava"), pairs, tmp_path / "b", resume=str(ckpt), **common))
    assert (resumed.first_step, resumed.global_step) == (3, 6)
    assert resumed.losses[:3] == full.losses[:3] and resumed.step_metrics[:3] == full.step_metrics[:3]
    assert resumed.losses[3:] == pytest.approx(full.losses[3:], rel=1e-4, abs=1e-5)
    for a, b in zip(resumed.step_metrics[3:], full.step_metrics[3:]):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-5)


@pytest.mark.slow
def test_cli_train_objective_dpo(tiny, pairs, tmp_path, capsys):
    import datasets

    from iccc import _cli_train

    data_dir = tmp_path / "pairs"
    datasets.DatasetDict(train=pairs, validation=pairs).save_to_disk(str(data_dir))
    parser = argparse.ArgumentParser()
    _cli_train.add_arguments(parser)
    args = parser.parse_args(["--objective", "dpo", "--model", tiny("llava"), "--data", str(data_dir),
                              "-o", str(tmp_path / "o"), "--max-steps", "4", "--per-device-batch-size", "4",
                              "--learning-rate", "1e-2", "--beta", "0.2", "--label-smoothing", "0.1",
                              "--save-steps", "none"])
    assert _cli_train.run(args) == 0
    printed = capsys.readouterr().out
    assert "Trained steps 1-4 of 4" in printed and "Reward margin 0.0000 ->" in printed
    assert "reward_accuracy" in printed
    saved = json.loads((tmp_path / "o" / "eval.json").read_text())
    assert saved["n_pairs"] == 4 and saved["reward_margin"] > 0
    config = json.loads((tmp_path / "o" / "iccc_train_config.json").read_text())
    assert (config["objective"], config["beta"], config["label_smoothing"]) == ("dpo", 0.2, 0.1)


# --------------------------------------------------------------------------------------- two processes
RUNNER = """
import json, os, sys

import datasets

from iccc.train import TrainConfig, train

model_dir, data_dir, out_dir, record = sys.argv[1:5]
result = train(TrainConfig(model=model_dir, data=datasets.load_from_disk(data_dir), output_dir=out_dir,
                           objective="dpo", lora_r=4, lora_dropout=0.0, learning_rate=1e-2, per_device_batch_size=2,
                           epochs=2.0, logging_steps=1, save_steps=None, eval_batch_size=4, seed=0))
import torch.distributed as dist

with open(record + os.environ["RANK"] + ".json", "w") as f:
    json.dump({"world_size": dist.get_world_size(), "result_world_size": result.world_size,
               "global_step": result.global_step, "losses": result.losses, "step_metrics": result.step_metrics,
               "eval": result.eval}, f)
"""


@pytest.mark.slow
def test_dpo_in_two_processes(tiny, source, tmp_path):
    """Two CPU processes (gloo, torchrun): each takes half the pairs, the figures are reduced over both."""
    import os
    import subprocess
    import sys

    import datasets
    import torch.distributed as dist

    from iccc.dataset import to_dpo

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch was built without the gloo backend of torch.distributed")
    pairs = to_dpo(datasets.concatenate_datasets([source, source]), prompt=PROMPT)     # 8 pairs
    datasets.DatasetDict(train=pairs, validation=pairs.select(range(4))).save_to_disk(str(tmp_path / "pairs"))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(runner),
           tiny("llava"), str(tmp_path / "pairs"), str(tmp_path / "out"), str(tmp_path / "rank")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"torchrun failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    records = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in records] == [r["result_world_size"] for r in records] == [2, 2]
    # 8 pairs, 2 per batch per process, 2 processes, 2 epochs: 4 optimizer steps
    assert [r["global_step"] for r in records] == [4, 4]
    assert records[0]["losses"] == pytest.approx(records[1]["losses"])
    assert records[0]["step_metrics"] == records[1]["step_metrics"]
    assert records[0]["losses"][0] == pytest.approx(math.log(2), abs=1e-5)
    assert records[0]["step_metrics"][-1]["reward_margin"] > records[0]["step_metrics"][0]["reward_margin"]
    assert records[0]["eval"]["n_pairs"] == 4 and records[1]["eval"] == {}
