"""Stable row keys: the ``row`` of a row's :mod:`iccc.streams` streams, whatever the partitioning.

A local ``Dataset.map(with_indices=True)`` knows every row's position, and the streams are keyed by
it. A distributed build (:mod:`iccc.distributed`) sees blocks in no fixed order, so a row must
carry its key itself. Two ways, both giving a non-negative integer below ``2**63`` (what
:class:`iccc.streams.Streams` takes):

- an **id column** the user names (:func:`id_keys`): its integers are the row numbers, used as
  they are. With the row index as the id, a distributed build draws exactly what the local build
  draws for the same seed and epoch.
- else a **content key** (:func:`content_keys`): the first 8 bytes of BLAKE2b (personalised
  ``b"iccc-rowkey-v1"``) of the row's caption and image id, each encoded as a type tag and its
  length-prefixed bytes (see :func:`encode`), shifted right by one bit: 63 bits. It depends on
  nothing but those two values, so it is the same on any machine, in any block and in any
  Python process (no ``hash()`` salt). Rows with the same caption *and* image id get the same key
  and so the same draws; give an id column when duplicates must differ. Two different rows
  collide with probability about ``n**2 / 2**64`` (below 1e-4 for 10^7 rows).

Everything here is pure (no state, no randomness) and needs only ``numpy``.

>>> id_keys([0, 1, 2]).tolist()
[0, 1, 2]
>>> k = content_keys(["A dog on a couch."], [42])
>>> k.dtype.name, 0 <= int(k[0]) < 2**63, content_key("A dog on a couch.", 42) == int(k[0])
('int64', True, True)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

import numpy as np

#: Keys are below ``2**KEY_BITS``: non-negative ``int64`` values.
KEY_BITS = 63
#: The BLAKE2b personalisation of :func:`content_key` (a new version of the encoding gets a new one).
PERSON = b"iccc-rowkey-v1"
_LIMIT = 1 << KEY_BITS


def encode(value: Any) -> bytes:
    """The bytes a value contributes to a content key: a one-letter type tag, then (except for
    ``None`` and booleans) the length of the payload as 8 big-endian bytes and the payload:
    ``N`` None; ``B`` a bool (``B1``/``B0``); ``I`` an int (decimal digits); ``F`` a float
    (``repr``); ``S`` a string (UTF-8); ``Y`` bytes; ``J`` anything else, as JSON (sorted keys,
    no spaces, non-JSON values by ``str``). numpy scalars count as the Python value they hold.
    Types are kept apart: the image id ``7`` and ``"7"`` give different keys.

    >>> encode(None), encode("ab"), encode(7) != encode("7")
    (b'N', b'S\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02ab', True)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"B1" if value else b"B0"
    if isinstance(value, int):
        tag, payload = b"I", str(value).encode()
    elif isinstance(value, float):
        tag, payload = b"F", repr(value).encode()
    elif isinstance(value, str):
        tag, payload = b"S", value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        tag, payload = b"Y", bytes(value)
    else:
        tag = b"J"
        payload = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return tag + len(payload).to_bytes(8, "big") + payload


def content_key(caption: Any, image_id: Any = None) -> int:
    """The 63-bit content key of one row (see the module docstring).

    >>> content_key("A dog.", 1) == content_key("A dog.", 1) != content_key("A dog.", 2)
    True
    """
    digest = hashlib.blake2b(encode(caption) + encode(image_id), digest_size=8, person=PERSON).digest()
    return int.from_bytes(digest, "big") >> 1


def content_keys(captions: Sequence, image_ids: Sequence | None = None) -> np.ndarray:
    """:func:`content_key` of every row, as an ``int64`` array (``image_ids`` None: no image id).

    Args:
        captions: the captions (any values: ``None`` and non-strings get keys too).
        image_ids: the image ids, one per caption, or ``None``.

    Returns:
        ``numpy.ndarray`` of ``int64``, one key per row.

    >>> content_keys(["a", "b"]).shape
    (2,)
    """
    if isinstance(captions, (str, bytes)) or not hasattr(captions, "__len__"):
        raise TypeError(f"`captions` should be a sequence of captions, got {type(captions).__name__}: "
                        f"{captions!r:.80}.")
    if image_ids is None:
        image_ids = [None] * len(captions)
    elif isinstance(image_ids, (str, bytes)) or not hasattr(image_ids, "__len__") or len(image_ids) != len(captions):
        raise ValueError(f"`image_ids` should hold one image id per caption ({len(captions)}), got "
                         f"{image_ids!r:.80}.")
    return np.fromiter((content_key(c, g) for c, g in zip(captions, image_ids)), dtype=np.int64, count=len(captions))


def id_keys(ids: Sequence, *, name: str = "ids") -> np.ndarray:
    """The values of an id column as row keys: integers in ``[0, 2**63)``, used as they are.

    Args:
        ids: one integer per row (Python or numpy integers; not bools, floats or strings).
        name: what to call the values in an error message (the id column's name).

    Returns:
        ``numpy.ndarray`` of ``int64``.

    >>> id_keys(np.arange(3, dtype=np.uint8)).tolist()
    [0, 1, 2]
    >>> id_keys([1, -2], name="row")
    Traceback (most recent call last):
    ...
    ValueError: Column 'row' should hold integers in [0, 2**63) (the row keys), got -2 at row 1.
    """
    arr = np.asarray(ids)
    if arr.ndim == 1 and arr.dtype.kind in "iu":
        bad = np.flatnonzero(arr < 0) if arr.dtype.kind == "i" else np.flatnonzero(arr >= _LIMIT)
        if bad.size == 0:
            return arr.astype(np.int64)
        return _refuse(name, arr[bad[0]].item(), int(bad[0]))
    if arr.ndim == 1 and arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    out = np.empty(len(ids), dtype=np.int64)
    for k, value in enumerate(ids):
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _LIMIT:
            _refuse(name, value, k)
        out[k] = value
    return out


def _refuse(name: str, value, row: int):
    raise ValueError(f"Column {name!r} should hold integers in [0, 2**63) (the row keys), got {value!r} at row {row}.")
