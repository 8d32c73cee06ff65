"""Operator machinery: deterministic candidate listing, one random choice with an explicit generator.

An operator lists every *slot* it could edit in a caption (:meth:`Operator.slots`), states the
candidate weights a slot needs (:meth:`Operator.request`) and turns them into every legal
*option* with a weight (:meth:`Operator.options`); all deterministic. Only :meth:`Operator.draw`
draws at random, from the random stream it is given (a ``numpy.random.Generator`` or an
:class:`iccc.streams.RowStream`): first a kind (uniformly among the kinds that have slots), then
a slot, then an option by weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from .._schema import KINDS, ParsedCaption
from ..base import ConceptBase
from ._directions import DIRECTIONS_TABLE, thin
from ._index import CandidateIndex
from ._record import Corruption
from ._weights import (
    MISSING,
    WeightRequest,
    blocked_words,
    candidate_weights,
    compute_weights,
    known_weights,
    slot_context,
)


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

    Membership is tested one label at a time (a draw usually tests one), so the whole set is only built when it is iterated
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
    """Base class of the corruption operators.

    A subclass sets :attr:`name`, :attr:`supported_kinds` and :attr:`settings` (the keyword
    arguments it takes besides ``kinds``, which :class:`iccc.Corruptor` passes on uniformly),
    :attr:`needs_base` (whether it draws from the concept base) and implements the deterministic
    parts: :meth:`slots`, :meth:`request` and :meth:`options`, :meth:`apply`, optionally
    :meth:`slot_requests`/:meth:`slot_weights` and :meth:`slot_acceptance`. All randomness is in
    :meth:`draw`, the same for every operator.

    How a caption becomes a record (:meth:`draw`, a generator): the caption's slots are listed
    once (:class:`Prepared`, kept in the :class:`CandidateIndex`); then, kind by kind and slot by
    slot in a random order, the operator states the candidate weights a slot needs
    (:meth:`request`, a :class:`WeightRequest`), the draw *yields* the requests whose weights are
    not known yet and receives them, and :meth:`options` turns them into the slot's legal edits,
    one of which is drawn. Whoever runs the draw computes the weights: one at a time
    (:func:`run`), or for a whole batch of rows at once (:meth:`iccc.Corruptor.many`); the
    records are the same, as nothing random happens between a request and its answer.
    """

    name = "operator"
    supported_kinds: tuple[str, ...] = KINDS
    #: Keyword settings of the constructor (besides ``kinds``).
    settings: tuple[str, ...] = ()
    #: Whether the operator draws candidates from the concept base (an empty base cannot serve it).
    needs_base = True
    #: The directions of its edits (:meth:`direction`), balanced by the mix calibration
    #: (:mod:`iccc.operators._directions`); empty: undirected.
    directions: tuple[str, ...] = ()
    #: Whether a :meth:`direction_group` holds slots of every kind (``"operator|*|sub"``): the
    #: existence edits "with cars" -> "without cars" (a relation) and "with no cars" -> "with
    #: cars" (an entity) are the two directions of one construction to a text-only model.
    directions_span_kinds = False

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

    @classmethod
    def configured(cls, kinds: Sequence[str] | None, config: dict) -> Operator:
        """An instance with ``kinds`` and the entries of ``config`` this operator takes (see :attr:`settings`)."""
        return cls(kinds, **{k: v for k, v in config.items() if k in cls.settings})

    def _memo_key(self) -> tuple:
        """Names this operator's per-caption memo: its class, kinds and settings (taken on first
        use: settings are the constructor's)."""
        found = self.__dict__.get("_memo")
        if found is None:
            found = self.__dict__["_memo"] = (
                "prepared", type(self), self.kinds, tuple((k, getattr(self, k)) for k in self.settings))
        return found

    # -- deterministic parts ------------------------------------------------------------
    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        """Everything this operator could edit in the caption, in a fixed order."""
        raise NotImplementedError

    def request(self, prepared: Prepared, slot: Slot) -> WeightRequest | None:
        """The candidate weights :meth:`options` needs for ``slot`` (``None``: none)."""
        return None

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any, weights) -> Options | None:
        """The legal edits of ``slot``, given the answer to :meth:`request` (``None`` when it asked nothing)."""
        raise NotImplementedError

    def apply(self, parsed: ParsedCaption, slot: Slot, label: Any) -> Corruption | None:
        raise NotImplementedError

    def direction(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """Which of :attr:`directions` ``slot`` edits in (``None`` for an undirected operator)."""
        return None

    def direction_group(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """A finer group the directions are balanced in (``None``: the kind as a whole). A text-only
        model learns per word too ("frisbees" is nearly always a made-up plural), so
        :class:`~iccc.operators.Number` balances each noun on its own."""
        return None

    def siblings_allow(self, parsed: ParsedCaption, slot: Slot, index: CandidateIndex, group: Any) -> bool:
        """Whether the sibling-caption guard lets ``slot`` be edited at all, whatever is drawn
        (``True`` by default; :class:`~iccc.operators.Number` says no where another caption of
        the image writes the new number). The direction balance counts only the slots this
        allows, so that the edits the guard leaves still go as often one way as the other."""
        return True

    def slot_requests(self, prepared: Prepared, slots: list[Slot]) -> list[WeightRequest] | None:
        """The weights :meth:`slot_weights` needs (``None``: it needs none and slots are tried uniformly)."""
        return None

    def slot_weights(self, prepared: Prepared, slots: list[Slot], index: CandidateIndex, weights: list) -> np.ndarray | None:
        """Relative chance of trying each slot first (``None``: uniform); 0 rules a slot out.
        ``weights`` answers :meth:`slot_requests`, in its order."""
        return None

    def slot_acceptance(self, parsed: ParsedCaption, slots: list[Slot], index: CandidateIndex) -> list[float] | None:
        """Chance of keeping each slot when it comes first for its kind (``None``: always kept).

        A kind whose first slot is turned down is tried again only after every other kind (so a
        caption that has an edit still always gets one)."""
        return None

    # -- using it ------------------------------------------------------------------------
    def __call__(self, parsed: ParsedCaption, concepts: ConceptBase | CandidateIndex, *, rng: np.random.Generator,
                 group: Any = None) -> Corruption | None:
        """One corruption of ``parsed`` drawn with ``rng`` (``None``: nothing to edit)."""
        index = as_index(concepts)
        return run(self.draw(self.prepare(parsed, index), index, rng, group), index)

    def candidates(self, parsed: ParsedCaption, concepts: ConceptBase | CandidateIndex, *,
                   group: Any = None) -> list[tuple[Slot, Any, float]]:
        """Every legal edit as ``(slot, label, weight)``, in a fixed order (for inspection/tests)."""
        index = as_index(concepts)
        prepared = self.prepare(parsed, index)
        out = []
        for slot in prepared.slots:
            request = self.request(prepared, slot)
            weights = candidate_weights(index, request) if request is not None else None
            opts = self.options(prepared, slot, index, group, weights)
            if opts is None:
                continue
            allowed = opts.allowed_weights()
            out.extend((slot, opts.labels[k], float(allowed[k])) for k in np.flatnonzero(allowed))
        return out

    def prepare(self, parsed: ParsedCaption, index: CandidateIndex) -> Prepared:
        """The caption's slots by kind (and their weights, filled in on first use), computed once
        per caption object and kept in the index (a map or an epoch loop sees the same caption
        again; everything here is deterministic). A directed operator's slots are thinned to the
        base's direction shares (:func:`iccc.operators._directions.thin`)."""
        key = self._memo_key()
        memo = index.store(key, PER_CAPTION_LIMIT, balanced=True)
        found = memo.get(id(parsed))
        if found is not None and found.parsed is parsed:
            return found
        # What depends on the caption alone (its slots, contexts and weight requests) outlives a
        # change of the base's balance (the balancing rounds and the mix calibration change it
        # several times over the same captions); weights and thinning are redone.
        raw_memo = index.store(key, PER_CAPTION_LIMIT)
        raw = raw_memo.get(id(parsed))
        if raw is None or raw.parsed is not parsed:
            raw = raw_memo[id(parsed)] = Prepared(parsed, self.slots(parsed, index))
        if self.directions:
            slots = thin(self, parsed, raw.slots, index.base.balance.get(DIRECTIONS_TABLE))
            prepared = Prepared(parsed, slots) if slots != raw.slots else Prepared(parsed, raw.slots, raw)
        else:
            prepared = Prepared(parsed, raw.slots, raw)
        prepared.contexts, prepared.requests, prepared.blocked = raw.contexts, raw.requests, raw.blocked
        memo[id(parsed)] = prepared
        return prepared

    def feasible_kinds(self, prepared: Prepared, index: CandidateIndex):
        """The kinds of ``prepared`` this operator can edit: those with a slot of positive weight
        (a generator like :meth:`draw`: it may yield the slot weights' requests; deterministic,
        no random draw). :class:`iccc.Corruptor` draws the operation of a row among those that
        can edit it, so that each operation gets its share (see :mod:`iccc.corrupt`)."""
        out = []
        for kind in prepared.kinds:
            _slots, weights, _ = yield from self._kind_info(prepared, kind, index)
            if weights is None or bool((weights > 0).any()):
                out.append(kind)
        return tuple(out)

    # -- the one random choice ------------------------------------------------------------
    def draw(self, prepared: Prepared, index: CandidateIndex, rng: np.random.Generator, group: Any = None):
        """Draw one corruption (a generator: it yields tuples of :class:`WeightRequest` whose
        weights it needs and must be sent their results; it returns the record or ``None``)."""
        declined = []
        # A uniform first choice, then the rest in cyclic order: as random as a permutation for
        # the choice that matters, at the cost of one draw instead of a shuffle.
        info = prepared.info
        for kind in _cyclic(prepared.kinds, rng):
            found = info.get(kind)
            slots, weights, acceptance = found if found is not None else (yield from self._kind_info(prepared, kind, index))
            order = _slot_order(len(slots), weights, rng)
            if acceptance is not None:
                first = next(order, None)
                if first is None:
                    continue
                if rng.random() >= acceptance[first]:
                    declined.append(kind)
                    continue
                order = _chain_first(first, order)
            record = yield from self._first_edit(prepared, slots, order, index, rng, group)
            if record is not None:
                return record
        for kind in declined:
            slots, weights, _ = yield from self._kind_info(prepared, kind, index)
            order = _slot_order(len(slots), weights, rng)
            record = yield from self._first_edit(prepared, slots, order, index, rng, group)
            if record is not None:
                return record
        return None

    def _kind_info(self, prepared: Prepared, kind: str, index: CandidateIndex):
        """``(slots, slot weights, slot acceptance)`` of ``kind`` (computed on first use)."""
        found = prepared.info.get(kind)
        if found is None:
            slots = prepared.by_kind[kind]
            requests = self.slot_requests(prepared, slots)
            weights = None
            if requests is not None:
                answers = [known_weights(index, r) for r in requests]
                missing = [r for r, a in zip(requests, answers) if a is MISSING]
                if missing:
                    got = iter((yield tuple(missing)))
                    answers = [next(got) if a is MISSING else a for a in answers]
                weights = self.slot_weights(prepared, slots, index, answers)
            found = prepared.info[kind] = (slots, weights, self.slot_acceptance(prepared.parsed, slots, index))
        return found

    def _first_edit(self, prepared: Prepared, slots, order, index: CandidateIndex, rng, group):
        parsed = prepared.parsed
        requests = prepared.requests
        for k in order:
            slot = slots[k]
            request = requests.get(slot, MISSING)
            if request is MISSING:
                request = requests[slot] = self.request(prepared, slot)
            weights = None
            if request is not None:
                weights = known_weights(index, request)
                if weights is MISSING:
                    (weights,) = yield (request,)
            opts = self.options(prepared, slot, index, group, weights)
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


class Prepared:
    """What an operator knows about one caption before drawing (see :meth:`Operator.prepare`)."""

    __slots__ = ("parsed", "slots", "by_kind", "kinds", "info", "contexts", "blocked", "requests")

    def __init__(self, parsed: ParsedCaption, slots: list[Slot], like: Prepared | None = None):
        self.parsed = parsed  # keeps the caption alive, so its id is not reused while this is cached
        self.slots = slots
        if like is not None:  # the same slots: share the grouping (read only)
            self.by_kind, self.kinds = like.by_kind, like.kinds
        else:
            self.by_kind: dict[str, list[Slot]] = {}
            for s in slots:
                self.by_kind.setdefault(s.kind, []).append(s)
            self.kinds = list(self.by_kind)
        self.info: dict = {}
        self.contexts: dict = {}  # concept index -> (form, context keys)
        self.blocked: dict = {}  # group -> words a new concept must not bring in
        self.requests: dict = {}  # slot -> its weight request (Operator.request, asked once)

    def context(self, i: int) -> tuple[str, tuple[str, ...]]:
        """``(form, context keys)`` of concept ``i`` (:func:`slot_context`, computed once)."""
        found = self.contexts.get(i)
        if found is None:
            found = self.contexts[i] = slot_context(self.parsed, i)
        return found

    def blocked_words(self, index: CandidateIndex, group: Any) -> set[str]:
        """Words a new concept must not bring in (:func:`blocked_words`, computed once per group)."""
        words = self.blocked.get(group)
        if words is None:
            words = self.blocked[group] = blocked_words(self.parsed.text, index, group)
        return words


#: Captions remembered per per-caption memo; the older half goes when it is full.
PER_CAPTION_LIMIT = 200_000


def as_index(concepts: ConceptBase | CandidateIndex) -> CandidateIndex:
    """The :class:`CandidateIndex` of ``concepts`` (a base's shared one), synced with its base."""
    if isinstance(concepts, CandidateIndex):
        return concepts.sync()
    if isinstance(concepts, ConceptBase):
        return CandidateIndex.of(concepts)
    raise TypeError(f"`concepts` must be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")


def run(steps, index: CandidateIndex):
    """Run a draw (:meth:`Operator.draw`) to its end, computing each request it yields on the spot."""
    try:
        requests = steps.send(None)
        while True:
            requests = steps.send(compute_weights(index, list(requests)))
    except StopIteration as done:
        return done.value


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
