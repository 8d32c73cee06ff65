"""Two-process CPU training (gloo) through ``torchrun``: both ranks train on disjoint shards of the data.

The runner script below is what a user would launch; it records, per rank, the world size it ran in,
which training prompts its data loader fetched (through a pass-through ``set_transform`` on the train
split, so nothing of the training code is replaced) and what ``train`` returned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

RUNNER = textwrap.dedent(
    """
    import json, os, sys

    import datasets

    from iccc.train import TrainConfig, train

    model_dir, data_dir, out_dir, record_dir = sys.argv[1:5]
    rank = int(os.environ["RANK"])
    seen = []

    def record(batch):  # pass-through: notes which training rows this process fetched
        seen.extend(batch["prompt"])
        return batch

    data = datasets.load_from_disk(data_dir)
    data["train"].set_transform(record)
    result = train(TrainConfig(model=model_dir, data=data, output_dir=out_dir, lora_r=4, learning_rate=5e-3,
                               per_device_batch_size=2, epochs=1.0, logging_steps=1, save_steps=None,
                               eval_max_samples=2, max_new_tokens=4, seed=0))
    import torch.distributed as dist

    world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
    backend = str(dist.get_backend_config()) if world > 1 else None
    with open(os.path.join(record_dir, f"rank{rank}.json"), "w") as f:
        json.dump({"rank": rank, "world_size": world, "backend": backend, "seen": seen,
                   "result_world_size": result.world_size, "global_step": result.global_step, "total_steps": result.total_steps,
                   "losses": result.losses, "eval": {k: v for k, v in result.eval.items() if k != "examples"},
                   "adapter_dir": result.adapter_dir, "checkpoint_dir": result.checkpoint_dir}, f)
    """
)

N_TRAIN = 16  # 8 batches of 2: 4 per process
COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 30), "yellow": (230, 230, 20)}


@pytest.fixture(scope="module")
def stack():
    for name in ("torch", "transformers", "peft", "accelerate", "datasets", "PIL"):
        pytest.importorskip(name, reason=f"distributed training needs {name}")
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch was built without the gloo backend of torch.distributed")


def _rows(n, start=0):
    """Correction and caption rows over plain coloured images, every prompt distinct."""
    from PIL import Image

    names = list(COLOURS)
    out = {"image": [], "prompt": [], "target": [], "task": []}
    for i in range(start, start + n):
        colour, wrong = names[i % 4], names[(i + 1) % 4]
        out["image"].append(Image.new("RGB", (32, 32), COLOURS[colour]))
        if i % 2 == 0:
            out["prompt"].append(f'Row {i}. Is this caption correct? "a {wrong} square"')
            out["target"].append(f'"{wrong}" should be "{colour}".')
            out["task"].append("correction")
        else:
            out["prompt"].append(f"Row {i}. Write a short caption for this image.")
            out["target"].append(f"a {colour} square")
            out["task"].append("caption")
    return out


@pytest.fixture(scope="module")
def launched(stack, tmp_path_factory):
    """Run the two-process job once; returns ``(records by rank, paths)``."""
    import datasets

    from iccc.train import build_tiny_model

    root = tmp_path_factory.mktemp("ddp")
    train_rows, eval_rows = _rows(N_TRAIN), _rows(4, start=N_TRAIN)
    data = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict(train_rows).cast_column("image", datasets.Image()),
        "validation": datasets.Dataset.from_dict(eval_rows).cast_column("image", datasets.Image()),
    })
    data.save_to_disk(str(root / "data"))
    model_dir = build_tiny_model("llava", root / "model", texts=train_rows["prompt"] + train_rows["target"])
    runner = root / "runner.py"
    runner.write_text(RUNNER)
    (root / "records").mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(runner),
           str(model_dir), str(root / "data"), str(root / "out"), str(root / "records")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"torchrun failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    records = {}
    for rank in (0, 1):
        path = root / "records" / f"rank{rank}.json"
        assert path.exists(), f"rank {rank} wrote no record:\n{proc.stderr[-3000:]}"
        records[rank] = json.loads(path.read_text())
    return records, root, train_rows


def test_both_ranks_run_in_one_gloo_group(launched):
    records, _, _ = launched
    assert [records[r]["world_size"] for r in (0, 1)] == [2, 2]
    assert [records[r]["result_world_size"] for r in (0, 1)] == [2, 2]
    assert all("gloo" in records[r]["backend"] for r in (0, 1)), records[0]["backend"]


def test_each_rank_trains_on_its_own_shard(launched):
    records, _, train_rows = launched
    seen0, seen1 = set(records[0]["seen"]), set(records[1]["seen"])
    assert seen0 and seen1
    assert not seen0 & seen1, "both processes fetched the same training rows"
    assert seen0 | seen1 == set(train_rows["prompt"])
    assert len(records[0]["seen"]) == len(records[1]["seen"]) == N_TRAIN // 2


def test_steps_follow_the_sharding(launched):
    records, _, _ = launched
    # 16 rows, 2 per batch per process, 2 processes: 4 optimizer steps per epoch (a single process takes 8).
    for r in (0, 1):
        assert records[r]["global_step"] == records[r]["total_steps"] == N_TRAIN // (2 * 2)
    # The logged loss is reduced over the processes, so both report the same numbers.
    assert records[0]["losses"] == pytest.approx(records[1]["losses"])
    assert len(records[0]["losses"]) == N_TRAIN // 4


def test_only_the_main_process_evaluates_and_writes(launched):
    records, root, _ = launched
    assert records[0]["eval"]["n_correction"] == 2
    assert records[1]["eval"] == {}
    log = [json.loads(line) for line in (root / "out" / "log.jsonl").read_text().splitlines()]
    assert [rec["step"] for rec in log if "loss" in rec] == [1, 2, 3, 4]  # one line per step, not two
    assert {rec["world_size"] for rec in log} == {2}


def test_saved_adapter_loads_with_the_trained_weights(launched):
    import torch

    from iccc.train import load_trained

    records, root, _ = launched
    model, processor = load_trained(root / "out", device="cpu")
    assert records[0]["adapter_dir"] and os.path.isdir(records[0]["adapter_dir"])
    saved = torch.load(os.path.join(records[0]["checkpoint_dir"], "trainable.pt"), map_location="cpu")
    params = dict(model.named_parameters())
    lora_b = [name for name in saved if "lora_B" in name]
    assert lora_b, "the checkpoint holds no LoRA weights"
    for name in lora_b:
        assert torch.equal(params[name].detach().cpu(), saved[name]), name
    # LoRA B starts at zero: non-zero weights show the optimizer steps reached the saved adapter.
    assert any(saved[name].abs().sum() > 0 for name in lora_b)
    assert processor.tokenizer is not None
