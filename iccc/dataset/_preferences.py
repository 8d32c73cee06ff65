"""Calibrated preference pairs: a model's own candidate answers, ranked, as TRL DPO rows.

Calibrated Self-Rewarding (CSR, arXiv 2405.14622) lets a vision-language model write several
answers per image (:func:`iccc.train.sample_candidates`), rewards each by its own likelihood
calibrated with an image-text relevance score (:func:`iccc.vision.calibrated_reward`) and trains on
the best answer against the worst with DPO. This module owns the middle step:
:func:`calibrated_pairs` turns candidate paths and image-text scores into the rows
:func:`iccc.dataset.to_dpo` writes (same columns, same message format), which ``iccc train
--objective dpo`` reads. :func:`image_scorer` makes the ``(image, sentences) -> scores`` callable
that both the beam search and :func:`calibrated_pairs` take from a dual encoder.

A group (one image's candidates) that gives no pair is skipped and counted, never an error:
``too_few_candidates`` (fewer than two), ``tied`` (the best and worst rewards are equal: the scores
do not prefer anything), ``same_text`` (the best and worst paths read the same).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._checks import check_bool
from ._export import DEFAULT_DPO_PROMPT, EXPORTED, dpo_columns, resolve_image_token

#: Skip reasons of :func:`calibrated_pairs`.
TOO_FEW, TIED, SAME_TEXT = "too_few_candidates", "tied", "same_text"
#: Reward columns :func:`calibrated_pairs` adds with ``with_rewards=True``.
REWARD_COLUMNS = ("chosen_reward", "rejected_reward")


class _EmbedderScorer:
    """``scorer(image, sentences) -> cosines`` from an embedder, keeping the last image's vector (the beam
    search scores one image's sentences many times in a row)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self._image, self._vector = None, None

    def __call__(self, image, sentences) -> list[float]:
        if image is not self._image:  # identity of an object this scorer holds: it cannot be reused
            self._vector = np.asarray(self.embedder.encode_images([image]), dtype=np.float64)[0]
            self._image = image
        texts = list(sentences)
        if not texts:
            return []
        return (np.asarray(self.embedder.encode_texts(texts), dtype=np.float64) @ self._vector).tolist()


def image_scorer(embedder):
    """A ``scorer(image, sentences) -> list of floats`` from a dual encoder: each sentence's cosine with the
    image (both embedded by ``embedder``; unit vectors, so the dot product).

    Args:
        embedder: an :class:`iccc.vision.Embedder` (``encode_images``, ``encode_texts``), e.g.
            ``iccc.vision.TransformersEmbedder("path/to/clip")``.

    Returns:
        A callable for ``sample_candidates(image_scorer=...)`` and ``calibrated_pairs(scorer=...)``.
    """
    if not _is_embedder(embedder):
        raise TypeError(f"`embedder` should have encode_images and encode_texts (an iccc.vision.Embedder), got "
                        f"{type(embedder).__name__}.")
    return _EmbedderScorer(embedder)


def calibrated_pairs(
    paths: Sequence[Sequence[Any]],
    images: Sequence[Any] | None = None,
    *,
    scorer: Any = None,
    image_scores: Sequence | None = None,
    alpha: float = 0.9,
    mode: str = "rank",
    prompt: str = DEFAULT_DPO_PROMPT,
    conversational: bool = True,
    image_features: bool = True,
    image_token: str | None = None,
    processor: Any = None,
    with_rewards: bool = False,
    return_counts: bool = False,
):
    """TRL DPO rows from candidate answers: chosen = the highest calibrated path, rejected = the lowest.

    Each group (one image's paths, as :func:`iccc.train.sample_candidates` returns them) is rewarded
    with :func:`iccc.vision.calibrated_reward` in its path form: every sentence's likelihood (the
    path's ``logps``) and image-text score are ranked (``mode="rank"``) or standardised
    (``mode="score"``) among the sentences at the same depth of the group's paths, mixed with
    ``alpha`` (the image's weight) and averaged along the path. ``alpha=0`` is the likelihood-only
    reward and needs no image scores.

    The rows are those of :func:`iccc.dataset.to_dpo` (``prompt``, ``chosen``, ``rejected`` and, with
    images, ``images`` as a one-element list), conversational or plain, so ``iccc train --objective
    dpo`` and TRL read them alike. Groups without a pair are skipped and counted (module docstring).

    Image-text scores come from, in this order: ``image_scores``; ``scorer``; the paths' own
    ``image_scores`` (set when the search had an ``image_scorer``). One is needed when ``alpha > 0``.

    Args:
        paths: one sequence of paths per group; a path is a :class:`iccc.train.CandidatePath` or any
            object or mapping with ``sentences`` (strings) and ``logps`` (one number per sentence),
            optionally ``text`` (the answer; default: the sentences joined by spaces) and
            ``image_scores``.
        images: one image per group (a path string, a PIL image, bytes or ``{"bytes", "path"}``);
            ``None`` for text-only pairs (then ``scorer`` cannot be used).
        scorer: an :class:`iccc.vision.Embedder` (cosines of image and sentence vectors) or a
            callable ``scorer(image, sentences) -> scores`` (one number per sentence, higher = more
            about the image).
        image_scores: precomputed scores shaped like the sentences: ``image_scores[g][p][s]`` for
            sentence ``s`` of path ``p`` of group ``g``.
        alpha: weight of the image score in [0, 1] (:func:`iccc.vision.calibrated_reward`).
        mode: ``"rank"`` or ``"score"`` (:func:`iccc.vision.calibrated_reward`).
        prompt: the instruction the candidates answer (the one they were sampled with).
        conversational: messages (True) or plain strings (False), as in :func:`to_dpo`.
        image_features: store the images as a ``datasets.Image`` list (False keeps path strings).
        image_token, processor: the image placeholder of plain prompts, as in :func:`to_dpo`.
        with_rewards: also add ``chosen_reward`` and ``rejected_reward`` columns (the calibrated path
            rewards; not part of TRL's format, ignored by ``iccc train``).
        return_counts: also return a ``Counter``: ``exported`` and the skip reasons.

    Returns:
        A ``datasets.Dataset`` (and the counts).

    >>> paths = [[{"sentences": ["a red square."], "logps": [-0.2]},
    ...           {"sentences": ["a blue circle."], "logps": [-0.1]}]]
    >>> pairs = calibrated_pairs(paths, ["1.png"], image_scores=[[[0.9], [0.1]]], alpha=0.9,
    ...                          conversational=False, image_features=False)
    >>> pairs[0]
    {'prompt': '<image>\\nWrite a short caption for this image.', 'chosen': 'a red square.', \
'rejected': 'a blue circle.', 'images': ['1.png']}
    """
    from datasets import Dataset, Features, Image, List, Value

    from ..vision.reward import MODES, calibrated_reward

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"`alpha` should be a number in [0, 1] (the weight of the image score), got {alpha!r}.")
    if mode not in MODES:
        raise ValueError(f"Unknown `mode` {mode!r}. Available: {', '.join(map(repr, MODES))}.")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"`prompt` should be a non-empty string (the instruction the candidates answer), got "
                         f"{prompt!r}.")
    for name, value in (("conversational", conversational), ("image_features", image_features),
                        ("with_rewards", with_rewards), ("return_counts", return_counts)):
        check_bool(name, value)
    groups = _groups(paths)
    if images is not None:
        if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
            raise TypeError(f"`images` should be a list with one image per group, got {type(images).__name__}.")
        if len(images) != len(groups):
            raise ValueError(f"`images` should hold one image per group of `paths` ({len(groups)}), got {len(images)}.")
    if scorer is not None and not (_is_embedder(scorer) or callable(scorer)):
        raise TypeError(f"`scorer` should be an embedder (encode_images, encode_texts) or a callable (image, "
                        f"sentences) -> scores, got {type(scorer).__name__}.")
    if scorer is not None and images is None:
        raise ValueError("`scorer` scores sentences against their image, but `images` is None; pass the images.")
    if scorer is not None and image_scores is not None:
        raise ValueError("Pass `scorer` or `image_scores`, not both.")
    if image_scores is not None:
        scores = _given_scores(image_scores, groups)
    elif scorer is not None:
        scores = _scored(groups, images, scorer)
    elif all(len(p["image_scores"]) == len(p["sentences"]) for g in groups for p in g):
        scores = [[p["image_scores"] for p in g] for g in groups]
    elif alpha > 0:
        raise ValueError(f"alpha={alpha!r} weighs an image-text score, but there is none: pass scorer= (an embedder "
                         "or a callable), image_scores=, paths carrying image_scores, or alpha=0 (likelihood only).")
    else:
        scores = [[[0.0] * len(p["sentences"]) for p in g] for g in groups]

    counts: Counter = Counter()
    kept, chosen, rejected, rewards = [], [], [], []
    for g, group in enumerate(groups):
        if len(group) < 2:
            counts[TOO_FEW] += 1
            continue
        reward = calibrated_reward([p["logps"] for p in group], scores[g], alpha=float(alpha), mode=mode)
        best, worst = int(np.argmax(reward)), int(np.argmin(reward))
        if reward[best] == reward[worst]:
            counts[TIED] += 1
            continue
        if group[best]["text"] == group[worst]["text"]:
            counts[SAME_TEXT] += 1
            continue
        kept.append(g)
        chosen.append(group[best]["text"])
        rejected.append(group[worst]["text"])
        rewards.append((float(reward[best]), float(reward[worst])))
    counts[EXPORTED] = len(kept)

    has_images = images is not None
    token = resolve_image_token(image_token, processor)
    data = dpo_columns([prompt] * len(kept), chosen, rejected, conversational=conversational, has_images=has_images,
                       image_token=token)
    if has_images:
        refs = [images[g] for g in kept]
        data["images"] = [[ref] for ref in refs]
    out = Dataset.from_dict(data)
    if has_images and out.num_rows:
        paths_only = all(isinstance(ref, str) for ref in refs)
        if image_features or not paths_only:
            out = out.cast_column("images", List(Image()))
    elif has_images:  # no pairs: still the columns a reader expects
        out = Dataset.from_dict({k: [] for k in ("prompt", "chosen", "rejected", "images")},
                                features=Features({"prompt": Value("string"), "chosen": Value("string"),
                                                   "rejected": Value("string"), "images": List(Image())}))
    if with_rewards:
        out = out.add_column(REWARD_COLUMNS[0], [c for c, _ in rewards]).add_column(REWARD_COLUMNS[1],
                                                                                   [r for _, r in rewards])
    return (out, counts) if return_counts else out


# ------------------------------------------------------------------------------------------- internals
def _is_embedder(value) -> bool:
    return callable(getattr(value, "encode_images", None)) and callable(getattr(value, "encode_texts", None))


def _field(path, name, default=None):
    if isinstance(path, Mapping):
        return path.get(name, default)
    return getattr(path, name, default)


def _groups(paths) -> list[list[dict]]:
    """``paths`` checked and normalised to ``{"sentences", "logps", "text", "image_scores"}`` dicts."""
    if isinstance(paths, (str, bytes, Mapping)) or not isinstance(paths, Sequence):
        raise TypeError(f"`paths` should be a list with one list of candidate paths per image (as "
                        f"iccc.train.sample_candidates returns), got {type(paths).__name__}.")
    if not paths:
        raise ValueError("`paths` is empty; give at least one group of candidate paths.")
    groups = []
    for g, group in enumerate(paths):
        if isinstance(group, (str, bytes, Mapping)) or not isinstance(group, Sequence):
            raise TypeError(f"`paths[{g}]` should be a list of candidate paths, got {type(group).__name__}.")
        out = []
        for p, path in enumerate(group):
            where = f"`paths[{g}][{p}]`"
            sentences, logps = _field(path, "sentences"), _field(path, "logps")
            if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences \
                    or not all(isinstance(s, str) and s.strip() for s in sentences):
                raise ValueError(f"{where} should have `sentences`: a non-empty list of non-empty strings, got "
                                 f"{sentences!r}.")
            if isinstance(logps, str) or not isinstance(logps, Sequence) or len(logps) != len(sentences):
                raise ValueError(f"{where} should have `logps`: one number per sentence ({len(sentences)}), got "
                                 f"{logps!r}.")
            for s, value in enumerate(logps):
                if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                        or not math.isfinite(value):
                    raise ValueError(f"{where}.logps[{s}] should be a finite number, got {value!r}.")
            text = _field(path, "text") or " ".join(s.strip() for s in sentences)
            if not isinstance(text, str):
                raise TypeError(f"{where}.text should be a string, got {type(text).__name__}.")
            given = _field(path, "image_scores", ()) or ()
            out.append({"sentences": [s.strip() for s in sentences], "logps": [float(v) for v in logps],
                        "text": text.strip(), "image_scores": [float(v) for v in given]})
        groups.append(out)
    return groups


def _given_scores(image_scores, groups) -> list:
    if isinstance(image_scores, (str, bytes)) or not isinstance(image_scores, Sequence) \
            or len(image_scores) != len(groups):
        raise ValueError(f"`image_scores` should hold one list per group of `paths` ({len(groups)}), got "
                         f"{image_scores!r:.80}.")
    out = []
    for g, (given, group) in enumerate(zip(image_scores, groups)):
        if not isinstance(given, Sequence) or len(given) != len(group):
            raise ValueError(f"`image_scores[{g}]` should hold one list per path ({len(group)}), got {given!r:.80}.")
        for p, (values, path) in enumerate(zip(given, group)):
            if not isinstance(values, Sequence) or len(values) != len(path["sentences"]):
                raise ValueError(f"`image_scores[{g}][{p}]` should hold one score per sentence "
                                 f"({len(path['sentences'])}), got {values!r:.80}.")
        out.append([list(values) for values in given])
    return out


def _scored(groups, images, scorer) -> list:
    """Image-text scores of every sentence: each distinct sentence of a group scored once against its image."""
    if _is_embedder(scorer):
        present = [g for g in range(len(groups)) if len(groups[g]) >= 2]
        vectors = np.asarray(scorer.encode_images([images[g] for g in present]), dtype=np.float64) \
            if present else np.zeros((0, 0))
        texts = sorted({s for g in present for p in groups[g] for s in p["sentences"]})
        where = {t: j for j, t in enumerate(texts)}
        text_vectors = np.asarray(scorer.encode_texts(texts), dtype=np.float64) if texts else np.zeros((0, 0))
        out = [[[0.0] * len(p["sentences"]) for p in group] for group in groups]
        for k, g in enumerate(present):
            mine = list(dict.fromkeys(s for p in groups[g] for s in p["sentences"]))
            cosines = dict(zip(mine, (text_vectors[[where[s] for s in mine]] @ vectors[k]).tolist()))
            out[g] = [[cosines[s] for s in p["sentences"]] for p in groups[g]]
        return out
    out = []
    for g, group in enumerate(groups):
        if len(group) < 2:  # skipped anyway: no call to the scorer
            out.append([[0.0] * len(p["sentences"]) for p in group])
            continue
        distinct = list(dict.fromkeys(s for p in group for s in p["sentences"]))
        values = scorer(images[g], distinct)
        try:
            values = [float(v) for v in values]
        except (TypeError, ValueError):
            raise TypeError(f"`scorer` should return one number per sentence, got {values!r:.80}.") from None
        if len(values) != len(distinct):
            raise ValueError(f"`scorer` returned {len(values)} scores for {len(distinct)} sentences (group {g}).")
        table = dict(zip(distinct, values))
        out.append([[table[s] for s in p["sentences"]] for p in group])
    return out
