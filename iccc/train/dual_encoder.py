"""Train a tiny CLIP from scratch on the coloured-shapes world, so a dual encoder that sees the image exists offline.

:func:`train_shapes_encoder` builds a tiny CLIP (:func:`iccc.vision.tiny.build_tiny_dual_encoder`) whose
tokenizer is learned from the shapes captions, trains it contrastively on image–caption pairs of
:func:`iccc.train.synthetic.make_shapes_dataset` and saves it like any checkpoint
(``AutoModel``/``AutoProcessor.from_pretrained(out_dir)``), with ``training.json`` beside it.

Training: each step draws ``batch_size`` distinct images and one of each image's captions; the loss is
the symmetric InfoNCE of CLIP with its learned temperature, except that captions with the same text
(two single-object scenes may both be "a red circle.") count as positives of each other's images
rather than as negatives. AdamW, linear warm-up then cosine decay, CPU, torch only; the same seed
gives the same weights (on the same machine and thread count).

Evaluation on held-out images (``make_shapes_dataset(eval_images, seed=eval_seed)``): image→caption and
caption→image recall at 1 and 5 (a hit is any caption whose text is one of the image's captions), and
the *foil accuracy*: how often the image is closer to its true caption than to the same caption with
one detail made false (:data:`FOIL_KINDS`): the colour or the shape of one object, its size word, or
left/right (above/below) swapped.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from .synthetic import COLOURS, SHAPES

#: The kinds of foil :func:`make_foils` writes, in order.
FOIL_KINDS = ("colour", "shape", "size", "left_right", "above_below")

#: The settings tests use: a few seconds of training on a few images.
QUICK = dict(n_images=64, steps=20, batch_size=32, eval_images=16, hidden_size=32, num_layers=1, embed_dim=32)

_SWAPS = {
    "left_right": {"left": "right", "right": "left"},
    "above_below": {"above": "below", "below": "above", "under": "above"},
    "size": {"small": "large", "large": "small", "big": "small"},
}


def _check_int(value, name: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` should be an int >= {minimum}, got {value!r}.")
    return value


def _check_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` should be a positive finite number, got {value!r}.")
    return float(value)


def make_foils(caption: str, rng: np.random.Generator) -> dict[str, str]:
    """One false variant of a shapes ``caption`` per applicable kind of :data:`FOIL_KINDS`.

    ``colour``: one object's colour becomes a colour the caption does not name; ``shape``: one
    object's shape becomes another shape; ``size``: one size word flips (small <-> large/big);
    ``left_right`` / ``above_below``: the relation word flips. A kind whose words the caption lacks
    is left out.

    Args:
        caption: a caption from :func:`iccc.train.synthetic.describe_scene`.
        rng: picks the object and the replacement.

    Returns:
        ``{kind: foil caption}``.

    >>> sorted(make_foils("a red circle to the left of a blue square.", np.random.default_rng(0)))
    ['colour', 'left_right', 'shape']
    >>> make_foils("a small red circle.", np.random.default_rng(0))["size"]
    'a large red circle.'
    """
    if not isinstance(caption, str):
        raise TypeError(f"`caption` should be a string, got {type(caption).__name__}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"`rng` should be a numpy.random.Generator, got {type(rng).__name__}.")
    words = caption.rstrip(".").split(" ")
    end = caption[len(caption.rstrip(".")):]
    foils: dict[str, str] = {}

    def replaced(position: int, word: str) -> str:
        return " ".join(words[:position] + [word] + words[position + 1:]) + end

    colours = [i for i, w in enumerate(words) if w in COLOURS]
    if colours:
        i = colours[int(rng.integers(len(colours)))]
        unused = [c for c in COLOURS if c not in words]
        foils["colour"] = replaced(i, unused[int(rng.integers(len(unused)))])
    shapes = [i for i, w in enumerate(words) if w in SHAPES]
    if shapes:
        i = shapes[int(rng.integers(len(shapes)))]
        others = [s for s in SHAPES if s != words[i]]
        foils["shape"] = replaced(i, others[int(rng.integers(len(others)))])
    for kind in ("size", "left_right", "above_below"):
        where = [i for i, w in enumerate(words) if w in _SWAPS[kind]]
        if where:
            i = where[int(rng.integers(len(where)))]
            foils[kind] = replaced(i, _SWAPS[kind][words[i]])
    return foils


def _shapes_arrays(n_images: int, seed: int, image_size: int, max_objects: int, processor):
    """Pixel values ``(n_images, 3, s, s)`` and, per image, its captions."""
    from .synthetic import make_shapes_dataset

    ds = make_shapes_dataset(n_images, seed=seed, image_size=image_size, max_objects=max_objects)
    captions: list[list[str]] = [[] for _ in range(n_images)]
    first: dict[int, int] = {}
    for row, (image_id, caption) in enumerate(zip(ds["image_id"], ds["caption"])):
        captions[image_id].append(caption)
        first.setdefault(image_id, row)
    images = [ds[first[i]]["image"].convert("RGB") for i in range(n_images)]
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    return pixels, captions


def _tokens(processor, texts: list[str], max_length: int):
    enc = processor.tokenizer(texts, padding="max_length", truncation=True, max_length=max_length,
                              return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def _features(model, pixels=None, ids=None, mask=None, batch: int = 256):
    import torch

    out = []
    with torch.no_grad():
        n = len(pixels) if pixels is not None else len(ids)
        for start in range(0, n, batch):
            if pixels is not None:
                f = model.get_image_features(pixel_values=pixels[start:start + batch])
            else:
                f = model.get_text_features(input_ids=ids[start:start + batch], attention_mask=mask[start:start + batch])
            f = getattr(f, "pooler_output", f)
            out.append(torch.nn.functional.normalize(f, dim=-1))
    return torch.cat(out)


def _recall(scores: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Share of rows whose top ``k`` columns (by score, ties by position) hold a relevant one."""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.take_along_axis(relevant, top, axis=1).any(axis=1).mean())


def evaluate_shapes_encoder(model, processor, *, n_images: int = 200, seed: int = 1, image_size: int = 32,
                            max_objects: int = 2, max_length: int = 32) -> dict:
    """Retrieval recall and foil accuracy of a dual encoder on held-out shapes images.

    Args:
        model: a CLIP-style model with ``get_image_features`` / ``get_text_features``.
        processor: its processor.
        n_images: held-out images (``make_shapes_dataset(n_images, seed=seed)``).
        seed: their seed (keep it apart from the training seed).
        image_size, max_objects: as in the training set.
        max_length: captions are padded / truncated to this many tokens.

    Returns:
        ``{"i2t_R@1", "i2t_R@5", "t2i_R@1", "t2i_R@5", "chance_i2t_R@1", "foil_accuracy": {kind: share},
        "foil_counts": {kind: n}, "images", "captions"}``.
    """
    _check_int(n_images, "n_images")
    _check_int(seed, "seed", minimum=0)
    _check_int(max_length, "max_length", minimum=2)
    was_training = model.training
    model.eval()
    pixels, captions = _shapes_arrays(n_images, seed, image_size, max_objects, processor)
    texts = [c for cs in captions for c in cs]
    owner = np.array([i for i, cs in enumerate(captions) for _ in cs])
    unique = sorted(set(texts))
    index = {t: j for j, t in enumerate(unique)}
    # relevant[i, j]: caption text j is one of image i's captions (identical texts of two images count for both).
    relevant = np.zeros((n_images, len(unique)), dtype=bool)
    for i, cs in enumerate(captions):
        relevant[i, [index[c] for c in cs]] = True
    img = _features(model, pixels=pixels)
    txt = _features(model, None, *_tokens(processor, unique, max_length))
    scores = (img @ txt.T).numpy()
    result = {
        "i2t_R@1": _recall(scores, relevant, 1),
        "i2t_R@5": _recall(scores, relevant, 5),
        "chance_i2t_R@1": float(relevant.sum(axis=1).mean() / len(unique)),
    }
    # Caption -> image: one query per caption row, relevant images are those with that text.
    rows = np.array([index[t] for t in texts])
    result["t2i_R@1"] = _recall(scores.T[rows], relevant.T[rows], 1)
    result["t2i_R@5"] = _recall(scores.T[rows], relevant.T[rows], 5)

    rng = np.random.default_rng([seed, 7])
    pairs: dict[str, list[tuple[int, str, str]]] = {kind: [] for kind in FOIL_KINDS}
    for text, i in zip(texts, owner):
        for kind, foil in make_foils(text, rng).items():
            pairs[kind].append((int(i), text, foil))
    accuracy, counts = {}, {}
    for kind in FOIL_KINDS:
        items = pairs[kind]
        counts[kind] = len(items)
        if not items:
            accuracy[kind] = None
            continue
        ids, mask = _tokens(processor, [t for _, t, _ in items] + [f for _, _, f in items], max_length)
        feats = _features(model, None, ids, mask)
        true, false = feats[:len(items)], feats[len(items):]
        im = img[[i for i, _, _ in items]]
        accuracy[kind] = float(((im * true).sum(-1) > (im * false).sum(-1)).float().mean())
    result.update(foil_accuracy=accuracy, foil_counts=counts, images=n_images, captions=len(texts))
    model.train(was_training)
    return result


def train_shapes_encoder(out_dir, *, n_images: int = 2000, image_size: int = 32, max_objects: int = 2,
                         steps: int = 1500, batch_size: int = 64, lr: float = 1e-3, embed_dim: int = 64,
                         hidden_size: int = 64, num_layers: int = 2, patch_size: int = 4, max_length: int = 24,
                         warmup: int = 100, weight_decay: float = 0.05, seed: int = 0, eval_images: int = 200,
                         eval_seed: int = 1, log_every: int | None = None, progress: bool = False) -> dict:
    """Train a tiny CLIP from scratch on the shapes world and save it to ``out_dir``.

    Args:
        out_dir: where the model, the processor and ``training.json`` are written (created).
        n_images: training images (``make_shapes_dataset(n_images, seed=seed)``, three captions each).
        image_size: image side in pixels.
        max_objects: 1 or 2 objects per image.
        steps: optimizer steps.
        batch_size: images per step (distinct; one caption each); at most ``n_images``.
        lr: peak AdamW learning rate.
        embed_dim: size of the joint embedding (``projection_dim``).
        hidden_size: width of both towers.
        num_layers: transformer layers of each tower.
        patch_size: vision patch side (divides ``image_size``).
        max_length: caption length in tokens (the shapes captions need about 15).
        warmup: linear warm-up steps before the cosine decay.
        weight_decay: AdamW weight decay.
        seed: seed of the data, the weights and the batch sampling.
        eval_images: held-out images for :func:`evaluate_shapes_encoder` (seed ``eval_seed``).
        eval_seed: their seed; differs from ``seed``.
        log_every: record the mean loss every this many steps (default: about 50 points).
        progress: print the loss as it goes.

    Returns:
        the dict written to ``out_dir/training.json``: ``config``, ``steps``, ``seconds``,
        ``loss_curve`` (``[{"step", "loss"}]``), ``logit_scale`` and ``eval`` (see
        :func:`evaluate_shapes_encoder`).

    Example (about 10 s)::

        >>> info = train_shapes_encoder(tmp_dir, **QUICK)  # doctest: +SKIP
        >>> info["eval"]["foil_accuracy"]["colour"]  # doctest: +SKIP
    """
    from .synthetic import describe_scene, sample_scene

    for name, value in (("n_images", n_images), ("steps", steps), ("batch_size", batch_size),
                        ("embed_dim", embed_dim), ("hidden_size", hidden_size), ("num_layers", num_layers),
                        ("patch_size", patch_size), ("eval_images", eval_images)):
        _check_int(value, name)
    _check_int(image_size, "image_size", minimum=8)
    _check_int(max_length, "max_length", minimum=4)
    _check_int(warmup, "warmup", minimum=0)
    _check_int(seed, "seed", minimum=0)
    _check_int(eval_seed, "eval_seed", minimum=0)
    if max_objects not in (1, 2):
        raise ValueError(f"`max_objects` should be 1 or 2, got {max_objects!r}.")
    if batch_size < 2 or batch_size > n_images:
        raise ValueError(f"`batch_size` should be between 2 and `n_images` ({n_images}), got {batch_size!r}.")
    if eval_seed == seed:
        raise ValueError(f"`eval_seed` should differ from `seed` (held-out images), got {eval_seed!r} for both.")
    lr = _check_float(lr, "lr")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"`weight_decay` should be a number >= 0, got {weight_decay!r}.")
    if log_every is None:
        log_every = max(1, steps // 50)
    _check_int(log_every, "log_every")
    if not isinstance(progress, bool):
        raise TypeError(f"`progress` should be True or False, got {progress!r}.")

    import torch
    import transformers as tf

    from ..vision.tiny import build_tiny_dual_encoder

    started = time.perf_counter()
    out = Path(out_dir)
    # The tokenizer learns from captions of the training scenes (a cheap pass without drawing).
    vocab_texts = []
    for i in range(min(n_images, 500)):
        rng = np.random.default_rng([seed, i])
        vocab_texts += describe_scene(sample_scene(rng, max_objects=max_objects), rng)
    build_tiny_dual_encoder("clip", out, texts=vocab_texts, image_size=image_size, patch_size=patch_size,
                            hidden_size=hidden_size, projection_dim=embed_dim, num_layers=num_layers,
                            vocab_size=300, max_length=max_length, seed=seed)
    model = tf.AutoModel.from_pretrained(out)
    processor = tf.AutoProcessor.from_pretrained(out)

    pixels, captions = _shapes_arrays(n_images, seed, image_size, max_objects, processor)
    texts = [c for cs in captions for c in cs]
    ids, mask = _tokens(processor, texts, max_length)
    text_key = {t: j for j, t in enumerate(sorted(set(texts)))}
    same_text = torch.tensor([text_key[t] for t in texts])
    starts = torch.tensor(np.cumsum([0] + [len(cs) for cs in captions[:-1]]))
    counts = torch.tensor([len(cs) for cs in captions])

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": float(weight_decay)},
                                   {"params": rest, "weight_decay": 0.0}], lr=lr)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    curve, window = [], []
    for step in range(steps):
        chosen = torch.randperm(n_images, generator=generator)[:batch_size]
        pick = (torch.rand(batch_size, generator=generator) * counts[chosen]).long()
        rows = starts[chosen] + pick
        image_features = model.get_image_features(pixel_values=pixels[chosen])
        text_features = model.get_text_features(input_ids=ids[rows], attention_mask=mask[rows])
        image_features = torch.nn.functional.normalize(getattr(image_features, "pooler_output", image_features), dim=-1)
        text_features = torch.nn.functional.normalize(getattr(text_features, "pooler_output", text_features), dim=-1)
        logits = model.logit_scale.exp() * image_features @ text_features.T
        # Targets: the image's own caption, shared with any image in the batch whose caption has the same text.
        positive = (same_text[rows][:, None] == same_text[rows][None, :]).float()
        target = positive / positive.sum(1, keepdim=True)
        loss = 0.5 * (torch.nn.functional.cross_entropy(logits, target)  # ``positive`` is symmetric
                      + torch.nn.functional.cross_entropy(logits.T, target))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        window.append(float(loss.detach()))
        if (step + 1) % log_every == 0 or step + 1 == steps:
            curve.append({"step": step + 1, "loss": round(sum(window) / len(window), 5)})
            window = []
            if progress:
                print(f"step {step + 1}/{steps} loss {curve[-1]['loss']:.4f}", flush=True)
    train_seconds = time.perf_counter() - started

    model.eval()
    evaluation = evaluate_shapes_encoder(model, processor, n_images=eval_images, seed=eval_seed,
                                         image_size=image_size, max_objects=max_objects, max_length=max_length)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    config = dict(n_images=n_images, image_size=image_size, max_objects=max_objects, steps=steps,
                  batch_size=batch_size, lr=lr, embed_dim=embed_dim, hidden_size=hidden_size, num_layers=num_layers,
                  patch_size=patch_size, max_length=max_length, warmup=warmup, weight_decay=float(weight_decay),
                  seed=seed, eval_images=eval_images, eval_seed=eval_seed, log_every=log_every,
                  torch_threads=torch.get_num_threads())
    info = dict(config=config, steps=steps, seconds=round(time.perf_counter() - started, 2),
                train_seconds=round(train_seconds, 2), loss_curve=curve,
                logit_scale=round(float(model.logit_scale.exp()), 4), eval=evaluation)
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    return info
