"""Exports of corrupted captions to other training recipes.

The same negatives that train caption correction also make

* preference pairs for DPO in TRL's format (:func:`to_dpo`): the real caption is chosen, the
  corrupted one rejected;
* contrastive hard negatives in the NegCLIP TSV shape (:func:`to_negclip`): a caption, its image
  and a list of negative captions, several per caption drawn with different epochs;
* SugarCrepe-shaped evaluation files (:func:`to_sugarcrepe`): one JSON per type (``replace_obj``,
  ``swap_att``, ...) of ``{"filename", "caption", "negative_caption"}``.

Every function takes a dataset with ``caption``, ``corrupted_caption`` and ``image`` columns (the
output of ``ds.map(iccc.corrupt, ...)`` or of :func:`iccc.build_dataset`). A row without a usable
negative (no corruption, a captioning sample, a negative equal to its caption) is skipped and
counted, never an error; ``return_counts=True`` returns the counts next to the result.
Images are never decoded.
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .. import columns
from ..corrupt import STATUS_COLUMN
from ..streams import Streams
from ._checks import check_bool, check_count, check_positive
from ._prompts import CAPTION_PROMPTS
from ._samples import BUILD_STATUS, CONCEPT_KIND, CORRUPTED_CAPTION, OPERATION, TASK, TASK_CORRECTION

IMAGE, IMAGE_ID, CAPTION, CORRUPTED = columns.IMAGE, columns.IMAGE_ID, columns.CAPTION, CORRUPTED_CAPTION
#: Columns that may hold a row's corruption status, looked for in this order.
STATUS_COLUMNS = (STATUS_COLUMN, "status", BUILD_STATUS)
EXPORTED = "exported"

#: The captioning instruction of :func:`to_dpo` (the chosen answer is the real caption): the
#: first of the build's :data:`~iccc.dataset.CAPTION_PROMPTS`.
DEFAULT_DPO_PROMPT = CAPTION_PROMPTS[0]

#: iccc's (operation, concept kind) -> SugarCrepe's negative type. Counts are attributes of a noun
#: ("two dogs"), verbs are actions that SugarCrepe counts as relations ("riding" -> "walking"), and
#: swapping a relation's arguments exchanges two objects ("a cat on a dog").
SUGARCREPE_TYPES: dict[tuple[str, str], str] = {
    ("replace", "entity"): "replace_obj",
    ("replace", "noun"): "replace_obj",
    ("replace", "attribute"): "replace_att",
    ("replace", "count"): "replace_att",
    ("replace", "verb"): "replace_rel",
    ("replace", "relation"): "replace_rel",
    ("swap", "noun"): "swap_obj",
    ("swap", "relation"): "swap_obj",
    ("swap", "attribute"): "swap_att",
    ("add", "entity"): "add_obj",
    ("add", "attribute"): "add_att",
}

#: The purposes (:data:`iccc.streams.PURPOSES`) of the exporters' draws: the DPO prompt phrasing
#: of a row, and the hard-negative images of a NegCLIP row. Their epoch is always 0.
PROMPT_PURPOSE, PAIRS_PURPOSE = "export-prompt", "export-pairs"

#: Column names of the NegCLIP TSV (after its unnamed index column).
NEGCLIP_COLUMNS = ("title", "filepath", "neg_caption", "neg_image")


# ------------------------------------------------------------------------------ shared helpers
def _check_dataset(ds, *needed: str):
    from datasets import Dataset

    if not isinstance(ds, Dataset):
        hint = " Pick a split first (ds['train'])." if type(ds).__name__.endswith("Dict") else ""
        raise TypeError(f"`ds` should be a datasets.Dataset, got {type(ds).__name__}.{hint}")
    missing = [c for c in needed if c not in ds.column_names]
    if missing:
        raise KeyError(f"`ds` has no column(s) {missing}. Available: {ds.column_names}.")


def _status_column(ds) -> str | None:
    return next((c for c in STATUS_COLUMNS if c in ds.column_names), None)


def _skip_reason(caption, negative, status, task) -> str | None:
    """Why a row gives no (caption, negative) pair, or ``None`` when it does."""
    if not isinstance(caption, str) or not caption.strip():
        return "no_caption"
    if not isinstance(negative, str) or not negative.strip():
        if status not in (None, "ok"):
            return f"not_corrupted:{status}"
        if task not in (None, TASK_CORRECTION):
            return f"task:{task}"
        return "not_corrupted"
    if negative == caption:
        return "negative_equals_caption"
    return None


def _pair_reasons(ds, caption_column: str, corrupted_column: str) -> list[str | None]:
    """One skip reason (or ``None``) per row, reading only the text columns."""
    status = _status_column(ds)
    names = [caption_column, corrupted_column] + [c for c in (status, TASK) if c and c in ds.column_names]
    reasons = []
    for batch in ds.select_columns(names).iter(batch_size=2000):
        n = len(batch[caption_column])
        statuses = batch[status] if status else [None] * n
        tasks = batch[TASK] if TASK in batch else [None] * n
        for cap, neg, st, task in zip(batch[caption_column], batch[corrupted_column], statuses, tasks):
            reasons.append(_skip_reason(cap, neg, st, task))
    return reasons


def _image_refs(ds, image_column: str | None) -> list:
    """Image paths (or ``None``) per row, without decoding: a path column as is, the stored path of
    an ``Image`` feature."""
    from datasets import Image

    if image_column is None or image_column not in ds.column_names:
        return [None] * len(ds)
    feature = ds.features[image_column]
    view = ds.select_columns([image_column])
    if isinstance(feature, Image):
        view = view.cast_column(image_column, Image(decode=False))
        return [v.get("path") if isinstance(v, dict) else None for v in view[image_column]]
    return [v if isinstance(v, str) else None for v in view[image_column]]


def _filename(ref, relative_to: str | None):
    if ref is None or relative_to is None:
        return ref
    try:
        return os.path.relpath(ref, relative_to)
    except ValueError:  # another drive on Windows
        return ref


def _finish(result, counts: Counter, return_counts: bool):
    return (result, counts) if return_counts else result


# ------------------------------------------------------------------------------ DPO
def to_dpo(
    ds,
    *,
    prompt: str | Sequence[str] = DEFAULT_DPO_PROMPT,
    conversational: bool = True,
    seed: int = 0,
    image_column: str | None = IMAGE,
    caption_column: str = CAPTION,
    corrupted_column: str = CORRUPTED,
    image_features: bool = True,
    keep_columns: Sequence[str] = (),
    return_counts: bool = False,
    image_token: str | None = None,
    processor: Any = None,
    rank_by: Any = None,
    n_candidates: int = 4,
    concepts: Any = None,
    alpha: float = 0.5,
    nlp: Any = None,
):
    """Preference pairs in TRL's DPO format: the real caption chosen, the corrupted one rejected.

    Columns: ``prompt``, ``chosen``, ``rejected`` and, when the rows have images, ``images`` (a
    one-element list, as TRL's vision DPO expects). ``conversational=True`` writes messages::

        prompt   = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        chosen   = [{"role": "assistant", "content": [{"type": "text", "text": caption}]}]
        rejected = [{"role": "assistant", "content": [{"type": "text", "text": corrupted}]}]

    ``conversational=False`` writes plain strings. With images, a standard prompt starts with the
    processor's image token and a newline (``"<image>\\nWrite a short caption for this image."``):
    TRL hands the text to the processor as it is, and a processor such as LLaVA's counts one token
    per image. The token is ``image_token``, else ``processor.image_token``, else ``"<image>"``.
    Rows without a usable negative are skipped and counted;
    so are rows without an image when other rows have one (an image-less dataset gives text-only
    pairs without ``images``).

    **Choosing the hardest corruption** (``rank_by``): when a caption has several corruptions, the
    rejected answer is the one that reads most like a real caption yet fits the image least: the
    most useful negative for preference training (a negative the model would never write teaches
    little; one that fits the image is no negative). The candidates are the lists of a
    ``corrupted_column`` holding lists of strings, else up to ``n_candidates`` distinct corruptions
    drawn with ``concepts`` (the row's ``corrupted_caption`` first, then the ``"corrupt"`` streams of
    epochs 1, 2, ...: the draws of :func:`to_negclip`). ``rank_by`` is

    - an :class:`iccc.vision.Embedder` (a dual encoder): each candidate gets a *text plausibility*
      (cosine of its text vector with the real caption's) and an *image consistency* (cosine with
      the image's vector); the two are combined by rank among the caption's candidates with
      :func:`iccc.vision.calibrated_reward` (``mode="rank"``), the image side reversed:
      ``(1 - alpha) * rank(plausibility) + alpha * rank(-consistency)``; or
    - a callable ``rank_by(image, caption, candidates) -> scores`` (one number per candidate, higher =
      the better negative), e.g. a language model's log-probability minus an image score.

    The highest-scoring candidate is rejected (ties: the first, so the row's own corruption wins a
    tie). Without ``rank_by`` the row's ``corrupted_caption`` is used as it is. Columns carried with
    ``keep_columns`` are the row's own (e.g. its ``operation`` describes the epoch-0 corruption, which
    need not be the one chosen). The counts gain ``ranked`` (rows chosen among two or more) and
    ``candidates=k``.

    Args:
        ds: a ``datasets.Dataset`` with the caption, corrupted caption and (optionally) image columns.
        prompt: the instruction the captions answer; a sequence of phrasings (e.g.
            ``iccc.dataset.CAPTION_PROMPTS``) gives one per row, drawn from the row's
            ``"export-prompt"`` stream of :mod:`iccc.streams` (``(seed, 0, row of ds)``).
        conversational: messages (True) or plain strings (False).
        seed: seed of the per-row prompt draws (only used with several phrasings).
        image_column: the image column (path strings or an ``Image`` feature); ``None`` (or no
            ``image`` column) for text-only pairs.
        caption_column, corrupted_column: the chosen and rejected texts.
        image_features: store path strings as a list of ``datasets.Image`` (opened only when a row
            is read, so TRL gets PIL images); ``False`` keeps the path strings.
        keep_columns: other columns of ``ds`` to carry over (e.g. ``["image_id", "operation"]``).
        return_counts: also return a ``Counter`` of exported rows and skip reasons.
        image_token: the image placeholder of standard prompts with images (default: the
            processor's, else ``"<image>"``); ignored for conversational or text-only pairs.
        processor: a ``transformers`` processor to read ``image_token`` from.
        rank_by: an embedder or a scoring callable choosing among several corruptions (see above);
            ``None`` (default): the row's corruption.
        n_candidates: corruptions drawn per caption with ``concepts`` (with ``rank_by``), >= 2.
        concepts: the :class:`iccc.ConceptBase` to draw candidates from (with ``rank_by``, when the
            corrupted column holds single strings).
        alpha: with an embedder as ``rank_by``: weight of image inconsistency against text
            plausibility, in [0, 1].
        nlp: spaCy pipeline for parsing when ``ds`` has no ``concepts`` column (drawing candidates).

    >>> from datasets import Dataset
    >>> ds = Dataset.from_dict({"caption": ["A red bus.", "A dog."], "corrupted_caption": ["A blue bus.", None],
    ...                         "image": ["1.jpg", "2.jpg"]})
    >>> pairs, counts = to_dpo(ds, conversational=False, image_features=False, return_counts=True)
    >>> pairs[0], dict(counts)
    ({'prompt': '<image>\\nWrite a short caption for this image.', 'chosen': 'A red bus.', 'rejected': 'A blue bus.', \
'images': ['1.jpg']}, {'exported': 1, 'not_corrupted': 1})
    """
    _check_dataset(ds, caption_column, corrupted_column, *keep_columns)
    token = resolve_image_token(image_token, processor)
    prompts = (prompt,) if isinstance(prompt, str) else tuple(prompt) if isinstance(prompt, Sequence) else ()
    if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise ValueError(f"`prompt` should be a non-empty string or a sequence of them, got {prompt!r}.")
    seed = check_count("seed", seed)
    for name, value in (("conversational", conversational), ("image_features", image_features),
                        ("return_counts", return_counts)):
        check_bool(name, value)
    if image_column == IMAGE and IMAGE not in ds.column_names:
        image_column = None  # the default column is absent: text-only pairs
    if image_column is not None and image_column not in ds.column_names:
        raise KeyError(f"`image_column` {image_column!r} not found. Available: {ds.column_names}; "
                       f"pass image_column=None for text-only pairs.")
    ranking = rank_by is not None
    if ranking:
        _check_rank_options(rank_by, n_candidates, alpha)
        reasons, candidates = _candidates(ds, n_candidates=n_candidates, concepts=concepts, seed=seed,
                                          caption_column=caption_column, corrupted_column=corrupted_column, nlp=nlp)
    else:
        for name, value in (("concepts", concepts), ("nlp", nlp)):
            if value is not None:
                raise ValueError(f"`{name}` is only used to draw candidates for `rank_by`; pass rank_by= too "
                                 "(an embedder or a scoring callable) or drop it.")
        reasons = _pair_reasons(ds, caption_column, corrupted_column)
    refs = _image_refs(ds, image_column)
    has_images = image_column is not None and any(r is not None for r in refs) or _is_image_feature(ds, image_column)
    if has_images and not _is_image_feature(ds, image_column):
        reasons = [r if r is not None or ref is not None else "no_image" for r, ref in zip(reasons, refs)]
    keep = [i for i, r in enumerate(reasons) if r is None]
    counts = Counter({EXPORTED: len(keep)})
    counts.update(r for r in reasons if r is not None)
    rows = ds.select(keep)
    chosen_negatives = None
    if ranking:
        if not has_images:
            raise ValueError("`rank_by` ranks corruptions by how well they fit the image, but `ds` has no images "
                             f"(image_column={image_column!r}); pass the image column or drop rank_by.")
        chosen_negatives = _rank_candidates(rows, [candidates[i] for i in keep], rank_by, alpha=alpha,
                                            image_column=image_column, caption_column=caption_column, counts=counts)

    def texts(captions, negatives, indices):
        if chosen_negatives is not None:
            negatives = [chosen_negatives[i] for i in indices]
        if len(prompts) == 1:
            chosen_prompts = [prompts[0]] * len(captions)
        else:  # one phrasing per source row (its index in ``ds``), whatever the batching
            streams = Streams(seed, 0, [keep[i] for i in indices], PROMPT_PURPOSE)
            chosen_prompts = [streams[k].choice(prompts) for k in range(len(streams))]
        return dpo_columns(chosen_prompts, captions, negatives, conversational=conversational, has_images=has_images,
                           image_token=token)

    out = rows.map(texts, input_columns=[caption_column, corrupted_column], batched=True, with_indices=True,
                   desc=None)
    names = ["prompt", "chosen", "rejected"]
    if has_images:
        out = _wrap_images(out, image_column, image_features)
        names.append("images")
    out = out.select_columns(names + [c for c in keep_columns if c not in names])
    return _finish(out, counts, return_counts)


def _is_embedder(value) -> bool:
    return callable(getattr(value, "encode_images", None)) and callable(getattr(value, "encode_texts", None))


def _check_rank_options(rank_by, n_candidates, alpha) -> None:
    if not (_is_embedder(rank_by) or callable(rank_by)):
        raise TypeError(f"`rank_by` should be an embedder (with encode_images and encode_texts, e.g. "
                        f"iccc.vision.TransformersEmbedder) or a callable (image, caption, candidates) -> scores, got "
                        f"{type(rank_by).__name__}.")
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, (int, np.integer)) or n_candidates < 2:
        raise ValueError(f"`n_candidates` should be an integer >= 2 (corruptions to choose among), got {n_candidates!r}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` should be a number in [0, 1] (the weight of image inconsistency), got {alpha!r}.")


def _candidates(ds, *, n_candidates, concepts, seed, caption_column, corrupted_column, nlp):
    """``(reasons, candidates)`` per row for ``to_dpo(rank_by=...)``: the lists of a list-valued corrupted
    column, else up to ``n_candidates`` corruptions drawn with ``concepts`` (see :func:`_negatives`)."""
    captions = ds.select_columns([caption_column])[caption_column]
    values = ds.select_columns([corrupted_column])[corrupted_column]
    if any(isinstance(v, (list, tuple)) for v in values):
        reasons, out = [], []
        for cap, found in zip(captions, values):
            if not isinstance(cap, str) or not cap.strip():
                reasons.append("no_caption")
                out.append([])
                continue
            found = [found] if isinstance(found, str) else list(found or [])
            distinct = []
            for text in found:
                if isinstance(text, str) and text.strip() and text != cap and text not in distinct:
                    distinct.append(text)
            reasons.append(None if distinct else "not_corrupted")
            out.append(distinct)
        return reasons, out
    if concepts is None:
        raise ValueError(f"`rank_by` chooses among several corruptions of a caption, but {corrupted_column!r} holds "
                         "one per row: pass concepts= (the iccc.ConceptBase) to draw n_candidates per caption, or a "
                         "corrupted column holding lists of candidates.")
    group = IMAGE_ID if IMAGE_ID in ds.column_names else None
    out, _ = _negatives(ds, n_negatives=int(n_candidates), concepts=concepts, seed=seed,
                        max_draws=4 * int(n_candidates) + 4, caption_column=caption_column,
                        corrupted_column=corrupted_column, group_column=group, nlp=nlp, corrupt_options={})
    first = _pair_reasons(ds, caption_column, corrupted_column)
    reasons = [None if negs else (first[i] or "not_corrupted") for i, negs in enumerate(out)]
    return reasons, out


def _rank_candidates(rows, candidates, rank_by, *, alpha, image_column, caption_column, counts) -> list[str]:
    """The chosen corruption of each of ``rows`` (see :func:`to_dpo`, ``rank_by``)."""
    from ..vision.reward import calibrated_reward

    embedder = _is_embedder(rank_by)
    captions = rows.select_columns([caption_column])[caption_column]
    images = rows.select_columns([image_column])
    chosen = [c[0] for c in candidates]
    for start in range(0, len(rows), _RANK_CHUNK):
        stop = min(start + _RANK_CHUNK, len(rows))
        several = [i for i in range(start, stop) if len(candidates[i]) > 1]
        for i in range(start, stop):
            counts[f"candidates={len(candidates[i])}"] += 1
        if not several:
            continue
        batch = images.select(several)[image_column]  # decodes an Image column: PIL images
        present = [k for k, image in enumerate(batch) if image is not None]
        counts["unranked:no_image"] += len(several) - len(present)
        if not present:
            continue
        if embedder:
            image_vectors = np.asarray(rank_by.encode_images([batch[k] for k in present]), dtype=np.float64)
            texts = sorted({t for k in present for t in (captions[several[k]], *candidates[several[k]])})
            where = {t: j for j, t in enumerate(texts)}
            text_vectors = np.asarray(rank_by.encode_texts(texts), dtype=np.float64)
        for n, k in enumerate(present):
            i = several[k]
            options = candidates[i]
            if embedder:
                vectors = text_vectors[[where[t] for t in options]]
                plausibility = vectors @ text_vectors[where[captions[i]]]
                consistency = vectors @ image_vectors[n]
                scores = calibrated_reward(plausibility.tolist(), (-consistency).tolist(), alpha=alpha, mode="rank")
            else:
                scores = _user_scores(rank_by(batch[k], captions[i], list(options)), len(options))
            chosen[i] = options[int(np.argmax(scores))]
            counts["ranked"] += 1
    return chosen


def _user_scores(scores, n: int) -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`rank_by` should return one number per candidate, got {scores!r:.80}.") from None
    if values.shape != (n,) or not np.isfinite(values).all():
        raise ValueError(f"`rank_by` should return {n} finite numbers (one per candidate), got {scores!r:.80}.")
    return values


#: Rows whose images and texts :func:`to_dpo` embeds at once when ranking candidates.
_RANK_CHUNK = 512


#: The image placeholder of standard (non-conversational) prompts when no processor says otherwise.
DEFAULT_IMAGE_TOKEN = "<image>"


def dpo_columns(prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str], *, conversational: bool,
                has_images: bool, image_token: str = DEFAULT_IMAGE_TOKEN) -> dict[str, list]:
    """The ``prompt``, ``chosen`` and ``rejected`` columns of TRL DPO rows, as :func:`to_dpo` writes them
    (one place for the format: :func:`iccc.dataset.calibrated_pairs` writes the same).

    >>> dpo_columns(["Caption:"], ["a red bus."], ["a blue bus."], conversational=False, has_images=True)
    {'prompt': ['<image>\\nCaption:'], 'chosen': ['a red bus.'], 'rejected': ['a blue bus.']}
    """
    if conversational:
        user = [{"type": "image", "text": None}] if has_images else []
        return {
            "prompt": [[{"role": "user", "content": user + [{"type": "text", "text": p}]}] for p in prompts],
            "chosen": [[{"role": "assistant", "content": [{"type": "text", "text": c}]}] for c in chosen],
            "rejected": [[{"role": "assistant", "content": [{"type": "text", "text": n}]}] for n in rejected],
        }
    if has_images:
        prompts = [with_image_token(p, image_token) for p in prompts]
    return {"prompt": list(prompts), "chosen": list(chosen), "rejected": list(rejected)}


def resolve_image_token(image_token: str | None = None, processor: Any = None) -> str:
    """``image_token``, else the ``image_token`` of ``processor`` (or of its tokenizer), else ``"<image>"``.

    >>> resolve_image_token(), resolve_image_token("<|image_pad|>")
    ('<image>', '<|image_pad|>')
    """
    if image_token is not None:
        if not isinstance(image_token, str) or not image_token.strip():
            raise ValueError(f"`image_token` should be a non-empty string (the processor's image placeholder, e.g. "
                             f"'<image>'), got {image_token!r}.")
        return image_token
    if processor is not None:
        for source in (processor, getattr(processor, "tokenizer", None)):
            token = getattr(source, "image_token", None)
            if isinstance(token, str) and token.strip():
                return token
        raise ValueError(f"`processor` ({type(processor).__name__}) has no `image_token`; pass image_token= "
                         "(the placeholder its processor expects in the text).")
    return DEFAULT_IMAGE_TOKEN


def with_image_token(prompt: str, token: str) -> str:
    """``prompt`` with the image placeholder in front (once: a prompt that has it stays as it is)."""
    return prompt if token in prompt else f"{token}\n{prompt}"


def _is_image_feature(ds, column) -> bool:
    from datasets import Image

    return column is not None and column in ds.column_names and isinstance(ds.features[column], Image)


def _wrap_images(ds, column: str, image_features: bool):
    """``images`` = ``[image]`` per row, done on Arrow data (nothing decoded)."""
    import pyarrow as pa
    from datasets import Image, List

    feature = ds.features[column]
    is_image = isinstance(feature, Image)

    def wrap(table: pa.Table) -> pa.Table:
        values = table.column(column).combine_chunks()
        offsets = pa.array(np.arange(len(values) + 1, dtype=np.int32))
        return table.append_column("images", pa.ListArray.from_arrays(offsets, values))

    out = ds.with_format("arrow").map(wrap, batched=True, desc=None).with_format(None)
    if is_image:
        return out.cast_column("images", List(feature))
    if image_features:
        return out.cast_column("images", List(Image()))
    return out


# ------------------------------------------------------------------------------ NegCLIP
def to_negclip(
    ds,
    path: str | os.PathLike | None = None,
    *,
    n_negatives: int = 1,
    concepts: Any = None,
    seed: int = 0,
    n_negative_images: int = 3,
    image_column: str | None = IMAGE,
    caption_column: str = CAPTION,
    corrupted_column: str = CORRUPTED,
    group_column: str | None = IMAGE_ID,
    relative_to: str | os.PathLike | None = None,
    max_draws: int | None = None,
    nlp: Any = None,
    return_counts: bool = False,
    **corrupt_options,
):
    """Hard negatives in the NegCLIP shape: ``title`` (the caption), ``filepath`` (its image),
    ``neg_caption`` (a list of negative captions) and ``neg_image`` (rows of other images).

    The first negative is the row's ``corrupted_caption`` when it has one; with ``concepts`` (the
    :class:`iccc.ConceptBase`) more are drawn, each from the row's ``"corrupt"`` stream of another
    epoch (:mod:`iccc.streams`: ``(seed, epoch, row)``, epochs 0, 1, ...: the same draws as
    ``ds.map(iccc.corrupt, ..., fn_kwargs={"seed": seed, "epoch": k})``), keeping distinct ones until
    ``n_negatives`` are found or ``max_draws`` epochs were tried; a row may so end with fewer.
    ``neg_image`` holds ``n_negative_images`` output rows of other images whose captions share the
    most content words (NegCLIP's hard-negative images were CLIP neighbours; word overlap is the
    text-only stand-in); the choices among equals come from the row's ``"export-pairs"`` stream of
    ``seed``.

    With ``path`` the table is written as NegCLIP's TSV (a leading unnamed index column; lists as
    Python literals, read back with ``ast.literal_eval``); ``.csv`` gives commas, ``.gz`` gzip.

    Args:
        ds: a ``datasets.Dataset`` with the caption (and optionally corrupted caption) columns.
        path: where to write the table (optional).
        n_negatives: negatives wanted per caption.
        concepts: the concept base to draw more negatives from (needed when ``n_negatives`` > 1
            or when ``ds`` has no corrupted caption column).
        seed: seed of the draws and of the hard-negative images.
        n_negative_images: entries of ``neg_image`` per row (0 for an empty list).
        relative_to: write image paths relative to this folder.
        max_draws: epochs tried per row (default ``4 * n_negatives + 4``).
        nlp: spaCy pipeline for parsing when ``ds`` has no ``concepts`` column.
        return_counts: also return a ``Counter`` of exported rows, skip reasons and negatives per row.
        **corrupt_options: passed to :class:`iccc.Corruptor` (``operations``, ``kinds``, ``p_swap``, ...).

    Returns:
        A ``datasets.Dataset`` with the four NegCLIP columns (and the counts).

    >>> from datasets import Dataset
    >>> ds = Dataset.from_dict({"caption": ["A red bus.", "A dog."], "corrupted_caption": ["A blue bus.", None],
    ...                         "image": ["1.jpg", "2.jpg"], "image_id": [1, 2]})
    >>> to_negclip(ds, n_negative_images=0).to_list()
    [{'title': 'A red bus.', 'filepath': '1.jpg', 'neg_caption': ['A blue bus.'], 'neg_image': []}]
    """
    from datasets import Dataset, Features, List, Value

    _check_dataset(ds, caption_column)
    for name, value, low in (("n_negatives", n_negatives, 1), ("n_negative_images", n_negative_images, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"`{name}` should be an integer >= {low}, got {value!r}.")
    seed = check_count("seed", seed)
    max_draws = check_positive("max_draws", 4 * n_negatives + 4 if max_draws is None else max_draws)
    check_bool("return_counts", return_counts)
    has_corrupted = corrupted_column in ds.column_names
    if concepts is None and (n_negatives > 1 or not has_corrupted):
        why = f"n_negatives={n_negatives}" if has_corrupted else f"`ds` has no {corrupted_column!r} column"
        raise ValueError(f"{why}: pass `concepts=` (the iccc.ConceptBase) to draw negatives.")
    if concepts is None and corrupt_options:
        raise ValueError(f"Corruption options {sorted(corrupt_options)} need `concepts=` (the iccc.ConceptBase).")
    if group_column is not None and group_column not in ds.column_names:
        group_column = None
    relative_to = os.fspath(relative_to) if relative_to is not None else None

    negatives, counts = _negatives(ds, n_negatives=n_negatives, concepts=concepts, seed=seed, max_draws=max_draws,
                                   caption_column=caption_column, corrupted_column=corrupted_column,
                                   group_column=group_column, nlp=nlp, corrupt_options=corrupt_options)
    keep = [i for i, negs in enumerate(negatives) if negs]
    refs = _image_refs(ds, image_column)
    captions = ds.select_columns([caption_column])[caption_column]
    groups = ds.select_columns([group_column])[group_column] if group_column else refs
    titles = [captions[i] for i in keep]
    neg_images = _negative_images(titles, [groups[i] for i in keep], n_negative_images, seed, rows=keep)
    values = (titles, [_filename(refs[i], relative_to) for i in keep], [negatives[i] for i in keep], neg_images)
    types = (Value("string"), Value("string"), List(Value("string")), List(Value("int64")))
    features = Features(dict(zip(NEGCLIP_COLUMNS, types)))
    out = Dataset.from_dict(dict(zip(NEGCLIP_COLUMNS, values)), features=features)
    if path is not None:
        write_negclip(out, path)
    return _finish(out, counts, return_counts)


def _negatives(ds, *, n_negatives, concepts, seed, max_draws, caption_column, corrupted_column, group_column, nlp,
               corrupt_options) -> tuple[list[list[str]], Counter]:
    """Distinct negatives per row (an empty list for a row that gives none) and the counts."""
    from ..corrupt import Corruptor

    n = len(ds)
    if corrupted_column in ds.column_names:
        reasons = _pair_reasons(ds, caption_column, corrupted_column)
        first = ds.select_columns([corrupted_column])[corrupted_column]
        negatives = [[first[i]] if reasons[i] is None else [] for i in range(n)]
    else:
        reasons = [None] * n
        negatives = [[] for _ in range(n)]
    counts: Counter = Counter()
    if concepts is not None:
        engine = Corruptor(concepts, **corrupt_options)
        captions = ds.select_columns([caption_column])[caption_column]
        pending = [i for i in range(n) if len(negatives[i]) < n_negatives and isinstance(captions[i], str)
                   and captions[i].strip()]
        needed = [caption_column] + [c for c in (columns.CONCEPTS, columns.PARSE_STATUS, group_column)
                                     if c and c in ds.column_names]
        view = ds.select_columns(needed)
        if columns.CONCEPTS not in view.column_names and pending:
            from ..parsing import add_concepts

            view = add_concepts(view, caption_column=caption_column, nlp=nlp)  # once, not once per epoch
        for epoch in range(max_draws):
            if not pending:
                break
            still = []
            for start in range(0, len(pending), 1000):
                chunk = pending[start:start + 1000]
                # the map's own code path: the draws are those of ds.map(corrupt, epoch=epoch)
                out = engine.batch(view.select(chunk).to_dict(), chunk, seed=seed, epoch=epoch,
                                   caption_column=caption_column, group_column=group_column)
                for i, text in zip(chunk, out[CORRUPTED]):
                    found = negatives[i]
                    if text is None:
                        continue  # nothing applies to this caption: no later epoch finds anything either
                    if text != captions[i] and text not in found:
                        found.append(text)
                    if len(found) < n_negatives:
                        still.append(i)
            pending = still
        for i in range(n):
            if negatives[i]:
                reasons[i] = None
            elif reasons[i] is None:
                reasons[i] = "not_corrupted"
    counts[EXPORTED] = sum(1 for negs in negatives if negs)
    counts.update(r for r, negs in zip(reasons, negatives) if not negs and r is not None)
    for negs in negatives:
        if negs:
            counts[f"negatives={len(negs)}"] += 1
    return negatives, counts


def _negative_images(captions: list[str], groups: list, k: int, seed: int, rows: Sequence[int]) -> list[list[int]]:
    """For each row, ``k`` rows of other images whose captions share its rarest content words
    (weighted by inverse document frequency; random other rows when too few share any). Bounded
    work per row: the :data:`_RARE_WORDS` rarest words, and at most :data:`_PER_WORD` rows (a
    window drawn per row) of each.

    The draws of row ``t`` (a window start per word, the pick among rows tied at the cut, the
    random fill) come from the ``"export-pairs"`` stream of :mod:`iccc.streams` of ``(seed, 0,
    rows[t])``, ``rows[t]`` being the row's index in the source dataset.
    """
    from math import log

    from ..base import content_words

    n = len(captions)
    if k == 0 or n == 0:
        return [[] for _ in range(n)]
    words = [content_words(c) if isinstance(c, str) else frozenset() for c in captions]
    postings: dict[str, list[int]] = {}
    for i, ws in enumerate(words):
        for w in ws:
            postings.setdefault(w, []).append(i)
    idf = {w: log(n / len(found)) for w, found in postings.items()}
    out = []
    for start in range(0, n, _STREAM_CHUNK):  # streams a chunk at a time: bounded memory
        streams = Streams(seed, 0, rows[start:start + _STREAM_CHUNK], PAIRS_PURPOSE)
        for i in range(start, min(n, start + _STREAM_CHUNK)):
            out.append(_images_of(i, words, postings, idf, groups, k, streams[i - start]))
    return out


def _images_of(i: int, words, postings, idf, groups, k: int, rng) -> list[int]:
    """The ``k`` negative images of row ``i`` (see :func:`_negative_images`)."""
    n = len(words)
    mine = groups[i]
    score: dict[int, float] = {}
    for w in sorted(words[i], key=lambda w: (-idf[w], w))[:_RARE_WORDS]:
        found = postings[w]
        if len(found) > _PER_WORD:
            s0 = rng.integers(len(found))
            found = found[s0:s0 + _PER_WORD] + found[: max(0, s0 + _PER_WORD - len(found))]
        for j in found:
            if j != i and (mine is None or groups[j] != mine):
                score[j] = score.get(j, 0.0) + idf[w]
    ranked = sorted(score, key=lambda j: (-score[j], j))
    if len(ranked) > k:
        # every row scoring above the k-th score is in; the rest are drawn from the rows tied at it
        cut = score[ranked[k - 1]]
        above = [j for j in ranked if score[j] > cut]
        tied = [j for j in ranked if score[j] == cut]
        for t in range(k - len(above)):  # a partial Fisher-Yates shuffle: one draw per pick
            u = t + rng.integers(len(tied) - t)
            tied[t], tied[u] = tied[u], tied[t]
        ranked = above + tied[: k - len(above)]
    tries = 0
    while len(ranked) < k and tries < 20 * k:  # too few rows share a word: fill with random other images
        tries += 1
        j = rng.integers(n)
        if j != i and j not in ranked and (mine is None or groups[j] != mine):
            ranked.append(j)
    return ranked


# Bounds of the hard-negative image search, and the rows whose streams are made at once.
_RARE_WORDS = 4
_PER_WORD = 64
_STREAM_CHUNK = 1024


def write_negclip(table, path) -> Path:
    """Write a NegCLIP table (a ``Dataset`` or a list of row dicts) as NegCLIP's TSV/CSV file."""
    path = Path(path)
    rows = table.to_list() if hasattr(table, "to_list") else list(table)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    delimiter = "," if suffixes and suffixes[-1] == ".csv" else "\t"
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["", *NEGCLIP_COLUMNS])
        for k, row in enumerate(rows):
            writer.writerow([k, row["title"], row["filepath"] if row["filepath"] is not None else "",
                             repr(list(row["neg_caption"])), repr([int(j) for j in row["neg_image"]])])
    return path


def read_negclip(path) -> list[dict]:
    """Read a NegCLIP TSV/CSV (ours or the original) into row dicts with parsed lists.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "neg.tsv")
    >>> _ = write_negclip([{"title": "A dog.", "filepath": "1.jpg", "neg_caption": ["A cat."], "neg_image": []}], path)
    >>> read_negclip(path)
    [{'title': 'A dog.', 'filepath': '1.jpg', 'neg_caption': ['A cat.'], 'neg_image': []}]
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    delimiter = "," if suffixes and suffixes[-1] == ".csv" else "\t"
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        return [{"title": r["title"], "filepath": r["filepath"], "neg_caption": ast.literal_eval(r["neg_caption"]),
                 "neg_image": ast.literal_eval(r["neg_image"])} for r in reader]


# ------------------------------------------------------------------------------ SugarCrepe
def sugarcrepe_type(operation: str | None, concept_kind: str | None) -> str | None:
    """SugarCrepe's type for an iccc corruption (see :data:`SUGARCREPE_TYPES`), or ``None``.

    >>> sugarcrepe_type("swap", "attribute"), sugarcrepe_type("replace", "verb")
    ('swap_att', 'replace_rel')
    """
    return SUGARCREPE_TYPES.get((operation, concept_kind))


def to_sugarcrepe(
    ds,
    out_dir: str | os.PathLike | None = None,
    *,
    image_column: str | None = IMAGE,
    caption_column: str = CAPTION,
    corrupted_column: str = CORRUPTED,
    relative_to: str | os.PathLike | None = None,
    indent: int | None = 4,
    return_counts: bool = False,
) -> dict[str, dict[str, dict]]:
    """SugarCrepe-shaped evaluation data: ``{type: {"0": {"filename", "caption", "negative_caption"}, ...}}``.

    Types come from each row's ``operation`` and ``concept_kind`` (:data:`SUGARCREPE_TYPES`):
    ``replace_obj``, ``replace_att``, ``replace_rel``, ``swap_obj``, ``swap_att``, and ``add_obj``,
    ``add_att`` when additions were drawn. With ``out_dir`` each type is written as ``{type}.json``
    (only types that have rows), readable by SugarCrepe's own evaluation code with
    ``image_root`` pointing at the images. ``filename`` is the image path as stored, or relative
    to ``relative_to``.

    >>> from datasets import Dataset
    >>> ds = Dataset.from_dict({"caption": ["A red bus."], "corrupted_caption": ["A blue bus."],
    ...                         "operation": ["replace"], "concept_kind": ["attribute"], "image": ["1.jpg"]})
    >>> to_sugarcrepe(ds)
    {'replace_att': {'0': {'filename': '1.jpg', 'caption': 'A red bus.', 'negative_caption': 'A blue bus.'}}}
    """
    _check_dataset(ds, caption_column, corrupted_column, OPERATION, CONCEPT_KIND)
    check_bool("return_counts", return_counts)
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, int) or indent < 0):
        raise ValueError(f"`indent` should be a non-negative integer or None, got {indent!r}.")
    relative_to = os.fspath(relative_to) if relative_to is not None else None
    reasons = _pair_reasons(ds, caption_column, corrupted_column)
    refs = _image_refs(ds, image_column)
    view = ds.select_columns([caption_column, corrupted_column, OPERATION, CONCEPT_KIND])
    out: dict[str, dict[str, dict]] = {}
    counts: Counter = Counter()
    index = 0
    for batch in view.iter(batch_size=2000):
        for cap, neg, op, kind in zip(batch[caption_column], batch[corrupted_column], batch[OPERATION],
                                      batch[CONCEPT_KIND]):
            reason = reasons[index]
            ref = refs[index]
            index += 1
            if reason is None and sugarcrepe_type(op, kind) is None:
                reason = f"no_sugarcrepe_type:{op} {kind}"
            if reason is not None:
                counts[reason] += 1
                continue
            records = out.setdefault(sugarcrepe_type(op, kind), {})
            records[str(len(records))] = {"filename": _filename(ref, relative_to), "caption": cap,
                                          "negative_caption": neg}
            counts[EXPORTED] += 1
    out = {name: out[name] for name in sorted(out)}
    for name, records in out.items():
        counts[f"type={name}"] = len(records)
    if out_dir is not None:
        write_sugarcrepe(out, out_dir, indent=indent)
    return _finish(out, counts, return_counts)


def write_sugarcrepe(data: Mapping[str, Mapping], out_dir, *, indent: int | None = 4) -> list[Path]:
    """Write ``{type: records}`` as ``out_dir/{type}.json``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, records in data.items():
        path = out_dir / f"{name}.json"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=indent, ensure_ascii=False)
            f.write("\n")
        paths.append(path)
    return paths
