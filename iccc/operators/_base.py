"""Operator machinery: deterministic candidate listing, one random choice with an explicit Generator.

An operator lists every *slot* it could edit in a caption (:meth:`Operator.slots`) and, for a
slot, every legal *option* with a weight (:meth:`Operator.options`); both are deterministic. Only
:meth:`Operator.__call__` draws at random, from the ``numpy.random.Generator`` it is given:
first a kind (uniformly among the kinds that have slots), then a slot, then an option by weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._schema import KINDS, ParsedCaption
from ..base import ConceptBase
from ._record import Corruption


@dataclass(frozen=True)
class Slot:
    """Something an operator can edit: a concept (``i``) or a pair of concepts (``i``, ``j``)."""

    kind: str
    i: int
    j: int = -1


@dataclass(frozen=True)
class Options:
    """Legal edits for a slot: labels (what gets inserted) and their sampling weights.

    ``blocked`` holds label positions that must never be drawn (they are left in ``weights`` so a
    cached weight vector can be shared); ``cumulative`` optionally caches ``np.cumsum(weights)``.
    """

    labels: Sequence[Any]
    weights: np.ndarray
    cumulative: np.ndarray | None = None
    blocked: frozenset = frozenset()

    def allowed_weights(self) -> np.ndarray:
        if not self.blocked:
            return self.weights
        w = self.weights.copy()
        w[list(self.blocked)] = 0.0
        return w


class Operator:
    """Base class. Subclasses set :attr:`name` and :attr:`supported_kinds` and implement
    :meth:`slots`, :meth:`options` and :meth:`apply`."""

    name = "operator"
    supported_kinds: tuple[str, ...] = KINDS

    def __init__(self, kinds: Sequence[str] | None = None):
        if kinds is None:
            kinds = self.supported_kinds
        if isinstance(kinds, str):
            kinds = (kinds,)
        unknown = [k for k in kinds if k not in self.supported_kinds]
        if unknown or not kinds:
            raise ValueError(
                f"Unknown kind(s) {unknown or list(kinds)!r} for {type(self).__name__}. "
                f"Available: {', '.join(repr(k) for k in self.supported_kinds)}."
            )
        self.kinds = tuple(dict.fromkeys(kinds))

    # -- deterministic parts ------------------------------------------------------------
    def slots(self, parsed: ParsedCaption, base: ConceptBase) -> list[Slot]:
        raise NotImplementedError

    def options(self, parsed: ParsedCaption, slot: Slot, base: ConceptBase, *, group: Any = None) -> Options | None:
        raise NotImplementedError

    def apply(self, parsed: ParsedCaption, slot: Slot, label: Any) -> Corruption | None:
        raise NotImplementedError

    def slot_weights(self, parsed: ParsedCaption, slots: list[Slot], base: ConceptBase) -> np.ndarray | None:
        """Relative chance of trying each slot first (``None``: uniform); 0 rules a slot out."""
        return None

    def candidates(self, parsed: ParsedCaption, base: ConceptBase, *, group: Any = None) -> list[tuple[Slot, Any, float]]:
        """Every legal edit as ``(slot, label, weight)``, in a fixed order (for inspection/tests)."""
        out = []
        for slot in self.slots(parsed, base):
            opts = self.options(parsed, slot, base, group=group)
            if opts is None:
                continue
            weights = opts.allowed_weights()
            out.extend((slot, opts.labels[k], float(weights[k])) for k in np.flatnonzero(weights))
        return out

    # -- the one random choice ------------------------------------------------------------
    def __call__(self, parsed: ParsedCaption, base: ConceptBase, *, rng: np.random.Generator,
                 group: Any = None) -> Corruption | None:
        by_kind: dict[str, list[Slot]] = {}
        for slot in self.slots(parsed, base):
            by_kind.setdefault(slot.kind, []).append(slot)
        kinds = list(by_kind)
        # A uniform first choice, then the rest in cyclic order: as random as a permutation for
        # the choice that matters, at the cost of one draw instead of a shuffle.
        for kind in _cyclic(kinds, rng):
            slots = by_kind[kind]
            weights = self.slot_weights(parsed, slots, base)
            for slot in _cyclic(slots, rng) if weights is None else _weighted_order(slots, weights, rng):
                opts = self.options(parsed, slot, base, group=group)
                if opts is None:
                    continue
                k = _draw(opts, rng)
                if k is None:
                    continue
                record = self.apply(parsed, slot, opts.labels[k])
                if record is not None:
                    return record
        return None

    def __repr__(self):
        return f"{type(self).__name__}(kinds={self.kinds!r})"


def _cyclic(items: list, rng: np.random.Generator):
    n = len(items)
    if n <= 1:
        yield from items
        return
    first = int(rng.random() * n)
    for k in range(n):
        yield items[(first + k) % n]


def _weighted_order(items: list, weights: np.ndarray, rng: np.random.Generator):
    """The first item drawn by weight, then the other items with positive weight, heaviest first."""
    positive = np.flatnonzero(weights > 0)
    if len(positive) == 0:
        return
    cumulative = np.cumsum(weights)
    first = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(items) - 1)
    yield items[first]
    for k in sorted(positive, key=lambda k: -weights[k]):
        if k != first:
            yield items[k]


_REJECTION_TRIES = 16


def _draw(opts: Options, rng: np.random.Generator) -> int | None:
    """One label position by weight, never a blocked one; ``None`` if all weight is blocked.

    Draws from the shared cumulative weights and rejects blocked labels (cheap: few are
    blocked); after a few rejections it samples from explicitly masked weights instead.
    """
    cumulative = opts.cumulative if opts.cumulative is not None else np.cumsum(opts.weights)
    total = cumulative[-1]
    if not total > 0:
        return None
    last = len(cumulative) - 1
    for _ in range(_REJECTION_TRIES if opts.blocked else 1):
        k = min(int(np.searchsorted(cumulative, rng.random() * total, side="right")), last)
        if k not in opts.blocked:
            return k
    weights = opts.allowed_weights()
    cumulative = np.cumsum(weights)
    if not cumulative[-1] > 0:
        return None
    return min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), last)
