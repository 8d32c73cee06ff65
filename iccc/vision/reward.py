"""Calibrated rewards: a model's own text likelihood combined with an image-text relevance score.

Calibrated Self-Rewarding (CSR, arXiv 2405.14622) scores every sentence a vision-language model
proposes twice: by the model's own (length-normalised) log-probability, which says the text is
fluent and plausible, and by an image-text score (a dual encoder's cosine), which says it is about
the image. The two live on unrelated scales, so they are made comparable *within the group of
siblings* they compete in (the candidate next sentences of one beam step) before they are mixed:

- ``mode="rank"`` (CSR's form, ``alpha = 0.9`` there): each score becomes its rank among its
  siblings divided by their number, a value in (0, 1] that is ``1`` for the best sibling and
  ``1/n`` for the worst (ties share the mean of their ranks); a candidate's reward is
  ``(1 - alpha) * rank_lm + alpha * rank_image``. Only the order inside a group matters, so an
  outlier cannot dominate and both scores weigh what ``alpha`` says.
- ``mode="score"``: each score is standardised inside its group (minus the group mean, divided by
  the group's population standard deviation; ``0`` for a group of one or of equal scores) and the
  reward is ``(1 - alpha) * z_lm + alpha * z_image``. It keeps how far apart siblings are, so a
  clear winner gains more than a narrow one.

A *path* (a whole response, one sentence per step) is rewarded by the sum of its steps' rewards
divided by its length (the mean step reward), so long and short paths compare. ``alpha = 0`` is the
likelihood-only reward, ``alpha = 1`` the image-only one. numpy only.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

MODES = ("rank", "score")


def calibrated_reward(lm_scores: Any, image_scores: Any, *, alpha: float = 0.9, mode: str = "rank",
                      groups: Any = None) -> np.ndarray:
    """Calibrated rewards of candidates, or of whole paths (see the module docstring).

    Two input shapes:

    - **candidates**: ``lm_scores`` and ``image_scores`` are flat sequences (one number per
      candidate); ``groups`` gives each candidate's sibling group (any hashable keys; default: all
      candidates are siblings). Returns one reward per candidate.
    - **paths**: both are sequences of sequences, ``scores[p][s]`` for step ``s`` of path ``p``
      (paths may differ in length); ``groups`` has the same nested shape (default: the step index,
      i.e. the candidates at one depth are siblings). Each step is rewarded among its group, and
      each path gets the sum of its steps' rewards divided by its number of steps.

    Args:
        lm_scores: the model's scores (e.g. length-normalised log-probabilities); higher is better.
        image_scores: image-text relevance scores (e.g. cosines); higher is better; same shape.
        alpha: weight of the image score, in [0, 1] (``1 - alpha`` goes to the likelihood).
        mode: ``"rank"`` (ranks in (0, 1] among siblings) or ``"score"`` (standardised scores).
        groups: sibling-group keys, shaped like the scores; None for the defaults above.

    Returns:
        A float64 array: one reward per candidate, or one per path.

    Example (three siblings: likelihood prefers ``b``, the image ``c``):

    >>> calibrated_reward([-1.0, -0.5, -2.0], [0.20, 0.25, 0.30], alpha=0.5).tolist()
    [0.5, 0.8333333333333333, 0.6666666666666666]
    >>> calibrated_reward([[-1.0, -0.5], [-2.0, -1.0]], [[0.3, 0.1], [0.2, 0.2]], alpha=0.9).tolist()
    [0.775, 0.725]
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"`alpha` should be a number in [0, 1] (the weight of the image score), got {alpha!r}.")
    if mode not in MODES:
        raise ValueError(f"Unknown `mode` {mode!r}. Available: {', '.join(map(repr, MODES))}.")
    alpha = float(alpha)
    nested = _is_nested(lm_scores, "lm_scores")
    if nested != _is_nested(image_scores, "image_scores"):
        raise ValueError("`lm_scores` and `image_scores` should have the same shape: both flat (one score per "
                         "candidate) or both nested (one list of step scores per path).")
    if not nested:
        lm = _vector(lm_scores, "lm_scores")
        image = _vector(image_scores, "image_scores")
        if len(image) != len(lm):
            raise ValueError(f"`image_scores` should hold one score per candidate ({len(lm)}), got {len(image)}.")
        keys = [0] * len(lm) if groups is None else _keys(groups, "groups", len(lm))
        return _combine(lm, image, keys, alpha, mode)
    lm_paths = [_vector(p, f"lm_scores[{i}]") for i, p in enumerate(lm_scores)]
    image_paths = list(image_scores)
    if len(image_paths) != len(lm_paths):
        raise ValueError(f"`image_scores` should hold one path per path of `lm_scores` ({len(lm_paths)}), "
                         f"got {len(image_paths)}.")
    image_paths = [_vector(p, f"image_scores[{i}]") for i, p in enumerate(image_paths)]
    for i, (a, b) in enumerate(zip(lm_paths, image_paths)):
        if len(a) != len(b):
            raise ValueError(f"Path {i} has {len(a)} steps in `lm_scores` but {len(b)} in `image_scores`.")
    if groups is None:
        group_paths = [list(range(len(p))) for p in lm_paths]
    else:
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence) or len(groups) != len(lm_paths):
            raise ValueError(f"`groups` should hold one list of group keys per path ({len(lm_paths)}), got {groups!r}.")
        group_paths = [_keys(g, f"groups[{i}]", len(p)) for i, (g, p) in enumerate(zip(groups, lm_paths))]
    lengths = [len(p) for p in lm_paths]
    steps = _combine(np.concatenate(lm_paths), np.concatenate(image_paths),
                     [k for g in group_paths for k in g], alpha, mode)
    ends = np.cumsum(lengths)
    return np.array([steps[end - n:end].sum() / n for end, n in zip(ends, lengths)], dtype=np.float64)


def group_ranks(scores: Any, groups: Any = None) -> np.ndarray:
    """Each score's rank among its group divided by the group's size: in (0, 1], 1 for the highest.

    Ties share the mean of the ranks they span.

    >>> group_ranks([3.0, 1.0, 2.0, 5.0, 5.0], groups=["a", "a", "a", "b", "b"]).tolist()
    [1.0, 0.3333333333333333, 0.6666666666666666, 0.75, 0.75]
    """
    values = _vector(scores, "scores")
    keys = [0] * len(values) if groups is None else _keys(groups, "groups", len(values))
    return _per_group(values, keys, _ranks)


def group_standardize(scores: Any, groups: Any = None) -> np.ndarray:
    """Each score minus its group's mean, divided by the group's population standard deviation.

    A group of one, or of equal scores, gives zeros.

    >>> group_standardize([1.0, 3.0, 2.0, 2.0], groups=["a", "a", "b", "b"]).tolist()
    [-1.0, 1.0, 0.0, 0.0]
    """
    values = _vector(scores, "scores")
    keys = [0] * len(values) if groups is None else _keys(groups, "groups", len(values))
    return _per_group(values, keys, _standardize)


# ------------------------------------------------------------------------------------------- internals
def _combine(lm, image, keys, alpha, mode):
    norm = _ranks if mode == "rank" else _standardize
    return (1.0 - alpha) * _per_group(lm, keys, norm) + alpha * _per_group(image, keys, norm)


def _per_group(values, keys, fn):
    out = np.empty(len(values), dtype=np.float64)
    members: dict = {}
    for i, key in enumerate(keys):
        members.setdefault(key, []).append(i)
    for index in members.values():
        index = np.asarray(index)
        out[index] = fn(values[index])
    return out


def _ranks(x):
    """1-based ranks (ties: mean rank) divided by the count."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    sorted_x = x[order]
    start = 0
    while start < len(x):
        end = start
        while end + 1 < len(x) and sorted_x[end + 1] == sorted_x[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks / len(x)


def _standardize(x):
    std = x.std()
    if len(x) < 2 or std == 0.0:
        return np.zeros(len(x), dtype=np.float64)
    return (x - x.mean()) / std


def _is_nested(values, name) -> bool:
    if isinstance(values, np.ndarray):
        if values.ndim == 2:
            return True
        if values.ndim == 1 and values.dtype != object:
            return False
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"`{name}` should be a sequence of numbers (one per candidate) or of sequences (one per "
                        f"path), got {type(values).__name__}.")
    if len(values) == 0:
        raise ValueError(f"`{name}` is empty; give at least one score.")
    first = values[0]
    return isinstance(first, (Sequence, np.ndarray)) and not isinstance(first, (str, bytes))


def _vector(values, name) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"`{name}` should be a sequence of numbers, got {type(values).__name__}.")
    items = list(values)
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"`{name}[{i}]` should be a number, got {type(v).__name__}: {v!r}.")
    array = np.asarray(items, dtype=np.float64)
    if not len(array):
        raise ValueError(f"`{name}` is empty; give at least one score.")
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise ValueError(f"`{name}[{int(bad[0])}]` should be a finite number, got {items[int(bad[0])]!r}.")
    return array


def _keys(groups, name, size) -> list:
    if isinstance(groups, (str, bytes)) or not isinstance(groups, (Sequence, np.ndarray)):
        raise TypeError(f"`{name}` should be a sequence of group keys, got {type(groups).__name__}.")
    keys = groups.tolist() if isinstance(groups, np.ndarray) else list(groups)
    if len(keys) != size:
        raise ValueError(f"`{name}` should hold one group key per score ({size}), got {len(keys)}.")
    for i, key in enumerate(keys):
        if not isinstance(key, Hashable):
            raise TypeError(f"`{name}[{i}]` should be a hashable group key, got {type(key).__name__}: {key!r}.")
    return keys
