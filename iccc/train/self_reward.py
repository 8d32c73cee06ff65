"""Calibrated Self-Rewarding: sample, score, pair, DPO-train, repeat (``iccc.train.self_reward``).

One iteration of CSR (arXiv 2405.14622) on a vision-language model and a set of images:

1. **sample**: per image, candidate answers to one prompt by sentence-level beam search
   (:func:`iccc.train.sample_candidates`), guided by the calibrated step reward when an image scorer
   is given;
2. **score and pair**: each image's paths rewarded by their likelihood calibrated with the image-text
   score (:func:`iccc.vision.calibrated_reward`), the best against the worst as a TRL DPO row
   (:func:`iccc.dataset.calibrated_pairs`);
3. **train**: ``iccc train --objective dpo`` on the pairs (:func:`iccc.train.train`), the model
   being the previous iteration's, which is also the reference (the adapter disabled under LoRA,
   a frozen copy without it).

:func:`make_preferences` is steps 1-2 for a loaded model (``iccc preferences`` runs it once);
:func:`self_reward` runs the iterations and records each. Without an image scorer only ``alpha = 0``
is allowed: the likelihood-only reward (the model's own most against least likely answer), the
baseline CSR's calibration is compared with.

Output folder of :func:`self_reward` (``config.output_dir``)::

    OUT/iteration-K/pairs/     the DPO rows of iteration K (save_to_disk; with the reward columns)
    OUT/iteration-K/train/     the `iccc train` output of iteration K (checkpoints, log.jsonl, model)
    OUT/self_reward.json       the per-iteration records
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

#: Options of :func:`iccc.train.sample_candidates` that ``sampling=`` may set.
SAMPLING_OPTIONS = ("num_candidates", "beams", "keep_worst", "max_sentences", "max_sentence_tokens", "max_new_tokens",
                    "temperature")
RECORD_FILE = "self_reward.json"
#: The reward columns of the saved pairs (dropped from what DPO trains on).
REWARD_COLUMNS = ("chosen_reward", "rejected_reward")


@dataclass
class SelfRewardResult:
    """What :func:`self_reward` did.

    Attributes:
        records: one dict per iteration (iteration 0: the starting model's evaluation, when
            ``eval_fn`` is given): ``iteration``, ``images``, ``pairs``, ``skipped`` (reasons and
            counts), ``reward_margin`` / ``chosen_reward`` / ``rejected_reward`` (means of the
            calibrated path rewards of the pairs), ``dpo`` (first and last loss, last step's reward
            figures), ``train_eval`` (the DPO run's held-out pair metrics, if any), ``eval`` (what
            ``eval_fn`` returned), ``model_dir``, ``checkpoint_dir``, ``seconds``.
        model_dir: the final model (a checkpoint folder ``load_trained`` and ``TrainConfig(model=)`` read).
        output_dir: where everything was written.
    """

    records: list = field(default_factory=list)
    model_dir: Optional[str] = None
    output_dir: Optional[str] = None


def default_prompt(ds, *, prompt_column: str = "prompt", task_column: str = "task") -> str:
    """The prompt of ``ds``'s captioning rows (the most common one), else ``iccc.dataset.to_dpo``'s default.

    An ICCC build holds captioning rows (``task == "caption"``) whose prompt is the instruction the
    model was trained to caption with; candidates answer that instruction.
    """
    from ..dataset._export import DEFAULT_DPO_PROMPT

    names = getattr(ds, "column_names", [])
    if prompt_column in names and task_column in names:
        found = Counter(p for p, t in zip(ds[prompt_column], ds[task_column])
                        if t == "caption" and isinstance(p, str) and p.strip())
        if found:
            return found.most_common(1)[0][0]
    return DEFAULT_DPO_PROMPT


def distinct_images(ds, *, image_column: str = "image", id_column: str | None = "image_id", limit: int | None = None,
                    base_dir=None) -> list:
    """One open PIL image per distinct image of ``ds`` (by ``id_column`` when present, else per row), in order.

    Args:
        ds: a ``datasets.Dataset`` with an image column (an ``Image`` feature, paths, bytes or dicts).
        limit: at most this many images.
        base_dir: folder relative image paths are read from.
    """
    from .data import open_image

    if image_column not in ds.column_names:
        raise KeyError(f"The data has no image column {image_column!r}. Columns: {ds.column_names}.")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` should be a positive int or None, got {limit!r}.")
    rows = list(range(len(ds)))
    if id_column is not None and id_column in ds.column_names:
        seen, rows = set(), []
        for i, key in enumerate(ds[id_column]):
            if key not in seen:
                seen.add(key)
                rows.append(i)
    if limit is not None:
        rows = rows[:limit]
    view = ds.select(rows).select_columns([image_column])
    return [open_image(v, base_dir) for v in view[image_column]]


def _embedder_of(embedder):
    """An embedder object from an embedder or a dual-encoder folder (None stays None)."""
    if isinstance(embedder, (str, os.PathLike)):
        from ..vision import TransformersEmbedder

        return TransformersEmbedder(os.fspath(embedder))
    return embedder


def _scorer_of(embedder):
    if embedder is None:
        return None
    from ..dataset._preferences import image_scorer

    return image_scorer(_embedder_of(embedder))


def _check_alpha(alpha, embedder):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` should be a number in [0, 1] (the weight of the image score), got {alpha!r}.")
    if embedder is None and alpha > 0:
        raise ValueError(f"alpha={alpha!r} weighs an image-text score, but `embedder` is None: pass a dual encoder "
                         "(an iccc.vision.Embedder or its folder) or alpha=0 (likelihood-only reward).")


def _check_sampling(sampling) -> dict:
    if sampling is None:
        return {}
    if not isinstance(sampling, dict):
        raise TypeError(f"`sampling` should be a dict of sample_candidates options, got {type(sampling).__name__}.")
    unknown = sorted(set(sampling) - set(SAMPLING_OPTIONS))
    if unknown:
        raise ValueError(f"Unknown `sampling` option(s) {unknown}. Available: {', '.join(SAMPLING_OPTIONS)}.")
    return dict(sampling)


def make_preferences(model, processor, images, *, prompt: str, embedder=None, alpha: float = 0.9, mode: str = "rank",
                     seed: int = 0, sampling: dict | None = None, conversational: bool = True):
    """Candidates per image, scored and paired: ``(pairs, counts)``.

    Args:
        model, processor: the model to sample from (as ``load_trained`` returns them).
        images: the images (PIL images, paths, bytes or dicts).
        prompt: the instruction the candidates answer (e.g. :func:`default_prompt` of the data).
        embedder: an :class:`iccc.vision.Embedder`, a dual-encoder folder, or None (then ``alpha``
            must be 0: the likelihood-only reward).
        alpha, mode: options of :func:`iccc.vision.calibrated_reward` (the search's step reward and
            the pairs' path reward).
        seed: seed of the draws (image ``i``: ``(seed, i)``).
        sampling: other :func:`iccc.train.sample_candidates` options (:data:`SAMPLING_OPTIONS`).
        conversational: messages (True) or plain strings, as in :func:`iccc.dataset.to_dpo`.

    Returns:
        The TRL DPO rows of :func:`iccc.dataset.calibrated_pairs` with ``chosen_reward`` and
        ``rejected_reward`` columns, and its counts (plus ``images``).
    """
    from ..dataset import calibrated_pairs
    from .candidates import sample_candidates

    _check_alpha(alpha, embedder)
    options = _check_sampling(sampling)
    scorer = _scorer_of(embedder)
    paths = sample_candidates(model, processor, list(images), prompt, seed=seed, image_scorer=scorer, alpha=alpha,
                              mode=mode, **options)
    pairs, counts = calibrated_pairs(paths, list(images), alpha=alpha, mode=mode, prompt=prompt,
                                     conversational=conversational, with_rewards=True, return_counts=True)
    counts["images"] = len(paths)
    return pairs, counts


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _start_model(model: str, root: str) -> str:
    """A checkpoint folder for ``model``: an ``iccc train`` output's merged/ or model/ folder, its adapter merged
    into the base (saved under ``root/start-model``), or ``model`` itself (a checkpoint or hub name)."""
    if not os.path.isdir(model):
        return model
    for name in ("merged", "model"):
        if os.path.isdir(os.path.join(model, name)):
            return os.path.join(model, name)
    if os.path.isdir(os.path.join(model, "adapter")):
        from .inference import load_trained

        merged, processor = load_trained(model, device="cpu", precision="fp32")
        merged = merged.merge_and_unload()
        target = os.path.join(root, "start-model")
        merged.save_pretrained(target)
        processor.save_pretrained(target)
        return target
    return model


def self_reward(config, iterations: int = 2, *, embedder=None, alpha: float = 0.9, mode: str = "rank",
                prompt: str | None = None, max_images: int | None = None, sampling: dict | None = None,
                eval_fn: Callable[[Any, Any], dict] | None = None, log: Callable = print) -> SelfRewardResult:
    """Run ``iterations`` rounds of Calibrated Self-Rewarding (see the module docstring).

    Args:
        config: a :class:`iccc.train.TrainConfig`: ``model`` is the starting model (a checkpoint, or
            an ``iccc train`` output folder), ``data`` the images to sample on (a dataset or its
            folder, with ``config.image_column``; one image per distinct ``image_id``),
            ``output_dir`` where the iterations go. Its training options drive every DPO round;
            ``objective`` becomes ``"dpo"`` and ``data``/``model``/``output_dir`` are set per round
            (LoRA adapters are merged after each round, so the next starts from a full checkpoint).
        iterations: rounds, >= 1.
        embedder: the image-text scorer: an :class:`iccc.vision.Embedder` or a dual-encoder folder;
            None allows only ``alpha=0``.
        alpha, mode: the calibrated reward's options (:func:`iccc.vision.calibrated_reward`).
        prompt: the instruction sampled with (default: :func:`default_prompt` of the data).
        max_images: at most this many images per round (the first ones).
        sampling: :func:`iccc.train.sample_candidates` options (:data:`SAMPLING_OPTIONS`); round
            ``k`` (from 1) draws with seed ``config.seed + k - 1``.
        eval_fn: ``eval_fn(model, processor) -> dict`` run on the starting model (iteration 0) and
            after every round (e.g. caption accuracy on held-out images).
        log: where progress lines go.

    Returns:
        A :class:`SelfRewardResult`; the records are also written to ``OUT/self_reward.json``.

    Example::

        from iccc.train import TrainConfig, self_reward
        cfg = TrainConfig(model="caption_run", data="images_ds", output_dir="csr", lora=False, max_steps=20)
        result = self_reward(cfg, iterations=2, embedder="tiny-clip", alpha=0.9)
        print([r["reward_margin"] for r in result.records])
    """
    from .config import TrainConfig

    if not isinstance(config, TrainConfig):
        raise TypeError(f"`config` should be a TrainConfig, got {type(config).__name__}.")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"`iterations` should be a positive int, got {iterations!r}.")
    _check_alpha(alpha, embedder)
    _check_sampling(sampling)
    if eval_fn is not None and not callable(eval_fn):
        raise TypeError(f"`eval_fn` should be a callable (model, processor) -> dict, got {type(eval_fn).__name__}.")
    if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
        raise ValueError(f"`prompt` should be a non-empty string or None, got {prompt!r}.")

    import datasets

    from .data import load_data
    from .inference import load_trained
    from .loop import train

    root = config.output_dir
    os.makedirs(root, exist_ok=True)
    data, base_dir = config.data, None
    if isinstance(data, str):
        base_dir = data if os.path.isdir(data) else os.path.dirname(os.path.abspath(data))
        data = load_data(data)
    if isinstance(data, datasets.DatasetDict):
        if config.train_split not in data:
            raise KeyError(f"`train_split` {config.train_split!r} not in the data. Splits: {sorted(data)}.")
        data = data[config.train_split]
    images = distinct_images(data, image_column=config.image_column, limit=max_images, base_dir=base_dir)
    prompt = prompt or default_prompt(data, prompt_column=config.prompt_column, task_column=config.task_column)
    embedder = _embedder_of(embedder)  # loaded once for every round
    model_dir = _start_model(config.model, root)
    result = SelfRewardResult(output_dir=root)

    def save():
        with open(os.path.join(root, RECORD_FILE), "w", encoding="utf-8") as f:
            json.dump(result.records, f, indent=2, default=str)

    if eval_fn is not None:
        model, processor = load_trained(model_dir)
        result.records.append({"iteration": 0, "model_dir": model_dir, "eval": eval_fn(model, processor)})
        del model
        save()
    for k in range(1, iterations + 1):
        started = time.perf_counter()
        model, processor = load_trained(model_dir)
        log(f"iteration {k}/{iterations}: sampling candidates for {len(images)} images ...")
        pairs, counts = make_preferences(model, processor, images, prompt=prompt, embedder=embedder, alpha=alpha,
                                         mode=mode, seed=config.seed + k - 1, sampling=sampling)
        del model
        here = os.path.join(root, f"iteration-{k}")
        pairs.save_to_disk(os.path.join(here, "pairs"))
        record = {"iteration": k, "images": len(images), "pairs": len(pairs),
                  "skipped": {r: n for r, n in counts.items() if r not in ("exported", "images")},
                  "chosen_reward": _mean(pairs["chosen_reward"]), "rejected_reward": _mean(pairs["rejected_reward"])}
        record["reward_margin"] = None if not len(pairs) else record["chosen_reward"] - record["rejected_reward"]
        log(f"  {len(pairs)} pairs (skipped: {record['skipped'] or 'none'}), mean reward margin "
            f"{record['reward_margin'] if record['reward_margin'] is None else round(record['reward_margin'], 4)}")
        if not len(pairs):
            record.update(model_dir=model_dir, seconds=round(time.perf_counter() - started, 1),
                          note="no pairs: the model was not trained this iteration; stopped")
            result.records.append(record)
            save()
            break
        cfg = dataclasses.replace(config, model=model_dir, data=pairs.remove_columns(list(REWARD_COLUMNS)),
                                  output_dir=os.path.join(here, "train"), objective="dpo", resume=None,
                                  eval_embedder=None, merge_adapters=config.lora)
        trained = train(cfg)
        model_dir = trained.merged_dir if config.lora else trained.model_dir
        record["dpo"] = {"steps": trained.global_step, "first_loss": trained.losses[0] if trained.losses else None,
                         "last_loss": trained.losses[-1] if trained.losses else None,
                         **({f"last_{n}": v for n, v in trained.step_metrics[-1].items()}
                            if trained.step_metrics else {})}
        record["train_eval"] = trained.eval
        if eval_fn is not None:
            record["eval"] = eval_fn(trained.model, trained.processor)
        record.update(model_dir=model_dir, checkpoint_dir=trained.checkpoint_dir,
                      seconds=round(time.perf_counter() - started, 1))
        del trained
        result.records.append(record)
        save()
    result.model_dir = model_dir
    return result
