"""Cosine search over caption vectors, and the retrieval step of retrieval-augmented captioning.

:class:`CaptionIndex` holds caption (text) vectors, L2-normalised on the way in, and finds the
``k`` captions of highest inner product (cosine) for each query vector. It runs on faiss when it
is installed (``pip install "iccc[vision]"``; exact ``"flat"``, or the approximate ``"ivf"`` and
``"hnsw"`` kinds) and on plain numpy otherwise (exact, matrix products in bounded chunks).

Results do not depend on the backend: whatever a backend proposes is scored once more in float64
by the same code, rounded to :data:`SCORE_DECIMALS` decimals and ordered by ``(-score,
position)``, so equal scores (duplicated captions, say) come back in position order and the exact
kinds of both backends return the same positions and the same scores. A row whose ties may
reach past what faiss returned is searched again exactly.

Each caption can carry a *group* (the id of its image): ``search(..., exclude=...)`` then skips,
for each query, the captions of one group (an image's own captions, when looking for the
captions of *other* images that fit it).

:func:`retrieve_captions` is the retrieval step of retrieval-augmented image description
(as in *Multimodal RAG Enhanced Visual Description*, CIKM 2025): image vectors are carried into
the text space by a :class:`iccc.vision.LinearMap` (which closes the modality gap) and their
nearest captions are looked up. The paper's second step, a language model writing a description
from the retrieved captions, is out of scope here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .linear_map import as_matrix, l2_normalize

#: Backends :class:`CaptionIndex` takes (``"auto"``: faiss when it imports, else numpy).
BACKENDS = ("auto", "faiss", "numpy")
#: Index kinds: exact inner product, inverted lists, a navigable small-world graph.
KINDS = ("flat", "ivf", "hnsw")
#: Decimals scores are rounded to before they are ordered (and as they are returned).
SCORE_DECIMALS = 6
#: Extra results fetched from faiss so that ties at the k-th place can be ordered by position.
_EXTRA = 16
#: Scores of two backends for one pair differ by far less than this (float32 round-off).
_TOLERANCE = 1e-4
#: Float32 elements one chunk of the numpy search (queries x captions) may hold.
_CHUNK_ELEMENTS = 1 << 24
#: Float64 elements one chunk of the rescoring (queries x candidates x dim) may hold.
_RESCORE_ELEMENTS = 1 << 23
#: Marks "no group" / "excludes nothing" in the integer group codes.
_NO_GROUP = -1


def _faiss():
    try:
        import faiss
    except ImportError:
        raise ImportError('backend="faiss" needs the faiss package: pip install "iccc[vision]" '
                          '(or use backend="numpy", exact search with kind="flat").') from None
    return faiss


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` should be a positive int, got {value!r}.")
    return int(value)


def _sequence(value: Any, name: str, size: int, what: str) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
        raise TypeError(f"`{name}` should be a sequence of {what}, got {type(value).__name__}.")
    values = value.tolist() if isinstance(value, np.ndarray) else list(value)
    if len(values) != size:
        raise ValueError(f"`{name}` should hold {size} {what}, got {len(values)}.")
    for i, v in enumerate(values):
        try:
            hash(v)
        except TypeError:
            raise TypeError(f"`{name}[{i}]` should be hashable (an id), got {type(v).__name__}: {v!r}.") from None
    return values


class CaptionIndex:
    """Inner-product (cosine) search over caption vectors.

    Args:
        text_emb: ``(n, d)`` caption vectors (an array or :class:`iccc.vision.Embeddings`);
            rows are L2-normalised (a zero row stays zero and scores 0 against everything).
        groups: optional, one hashable group value per caption (e.g. its image id; ``None``: no
            group), used by ``search(..., exclude=...)``.
        backend: one of :data:`BACKENDS`; ``"auto"`` is ``"faiss"`` when faiss imports, else
            ``"numpy"``.
        kind: one of :data:`KINDS`: ``"flat"`` (exact; faiss ``IndexFlatIP`` or numpy),
            ``"ivf"`` (faiss ``IndexIVFFlat``, trained on the captions; approximate) or
            ``"hnsw"`` (faiss ``IndexHNSWFlat`` with inner product; approximate). The last two
            need faiss.
        nlist: inverted lists of ``"ivf"`` (1..n); default ``round(4 * sqrt(n))``, capped at
            ``n // 39`` so that k-means has enough points per list (at least 1).
        nprobe: lists ``"ivf"`` visits per query (capped at ``nlist``).
        hnsw_m: neighbours per node of ``"hnsw"``.
        ef_search: candidate list size of an ``"hnsw"`` search.

    faiss's global settings (its thread count) are left as they are.

    >>> index = CaptionIndex([[1, 0], [0, 1], [1, 1]], groups=["a", "b", "b"], backend="numpy")
    >>> scores, positions = index.search([[1, 0.1]], 2)
    >>> positions.tolist(), np.round(scores.astype(float), 3).tolist()
    ([[0, 2]], [[0.995, 0.774]])
    >>> index.search([[1, 0.1]], 2, exclude=["a"])[1].tolist()
    [[2, 1]]
    """

    def __init__(self, text_emb: Any, *, groups: Sequence | None = None, backend: str = "auto",
                 kind: str = "flat", nlist: int | None = None, nprobe: int = 8, hnsw_m: int = 32,
                 ef_search: int = 64):
        if backend not in BACKENDS:
            raise ValueError(f"`backend` should be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}.")
        if kind not in KINDS:
            raise ValueError(f"`kind` should be one of {', '.join(map(repr, KINDS))}, got {kind!r}.")
        vectors = np.ascontiguousarray(l2_normalize(as_matrix(text_emb, "text_emb")), dtype=np.float32)
        vectors.flags.writeable = False
        n, d = vectors.shape
        if backend == "auto":
            backend = "faiss" if _faiss_available() else "numpy"
        if backend == "numpy" and kind != "flat":
            raise ValueError(f"kind={kind!r} is approximate search on faiss; backend='numpy' only has "
                             f"kind='flat' (exact). Install faiss (pip install \"iccc[vision]\") or use kind='flat'.")
        self._nprobe = _positive_int(nprobe, "nprobe")
        self._hnsw_m = _positive_int(hnsw_m, "hnsw_m")
        self._ef_search = _positive_int(ef_search, "ef_search")
        if nlist is not None:
            nlist = _positive_int(nlist, "nlist")
            if nlist > n:
                raise ValueError(f"`nlist` should be at most the number of captions ({n}), got {nlist}.")
        elif kind == "ivf":
            nlist = max(1, min(round(4 * math.sqrt(n)), n // 39))
        self._nlist = nlist if kind == "ivf" else None
        self._vectors = vectors
        self._backend = backend
        self._kind = kind
        self._set_groups(groups, n)
        self._faiss_index = self._build_faiss() if backend == "faiss" else None

    # -- construction ----------------------------------------------------------------------
    def _set_groups(self, groups, n):
        if groups is None:
            self._groups = None
            self._codes = None
            self._members = None
            return
        values = _sequence(groups, "groups", n, "group values (one per caption)")
        code_of: dict = {}
        codes = np.empty(n, dtype=np.int64)
        for i, value in enumerate(values):
            codes[i] = _NO_GROUP if value is None else code_of.setdefault(value, len(code_of))
        self._groups = tuple(values)
        self._codes = codes
        self._code_of = code_of
        # members[c]: the positions of group c; sizes[c]: how many.
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.searchsorted(sorted_codes, np.arange(len(code_of)), side="left")
        ends = np.searchsorted(sorted_codes, np.arange(len(code_of)), side="right")
        self._members = [order[s:e] for s, e in zip(starts, ends)]

    def _build_faiss(self):
        faiss = _faiss()
        n, d = self._vectors.shape
        if self._kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif self._kind == "ivf":
            self._quantizer = faiss.IndexFlatIP(d)  # kept alive as long as the index
            index = faiss.IndexIVFFlat(self._quantizer, d, self._nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(self._vectors)
            index.nprobe = min(self._nprobe, self._nlist)
        else:
            index = faiss.IndexHNSWFlat(d, self._hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = self._ef_search
        index.add(self._vectors)
        return index

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_faiss_index"] = None
        state.pop("_quantizer", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._vectors.flags.writeable = False
        if self._backend == "faiss":
            self._faiss_index = self._build_faiss()

    # -- properties ------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"faiss"`` or ``"numpy"`` (what ``"auto"`` became)."""
        return self._backend

    @property
    def kind(self) -> str:
        """One of :data:`KINDS`."""
        return self._kind

    @property
    def dim(self) -> int:
        """``d``, the size of the caption (and query) vectors."""
        return self._vectors.shape[1]

    @property
    def groups(self) -> tuple | None:
        """The group value of each caption, or ``None``."""
        return self._groups

    @property
    def vectors(self) -> np.ndarray:
        """The ``(n, d)`` L2-normalised caption vectors (read-only float32)."""
        return self._vectors

    @property
    def nlist(self) -> int | None:
        """The inverted lists of an ``"ivf"`` index (``None`` for the other kinds)."""
        return self._nlist

    def __len__(self) -> int:
        return self._vectors.shape[0]

    def __repr__(self):
        extra = f", nlist={self._nlist}, nprobe={min(self._nprobe, self._nlist)}" if self._kind == "ivf" else ""
        if self._kind == "hnsw":
            extra = f", hnsw_m={self._hnsw_m}, ef_search={self._ef_search}"
        groups = "" if self._groups is None else f", groups={len(self._members)}"
        return (f"CaptionIndex({len(self)} x {self.dim}, backend={self._backend!r}, kind={self._kind!r}"
                f"{extra}{groups})")

    # -- search ----------------------------------------------------------------------------
    def search(self, query: Any, k: int, *, exclude: Sequence | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` captions of highest cosine for each query row, best first.

        Scores are the float64 inner products of the normalised vectors, rounded to
        :data:`SCORE_DECIMALS` decimals (as float32); equal scores are ordered by position.

        Args:
            query: ``(m, d)`` query vectors (or one ``(d,)``; an array or
                :class:`iccc.vision.Embeddings`), L2-normalised here.
            k: results per query, a positive int (more than ``len(index)`` is padded).
            exclude: one group value per query row: the captions of that group are skipped for
                that row (exactly; a value no caption has, or ``None``, skips nothing). Needs
                ``groups``.

        Returns:
            ``(scores, positions)``: float32 and int64 arrays of shape ``(m, k)``; a row with
            fewer than ``k`` results is padded with score ``-inf`` and position ``-1``.
        """
        k = _positive_int(k, "k")
        q = as_matrix(query, "query", allow_1d=True)
        if q.shape[1] != self.dim:
            raise ValueError(f"`query` should have {self.dim} columns (the index's dimension), got shape {q.shape}.")
        q = np.ascontiguousarray(l2_normalize(q), dtype=np.float32)
        m = q.shape[0]
        if exclude is None:
            excluded = np.full(m, _NO_GROUP, dtype=np.int64)
        else:
            if self._groups is None:
                raise ValueError("`exclude` needs an index built with `groups` (one group value per caption).")
            values = _sequence(exclude, "exclude", m, "group values (one per query row)")
            excluded = np.array([_NO_GROUP if v is None else self._code_of.get(v, _NO_GROUP) for v in values],
                                dtype=np.int64)
        if self._backend == "numpy":
            return self._search_numpy(q, k, excluded)
        return self._search_faiss(q, k, excluded)

    def _excluded_mask(self, positions: np.ndarray, excluded: np.ndarray) -> np.ndarray:
        """True where a candidate position belongs to the row's excluded group."""
        if self._codes is None:
            return np.zeros(positions.shape, dtype=bool)
        codes = self._codes[np.where(positions >= 0, positions, 0)]
        return (codes == excluded[:, None]) & (excluded[:, None] != _NO_GROUP) & (positions >= 0)

    def _rank(self, q: np.ndarray, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Score the candidate ``positions`` (``-1``: none) of each query row in float64, order them
        by ``(-rounded score, position)`` and keep ``k``: the one ordering every backend ends with."""
        m, f = positions.shape
        n = len(self)
        scores = np.full((m, k), -np.inf, dtype=np.float32)
        out = np.full((m, k), -1, dtype=np.int64)
        if f == 0:
            return scores, out
        step = max(1, _RESCORE_ELEMENTS // max(1, f * self.dim))
        for start in range(0, m, step):
            pos = positions[start:start + step]
            valid = pos >= 0
            rows = self._vectors[np.where(valid, pos, 0)].astype(np.float64)
            raw = np.einsum("cfd,cd->cf", rows, q[start:start + step].astype(np.float64))
            rounded = np.where(valid, np.round(raw, SCORE_DECIMALS), -np.inf)
            key = np.where(valid, pos, n)
            order = np.lexsort((key, -rounded), axis=-1)[:, :k]
            take = min(k, f)
            chosen = np.take_along_axis(pos, order, axis=1)
            chosen_valid = np.take_along_axis(valid, order, axis=1)
            scores[start:start + step, :take] = np.where(chosen_valid, np.take_along_axis(rounded, order, axis=1),
                                                         -np.inf)
            out[start:start + step, :take] = np.where(chosen_valid, chosen, -1)
        return scores, out

    def _exact_row(self, q_row: np.ndarray, k: int, excluded: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact search for one query (what the faiss search falls back to for an unsure row)."""
        s = self._vectors @ q_row
        if excluded != _NO_GROUP:
            s[self._members[excluded]] = -np.inf
        return self._rank(q_row[None, :], _candidates(s, k)[None, :], k)

    def _search_numpy(self, q, k, excluded):
        m, n = q.shape[0], len(self)
        scores = np.full((m, k), -np.inf, dtype=np.float32)
        positions = np.full((m, k), -1, dtype=np.int64)
        step = max(1, _CHUNK_ELEMENTS // n)
        for start in range(0, m, step):
            block = q[start:start + step] @ self._vectors.T  # (c, n) float32: the chunk's only big array
            lists = []
            for i, s in enumerate(block):
                group = int(excluded[start + i])
                if group != _NO_GROUP:
                    s[self._members[group]] = -np.inf
                lists.append(_candidates(s, k))
            width = max(1, max(len(c) for c in lists))
            padded = np.full((len(lists), width), -1, dtype=np.int64)
            for i, c in enumerate(lists):
                padded[i, :len(c)] = c
            scores[start:start + step], positions[start:start + step] = self._rank(q[start:start + step], padded, k)
        return scores, positions

    def _search_faiss(self, q, k, excluded):
        n = len(self)
        largest = 0
        if self._members is not None:
            used = np.unique(excluded[excluded != _NO_GROUP])
            largest = max((len(self._members[c]) for c in used), default=0)
        fetch = min(n, k + largest + _EXTRA)
        raw_scores, labels = self._faiss_index.search(q, fetch)
        labels = labels.astype(np.int64, copy=False)
        labels = np.where(self._excluded_mask(labels, excluded), -1, labels)
        scores, positions = self._rank(q, labels, k)
        if self._kind == "flat" and fetch < n:
            # What faiss did not return scores at most its last returned score (up to round-off):
            # a row whose k-th result is not clearly above it is searched again exactly.
            last = raw_scores[:, fetch - 1].astype(np.float64)
            kth = scores[:, k - 1].astype(np.float64)
            unsure = np.flatnonzero(~(kth > last + _TOLERANCE))
            for i in unsure:
                scores[i:i + 1], positions[i:i + 1] = self._exact_row(q[i], k, int(excluded[i]))
        return scores, positions


def _candidates(s: np.ndarray, k: int) -> np.ndarray:
    """The positions whose score in ``s`` (one query's float32 scores, ``-inf``: excluded) is
    within the tolerance of the k-th best: a superset of the k best by the rounded exact score, so
    :meth:`CaptionIndex._rank` orders ties by position whatever float32 round-off did."""
    finite = np.isfinite(s)
    take = min(k, int(finite.sum()))
    if take == 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.partition(s, len(s) - take)[len(s) - take]
    return np.flatnonzero(finite & (s >= threshold - _TOLERANCE)).astype(np.int64)


# ---------------------------------------------------------------------------- retrieval
def retrieve_captions(images: Any, index: CaptionIndex, map: Any = None, k: int = 5, *,
                      captions: Sequence | None = None, exclude: Sequence | None = None) -> list[list[dict]]:
    """The ``k`` captions nearest to each image (the retrieval step of retrieval-augmented
    description; see the module docstring).

    Args:
        images: ``(m, d_img)`` image vectors (or one ``(d_img,)``; an array or
            :class:`iccc.vision.Embeddings`).
        index: a :class:`CaptionIndex` of the caption vectors.
        map: a fitted :class:`iccc.vision.LinearMap` carrying the images into the text space
            (anything with ``transform``), or ``None`` to search with the image vectors as they
            are (then ``d_img`` must be the index's dimension).
        k: captions per image, a positive int.
        captions: optional, the text of each caption of the index (``len(index)`` of them).
        exclude: optional, one group value per image (see :meth:`CaptionIndex.search`).

    Returns:
        Per image, its results best first (padding dropped, so fewer than ``k`` when the index
        has fewer), each a dict with ``"position"`` (int), ``"score"`` (float, the cosine),
        ``"caption"`` (when ``captions`` is given) and ``"group"`` (when the index has groups).

    >>> index = CaptionIndex([[1, 0], [0, 1]], groups=["x", "y"], backend="numpy")
    >>> retrieve_captions([[0.2, 1.0]], index, k=1, captions=["a cat", "a dog"])
    [[{'position': 1, 'score': 0.980581, 'caption': 'a dog', 'group': 'y'}]]
    """
    if not isinstance(index, CaptionIndex):
        raise TypeError(f"`index` should be a CaptionIndex, got {type(index).__name__}.")
    k = _positive_int(k, "k")
    if captions is not None:
        if isinstance(captions, (str, bytes)) or not hasattr(captions, "__len__"):
            raise TypeError(f"`captions` should be a sequence of caption texts, got {type(captions).__name__}.")
        if len(captions) != len(index):
            raise ValueError(f"`captions` should hold one text per caption of the index ({len(index)}), got "
                             f"{len(captions)}.")
    if map is None:
        query = as_matrix(images, "images", allow_1d=True)
    else:
        if not callable(getattr(map, "transform", None)):
            raise TypeError(f"`map` should be a LinearMap (with transform) or None, got {type(map).__name__}.")
        query = as_matrix(map.transform(images), "map.transform(images)")
    if query.shape[1] != index.dim:
        what = "the map gives" if map is not None else "`images` have"
        raise ValueError(f"{what} {query.shape[1]}-d vectors but the index holds {index.dim}-d captions"
                         + ("" if map is not None else "; pass a LinearMap as `map` to go from images to texts") + ".")
    scores, positions = index.search(query, k, exclude=exclude)
    groups = index.groups
    out = []
    for row_scores, row_positions in zip(scores, positions):
        found = []
        for score, position in zip(row_scores, row_positions):
            if position < 0:
                break
            item = {"position": int(position), "score": round(float(score), SCORE_DECIMALS)}
            if captions is not None:
                item["caption"] = captions[int(position)]
            if groups is not None:
                item["group"] = groups[int(position)]
            found.append(item)
        out.append(found)
    return out
