"""``corrupt``: one caption in, one corruption record out — or a whole ``Dataset.map`` batch.

Randomness comes only from an explicit random stream. In a dataset map every row gets its own,
derived from ``(seed, epoch, row)`` (:mod:`iccc.streams`: a cheap counter-based stream computed
for a whole batch at once), so the output is identical for any ``num_proc`` and batch size; a
single caption takes a ``numpy.random.Generator`` (``seed=``) or a stream (``rng=``).

The engine (:class:`Corruptor`) is a configuration of operators (:data:`iccc.operators.OPERATORS`)
over the :class:`iccc.operators.CandidateIndex` of its concept base, which holds every cache.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from . import columns
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
DEFAULT_OPERATIONS = ("replace", "swap")
#: The paper's share of swaps among corrections.
DEFAULT_P_SWAP = 0.15
#: Additions are off unless asked for (the paper corrects replacements and swaps only).
DEFAULT_P_ADD = 0.0
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


def _check_probability(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` should be a probability in [0, 1], got {value!r}.")


@dataclass(frozen=True)
class _Plan:
    operators: tuple  # (name, operator) in fallback order
    probabilities: np.ndarray
    cumulative: list  # of floats: bisect on a list beats numpy's searchsorted on 2-3 items


class Corruptor:
    """A configured corruption engine; :func:`corrupt` builds and caches one per configuration.

    Args:
        concepts: the :class:`ConceptBase` replacements are drawn from.
        operations: names from ``"replace"``, ``"swap"``, ``"add"``.
        kinds: concept kinds to edit (default: every kind the operations support).
        p_swap: probability of trying a swap first (the paper: 0.15 of corrections).
        p_add: probability of trying an addition first.
        same_category: keep replacements in the original's semantic category when possible.
        vision: an :class:`iccc.vision.ImagePrior` (rows are matched to images by their ``group``):
            replacements and additions favour concepts of the image's scene and, with its text
            encoder, are checked against the image (a row whose every candidate the image may
            support gets no corruption, status ``possibly_true``); ``None``: text only.

    If the operation drawn first has no legal edit for a caption, the others are tried in the
    order replace, swap, add, so a caption only goes without a corruption when none applies.

    >>> import iccc
    >>> parsed = iccc.parse(["A red car on a street.", "A blue bus on a road."])
    >>> engine = Corruptor(iccc.ConceptBase.from_parsed(parsed, above_mean=False))
    >>> engine.one(parsed[0], rng=np.random.default_rng(1)).operation in ("replace", "swap")
    True
    """

    def __init__(self, concepts: ConceptBase, *, operations: Sequence[str] = DEFAULT_OPERATIONS,
                 kinds: Sequence[str] | None = None, p_swap: float = DEFAULT_P_SWAP, p_add: float = DEFAULT_P_ADD,
                 same_category: bool = True, vision: Any = None):
        if not isinstance(concepts, ConceptBase):
            raise TypeError(f"`concepts` must be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
        if isinstance(operations, str):
            operations = (operations,)
        operations = tuple(dict.fromkeys(operations))
        for op in operations:
            if op not in OPERATORS:
                raise ValueError(f"Unknown operation {op!r}. Available: {', '.join(repr(o) for o in OPERATORS)}.")
        if not operations:
            raise ValueError("`operations` must name at least one of 'replace', 'swap', 'add'.")
        _check_probability("p_swap", p_swap)
        _check_probability("p_add", p_add)
        if p_swap + p_add > 1.0:
            raise ValueError(f"`p_swap` + `p_add` must be at most 1, got {p_swap} + {p_add}.")
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
        ops = []
        for op, cls in OPERATORS.items():  # the registry's order is the fallback order
            if op not in operations:
                continue
            op_kinds = [k for k in (kinds or cls.supported_kinds) if k in cls.supported_kinds]
            if op_kinds:
                ops.append((op, cls.configured(op_kinds, settings)))
        if not ops:
            raise ValueError(f"No operation in {list(operations)!r} can edit the kinds {list(kinds)!r}.")
        names = [name for name, _ in ops]
        p = np.array([{"swap": p_swap, "add": p_add}.get(n, 0.0) for n in names])
        rest = 1.0 - p.sum()
        if "replace" in names:
            p[names.index("replace")] += rest
        elif p.sum() == 0:
            p[:] = 1.0 / len(p)
        else:
            p = p / p.sum()
        self.concepts = concepts
        #: every cache the engine keeps (shared with the other engines on this base)
        self.index = CandidateIndex.of(concepts)
        p = p / p.sum()
        self.plan = _Plan(tuple(ops), p, np.cumsum(p).tolist())
        self.vision = vision
        self.config = dict(operations=operations, kinds=tuple(kinds) if kinds else None, p_swap=p_swap,
                           p_add=p_add, same_category=same_category, vision=vision)

    def __getstate__(self):
        return {"concepts": self.concepts, "plan": self.plan, "config": self.config,
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
        operation tried first is drawn, then each operator in turn until one edits the caption."""
        if not parsed.concepts:
            return None
        if group is not None and group.__hash__ is None:
            group = str(group)  # a list id ([1, 2]): the concept base keys groups by str() anyway
        index = self.index
        ops = self.plan.operators
        if len(ops) == 1:
            op = ops[0][1]
            record = yield from op.draw(op.prepare(parsed, index), index, rng, group)
        else:
            first = min(bisect_right(self.plan.cumulative, rng.random()), len(ops) - 1)
            op = ops[first][1]
            record = yield from op.draw(op.prepare(parsed, index), index, rng, group)
            if record is None:
                for k, (_, other) in enumerate(ops):  # the others, in the fixed fallback order
                    if k != first:
                        op = other
                        record = yield from op.draw(op.prepare(parsed, index), index, rng, group)
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
    key = (id(concepts), concepts.revision, tuple(sorted((k, v if not isinstance(v, list) else tuple(v))
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
        p_swap: share of corrections tried as swaps first (paper: 0.15); ``p_add`` likewise.
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
                     same_category=same_category, vision=vision)
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
