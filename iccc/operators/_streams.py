"""Per-row random streams for dataset maps: counter-based, cheap, and the same for any batching.

A map gives every row its own stream of uniforms, derived from ``(seed, epoch, index)`` only, so
a row's corruption never depends on the batch size or the number of processes. Building a
``numpy.random.Generator`` per row costs 20-30 µs (seed hashing, bit-generator set-up), more than
a whole corruption should; here a row's stream is SplitMix64 (Steele, Lea and Flood 2014) keyed by
a hash of ``(seed, epoch, index)``: draw ``d`` of a row is ``mix64(key + (d + 1) * GAMMA)``, so a
batch's first draws are computed for all rows at once with a few ``numpy`` ``uint64`` operations
and any later draw from the same formula in Python integers (bit-identical).

The operators only ask their generator for ``random()``; a :class:`RowStream` offers that (and
is accepted wherever a ``numpy.random.Generator`` is).

>>> a = row_stream(0, 0, 7)
>>> b = RowStreams(0, 0, [5, 6, 7])[2]
>>> [a.random() for _ in range(12)] == [b.random() for _ in range(12)]
True
>>> 0.0 <= row_stream(1, 2, 3).random() < 1.0
True
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # the golden ratio, odd: SplitMix64's increment
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_SCALE = 2.0**-53
#: Draws computed ahead per row, for a whole batch at once (a corruption needs about four).
PRECOMPUTED = 8


def _mix(z: int) -> int:
    """SplitMix64's finaliser on a Python integer (64-bit wrap-around)."""
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    """:func:`_mix` on a ``uint64`` array (numpy wraps around like the masked integers)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def check_non_negative(name: str, value) -> int:
    """``value`` as a Python int when it is a non-negative integer (``int`` or ``numpy`` integer, not
    a bool); else ``ValueError`` naming ``name``. Seeds, epochs and row indices go through this."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` should be a non-negative integer, got {value!r}.")
    return int(value)


def _fold(value: int) -> int:
    """Any non-negative integer (a seed may be 128-bit entropy) hashed to 64 bits.

    The loop shifts ``value`` right by 64 bits until it is 0, so it ends for a non-negative
    integer only (a negative one stays -1 forever): anything else is refused.
    """
    value = check_non_negative("seed", value)
    h = _mix(0x5851F42D4C957F2D)
    while True:
        h = _mix((h ^ (value & _MASK)) + _GAMMA)
        value >>= 64
        if not value:
            return h


def _batch_key(seed: int, epoch: int) -> int:
    return _mix(_fold(seed) ^ _mix((_fold(epoch) + 0x2545F4914F6CDD1D) & _MASK))


def _row_key(batch_key: int, index: int) -> int:
    return _mix(batch_key ^ _mix((index * _GAMMA) & _MASK))


class RowStream:
    """The random stream of one row; ``random()`` gives the next uniform in [0, 1)."""

    __slots__ = ("key", "ahead", "drawn")

    def __init__(self, key: int, ahead: Sequence[float] = ()):
        self.key = key
        self.ahead = ahead
        self.drawn = 0

    def random(self) -> float:
        d = self.drawn
        self.drawn = d + 1
        if d < len(self.ahead):
            return self.ahead[d]
        return (_mix((self.key + (d + 1) * _GAMMA) & _MASK) >> 11) * _SCALE

    def restart(self) -> RowStream:
        """The stream from its first draw again."""
        self.drawn = 0
        return self

    def __repr__(self):
        return f"RowStream(key={self.key:#018x}, drawn={self.drawn})"


class RowStreams:
    """The streams of a batch of rows: ``RowStreams(seed, epoch, indices)[k]`` is row ``k``'s."""

    def __init__(self, seed: int, epoch: int, indices: Sequence[int]):
        self.batch_key = _batch_key(check_non_negative("seed", seed), check_non_negative("epoch", epoch))
        try:
            idx = np.asarray(indices, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"`indices` should be a sequence of non-negative integers, got {indices!r:.80}.") from None
        if idx.ndim != 1 or (idx.size and int(idx.min()) < 0):
            raise ValueError(f"`indices` should be a sequence of non-negative integers, got {indices!r:.80}.")
        idx = idx.astype(np.uint64)
        with np.errstate(over="ignore"):
            keys = _mix_array(np.uint64(self.batch_key) ^ _mix_array(idx * np.uint64(_GAMMA)))
            steps = np.arange(1, PRECOMPUTED + 1, dtype=np.uint64) * np.uint64(_GAMMA)
            bits = _mix_array(keys[:, None] + steps[None, :])
        self.keys = keys.tolist()
        self.ahead = ((bits >> np.uint64(11)).astype(np.float64) * _SCALE).tolist()

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, k: int) -> RowStream:
        return RowStream(self.keys[k], self.ahead[k])


def row_stream(seed: int, epoch: int, index: int) -> RowStream:
    """The stream row ``index`` gets in a map with ``seed`` and ``epoch`` (see :func:`iccc.corrupt`)."""
    seed, epoch, index = (check_non_negative(n, v) for n, v in (("seed", seed), ("epoch", epoch), ("index", index)))
    return RowStream(_row_key(_batch_key(seed, epoch), index))
