"""Operator machinery: deterministic candidate listing, one random choice with an explicit Generator.

An operator lists every *slot* it could edit in a caption (:meth:`Operator.slots`) and, for a
slot, every legal *option* with a weight (:meth:`Operator.options`); both are deterministic. Only
:meth:`Operator.__call__` draws at random, from the ``numpy.random.Generator`` it is given:
first a kind (uniformly among the kinds that have slots), then a slot, then an option by weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from .._schema import KINDS, ParsedCaption
from ..base import ConceptBase
from ._record import Corruption
from ._weights import side_cache


@dataclass(frozen=True)
class Slot:
    """Something an operator can edit: a concept (``i``) or a pair of concepts (``i``, ``j``)."""

    kind: str
    i: int
    j: int = -1


@lru_cache(maxsize=4096)
def slot(kind: str, i: int, j: int = -1) -> Slot:
    """A shared :class:`Slot` (slots are immutable; building one costs more than looking it up)."""
    return Slot(kind, i, j)


class Options:
    """Legal edits for a slot: labels (what gets inserted) and their sampling weights.

    ``blocked`` holds label positions that must never be drawn (they are left in ``weights`` so a
    cached weight vector can be shared); ``cumulative`` optionally caches ``np.cumsum(weights)``.
    (A plain class rather than a dataclass: one is made for every draw.)
    """

    __slots__ = ("labels", "weights", "cumulative", "blocked")

    def __init__(self, labels: Sequence[Any], weights: np.ndarray, cumulative: np.ndarray | None = None,
                 blocked: frozenset = frozenset()):
        self.labels = labels
        self.weights = weights
        self.cumulative = cumulative
        self.blocked = blocked

    def allowed_weights(self) -> np.ndarray:
        if not self.blocked:
            return self.weights
        w = self.weights.copy()
        w[list(self.blocked)] = 0.0
        return w

    def __repr__(self):
        return f"Options(labels={len(self.labels)}, blocked={len(self.blocked)})"


class Choices:
    """A lazy sequence of ``(lemma, surface)`` over a whole pool."""

    __slots__ = ("pool",)

    def __init__(self, pool):
        self.pool = pool

    def __len__(self):
        return len(self.pool.lemmas)

    def __getitem__(self, k):
        j = int(k)
        return self.pool.lemmas[j], self.pool.surfaces[j]


def pool_options(pool, w: np.ndarray, cumulative: np.ndarray, blocked) -> Options:
    """Options over a whole pool: labels are ``(lemma, surface)``; ``blocked`` are never drawn."""
    return Options(Choices(pool), w, cumulative=cumulative, blocked=blocked)


class BlockedByWords:
    """The positions of a pool's candidates that contain any of ``words``, as a lazy set.

    The same set as ``_weights.blocked_indices(pool, words)``, but membership is tested one label
    at a time (a draw usually tests one), so the whole set is only built when it is iterated
    (rare: when the rejection draws in :func:`_draw` give up, or to list candidates).
    """

    __slots__ = ("pool", "words", "_all")

    def __init__(self, pool, words: frozenset | set):
        self.pool = pool
        self.words = words
        self._all: frozenset | None = None

    def __contains__(self, k) -> bool:
        return not self.pool.words[k].isdisjoint(self.words)

    def __bool__(self) -> bool:
        return not self.pool.by_word.keys().isdisjoint(self.words)

    def _full(self) -> frozenset:
        if self._all is None:
            by_word = self.pool.by_word
            self._all = frozenset(k for w in self.words if w in by_word for k in by_word[w])
        return self._all

    def __iter__(self):
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())

    def __eq__(self, other):
        return set(self) == set(other)

    __hash__ = None

    def __repr__(self):
        return f"BlockedByWords({sorted(self._full())!r})"


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
    def _prepared(self, parsed: ParsedCaption, base: ConceptBase) -> _Prepared:
        """The caption's slots by kind (and their weights, filled in on first use), computed once
        per caption object and kept with the base's caches (a map or an epoch loop sees the same
        caption again; everything here is deterministic)."""
        memo = per_caption(base, self._memo_name())
        found = memo.get(id(parsed))
        if found is not None and found.parsed is parsed:
            return found
        by_kind: dict[str, list[Slot]] = {}
        for slot in self.slots(parsed, base):
            by_kind.setdefault(slot.kind, []).append(slot)
        prepared = memo[id(parsed)] = _Prepared(parsed, by_kind)
        return prepared

    def _memo_name(self) -> tuple:
        """Names this operator's per-caption memo: its class and settings (computed once)."""
        name = self.__dict__.get("_memo")
        if name is None:
            settings = tuple(sorted((k, v) for k, v in self.__dict__.items() if k != "_memo"))
            name = self.__dict__["_memo"] = ("slots", type(self), settings)
        return name

    def _options(self, prepared: _Prepared, slot: Slot, base: ConceptBase, group: Any) -> Options | None:
        """:meth:`options` as the draw calls it; subclasses may use ``prepared``'s per-caption caches."""
        return self.options(prepared.parsed, slot, base, group=group)

    def slot_acceptance(self, parsed: ParsedCaption, slots: list[Slot], base: ConceptBase) -> list[float] | None:
        """Chance of keeping each slot when it comes first for its kind (``None``: always kept).

        A kind whose first slot is turned down is tried again only after every other kind (so a
        caption that has an edit still always gets one)."""
        return None

    def __call__(self, parsed: ParsedCaption, base: ConceptBase, *, rng: np.random.Generator,
                 group: Any = None) -> Corruption | None:
        prepared = self._prepared(parsed, base)
        declined = []
        # A uniform first choice, then the rest in cyclic order: as random as a permutation for
        # the choice that matters, at the cost of one draw instead of a shuffle.
        for kind in _cyclic(prepared.kinds, rng):
            slots, weights, acceptance = prepared.kind_info(self, kind, base)
            order = _slot_order(len(slots), weights, rng)
            if acceptance is not None:
                first = next(order, None)
                if first is None:
                    continue
                if rng.random() >= acceptance[first]:
                    declined.append(kind)
                    continue
                order = _chain_first(first, order)
            record = self._first_edit(prepared, slots, order, base, rng, group)
            if record is not None:
                return record
        for kind in declined:
            slots, weights, _ = prepared.kind_info(self, kind, base)
            order = _slot_order(len(slots), weights, rng)
            record = self._first_edit(prepared, slots, order, base, rng, group)
            if record is not None:
                return record
        return None

    def _first_edit(self, prepared, slots, order, base, rng, group) -> Corruption | None:
        parsed = prepared.parsed
        for k in order:
            slot = slots[k]
            opts = self._options(prepared, slot, base, group)
            if opts is None:
                continue
            j = _draw(opts, rng)
            if j is None:
                continue
            record = self.apply(parsed, slot, opts.labels[j])
            if record is not None:
                return record
        return None

    def __repr__(self):
        return f"{type(self).__name__}(kinds={self.kinds!r})"


class _Prepared:
    """What an operator knows about one caption before drawing (see :meth:`Operator._prepared`)."""

    __slots__ = ("parsed", "by_kind", "kinds", "info", "contexts", "blocked")

    def __init__(self, parsed: ParsedCaption, by_kind: dict):
        self.parsed = parsed  # keeps the caption alive, so its id is not reused while this is cached
        self.by_kind = by_kind
        self.kinds = list(by_kind)
        self.info: dict = {}
        self.contexts: dict = {}  # concept index -> (form, context keys), filled by operators
        self.blocked: dict = {}  # group -> words a new concept must not bring in

    def kind_info(self, op: Operator, kind: str, base: ConceptBase) -> tuple:
        """``(slots, slot weights, slot acceptance)`` of ``kind`` (computed on first use)."""
        found = self.info.get(kind)
        if found is None:
            slots = self.by_kind[kind]
            found = self.info[kind] = (slots, op.slot_weights(self.parsed, slots, base),
                                       op.slot_acceptance(self.parsed, slots, base))
        return found


#: Captions remembered per cache (slots, contexts); the older half goes when it is full.
PER_CAPTION_LIMIT = 200_000


def per_caption(base: ConceptBase, name: Any) -> dict:
    """A per-caption memo living in ``base._masks`` (dropped whenever the base's caches are),
    keyed by ``id(parsed)``; entries must keep their caption alive and be checked against it."""
    return side_cache(base, name, PER_CAPTION_LIMIT)


def _cyclic(items: list, rng: np.random.Generator):
    n = len(items)
    if n <= 1:
        yield from items
        return
    first = int(rng.random() * n)
    for k in range(n):
        yield items[(first + k) % n]


def _slot_order(n: int, weights: np.ndarray | None, rng: np.random.Generator):
    """Positions of a kind's ``n`` slots in the order they are tried (uniform first choice, or by weight)."""
    return _cyclic(range(n), rng) if weights is None else _weighted_order(weights, rng)


def _weighted_order(weights: np.ndarray, rng: np.random.Generator):
    """Positions: the first drawn by weight, then the others with positive weight, heaviest first."""
    positive = np.flatnonzero(weights > 0)
    if len(positive) == 0:
        return
    cumulative = np.cumsum(weights)
    first = min(int(cumulative.searchsorted(rng.random() * cumulative[-1], side="right")), len(weights) - 1)
    yield first
    for k in sorted(positive, key=lambda k: -weights[k]):
        if k != first:
            yield int(k)


def _chain_first(first: int, rest):
    yield first
    yield from rest


_REJECTION_TRIES = 16


def _draw(opts: Options, rng: np.random.Generator) -> int | None:
    """One label position by weight, never a blocked one; ``None`` if all weight is blocked.

    Draws from the shared cumulative weights and rejects blocked labels (cheap: few are
    blocked); after a few rejections it samples from explicitly masked weights instead.
    """
    cumulative = opts.cumulative if opts.cumulative is not None else np.cumsum(opts.weights)
    total = float(cumulative[-1])
    if not total > 0:
        return None
    last = len(cumulative) - 1
    blocked = opts.blocked
    search = cumulative.searchsorted  # the method: np.searchsorted's dispatch costs more than the search
    for _ in range(_REJECTION_TRIES if blocked else 1):
        k = int(search(rng.random() * total, side="right"))
        if k > last:
            k = last
        if k not in blocked:
            return k
    weights = opts.allowed_weights()
    cumulative = np.cumsum(weights)
    if not cumulative[-1] > 0:
        return None
    return min(int(cumulative.searchsorted(rng.random() * cumulative[-1], side="right")), last)
