"""Direct Preference Optimisation (DPO) for ``iccc train --objective dpo``: loss, sequence log-probs, pairs.

DPO (Rafailov et al., 2023) trains on pairs of answers to one prompt, one preferred (``chosen``) and
one not (``rejected``), without a separate reward model. With ``pi`` the model being trained and
``ref`` a frozen reference, the *implicit reward* of an answer ``y`` is
``beta * (log pi(y | x) - log ref(y | x))`` (summed over its tokens) and the loss per pair is

    ``-(1 - eps) * log sigmoid(m) - eps * log sigmoid(-m)``,  ``m = reward(chosen) - reward(rejected)``

(``eps = label_smoothing``: the conservative variant that assumes a share ``eps`` of the labels is
flipped; ``eps = 0`` is plain DPO). ``beta`` sets how far the model may move from the reference.

Here the reference is the model itself with its LoRA adapter switched off (peft's
``disable_adapter()``), so no second copy is held; under full fine-tuning (``lora=False``) a frozen
copy of the starting weights is loaded instead. The reference runs in eval mode (no dropout), so its
log-probs are a fixed function of the pair.

Pairs are TRL's DPO rows as :func:`iccc.dataset.to_dpo` (``iccc export dpo``) writes them:
``prompt``, ``chosen``, ``rejected`` (plain strings or conversational messages) and ``images`` (a
one-element list). Each answer is scored exactly as supervised training would score it as a target:
through :class:`iccc.train.data.Collator` (the processor with the image for the prompt, the
tokenizer for the answer, prompt and image positions masked), so every architecture ``iccc.train``
supports (BLIP-2, InstructBLIP, LLaVA, Qwen2-VL, encoder-decoder language models) works unchanged.

Why not TRL's ``DPOTrainer``: it is a ``transformers.Trainer`` with its own loop, checkpoints, data
order and tokenisation of the three columns; using it would replace the ``iccc train`` loop (resume
format, ``(seed, epoch)`` data order, evaluation, the architecture-aware collator) rather than reuse
it, and its loss is a trainer method, not a function. The loss is a few lines, tested against a hand
computation.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

#: Columns of a TRL DPO row (``prompt`` is ``TrainConfig.prompt_column``).
CHOSEN, REJECTED, IMAGES = "chosen", "rejected", "images"


class DPOOutput(NamedTuple):
    """What :func:`dpo_loss` returns: the mean loss (with gradient) and, detached, per-pair rewards and
    the share of pairs whose chosen reward is the higher."""

    loss: object
    chosen_rewards: object
    rejected_rewards: object
    accuracy: object


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, *, beta: float = 0.1,
             label_smoothing: float = 0.0) -> DPOOutput:
    """The DPO loss of a batch of pairs from their sequence log-probabilities (see the module docstring).

    Args:
        policy_chosen_logps, policy_rejected_logps: ``(n,)`` summed log-probs of the chosen and rejected
            answers under the model being trained (tensors with gradient, or numbers).
        ref_chosen_logps, ref_rejected_logps: ``(n,)`` the same under the reference model.
        beta: scale of the implicit reward, > 0.
        label_smoothing: assumed share of flipped labels, in [0, 0.5).

    Returns:
        A :class:`DPOOutput`: ``loss`` (scalar mean), ``chosen_rewards`` and ``rejected_rewards``
        (``(n,)``, ``beta * (policy - ref)``, detached) and ``accuracy`` (scalar: share of pairs with
        ``chosen_reward > rejected_reward``).

    >>> out = dpo_loss([-1.0], [-2.0], [-1.5], [-1.5], beta=0.5)
    >>> round(out.loss.item(), 4), out.chosen_rewards.tolist(), out.rejected_rewards.tolist(), out.accuracy.item()
    (0.4741, [0.25], [-0.25], 1.0)
    """
    import torch
    import torch.nn.functional as F

    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0 or math.isinf(beta):
        raise ValueError(f"`beta` should be a positive number, got {beta!r}.")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"`label_smoothing` should be a number in [0, 0.5), got {label_smoothing!r}.")
    names = ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps", "ref_rejected_logps")
    values = []
    for name, value in zip(names, (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)):
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float32)
        if tensor.ndim != 1 or not tensor.numel():
            raise ValueError(f"`{name}` should be a non-empty 1-D tensor (one log-prob per pair), got shape "
                             f"{tuple(tensor.shape)}.")
        if not tensor.is_floating_point():
            tensor = tensor.float()
        values.append(tensor)
    if len({tuple(v.shape) for v in values}) != 1:
        raise ValueError("The four log-prob tensors should have one shape, got "
                         + ", ".join(f"{n} {tuple(v.shape)}" for n, v in zip(names, values)) + ".")
    pc, pr, rc, rr = values
    rc, rr = rc.detach().to(pc.device, pc.dtype), rr.detach().to(pc.device, pc.dtype)
    margin = beta * ((pc - pr) - (rc - rr))
    losses = -(1.0 - label_smoothing) * F.logsigmoid(margin) - label_smoothing * F.logsigmoid(-margin)
    chosen = (beta * (pc - rc)).detach()
    rejected = (beta * (pr - rr)).detach()
    return DPOOutput(losses.mean(), chosen, rejected, (chosen > rejected).float().mean())


# ------------------------------------------------------------------------------------------- sequences
def sequence_logps(model, batch, *, seq2seq: bool = False):
    """Summed log-probability of each row's answer tokens (``labels != -100``) given image and prompt.

    Args:
        model: an image-text-to-text model (peft-wrapped or not).
        batch: a :class:`iccc.train.data.Collator` batch with ``labels`` (on the model's device).
        seq2seq: an encoder-decoder language model (labels are aligned with the decoder logits).

    Returns:
        A float32 ``(rows,)`` tensor (with gradient when enabled).
    """
    import torch

    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    if seq2seq:
        inputs["labels"] = labels  # builds the decoder inputs
    logits = model(**inputs).logits
    logits = logits[:, -labels.shape[1]:]  # text positions only, should a model prepend others
    if not seq2seq:
        logits, labels = logits[:, :-1], labels[:, 1:]
    mask = labels != -100
    index = labels.masked_fill(~mask, 0).unsqueeze(-1)
    logits = logits.float()
    token = torch.gather(logits, -1, index).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    return (token * mask).sum(-1)


def reference_logps(model, batch, *, seq2seq: bool = False, reference=None):
    """:func:`sequence_logps` under the reference, without gradient and in eval mode (no dropout).

    The reference is ``reference`` when given (a frozen copy), else ``model`` with its peft adapters
    disabled (``model`` must then be a ``PeftModel``, not a distributed wrapper of one).
    """
    import contextlib

    import torch

    scorer = model if reference is None else reference
    if reference is None and not callable(getattr(model, "disable_adapter", None)):
        raise TypeError(f"The reference is the model with its adapter disabled, but {type(model).__name__} has no "
                        "disable_adapter(); train with LoRA or pass a reference model.")
    was_training = scorer.training
    scorer.eval()
    try:
        with torch.no_grad(), (model.disable_adapter() if reference is None else contextlib.nullcontext()):
            return sequence_logps(scorer, batch, seq2seq=seq2seq)
    finally:
        scorer.train(was_training)


def pair_loss(model, batch, *, beta: float, label_smoothing: float = 0.0, seq2seq: bool = False, reference=None,
              peft_model=None, reference_context=None) -> DPOOutput:
    """The DPO loss of a :class:`PairCollator` batch (first half chosen, second half rejected).

    Args:
        model: the model being trained (may be a distributed wrapper).
        peft_model: the unwrapped ``PeftModel`` behind ``model`` whose disabled adapter is the reference
            (default: ``model`` itself); ignored when ``reference`` is given.
        reference: a frozen reference model (full fine-tuning).
        reference_context: a context manager factory around the reference pass (e.g. the accelerator's
            ``autocast``, which the unwrapped model lacks).
    """
    import contextlib

    n = batch["labels"].shape[0]
    if n % 2:
        raise ValueError(f"A pair batch should hold chosen then rejected rows (an even count), got {n}.")
    with (reference_context or contextlib.nullcontext)():
        ref = reference_logps(peft_model if peft_model is not None else model, batch, seq2seq=seq2seq,
                              reference=reference)
    policy = sequence_logps(model, batch, seq2seq=seq2seq)
    half = n // 2
    return dpo_loss(policy[:half], policy[half:], ref[:half], ref[half:], beta=beta, label_smoothing=label_smoothing)


# ------------------------------------------------------------------------------------------- rows
def message_text(value, name: str = "prompt") -> str:
    """The text of a TRL column value: a plain string, or conversational messages (their text parts).

    >>> message_text([{"role": "user", "content": [{"type": "image", "text": None}, {"type": "text", "text": "Hi."}]}])
    'Hi.'
    >>> message_text("<image>\\nWrite a caption.")
    '<image>\\nWrite a caption.'
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, (list, tuple)) or not value:
        raise TypeError(f"`{name}` should be a string or a non-empty list of messages, got {value!r}.")
    texts = []
    for message in value:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, (list, tuple)):
            texts.extend(part["text"] for part in content
                         if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str))
        else:
            raise TypeError(f"`{name}` messages should be {{'role', 'content'}} dicts, got {message!r}.")
    return "\n".join(texts)


def strip_image_token(prompt: str, token: str | None) -> str:
    """``prompt`` without the image placeholder a standard (non-conversational) DPO prompt starts with;
    the collator puts the image where the processor wants it.

    >>> strip_image_token("<image>\\nWrite a short caption.", "<image>")
    'Write a short caption.'
    """
    for t in {token, "<image>"} - {None}:
        prompt = prompt.replace(t, "")
    return prompt.strip()


def preference_row(row: dict, *, prompt_column: str = "prompt", image_column: str = IMAGES,
                   image_token: str | None = None, base_dir=None) -> dict:
    """One TRL DPO row as ``{"image", "prompt", "chosen", "rejected"}`` (an open PIL image, texts)."""
    from .data import open_image

    image = row.get(image_column)
    if isinstance(image, (list, tuple)):
        if len(image) != 1:
            raise ValueError(f"`{image_column}` should hold one image per pair, got {len(image)}.")
        image = image[0]
    if image is None:
        raise ValueError(f"`{image_column}` is empty: DPO pairs for a vision-language model need their image.")
    out = {"image": open_image(image, base_dir),
           "prompt": strip_image_token(message_text(row[prompt_column], prompt_column), image_token)}
    for name in (CHOSEN, REJECTED):
        out[name] = message_text(row[name], name).strip()
        if not out[name]:
            raise ValueError(f"`{name}` is empty.")
    if not out["prompt"]:
        raise ValueError(f"`{prompt_column}` is empty once the image placeholder is taken out.")
    return out


def pair_image_column(ds, cfg) -> str:
    """The image column of pairs: ``cfg.image_column`` when the rows have it, else TRL's ``images``."""
    from .data import has_column

    for name in (cfg.image_column, IMAGES):
        if has_column(ds, name):
            return name
    raise KeyError(f"DPO pairs lack an image column ({cfg.image_column!r} or {IMAGES!r}). Columns: "
                   f"{ds.column_names}. Export them with images (iccc export dpo on a dataset with an image column).")


def check_pair_columns(ds, cfg) -> str:
    """Check the TRL DPO columns; return the image column."""
    from .data import has_column

    missing = [c for c in (cfg.prompt_column, CHOSEN, REJECTED) if not has_column(ds, c)]
    if missing:
        raise KeyError(f"DPO pairs lack column(s) {missing}. Columns: {ds.column_names}. Write them with "
                       "iccc.dataset.to_dpo (`iccc export dpo`): prompt, chosen, rejected, images.")
    return pair_image_column(ds, cfg)


def load_pair_splits(cfg):
    """``(train, eval_or_None, base_dir)`` of DPO pairs from ``cfg.data``, split as ``load_splits`` does."""
    import datasets

    from .data import load_data

    data, base_dir = cfg.data, None
    if isinstance(data, (str, os.PathLike)):
        data = os.fspath(data)
        if not os.path.exists(data):
            raise FileNotFoundError(f"`data` not found: {data!r} (DPO pairs: a save_to_disk folder or a .jsonl/"
                                    ".json/.parquet file as `iccc export dpo` writes).")
        base_dir = data if os.path.isdir(data) else os.path.dirname(os.path.abspath(data))
        data = load_data(data)
    evaluation = None
    if isinstance(data, datasets.DatasetDict):
        if cfg.train_split not in data:
            raise KeyError(f"`train_split` {cfg.train_split!r} not in the dataset. Splits: {sorted(data)}.")
        train = data[cfg.train_split]
        if cfg.eval_split is not None and cfg.eval_split in data:
            evaluation = data[cfg.eval_split]
    elif isinstance(data, datasets.Dataset):
        train = data
    else:
        raise TypeError(f"`data` should hold a datasets.Dataset or DatasetDict, got {type(data).__name__}.")
    check_pair_columns(train, cfg)
    if evaluation is None and cfg.eval_fraction > 0:
        if len(train) < 2:
            raise ValueError(f"`eval_fraction` {cfg.eval_fraction} needs at least 2 pairs, got {len(train)}.")
        parts = train.train_test_split(test_size=cfg.eval_fraction, seed=cfg.seed, shuffle=True)
        train, evaluation = parts["train"], parts["test"]
    elif evaluation is not None:
        check_pair_columns(evaluation, cfg)
    if len(train) == 0:
        raise ValueError("The training split has no pairs.")
    return train, evaluation, base_dir


class PairDataset:
    """A map-style torch dataset over ``indices`` of TRL DPO rows: ``{"image", "prompt", "chosen", "rejected"}``."""

    def __init__(self, ds, indices=None, *, image_column=IMAGES, prompt_column="prompt", image_token=None,
                 base_dir=None):
        self.ds = ds
        self.indices = list(range(len(ds))) if indices is None else [int(i) for i in indices]
        self.options = dict(prompt_column=prompt_column, image_column=image_column, image_token=image_token,
                            base_dir=base_dir)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        index = self.indices[i]
        try:
            return preference_row(self.ds[index], **self.options)
        except (KeyError, OSError, TypeError, ValueError) as err:
            raise type(err)(f"Pair {index}: {err}") from err


class PairCollator:
    """Batches pairs as one :class:`iccc.train.data.Collator` batch: the chosen answers, then the rejected."""

    def __init__(self, processor, *, max_length=512, seq2seq=False):
        from .data import Collator

        self.collate = Collator(processor, max_length=max_length, seq2seq=seq2seq)

    def __call__(self, pairs):
        if not pairs:
            raise ValueError("Cannot collate an empty batch of pairs.")
        rows = [{"image": p["image"], "prompt": p["prompt"], "target": p[CHOSEN]} for p in pairs]
        rows += [{"image": p["image"], "prompt": p["prompt"], "target": p[REJECTED]} for p in pairs]
        return self.collate(rows)


def image_token_of(processor) -> str | None:
    token = getattr(processor, "image_token", None) or getattr(getattr(processor, "tokenizer", None), "image_token",
                                                               None)
    return token if isinstance(token, str) and token else None


# ------------------------------------------------------------------------------------------- evaluation
def evaluate_pairs(model, pairs, *, processor, beta: float = 0.1, label_smoothing: float = 0.0, batch_size: int = 8,
                   max_samples: int | None = None, max_length: int = 512, reference=None, prompt_column="prompt",
                   image_column=None, base_dir=None) -> dict:
    """DPO metrics of ``model`` on held-out pairs (TRL DPO rows).

    Returns:
        ``{"dpo_loss", "reward_accuracy", "chosen_reward", "rejected_reward", "reward_margin", "n_pairs"}``:
        means over the pairs (rewards are ``beta * (log pi - log ref)`` of each answer; the margin is
        chosen minus rejected).
    """
    import torch

    from .generation import autocast_for, batches, device_dtype, to_device
    from .modeling import is_seq2seq

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` should be a positive int, got {batch_size!r}.")
    if image_column is None:
        image_column = IMAGES if IMAGES in pairs.column_names else "image"
    n = len(pairs) if max_samples is None else min(len(pairs), max_samples)
    if not n:
        return {"dpo_loss": None, "reward_accuracy": None, "chosen_reward": None, "rejected_reward": None,
                "reward_margin": None, "n_pairs": 0}
    rows = PairDataset(pairs, range(n), image_column=image_column, prompt_column=prompt_column,
                       image_token=image_token_of(processor), base_dir=base_dir)
    seq2seq = is_seq2seq(model)
    collate = PairCollator(processor, max_length=max_length, seq2seq=seq2seq)
    device, dtype = device_dtype(model)
    totals = {"dpo_loss": 0.0, "reward_accuracy": 0.0, "chosen_reward": 0.0, "rejected_reward": 0.0}
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast_for(model):
        for chunk in batches(list(range(n)), batch_size):
            batch = to_device(collate([rows[i] for i in chunk]), device, dtype)
            out = pair_loss(model, batch, beta=beta, label_smoothing=label_smoothing, seq2seq=seq2seq,
                            reference=reference)
            k = len(chunk)
            totals["dpo_loss"] += float(out.loss) * k
            totals["reward_accuracy"] += float(out.accuracy) * k
            totals["chosen_reward"] += float(out.chosen_rewards.sum())
            totals["rejected_reward"] += float(out.rejected_rewards.sum())
    model.train(was_training)
    result = {k: v / n for k, v in totals.items()}
    result["reward_margin"] = result["chosen_reward"] - result["rejected_reward"]
    result["n_pairs"] = n
    return result


def load_reference(cfg, dtype, device):
    """A frozen copy of ``cfg.model`` in eval mode (the reference under full fine-tuning)."""
    from .modeling import load_model

    reference = load_model(cfg.model, dtype=dtype, trust_remote_code=cfg.trust_remote_code)
    reference.requires_grad_(False)
    return reference.eval().to(device)
