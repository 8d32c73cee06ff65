"""Embeddings in, from anything: vectors keyed by ids, validated once, saved without pickle.

:class:`Embeddings` holds ``(n, d)`` float32 vectors and one id per row (image ids for images,
caption row numbers for captions). :func:`as_embeddings` makes one from what a user has — an
array, a list of vectors, a mapping ``id -> vector``, a dataset column, or a ``.npy`` / ``.npz`` /
``.parquet`` file — and checks shapes, dtypes, NaNs and ids with errors that name the argument and
the first bad id. :class:`EmbeddingSet` is what ``iccc embed`` writes and ``iccc build --vision``
reads: image vectors, caption vectors with their texts and image ids, the model's name and the
status of every image that could not be embedded. :func:`save_embeddings` / :func:`load_embeddings`
round-trip it exactly through ``.npz`` (``np.load(allow_pickle=False)`` reads it) or parquet.

Ids are kept as plain Python values (``np.int64(5)`` is ``5``, ``np.str_("a")`` is ``"a"``), so the
image ids of a dataset column match whatever array type they were stored in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Marks a file written by :func:`save_embeddings` (and its layout version).
FILE_FORMAT = "iccc.vision.EmbeddingSet/1"
#: Suffixes :func:`save_embeddings` writes.
FORMATS = (".npz", ".parquet")


def plain_id(value: Any) -> Any:
    """An id as a plain hashable Python value (numpy scalars unwrapped, bytes decoded).

    >>> plain_id(np.int64(3)), plain_id(np.str_("a")), plain_id(b"x")
    (3, 'a', 'x')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


class Embeddings:
    """Vectors keyed by ids: ``vectors`` float32 ``(n, d)`` (read-only), ``ids`` a tuple of ``n`` unique ids.

    >>> e = Embeddings.from_array(np.eye(3, dtype=np.float32), ids=["a", "b", "c"])
    >>> e.dim, len(e), "b" in e, e.take(["c"]).tolist()
    (3, 3, True, [[0.0, 0.0, 1.0]])
    """

    __slots__ = ("vectors", "ids", "_row")

    def __init__(self, vectors, ids: Sequence | None = None, *, name: str = "vectors"):
        array = _matrix(vectors, name)
        if ids is None:
            ids = tuple(range(array.shape[0]))
        else:
            if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
                raise TypeError(f"`ids` of `{name}` should be a sequence of ids, got {type(ids).__name__}.")
            ids = tuple(plain_id(i) for i in (ids.tolist() if isinstance(ids, np.ndarray) else ids))
            if len(ids) != array.shape[0]:
                raise ValueError(f"`{name}` has {array.shape[0]} vectors but {len(ids)} ids.")
        row = {}
        for r, i in enumerate(ids):
            try:
                if i in row:
                    raise ValueError(f"`{name}` should have unique ids, but {i!r} appears more than once.")
            except TypeError:
                raise TypeError(f"`{name}` ids should be hashable (ints or strings), got {type(i).__name__}: {i!r}.") \
                    from None
            row[i] = r
        bad = ~np.isfinite(array).all(axis=1)
        if bad.any():
            first = int(np.argmax(bad))
            raise ValueError(f"`{name}` row for id {ids[first]!r} holds NaN or inf.")
        array = np.ascontiguousarray(array)
        array.flags.writeable = False
        self.vectors = array
        self.ids = ids
        self._row = row

    @classmethod
    def from_array(cls, array, ids: Sequence | None = None, *, name: str = "vectors",
                   normalize: bool = False) -> Embeddings:
        """Embeddings of ``array`` (``(n, d)``) keyed by ``ids`` (default ``0..n-1``), optionally L2-normalised."""
        out = cls(array, ids, name=name)
        return out.normalized(name=name) if normalize else out

    @property
    def dim(self) -> int:
        """``d``, the vectors' size."""
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def __contains__(self, key) -> bool:
        try:
            return plain_id(key) in self._row
        except TypeError:
            return False

    def row_of(self, key) -> int:
        """The row of id ``key`` (``KeyError`` naming it when absent)."""
        try:
            return self._row[plain_id(key)]
        except (KeyError, TypeError):
            raise KeyError(f"No vector for id {key!r} (known ids look like {list(self.ids[:3])!r}).") from None

    def take(self, keys: Sequence) -> np.ndarray:
        """The ``(k, d)`` vectors of ``keys`` in order (``KeyError`` naming the first missing id)."""
        return self.vectors[[self.row_of(k) for k in keys]] if len(keys) else np.zeros((0, self.dim), np.float32)

    def subset(self, keys: Sequence) -> Embeddings:
        """The embeddings of ``keys`` only, in that order."""
        return Embeddings(self.take(keys), [plain_id(k) for k in keys])

    def normalized(self, *, name: str = "vectors") -> Embeddings:
        """These embeddings with unit rows (itself when they already are); a zero row is an error."""
        norms = np.linalg.norm(self.vectors, axis=1)
        if np.allclose(norms, 1.0, atol=1e-5):
            return self
        if (norms == 0).any():
            raise ValueError(f"`{name}` row for id {self.ids[int(np.argmax(norms == 0))]!r} is all zeros and cannot "
                             "be normalised.")
        return Embeddings(self.vectors / norms[:, None], self.ids)

    def __repr__(self):
        return f"Embeddings(n={len(self)}, dim={self.dim}, ids={list(self.ids[:3])!r}{'...' if len(self) > 3 else ''})"


def _matrix(x, name: str) -> np.ndarray:
    try:
        array = np.asarray(x)
    except Exception as exc:  # ragged lists
        raise TypeError(f"`{name}` should be an (n, d) array of vectors, got {type(x).__name__}: {exc}") from None
    if array.dtype == object:
        try:
            array = np.asarray(np.stack([np.asarray(v, dtype=np.float32) for v in array]))
        except Exception:
            raise TypeError(f"`{name}` should hold vectors of one length (numbers), got ragged or non-numeric rows.") \
                from None
    if array.dtype.kind not in "fiu":
        raise TypeError(f"`{name}` should hold numbers (a float array), got dtype {array.dtype}.")
    if array.ndim != 2:
        raise ValueError(f"`{name}` should be a 2-D array of shape (n, d), got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"`{name}` is empty (shape {array.shape}): at least one vector of at least one number is needed.")
    return array.astype(np.float32, copy=False)


def as_embeddings(x, *, name: str = "embeddings", ids: Sequence | None = None, normalize: bool = False) -> Embeddings:
    """:class:`Embeddings` from what a user has.

    Args:
        x: an :class:`Embeddings`; an ``(n, d)`` array or list of vectors (a dataset column);
            a mapping ``id -> vector``; or a path to ``.npy`` (rows keyed ``0..n-1``), ``.npz``
            (arrays ``vectors`` and optional ``ids``, or a file of :func:`save_embeddings`: its
            images) or ``.parquet`` (a list column ``vector`` or ``embedding``, optional ``id``).
        name: the argument's name, for error messages.
        ids: one id per row (for arrays and ``.npy``; ``None``: ``0..n-1``).
        normalize: L2-normalise the rows.
    """
    if isinstance(x, Embeddings):
        if ids is not None:
            raise ValueError(f"`ids` cannot be given with `{name}` that is already an Embeddings (it has ids).")
        out = x
    elif isinstance(x, (str, os.PathLike)):
        out = _from_path(Path(x), name, ids)
    elif isinstance(x, Mapping):
        if ids is not None:
            raise ValueError(f"`ids` cannot be given with `{name}` that is a mapping (its keys are the ids).")
        if not x:
            raise ValueError(f"`{name}` is an empty mapping: at least one id -> vector is needed.")
        out = Embeddings([np.asarray(v) for v in x.values()], list(x), name=name)
    elif isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__array__"):
        out = Embeddings(x, ids, name=name)
    else:
        raise TypeError(f"`{name}` should be an iccc.vision.Embeddings, an (n, d) array, a mapping id -> vector or a "
                        f".npy/.npz/.parquet path, got {type(x).__name__}.")
    return out.normalized(name=name) if normalize else out


def _from_path(path: Path, name: str, ids) -> Embeddings:
    if not path.is_file():
        raise FileNotFoundError(f"`{name}`: no such file {str(path)!r}.")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return Embeddings(np.load(path, allow_pickle=False), ids, name=name)
    if suffix in (".npz", ".parquet"):
        found = load_embeddings(path)
        if found.images is not None:
            emb = found.images
        elif found.texts is not None:
            emb = found.texts
        else:
            raise ValueError(f"`{name}`: {str(path)!r} holds no vectors.")
        return emb if ids is None else Embeddings(emb.vectors, ids, name=name)
    raise ValueError(f"`{name}` should be a .npy, .npz or .parquet file, got {str(path)!r}.")


@dataclass(frozen=True)
class EmbeddingSet:
    """What ``iccc embed`` writes: image vectors, caption vectors with their texts and image ids.

    Attributes:
        images: :class:`Embeddings` keyed by image id (``None``: images not embedded).
        texts: :class:`Embeddings`, one row per caption (ids ``0..n-1``; ``None``: not embedded).
        captions: the caption of each text row.
        image_of_text: the image id of each text row (``None`` for a caption of no image).
        model: the dual encoder's name or path.
        statuses: image id -> why it has no vector (``"missing"``, ``"unreadable"``).
        meta: JSON-able notes (counts, options).
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
                if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
                    raise TypeError(f"`{attr}` should be a sequence, one item per text row, got {type(value).__name__}.")
                object.__setattr__(self, attr, tuple(plain_id(v) for v in value))
        n = len(self.texts) if self.texts is not None else None
        for attr in ("captions", "image_of_text"):
            value = getattr(self, attr)
            if value is not None and n is not None and len(value) != n:
                raise ValueError(f"`{attr}` has {len(value)} items but `texts` has {n} rows.")
        if self.captions is not None and self.image_of_text is not None and len(self.captions) != len(self.image_of_text):
            raise ValueError(f"`captions` has {len(self.captions)} items but `image_of_text` {len(self.image_of_text)}.")
        if self.images is not None and self.texts is not None and self.images.dim != self.texts.dim:
            raise ValueError(f"`images` has {self.images.dim} dimensions but `texts` {self.texts.dim}: an EmbeddingSet "
                             "holds one dual encoder's vectors.")
        if self.model is not None and not isinstance(self.model, str):
            raise TypeError(f"`model` should be a string or None, got {type(self.model).__name__}.")
        if self.statuses is not None and not isinstance(self.statuses, Mapping):
            raise TypeError(f"`statuses` should be a mapping image id -> status, got {type(self.statuses).__name__}.")
        object.__setattr__(self, "statuses", {plain_id(k): str(v) for k, v in (self.statuses or {}).items()})
        if not isinstance(self.meta, Mapping):
            raise TypeError(f"`meta` should be a mapping, got {type(self.meta).__name__}.")

    @property
    def dim(self) -> int | None:
        found = self.images if self.images is not None else self.texts
        return None if found is None else found.dim

    def describe(self) -> dict:
        """Counts, dimension, model and image statuses (JSON-able)."""
        from collections import Counter

        return {"images": None if self.images is None else len(self.images),
                "texts": None if self.texts is None else len(self.texts), "dim": self.dim, "model": self.model,
                "statuses": dict(Counter(self.statuses.values()))}

    def __repr__(self):
        d = self.describe()
        return (f"EmbeddingSet(images={d['images']}, texts={d['texts']}, dim={d['dim']}, model={self.model!r}"
                + (f", statuses={d['statuses']}" if d["statuses"] else "") + ")")


# ---------------------------------------------------------------------------- files
def _ids_array(ids) -> tuple[np.ndarray, str]:
    """Ids as an array and their kind ("int", "str"); other id types are refused."""
    ids = list(ids)
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64), "int"
    if all(isinstance(i, str) for i in ids):
        return np.asarray(ids, dtype=np.str_), "str"
    raise TypeError(f"Ids should be all ints or all strings to be saved, got {sorted({type(i).__name__ for i in ids})}.")


def _ids_back(array: np.ndarray, kind: str) -> tuple:
    return tuple(int(i) for i in array) if kind == "int" else tuple(str(i) for i in array)


def _header(found: EmbeddingSet) -> dict:
    return {"format": FILE_FORMAT, "model": found.model, "meta": dict(found.meta),
            "statuses": [[k, v] for k, v in found.statuses.items()]}


def save_embeddings(emb, path) -> Path:
    """Write an :class:`EmbeddingSet` (or :class:`Embeddings`, saved as its images) to ``.npz`` or ``.parquet``.

    Nothing is pickled: ``.npz`` holds plain arrays (ids as int64 or unicode, ``None`` image ids
    via a mask, the header as a JSON string); parquet one table with a ``kind`` column
    (``"image"`` / ``"text"``) and the header in the schema metadata. :func:`load_embeddings` reads
    either back exactly.
    """
    if isinstance(emb, Embeddings):
        emb = EmbeddingSet(images=emb)
    if not isinstance(emb, EmbeddingSet):
        raise TypeError(f"`emb` should be an iccc.vision.EmbeddingSet or Embeddings, got {type(emb).__name__}.")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` should be a str or os.PathLike, got {type(path).__name__}.")
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"`path` should end with {' or '.join(FORMATS)}, got {str(path)!r}.")
    header = _header(emb)
    status_ids = [k for k, _ in header["statuses"]]
    if status_ids:
        _ids_array(status_ids)
    if path.suffix.lower() == ".npz":
        arrays: dict = {"header": np.asarray(json.dumps(header, default=str))}
        if emb.images is not None:
            arrays["images"] = emb.images.vectors
            arrays["image_ids"], kind = _ids_array(emb.images.ids)
            arrays["image_id_kind"] = np.asarray(kind)
        if emb.texts is not None:
            arrays["texts"] = emb.texts.vectors
        if emb.captions is not None:
            arrays["captions"] = np.asarray([c if isinstance(c, str) else "" for c in emb.captions], dtype=np.str_)
            arrays["caption_is_none"] = np.asarray([not isinstance(c, str) for c in emb.captions])
        if emb.image_of_text is not None:
            present = [i for i in emb.image_of_text if i is not None]
            kind = _ids_array(present)[1] if present else "int"
            mask = np.asarray([i is None for i in emb.image_of_text])
            full = (np.asarray([0 if i is None else i for i in emb.image_of_text], dtype=np.int64) if kind == "int"
                    else np.asarray(["" if i is None else i for i in emb.image_of_text], dtype=np.str_))
            arrays["image_of_text"], arrays["image_of_text_none"] = full, mask
            arrays["image_of_text_kind"] = np.asarray(kind)
        with path.open("wb") as f:
            np.savez(f, **arrays)
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds, ids, vectors, captions, image_ids = [], [], [], [], []
    if emb.images is not None:
        _, kind = _ids_array(emb.images.ids)
        header["image_id_kind"] = kind
        for i, v in zip(emb.images.ids, emb.images.vectors):
            kinds.append("image"), ids.append(str(i)), vectors.append(v), captions.append(None), image_ids.append(None)
    if emb.texts is not None:
        for r, v in enumerate(emb.texts.vectors):
            image = emb.image_of_text[r] if emb.image_of_text is not None else None
            kinds.append("text"), ids.append(str(r)), vectors.append(v)
            captions.append(emb.captions[r] if emb.captions is not None else None)
            image_ids.append(None if image is None else str(image))
    if emb.image_of_text is not None:
        present = [i for i in emb.image_of_text if i is not None]
        header["image_of_text_kind"] = _ids_array(present)[1] if present else "int"
    header["has_captions"] = emb.captions is not None
    header["has_image_of_text"] = emb.image_of_text is not None
    dim = emb.dim or 0
    table = pa.table({"kind": pa.array(kinds, pa.string()), "id": pa.array(ids, pa.string()),
                      "vector": pa.array([np.asarray(v, np.float32) for v in vectors], pa.list_(pa.float32(), dim)),
                      "caption": pa.array(captions, pa.string()), "image_id": pa.array(image_ids, pa.string())})
    table = table.replace_schema_metadata({"iccc": json.dumps(header, default=str)})
    pq.write_table(table, path)
    return path


def load_embeddings(path) -> EmbeddingSet:
    """Read an :class:`EmbeddingSet` written by :func:`save_embeddings` (``.npz`` / ``.parquet``).

    Also accepted: a user ``.npz`` with arrays named ``images`` / ``image_ids`` / ``texts`` /
    ``captions`` / ``image_of_text`` (or a single ``vectors`` with optional ``ids``: taken as
    images), and a bare ``.npy`` (image vectors keyed ``0..n-1``).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` should be a str or os.PathLike, got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`path`: no such embeddings file {str(path)!r} (write one with iccc embed).")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return EmbeddingSet(images=Embeddings(np.load(path, allow_pickle=False), name=str(path)))
    if suffix == ".npz":
        return _load_npz(path)
    if suffix == ".parquet":
        return _load_parquet(path)
    raise ValueError(f"`path` should be a .npz, .parquet or .npy file, got {str(path)!r}.")


def _load_npz(path: Path) -> EmbeddingSet:
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable .npz embeddings file: {exc}") from None
    header = {}
    if "header" in stored:
        header = json.loads(str(stored["header"]))
    if "vectors" in stored and "images" not in stored and "texts" not in stored:
        return EmbeddingSet(images=Embeddings(stored["vectors"], stored.get("ids"), name=f"{path}:vectors"))
    if "images" not in stored and "texts" not in stored:
        raise ValueError(f"{str(path)!r} holds no embeddings: expected arrays 'images' and/or 'texts' (or 'vectors'), "
                         f"found {sorted(stored)}.")
    images = texts = captions = image_of_text = None
    if "images" in stored:
        ids = stored.get("image_ids")
        if ids is not None and "image_id_kind" in stored:
            ids = _ids_back(ids, str(stored["image_id_kind"]))
        images = Embeddings(stored["images"], ids, name=f"{path}:images")
    if "texts" in stored:
        texts = Embeddings(stored["texts"], name=f"{path}:texts")
    if "captions" in stored:
        none = stored.get("caption_is_none", np.zeros(len(stored["captions"]), bool))
        captions = tuple(None if n else str(c) for c, n in zip(stored["captions"], none))
    if "image_of_text" in stored:
        values = stored["image_of_text"]
        none = stored.get("image_of_text_none", np.zeros(len(values), bool))
        kind = str(stored["image_of_text_kind"]) if "image_of_text_kind" in stored else (
            "int" if values.dtype.kind in "iu" else "str")
        image_of_text = tuple(None if n else (int(v) if kind == "int" else str(v)) for v, n in zip(values, none))
    statuses = {k: v for k, v in header.get("statuses", [])}
    return EmbeddingSet(images=images, texts=texts, captions=captions, image_of_text=image_of_text,
                        model=header.get("model"), statuses=statuses, meta=header.get("meta") or {})


def _load_parquet(path: Path) -> EmbeddingSet:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is not a readable parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(b"iccc")
    columns = set(table.column_names)
    if raw is None:
        vector = next((c for c in ("vector", "embedding") if c in columns), None)
        if vector is None:
            raise ValueError(f"{str(path)!r} has no 'vector' or 'embedding' column (found {sorted(columns)}).")
        ids = table.column("id").to_pylist() if "id" in columns else None
        return EmbeddingSet(images=Embeddings(np.asarray(table.column(vector).to_pylist(), np.float32), ids,
                                              name=f"{path}:{vector}"))
    header = json.loads(raw)
    kinds = table.column("kind").to_pylist()
    vectors = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    dim = len(vectors) // max(len(kinds), 1)
    vectors = vectors.reshape(len(kinds), dim).astype(np.float32) if len(kinds) else vectors
    ids = table.column("id").to_pylist()
    caps = table.column("caption").to_pylist()
    image_ids = table.column("image_id").to_pylist()
    img_rows = [r for r, k in enumerate(kinds) if k == "image"]
    txt_rows = [r for r, k in enumerate(kinds) if k == "text"]
    images = texts = captions = image_of_text = None
    if img_rows:
        kind = header.get("image_id_kind", "str")
        images = Embeddings(vectors[img_rows], _ids_back(np.asarray([ids[r] for r in img_rows]), kind))
    if txt_rows:
        texts = Embeddings(vectors[txt_rows])
        if header.get("has_captions"):
            captions = tuple(caps[r] for r in txt_rows)
        if header.get("has_image_of_text"):
            kind = header.get("image_of_text_kind", "str")
            image_of_text = tuple(None if image_ids[r] is None else (int(image_ids[r]) if kind == "int" else image_ids[r])
                                  for r in txt_rows)
    statuses = {k: v for k, v in header.get("statuses", [])}
    return EmbeddingSet(images=images, texts=texts, captions=captions, image_of_text=image_of_text,
                        model=header.get("model"), statuses=statuses, meta=header.get("meta") or {})


def check_ids_match(emb, ids: Sequence, *, name: str = "embeddings", what: str = "image id") -> dict:
    """How many of ``ids`` have a vector in ``emb``: ``{"found", "missing", "first_missing"}``.

    >>> check_ids_match(Embeddings.from_array(np.eye(2), ids=[1, 2]), [1, 3, None])
    {'found': 1, 'missing': 1, 'first_missing': 3}
    """
    emb = as_embeddings(emb, name=name)
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
