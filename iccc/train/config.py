"""``TrainConfig``: every option of ``iccc train``, with help text and validation (no heavy imports)."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from ..dataset import CORRECTION_PROMPTS

#: The correction prompt ``iccc correct`` uses by default: the builder's first phrasing.
DEFAULT_CORRECTION_TEMPLATE = CORRECTION_PROMPTS[0]
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
SCHEDULERS = ("linear", "cosine", "constant")
OBJECTIVES = ("sft", "dpo")
CONFIG_FILE = "iccc_train_config.json"


def _help(text: str, **extra) -> dict:
    return {"help": text, **extra}


@dataclass
class TrainConfig:
    """Options of one fine-tuning run; fields carry help text shared with ``iccc train --help``.

    Example:
        >>> cfg = TrainConfig(model="tiny", data="data", output_dir="out", max_steps=5)
        >>> cfg.lora, cfg.precision
        (True, 'auto')
        >>> TrainConfig(model="tiny", data="data", output_dir="out", lora_r=0)
        Traceback (most recent call last):
        ...
        ValueError: `lora_r` should be a positive int, got 0.
    """

    model: str = field(metadata=_help("model name or path, loaded with AutoProcessor + AutoModelForImageTextToText"))
    data: Any = field(metadata=_help("dataset directory written by save_to_disk (Dataset or DatasetDict with "
                                     "image/prompt/target/task columns); from Python also the dataset itself"))
    output_dir: str = field(metadata=_help("directory for adapters, checkpoints, logs and the config used"))
    lora: bool = field(default=True, metadata=_help("train LoRA adapters (False: full fine-tuning of all weights, "
                                                    "or only of --full-finetune-modules)"))
    lora_r: int = field(default=16, metadata=_help("LoRA rank"))
    lora_alpha: float = field(default=32.0, metadata=_help("LoRA scaling numerator (scale = alpha / r)"))
    lora_dropout: float = field(default=0.05, metadata=_help("dropout on the LoRA input, in [0, 1)"))
    lora_target_modules: Optional[list[str]] = field(
        default=None, metadata=_help("modules to wrap with LoRA: a bare name (q_proj) means those in the language "
                                     "model, a dotted name or fnmatch pattern is matched against full module names; "
                                     "default: the language model's q_proj,v_proj (q,v for T5)", list=True))
    full_finetune_modules: Optional[list[str]] = field(
        default=None, metadata=_help("module-name patterns (fnmatch, or a dotted suffix such as "
                                     "language_projection) trained fully, next to LoRA or alone", list=True))
    learning_rate: float = field(default=1e-4, metadata=_help("peak learning rate (AdamW)"))
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay"))
    lr_scheduler: str = field(default="linear", metadata=_help("learning-rate schedule after warm-up",
                                                             choices=SCHEDULERS))
    warmup_steps: int = field(default=0, metadata=_help("linear warm-up optimizer steps"))
    max_grad_norm: Optional[float] = field(default=1.0, metadata=_help("gradient clipping norm (None: no clipping)"))
    epochs: float = field(default=1.0, metadata=_help("passes over the training data (ignored when max_steps is set)"))
    max_steps: Optional[int] = field(default=None, metadata=_help("optimizer steps to run (overrides epochs)"))
    per_device_batch_size: int = field(default=4, metadata=_help("samples per device per forward pass"))
    gradient_accumulation_steps: int = field(default=1, metadata=_help("forward passes per optimizer step"))
    gradient_checkpointing: bool = field(default=False, metadata=_help("recompute activations to save memory"))
    precision: str = field(default="auto", metadata=_help("weights/compute precision: auto = bf16 on GPUs that "
                                                          "support it, else fp16 on GPU, fp32 on CPU",
                                                          choices=PRECISIONS))
    max_length: int = field(default=512, metadata=_help("max tokens per sample (prompt incl. image tokens + target); "
                                                        "the target is cut, the prompt never"))
    image_column: str = field(default="image", metadata=_help("column with the image"))
    prompt_column: str = field(default="prompt", metadata=_help("column with the instruction text"))
    target_column: str = field(default="target", metadata=_help("column with the answer text"))
    task_column: str = field(default="task", metadata=_help("column with the task (correction/caption)"))
    train_split: str = field(default="train", metadata=_help("split to train on when data is a DatasetDict"))
    eval_split: Optional[str] = field(default="validation", metadata=_help("split to evaluate on when present"))
    eval_fraction: float = field(default=0.0, metadata=_help("hold out this share of the training rows for "
                                                             "evaluation when there is no eval split"))
    eval_steps: Optional[int] = field(default=None, metadata=_help("evaluate every N optimizer steps "
                                                                   "(default: only at the end)"))
    eval_max_samples: Optional[int] = field(default=256, metadata=_help("evaluate on at most this many rows"))
    eval_batch_size: int = field(default=8, metadata=_help("batch size of evaluation and generation"))
    max_new_tokens: int = field(default=32, metadata=_help("generation length for correction accuracy"))
    eval_embedder: Optional[str] = field(default=None, metadata=_help(
        "folder of a CLIP/SigLIP-style dual encoder: evaluation also captions the caption rows and reports "
        "image-text similarity and retrieval consistency (needs the vision extra)"))
    save_steps: Optional[int] = field(default=500, metadata=_help("write a resumable checkpoint every N optimizer "
                                                                  "steps (None: only at the end)"))
    save_total_limit: Optional[int] = field(default=2, metadata=_help("keep only the newest N checkpoints"))
    resume: Optional[str] = field(default=None, metadata=_help("checkpoint directory to resume from, or 'latest' "
                                                               "for the newest one under output_dir"))
    seed: int = field(default=0, metadata=_help("seed of initialisation, data order and dropout"))
    merge_adapters: bool = field(default=False, metadata=_help("also save the model with LoRA merged into the "
                                                               "weights (OUTDIR/merged)"))
    logging_steps: int = field(default=10, metadata=_help("log the mean loss every N optimizer steps"))
    log_with: Optional[str] = field(default=None, metadata=_help("accelerate tracker (tensorboard, wandb, ...); "
                                                                 "OUTDIR/log.jsonl is always written"))
    num_workers: int = field(default=0, metadata=_help("DataLoader worker processes"))
    correction_template: str = field(default=DEFAULT_CORRECTION_TEMPLATE,
                                     metadata=_help("prompt used by `iccc correct`, with {caption}; set it to the "
                                                    "dataset's correction template"))
    trust_remote_code: bool = field(default=False, metadata=_help("allow model code from the model repository"))
    objective: str = field(default="sft", metadata=_help(
        "sft: next-token loss on the target column; dpo: direct preference optimisation on TRL DPO rows "
        "(prompt, chosen, rejected, images: what `iccc export dpo` writes) against the model with its LoRA "
        "adapter disabled (a frozen copy of the starting weights without LoRA)", choices=OBJECTIVES))
    beta: float = field(default=0.1, metadata=_help("dpo: scale of the implicit reward beta * (log pi - log ref); "
                                                    "larger keeps the model closer to the reference"))
    label_smoothing: float = field(default=0.0, metadata=_help("dpo: assumed share of flipped preferences "
                                                               "(conservative DPO), in [0, 0.5)"))

    def __post_init__(self):
        for name in ("model", "output_dir"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                setattr(self, name, os.fspath(value))
            elif not isinstance(value, str) or not value:
                raise ValueError(f"`{name}` should be a non-empty path or name, got {value!r}.")
        if isinstance(self.data, os.PathLike):
            self.data = os.fspath(self.data)
        if self.data is None or (isinstance(self.data, str) and not self.data):
            raise ValueError(f"`data` should be a dataset directory or a datasets.Dataset/DatasetDict, got {self.data!r}.")
        if not isinstance(self.data, str) and not hasattr(self.data, "column_names"):
            raise ValueError(f"`data` should be a dataset directory or a datasets.Dataset/DatasetDict, "
                             f"got {type(self.data).__name__}.")
        _positive_int(self, "lora_r", "per_device_batch_size", "gradient_accumulation_steps", "max_length",
                      "eval_batch_size", "max_new_tokens", "logging_steps")
        _positive_int(self, "max_steps", "eval_steps", "save_steps", "save_total_limit", "eval_max_samples",
                      optional=True)
        _nonneg_int(self, "warmup_steps", "num_workers", "seed")
        for name in ("lora", "gradient_checkpointing", "merge_adapters", "trust_remote_code"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` should be True or False, got {getattr(self, name)!r}.")
        _number(self, "learning_rate", low=0.0, low_open=True)
        _number(self, "lora_alpha", low=0.0, low_open=True)
        _number(self, "lora_dropout", low=0.0, high=1.0, high_open=True)
        _number(self, "weight_decay", low=0.0)
        _number(self, "epochs", low=0.0, low_open=True)
        _number(self, "eval_fraction", low=0.0, high=1.0, high_open=True)
        if self.max_grad_norm is not None:
            _number(self, "max_grad_norm", low=0.0, low_open=True)
        _number(self, "beta", low=0.0, low_open=True)
        _number(self, "label_smoothing", low=0.0, high=0.5, high_open=True)
        for name, allowed in (("precision", PRECISIONS), ("lr_scheduler", SCHEDULERS), ("objective", OBJECTIVES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"`{name}` should be one of {', '.join(map(repr, allowed))}, "
                                 f"got {getattr(self, name)!r}.")
        for name in ("lora_target_modules", "full_finetune_modules"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
                setattr(self, name, value)
            if value is not None and (not isinstance(value, (list, tuple)) or not value
                                      or not all(isinstance(v, str) and v for v in value)):
                raise ValueError(f"`{name}` should be a non-empty list of module names, got {value!r}.")
            if value is not None:
                setattr(self, name, list(value))
        if not self.lora and self.lora_target_modules is not None:
            raise ValueError("`lora_target_modules` is set but `lora` is False; drop one of them.")
        for name in ("image_column", "prompt_column", "target_column", "task_column", "train_split"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"`{name}` should be a non-empty string, got {getattr(self, name)!r}.")
        if self.eval_split is not None and (not isinstance(self.eval_split, str) or not self.eval_split):
            raise ValueError(f"`eval_split` should be a split name or None, got {self.eval_split!r}.")
        if self.eval_embedder is not None:
            if isinstance(self.eval_embedder, os.PathLike):
                self.eval_embedder = os.fspath(self.eval_embedder)
            if not isinstance(self.eval_embedder, str) or not self.eval_embedder:
                raise ValueError(f"`eval_embedder` should be a dual-encoder folder or None, got {self.eval_embedder!r}.")
        if self.objective == "dpo" and self.eval_embedder is not None:
            raise ValueError("`eval_embedder` scores generated captions (objective 'sft'); objective 'dpo' evaluates "
                             "held-out pairs (reward accuracy and margins): drop one of them.")
        if self.resume is not None:
            if isinstance(self.resume, os.PathLike):
                self.resume = os.fspath(self.resume)
            if not isinstance(self.resume, str) or not self.resume:
                raise ValueError(f"`resume` should be a checkpoint directory or 'latest', got {self.resume!r}.")
        if self.log_with is not None and (not isinstance(self.log_with, str) or not self.log_with):
            raise ValueError(f"`log_with` should be a tracker name such as 'tensorboard', got {self.log_with!r}.")
        if not isinstance(self.correction_template, str) or "{caption}" not in self.correction_template:
            raise ValueError(f"`correction_template` should be a string containing '{{caption}}', "
                             f"got {self.correction_template!r}.")

    def to_dict(self) -> dict:
        """JSON-ready fields (a dataset object passed as ``data`` is recorded by its description)."""
        out = dataclasses.asdict(self) if isinstance(self.data, str) else {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "data"}
        if not isinstance(self.data, str):
            out["data"] = f"<in-memory {type(self.data).__name__}>"
        return out

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)

    @classmethod
    def load(cls, path) -> TrainConfig:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


def _positive_int(cfg, *names, optional=False):
    for name in names:
        value = getattr(cfg, name)
        if optional and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            extra = " or None" if optional else ""
            raise ValueError(f"`{name}` should be a positive int{extra}, got {value!r}.")


def _nonneg_int(cfg, *names):
    for name in names:
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` should be an int >= 0, got {value!r}.")


def _number(cfg, name, *, low=None, high=None, low_open=False, high_open=False):
    value = getattr(cfg, name)
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value == value
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"`{name}` should be a number in {left}{lo}, {hi}{right}, got {value!r}.")
