"""A closed-form linear map from image embeddings to text embeddings (fitted on image–caption pairs).

A dual encoder puts images and captions in one space, but each modality keeps its own offset
(the "modality gap"), so an image's nearest captions are better found after mapping the image
into the text space. :class:`LinearMap` fits that map in closed form on paired rows ``X``
(images, one row per caption) and ``Y`` (the captions), after the two preprocessing steps that
make it work: every row is L2-normalised, then both spaces are centred on their fitted means::

    x -> ((x / |x|) - image_mean) @ weight + text_mean        (then L2-normalised again)

Three fits (:data:`METHODS`): ordinary least squares (``"lstsq"``), ridge regression
(``"ridge"``), and the orthogonal Procrustes solution (``"procrustes"``, a rotation, which keeps
the geometry of the image space). :func:`paired` turns image and caption embeddings keyed by id
into the paired rows. A fitted map saves to ``.npz`` or ``.safetensors`` and loads back exactly.

Only numpy is imported here (safetensors when a ``.safetensors`` file is written or read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: How :meth:`LinearMap.fit` solves for the weight.
METHODS = ("lstsq", "ridge", "procrustes")
#: File suffixes :meth:`LinearMap.save` writes and :meth:`LinearMap.load` reads.
FORMATS = (".npz", ".safetensors")
#: Marks a file written by :meth:`LinearMap.save` (and its layout version).
FILE_FORMAT = "iccc.vision.LinearMap/1"


# ---------------------------------------------------------------------------- array helpers
def as_matrix(x: Any, name: str, *, allow_1d: bool = False, dtype=np.float32) -> np.ndarray:
    """``x`` (an array, or anything with ``.vectors`` such as :class:`iccc.vision.Embeddings`) as a
    finite 2-D float array with at least one row and one column.

    Args:
        x: the vectors.
        name: the argument's name, for error messages.
        allow_1d: a single vector of shape ``(d,)`` is taken as one row.
        dtype: the float type returned.

    >>> as_matrix([[1, 2], [3, 4]], "x").dtype
    dtype('float32')
    >>> as_matrix([1, 2], "x", allow_1d=True).shape
    (1, 2)
    """
    vectors = getattr(x, "vectors", x)
    try:
        array = np.asarray(vectors)
    except Exception as exc:  # ragged lists, objects numpy cannot read
        raise TypeError(f"`{name}` should be an array of vectors, got {type(vectors).__name__}: {exc}") from None
    if array.dtype.kind not in "fiu":
        raise TypeError(f"`{name}` should hold numbers (a float array), got dtype {array.dtype}.")
    if array.ndim == 1 and allow_1d:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        shapes = "(n, d) or (d,)" if allow_1d else "(n, d)"
        raise ValueError(f"`{name}` should be a 2-D array of shape {shapes}, got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"`{name}` should have at least one row and one column, got shape {array.shape}.")
    array = array.astype(dtype, copy=False)
    if not np.isfinite(array).all():
        bad = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"`{name}` should be finite, but row {bad} holds NaN or inf.")
    return array


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` divided by their L2 norm (a zero row stays zero).

    >>> l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1).astype(x.dtype, copy=False)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    return bool(value)


# ---------------------------------------------------------------------------- the map
@dataclass(frozen=True, eq=False)
class LinearMap:
    """A fitted image→text map: ``x -> ((normalize(x) - image_mean) @ weight) + text_mean``, then
    L2-normalised again (:meth:`transform`).

    Made by :meth:`fit` (or :meth:`load`); the fields are what the formula needs plus how it was fitted.

    Attributes:
        weight: ``(d_img, d_txt)`` float32.
        image_mean: ``(d_img,)`` float32, the mean of the (normalised) fitted images; zeros when
            ``center`` is False.
        text_mean: ``(d_txt,)`` float32, the same for the texts.
        method: one of :data:`METHODS`.
        ridge: the ridge strength (0 unless ``method="ridge"``).
        normalize: whether input rows are L2-normalised before the map.
        center: whether both spaces were centred on their means.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 4)).astype(np.float32)
    >>> m = LinearMap.fit(x, x @ np.diag([1.0, 2.0, 3.0, 4.0]), center=False, normalize=False)
    >>> np.round(np.diag(m.weight), 3).tolist()
    [1.0, 2.0, 3.0, 4.0]
    >>> m.transform(x[:3]).shape
    (3, 4)
    """

    weight: np.ndarray
    image_mean: np.ndarray
    text_mean: np.ndarray
    method: str = "lstsq"
    ridge: float = 0.0
    normalize: bool = True
    center: bool = True

    def __post_init__(self):
        weight = as_matrix(self.weight, "weight")
        d_img, d_txt = weight.shape
        means = {}
        for name, size in (("image_mean", d_img), ("text_mean", d_txt)):
            mean = np.asarray(getattr(self, name))
            if mean.shape != (size,) or mean.dtype.kind not in "fiu" or not np.isfinite(mean).all():
                raise ValueError(f"`{name}` should be a finite float vector of shape ({size},) to match `weight` "
                                 f"of shape {weight.shape}, got shape {mean.shape} (dtype {mean.dtype}).")
            means[name] = mean.astype(np.float32, copy=False)
        if self.method not in METHODS:
            raise ValueError(f"Unknown method {self.method!r}. Available: {', '.join(map(repr, METHODS))}.")
        ridge = _check_ridge(self.ridge)
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "image_mean", means["image_mean"])
        object.__setattr__(self, "text_mean", means["text_mean"])
        object.__setattr__(self, "ridge", ridge)
        object.__setattr__(self, "normalize", _check_flag(self.normalize, "normalize"))
        object.__setattr__(self, "center", _check_flag(self.center, "center"))

    @property
    def image_dim(self) -> int:
        """``d_img``, the size of the image vectors the map takes."""
        return self.weight.shape[0]

    @property
    def text_dim(self) -> int:
        """``d_txt``, the size of the text vectors the map gives."""
        return self.weight.shape[1]

    def __repr__(self):
        extra = f", ridge={self.ridge:g}" if self.method == "ridge" else ""
        return (f"LinearMap({self.image_dim} -> {self.text_dim}, method={self.method!r}{extra}, "
                f"normalize={self.normalize}, center={self.center})")

    # -- fitting ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, image_emb: Any, text_emb: Any, *, method: str = "lstsq", ridge: float = 0.0, center: bool = True,
            normalize: bool = True) -> LinearMap:
        """Fit the map on paired rows: row ``i`` of ``image_emb`` is the image of caption ``i`` of
        ``text_emb`` (an image with five captions is five rows; :func:`paired` builds them).

        With ``normalize`` every row of both is L2-normalised first; with ``center`` both are then
        centred on their means (the fitted ``image_mean`` and ``text_mean``); ``X`` and ``Y`` below
        are the rows after these steps, ``n`` their number. The weight ``W`` solves (in float64):

        - ``"lstsq"``: ``min ||X W - Y||²`` (``np.linalg.lstsq``, ``rcond=None``: the minimum-norm
          solution when ``X`` has fewer independent rows than columns).
        - ``"ridge"``: ``min (1/n) ||X W - Y||² + ridge ||W||²``, i.e.
          ``(Xᵀ X + ridge·n·I) W = Xᵀ Y``: ``ridge`` is per pair, so the same value shrinks the
          same for any ``n`` (solved in the dual, ``W = Xᵀ (X Xᵀ + ridge·n·I)⁻¹ Y``, when ``n < d_img``).
        - ``"procrustes"``: ``min ||X W - Y||²`` over orthogonal ``W`` (``Wᵀ W = I``): with the SVD
          ``Xᵀ Y = U S Vᵀ``, ``W = U Vᵀ`` (Schönemann, 1966). Needs ``d_img == d_txt``.

        Args:
            image_emb: ``(n, d_img)`` image vectors (an array or :class:`iccc.vision.Embeddings`).
            text_emb: ``(n, d_txt)`` text vectors, paired row by row with ``image_emb``.
            method: one of :data:`METHODS`.
            ridge: the ridge strength, > 0 for ``method="ridge"`` and 0 for the others.
            center: centre both spaces on their means (recommended: a dual encoder's two
                modalities sit around different means).
            normalize: L2-normalise rows first (recommended for cosine-trained encoders);
                :meth:`transform` then normalises its input the same way.

        Returns:
            The fitted :class:`LinearMap`.
        """
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}. Available: {', '.join(map(repr, METHODS))}.")
        ridge = _check_ridge(ridge)
        if method == "ridge" and ridge == 0:
            raise ValueError(f"`ridge` should be > 0 for method='ridge', got {ridge!r} (method='lstsq' is ridge=0).")
        if method != "ridge" and ridge != 0:
            raise ValueError(f"`ridge` is only used by method='ridge', got ridge={ridge!r} with method={method!r}.")
        center = _check_flag(center, "center")
        normalize = _check_flag(normalize, "normalize")
        x = as_matrix(image_emb, "image_emb", dtype=np.float64)
        y = as_matrix(text_emb, "text_emb", dtype=np.float64)
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"`image_emb` and `text_emb` should have one row per pair, got {x.shape[0]} and "
                             f"{y.shape[0]} rows (shapes {x.shape} and {y.shape}).")
        if method == "procrustes" and x.shape[1] != y.shape[1]:
            raise ValueError(f"method='procrustes' fits an orthogonal map, so `image_emb` and `text_emb` should have "
                             f"the same dimension, got {x.shape[1]} and {y.shape[1]}; use 'lstsq' or 'ridge'.")
        if normalize:
            x, y = l2_normalize(x), l2_normalize(y)
        mean_x = x.mean(axis=0) if center else np.zeros(x.shape[1])
        mean_y = y.mean(axis=0) if center else np.zeros(y.shape[1])
        x, y = x - mean_x, y - mean_y
        n, d = x.shape
        if method == "lstsq":
            weight = np.linalg.lstsq(x, y, rcond=None)[0]
        elif method == "ridge":
            if n >= d:
                weight = np.linalg.solve(x.T @ x + ridge * n * np.eye(d), x.T @ y)
            else:
                weight = x.T @ np.linalg.solve(x @ x.T + ridge * n * np.eye(n), y)
        else:
            u, _, vt = np.linalg.svd(x.T @ y, full_matrices=False)
            weight = u @ vt
        return cls(weight=weight.astype(np.float32), image_mean=mean_x.astype(np.float32),
                   text_mean=mean_y.astype(np.float32), method=method, ridge=ridge, normalize=normalize, center=center)

    # -- applying --------------------------------------------------------------------------
    def transform(self, image_emb: Any, *, normalize_output: bool = True) -> np.ndarray:
        """Map image vectors into the text space.

        Args:
            image_emb: ``(m, d_img)`` (or one ``(d_img,)``) image vectors, or
                :class:`iccc.vision.Embeddings`.
            normalize_output: L2-normalise the mapped rows (what cosine search wants).

        Returns:
            ``(m, d_txt)`` float32 (``(1, d_txt)`` for one vector).
        """
        normalize_output = _check_flag(normalize_output, "normalize_output")
        x = as_matrix(image_emb, "image_emb", allow_1d=True)
        if x.shape[1] != self.image_dim:
            raise ValueError(f"`image_emb` should have {self.image_dim} columns (the map's image dimension), got "
                             f"shape {x.shape}.")
        if self.normalize:
            x = l2_normalize(x)
        out = (x - self.image_mean) @ self.weight + self.text_mean
        return l2_normalize(out) if normalize_output else out

    # -- files -----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the map to ``path``: ``.npz`` (``np.savez``, plain arrays only, so
        ``np.load(path, allow_pickle=False)`` reads it) or ``.safetensors`` (the arrays, with the
        method and flags as metadata strings). :meth:`load` reads either back exactly.

        Returns:
            The path written.
        """
        path = _check_path(path)
        arrays = {"weight": self.weight, "image_mean": self.image_mean, "text_mean": self.text_mean}
        if path.suffix == ".npz":
            with path.open("wb") as f:  # a file object: np.savez would otherwise rename a suffix-less path
                np.savez(f, **arrays, format=np.array(FILE_FORMAT), method=np.array(self.method),
                         ridge=np.array(self.ridge, dtype=np.float64), normalize=np.array(self.normalize),
                         center=np.array(self.center))
        else:
            save_file = _safetensors().save_file
            metadata = {"format": FILE_FORMAT, "method": self.method, "ridge": repr(self.ridge),
                        "normalize": str(self.normalize), "center": str(self.center)}
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path), metadata=metadata)
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearMap:
        """Read a map written by :meth:`save` (``.npz`` or ``.safetensors``)."""
        path = _check_path(path)
        if not path.is_file():
            raise FileNotFoundError(f"`path` should be a LinearMap file, but {str(path)!r} does not exist.")
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as data:
                    stored = {k: data[k] for k in data.files}
                meta = {k: stored.pop(k) for k in ("format", "method", "ridge", "normalize", "center") if k in stored}
                meta = {k: v.item() for k, v in meta.items()}
            else:
                st = _safetensors()
                from safetensors import safe_open

                stored = st.load_file(str(path))
                with safe_open(str(path), framework="numpy") as f:
                    meta = dict(f.metadata() or {})
                for key, parse in (("ridge", float), ("normalize", _parse_bool), ("center", _parse_bool)):
                    if key in meta:
                        meta[key] = parse(meta[key])
        except (OSError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} is not a readable LinearMap file: {exc}") from None
        if meta.get("format") != FILE_FORMAT or not {"weight", "image_mean", "text_mean"} <= set(stored):
            raise ValueError(f"{str(path)!r} is not a LinearMap file (written by LinearMap.save, format "
                             f"{FILE_FORMAT!r}); found format {meta.get('format')!r} and arrays {sorted(stored)}.")
        return cls(weight=stored["weight"], image_mean=stored["image_mean"], text_mean=stored["text_mean"],
                   method=str(meta.get("method")), ridge=meta.get("ridge", 0.0), normalize=meta.get("normalize"),
                   center=meta.get("center"))


def _check_ridge(ridge: Any) -> float:
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)) \
            or not np.isfinite(ridge) or ridge < 0:
        raise ValueError(f"`ridge` should be a finite number >= 0, got {ridge!r}.")
    return float(ridge)


def _parse_bool(text: str) -> bool:
    if text not in ("True", "False"):
        raise ValueError(f"expected 'True' or 'False' in the metadata, got {text!r}")
    return text == "True"


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise TypeError(f"`path` should be a str or os.PathLike, got {type(path).__name__}: {path!r}.")
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ValueError(f"`path` should end with {' or '.join(FORMATS)}, got {str(path)!r}.")
    return path


def _safetensors():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError('Reading or writing .safetensors needs the safetensors package: pip install "iccc[vision]" '
                          "(or save to .npz).") from None
    return st


# ---------------------------------------------------------------------------- pairs
def paired(images: Any, texts: Any, image_of_text: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The paired rows :meth:`LinearMap.fit` takes, from image vectors keyed by image id and
    caption vectors with the image id of each caption.

    Args:
        images: the image vectors with their ids: an :class:`iccc.vision.Embeddings` (``.ids``,
            ``.vectors``) or a mapping ``image id -> vector``.
        texts: ``(n, d_txt)`` caption vectors (an array or :class:`iccc.vision.Embeddings`).
        image_of_text: the image id of each caption row (``n`` of them; ``None`` for a caption of
            no image).

    Returns:
        ``(X, Y)``: float32 ``(p, d_img)`` and ``(p, d_txt)``, one row per caption whose image has
        a vector, in caption order (the others are skipped).

    >>> class E:  # anything with .ids and .vectors
    ...     ids, vectors = ("a", "b"), np.eye(2, dtype=np.float32)
    >>> x, y = paired(E(), np.ones((3, 5)), ["b", "c", "b"])
    >>> x.tolist(), y.shape
    ([[0.0, 1.0], [0.0, 1.0]], (2, 5))
    """
    if isinstance(images, Mapping):
        ids = list(images)
        vectors = as_matrix([np.asarray(images[i]) for i in ids], "images") if ids else None
    else:
        if not hasattr(images, "ids") or not hasattr(images, "vectors"):
            raise TypeError(f"`images` should be an iccc.vision.Embeddings (with .ids and .vectors) or a mapping "
                            f"image id -> vector, got {type(images).__name__}.")
        ids = list(images.ids)
        vectors = as_matrix(images, "images")
        if len(ids) != vectors.shape[0]:
            raise ValueError(f"`images` has {len(ids)} ids but {vectors.shape[0]} vectors.")
    if vectors is None:
        raise ValueError("`images` should hold at least one image vector, got none.")
    row_of = {}
    for row, image in enumerate(ids):
        if image in row_of:
            raise ValueError(f"`images` should have unique ids, but {image!r} appears more than once.")
        row_of[image] = row
    y = as_matrix(texts, "texts")
    if isinstance(image_of_text, (str, bytes)) or not hasattr(image_of_text, "__len__"):
        raise TypeError(f"`image_of_text` should be a sequence of image ids, one per caption, got "
                        f"{type(image_of_text).__name__}.")
    if len(image_of_text) != y.shape[0]:
        raise ValueError(f"`image_of_text` should have one image id per row of `texts`, got {len(image_of_text)} "
                         f"ids for {y.shape[0]} rows.")
    rows, keep = [], []
    first_missing = None
    for t, image in enumerate(image_of_text):
        row = row_of.get(image) if image is not None else None
        if row is None:
            if first_missing is None and image is not None:
                first_missing = image
            continue
        rows.append(row)
        keep.append(t)
    if not rows:
        raise ValueError(f"No caption of `texts` has its image in `images` (the first missing image id is "
                         f"{first_missing!r}; `images` has ids like {ids[:3]!r}).")
    return vectors[rows], y[keep]
