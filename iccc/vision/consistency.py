"""Retrieval consistency (Cross-modal Identity Mapping): does a caption lead back to its image?

A faithful caption, used as a text query against a gallery of images, should retrieve images
that look like the one it describes. For caption ``i`` (text vector ``t_i``, its own image
``q_i``) the ``k`` gallery images of highest cosine with ``t_i`` are retrieved (``g_1..g_k``),
and two cosine averages are taken on L2-normalised vectors:

- **GRC**, gallery representation consistency: how alike the retrieved images are to each other
  (a specific caption picks out one kind of image; a vague one scatters);
- **QGR**, query–gallery relevance: how alike they are to the caption's own image (a caption
  that names the wrong thing retrieves images of that wrong thing).

Everything is computed from embeddings (an :class:`iccc.vision.Embedder` encodes the captions
when no text vectors are given), so it scores captions written by anyone, negatives included.
The caption's own image can be left out of the gallery (``exclude``) so that retrieving exactly
that image is not what the score rewards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .linear_map import as_matrix, l2_normalize

#: Default weight of QGR in the combined score (the rest is GRC's): the plain mean.
DEFAULT_QGR_WEIGHT = 0.5
#: Float64 elements one chunk of retrieved image vectors (captions x k x d) may hold.
_CHUNK_ELEMENTS = 1 << 22


def _check_captions(captions: Any) -> list:
    if isinstance(captions, (str, bytes)) or not hasattr(captions, "__len__") or not hasattr(captions, "__iter__"):
        raise TypeError(f"`captions` should be a sequence of caption strings, got {type(captions).__name__}.")
    captions = list(captions)
    if not captions:
        raise ValueError("`captions` is empty; give at least one caption.")
    for i, caption in enumerate(captions):
        if not isinstance(caption, str):
            raise TypeError(f"`captions[{i}]` should be a str, got {type(caption).__name__}: {caption!r}.")
    return captions


def _check_ids(values: Any, name: str, size: int, what: str) -> list:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"`{name}` should be a sequence of {what}, got {type(values).__name__}.")
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if len(values) != size:
        raise ValueError(f"`{name}` should hold {size} {what}, got {len(values)}.")
    return values


def retrieval_consistency(captions: Sequence[str], query_image_emb: Any, gallery_image_emb: Any, text_emb: Any = None,
                          k: int = 5, *, encoder: Any = None, gallery_ids: Sequence | None = None,
                          exclude: Sequence | None = None, qgr_weight: float = DEFAULT_QGR_WEIGHT,
                          backend: str = "auto") -> dict:
    """GRC, QGR and their combination for each caption (see the module docstring).

    With ``t_i`` the (normalised) vector of caption ``i``, ``q_i`` that of its own image and
    ``g_1..g_k`` the ``k`` gallery images of highest ``cos(t_i, g)`` (ties: gallery order):

    - ``grc_i = 2 / (k (k - 1)) * sum_{a < b} cos(g_a, g_b)``, the mean over the ``k (k-1) / 2``
      pairs (``1`` when ``k = 1``: a single image agrees with itself);
    - ``qgr_i = (1 / k) * sum_a cos(q_i, g_a)``;
    - ``combined_i = w * qgr_i + (1 - w) * grc_i`` with ``w = qgr_weight`` (default 0.5, the
      plain mean). Both are cosines on one scale and each misses a failure the other catches:
      a vague caption can retrieve a few images like its own by luck but scatters (low GRC),
      while a caption naming the wrong thing retrieves a coherent set of the wrong images (high
      GRC, low QGR). Weighting them equally asks for both; ``qgr_weight=1`` ranks by relevance only.

    Args:
        captions: ``m`` caption strings (encoded with ``encoder`` when ``text_emb`` is None).
        query_image_emb: ``(m, d)`` vectors of each caption's own image (an array or
            :class:`iccc.vision.Embeddings`).
        gallery_image_emb: ``(g, d)`` vectors of the images to retrieve from (``k <= g``).
        text_emb: ``(m, d)`` caption vectors, row ``i`` for ``captions[i]``; or ``None`` with an
            ``encoder``. Text and images must come from one dual encoder (one space).
        k: images retrieved per caption, a positive int.
        encoder: an :class:`iccc.vision.Embedder` (anything with ``encode_texts``), used only
            when ``text_emb`` is None.
        gallery_ids: one id per gallery image (default: the gallery's ``.ids`` when it has them).
        exclude: one gallery id per caption whose images are left out of that caption's search
            (its own image); needs ``gallery_ids``; ``None`` in it leaves nothing out.
        qgr_weight: ``w`` above, in [0, 1].
        backend: the :class:`iccc.vision.CaptionIndex` backend of the gallery search.

    Returns:
        ``{"grc", "qgr", "combined"}``: float64 arrays of shape ``(m,)``; ``"retrieved"``: the
        ``(m, k)`` int64 gallery positions, best first; ``"scores"``: their ``(m, k)`` cosines
        with the caption.

    >>> gallery = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> out = retrieval_consistency(["a cat"], [[1.0, 0.0]], gallery, [[0.9, 0.1]], k=2, backend="numpy")
    >>> out["retrieved"].tolist(), out["grc"].round(3).tolist(), out["qgr"].round(3).tolist()
    ([[0, 1]], [0.8], [0.9])
    """
    from .index import CaptionIndex

    captions = _check_captions(captions)
    m = len(captions)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` should be a positive int, got {k!r}.")
    k = int(k)
    if isinstance(qgr_weight, bool) or not isinstance(qgr_weight, (int, float, np.floating)) \
            or not 0.0 <= qgr_weight <= 1.0:
        raise ValueError(f"`qgr_weight` should be a number in [0, 1], got {qgr_weight!r}.")
    if text_emb is None:
        if encoder is None:
            raise ValueError("Give `text_emb` (the captions' vectors) or an `encoder` to compute them, got neither.")
        if not callable(getattr(encoder, "encode_texts", None)):
            raise TypeError(f"`encoder` should be an iccc.vision.Embedder (with encode_texts), got "
                            f"{type(encoder).__name__}.")
        text_emb = encoder.encode_texts(captions)
        text_name = "encoder.encode_texts(captions)"
    elif encoder is not None:
        raise ValueError("Give `text_emb` or `encoder`, not both (the encoder would be ignored).")
    else:
        text_name = "text_emb"
    texts = as_matrix(text_emb, text_name)
    query = as_matrix(query_image_emb, "query_image_emb")
    gallery = as_matrix(gallery_image_emb, "gallery_image_emb")
    for name, array in ((text_name, texts), ("query_image_emb", query)):
        if array.shape[0] != m:
            raise ValueError(f"`{name}` should have one row per caption ({m}), got shape {array.shape}.")
        if array.shape[1] != gallery.shape[1]:
            raise ValueError(f"`{name}` has {array.shape[1]} dimensions but `gallery_image_emb` has "
                             f"{gallery.shape[1]}: texts and images should come from one dual encoder.")
    g = gallery.shape[0]
    if k > g:
        raise ValueError(f"`k` should be at most the gallery size ({g}), got {k}.")
    if gallery_ids is None:
        gallery_ids = getattr(gallery_image_emb, "ids", None)
    if gallery_ids is not None:
        gallery_ids = _check_ids(gallery_ids, "gallery_ids", g, "gallery ids (one per gallery image)")
    if exclude is not None:
        if gallery_ids is None:
            raise ValueError("`exclude` names gallery ids, so it needs `gallery_ids` (one id per gallery image).")
        exclude = _check_ids(exclude, "exclude", m, "gallery ids (one per caption)")
    index = CaptionIndex(gallery, groups=gallery_ids, backend=backend)
    scores, retrieved = index.search(texts, k, exclude=exclude)
    short = np.flatnonzero((retrieved < 0).any(axis=1))
    if len(short):
        i = int(short[0])
        left = int((retrieved[i] >= 0).sum())
        raise ValueError(f"Caption {i} has only {left} gallery images left once `exclude` ({exclude[i]!r}) is left "
                         f"out; `k` ({k}) should be at most that.")
    g_unit = l2_normalize(gallery.astype(np.float64))
    q_unit = l2_normalize(query.astype(np.float64))
    qgr = np.empty(m)
    grc = np.ones(m)
    upper = np.triu_indices(k, 1)
    step = max(1, _CHUNK_ELEMENTS // (k * gallery.shape[1]))
    for start in range(0, m, step):
        rows = g_unit[retrieved[start:start + step]]  # (c, k, d)
        qgr[start:start + step] = np.einsum("ckd,cd->ck", rows, q_unit[start:start + step]).mean(axis=1)
        if k > 1:
            gram = np.einsum("cad,cbd->cab", rows, rows)
            grc[start:start + step] = gram[:, upper[0], upper[1]].mean(axis=1)
    w = float(qgr_weight)
    return {"grc": grc, "qgr": qgr, "combined": w * qgr + (1.0 - w) * grc, "retrieved": retrieved,
            "scores": scores}
