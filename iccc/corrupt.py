"""``corrupt``: one caption in, one corruption record out — or a whole ``Dataset.map`` batch.

Randomness comes only from an explicit random stream. In a dataset map every row gets its own,
derived from ``(seed, epoch, row)`` (:mod:`iccc.streams`: a cheap counter-based stream computed
for a whole batch at once), so the output is identical for any ``num_proc`` and batch size; a
single caption takes a ``numpy.random.Generator`` (``seed=``) or a stream (``rng=``).

The engine (:class:`Corruptor`) is a configuration of operators (:data:`iccc.operators.OPERATORS`)
over the :class:`iccc.operators.CandidateIndex` of its concept base, which holds every cache.

**The mix.** Each operation has a share of the corrections (:data:`DEFAULT_MIX`; ``p_swap``,
``p_add`` or ``mix=`` set them), and the engine honours the shares as closely as the data
allows: a row's operation is drawn among the operations that can edit *that* caption, with
rates calibrated once on the data so that the shares come out right overall. A swap needs two
concepts that can trade places, which few captions have; so a caption that allows one is
swapped more often than ``p_swap`` (up to always). The calibration (:func:`iccc.balance.calibrate_mix`)
counts, on a sample of captions, which operations and kinds can edit each one, and is stored
with the concept base (``base.balance["mix"]``); :class:`MixPlan` solves the rates from
it and the requested shares (every worker gets the same numbers from the same base), and says
what is reachable: where an operation is possible in fewer captions than its share, all of them
get it and the rest of its share goes to the others. A base without the calibration (built by
hand, or older) draws the operation tried first with the requested shares, as iccc 0.1 did.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from . import columns
from ._gc import fewer_collections
from ._schema import STATUS_OK, Concept, ParsedCaption, filled
from .base import ConceptBase
from .operators import OPERATORS, PER_CAPTION_LIMIT, CandidateIndex, Corruption, compute_weights, run
from .streams import RowStream, Streams, stream
from .vision.prior import CHECKED_OPERATIONS, STATUS_POSSIBLY_TRUE, ScoreRequest

#: The stream a map gives a row: ``row_stream(seed, epoch, row)`` (:func:`iccc.streams.stream`).
row_stream = stream

#: Columns a corruption map adds (``caption`` is kept as it is).
RECORD_COLUMNS = (
    "corrupted_caption", "operation", "concept_kind", "original", "replacement", "start", "end",
    "new_start", "new_end", "other_start", "other_end", "target",
)
STATUS_COLUMN = columns.CORRUPT_STATUS
#: The paper's share of swaps among corrections.
DEFAULT_P_SWAP = 0.15
#: The default share of additions (the paper corrects replacements and swaps only: ``p_add=0``).
DEFAULT_P_ADD = 0.03
#: The operation that takes the share the others leave (its share is never given by default).
REMAINDER = "replace"
#: The phenomena mix: the default share of the corrections of each operation but
#: :data:`REMAINDER`, which takes the rest. An operation registered in
#: :data:`iccc.operators.OPERATORS` with a positive share here is on by default
#: (:data:`DEFAULT_OPERATIONS`); one without an entry has share 0 unless ``mix=`` gives one.
DEFAULT_MIX: dict[str, float] = {"swap": DEFAULT_P_SWAP, "add": DEFAULT_P_ADD, "number": 0.10, "existence": 0.05}
#: The operations on by default: :data:`REMAINDER` and every one with a positive default share.
DEFAULT_OPERATIONS = tuple(op for op in OPERATORS if op == REMAINDER or DEFAULT_MIX.get(op, 0.0) > 0)
#: The table of ``base.balance`` that holds the mix calibration (:func:`iccc.balance.calibrate_mix`).
MIX_TABLE = "mix"
#: Rows :meth:`Corruptor.many` draws together (their weight requests are computed in one go).
MANY_CHUNK = 1024
#: Parse statuses of captions that can be corrupted (``None``: a concepts column without statuses).
CORRUPTIBLE = frozenset((None, STATUS_OK, "truncated"))


def corruption_features():
    """HF ``datasets`` features of the columns :func:`corrupt` adds in a map."""
    from datasets import Value

    ints = {"start", "end", "new_start", "new_end", "other_start", "other_end"}
    feats = {name: Value("int32") if name in ints else Value("string") for name in RECORD_COLUMNS}
    feats[STATUS_COLUMN] = Value("string")
    return feats


def mix_table(same_category: bool = True) -> str:
    """The name of the mix calibration's table in ``base.balance`` for the engine setting
    ``same_category`` (which operators' slots may depend on)."""
    return MIX_TABLE if same_category else f"{MIX_TABLE}:any-category"


def _check_probability(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` should be a probability in [0, 1], got {value!r}.")


def _shares_of(mix: Any, p_swap: float, p_add: float) -> dict[str, float]:
    """The requested shares before the operations are chosen: :data:`DEFAULT_MIX` with ``p_swap``,
    ``p_add`` and ``mix`` applied (``mix`` may name :data:`REMAINDER` too)."""
    _check_probability("p_swap", p_swap)
    _check_probability("p_add", p_add)
    shares = {**DEFAULT_MIX, "swap": p_swap, "add": p_add}
    if mix is None:
        return shares
    if not isinstance(mix, Mapping):
        raise TypeError(f"`mix` should be a mapping {{operation: share}} or None, got {type(mix).__name__}: {mix!r:.80}.")
    for op, share in mix.items():
        if op not in OPERATORS:
            raise ValueError(f"Unknown operation {op!r} in `mix`. Available: {', '.join(repr(o) for o in OPERATORS)}.")
        _check_probability(f"mix[{op!r}]", share)
        if op == "swap" and p_swap != DEFAULT_P_SWAP or op == "add" and p_add != DEFAULT_P_ADD:
            raise ValueError(f"Give the share of {op!r} once: in `mix` or as `p_{op}`, not both.")
    return {**shares, **{op: float(v) for op, v in mix.items()}}


def requested_shares(operations: Sequence[str] = DEFAULT_OPERATIONS, *, p_swap: float = DEFAULT_P_SWAP,
                     p_add: float = DEFAULT_P_ADD, mix: Mapping[str, float] | None = None) -> dict[str, float]:
    """The share of the corrections each operation of ``operations`` is asked for, summing to 1,
    in the registry's order; operations with share 0 are left out (they are never drawn).

    Shares come from :data:`DEFAULT_MIX`, ``p_swap`` / ``p_add`` and ``mix`` (``{operation:
    share}``, for any registered operation); :data:`REMAINDER` takes what the others leave unless
    ``mix`` names it (then the shares are relative weights, normalised). When every operation
    has share 0 they are drawn equally (``operations=["swap"]`` with ``p_swap=0`` still swaps).

    >>> {op: round(v, 2) for op, v in requested_shares().items()}
    {'replace': 0.67, 'swap': 0.15, 'add': 0.03, 'number': 0.1, 'existence': 0.05}
    >>> requested_shares(["replace", "swap"])
    {'replace': 0.85, 'swap': 0.15}
    >>> requested_shares(["replace", "swap", "add"], mix={"add": 0.05})
    {'replace': 0.8, 'swap': 0.15, 'add': 0.05}
    >>> requested_shares(["replace", "swap"], p_swap=0.0)
    {'replace': 1.0}
    """
    if isinstance(operations, str):
        operations = (operations,)
    operations = tuple(dict.fromkeys(operations))
    for op in operations:
        if op not in OPERATORS:
            raise ValueError(f"Unknown operation {op!r}. Available: {', '.join(repr(o) for o in OPERATORS)}.")
    if not operations:
        raise ValueError(f"`operations` must name at least one of {', '.join(repr(o) for o in OPERATORS)}.")
    shares = _shares_of(mix, p_swap, p_add)
    left_out = [op for op, v in (mix or {}).items() if v > 0 and op not in operations]
    if left_out:
        raise ValueError(f"`mix` gives {left_out[0]!r} a share but `operations` {list(operations)!r} leaves it out; "
                         "add it to `operations`.")
    ordered = [op for op in OPERATORS if op in operations]
    wanted = {op: shares.get(op, 0.0) for op in ordered if op != REMAINDER or (mix and REMAINDER in mix)}
    if REMAINDER in ordered and REMAINDER not in wanted:
        rest = 1.0 - sum(wanted.values())
        if rest < -1e-9:
            given = " + ".join(f"{op} {v}" for op, v in wanted.items() if v)
            raise ValueError(f"The shares of the other operations must be at most 1 (`p_swap` + `p_add` + ...), "
                             f"got {given}.")
        wanted[REMAINDER] = max(0.0, rest)
    wanted = {op: wanted[op] for op in ordered}
    total = sum(wanted.values())
    if total <= 0:
        return {op: 1.0 / len(ordered) for op in ordered}
    return {op: v / total for op, v in wanted.items() if v > 0}


class MixPlan:
    """How a :class:`Corruptor` draws the operation of a row: the requested shares, the rates it
    draws with and, from the base's calibration, what each share can reach on the data.

    A row's operation is drawn among the operations that can edit it (their
    :meth:`~iccc.operators.Operator.feasible_kinds`), with probability ``rates[op]`` over the sum
    of the rates of those operations. The rates are solved from the calibration (the share of
    captions each combination of operations and kinds can edit) so that the expected share of
    each operation is the requested one where possible; an operation possible in fewer captions
    than its share is drawn whenever possible and the others share the rest.

    Attributes:
        operations: the operation names, in the registry's (fallback) order.
        requested: ``{op: share}`` asked for (summing to 1).
        log_rates: ``{op: log rate}`` the draws use (relative; the requested shares when
            uncalibrated); :attr:`rates` are their ``exp``.
        calibrated: whether the base held a calibration for these operations.
        rows: captions the calibration counted (0 when uncalibrated).
        feasible: ``{op: share of those captions it can edit}`` (``None`` when uncalibrated).
        expected: ``{op: share of the corrections}`` the rates give on them (``None`` likewise).

    >>> table = {"@replace": 1.0, "@swap": 1.0, "replace:noun": 90.0, "replace:noun,swap:noun": 10.0}
    >>> plan = MixPlan({"replace": 0.85, "swap": 0.15}, table)
    >>> plan.feasible["swap"], round(plan.expected["swap"], 6)  # a swap is possible in 10% of the captions only
    (0.1, 0.1)
    >>> plan.explain({"replace": 0.9, "swap": 0.1})[1]
    'swap: requested 0.15, achieved 0.10: only 10% of the captions allow a swap'
    """

    #: Iterations of the rate solver (a fixed point; each is a few numpy operations on <= 2^n patterns).
    ITERATIONS = 2000
    #: Shortfalls below this are not explained (draw noise of a build).
    TOLERANCE = 0.01

    def __init__(self, requested: Mapping[str, float], table: Mapping[str, float] | None = None,
                 kinds: Mapping[str, Sequence[str]] | None = None):
        self.operations = tuple(requested)
        self.requested = dict(requested)
        self.calibrated = False
        self.rows = 0
        self.feasible = self.expected = None
        #: ``{op: log rate}``: what the draws use (the log of the requested shares when uncalibrated)
        self.log_rates = {op: float(np.log(v)) for op, v in self.requested.items()}
        masks = _feasible_masks(table, self.operations, kinds) if table else None
        if masks is not None:
            self._solve(*masks)

    def _solve(self, masks: np.ndarray, counts: np.ndarray) -> None:
        n_ops = len(self.operations)
        m = ((masks[:, None] >> np.arange(n_ops)[None, :]) & 1).astype(bool)  # patterns x operations
        editable = m.any(axis=1)
        total = float(counts[editable].sum())
        self.rows = int(round(float(counts.sum())))
        self.calibrated = True
        if total <= 0:
            self.feasible = {op: 0.0 for op in self.operations}
            self.expected = {op: 0.0 for op in self.operations}
            return
        m, w = m[editable], counts[editable] / total
        target = np.array([self.requested[op] for op in self.operations])
        log_rates, before = np.log(target), None
        # a fixed point: each rate is scaled by requested / achieved. An unreachable share's rate
        # grows without end (its operation is then drawn wherever possible), so the per-pattern
        # choice is computed in log space, as a softmax over the operations the pattern allows.
        for _ in range(self.ITERATIONS):
            achieved = w @ _choice(m, log_rates)
            if np.abs(achieved - target).max() < 1e-10 or (before is not None and np.abs(achieved - before).max() < 1e-12):
                break  # reached, or as close as the captions allow
            before = achieved
            log_rates = log_rates + np.log(target) - np.log(np.maximum(achieved, 1e-300))
            log_rates -= log_rates.max()
        self.log_rates = {op: float(r) for op, r in zip(self.operations, log_rates)}
        self.feasible = {op: float(f) for op, f in zip(self.operations, w @ m)}
        self.expected = {op: float(a) for op, a in zip(self.operations, w @ _choice(m, log_rates))}

    @property
    def rates(self) -> dict[str, float]:
        """``{op: rate}``, the largest 1 (``exp`` of :attr:`log_rates`; tiny rates may show as 0)."""
        top = max(self.log_rates.values())
        return {op: float(np.exp(v - top)) for op, v in self.log_rates.items()}

    def probabilities(self, allowed: Sequence[str]) -> dict[str, float]:
        """``{op: P(op)}`` for a caption that the operations ``allowed`` can edit.

        >>> MixPlan({"replace": 0.5, "swap": 0.5}).probabilities(["swap"])
        {'swap': 1.0}
        """
        ops = [op for op in self.operations if op in allowed]
        if not ops:
            return {}
        p = _choice(np.ones((1, len(ops)), dtype=bool), np.array([self.log_rates[op] for op in ops]))[0]
        return {op: float(v) for op, v in zip(ops, p)}

    def conditional(self) -> dict[str, float] | None:
        """``{op: P(op | the caption allows it)}`` on the calibration captions (``None`` uncalibrated)."""
        if not self.calibrated:
            return None
        return {op: (self.expected[op] / self.feasible[op] if self.feasible[op] else 0.0) for op in self.operations}

    def explain(self, achieved: Mapping[str, float] | None = None) -> list[str]:
        """One line per operation: its requested share, the achieved one (``achieved``, e.g. a
        build's; default: what the calibration expects) and why it differs (:meth:`reasons`)."""
        if achieved is None:
            achieved = self.expected or {}
        reasons = self.reasons(achieved)
        return [f"{op}: requested {self.requested[op]:.2f}, achieved {achieved.get(op, 0.0):.2f}"
                + (f": {reasons[op]}" if op in reasons else "") for op in self.operations]

    def reasons(self, achieved: Mapping[str, float]) -> dict[str, str]:
        """``{op: why}`` for each operation whose ``achieved`` share is off its requested one by
        more than :attr:`TOLERANCE`."""
        short = [op for op in self.operations if self.requested[op] - achieved.get(op, 0.0) > self.TOLERANCE]
        out = {op: self._why_short(op) for op in short}
        for op in self.operations:
            if achieved.get(op, 0.0) - self.requested[op] > self.TOLERANCE:
                out[op] = (f"it takes the corrections {', '.join(short)} could not make" if short
                           else "draw noise or fallbacks")
        return out

    def _why_short(self, op: str) -> str:
        if not self.calibrated:
            return ("the concept base has no mix calibration (iccc.balance.calibrate_mix), so the share is how "
                    "often the operation is tried first, and captions that do not allow it get another one")
        feasible = self.feasible[op]
        if feasible + self.TOLERANCE < self.requested[op]:
            what = "a swap" if op == "swap" else f"{op!r}"
            share = f"{feasible:.0%}" if feasible >= 0.01 or feasible == 0 else f"{feasible:.1%}"
            return f"only {share} of the captions allow {what}"
        if (self.expected or {}).get(op, 0.0) + self.TOLERANCE < self.requested[op]:
            return "the captions that allow it are needed by other operations with unreachable shares"
        return "its draws found no legal edit in some captions that seemed to allow it (fallbacks)"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for a summary): per operation ``requested``, ``rate``, ``feasible``, ``expected``."""
        return {op: {"requested": self.requested[op], "rate": self.rates[op],
                     "feasible": self.feasible[op] if self.feasible else None,
                     "expected": self.expected[op] if self.expected else None} for op in self.operations}

    def __repr__(self):
        shares = ", ".join(f"{op}={v:.3g}" for op, v in self.requested.items())
        return f"MixPlan({shares}, calibrated={self.calibrated})"


def _choice(allowed: np.ndarray, log_rates: np.ndarray) -> np.ndarray:
    """Per row of ``allowed`` (rows x operations, bool), the probability of each operation: the
    softmax of ``log_rates`` over the allowed ones (0 elsewhere)."""
    z = np.where(allowed, log_rates[None, :], -np.inf)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _feasible_masks(table: Mapping[str, float], operations: Sequence[str], kinds: Mapping[str, Sequence[str]] | None):
    """The calibration table as ``(masks, counts)``: a bit per operation of ``operations`` set
    where its configured kinds can edit the captions of a pattern; ``None`` when the table did
    not measure one of the operations."""
    measured = {key[1:] for key in table if key.startswith("@")}
    if not set(operations) <= measured:
        return None
    units = {}
    for bit, op in enumerate(operations):
        for kind in (kinds or {}).get(op) or OPERATORS[op].supported_kinds:
            units[f"{op}:{kind}"] = bit
    by_mask: dict[int, float] = {}
    for key, count in sorted(table.items()):
        if key.startswith("@"):
            continue
        mask = 0
        for unit in key.split(",") if key else ():
            bit = units.get(unit)
            if bit is not None:
                mask |= 1 << bit
        by_mask[mask] = by_mask.get(mask, 0.0) + float(count)
    masks = sorted(by_mask)
    return np.array(masks, dtype=np.int64), np.array([by_mask[k] for k in masks])


def feasibility_key(units: Sequence[str]) -> str:
    """The calibration table's key of a caption that the ``"op:kind"`` units can edit.

    >>> feasibility_key(["swap:noun", "replace:noun", "replace:entity"])
    'replace:entity,replace:noun,swap:noun'
    """
    return ",".join(sorted(units))


@dataclass(frozen=True)
class _Plan:
    operators: tuple  # (name, operator) in fallback order
    log_rates: tuple  # of floats, one per operator
    mix: MixPlan
    orders: dict  # mask of operators that can edit a row -> (positions, cumulative rates)

    def order(self, mask: int) -> tuple:
        """``(positions, cumulative)`` of the operators in ``mask``: the first is drawn by the
        cumulative rates, the others follow in the fixed order (cached per mask)."""
        found = self.orders.get(mask)
        if found is None:
            positions = tuple(k for k in range(len(self.operators)) if mask >> k & 1)
            z = np.array([self.log_rates[k] for k in positions])
            cumulative = np.cumsum(np.exp(z - z.max())).tolist()
            found = self.orders[mask] = (positions, cumulative)
        return found


class Corruptor:
    """A configured corruption engine; :func:`corrupt` builds and caches one per configuration.

    Args:
        concepts: the :class:`ConceptBase` replacements are drawn from.
        operations: names from :data:`iccc.operators.OPERATORS` (``"replace"``, ``"swap"``, ``"add"``,
            ``"number"``, ``"existence"``; default: all of them).
        kinds: concept kinds to edit (default: every kind the operations support).
        p_swap: share of the corrections that are swaps (the paper: 0.15).
        p_add: share of the corrections that are additions.
        same_category: keep replacements in the original's semantic category when possible.
        mix: ``{operation: share}`` (see :func:`requested_shares`); ``p_swap`` / ``p_add`` are
            its shorthands. Shares are honoured as far as the captions allow (:class:`MixPlan`,
            :attr:`mix`), with the calibration stored on the base (:func:`iccc.balance.calibrate_mix`).
        vision: an :class:`iccc.vision.ImagePrior` (rows are matched to images by their ``group``):
            replacements and additions favour concepts of the image's scene and, with its text
            encoder, are checked against the image (a row whose every candidate the image may
            support gets no corruption, status ``possibly_true``); ``None``: text only.

    A row's operation is drawn among the operations that can edit its caption, with the rates of
    :attr:`mix`; if its draw still finds no legal edit, the others are tried in the registry's
    order (replace, swap, add, number, existence), so a caption only goes without a corruption
    when none applies.
    An operation with share 0 is never used.

    >>> import iccc
    >>> parsed = iccc.parse(["A red car on a street.", "A blue bus on a road."])
    >>> engine = Corruptor(iccc.ConceptBase.from_parsed(parsed, above_mean=False))
    >>> engine.one(parsed[0], rng=np.random.default_rng(1)).operation in ("replace", "swap")
    True
    """

    def __init__(self, concepts: ConceptBase, *, operations: Sequence[str] = DEFAULT_OPERATIONS,
                 kinds: Sequence[str] | None = None, p_swap: float = DEFAULT_P_SWAP, p_add: float = DEFAULT_P_ADD,
                 same_category: bool = True, vision: Any = None, mix: Mapping[str, float] | None = None):
        if not isinstance(concepts, ConceptBase):
            raise TypeError(f"`concepts` must be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
        if isinstance(operations, str):
            operations = (operations,)
        operations = tuple(dict.fromkeys(operations))
        requested = requested_shares(operations, p_swap=p_swap, p_add=p_add, mix=mix)
        if isinstance(kinds, str):
            kinds = (kinds,)
        supported = {k for op in operations for k in OPERATORS[op].supported_kinds}
        if kinds is not None:
            unknown = [k for k in kinds if k not in supported]
            if unknown:
                raise ValueError(
                    f"Kind(s) {unknown!r} not supported by operations {list(operations)!r}. "
                    f"Available: {', '.join(repr(k) for k in sorted(supported))}."
                )
        needs_base = [op for op in operations if OPERATORS[op].needs_base]
        if needs_base:
            if concepts.n_captions == 0 or not concepts.kinds():
                raise ValueError(
                    "The concept base is empty; build it from parsed captions first "
                    "(ConceptBase.from_parsed(iccc.parse(captions)))."
                )
            wanted = [k for k in (kinds or supported) if any(k in OPERATORS[op].supported_kinds for op in needs_base)]
            if kinds is not None:
                missing = [k for k in wanted if not concepts.counts[k]]
                if missing:
                    raise ValueError(
                        f"The concept base has no concepts of kind(s) {missing!r}. "
                        f"It has: {', '.join(repr(k) for k in concepts.kinds())}."
                    )
        if vision is not None:
            from .vision.prior import ImagePrior

            if not isinstance(vision, ImagePrior):
                raise TypeError(f"`vision` should be an iccc.vision.ImagePrior or None, got {type(vision).__name__}: "
                                f"{vision!r:.80}.")
        # passed to every operator that takes them
        settings = {"same_category": same_category, "vision": vision}
        ops, op_kinds = [], {}
        for op, cls in OPERATORS.items():  # the registry's order is the fallback order
            if op not in operations:
                continue
            these = [k for k in (kinds or cls.supported_kinds) if k in cls.supported_kinds]
            if these and op in requested:
                ops.append((op, cls.configured(these, settings)))
                op_kinds[op] = tuple(these)
        if not ops:
            edited = [op for op in operations if any(k in OPERATORS[op].supported_kinds for k in (kinds or ()))]
            if not edited or kinds is None:
                raise ValueError(f"No operation in {list(operations)!r} can edit the kinds {list(kinds or ())!r}.")
            raise ValueError(f"The operations that can edit the kinds {list(kinds)!r} ({edited!r}) have share 0; "
                             "give them a share (`p_swap`, `p_add`, `mix`).")
        names = [name for name, _ in ops]
        kept = {op: requested[op] for op in names}
        total = sum(kept.values())
        kept = {op: v / total for op, v in kept.items()}
        self.concepts = concepts
        #: every cache the engine keeps (shared with the other engines on this base)
        self.index = CandidateIndex.of(concepts)
        #: how the operation of a row is drawn (:class:`MixPlan`)
        self.mix = MixPlan(kept, concepts.balance.get(mix_table(same_category)), op_kinds)
        self.plan = _Plan(tuple(ops), tuple(self.mix.log_rates[n] for n in names), self.mix, {})
        self.vision = vision
        self.config = dict(operations=operations, kinds=tuple(kinds) if kinds else None, p_swap=p_swap,
                           p_add=p_add, same_category=same_category, vision=vision,
                           mix=dict(mix) if mix is not None else None)

    def __getstate__(self):
        return {"concepts": self.concepts, "plan": self.plan, "mix": self.mix, "config": self.config,
                "vision": self.vision}  # the index is rebuilt

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.index = CandidateIndex.of(self.concepts)

    def one(self, parsed: ParsedCaption, *, rng: np.random.Generator, group: Any = None) -> Corruption | None:
        """Corrupt one parsed caption, or return ``None`` when no operation applies (or, with a
        ``vision`` prior, when the image may support every candidate)."""
        index = self.index.sync()
        if self.vision is None:
            return run(self.draw(parsed, rng, group), index)
        steps = self.draw(parsed, rng, group)
        try:
            asked = steps.send(None)
            while True:
                if type(asked) is ScoreRequest:
                    asked = steps.send(self.vision.score([asked])[0])
                else:
                    asked = steps.send(compute_weights(index, list(asked)))
        except StopIteration as done:
            record = done.value
        return None if record is _REJECTED else record

    def draw(self, parsed: ParsedCaption, rng, group: Any = None):
        """The draw of one row (a generator; see :meth:`iccc.operators.Operator.draw`): the
        operation is drawn among those that can edit the caption (:class:`MixPlan`), then, if its
        draw finds no edit, each other one that can in turn until one edits the caption."""
        if not parsed.concepts:
            return None
        if group is not None and group.__hash__ is None:
            group = str(group)  # a list id ([1, 2]): the concept base keys groups by str() anyway
        index = self.index
        plan = self.plan
        ops = plan.operators
        if len(ops) == 1:
            op = ops[0][1]
            record = yield from op.draw(op.prepare(parsed, index), index, rng, group)
        else:
            u = rng.random()  # the operation's draw comes first, whatever the row allows
            prepared, mask = [], 0
            for k, (_, other) in enumerate(ops):
                p = other.prepare(parsed, index)
                prepared.append(p)
                if p.slots and (yield from other.feasible_kinds(p, index)):
                    mask |= 1 << k
            if not mask:
                return None
            positions, cumulative = plan.order(mask)
            first = min(bisect_right(cumulative, u * cumulative[-1]), len(positions) - 1)
            record = None
            for k in (positions[first], *positions[:first], *positions[first + 1:]):  # then the fixed order
                op = ops[k][1]
                record = yield from op.draw(prepared[k], index, rng, group)
                if record is not None:
                    break
        vision = self.vision
        if (vision is None or record is None or not vision.checks or record.operation not in CHECKED_OPERATIONS
                or not vision.has_image(group)):
            return record
        return (yield from self._checked(op, parsed, record, rng, group))

    def _checked(self, op, parsed: ParsedCaption, record: Corruption, rng, group: Any):
        """The image check (:mod:`iccc.vision.prior`): ``record`` and ``candidates - 1`` more
        negatives drawn by the same operator from the same stream, scored against the image with
        the original in one request; the hardest that passes, else :data:`_REJECTED`."""
        index = self.index
        prepared = op.prepare(parsed, index)
        found = [record]
        for _ in range(self.vision.candidates - 1):
            again = yield from op.draw(prepared, index, rng, group)
            if again is not None:
                found.append(again)
        sims = yield ScoreRequest(group, (parsed.text, *(r.corrupted_caption for r in found)))
        k = self.vision.choose(sims)
        return _REJECTED if k is None else found[k]

    @fewer_collections()
    def many(self, parsed: Sequence[ParsedCaption | None], rngs: Sequence, groups: Sequence | None = None, *,
             reasons: list | None = None) -> list:
        """Corrupt many parsed captions: ``[self.one(p, rng=r, group=g) ...]`` (``None`` rows stay
        ``None``), the same records, computed faster. ``reasons``, a list, gets
        ``(row, "possibly_true")`` for each row the image check left without a record.

        Rows are drawn :data:`MANY_CHUNK` at a time, in rounds: every unfinished row runs until it
        asks for candidate weights nobody has computed yet (:meth:`draw` yields the request) or
        ends; the requests of all of them are computed at once (one matrix per pool,
        :func:`iccc.operators.compute_weights`) and sent back; until every row has its record.
        With a ``vision`` prior, the rows asking for the image check are scored together too.
        """
        n = len(parsed)
        if len(rngs) != n:
            raise ValueError(f"`rngs` has {len(rngs)} items but `parsed` has {n}.")
        if groups is None:
            groups = [None] * n
        elif len(groups) != n:
            raise ValueError(f"`groups` has {len(groups)} items but `parsed` has {n}.")
        index = self.index.sync()
        out: list = [None] * n
        vision = self.vision
        for lo in range(0, n, MANY_CHUNK):
            waiting = []  # (row, its draw, the requests it waits for)
            for k in range(lo, min(n, lo + MANY_CHUNK)):
                if parsed[k] is not None:
                    steps = self.draw(parsed[k], rngs[k], groups[k])
                    _advance(steps, None, k, waiting, out)
            while waiting:
                if vision is not None:
                    scoring = [w for w in waiting if type(w[2]) is ScoreRequest]
                    if scoring:
                        waiting = [w for w in waiting if type(w[2]) is not ScoreRequest]
                        for (k, steps, _), sims in zip(scoring, vision.score([w[2] for w in scoring])):
                            _advance(steps, sims, k, waiting, out)
                        continue
                requests = [r for _, _, asked in waiting for r in asked]
                answers = iter(compute_weights(index, requests))
                rows, waiting = waiting, []
                for k, steps, asked in rows:
                    _advance(steps, [next(answers) for _ in asked], k, waiting, out)
        if vision is not None:
            for k in range(n):
                if out[k] is _REJECTED:
                    out[k] = None
                    if reasons is not None:
                        reasons.append((k, STATUS_POSSIBLY_TRUE))
        return out

    def batch(self, batch: Mapping[str, list], indices: Sequence[int] | None, *, seed: int | None, epoch: int = 0,
              caption_column: str = columns.CAPTION, concepts_column: str = columns.CONCEPTS,
              group_column: str | None = None, nlp: Any = None) -> dict[str, list]:
        """Corrupt a ``Dataset.map(batched=True, with_indices=True)`` batch; one output per row."""
        if caption_column not in batch:
            raise KeyError(f"Caption column {caption_column!r} not found. Available: {sorted(batch)}.")
        captions = batch[caption_column]
        n = len(captions)
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"`epoch` should be a non-negative integer, got {epoch!r}.")
        if indices is None:
            raise ValueError(
                "Per-row seeding needs the global row indices: call Dataset.map(corrupt, batched=True, "
                "with_indices=True, fn_kwargs=...)."
            )
        if group_column is not None and group_column not in batch:
            raise KeyError(f"Group column {group_column!r} not found. Available: {sorted(batch)}.")
        if concepts_column in batch:
            known = self.index.sync().store("parsed-rows", PER_CAPTION_LIMIT)
            parsed = [_parsed_row(text, c, known) if isinstance(text, str) else None
                      for text, c in zip(captions, batch[concepts_column])]
            statuses = batch.get(columns.PARSE_STATUS) or [None] * n
        else:
            from .parsing import iter_parse

            parsed = list(iter_parse(captions, nlp=nlp, on_invalid="status"))
            statuses = [p.status for p in parsed]
        groups = batch[group_column] if group_column else [None] * n
        out: dict[str, list] = {name: [] for name in RECORD_COLUMNS + (STATUS_COLUMN,)}
        streams = Streams(seed if seed is not None else np.random.SeedSequence().entropy, epoch, indices)
        failed = [s if s not in CORRUPTIBLE else None for s in statuses]  # the parse's own reason
        usable = [p if f is None else None for p, f in zip(parsed, failed)]
        reasons: list = []
        records = self.many(usable, [streams[k] for k in range(n)], groups, reasons=reasons)
        for k, reason in reasons:
            failed[k] = reason
        for k in range(n):
            p, status, record = parsed[k], failed[k], records[k]
            if record is None:
                for name in RECORD_COLUMNS:
                    out[name].append(None)
                if p is None and status is None:
                    status = "missing" if captions[k] is None else "not_string"
                out[STATUS_COLUMN].append(status or ("no_concepts" if p is not None and not p.concepts else "no_candidate"))
            else:
                for name in RECORD_COLUMNS:
                    out[name].append(getattr(record, name))
                out[STATUS_COLUMN].append(STATUS_OK)
        return out


#: What a draw returns when the image check turned down every candidate (see :meth:`Corruptor.many`).
_REJECTED = object()


def drive(draws: Sequence, index: CandidateIndex) -> list:
    """Run many draws (generators that yield tuples of :class:`iccc.operators.WeightRequest`, as
    :meth:`Corruptor.draw` and :meth:`iccc.operators.Operator.feasible_kinds` do) to their ends,
    the requests of all of them computed together in rounds; their return values, in order."""
    out: list = [None] * len(draws)
    waiting: list = []
    index = index.sync()
    for k, steps in enumerate(draws):
        _advance(steps, None, k, waiting, out)
    while waiting:
        requests = [r for _, _, asked in waiting for r in asked]
        answers = iter(compute_weights(index, requests))
        rows, waiting = waiting, []
        for k, steps, asked in rows:
            _advance(steps, [next(answers) for _ in asked], k, waiting, out)
    return out


def _advance(steps, answer, k: int, waiting: list, out: list) -> None:
    """Run row ``k``'s draw on (sending ``answer``) until it asks for weights (then it waits in
    ``waiting``) or ends (then its record goes to ``out[k]``)."""
    try:
        asked = steps.send(answer)
    except StopIteration as done:
        out[k] = done.value
    else:
        waiting.append((k, steps, asked))


def _parsed_row(text: str, items, known: dict) -> ParsedCaption:
    """The :class:`ParsedCaption` of a map row. Rows seen before (every epoch sees them again)
    give the same object, so the per-caption caches of the operators apply; the key is the
    whole row content (caption and every concept field), so a row is never mistaken for another."""
    try:
        key = (text, tuple(map(tuple, map(dict.values, items))))
    except TypeError:  # None, Concept objects, other mappings
        return ParsedCaption(text, tuple(_concepts(items)), STATUS_OK)
    found = known.get(key)
    if found is None:
        found = known[key] = ParsedCaption(text, tuple(_concepts(items)), STATUS_OK)
    return found


def _concepts(items):
    return [c if isinstance(c, Concept) else _concept(c) for c in (items or ())]


_CONCEPT_FIELDS = frozenset(Concept.__dataclass_fields__)


def _concept(row: Mapping) -> Concept:
    """A ``Concept`` from a row of a ``concepts`` column. A row holding exactly the fields fills
    the frozen instance directly (a map rebuilds ~10 concepts per caption, and the frozen
    ``__init__`` costs twice as much); anything else goes through ``Concept.from_dict``."""
    if row.keys() == _CONCEPT_FIELDS:
        return filled(Concept, dict(row))  # a copy: the batch keeps its row
    return Concept.from_dict(row)


#: The engines :func:`corrupt` made, by (base, configuration): the most recent ones (they keep
#: their bases alive); ``(base, engine)`` pairs, so an entry is only used for the very same base.
_ENGINES: dict = {}
ENGINES_KEPT = 32


@lru_cache(maxsize=1)
def _default_concepts() -> ConceptBase:
    """:func:`corrupt`'s own copy of :meth:`ConceptBase.default` (loaded on first use, then shared
    by every call without ``concepts``, so its pools and weights are computed once)."""
    return ConceptBase.default()


def _engine(concepts, **config) -> Corruptor:
    if not isinstance(concepts, ConceptBase):
        raise TypeError(f"`concepts` must be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
    key = (id(concepts), concepts.revision, concepts.balance_revision, tuple(sorted(
        (k, tuple(sorted(v.items())) if isinstance(v, Mapping) else tuple(v) if isinstance(v, list) else v)
        for k, v in config.items())))
    found = _ENGINES.get(key)
    if found is None or found[0] is not concepts:
        if len(_ENGINES) >= ENGINES_KEPT:
            del _ENGINES[next(iter(_ENGINES))]
        found = _ENGINES[key] = (concepts, Corruptor(concepts, **config))
    return found[1]


def corrupt(
    caption_or_parsed: Any,
    indices: Any = None,
    *,
    concepts: ConceptBase | None = None,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    operations: Sequence[str] = DEFAULT_OPERATIONS,
    kinds: Sequence[str] | None = None,
    p_swap: float = DEFAULT_P_SWAP,
    p_add: float = DEFAULT_P_ADD,
    same_category: bool = True,
    vision: Any = None,
    mix: Mapping[str, float] | None = None,
    group: Any = None,
    epoch: int = 0,
    caption_column: str = columns.CAPTION,
    concepts_column: str = columns.CONCEPTS,
    group_column: str | None = None,
    nlp: Any = None,
):
    """Corrupt a caption so that it is wrong about the image in one concept.

    Works on a single caption (a string, parsed on the fly, or a :class:`ParsedCaption`) and
    returns a :class:`Corruption` or ``None`` when nothing can be corrupted. The same function is
    a ``Dataset.map`` function: ``ds.map(corrupt, batched=True, with_indices=True,
    fn_kwargs={"concepts": base, "seed": 0})`` adds the record columns and ``corrupt_status``; each
    row's random stream derives from ``(seed, epoch, index)`` (``iccc.streams.stream(seed, epoch, index)``
    gives it, to redo one row alone), so any ``num_proc`` and batch size give the same rows. Rows
    that cannot be corrupted are kept, with a status.

    Args:
        caption_or_parsed: a caption, a parsed caption, or a map batch/example.
        indices: row indices (map mode only; passed by ``with_indices=True``).
        concepts: the :class:`ConceptBase` to draw replacements from; ``None`` (the default): the
            base shipped with iccc, built from COCO 2017 val captions (:meth:`ConceptBase.default`).
            A base of your own captions fits them best (``ConceptBase.from_parsed``, optionally
            merged with the default one, :meth:`ConceptBase.merge`).
        seed: integer seed; ``rng``: a ``numpy.random.Generator`` (single-caption mode; a
            :func:`row_stream` too); not both.
        operations: any of ``"replace"``, ``"swap"``, ``"add"``.
        kinds: concept kinds to edit (default: all the operations support).
        p_swap: share of the corrections that are swaps (paper: 0.15), honoured as far as the
            captions allow (see :class:`MixPlan`); ``p_add`` likewise for additions.
        mix: ``{operation: share}`` for any operation (:data:`DEFAULT_MIX` gives the defaults;
            ``"replace"`` takes the rest unless named); instead of ``p_swap`` / ``p_add``.
        same_category: keep replacements in the original's semantic category when possible.
        vision: an :class:`iccc.vision.ImagePrior`: image-conditioned negatives (see
            :class:`Corruptor`); rows are matched to its images by ``group`` / ``group_column``
            (a row whose every candidate the image may support gets ``corrupt_status="possibly_true"``).
        group: the image id of a single caption (sibling-caption guard); in map mode use
            ``group_column``.
        epoch: mixed into per-row seeds in map mode, so every epoch draws new corruptions.

    >>> import iccc
    >>> base = iccc.ConceptBase.from_parsed(iccc.parse(["A dog on a couch.", "A cat on a bed."]), above_mean=False)
    >>> corrupt("A dog on a couch.", concepts=base, seed=0, kinds=["noun"]).target
    '"cat" should be "dog".'
    >>> record = corrupt("A dog on a couch.", seed=0)  # no base given: the one shipped with iccc
    >>> record.caption, record.corrupted_caption != record.caption
    ('A dog on a couch.', True)
    """
    if seed is not None and rng is not None:
        raise ValueError("Pass either `seed` or `rng`, not both.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"`seed` should be a non-negative integer or None, got {seed!r}.")
    if rng is not None and not isinstance(rng, (np.random.Generator, RowStream)):
        raise TypeError(f"`rng` must be a numpy.random.Generator, got {type(rng).__name__}: {rng!r}.")
    if concepts is None:
        concepts = _default_concepts()
    engine = _engine(concepts, operations=operations, kinds=kinds, p_swap=p_swap, p_add=p_add,
                     same_category=same_category, vision=vision, mix=mix)
    if isinstance(caption_or_parsed, Mapping):
        example = caption_or_parsed
        value = example.get(caption_column)
        if isinstance(value, list):  # batched map
            return engine.batch(example, indices, seed=seed, epoch=epoch, caption_column=caption_column,
                                concepts_column=concepts_column, group_column=group_column, nlp=nlp)
        # one example (map without batched=True): wrap it as a batch of one
        wrapped = {k: [v] for k, v in example.items()}
        index = [indices] if indices is not None else None
        out = engine.batch(wrapped, index, seed=seed, epoch=epoch, caption_column=caption_column,
                           concepts_column=concepts_column, group_column=group_column, nlp=nlp)
        return {k: v[0] for k, v in out.items()}
    if isinstance(caption_or_parsed, str):
        from .parsing import parse

        parsed = parse([caption_or_parsed], nlp=nlp)[0]
    elif isinstance(caption_or_parsed, ParsedCaption):
        parsed = caption_or_parsed
    else:
        raise TypeError(
            "`caption_or_parsed` must be a caption string, an iccc.ParsedCaption or a dataset batch, "
            f"got {type(caption_or_parsed).__name__}: {caption_or_parsed!r:.80}."
        )
    if rng is None:
        rng = np.random.default_rng(seed)
    return engine.one(parsed, rng=rng, group=group)
