"""Retrieval metrics: how well ranked lists find the relevant items (recall at k, nDCG, MRR).

:func:`retrieval_metrics` scores any ranked lists against sets of relevant positions;
:func:`image_to_caption_metrics` applies it to image→caption retrieval on a dual encoder's
embeddings (every caption of an image is relevant to it), optionally after a
:class:`iccc.vision.LinearMap` has carried the images into the text space, which is how one
measures what the map gains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .linear_map import as_matrix

#: Default cut-offs of the recall figures.
DEFAULT_KS = (1, 5, 10)
#: Default cut-off of nDCG.
DEFAULT_NDCG_AT = 10


def _cutoffs(ks: Any) -> tuple[int, ...]:
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise TypeError(f"`ks` should be a sequence of positive ints, got {type(ks).__name__}: {ks!r}.")
    ks = tuple(ks)
    if not ks:
        raise ValueError("`ks` should hold at least one cut-off, got none.")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"`ks` should hold positive ints, got {k!r} in {ks!r}.")
    if len(set(ks)) != len(ks):
        raise ValueError(f"`ks` should not repeat a cut-off, got {ks!r}.")
    return tuple(int(k) for k in ks)


def retrieval_metrics(ranked_positions: Any, relevant: Sequence, *, ks: Sequence[int] = DEFAULT_KS,
                      ndcg_at: int = DEFAULT_NDCG_AT) -> dict:
    """Recall at k, nDCG and MRR of ranked lists against the relevant positions of each query.

    For query ``i`` with ranked list ``r_1, r_2, ...`` (``K`` of them, ``-1`` padding ignored) and
    the set ``R_i`` of its relevant positions, ``rel_j = 1`` when ``r_j`` is in ``R_i``, else 0:

    - ``R@k`` = the share of queries with at least one relevant item among the first ``k``
      (``max(rel_1..rel_k)``, averaged over queries);
    - ``nDCG@n`` = ``DCG / IDCG`` with binary relevance and a log2 discount:
      ``DCG = sum_{j<=n} rel_j / log2(j + 1)`` and the ideal ``IDCG = sum_{j<=min(|R_i|, n)}
      1 / log2(j + 1)``, averaged over queries;
    - ``MRR`` = the mean of ``1 / j`` for the first ``j`` with ``rel_j = 1`` (0 when no relevant
      item is in the ``K`` ranked).

    Args:
        ranked_positions: ``(m, K)`` integer array (or nested lists) of ranked positions, best
            first; ``-1`` pads a short list.
        relevant: ``m`` collections of relevant positions (sets, lists), none empty.
        ks: the recall cut-offs, positive ints, each at most ``K``.
        ndcg_at: the nDCG cut-off, a positive int at most ``K``.

    Returns:
        ``{"R@1": ..., "R@5": ..., "R@10": ... (one per ``ks``), "nDCG@10": ..., "MRR": ...,
        "queries": m}`` (floats, and an int).

    Worked by hand: query 0 finds its item 7 at rank 2, query 1 (items 1 and 2) at ranks 1 and 3,
    so R@1 = 1/2, R@2 = 1; nDCG@3 is ``(1/log2 3) / 1 = 0.631`` for query 0 and
    ``(1 + 1/2) / (1 + 1/log2 3) = 0.920`` for query 1 (mean 0.775); MRR = ``(1/2 + 1) / 2``.

    >>> m = retrieval_metrics([[5, 7, 9], [1, 4, 2]], [{7}, {1, 2}], ks=(1, 2), ndcg_at=3)
    >>> {key: round(value, 3) for key, value in m.items()}
    {'R@1': 0.5, 'R@2': 1.0, 'nDCG@3': 0.775, 'MRR': 0.75, 'queries': 2}
    """
    ks = _cutoffs(ks)
    if isinstance(ndcg_at, bool) or not isinstance(ndcg_at, (int, np.integer)) or ndcg_at < 1:
        raise ValueError(f"`ndcg_at` should be a positive int, got {ndcg_at!r}.")
    ndcg_at = int(ndcg_at)
    try:
        ranked = np.asarray(ranked_positions)
    except Exception as exc:
        raise TypeError(f"`ranked_positions` should be an (m, K) array of ints, got {type(ranked_positions).__name__}: "
                        f"{exc}") from None
    if ranked.dtype.kind not in "iu":
        raise TypeError(f"`ranked_positions` should hold integer positions, got dtype {ranked.dtype}.")
    if ranked.ndim != 2 or ranked.shape[0] == 0 or ranked.shape[1] == 0:
        raise ValueError(f"`ranked_positions` should be a 2-D (m, K) array with m, K >= 1, got shape {ranked.shape}.")
    m, width = ranked.shape
    if (ranked < -1).any():
        row = int(np.argwhere(ranked < -1)[0][0])
        raise ValueError(f"`ranked_positions` should hold positions >= 0 (or -1 for padding), but row {row} holds "
                         f"{ranked[row].tolist()}.")
    for name, cut in [("ks", k) for k in ks] + [("ndcg_at", ndcg_at)]:
        if cut > width:
            raise ValueError(f"`{name}` cut-off {cut} exceeds the ranked lists' length K={width}; rank at least {cut} "
                             f"items per query or lower the cut-off.")
    if isinstance(relevant, (str, bytes, Mapping)) or not hasattr(relevant, "__len__"):
        raise TypeError(f"`relevant` should be a sequence of sets of positions (one per query), got "
                        f"{type(relevant).__name__}.")
    if len(relevant) != m:
        raise ValueError(f"`relevant` should hold one set per query (row of `ranked_positions`), got {len(relevant)} "
                         f"for {m} queries.")
    hits = np.zeros((m, width), dtype=bool)
    sizes = np.zeros(m, dtype=np.int64)
    for i, (row, items) in enumerate(zip(ranked, relevant)):
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            raise TypeError(f"`relevant[{i}]` should be a set of positions, got {type(items).__name__}: {items!r}.")
        items = set(items)
        if not items:
            raise ValueError(f"`relevant[{i}]` is empty; every query needs at least one relevant position "
                             "(leave out queries with none).")
        found = row[row >= 0]
        if len(np.unique(found)) != len(found):
            raise ValueError(f"`ranked_positions` row {i} ranks a position twice: {row.tolist()}.")
        sizes[i] = len(items)
        hits[i] = [p >= 0 and int(p) in items for p in row]
    out: dict = {}
    for k in ks:
        out[f"R@{k}"] = float(hits[:, :k].any(axis=1).mean())
    discount = 1.0 / np.log2(np.arange(2, ndcg_at + 2))
    dcg = (hits[:, :ndcg_at] * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.minimum(sizes, ndcg_at) - 1]
    out[f"nDCG@{ndcg_at}"] = float((dcg / ideal).mean())
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    out["MRR"] = float(np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0).mean())
    out["queries"] = int(m)
    return out


def _image_ids(image_emb: Any, image_ids: Sequence | None) -> tuple[np.ndarray, list]:
    if isinstance(image_emb, Mapping):
        if image_ids is not None:
            raise ValueError("`image_ids` is only for an array `image_emb`; a mapping already keys its vectors by id.")
        ids = list(image_emb)
        if not ids:
            raise ValueError("`image_emb` should hold at least one image vector, got an empty mapping.")
        return as_matrix([np.asarray(image_emb[i]) for i in ids], "image_emb"), ids
    vectors = as_matrix(image_emb, "image_emb")
    own = getattr(image_emb, "ids", None)
    if image_ids is not None and own is not None:
        raise ValueError("`image_ids` is only for an array `image_emb`; this one has its own `.ids`.")
    ids = image_ids if image_ids is not None else own
    if ids is None:
        ids = range(vectors.shape[0])
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise TypeError(f"`image_ids` should be a sequence of image ids, got {type(ids).__name__}.")
    ids = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
    if len(ids) != vectors.shape[0]:
        raise ValueError(f"`image_emb` has {vectors.shape[0]} vectors but {len(ids)} image ids.")
    if len(set(ids)) != len(ids):
        seen: set = set()
        duplicate = next(i for i in ids if i in seen or seen.add(i))
        raise ValueError(f"Image ids should be unique, but {duplicate!r} appears more than once.")
    return vectors, ids


def image_to_caption_metrics(image_emb: Any, text_emb: Any, image_of_text: Sequence, *, map: Any = None,
                             ks: Sequence[int] = DEFAULT_KS, ndcg_at: int = DEFAULT_NDCG_AT, backend: str = "auto",
                             image_ids: Sequence | None = None) -> dict:
    """Image→caption retrieval on embeddings: each image's relevant captions are its own.

    Every image (with at least one caption) is a query; all captions are searched by cosine
    (:class:`iccc.vision.CaptionIndex`, exact) and the captions whose ``image_of_text`` is the
    image's id are the relevant ones (:func:`retrieval_metrics`).

    Args:
        image_emb: the image vectors with their ids: an :class:`iccc.vision.Embeddings`, a mapping
            ``image id -> vector``, or an ``(n_img, d)`` array with ``image_ids`` (default
            ``0..n_img-1``).
        text_emb: ``(n_txt, d_txt)`` caption vectors (an array or :class:`iccc.vision.Embeddings`).
        image_of_text: the image id of each caption (``None``: a caption of no image; still a
            distractor in the search).
        map: a fitted :class:`iccc.vision.LinearMap` applied to the images first, or ``None``
            (then ``d`` must be ``d_txt``).
        ks, ndcg_at: as in :func:`retrieval_metrics`.
        backend: the :class:`iccc.vision.CaptionIndex` backend.
        image_ids: the ids of an array ``image_emb``.

    Returns:
        :func:`retrieval_metrics`'s dict (``queries`` = images with a caption) plus
        ``"images_without_captions"`` and ``"captions"``.

    >>> images = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> texts = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> m = image_to_caption_metrics(images, texts, [0, 1, 0], ks=(1, 2), ndcg_at=2, backend="numpy")
    >>> m["R@1"], m["MRR"], m["queries"]
    (1.0, 1.0, 2)
    """
    from .index import CaptionIndex, retrieve_captions

    vectors, ids = _image_ids(image_emb, image_ids)
    texts = as_matrix(text_emb, "text_emb")
    if isinstance(image_of_text, (str, bytes)) or not hasattr(image_of_text, "__len__"):
        raise TypeError(f"`image_of_text` should be a sequence of image ids, one per caption, got "
                        f"{type(image_of_text).__name__}.")
    image_of_text = image_of_text.tolist() if isinstance(image_of_text, np.ndarray) else list(image_of_text)
    if len(image_of_text) != texts.shape[0]:
        raise ValueError(f"`image_of_text` should have one image id per row of `text_emb`, got {len(image_of_text)} "
                         f"ids for {texts.shape[0]} rows.")
    ks = _cutoffs(ks)
    if isinstance(ndcg_at, bool) or not isinstance(ndcg_at, (int, np.integer)) or ndcg_at < 1:
        raise ValueError(f"`ndcg_at` should be a positive int, got {ndcg_at!r}.")
    captions_of: dict = {}
    for row, image in enumerate(image_of_text):
        if image is not None:
            captions_of.setdefault(image, set()).add(row)
    queries = [i for i, image in enumerate(ids) if image in captions_of]
    if not queries:
        raise ValueError(f"No image of `image_emb` has a caption in `image_of_text` (image ids like {ids[:3]!r}, "
                         f"caption image ids like {image_of_text[:3]!r}).")
    index = CaptionIndex(texts, backend=backend)
    depth = max(max(ks), int(ndcg_at))
    found = retrieve_captions(vectors[queries], index, map=map, k=depth)
    ranked = np.full((len(queries), depth), -1, dtype=np.int64)
    for i, items in enumerate(found):
        ranked[i, :len(items)] = [item["position"] for item in items]
    out = retrieval_metrics(ranked, [captions_of[ids[i]] for i in queries], ks=ks, ndcg_at=ndcg_at)
    out["images_without_captions"] = len(ids) - len(queries)
    out["captions"] = int(texts.shape[0])
    return out
