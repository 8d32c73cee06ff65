"""Random streams: every random draw iccc makes in a dataset comes from one derivation.

A draw belongs to a stream named by four things, ``(seed, epoch, row, purpose)``:

- ``seed``: the user's seed (any non-negative integer, 128-bit entropy included);
- ``epoch``: the pass over the data (on-the-fly builds draw new corruptions each epoch);
- ``row``: a stable id of the row: its index in the dataset as ``Dataset.map(with_indices=True)``
  gives it, never its position in a batch, so results do not depend on batch size, ``num_proc``
  or order;
- ``purpose``: what the draws decide, one of :data:`PURPOSES` (``"corrupt"``: the corruption
  itself; ``"sample"``: whether a row becomes a correction sample, and its prompt;
  ``"export-prompt"`` / ``"export-pairs"``: the exporters' choices). Streams of different
  purposes are independent, so changing how prompts are drawn never changes a corruption.

:func:`stream` gives one row's stream; :class:`Streams` gives a batch's, computing the first
draws of all rows at once with ``numpy`` (building a ``numpy.random.Generator`` per row costs
20-30 µs, more than a whole corruption). A stream is SplitMix64 (Steele, Lea and Flood 2014)
keyed by a hash of the four values: draw ``d`` is ``mix64(key + (d + 1) * GAMMA)``, computed for
a batch in ``uint64`` arrays or one at a time in Python integers (bit-identical).

:class:`RowStream` offers the ``numpy.random.Generator`` methods the library uses
(``random``, ``integers``, ``choice``, ``permutation``, ``shuffle``, ``uniform``), all built on
its uniforms, and is accepted wherever a Generator is.

The balance simulation (:func:`iccc.balance.balance_insertions`) corrupts its sample captions
as epoch :data:`BALANCE_EPOCH` of the ``"corrupt"`` purpose: an epoch no training reaches.

Single-caption calls follow numpy's convention instead: ``iccc.corrupt(caption, seed=s)`` draws
from ``numpy.random.default_rng(s)``; pass ``rng=stream(s, epoch, row)`` to redo row ``row`` of
a map exactly.

>>> a = stream(0, 0, 7)
>>> b = Streams(0, 0, [5, 6, 7])[2]
>>> [a.random() for _ in range(12)] == [b.random() for _ in range(12)]
True
>>> stream(0, 0, 7, "sample").random() != stream(0, 0, 7).random()
True
>>> 0 <= stream(1, 2, 3).integers(10) < 10
True
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # the golden ratio, odd: SplitMix64's increment
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_SCALE = 2.0**-53
#: Draws computed ahead per row, for a whole batch at once (a corruption needs about four).
PRECOMPUTED = 8
#: What a stream decides, with the number mixed into its key (``"corrupt"`` mixes nothing: its
#: streams are those of iccc 0.1, so corruptions stay the same).
PURPOSES = {"corrupt": 0, "sample": 1, "export-prompt": 2, "export-pairs": 3}
#: The epoch of the ``"corrupt"`` streams the balance simulation draws from.
BALANCE_EPOCH = 1_000_003


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
    a bool); else ``ValueError`` naming ``name``. Seeds, epochs and row ids go through this."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`{name}` should be a non-negative integer, got {value!r}.")
    return int(value)


def _check_purpose(purpose) -> int:
    code = PURPOSES.get(purpose) if isinstance(purpose, str) else None
    if code is None:
        raise ValueError(f"`purpose` should be one of {', '.join(map(repr, PURPOSES))}, got {purpose!r}.")
    return code


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


def _purpose_key(batch_key: int, code: int) -> int:
    return batch_key if code == 0 else _mix(batch_key ^ _mix((code * 0xD1B54A32D192ED03) & _MASK))


def _row_key(key: int, row: int) -> int:
    return _mix(key ^ _mix((row * _GAMMA) & _MASK))


class RowStream:
    """The random stream of one row: uniforms in [0, 1), and the Generator methods built on them."""

    __slots__ = ("key", "ahead", "drawn")

    def __init__(self, key: int, ahead: Sequence[float] = ()):
        self.key = key
        self.ahead = ahead
        self.drawn = 0

    def random(self, size: int | None = None):
        """The next uniform in [0, 1) (``size``: the next ``size`` as a float array)."""
        if size is not None:
            return np.array([self.random() for _ in range(check_non_negative("size", size))])
        d = self.drawn
        self.drawn = d + 1
        if d < len(self.ahead):
            return self.ahead[d]
        return (_mix((self.key + (d + 1) * _GAMMA) & _MASK) >> 11) * _SCALE

    def integers(self, low: int, high: int | None = None) -> int:
        """An integer in ``[low, high)`` (``[0, low)`` with one argument), from one uniform."""
        if high is None:
            low, high = 0, low
        if high <= low:
            raise ValueError(f"`high` should be greater than `low`, got low={low!r}, high={high!r}.")
        return int(low + min(int(self.random() * (high - low)), high - low - 1))

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self.random()

    def choice(self, a: Any, p: Sequence[float] | None = None):
        """One item of ``a`` (or of ``range(a)`` for an int), uniformly or with probabilities ``p``."""
        n = a if isinstance(a, (int, np.integer)) else len(a)
        if n < 1:
            raise ValueError(f"`a` should not be empty, got {a!r}.")
        if p is None:
            k = self.integers(n)
        else:
            cumulative = np.cumsum(np.asarray(p, dtype=np.float64))
            k = min(int(cumulative.searchsorted(self.random() * cumulative[-1], side="right")), n - 1)
        return k if isinstance(a, (int, np.integer)) else a[k]

    def shuffle(self, items: list) -> None:
        """Shuffle a list in place (Fisher-Yates, one uniform per position)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.integers(i + 1)
            items[i], items[j] = items[j], items[i]

    def permutation(self, n: int) -> np.ndarray:
        order = list(range(check_non_negative("n", n)))
        self.shuffle(order)
        return np.array(order, dtype=np.intp)

    def __repr__(self):
        return f"RowStream(key={self.key:#018x}, drawn={self.drawn})"


class Streams:
    """The streams of a batch of rows: ``Streams(seed, epoch, rows, purpose)[k]`` is ``rows[k]``'s."""

    def __init__(self, seed: int, epoch: int, rows: Sequence[int], purpose: str = "corrupt"):
        code = _check_purpose(purpose)
        self.key = _purpose_key(_batch_key(check_non_negative("seed", seed), check_non_negative("epoch", epoch)), code)
        try:
            idx = np.asarray(rows, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"`rows` should be a sequence of non-negative integers, got {rows!r:.80}.") from None
        if idx.ndim != 1 or (idx.size and int(idx.min()) < 0):
            raise ValueError(f"`rows` should be a sequence of non-negative integers, got {rows!r:.80}.")
        idx = idx.astype(np.uint64)
        with np.errstate(over="ignore"):
            keys = _mix_array(np.uint64(self.key) ^ _mix_array(idx * np.uint64(_GAMMA)))
            steps = np.arange(1, PRECOMPUTED + 1, dtype=np.uint64) * np.uint64(_GAMMA)
            bits = _mix_array(keys[:, None] + steps[None, :])
        self.keys = keys.tolist()
        self.ahead = ((bits >> np.uint64(11)).astype(np.float64) * _SCALE).tolist()

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, k: int) -> RowStream:
        return RowStream(self.keys[k], self.ahead[k])


def stream(seed: int, epoch: int, row: int, purpose: str = "corrupt") -> RowStream:
    """The stream of ``(seed, epoch, row, purpose)``: what a map with ``seed`` and ``epoch`` gives row ``row``."""
    seed, epoch, row = (check_non_negative(n, v) for n, v in (("seed", seed), ("epoch", epoch), ("row", row)))
    return RowStream(_row_key(_purpose_key(_batch_key(seed, epoch), _check_purpose(purpose)), row))
