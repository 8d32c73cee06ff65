"""Evaluation: correction accuracy (greedy generation) and captioning loss on held-out rows.

``normalize_answer`` and ``wrong_span`` are pure text functions (no heavy imports).
"""

from __future__ import annotations

import math
import re
import unicodedata

from .generation import autocast_for, batches, device_dtype, generate_texts, to_device

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|‘([^’]+)’|(?<!\w)\'([^\']+)\'(?!\w)')


def normalize_answer(text) -> str:
    """Lowercase, drop quotes and punctuation, collapse whitespace.

    >>> normalize_answer(' "Cat" should be "dog". ')
    'cat should be dog'
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise TypeError(f"`text` should be a string, got {type(text).__name__}.")
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") or ch in "`'\"" else ch for ch in text)
    return " ".join(text.split())


def wrong_span(text) -> str | None:
    """The first quoted span of a correction statement, normalised; None when nothing is quoted.

    >>> wrong_span('"black cat" should be "white dog".')
    'black cat'
    >>> wrong_span("a dog on a sofa") is None
    True
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"`text` should be a string, got {type(text).__name__}.")
    m = _QUOTED.search(text)
    if m is None:
        return None
    return normalize_answer(next(g for g in m.groups() if g is not None)) or None


def correction_scores(predictions, targets) -> dict:
    """Exact match after normalisation and wrong-span identification over aligned lists.

    >>> correction_scores(['"cat" should be "dog"', '"red" should be "dog".'], ['"cat" should be "dog".'] * 2)
    {'correction_exact': 0.5, 'span_identified': 0.5, 'n_correction': 2, 'n_span': 2}
    """
    if len(predictions) != len(targets):
        raise ValueError(f"`predictions` and `targets` should have the same length, got {len(predictions)} and "
                         f"{len(targets)}.")
    exact = sum(normalize_answer(p) == normalize_answer(t) for p, t in zip(predictions, targets))
    spans = [(wrong_span(p), wrong_span(t)) for p, t in zip(predictions, targets)]
    spans = [(p, t) for p, t in spans if t is not None]
    n = len(targets)
    return {
        "correction_exact": exact / n if n else None,
        "span_identified": sum(p == t for p, t in spans) / len(spans) if spans else None,
        "n_correction": n,
        "n_span": len(spans),
    }


def caption_loss(model, processor, rows, *, batch_size=8, max_length=512) -> float | None:
    """Mean per-token loss of the targets of ``rows`` (``{"image", "prompt", "target"}``)."""
    import torch

    from .data import Collator
    from .modeling import is_seq2seq

    if not rows:
        return None
    collate = Collator(processor, max_length=max_length, seq2seq=is_seq2seq(model))
    device, dtype = device_dtype(model)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad(), autocast_for(model):
        for chunk in batches(rows, batch_size):
            batch = to_device(collate(chunk), device, dtype)
            labels = batch["labels"]
            n = int((labels[:, 1:] != -100).sum()) if not is_seq2seq(model) else int((labels != -100).sum())
            out = model(**batch)
            total += float(out.loss.float()) * n
            count += n
    model.train(was_training)
    return total / count if count else None


def _column(ds, name) -> list:
    """The values of column ``name``: from the stored table when it is there (nothing decoded),
    else from the rows (a transform that writes it, e.g. an on-the-fly build's ``task``)."""
    import datasets

    stored = datasets.Dataset.column_names.fget(ds) if isinstance(ds, datasets.Dataset) else ds.column_names
    if name in stored and ds.format.get("type") != "custom":
        return list(ds.select_columns([name])[name])
    from ..dataset import ROW_COLUMN, find_builder

    builder = find_builder(ds)
    if builder is not None and name in builder.output_columns:
        raw = datasets.Dataset.with_format(ds, None).select_columns(builder.input_columns + [ROW_COLUMN])
        return [v for batch in raw.iter(batch_size=1000) for v in builder.build(batch, batch[ROW_COLUMN])[name]]
    return [v for i in range(0, len(ds), 256) for v in ds[i:i + 256][name]]


def evaluate(model_or_dir, dataset, *, processor=None, batch_size=8, max_new_tokens=32, max_samples=None,
             max_length=512, image_column="image", prompt_column="prompt", target_column="target",
             task_column="task", n_examples=5, base_dir=None, embedder=None, consistency_k=5,
             image_id_column="image_id") -> dict:
    """Correction accuracy and captioning loss of a model on an ICCC dataset.

    Correction rows (``task == "correction"``) are answered greedily; ``correction_exact`` is the share
    whose answer equals the target after ``normalize_answer``, ``span_identified`` the share (of rows whose
    target quotes a span) whose first quoted span equals the target's. Caption rows give ``caption_loss``,
    the mean per-token cross-entropy of their targets. Rows without a task column count as captions.

    Args:
        model_or_dir: a model (with ``processor``) or an ``iccc train`` output directory.
        dataset: a ``datasets.Dataset`` (or a save_to_disk directory) with image/prompt/target/task columns.
        max_samples: evaluate the first N correction rows and the first N caption rows at most.

    Returns:
        ``{"correction_exact", "span_identified", "n_correction", "n_span", "caption_loss", "n_caption",
        "n_skipped", "examples"}`` (metrics are None when there are no rows of that task;
        ``n_skipped``: rows left out for want of a usable prompt or target, e.g. a build's rows
        whose caption is missing, empty or not a string).

    With ``embedder`` (an :class:`iccc.vision.Embedder`, or the folder of a CLIP/SigLIP-style
    checkpoint loaded as :class:`iccc.vision.TransformersEmbedder`) the caption rows are also
    answered greedily and the generated captions scored against their images and references by
    :func:`iccc.train.caption_metrics.caption_consistency` (image–text similarity and the
    retrieval-consistency scores of Cross-modal Identity Mapping, ``consistency_k`` images
    retrieved; rows of one image are one gallery image, by ``image_id_column`` when present), under
    the names that function returns prefixed with ``caption_`` (e.g. ``caption_retrieval_qgr``),
    with ``caption_examples``.

    The columns may be ones a transform writes (an on-the-fly build, also after
    ``train_test_split``): they are read from the rows, not only from the stored table.
    """
    import os

    from .data import check_columns, has_column, load_data, open_image, usable_rows

    if isinstance(model_or_dir, (str, os.PathLike)):
        from .inference import load_trained

        model, loaded_processor = load_trained(model_or_dir)
        processor = processor or loaded_processor
    else:
        model = model_or_dir
        if processor is None:
            raise ValueError("`processor` is required when `model_or_dir` is a model object.")
    if isinstance(dataset, (str, os.PathLike)):
        import datasets

        path = os.fspath(dataset)
        base_dir = base_dir or (path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
        dataset = load_data(path)
        if isinstance(dataset, datasets.DatasetDict):
            raise ValueError(f"`dataset` should be one split, got a DatasetDict with {sorted(dataset)}.")
    for name, value in (("batch_size", batch_size), ("max_new_tokens", max_new_tokens)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` should be a positive int, got {value!r}.")
    if isinstance(consistency_k, bool) or not isinstance(consistency_k, int) or consistency_k < 1:
        raise ValueError(f"`consistency_k` should be a positive int, got {consistency_k!r}.")
    if embedder is not None and not isinstance(embedder, (str, os.PathLike)) and not all(
            callable(getattr(embedder, m, None)) for m in ("encode_images", "encode_texts")):
        raise TypeError(f"`embedder` should be an iccc.vision.Embedder or a dual-encoder folder, got "
                        f"{type(embedder).__name__}.")
    if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int)
                                    or max_samples < 1):
        raise ValueError(f"`max_samples` should be a positive int or None, got {max_samples!r}.")
    check_columns(dataset, image_column=image_column, prompt_column=prompt_column, target_column=target_column)
    usable, skipped = usable_rows(dataset, prompt_column=prompt_column, target_column=target_column)
    tasks = _column(dataset, task_column) if has_column(dataset, task_column) else ["caption"] * len(dataset)
    limit = math.inf if max_samples is None else max_samples
    corr_idx, cap_idx = [], []
    for i in usable:
        task = tasks[i]
        if task == "correction" and len(corr_idx) < limit:
            corr_idx.append(i)
        elif task != "correction" and len(cap_idx) < limit:
            cap_idx.append(i)

    def rows(indices):
        out = []
        for i in indices:
            r = dataset[int(i)]
            out.append({"image": open_image(r[image_column], base_dir), "prompt": r[prompt_column],
                        "target": r[target_column]})
        return out

    correction_rows = rows(corr_idx)
    predictions = generate_texts(model, processor, correction_rows, batch_size=batch_size,
                                 max_new_tokens=max_new_tokens)
    result = correction_scores(predictions, [r["target"] for r in correction_rows])
    result["caption_loss"] = caption_loss(model, processor, rows(cap_idx), batch_size=batch_size,
                                          max_length=max_length)
    result["n_caption"] = len(cap_idx)
    if embedder is not None:
        result.update(_caption_consistency(model, processor, dataset, cap_idx, rows, embedder, batch_size=batch_size,
                                           max_new_tokens=max_new_tokens, k=consistency_k,
                                           image_id_column=image_id_column, n_examples=n_examples))
    result["n_skipped"] = skipped
    result["examples"] = [{"prompt": r["prompt"], "target": r["target"], "prediction": p}
                          for r, p in list(zip(correction_rows, predictions))[:n_examples]]
    return result


def _caption_consistency(model, processor, dataset, indices, rows, embedder, *, batch_size, max_new_tokens, k,
                         image_id_column, n_examples) -> dict:
    """The ``caption_*`` metrics of :func:`evaluate` (captions generated for the caption rows)."""
    import os

    from .caption_metrics import caption_consistency
    from .data import has_column

    if isinstance(embedder, (str, os.PathLike)):
        from ..vision import TransformersEmbedder

        embedder = TransformersEmbedder(embedder)
    if not indices:
        return {"caption_n_rows": 0}
    caption_rows = rows(indices)
    generated = generate_texts(model, processor, caption_rows, batch_size=batch_size, max_new_tokens=max_new_tokens)
    keys = None
    if image_id_column and has_column(dataset, image_id_column):
        ids = _column(dataset, image_id_column)
        keys = [ids[int(i)] for i in indices]
        if any(key is None for key in keys):
            keys = None
    scores = caption_consistency([r["image"] for r in caption_rows], generated, [r["target"] for r in caption_rows],
                                 embedder, k=k, image_keys=keys, batch_size=batch_size)
    out = {f"caption_{name}": value for name, value in scores.items()}
    out["caption_examples"] = [{"prompt": r["prompt"], "target": r["target"], "prediction": g}
                               for r, g in list(zip(caption_rows, generated))[:n_examples]]
    return out
