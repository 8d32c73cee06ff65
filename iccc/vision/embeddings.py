"""Embeddings in, from anything: vectors keyed by ids, validated once, saved without pickle.

:class:`Embeddings` holds ``(n, d)`` float32 vectors and one id per row (image ids for images,
caption row numbers for captions). :func:`as_embeddings` makes one from what a user has — an
array, a list of vectors, a mapping ``id -> vector``, a dataset column, or a ``.npy`` / ``.npz`` /
``.parquet`` file — and checks shapes, dtypes, NaNs and ids with errors that name the argument and
the first bad id. :class:`EmbeddingSet` is what ``iccc embed`` writes and ``iccc build --vision``
reads: image vectors, caption vectors with their texts and image ids, the model's name and the
status of every image that could not be embedded. :func:`save_embeddings` / :func:`load_embeddings`
round-trip it exactly through ``.npz`` (``np.load(allow_pickle=False)`` reads it) or parquet.

Ids are kept as plain Python values (``np.int64(5)`` is ``5``, ``np.str_("a")`` is ``"a"``, bytes
are decoded), so the image ids of a dataset column match whatever array type they were stored in.
:func:`check_ids_match` tells how many of a dataset's ids have a vector.

Only numpy is imported here (pyarrow when a parquet file is written or read).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Marks a file written by :func:`save_embeddings` (and its layout version).
FILE_FORMAT = "iccc.vision.EmbeddingSet/1"
#: Suffixes :func:`save_embeddings` writes (:func:`load_embeddings` also reads ``.npy``).
FORMATS = (".npz", ".parquet")
#: Columns a user parquet file may keep its vectors in (the first one present is used).
VECTOR_COLUMNS = ("vector", "embedding")


# ---------------------------------------------------------------------------- ids and arrays
def plain_id(value: Any) -> Any:
    """An id as a plain Python value (numpy scalars unwrapped, bytes decoded as UTF-8).

    >>> plain_id(np.int64(3)), plain_id(np.str_("a")), plain_id(b"x"), plain_id(7)
    (3, 'a', 'x', 7)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    return bool(value)


def _is_sequence(x: Any) -> bool:
    """A list-like of items (not a string): lists, tuples, arrays, dataset columns, pandas series."""
    return not isinstance(x, (str, bytes, Mapping)) and hasattr(x, "__len__") and hasattr(x, "__iter__")


def _id_list(ids: Any, name: str) -> tuple:
    if not _is_sequence(ids):
        raise TypeError(f"`{name}` should be a sequence of ids (a list, tuple or array), got "
                        f"{type(ids).__name__}: {ids!r:.80}.")
    values = ids.tolist() if isinstance(ids, np.ndarray) else ids
    return tuple(plain_id(i) for i in values)


def _matrix(x: Any, name: str) -> np.ndarray:
    """``x`` as a 2-D float32 array with at least one row and one column (finiteness is checked per id later)."""
    try:
        array = np.asarray(x)
    except Exception as exc:  # ragged lists, tensors numpy cannot read
        raise TypeError(f"`{name}` should be an (n, d) array of vectors, got {type(x).__name__} that numpy cannot "
                        f"read as one ({exc}).") from None
    if array.dtype == object and array.ndim == 1 and len(array):  # a column of vectors (arrays or lists)
        rows = []
        for r, v in enumerate(array):
            row = np.asarray(v) if v is not None else np.asarray(None)
            if row.dtype.kind not in "fiu" or row.ndim != 1 or (rows and row.shape != rows[0].shape):
                raise TypeError(f"`{name}` should hold vectors of one length (numbers), but row {r} is "
                                f"{type(v).__name__}: {v!r:.80}.")
            rows.append(row)
        array = np.stack(rows)
    elif array.dtype == object:  # numbers of mixed Python types, or something else
        if not all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in array.flat):
            raise TypeError(f"`{name}` should hold numbers (a float array), got an object array with "
                            f"{sorted({type(v).__name__ for v in array.flat})}.")
        array = array.astype(np.float64)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"`{name}` should hold numbers (a float array), got dtype {array.dtype}.")
    if array.ndim != 2:
        raise ValueError(f"`{name}` should be a 2-D array of shape (n, d) (one row per id), got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}): at least one vector of at least one number is "
                         "needed.")
    return array.astype(np.float32, copy=False)


# ---------------------------------------------------------------------------- Embeddings
class Embeddings:
    """Vectors keyed by ids: ``vectors`` float32 C-contiguous ``(n, d)`` (read-only), ``ids`` a tuple of ``n``
    unique hashable ids (default ``0..n-1``).

    Args:
        vectors: ``(n, d)`` numbers (an array, a list of vectors, a tensor).
        ids: one id per row (ints or strings; numpy scalars and bytes become plain ``int`` / ``str``).
        name: the argument's name, for error messages.
        copy: copy ``vectors`` (``None``: only when the array given is shared and writeable, so that
            changing it afterwards cannot change these embeddings).

    >>> e = Embeddings.from_array(np.eye(3, dtype=np.float32), ids=["a", "b", "c"])
    >>> e.dim, len(e), "b" in e, e.row_of("c"), e.take(["c"]).tolist()
    (3, 3, True, 2, [[0.0, 0.0, 1.0]])
    >>> Embeddings([[1, 2]], ids=[np.int64(5)]).ids
    (5,)
    """

    __slots__ = ("vectors", "ids", "_row")

    def __init__(self, vectors: Any, ids: Sequence | None = None, *, name: str = "vectors", copy: bool | None = None):
        array = _matrix(vectors, name)
        n = array.shape[0]
        if ids is None:
            ids = tuple(range(n))
        else:
            ids = _id_list(ids, f"ids` of `{name}")
            if len(ids) != n:
                raise ValueError(f"`{name}` has {n} vectors but {len(ids)} ids: one id per row is needed.")
        row: dict = {}
        for r, i in enumerate(ids):
            try:
                seen = i in row
            except TypeError:
                raise TypeError(f"`{name}` ids should be hashable (ints or strings), but row {r} has "
                                f"{type(i).__name__}: {i!r:.80}.") from None
            if seen:
                raise ValueError(f"`{name}` should have unique ids, but {i!r} appears more than once (rows {row[i]} "
                                 f"and {r}).")
            row[i] = r
        bad = ~np.isfinite(array).all(axis=1)
        if bad.any():
            raise ValueError(f"`{name}` row for id {ids[int(np.argmax(bad))]!r} holds NaN or inf.")
        if copy is None:  # the caller's own (writeable) memory: copy, so that later edits cannot reach us
            copy = array.flags.writeable and (array is vectors or array.base is not None)
        array = np.array(array, order="C", copy=True) if copy else np.ascontiguousarray(array)
        array.flags.writeable = False
        self.vectors = array
        self.ids = ids
        self._row = row

    @classmethod
    def from_array(cls, array: Any, ids: Sequence | None = None, *, name: str = "vectors",
                   normalize: bool = False) -> Embeddings:
        """Embeddings of ``array`` (``(n, d)``) keyed by ``ids`` (default ``0..n-1``).

        Args:
            array: the vectors.
            ids: one id per row.
            name: the argument's name, for error messages.
            normalize: L2-normalise the rows (a zero row is an error naming its id).
        """
        normalize = _check_flag(normalize, "normalize")
        out = cls(array, ids, name=name)
        return out.normalized(name=name) if normalize else out

    def __reduce__(self):  # pickled as (vectors, ids): validated and read-only again when loaded
        return (_rebuild, (self.vectors, self.ids))

    @property
    def dim(self) -> int:
        """``d``, the vectors' size."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def __contains__(self, key: Any) -> bool:
        try:
            return plain_id(key) in self._row
        except TypeError:  # unhashable: not an id of ours
            return False

    def row_of(self, key: Any) -> int:
        """The row of id ``key`` (``KeyError`` naming it, with a few known ids, when absent)."""
        try:
            return self._row[plain_id(key)]
        except (KeyError, TypeError):
            more = ", ..." if len(self) > 3 else ""
            raise KeyError(f"No vector for id {key!r} ({len(self)} ids, like {list(self.ids[:3])!r}{more}).") from None

    def take(self, keys: Sequence) -> np.ndarray:
        """The ``(k, d)`` vectors of ``keys``, in that order (``KeyError`` naming the first missing id)."""
        if not _is_sequence(keys):
            raise TypeError(f"`keys` should be a sequence of ids (for one id: take([id])), got "
                            f"{type(keys).__name__}: {keys!r:.80}.")
        rows = [self.row_of(k) for k in keys]
        return self.vectors[rows] if rows else np.zeros((0, self.dim), np.float32)

    def subset(self, keys: Sequence) -> Embeddings:
        """The embeddings of ``keys`` only, in that order (at least one key; each once)."""
        vectors = self.take(keys)
        if not len(vectors):
            raise ValueError("`keys` is empty: a subset holds at least one id.")
        return Embeddings(vectors, [plain_id(k) for k in keys], name="keys", copy=False)

    def normalized(self, *, name: str = "vectors") -> Embeddings:
        """These embeddings with unit rows (itself when they already are); a zero row is an error naming its id."""
        norms = np.linalg.norm(self.vectors, axis=1)
        if np.allclose(norms, 1.0, rtol=0, atol=1e-5):
            return self
        if (norms == 0).any():
            raise ValueError(f"`{name}` row for id {self.ids[int(np.argmax(norms == 0))]!r} is all zeros and cannot "
                             "be normalised.")
        return Embeddings(self.vectors / norms[:, None], self.ids, name=name, copy=False)

    def __repr__(self):
        more = ", ..." if len(self) > 3 else ""
        return f"Embeddings(n={len(self)}, dim={self.dim}, ids={list(self.ids[:3])!r}{more})"


def _rebuild(vectors: np.ndarray, ids: tuple) -> Embeddings:
    return Embeddings(vectors, ids, copy=False)


def as_embeddings(x: Any, *, name: str = "embeddings", ids: Sequence | None = None,
                  normalize: bool = False) -> Embeddings:
    """:class:`Embeddings` from what a user has.

    Args:
        x: an :class:`Embeddings` (returned as is); an :class:`EmbeddingSet` (its images); an
            ``(n, d)`` array, tensor or list of vectors (a dataset column such as
            ``dataset["embedding"]``); a mapping ``id -> vector``; or a path to ``.npy`` (rows keyed
            ``0..n-1``), ``.npz`` (arrays ``vectors`` and optional ``ids``, or a file of
            :func:`save_embeddings`: its images) or ``.parquet`` (a list column ``vector`` or
            ``embedding``, optional ``id``).
        name: the argument's name, for error messages.
        ids: one id per row, for arrays, lists and files (``None``: ``0..n-1``, or the file's ids).
        normalize: L2-normalise the rows (a zero row is an error naming its id).

    Returns:
        The :class:`Embeddings`.

    >>> as_embeddings({"a": [3.0, 4.0]}, normalize=True).take(["a"]).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    normalize = _check_flag(normalize, "normalize")
    if isinstance(x, (Embeddings, EmbeddingSet, Mapping)) and ids is not None:
        raise ValueError(f"`ids` cannot be given with `{name}` that is a {type(x).__name__} (it has its ids).")
    if isinstance(x, Embeddings):
        out = x
    elif isinstance(x, EmbeddingSet):
        if x.images is None:
            raise ValueError(f"`{name}` is an EmbeddingSet without image vectors ({x!r}).")
        out = x.images
    elif isinstance(x, (str, os.PathLike)):
        out = _from_path(Path(x), name, ids)
    elif isinstance(x, Mapping):
        if not x:
            raise ValueError(f"`{name}` is an empty mapping: at least one id -> vector is needed.")
        out = Embeddings([np.asarray(v) for v in x.values()], list(x), name=name)
    elif hasattr(x, "column_names") and hasattr(x, "features"):  # a whole datasets.Dataset
        raise TypeError(f"`{name}` should be a column of the dataset (e.g. dataset['embedding']), not the dataset "
                        f"(columns: {list(x.column_names)}).")
    elif isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        out = Embeddings(x, ids, name=name)
    elif _is_sequence(x):
        out = Embeddings(list(x), ids, name=name)
    else:
        raise TypeError(f"`{name}` should be an iccc.vision.Embeddings, an (n, d) array or list of vectors, a mapping "
                        f"id -> vector or a .npy/.npz/.parquet path, got {type(x).__name__}: {x!r:.80}.")
    return out.normalized(name=name) if normalize else out


def _from_path(path: Path, name: str, ids) -> Embeddings:
    suffix = path.suffix.lower()
    if suffix not in (".npy", *FORMATS):
        raise ValueError(f"`{name}` should be a .npy, .npz or .parquet file, got {str(path)!r}.")
    found = load_embeddings(path, name=name)
    emb = found.images if found.images is not None else found.texts
    if emb is None:
        raise ValueError(f"`{name}`: {str(path)!r} holds no vectors ({found!r}).")
    return emb if ids is None else Embeddings(emb.vectors, ids, name=f"{name} ({path})", copy=False)


# ---------------------------------------------------------------------------- EmbeddingSet
def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able: {value!r:.80}")


def _jsonable(value: Any) -> Any:
    """``value`` through JSON and back (numpy scalars become numbers)."""
    return json.loads(json.dumps(value, default=_json_default))


@dataclass(frozen=True)
class EmbeddingSet:
    """What ``iccc embed`` writes: image vectors, caption vectors with their texts and image ids.

    Attributes:
        images: :class:`Embeddings` keyed by image id (``None``: images not embedded).
        texts: :class:`Embeddings`, one row per caption (ids ``0..n-1``, the caption rows; ``None``:
            captions not embedded).
        captions: the caption of each text row (strings).
        image_of_text: the image id of each text row (``None`` for a caption of no image).
        model: the dual encoder's name or path.
        statuses: image id -> why it has no vector (``"missing"``, ``"unreadable"``); ``{}`` when none.
        meta: JSON-able notes (counts, options).

    >>> s = EmbeddingSet(images=Embeddings(np.eye(2), ids=["a", "b"]), texts=np.eye(2)[[0, 0, 1]],
    ...                  captions=["x", "y", "z"], image_of_text=["a", "a", "b"], statuses={"c": "missing"})
    >>> s.describe()["statuses"], s.dim
    ({'missing': 1}, 2)
    """

    images: Embeddings | None = None
    texts: Embeddings | None = None
    captions: tuple | None = None
    image_of_text: tuple | None = None
    model: str | None = None
    statuses: Mapping | None = None
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for attr in ("images", "texts"):
            value = getattr(self, attr)
            if value is not None and not isinstance(value, Embeddings):
                object.__setattr__(self, attr, as_embeddings(value, name=attr))
        for attr in ("captions", "image_of_text"):
            value = getattr(self, attr)
            if value is not None:
                if not _is_sequence(value):
                    raise TypeError(f"`{attr}` should be a sequence, one item per text row, got "
                                    f"{type(value).__name__}: {value!r:.80}.")
                object.__setattr__(self, attr, _id_list(value, attr))
        if self.captions is not None:
            for r, caption in enumerate(self.captions):
                if caption is not None and not isinstance(caption, str):
                    raise TypeError(f"`captions` should hold strings, but row {r} holds {type(caption).__name__}: "
                                    f"{caption!r:.80}.")
        lengths = {attr: len(getattr(self, attr)) for attr in ("texts", "captions", "image_of_text")
                   if getattr(self, attr) is not None}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"`{k}` {v}" for k, v in lengths.items())
            raise ValueError(f"`texts`, `captions` and `image_of_text` should have one item per caption row, got {shown}.")
        if self.image_of_text is not None:
            for r, image in enumerate(self.image_of_text):
                try:
                    hash(image)
                except TypeError:
                    raise TypeError(f"`image_of_text` should hold image ids (ints, strings or None), but row {r} "
                                    f"holds {type(image).__name__}: {image!r:.80}.") from None
        if self.images is not None and self.texts is not None and self.images.dim != self.texts.dim:
            raise ValueError(f"`images` has {self.images.dim} dimensions but `texts` {self.texts.dim}: an EmbeddingSet "
                             "holds the vectors of one dual encoder.")
        if self.model is not None and not isinstance(self.model, str):
            raise TypeError(f"`model` should be a string (the encoder's name or path) or None, got "
                            f"{type(self.model).__name__}: {self.model!r:.80}.")
        if self.statuses is not None and not isinstance(self.statuses, Mapping):
            raise TypeError(f"`statuses` should be a mapping image id -> status, got {type(self.statuses).__name__}.")
        statuses = {}
        for key, status in (self.statuses or {}).items():
            if not isinstance(status, str):
                raise TypeError(f"`statuses` should map image ids to strings, but {key!r} maps to {status!r}.")
            statuses[plain_id(key)] = status
        object.__setattr__(self, "statuses", statuses)
        if not isinstance(self.meta, Mapping):
            raise TypeError(f"`meta` should be a mapping (JSON-able), got {type(self.meta).__name__}.")
        try:
            json.dumps(dict(self.meta), default=_json_default)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"`meta` should be JSON-able (numbers, strings, lists, dicts), but {exc}.") from None
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def dim(self) -> int | None:
        """The vectors' size (``None`` when there are none)."""
        found = self.images if self.images is not None else self.texts
        return None if found is None else found.dim

    def describe(self) -> dict:
        """Counts, dimension, model and how many images have each status (JSON-able).

        Returns:
            ``{"images", "texts", "captions", "dim", "model", "statuses"}``: ``images``/``texts``
            the number of vectors (``None``: not embedded), ``statuses`` status -> count.
        """
        return {"images": None if self.images is None else len(self.images),
                "texts": None if self.texts is None else len(self.texts),
                "captions": None if self.captions is None else len(self.captions),
                "dim": self.dim, "model": self.model, "statuses": dict(Counter(self.statuses.values()))}

    def __repr__(self):
        d = self.describe()
        statuses = f", statuses={d['statuses']}" if d["statuses"] else ""
        return f"EmbeddingSet(images={d['images']}, texts={d['texts']}, dim={d['dim']}, model={self.model!r}{statuses})"


# ---------------------------------------------------------------------------- files
def _ids_array(ids: Sequence, what: str) -> tuple[np.ndarray, str]:
    """Ids as an array and their kind (``"int"`` or ``"str"``); other id types cannot be saved."""
    ids = list(ids)
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64), "int"
    if all(isinstance(i, str) for i in ids):
        return np.asarray(ids, dtype=np.str_), "str"
    types = sorted({type(i).__name__ for i in ids})
    raise TypeError(f"`{what}` should be all ints or all strings to be saved, got a mix of {types}.")


def _ids_back(values: Sequence, kind: str) -> tuple:
    return tuple(int(i) for i in values) if kind == "int" else tuple(str(i) for i in values)


def _optional_ids(ids: Sequence, what: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Ids where ``None`` is allowed: the values (``None`` as 0 or ""), a mask of the ``None`` ones, and the kind."""
    present = [i for i in ids if i is not None]
    kind = _ids_array(present, what)[1] if present else "int"
    mask = np.asarray([i is None for i in ids], dtype=bool)
    filler = 0 if kind == "int" else ""
    values = [filler if i is None else i for i in ids]
    return (np.asarray(values, dtype=np.int64) if kind == "int" else np.asarray(values, dtype=np.str_)), mask, kind


def _header(emb: EmbeddingSet) -> dict:
    if emb.statuses:
        _ids_array(emb.statuses, "statuses` ids")
    return {"format": FILE_FORMAT, "model": emb.model, "meta": _jsonable(dict(emb.meta)),
            "statuses": [[k, v] for k, v in emb.statuses.items()]}


def save_embeddings(emb: Any, path: Any) -> Path:
    """Write an :class:`EmbeddingSet` (or :class:`Embeddings`, saved as its images) to ``.npz`` or ``.parquet``.

    Nothing is pickled. ``.npz`` holds plain arrays (ids as int64 or unicode with a kind marker,
    ``None`` image ids and captions via masks, the model, statuses and meta as a JSON string with
    the format marker :data:`FILE_FORMAT`), so ``np.load(path, allow_pickle=False)`` reads it.
    ``.parquet`` holds one table with columns ``kind`` (``"image"`` / ``"text"``), ``id``,
    ``vector`` (fixed-size list of float32), ``caption`` and ``image_id`` (ids as strings, their
    type in the schema metadata ``iccc``, with the rest of the header). :func:`load_embeddings`
    reads either back exactly (same ids and types, bit-identical vectors).

    Args:
        emb: the :class:`EmbeddingSet` or :class:`Embeddings`.
        path: where to write (``.npz`` or ``.parquet``; the folder must exist).

    Returns:
        The path written.
    """
    if isinstance(emb, Embeddings):
        emb = EmbeddingSet(images=emb)
    if not isinstance(emb, EmbeddingSet):
        raise TypeError(f"`emb` should be an iccc.vision.EmbeddingSet or Embeddings, got {type(emb).__name__}.")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` should be a str or os.PathLike, got {type(path).__name__}: {path!r:.80}.")
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"`path` should end with {' or '.join(FORMATS)}, got {str(path)!r}.")
    header = _header(emb)
    if emb.images is not None:
        image_ids, header["image_id_kind"] = _ids_array(emb.images.ids, "images` ids")
    if emb.texts is not None:
        text_ids, header["text_id_kind"] = _ids_array(emb.texts.ids, "texts` ids")
    if emb.image_of_text is not None:
        image_of_text, image_of_text_none, header["image_of_text_kind"] = _optional_ids(emb.image_of_text,
                                                                                         "image_of_text")
    header["has_captions"] = emb.captions is not None
    header["has_image_of_text"] = emb.image_of_text is not None
    if path.suffix.lower() == ".npz":
        arrays: dict = {"header": np.asarray(json.dumps(header))}
        if emb.images is not None:
            arrays.update(images=emb.images.vectors, image_ids=image_ids)
        if emb.texts is not None:
            arrays.update(texts=emb.texts.vectors, text_ids=text_ids)
        if emb.captions is not None:
            arrays["captions"] = np.asarray([c or "" for c in emb.captions], dtype=np.str_).reshape(-1)
            arrays["captions_none"] = np.asarray([c is None for c in emb.captions], dtype=bool)
        if emb.image_of_text is not None:
            arrays.update(image_of_text=image_of_text.reshape(-1), image_of_text_none=image_of_text_none)
        with path.open("wb") as f:  # a file object: np.savez would otherwise add ".npz" to the name
            np.savez(f, **arrays)
        return path
    return _save_parquet(emb, path, header)


def _save_parquet(emb: EmbeddingSet, path: Path, header: dict) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds: list = []
    ids: list = []
    captions: list = []
    image_ids: list = []
    blocks = []
    if emb.images is not None:
        n = len(emb.images)
        kinds += ["image"] * n
        ids += [str(i) for i in emb.images.ids]
        captions += [None] * n
        image_ids += [None] * n
        blocks.append(emb.images.vectors)
    if emb.texts is not None:
        n = len(emb.texts)
        kinds += ["text"] * n
        ids += [str(i) for i in emb.texts.ids]
        captions += list(emb.captions) if emb.captions is not None else [None] * n
        image_ids += ([None if i is None else str(i) for i in emb.image_of_text] if emb.image_of_text is not None
                      else [None] * n)
        blocks.append(emb.texts.vectors)
    dim = emb.dim or 0
    flat = np.concatenate([b.reshape(-1) for b in blocks]) if blocks else np.zeros(0, np.float32)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim) if dim else \
        pa.array([], pa.list_(pa.float32()))
    table = pa.table({"kind": pa.array(kinds, pa.string()), "id": pa.array(ids, pa.string()), "vector": vectors,
                      "caption": pa.array(captions, pa.string()), "image_id": pa.array(image_ids, pa.string())})
    pq.write_table(table.replace_schema_metadata({"iccc": json.dumps(header)}), path)
    return path


def load_embeddings(path: Any, *, name: str = "path") -> EmbeddingSet:
    """Read an :class:`EmbeddingSet`: a file of :func:`save_embeddings` (``.npz`` / ``.parquet``), exactly.

    Also accepted: a user ``.npz`` with arrays ``images`` / ``image_ids`` / ``texts`` /
    ``captions`` / ``image_of_text`` (or one ``vectors`` with optional ``ids``: the images); a user
    parquet file with a list column ``vector`` or ``embedding`` and optional ``id`` (the images);
    a bare ``.npy`` (image vectors keyed ``0..n-1``).

    Args:
        path: the file.
        name: the argument's name, for error messages.

    Returns:
        The :class:`EmbeddingSet`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a file of one of these layouts (the message says what was found).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{name}` should be a str or os.PathLike, got {type(path).__name__}: {path!r:.80}.")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", *FORMATS):
        raise ValueError(f"`{name}` should be a .npz, .parquet or .npy embeddings file, got {str(path)!r}.")
    if not path.is_file():
        raise FileNotFoundError(f"`{name}`: no such embeddings file {str(path)!r} (iccc embed writes one).")
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ValueError(f"`{name}`: {str(path)!r} is not a readable .npy file of numbers: {exc}") from None
        return EmbeddingSet(images=Embeddings(array, name=f"{name} ({path})", copy=False))
    return _load_npz(path, name) if suffix == ".npz" else _load_parquet(path, name)


def _parse_header(raw: Any, path: Path, name: str) -> dict:
    try:
        header = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}`: {str(path)!r} has an unreadable header ({exc}).") from None
    if not isinstance(header, dict) or header.get("format") != FILE_FORMAT:
        found = header.get("format") if isinstance(header, dict) else header
        raise ValueError(f"`{name}`: {str(path)!r} is not a file of save_embeddings (format {FILE_FORMAT!r}); found "
                         f"format {found!r:.80}.")
    return header


def _assemble(path: Path, name: str, header: dict, **parts) -> EmbeddingSet:
    """The EmbeddingSet of a file, every error naming the file."""
    try:
        return EmbeddingSet(**parts, model=header.get("model"),
                            statuses={k: v for k, v in header.get("statuses", [])}, meta=header.get("meta") or {})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}`: {str(path)!r} does not hold valid embeddings: {exc}") from None


def _load_npz(path: Path, name: str) -> EmbeddingSet:
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:  # not a zip, or object arrays (pickle)
        raise ValueError(f"`{name}`: {str(path)!r} is not a readable .npz file of plain arrays: {exc}") from None
    label = f"{name} ({path})"
    header = _parse_header(str(stored["header"]), path, name) if "header" in stored else {}
    if not header and not ({"images", "texts", "vectors"} & set(stored)):  # (ours may hold statuses only)
        raise ValueError(f"`{name}`: {str(path)!r} holds no embeddings: expected arrays 'images' and/or 'texts' "
                         f"(or 'vectors'), found {sorted(stored)}.")
    try:
        if "vectors" in stored and "images" not in stored and "texts" not in stored:
            return EmbeddingSet(images=Embeddings(stored["vectors"], stored.get("ids"), name=f"{label}: vectors",
                                                  copy=False))
        parts: dict = {}
        if "images" in stored:
            ids = stored.get("image_ids")
            if ids is not None and "image_id_kind" in header:
                ids = _ids_back(ids.reshape(-1), header["image_id_kind"])
            parts["images"] = Embeddings(stored["images"], ids, name=f"{label}: images", copy=False)
        if "texts" in stored:
            ids = stored.get("text_ids")
            if ids is not None and "text_id_kind" in header:
                ids = _ids_back(ids.reshape(-1), header["text_id_kind"])
            parts["texts"] = Embeddings(stored["texts"], ids, name=f"{label}: texts", copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}`: {str(path)!r} does not hold valid embeddings: {exc}") from None
    if "captions" in stored:
        captions = stored["captions"].reshape(-1)
        none = stored.get("captions_none", np.zeros(len(captions), bool))
        if captions.dtype.kind not in "US" or len(none) != len(captions):
            raise ValueError(f"`{name}`: {str(path)!r} has 'captions' of dtype {captions.dtype} (strings expected).")
        parts["captions"] = tuple(None if n else plain_id(c) for c, n in zip(captions, none))
    if "image_of_text" in stored:
        values = stored["image_of_text"].reshape(-1)
        none = stored.get("image_of_text_none", np.zeros(len(values), bool))
        kind = header.get("image_of_text_kind") or ("int" if values.dtype.kind in "iu" else "str")
        if values.dtype.kind not in "iuUS" or len(none) != len(values):
            raise ValueError(f"`{name}`: {str(path)!r} has 'image_of_text' of dtype {values.dtype} (ints or strings "
                             "expected).")
        parts["image_of_text"] = tuple(None if n else v for v, n in zip(_ids_back(values, kind), none))
    return _assemble(path, name, header, **parts)


def _load_parquet(path: Path, name: str) -> EmbeddingSet:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types for a file that is not parquet
        raise ValueError(f"`{name}`: {str(path)!r} is not a readable parquet file: {exc}") from None
    columns = list(table.column_names)
    raw = (table.schema.metadata or {}).get(b"iccc")
    label = f"{name} ({path})"
    if raw is None:  # a user's table: one vector column, optional ids
        vector = next((c for c in VECTOR_COLUMNS if c in columns), None)
        if vector is None:
            raise ValueError(f"`{name}`: {str(path)!r} has no {' or '.join(map(repr, VECTOR_COLUMNS))} column of "
                             f"vectors (found columns {columns}).")
        ids = table.column("id").to_pylist() if "id" in columns else None
        try:
            images = Embeddings(table.column(vector).to_numpy(zero_copy_only=False), ids, name=f"{label}: {vector}",
                                copy=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"`{name}`: {str(path)!r} does not hold valid embeddings: {exc}") from None
        return EmbeddingSet(images=images)
    header = _parse_header(raw, path, name)
    missing = [c for c in ("kind", "id", "vector", "caption", "image_id") if c not in columns]
    if missing:
        raise ValueError(f"`{name}`: {str(path)!r} lacks the column(s) {missing} of save_embeddings (found {columns}).")
    kinds = np.asarray(table.column("kind").to_pylist(), dtype=object)
    column = table.column("vector").combine_chunks()
    dim = getattr(column.type, "list_size", 0)
    flat = column.flatten().to_numpy(zero_copy_only=False)
    if not dim or len(flat) != len(kinds) * dim:
        if len(kinds):
            raise ValueError(f"`{name}`: {str(path)!r} has a 'vector' column of type {column.type} (save_embeddings "
                             "writes fixed-size lists of float32).")
        dim = 0
    vectors = flat.reshape(len(kinds), dim)
    ids = table.column("id").to_pylist()
    caps = table.column("caption").to_pylist()
    image_ids = table.column("image_id").to_pylist()
    parts: dict = {}
    try:
        for kind, key in (("image", "images"), ("text", "texts")):
            rows = np.flatnonzero(kinds == kind)
            if len(rows):
                parts[key] = Embeddings(vectors[rows], _ids_back([ids[r] for r in rows], header[f"{kind}_id_kind"]),
                                        name=f"{label}: {key}", copy=False)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"`{name}`: {str(path)!r} does not hold valid embeddings: {exc}") from None
    rows = np.flatnonzero(kinds == "text")
    if header.get("has_captions"):
        parts["captions"] = tuple(caps[r] for r in rows)
    if header.get("has_image_of_text"):
        kind = header.get("image_of_text_kind", "str")
        parts["image_of_text"] = tuple(None if image_ids[r] is None else _ids_back([image_ids[r]], kind)[0]
                                       for r in rows)
    return _assemble(path, name, header, **parts)


# ---------------------------------------------------------------------------- ids of a dataset
def check_ids_match(emb: Any, ids: Sequence, *, name: str = "embeddings", what: str = "image id") -> dict:
    """How many of ``ids`` (a dataset's image ids, say) have a vector in ``emb``.

    ``None`` ids (rows of no image) are not counted; a repeated id counts each time.

    Args:
        emb: anything :func:`as_embeddings` takes (an :class:`EmbeddingSet`: its images).
        ids: the ids to look up.
        name: the name of ``emb``, for error messages.
        what: what the ids are, for error messages.

    Returns:
        ``{"found": int, "missing": int, "first_missing": id or None}``.

    >>> check_ids_match(Embeddings.from_array(np.eye(2), ids=[1, 2]), [1, 3, None, np.int64(2)])
    {'found': 2, 'missing': 1, 'first_missing': 3}
    """
    emb = as_embeddings(emb, name=name)
    if not _is_sequence(ids):
        raise TypeError(f"`ids` should be a sequence of {what}s (a list, tuple, array or dataset column), got "
                        f"{type(ids).__name__}: {ids!r:.80}.")
    found = missing = 0
    first = None
    for i in ids:
        if i is None:
            continue
        if i in emb:
            found += 1
        else:
            missing += 1
            if first is None:
                first = plain_id(i)
    return {"found": found, "missing": missing, "first_missing": first}
