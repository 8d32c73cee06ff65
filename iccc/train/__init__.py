"""Fine-tuning of vision-language models on ICCC datasets (LoRA via peft, training loop via accelerate).

Everything heavy (torch, transformers, peft, accelerate, PIL) is imported inside functions, so
``import iccc.train`` is cheap; the names below are resolved lazily on first access.

Public API (stable; helper modules and the CLI build on it):

- ``TrainConfig(model, data, output_dir, **options)``: a dataclass; each field carries help text
  (``dataclasses.fields(TrainConfig)[i].metadata["help"]``) and is validated in ``__post_init__``.
  ``data`` is a ``save_to_disk`` directory of a ``Dataset``/``DatasetDict`` or, from Python, the
  dataset object itself. Columns: ``image`` (PIL image, ``Image()`` feature, path or
  ``{"bytes", "path"}``), ``prompt``, ``target``, ``task`` (``"correction"``/``"caption"``).
- ``train(config) -> TrainResult``: runs the loop (works unchanged under ``accelerate launch`` and
  ``torchrun``). ``TrainResult`` has ``output_dir``, ``global_step``, ``losses`` (mean loss per
  optimizer step, in order), ``first_step`` (the step training started from: 0, or the resumed step),
  ``total_steps``, ``world_size`` (processes that trained; also in every ``log.jsonl`` line),
  ``eval`` (the final ``evaluate`` metrics, or ``{}``), ``adapter_dir`` (LoRA) or
  ``model_dir`` (full fine-tuning), ``merged_dir``, ``checkpoint_dir``, ``seconds``, and the trained
  ``model`` (unwrapped, in eval mode) and ``processor`` for further use in the same process.
  ``train(None, model=..., data=..., output_dir=...)`` builds the config from keywords.
- ``evaluate(model_or_dir, dataset, *, processor=None, batch_size=8, max_new_tokens=32,
  max_samples=None, max_length=512, image_column=..., prompt_column=..., target_column=...,
  task_column="task") -> dict``: keys ``correction_exact``, ``span_identified``, ``n_correction``,
  ``n_span``, ``caption_loss``, ``n_caption``, ``examples`` (a few ``{"prompt", "target",
  "prediction"}``); a metric is None when there are no rows for it. ``dataset`` may be a directory.
  With ``embedder=`` (an ``iccc.vision.Embedder`` or a dual-encoder folder; ``TrainConfig.eval_embedder``)
  also the ``caption_*`` metrics of ``caption_consistency`` on captions generated for the caption rows.
- ``caption_consistency(images, generated, references, embedder, *, k=5, image_keys=None) -> dict``:
  image–text similarity and retrieval consistency (Cross-modal Identity Mapping) of captions.
- ``load_trained(output_dir, *, device=None) -> (model, processor)`` and
  ``correct(model, processor, image, caption, *, template=None, max_new_tokens=32) -> str``.
- ``generate_texts(model, processor, rows, *, batch_size=8, max_new_tokens=32) -> list[str]``: greedy
  answers to ``{"image", "prompt"}`` rows (what ``evaluate`` and ``correct`` generate with).
- ``build_tiny_model(arch, out_dir, *, texts=(), image_size=32, seed=0) -> str``: a randomly
  initialised tiny ``"blip2"``, ``"instructblip"``, ``"llava"`` or ``"qwen2_vl"`` checkpoint with a
  locally trained byte-level BPE tokenizer and processor, loadable through the Auto classes.
- ``normalize_answer(text)`` and ``wrong_span(text)``: the evaluation's text normalisation and the
  quoted wrong span of a correction statement (``'"cat" should be "dog".'`` -> ``"cat"``).
- ``make_shapes_dataset(n_images, *, seed, image_size, ...)``: synthetic coloured-shape images with
  templated captions (``iccc.train.synthetic``); ``DemoConfig`` and ``run_demo``: the no-download
  demo that trains a tiny VLM from scratch with and without images (``iccc.train.demo``).
- ``sample_candidates(model, processor, images, prompt, ...)`` (``CandidatePath``): sentence-level beam
  search of candidate answers; ``dpo_loss``: the DPO loss (``TrainConfig(objective="dpo")``);
  ``self_reward(config, iterations=N, *, embedder=None, alpha=0.9, ...) -> SelfRewardResult``: Calibrated
  Self-Rewarding rounds (sample, score with likelihood and image relevance, pair, DPO-train), one record per
  round (``iccc.train.self_reward``).
- ``DEFAULT_CORRECTION_TEMPLATE``: the prompt ``correct`` uses when the saved config has none
  (``iccc.dataset.CORRECTION_PROMPTS[0]``).

Lower-level pieces, importable from their modules: ``iccc.train.data.Collator`` (prompt-masked
batches), ``iccc.train.modeling`` (``load_model``, ``load_processor``, ``default_lora_targets``,
``prepare_trainable``), ``iccc.train.generation`` (``to_device``, ``device_dtype``, ``autocast_for``:
placing batches for a model), ``iccc.train.tiny.qwen2_vl_parts``.
An on-the-fly build (``iccc.build_dataset(..., mode="transform")``) passed as ``data`` draws new
corruptions every epoch (``set_epoch`` is called at each epoch start).

Output directory written by ``train``::

    OUTDIR/iccc_train_config.json   the TrainConfig used (JSON)
    OUTDIR/adapter/                 peft adapter (LoRA) + processor; or OUTDIR/model/ for full fine-tuning
    OUTDIR/merged/                  merged full model + processor (``merge_adapters=True``)
    OUTDIR/checkpoints/step-N/      trainable weights, optimizer, scheduler, RNG and step state
    OUTDIR/log.jsonl                one JSON line per logged step / evaluation
    OUTDIR/eval.json                final evaluation metrics

Example (needs torch, transformers, peft and accelerate)::

    from iccc.train import TrainConfig, train, build_tiny_model
    build_tiny_model("llava", "tiny-llava", texts=["a red circle"])
    result = train(TrainConfig(model="tiny-llava", data="my_iccc_dataset", output_dir="out", max_steps=10))
"""

from __future__ import annotations

from importlib import import_module

_LAZY = {
    "TrainConfig": "config",
    "TrainResult": "loop",
    "train": "loop",
    "evaluate": "evaluation",
    "caption_consistency": "caption_metrics",
    "normalize_answer": "evaluation",
    "wrong_span": "evaluation",
    "load_trained": "inference",
    "correct": "inference",
    "generate_texts": "generation",
    "DEFAULT_CORRECTION_TEMPLATE": "config",
    "build_tiny_model": "tiny",
    "make_shapes_dataset": "synthetic",
    "DemoConfig": "demo",
    "run_demo": "demo",
    "sample_candidates": "candidates",
    "CandidatePath": "candidates",
    "dpo_loss": "dpo",
}

# The module ``iccc.train.self_reward`` and its function share a name (as ``iccc.corrupt`` does): importing
# the submodule binds the module on this package, so the function is bound here, after it, once. The
# module imports only the standard library at load time (torch stays unimported).
from .self_reward import SelfRewardResult as SelfRewardResult  # noqa: E402
from .self_reward import self_reward as self_reward  # noqa: E402

__all__ = sorted([*_LAZY, "SelfRewardResult", "self_reward"])


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
