"""A demo that needs no download: does ICCC training teach a VLM to look at the image?

Everything is made here, on CPU, in a few minutes:

1. a synthetic image–caption set (:mod:`iccc.train.synthetic`: coloured circles, squares and triangles,
   one or two per image, side by side or one above the other, three captions per image);
2. ICCC training data from it with the library (:func:`iccc.dataset.build_dataset`: parse, concept base,
   corruptions with the sibling-caption guard, the mixture of correction and captioning samples);
3. a tiny vision-language model from scratch (:func:`iccc.train.build_tiny_model`, randomly initialised,
   fully trained since nothing in it is pretrained);
4. training with :func:`iccc.train.train`, and correction accuracy on held-out images before and after
   (exact match of the correction statement after normalisation, and whether its quoted wrong span is the
   right one: the scores of :func:`iccc.train.evaluate`), overall and per corrupted concept kind.

Every caption word the corruption engine can change (a colour, a shape, a size, "to the left of" /
"above" / ...) is visible in the image and only there, so a model that reads the caption alone cannot
know which word is wrong or what it should be. Two controls measure how far text alone goes:

* ``blind``: the same ICCC training and evaluation with every image replaced by a blank one: what the
  caption's wording and the data's statistics give (the text-only ceiling);
* ``caption``: the same steps on captioning samples only (no correction data), evaluated on the same
  correction prompts: what captioning alone teaches about the correction task.

Run it with ``python benchmarks/demo_shapes.py`` (``--quick`` for a smoke run of a minute or two);
``run_demo`` returns the metrics and writes them to ``OUT/demo_results.json``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Callable, Optional

#: Short instruction templates: every prompt token costs training time on a CPU.
CORRECTION_PROMPT = "Fix the caption: {caption}"
CAPTION_PROMPT = "Caption:"
#: Concept kinds the demo corrupts: one word or phrase each, all visible in the image.
KINDS = ("noun", "attribute", "relation")
RUNS = ("iccc", "blind", "caption")


@dataclass
class DemoConfig:
    """Sizes and settings of one demo run (the defaults are the documented run; ``quick()`` the smoke run)."""

    arch: str = field(default="llava", metadata={"help": "tiny model architecture (see build_tiny_model)"})
    n_train_images: int = field(default=2000, metadata={"help": "training images (3 captions each)"})
    n_eval_images: int = field(default=150, metadata={"help": "held-out images for evaluation"})
    image_size: int = field(default=32, metadata={"help": "image side in pixels (a multiple of 16)"})
    hidden_size: int = field(default=64, metadata={"help": "width of the tiny model"})
    num_layers: int = field(default=2, metadata={"help": "language-model layers of the tiny model"})
    p_correction: float = field(default=0.5, metadata={"help": "share of correction samples in training"})
    max_steps: int = field(default=2000, metadata={"help": "optimizer steps of each training run"})
    batch_size: int = field(default=32, metadata={"help": "samples per step"})
    learning_rate: float = field(default=3e-3, metadata={"help": "peak learning rate (linear decay)"})
    warmup_steps: int = field(default=50, metadata={"help": "linear warm-up steps"})
    eval_samples: int = field(default=300, metadata={"help": "held-out correction samples evaluated"})
    runs: tuple = field(default=("iccc", "blind"), metadata={"help": "training runs, comma-separated: 'iccc', "
                                                                  "'blind' (control), 'caption' (control)"})
    seed: int = field(default=0, metadata={"help": "seed of data, model and training"})
    threads: Optional[int] = field(default=1, metadata={"help": "torch CPU threads (None: torch's default)"})

    def __post_init__(self):
        for name in ("n_train_images", "n_eval_images", "hidden_size", "num_layers", "max_steps", "batch_size",
                     "eval_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` should be a positive int, got {value!r}.")
        for name in ("warmup_steps", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` should be an int >= 0, got {value!r}.")
        if isinstance(self.image_size, bool) or not isinstance(self.image_size, int) or self.image_size < 16 \
                or self.image_size % 16:
            raise ValueError(f"`image_size` should be a positive multiple of 16, got {self.image_size!r}.")
        if isinstance(self.p_correction, bool) or not isinstance(self.p_correction, (int, float)) \
                or not 0.0 < self.p_correction <= 1.0:
            raise ValueError(f"`p_correction` should be in (0, 1], got {self.p_correction!r}.")
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, (int, float)) \
                or not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` should be a positive number, got {self.learning_rate!r}.")
        if isinstance(self.runs, str):
            self.runs = tuple(c.strip() for c in self.runs.split(",") if c.strip())
        self.runs = tuple(self.runs)
        unknown = [c for c in self.runs if c not in RUNS]
        if unknown:
            raise ValueError(f"Unknown run(s) {unknown!r} in `runs`. Available: {', '.join(map(repr, RUNS))}.")
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise ValueError(f"`threads` should be a positive int or None, got {self.threads!r}.")

    @classmethod
    def quick(cls, **overrides) -> DemoConfig:
        """The smoke-test sizes: a small set, a few dozen steps, no control run (a minute or two on CPU)."""
        values = dict(n_train_images=120, n_eval_images=20, max_steps=40, batch_size=8, warmup_steps=5,
                      eval_samples=16, runs=("iccc",))
        values.update(overrides)
        return cls(**values)


def shapes_iccc_data(n_train_images: int, n_eval_images: int, *, seed: int = 0, image_size: int = 32,
                     p_correction: float = 0.5):
    """ICCC training and held-out data over synthetic shapes, built with :func:`iccc.dataset.build_dataset`.

    The concept base comes from the training captions only, grouped by image (sibling-caption guard),
    without the paper's above-mean frequency filter (``above_mean=False``: the vocabulary is tiny and
    every colour and shape should be insertable). Held-out images are drawn with another seed; all
    their rows are correction samples (``p_correction=1``).

    Returns:
        ``(datasets.DatasetDict with "train" and "validation", the ConceptBase)``.
    """
    from datasets import DatasetDict

    from ..base import ConceptBase
    from ..dataset import build_dataset
    from ..parsing import add_concepts
    from .synthetic import make_shapes_dataset

    train = add_concepts(make_shapes_dataset(n_train_images, seed=seed, image_size=image_size))
    held_out = add_concepts(make_shapes_dataset(n_eval_images, seed=seed + 1, image_size=image_size))
    base = ConceptBase.from_dataset(train, group_column="image_id", above_mean=False)
    common = dict(group_column="image_id", concepts=base, kinds=KINDS, correction_prompts=(CORRECTION_PROMPT,),
                  caption_prompts=(CAPTION_PROMPT,))
    return DatasetDict({
        "train": build_dataset(train, p_correction=p_correction, seed=seed, **common),
        "validation": build_dataset(held_out, p_correction=1.0, seed=seed + 1, **common),
    }), base


def blank_images(ds, image_size: int):
    """``ds`` with every image replaced by one blank (white) image of the same size."""
    import io

    from datasets import Image
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (image_size, image_size), (255, 255, 255)).save(buffer, format="PNG")
    blank = {"bytes": buffer.getvalue(), "path": None}
    return ds.remove_columns("image").add_column("image", [blank] * len(ds), feature=Image())


def evaluate_by_kind(model, processor, validation, *, eval_samples: int, batch_size: int = 32) -> dict:
    """Correction metrics on the first ``eval_samples`` correction rows of ``validation``: overall and per
    ``operation/concept_kind`` (e.g. ``replace/attribute``), with a few examples.

    One greedy generation per row (the training package's ``generate_texts``), scored overall and per kind
    with the same ``correction_scores`` that :func:`iccc.train.evaluate` uses.
    """
    from .data import open_image
    from .evaluation import correction_scores
    from .generation import generate_texts

    rows = validation.filter(lambda task: task == "correction", input_columns="task")
    rows = rows.select(range(min(eval_samples, len(rows))))
    inputs = [{"image": open_image(r["image"]), "prompt": r["prompt"]} for r in rows]
    targets = list(rows["target"])
    predictions = generate_texts(model, processor, inputs, batch_size=batch_size, max_new_tokens=24)
    out = {"all": correction_scores(predictions, targets),
           "examples": [{"prompt": i["prompt"], "target": t, "prediction": p}
                        for i, t, p in list(zip(inputs, targets, predictions))[:6]]}
    keys = [f"{op}/{kind}" for op, kind in zip(list(rows["operation"]), list(rows["concept_kind"]))]
    for key in sorted(set(keys)):
        chosen = [i for i, k in enumerate(keys) if k == key]
        out[key] = correction_scores([predictions[i] for i in chosen], [targets[i] for i in chosen])
    return out


def _train(cfg: DemoConfig, model_dir: str, data, out_dir: str, log: Callable):
    from .config import TrainConfig
    from .loop import train

    config = TrainConfig(model=model_dir, data=data, output_dir=out_dir, lora=False,
                         learning_rate=cfg.learning_rate, warmup_steps=cfg.warmup_steps, lr_scheduler="linear",
                         max_steps=cfg.max_steps, per_device_batch_size=cfg.batch_size, max_grad_norm=1.0,
                         eval_split=None, save_steps=None, save_total_limit=1,
                         logging_steps=max(cfg.max_steps // 10, 1), seed=cfg.seed,
                         correction_template=CORRECTION_PROMPT, precision="fp32")
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    log(f"  trained {result.global_step} steps in {wall:.0f}s ({cpu:.0f}s CPU); loss "
        f"{_mean(result.losses[:10]):.3f} (first 10 steps) -> {_mean(result.losses[-10:]):.3f} (last 10)")
    return result, {"wall": round(wall, 1), "cpu": round(cpu, 1)}


def _mean(values):
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def run_demo(out_dir, config: DemoConfig | None = None, *, log: Callable = print, **overrides) -> dict:
    """Build the data and a tiny model, train it with and without ICCC data, and compare.

    Args:
        out_dir: working directory (model, training outputs, ``demo_results.json``).
        config: a :class:`DemoConfig` (default: the documented run); keyword overrides replace fields.
        log: where progress lines go.

    Returns:
        ``{"config", "data", "runs": {"before", "iccc", "blind"?, "caption"?}, "losses", "seconds"}``;
        every run holds ``"all"`` (``correction_exact``, ``span_identified``, ``n_correction``, ``n_span``),
        one entry per ``operation/concept_kind`` and a few ``"examples"``.
    """
    if config is None:
        config = DemoConfig(**overrides)
    elif not isinstance(config, DemoConfig):
        raise TypeError(f"`config` should be a DemoConfig, got {type(config).__name__}.")
    elif overrides:
        config = replace(config, **overrides)
    cfg = config
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"`out_dir` should be a directory path, got {type(out_dir).__name__}: {out_dir!r}.")
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    import torch

    from .tiny import build_tiny_model

    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    started, started_cpu = time.perf_counter(), time.process_time()
    log(f"Building ICCC data: {cfg.n_train_images} training images, {cfg.n_eval_images} held-out ...")
    data, base = shapes_iccc_data(cfg.n_train_images, cfg.n_eval_images, seed=cfg.seed, image_size=cfg.image_size,
                                  p_correction=cfg.p_correction)
    train_rows = data["train"]
    tasks = list(train_rows["task"])
    data_summary = {
        "train_rows": len(train_rows), "train_corrections": tasks.count("correction"),
        "validation_rows": len(data["validation"]),
        "validation_corrections": list(data["validation"]["task"]).count("correction"),
        "concept_base": {kind: len(base.kept(kind)) for kind in base.kinds()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    log(f"  {data_summary['train_rows']} training rows ({data_summary['train_corrections']} corrections), "
        f"{data_summary['validation_corrections']} held-out corrections, in {data_summary['seconds']}s")
    texts = [t for t in list(train_rows["prompt"]) + list(train_rows["target"]) if t]
    model_dir = build_tiny_model(cfg.arch, os.path.join(out_dir, "model"), texts=texts, image_size=cfg.image_size,
                                 seed=cfg.seed, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers)

    from .inference import load_trained

    runs, losses, seconds = {}, {}, {}
    log("Evaluating the untrained model ...")
    model, processor = load_trained(model_dir, device="cpu")
    runs["before"] = evaluate_by_kind(model, processor, data["validation"], eval_samples=cfg.eval_samples)
    del model

    def train_and_evaluate(name, train_data, validation):
        result, seconds[name] = _train(cfg, model_dir, train_data, os.path.join(out_dir, name), log)
        losses[name] = result.losses
        runs[name] = evaluate_by_kind(result.model, result.processor, validation, eval_samples=cfg.eval_samples)

    from datasets import DatasetDict

    if "iccc" in cfg.runs:
        log(f"Training on ICCC data ({cfg.max_steps} steps of {cfg.batch_size}) ...")
        train_and_evaluate("iccc", data, data["validation"])
    if "blind" in cfg.runs:
        log("Control: the same training with blank images ...")
        blind = DatasetDict({split: blank_images(ds, cfg.image_size) for split, ds in data.items()})
        train_and_evaluate("blind", blind, blind["validation"])
    if "caption" in cfg.runs:
        log("Control: the same steps on captioning samples only ...")
        captions = train_rows.filter(lambda task: task == "caption", input_columns="task")
        train_and_evaluate("caption", DatasetDict({"train": captions}), data["validation"])

    report = {"config": asdict(cfg), "data": data_summary, "runs": runs, "losses": losses,
              "train_seconds": seconds, "seconds": round(time.perf_counter() - started, 1),
              "cpu_seconds": round(time.process_time() - started_cpu, 1)}
    with open(os.path.join(out_dir, "demo_results.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    log(format_report(report))
    return report


RUN_NAMES = {
    "before": "untrained (random init)",
    "iccc": "ICCC-trained",
    "blind": "control: ICCC, blank images",
    "caption": "control: captioning only",
}


def format_report(report: dict) -> str:
    """A text table of the runs in a ``run_demo`` report: overall and per corrupted concept kind."""
    runs = report["runs"]
    kinds = sorted({k for run in runs.values() for k in run if k not in ("all", "examples")})
    lines = ["", "Correction accuracy on held-out images (exact match / wrong span identified):", ""]
    header = f"{'model':<30} {'all':>13}" + "".join(f" {k:>20}" for k in kinds)
    lines += [header, "-" * len(header)]
    for name, run in runs.items():
        cells = [_cell(run["all"])] + [_cell(run[k]) if k in run else "-" for k in kinds]
        lines.append(f"{RUN_NAMES.get(name, name):<30} {cells[0]:>13}" + "".join(f" {c:>20}" for c in cells[1:]))
    ref = runs["before"]
    counts = {k: ref[k]["n_correction"] for k in kinds if k in ref}
    lines.append("")
    lines.append("held-out samples: " + ", ".join(f"{k} {n}" for k, n in counts.items())
                 + f"; total {ref['all']['n_correction']}")
    lines.append(f"time: {report.get('seconds')}s wall, {report.get('cpu_seconds')}s CPU of this process")
    shown = next((name for name in ("iccc", "blind", "caption") if name in runs), None)
    examples = runs[shown].get("examples", []) if shown else []
    if examples:
        lines += ["", f"Examples ({RUN_NAMES[shown]}):"]
        for ex in examples:
            lines.append(f"  {ex['prompt']!r}\n      target {ex['target']!r}  predicted {ex['prediction']!r}")
    return "\n".join(lines)


def _cell(scores: dict) -> str:
    exact, span = scores.get("correction_exact"), scores.get("span_identified")
    if exact is None:
        return "-"
    return f"{exact:.2f} / {span:.2f}" if span is not None else f"{exact:.2f}"


def main(argv=None) -> int:
    """Command line of ``benchmarks/demo_shapes.py``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="demo_shapes_out", help="working directory (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (a minute or two)")
    parser.add_argument("--json", default=None, help="also copy the results JSON here")
    for f in fields(DemoConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = {"int": int, "float": float, "str": str}.get(type(f.default).__name__, str)
        parser.add_argument(flag, dest=f.name, type=kind, default=None, help=f.metadata.get("help"))
    args = parser.parse_args(argv)
    overrides = {f.name: getattr(args, f.name) for f in fields(DemoConfig) if getattr(args, f.name) is not None}
    config = DemoConfig.quick(**overrides) if args.quick else DemoConfig(**overrides)
    report = run_demo(args.out, config)
    report["mode"] = "quick" if args.quick else "full"
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0
