"""``iccc train``: fine-tune a vision-language model on an ICCC dataset (options generated from TrainConfig).

Usage::

    iccc train --model PATH_OR_NAME --data DATASET_DIR --output OUTDIR [--max-steps 1000] [--no-lora] ...
    iccc train --objective dpo --model SFT_OUTDIR/merged --data DPO_PAIRS --output OUTDIR [--beta 0.1]
    accelerate launch -m iccc.cli train --model ... --data ... --output ...   # several GPUs / machines

Every ``TrainConfig`` field is an option (``--lora-r``, ``--precision`` ...) with the field's help text;
``--config FILE.json`` reads fields from a JSON file (e.g. a saved ``iccc_train_config.json``) and
options given on the command line override it. ``--objective dpo`` trains on preference pairs as
``iccc export dpo`` writes them (prompt, chosen, rejected, images) and also reports how far the
chosen answers' implicit reward pulled ahead of the rejected ones.

Like ``iccc build``, a non-empty output folder is refused unless ``--resume`` continues the run in it
or ``--overwrite`` replaces it (only a folder an earlier ``iccc train`` wrote is removed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil

from .train.config import CONFIG_FILE, TrainConfig

_ALIASES = {"output_dir": ("--output", "--output-dir", "-o")}
_REQUIRED = ("model", "data", "output_dir")


def _none_or(kind):
    def parse(text):
        return None if text.lower() in ("none", "null", "") else kind(text)

    parse.__name__ = kind.__name__
    return parse


def _comma_list(text):
    return None if text.lower() in ("none", "") else [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(p) -> None:
    p.add_argument("--config", default=None, help="JSON file with TrainConfig fields; command-line options override it")
    p.add_argument("--overwrite", action="store_true", default=False,
                   help="replace the output folder of an earlier run (without it, or --resume, a non-empty "
                        "output folder is refused)")
    for f in dataclasses.fields(TrainConfig):
        flags = _ALIASES.get(f.name, (f"--{f.name.replace('_', '-')}",))
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS}
        text = f.metadata.get("help", "")
        kind = str(f.type)
        optional = "Optional" in kind or "None" in kind
        if f.metadata.get("list"):
            kwargs.update(type=_comma_list, metavar="A,B")
            text += " (comma-separated)"
        elif kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif "int" in kind:
            kwargs["type"] = _none_or(int) if optional else int
        elif "float" in kind:
            kwargs["type"] = _none_or(float) if optional else float
        elif "str" in kind:
            kwargs["type"] = _none_or(str) if optional else str
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        if f.name in _REQUIRED:
            text += " (required)"
        elif f.default is not dataclasses.MISSING:
            text += f" (default: {f.default})"
        kwargs["help"] = text.replace("%", "%%")
        p.add_argument(*flags, **kwargs)


def config_from_args(args) -> TrainConfig:
    """The ``TrainConfig`` for parsed arguments (JSON file first, then command-line options)."""
    values = {}
    if getattr(args, "config", None):
        with open(args.config, encoding="utf-8") as f:
            values.update(json.load(f))
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown field(s) in --config {args.config!r}: {unknown}.")
    for f in dataclasses.fields(TrainConfig):
        if hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    missing = [name for name in _REQUIRED if name not in values]
    if missing:
        flags = ", ".join(_ALIASES.get(n, (f"--{n}",))[0] for n in missing)
        raise ValueError(f"Missing required option(s): {flags}.")
    return TrainConfig(**values)


def _is_main_process() -> bool:
    """Whether this is the launch's first process (``accelerate launch``/``torchrun`` set ``RANK``)."""
    return os.environ.get("RANK", "0") in ("", "0")


def check_output_dir(cfg: TrainConfig, overwrite: bool) -> None:
    """Refuse a non-empty ``cfg.output_dir`` unless ``cfg.resume`` or ``overwrite``; with ``overwrite``
    remove it (only when an earlier run wrote it: it holds ``iccc_train_config.json``)."""
    out = cfg.output_dir
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise FileExistsError(f"`--output` {out!r} exists and is not a folder.")
    if not os.listdir(out) or cfg.resume:
        return
    if not overwrite:
        raise FileExistsError(f"Output folder {out!r} exists and is not empty; pass --resume latest to continue "
                              "the run in it, --overwrite to replace it, or choose another --output.")
    if not os.path.isfile(os.path.join(out, CONFIG_FILE)):
        raise FileExistsError(f"--overwrite refused: {out!r} is not the output folder of an earlier `iccc train` "
                              f"(no {CONFIG_FILE}); remove it yourself or choose another --output.")
    if _is_main_process():  # every process of a launch runs this; one removes
        shutil.rmtree(out)


def summary_line(result) -> str:
    """What a run did, from this run's steps only (a resumed run's earlier losses are not its own)."""
    losses = result.run_losses
    if not losses:
        return f"Nothing to train: already at step {result.global_step} of {result.total_steps}."
    resumed = f"Resumed at step {result.first_step}; t" if result.first_step else "T"
    line = (f"{resumed}rained steps {result.first_step + 1}-{result.global_step} of {result.total_steps} in "
            f"{result.seconds:.1f}s; loss {losses[0]:.4f} -> {losses[-1]:.4f}.")
    figures = result.step_metrics[-len(losses):] if result.step_metrics else []
    if figures and "reward_margin" in figures[0]:  # dpo: how far chosen answers pulled ahead of rejected ones
        line += (f" Reward margin {figures[0]['reward_margin']:.4f} -> {figures[-1]['reward_margin']:.4f}, "
                 f"accuracy {figures[0]['reward_accuracy']:.2f} -> {figures[-1]['reward_accuracy']:.2f}.")
    return line


def run(args) -> int:
    from .train import train

    cfg = config_from_args(args)
    check_output_dir(cfg, getattr(args, "overwrite", False))
    result = train(cfg)
    print(summary_line(result))
    if result.eval:
        shown = {k: v for k, v in result.eval.items() if k != "examples"}
        print("Evaluation: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                         for k, v in shown.items()))
    print(f"Wrote {result.adapter_dir or result.model_dir}" + (f" and {result.merged_dir}" if result.merged_dir else ""))
    return 0
