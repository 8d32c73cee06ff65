"""``train(config)``: the fine-tuning loop (accelerate), checkpoints, resume, evaluation and saving.

Runs unchanged as ``python``, ``accelerate launch`` or ``torchrun``: the ``Accelerator`` picks up the
process group, shards each epoch's batches over the processes, and only the main process writes files
and evaluates. Data order is a permutation drawn from ``(seed, epoch)``, so a resumed run sees the same
batches as an uninterrupted one; checkpoints hold the trainable weights (the frozen base is reloaded
from ``model``), the optimizer, scheduler, RNG and step state.

``objective`` switches what a batch is and what it is scored by: ``"sft"`` (image + prompt + target
rows, the model's next-token loss) or ``"dpo"`` (TRL preference pairs, :mod:`iccc.train.dpo`); the
loop, checkpoints, resume and logging are the same for both.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field

from .config import CONFIG_FILE, TrainConfig

CHECKPOINT_DIR = "checkpoints"
_SCHEDULER_NAMES = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}


@dataclass
class TrainResult:
    """What ``train`` did: final step, per-step losses (from step 1, a resumed checkpoint's included; this
    call's own: ``run_losses``), evaluation and where things were written. ``step_metrics``: per optimizer
    step, the objective's other figures (dpo: ``chosen_reward``, ``rejected_reward``, ``reward_margin``,
    ``reward_accuracy``; empty for sft)."""

    output_dir: str
    global_step: int
    first_step: int
    total_steps: int
    losses: list = field(default_factory=list)
    step_metrics: list = field(default_factory=list)
    eval: dict = field(default_factory=dict)
    adapter_dir: str | None = None
    model_dir: str | None = None
    merged_dir: str | None = None
    checkpoint_dir: str | None = None
    seconds: float = 0.0
    world_size: int = 1
    model: object = field(default=None, repr=False, compare=False)
    processor: object = field(default=None, repr=False, compare=False)

    @property
    def run_losses(self) -> list:
        """The losses of the steps this call ran: ``losses`` also holds a resumed checkpoint's earlier ones."""
        ran = self.global_step - self.first_step
        return self.losses[max(len(self.losses) - ran, 0):] if ran > 0 else []


def find_checkpoint(output_dir, resume):
    """The checkpoint directory ``resume`` names (``"latest"``: the newest under ``output_dir``, or None)."""
    if resume != "latest":
        if not os.path.exists(os.path.join(resume, "trainer_state.json")):
            raise FileNotFoundError(f"`resume` {resume!r} is not a checkpoint directory (no trainer_state.json).")
        return resume
    root = os.path.join(output_dir, CHECKPOINT_DIR)
    steps = []
    if os.path.isdir(root):
        for name in os.listdir(root):
            m = re.fullmatch(r"step-(\d+)", name)
            if m and os.path.exists(os.path.join(root, name, "trainer_state.json")):
                steps.append((int(m.group(1)), name))
    return os.path.join(root, max(steps)[1]) if steps else None


def train(config: TrainConfig | None = None, **overrides) -> TrainResult:
    """Fine-tune ``config.model`` on ``config.data``; see ``TrainConfig`` for every option.

    Args:
        config: a ``TrainConfig``; keyword overrides replace its fields (or build one when it is None).

    Returns:
        A ``TrainResult``.

    Example::

        result = train(TrainConfig(model="tiny-llava", data="iccc_data", output_dir="out", max_steps=20))
        print(result.losses[-1], result.eval["correction_exact"])
    """
    if config is None:
        config = TrainConfig(**overrides)
    elif not isinstance(config, TrainConfig):
        raise TypeError(f"`config` should be a TrainConfig, got {type(config).__name__}.")
    elif overrides:
        config = dataclasses.replace(config, **overrides)
    cfg = config

    import numpy as np
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from transformers import get_scheduler

    from .data import Collator, RowDataset, load_splits
    from .evaluation import evaluate
    from .generation import device_dtype, to_device
    from .modeling import (
        is_seq2seq,
        load_model,
        load_processor,
        prepare_trainable,
        resolve_precision,
    )

    dpo = cfg.objective == "dpo"
    if dpo:
        from . import dpo as preference

    started = time.perf_counter()
    dtype, mixed = resolve_precision(cfg.precision)
    accelerator = Accelerator(mixed_precision=mixed, gradient_accumulation_steps=cfg.gradient_accumulation_steps,
                              log_with=cfg.log_with, project_dir=cfg.output_dir, cpu=_cpu_only_multiprocess(torch))
    main = accelerator.is_main_process
    out_dir = cfg.output_dir
    if main:
        os.makedirs(out_dir, exist_ok=True)
    checkpoint = find_checkpoint(out_dir, cfg.resume) if cfg.resume else None
    if cfg.resume == "latest" and checkpoint is None:
        accelerator.print(f"No checkpoint under {out_dir!r}; starting from scratch.")

    set_seed(cfg.seed)
    train_rows, eval_rows, base_dir = (preference.load_pair_splits if dpo else load_splits)(cfg)
    processor = load_processor(cfg.model, trust_remote_code=cfg.trust_remote_code)
    model = load_model(cfg.model, dtype=dtype, trust_remote_code=cfg.trust_remote_code)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = prepare_trainable(model, cfg)
    _, input_dtype = device_dtype(model)
    seq2seq = is_seq2seq(model)
    if dpo:
        reference = None if cfg.lora else preference.load_reference(cfg, dtype, accelerator.device)
        collate = preference.PairCollator(processor, max_length=cfg.max_length, seq2seq=seq2seq)
        pair_columns = dict(image_column=preference.pair_image_column(train_rows, cfg),
                            prompt_column=cfg.prompt_column, image_token=preference.image_token_of(processor))
    else:
        collate = Collator(processor, max_length=cfg.max_length, seq2seq=seq2seq)
    columns = dict(image_column=cfg.image_column, prompt_column=cfg.prompt_column, target_column=cfg.target_column)

    resample = _epoch_resampler(train_rows)

    def loader(epoch):
        if resample is not None:
            resample(epoch)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(train_rows))
        if dpo:
            rows = preference.PairDataset(train_rows, order, base_dir=base_dir, **pair_columns)
        else:
            rows = RowDataset(train_rows, order, base_dir=base_dir, **columns)
        dl = DataLoader(rows, batch_size=cfg.per_device_batch_size, shuffle=False, collate_fn=collate,
                        num_workers=cfg.num_workers)
        return accelerator.prepare_data_loader(dl)

    micro_per_epoch = len(loader(0))
    steps_per_epoch = max(math.ceil(micro_per_epoch / cfg.gradient_accumulation_steps), 1)
    total_steps = cfg.max_steps or max(math.ceil(cfg.epochs * steps_per_epoch), 1)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(_SCHEDULER_NAMES[cfg.lr_scheduler], optimizer, num_warmup_steps=cfg.warmup_steps,
                              num_training_steps=total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)

    global_step, epoch, skip, losses, step_metrics = 0, 0, 0, [], []
    if checkpoint is not None:
        global_step, epoch, skip, losses, step_metrics = _load_checkpoint(checkpoint, unwrapped, optimizer, scheduler,
                                                                          accelerator)
        accelerator.print(f"Resumed from {checkpoint} at step {global_step} (epoch {epoch}, batch {skip}).")
    first_step = global_step
    if main:
        cfg.save(os.path.join(out_dir, CONFIG_FILE))
    if cfg.log_with:
        accelerator.init_trackers("iccc_train", config={k: v for k, v in cfg.to_dict().items()
                                                        if isinstance(v, (int, float, str, bool))})
    log_path = os.path.join(out_dir, "log.jsonl")

    def log(record):
        if main:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({**record, "world_size": accelerator.num_processes}) + "\n")
        if cfg.log_with:
            accelerator.log({k: v for k, v in record.items() if isinstance(v, (int, float))}, step=global_step)

    embedder = None
    if main and eval_rows is not None and cfg.eval_embedder is not None:
        from ..vision import TransformersEmbedder

        embedder = TransformersEmbedder(cfg.eval_embedder, device=str(accelerator.device))

    def run_eval():
        metrics = {}
        if main and eval_rows is not None and dpo:
            metrics = preference.evaluate_pairs(
                unwrapped, eval_rows, processor=processor, beta=cfg.beta, label_smoothing=cfg.label_smoothing,
                batch_size=cfg.eval_batch_size, max_samples=cfg.eval_max_samples, max_length=cfg.max_length,
                reference=reference, prompt_column=cfg.prompt_column,
                image_column=preference.pair_image_column(eval_rows, cfg), base_dir=base_dir)
        elif main and eval_rows is not None:
            metrics = evaluate(unwrapped, eval_rows, processor=processor, batch_size=cfg.eval_batch_size,
                               max_new_tokens=cfg.max_new_tokens, max_samples=cfg.eval_max_samples,
                               max_length=cfg.max_length, task_column=cfg.task_column, base_dir=base_dir,
                               embedder=embedder, **columns)
        if metrics:
            shown = {k: v for k, v in metrics.items() if not k.endswith("examples")}
            log({"step": global_step, **shown})
            accelerator.print(f"eval step {global_step}: " + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
        accelerator.wait_for_everyone()
        model.train()
        return metrics

    def save(micro_in_epoch):
        state = {"global_step": global_step, "epoch": epoch, "micro_in_epoch": micro_in_epoch,
                 "total_steps": total_steps, "losses": losses, "step_metrics": step_metrics}
        if micro_in_epoch >= micro_per_epoch:
            state.update(epoch=epoch + 1, micro_in_epoch=0)
        return _save_checkpoint(out_dir, state, unwrapped, optimizer, scheduler, accelerator, cfg.save_total_limit)

    model.train()
    last_checkpoint, done = None, global_step >= total_steps
    window = []
    while not done:
        dl = loader(epoch)
        if skip >= len(dl):
            epoch, skip = epoch + 1, 0
            continue
        batches = accelerator.skip_first_batches(dl, skip) if skip else dl
        micro, skip, running, running_pairs = skip, 0, [], []
        for batch in batches:
            batch = to_device(batch, accelerator.device, input_dtype)
            with accelerator.accumulate(model):
                if dpo:
                    out = preference.pair_loss(model, batch, beta=cfg.beta, label_smoothing=cfg.label_smoothing,
                                               seq2seq=seq2seq, reference=reference, peft_model=unwrapped,
                                               reference_context=accelerator.autocast)
                    loss = out.loss
                    running_pairs.append(torch.stack([out.chosen_rewards.mean(), out.rejected_rewards.mean(),
                                                      out.accuracy]).float())
                else:
                    loss = model(**batch).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and cfg.max_grad_norm is not None:
                    accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            running.append(loss.detach().float())
            micro += 1
            if not accelerator.sync_gradients:
                continue
            scheduler.step()
            global_step += 1
            step_loss = accelerator.reduce(torch.stack(running).mean(), reduction="mean").item()
            running = []
            losses.append(step_loss)
            window.append(step_loss)
            if dpo:
                chosen, rejected, accuracy = accelerator.reduce(torch.stack(running_pairs).mean(0),
                                                                reduction="mean").tolist()
                running_pairs = []
                step_metrics.append({"chosen_reward": chosen, "rejected_reward": rejected,
                                     "reward_margin": chosen - rejected, "reward_accuracy": accuracy})
            if global_step % cfg.logging_steps == 0 or global_step == total_steps:
                lr = scheduler.get_last_lr()[0]
                mean = sum(window) / len(window)
                extra = {}
                if dpo:
                    recent = step_metrics[-len(window):]
                    extra = {k: sum(m[k] for m in recent) / len(recent) for k in recent[0]}
                window = []
                log({"step": global_step, "epoch": epoch, "loss": mean, "lr": lr, **extra})
                accelerator.print(f"step {global_step}/{total_steps} loss {mean:.4f} lr {lr:.3g}")
            if cfg.eval_steps and global_step % cfg.eval_steps == 0 and global_step < total_steps:
                run_eval()
            if global_step >= total_steps:
                done = True
                last_checkpoint = save(micro)
                break
            if cfg.save_steps and global_step % cfg.save_steps == 0:
                last_checkpoint = save(micro)
        else:
            epoch += 1

    if last_checkpoint is None and checkpoint is not None:
        last_checkpoint = checkpoint
    result = TrainResult(output_dir=out_dir, global_step=global_step, first_step=first_step, total_steps=total_steps,
                         losses=losses, step_metrics=step_metrics, checkpoint_dir=last_checkpoint,
                         world_size=accelerator.num_processes)
    accelerator.wait_for_everyone()
    if main:
        target = os.path.join(out_dir, "adapter" if cfg.lora else "model")
        unwrapped.save_pretrained(target)
        processor.save_pretrained(target)
        processor.save_pretrained(out_dir)
        if cfg.lora:
            result.adapter_dir = target
        else:
            result.model_dir = target
    result.eval = run_eval() if eval_rows is not None else {}
    if main:
        if result.eval:
            with open(os.path.join(out_dir, "eval.json"), "w", encoding="utf-8") as f:
                json.dump(result.eval, f, indent=2)
        if cfg.lora and cfg.merge_adapters:
            unwrapped = unwrapped.merge_and_unload()
            merged = unwrapped.to(dtype)
            result.merged_dir = os.path.join(out_dir, "merged")
            merged.save_pretrained(result.merged_dir)
            processor.save_pretrained(result.merged_dir)
    accelerator.wait_for_everyone()
    if cfg.log_with:
        accelerator.end_training()
    result.seconds = time.perf_counter() - started
    unwrapped.eval()
    result.model, result.processor = unwrapped, processor
    return result


def _epoch_resampler(ds):
    """``set_epoch`` for an on-the-fly ``iccc.build_dataset(..., mode="transform")`` build (new corruptions
    every epoch, deterministic per (seed, epoch, row)); None for a fixed dataset."""
    from ..dataset import find_builder, set_epoch

    if find_builder(ds) is None:
        return None
    return lambda epoch: set_epoch(ds, epoch)


def _cpu_only_multiprocess(torch) -> bool:
    """Under torchrun on a machine without GPUs accelerate only forms the (gloo) process group with cpu=True."""
    world = max(int(os.environ.get(k, "1") or 1) for k in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))
    xpu = getattr(torch, "xpu", None)
    return world > 1 and not torch.cuda.is_available() and not (xpu is not None and xpu.is_available())


def _save_checkpoint(out_dir, state, model, optimizer, scheduler, accelerator, keep):
    import torch

    from .modeling import trainable_state

    path = os.path.join(out_dir, CHECKPOINT_DIR, f"step-{state['global_step']:07d}")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        tmp = path + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        torch.save(trainable_state(model), os.path.join(tmp, "trainable.pt"))
        torch.save(optimizer.state_dict(), os.path.join(tmp, "optimizer.pt"))
        torch.save(scheduler.state_dict(), os.path.join(tmp, "scheduler.pt"))
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        if accelerator.scaler is not None:
            rng["scaler"] = accelerator.scaler.state_dict()
        torch.save(rng, os.path.join(tmp, "rng.pt"))
        with open(os.path.join(tmp, "trainer_state.json"), "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
        if keep:
            root = os.path.join(out_dir, CHECKPOINT_DIR)
            old = sorted(n for n in os.listdir(root) if re.fullmatch(r"step-\d+", n))[:-keep]
            for name in old:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    accelerator.wait_for_everyone()
    return path


def _load_checkpoint(path, model, optimizer, scheduler, accelerator):
    import torch

    with open(os.path.join(path, "trainer_state.json"), encoding="utf-8") as f:
        state = json.load(f)
    weights = torch.load(os.path.join(path, "trainable.pt"), map_location="cpu")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    if set(weights) != trainable:
        missing, extra = sorted(trainable - set(weights))[:5], sorted(set(weights) - trainable)[:5]
        raise ValueError(f"Checkpoint {path!r} does not match the trainable parameters of this run (missing "
                         f"{missing}, unexpected {extra}); resume with the same model and LoRA options.")
    model.load_state_dict(weights, strict=False)
    optimizer.load_state_dict(torch.load(os.path.join(path, "optimizer.pt"), map_location="cpu"))
    scheduler.load_state_dict(torch.load(os.path.join(path, "scheduler.pt"), map_location="cpu"))
    rng = torch.load(os.path.join(path, "rng.pt"), map_location="cpu", weights_only=False)
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if "scaler" in rng and accelerator.scaler is not None:
        accelerator.scaler.load_state_dict(rng["scaler"])
    return (state["global_step"], state["epoch"], state["micro_in_epoch"], list(state.get("losses", [])),
            list(state.get("step_metrics", [])))
