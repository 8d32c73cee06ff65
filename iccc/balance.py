"""Frequency balancing: make the words a corruption inserts as common as the words it removes,
overall and next to each neighbouring word.

Context-fit sampling alone over-uses some words (a context's best fit is often the same handful of
lemmas), and a text classifier trained on (real, negative) pairs learns exactly that: "negatives
say *sidewalk* more often". :func:`balance_insertions` corrupts the captions once (or a few
times) with a fixed seed, counts for every (kind, lemma) how often it was inserted and how often
it was replaced, and stores a correction factor per lemma on the concept base, so that inserted
lemmas follow the distribution of the replaced ones. The same is done per word bigram: how often
a lemma is inserted right after (before) a given word versus how often it is replaced there, so
that "sitting on" or "in the" are as common in negatives as in real captions, which a bigram
classifier would otherwise learn (the context-fit sampler proposes, the balance corrects towards
detailed balance: an edit real -> negative becomes as likely as the same edit run backwards).
The other side of the same balance: a lemma that corruptions remove far more often than they
insert it ("two" among counts, which can only become a rarer number; the commonest verbs) gets a
removal factor below 1 and is picked for editing that much less often (its caption gets another
kind of edit instead). Deterministic: the same captions and seed give the same factors.

The mix calibration (:func:`calibrate_mix`) is the other data-level measurement stored on the
base: which operations (and kinds) can edit each caption, counted by combination, from which
:class:`iccc.corrupt.MixPlan` solves the rates that give each operation its share of the
corrections (a swap is possible in few captions, so those are swapped more often). It involves
no random draw. :func:`balance_insertions` runs it first, so that its simulation corrupts with
the mix a build will have.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from ._gc import fewer_collections
from ._workers import ChunkWorkers, chunks, workers
from .base import CONTEXT_SEP, ConceptBase, removal_table
from .contexts import edge_keys
from .corrupt import CORRUPTIBLE, MANY_CHUNK, Corruptor, drive, feasibility_key, mix_table
from .operators import DIRECTIONS_TABLE, OPERATORS, CandidateIndex, count_directions, direction_tables
from .streams import BALANCE_EPOCH, Streams, check_non_negative

#: Factors are kept within [1 / MAX_FACTOR, MAX_FACTOR].
MAX_FACTOR = 20.0
#: Captions below which a simulation is not worth a worker process of its own.
MIN_WORKER_CAPTIONS = MANY_CHUNK


@fewer_collections()
def calibrate_mix(base: ConceptBase, parsed: Sequence, *, groups: Iterable[Any] | None = None,
                  same_category: bool = True, num_proc: int | None = None) -> dict[str, float]:
    """Count which operations can edit each caption and store the counts on ``base`` (the mix
    calibration :class:`iccc.corrupt.MixPlan` solves the operation rates from).

    Every operation of :data:`iccc.operators.OPERATORS` is asked, with every kind it supports,
    which kinds of each caption it can edit (:meth:`iccc.operators.Operator.feasible_kinds`;
    for swaps: a pair plausible enough to trade places). The table ``{"op:kind,op:kind,...":
    captions}`` (plus ``"@op": 1`` for each operation measured) becomes
    ``base.balance[mix_table(same_category)]``; an engine with other operations, kinds or shares
    solves its own rates from the same table. Captions whose parse failed are not counted.

    Before that, the directions of the directed operators are counted and balanced
    (:mod:`iccc.operators._directions`): ``base.balance["directions"]`` gets the share of each
    direction's slots kept, ``base.balance["directions:captions"]`` the captions that offer each.

    Args:
        base: the :class:`iccc.ConceptBase` the calibration is for (its context model judges swaps).
        parsed: parsed captions (typically an even sample of those the base was built from).
        groups: image ids parallel to ``parsed`` (or ``None``): the direction balance then counts
            only the slots the sibling-caption guard allows, as the build will draw them.
        same_category: the engine setting the calibration is for (:class:`iccc.Corruptor`).
        num_proc: processes to count in (forked, :mod:`iccc._workers`; the same table with any
            number).

    Returns:
        The table (also stored on ``base``).

    >>> import iccc
    >>> parsed = iccc.parse(["A dog chasing a cat.", "A red car.", "A blue bus."])
    >>> table = calibrate_mix(iccc.ConceptBase.from_parsed(parsed, above_mean=False), parsed)
    >>> table["@swap"], sum(v for k, v in table.items() if not k.startswith("@"))
    (1.0, 3.0)
    """
    if not isinstance(base, ConceptBase):
        raise TypeError(f"`base` must be an iccc.ConceptBase, got {type(base).__name__}: {base!r:.80}.")
    if not isinstance(same_category, bool):
        raise TypeError(f"`same_category` should be True or False, got {same_category!r}.")
    parsed = list(parsed)
    groups = list(groups) if groups is not None else [None] * len(parsed)
    if len(groups) != len(parsed):
        raise ValueError(f"`groups` has {len(groups)} items but `parsed` has {len(parsed)}.")
    keep = [k for k, p in enumerate(parsed) if getattr(p, "status", None) in CORRUPTIBLE]
    parsed, groups = [parsed[k] for k in keep], [groups[k] for k in keep]
    with _sample_workers(base, parsed, groups, num_proc) as pool:
        return _calibrate(base, pool, same_category)


def _sample_workers(base: ConceptBase, parsed: list, groups: list | None, num_proc: int | None) -> ChunkWorkers:
    """Workers over contiguous pieces of the sample: ``(base, captions, groups, offset)`` each."""
    groups = groups if groups is not None else [None] * len(parsed)
    pieces = chunks(len(parsed), workers(num_proc, len(parsed) // MIN_WORKER_CAPTIONS))
    return ChunkWorkers([(base, parsed[r.start:r.stop], groups[r.start:r.stop], r.start) for r in pieces], num_proc)


def _operators(same_category: bool) -> list:
    settings = {"same_category": same_category, "vision": None}
    return [(name, cls.configured(cls.supported_kinds, settings)) for name, cls in OPERATORS.items()]


def _count_directions(chunk, balance, same_category):
    base, parsed, groups, _ = chunk
    base.balance = balance
    directed = [op for _, op in _operators(same_category) if op.directions]
    return count_directions(directed, parsed, CandidateIndex.of(base), groups)


def _count_feasible(chunk, balance, same_category) -> Counter:
    base, parsed, _, _ = chunk
    base.balance = balance
    index = CandidateIndex.of(base)
    ops = _operators(same_category)

    def units(p):
        out = []
        for name, op in ops:
            prepared = op.prepare(p, index)
            if prepared.slots:
                out += [f"{name}:{kind}" for kind in (yield from op.feasible_kinds(prepared, index))]
        return feasibility_key(out)

    counts: Counter = Counter()
    for lo in range(0, len(parsed), MANY_CHUNK):
        counts.update(drive([units(p) for p in parsed[lo : lo + MANY_CHUNK]], index))
    return counts


def _calibrate(base: ConceptBase, pool: ChunkWorkers, same_category: bool) -> dict[str, float]:
    # Direction balance first (number: plural/singular, existence: negate/affirm), so that the
    # feasibility count below sees the slots the engine will keep (iccc.operators._directions).
    directed = [op for _, op in _operators(same_category) if op.directions]
    if directed:
        signatures: dict = {}
        for part in pool.map(_count_directions, dict(base.balance), same_category):
            for group, sigs in part.items():  # in chunk order: the serial count's key order
                merged = signatures.setdefault(group, {})
                for sig, n in sigs.items():
                    merged[sig] = merged.get(sig, 0.0) + n
        shares, captions = direction_tables(directed, signatures)
        base.balance = {**base.balance, DIRECTIONS_TABLE: shares, f"{DIRECTIONS_TABLE}:captions": captions}
    counts: Counter = Counter()
    for part in pool.map(_count_feasible, dict(base.balance), same_category):
        counts.update(part)
    table = {**{f"@{name}": 1.0 for name in OPERATORS}, **{key: float(n) for key, n in sorted(counts.items())}}
    base.balance = {**base.balance, mix_table(same_category): table}
    return table


def _simulate(chunk, balance, corruptor_config, seed, by_context) -> tuple[Counter, Counter, Counter, Counter]:
    """One balancing round on a chunk: how often each (kind, lemma) was inserted and replaced,
    overall and per neighbouring word."""
    base, parsed, groups, offset = chunk
    base.balance = balance  # drops the caches that depend on the factors
    engine = Corruptor(base, **corruptor_config)
    streams = Streams(seed, BALANCE_EPOCH, range(offset, offset + len(parsed)))
    inserted: Counter = Counter()
    replaced: Counter = Counter()
    inserted_ctx: Counter = Counter()
    replaced_ctx: Counter = Counter()
    records = []
    for lo in range(0, len(parsed), MANY_CHUNK):
        hi = min(len(parsed), lo + MANY_CHUNK)
        records += engine.many(parsed[lo:hi], [streams[i] for i in range(lo, hi)], groups[lo:hi])
    for p, record in zip(parsed, records):
        if record is None or record.operation != "replace":
            continue
        kind = record.concept_kind
        old = next((c.lemma for c in p.concepts if c.kind == kind and c.start == record.start
                    and c.end == record.end), None)
        new = engine.index.lemma_of_surface(kind, record.replacement)
        if old is not None and new is not None:
            replaced[(kind, old)] += 1
            inserted[(kind, new)] += 1
            if by_context:
                for key in edge_keys(p.text, record.start, record.end):
                    table = f"{kind}{CONTEXT_SEP}{key}"
                    replaced_ctx[(table, old)] += 1
                    inserted_ctx[(table, new)] += 1
    return inserted, replaced, inserted_ctx, replaced_ctx


@fewer_collections()
def balance_insertions(
    base,
    parsed: Sequence,
    *,
    groups: Iterable[Any] | None = None,
    seed: int = 0,
    rounds: int = 4,
    strength: float = 0.5,
    by_context: bool = True,
    removal_strength: float = 0.5,
    progress: bool = False,
    mix_calibration: bool = True,
    num_proc: int | None = None,
    **corruptor_config,
) -> dict[str, dict[str, float]]:
    """Compute per-lemma insertion factors on ``parsed`` and attach them to ``base``.

    Args:
        base: the :class:`iccc.ConceptBase` the factors are for (``base.balance`` is set).
        parsed: parsed captions to simulate on (typically those the base was built from).
        groups: image ids parallel to ``parsed`` (sibling-caption guard, as in real use).
        seed: seed of the simulation.
        rounds: simulate-and-correct rounds (each refines the previous factors).
        strength: exponent of the correction ``(replaced + 1) / (inserted + 1)`` per round.
        by_context: also balance each lemma per word bigram it forms (the token right before and
            right after the concept, :func:`iccc.contexts.edge_keys`): factors for
            ``"{kind}|L1:{word}"`` and ``"{kind}|N1:{word}"`` tables, applied when a concept has
            that neighbour.
        removal_strength: exponent of the correction ``(inserted + 1) / (replaced + 1)`` of the
            removal factors (``"{kind}|remove"`` tables, :func:`removal_table`): a lemma removed more
            often than inserted ("two": counts can only become rarer numbers) is chosen for editing
            less often (:meth:`iccc.operators.Replace.slot_acceptance`); 0 turns this off.
        progress: show a tqdm bar on stderr (``rounds`` x ``len(parsed)`` captions simulated).
        mix_calibration: also run :func:`calibrate_mix` on ``parsed`` (before the simulation, so
            that it corrupts with the build's mix, and after, with the final factors).
        num_proc: processes to simulate in (forked, :mod:`iccc._workers`; each keeps its part of
            the captions for every round): the same factors with any number.
        corruptor_config: passed to :class:`iccc.Corruptor` (operations, kinds, ...).

    Returns:
        ``{kind: {lemma: factor}}`` plus, with ``by_context``, ``{"kind|key": {lemma: factor}}``
        and the mix calibration's table (all stored as ``base.balance``).

    >>> import iccc
    >>> parsed = iccc.parse(["A red car.", "A blue car.", "A red bus.", "A green bus."])
    >>> base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    >>> factors = balance_insertions(base, parsed, rounds=1)
    >>> sorted(factors) == sorted(base.balance)
    True
    >>> all(v > 0 for name, f in factors.items() if not name.startswith("directions") for v in f.values())
    True
    """
    seed = check_non_negative("seed", seed)  # refused before any work (a negative seed used to hang)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"`rounds` should be a positive integer, got {rounds!r}.")
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"`strength` should be in (0, 1], got {strength!r}.")
    if isinstance(removal_strength, bool) or not isinstance(removal_strength, (int, float)) \
            or not 0.0 <= removal_strength <= 1.0:
        raise ValueError(f"`removal_strength` should be in [0, 1], got {removal_strength!r}.")
    if not isinstance(progress, bool):
        raise TypeError(f"`progress` should be True or False, got {progress!r}.")
    if not isinstance(mix_calibration, bool):
        raise TypeError(f"`mix_calibration` should be True or False, got {mix_calibration!r}.")
    parsed = list(parsed)
    groups = list(groups) if groups is not None else [None] * len(parsed)
    if len(groups) != len(parsed):
        raise ValueError(f"`groups` has {len(groups)} items but `parsed` has {len(parsed)}.")
    same_category = corruptor_config.get("same_category", True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=rounds * len(parsed), desc="Balancing insertions", unit=" captions")
    with _sample_workers(base, parsed, groups, num_proc) as pool:
        if mix_calibration:
            _calibrate(base, pool, same_category)
        factors: dict[str, dict[str, float]] = {k: dict(v) for k, v in base.balance.items()}
        for _ in range(rounds):
            base.balance = factors
            inserted: Counter = Counter()
            replaced: Counter = Counter()
            inserted_ctx: Counter = Counter()
            replaced_ctx: Counter = Counter()
            for part in pool.map(_simulate, dict(base.balance), corruptor_config, seed, by_context):
                for total, counts in zip((inserted, replaced, inserted_ctx, replaced_ctx), part):
                    total.update(counts)
            if bar is not None:
                bar.update(len(parsed))
            updated: dict[str, dict[str, float]] = {k: dict(v) for k, v in factors.items()}
            # sorted: the factors do not depend on the order the workers' counts came in
            for counts_in, counts_out in ((inserted, replaced), (inserted_ctx, replaced_ctx)):
                for kind, lemma in sorted(set(counts_in) | set(counts_out)):
                    ratio = ((counts_out[(kind, lemma)] + 1) / (counts_in[(kind, lemma)] + 1)) ** strength
                    value = updated.setdefault(kind, {}).get(lemma, 1.0) * ratio
                    updated[kind][lemma] = float(min(MAX_FACTOR, max(1.0 / MAX_FACTOR, value)))
            if removal_strength > 0:
                for kind, lemma in sorted(set(inserted) | set(replaced)):
                    ratio = ((inserted[(kind, lemma)] + 1) / (replaced[(kind, lemma)] + 1)) ** removal_strength
                    table = updated.setdefault(removal_table(kind), {})
                    table[lemma] = float(min(MAX_FACTOR, max(1.0 / MAX_FACTOR, table.get(lemma, 1.0) * ratio)))
            factors = updated
        base.balance = factors
        if mix_calibration:  # again, with the final factors (they weigh how plausible a swap is)
            _calibrate(base, pool, same_category)
    if bar is not None:
        bar.close()
    return dict(base.balance)
