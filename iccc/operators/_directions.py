"""Direction balance: as many edits one way as the other, so that the direction gives nothing away.

Some operators edit in two directions — :class:`~iccc.operators.Number` makes plurals and
singulars, :class:`~iccc.operators.Existence` negates ("with" -> "without") and affirms — and
captions offer one direction far more often than the other (most COCO entities are singular, "with"
is thirty times as common as "without"). Left alone, nearly every number negative would be a
plural made from a singular, and a text-only model learns "the plural one is the corrupted one".

The mix calibration (:func:`iccc.balance.calibrate_mix`) counts, on its sample, how many slots of
each direction of each kind (:meth:`iccc.operators.Operator.direction`) every caption offers and
solves, for each direction, the share of captions that keep it so that the edits drawn go about
as often one way as the other (:func:`solve`: a caption offering both draws among its kept slots
uniformly, as :meth:`~iccc.operators.Operator.draw` does); the shares go to
``base.balance["directions"]`` (keys ``"group:direction"``, a group being ``"operator|kind"`` or,
finer, ``"operator|kind|noun"``: :func:`group_of`), the captions offering each
direction to ``base.balance["directions:captions"]``. An operator then keeps a caption's slots of that direction (all or
none of them, so that the share of *captions* offering it comes out right) when a stable hash of
the caption's text, the group and the direction, uniform in [0, 1), is below the share
(:func:`thin`): a property of the caption, the same in every process, epoch and batching, and
seen by the mix calibration's feasibility count (which runs after the shares are set), so the
operation's rate is solved with the thinning included. A direction that no sampled caption
offers leaves the others nearly nothing, on purpose: one-way edits would give themselves away. A base
without the table keeps every slot (as before this table existed).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from typing import Iterable, Mapping, Sequence

import numpy as np

#: The table of ``base.balance`` that holds the direction shares.
DIRECTIONS_TABLE = "directions"
#: The BLAKE2b personalisation of :func:`keep_value`.
PERSON = b"iccc-direction1"


def direction_key(operator: str, kind: str, direction: str) -> str:
    """The key of a direction in :data:`DIRECTIONS_TABLE`: ``"number|entity:plural"``."""
    return f"{operator}|{kind}:{direction}"


def keep_value(text: str, group: str, direction: str) -> float:
    """A value uniform in [0, 1) that depends only on the caption's text, the group and the direction."""
    digest = hashlib.blake2b(f"{group}\0{direction}\0{text}".encode("utf-8", "surrogatepass"),
                             digest_size=8, person=PERSON).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


#: Iterations of the share solver (a fixed point over a few caption signatures).
ITERATIONS = 200


def _expected_draws(signatures: Mapping[tuple, float], share: np.ndarray) -> np.ndarray:
    """Expected edits in each direction when each caption keeps each direction it offers with
    probability ``share`` and its edit is drawn uniformly among its kept slots. A signature is
    the caption's slot count per direction (its ``n`` captions are ``signatures[sig]``)."""
    n_dir = len(share)
    draws = np.zeros(n_dir)
    for sig, n in signatures.items():
        counts = np.asarray(sig, dtype=float)
        offered = np.flatnonzero(counts > 0)
        for kept in itertools.product((False, True), repeat=len(offered)):
            on = offered[list(kept)]
            if len(on) == 0:
                continue
            p = float(np.prod([share[d] if k else 1.0 - share[d] for d, k in zip(offered, kept)]))
            draws[on] += n * p * counts[on] / counts[on].sum()
    return draws


#: Edits of each direction allowed however rare the other direction is (a smoothing: a group seen
#: a few times one way and never the other keeps about this many edits of that way).
FLOOR = 0.3


def solve(signatures: Mapping[tuple, float]) -> np.ndarray:
    """The share of captions that keep each direction, the largest 1, so that every direction is
    drawn about as often as the rarest one, or :data:`FLOOR` times when that is more."""
    signatures = dict(sorted(signatures.items()))  # the same sums in any input order
    n_dir = len(next(iter(signatures))) if signatures else 0
    share = np.ones(n_dir)
    for _ in range(ITERATIONS):
        draws = _expected_draws(signatures, share)
        target = max(float(draws.min()), FLOOR)
        new = np.minimum(1.0, share * target / np.maximum(draws, 1e-12))
        new /= new.max()
        if np.abs(new - share).max() < 1e-6:
            break
        share = new
    return share


def group_of(op, parsed, slot) -> str:
    """The group a slot is balanced in: ``"operator|kind"``, or ``"operator|kind|sub"`` where the
    operator balances finer (:meth:`~iccc.operators.Operator.direction_group`: the noun, for
    number), ``"operator|*|sub"`` where such a group spans the kinds
    (:attr:`~iccc.operators.Operator.directions_span_kinds`: the construction, for existence)."""
    sub = op.direction_group(parsed, slot)
    if sub is None:
        return f"{op.name}|{slot.kind}"
    return f"{op.name}|{'*' if op.directions_span_kinds else slot.kind}|{sub}"


def count(operators: Iterable, parsed: Sequence, index, groups: Sequence | None = None) -> dict[str, dict[tuple, float]]:
    """``{group: {signature: captions}}`` for every group (:func:`group_of`) of each operator that
    has directions (:attr:`~iccc.operators.Operator.directions`): a caption's signature is its
    number of slots in each direction, in the order of ``op.directions``. Each ``operator|kind``
    is counted as a whole too (the shares of a finer group the sample never saw).

    ``groups`` (image ids parallel to ``parsed``, or ``None``) leaves out the slots the sibling
    guard rules out (:meth:`~iccc.operators.Operator.siblings_allow`): the guard mostly blocks
    one direction ("two dogs" -> "a dog" where a sibling says "a dog"), so counting the slots it
    blocks would balance edits that are never made and tip the made ones to the other way."""
    if groups is not None and len(groups) != len(parsed):
        raise ValueError(f"`groups` has {len(groups)} items but `parsed` has {len(parsed)}.")
    out: dict[str, Counter] = {}
    for op in operators:
        if not op.directions:
            continue
        place = {d: k for k, d in enumerate(op.directions)}
        for kind in op.kinds:
            out.setdefault(f"{op.name}|{kind}", Counter())
        for k, p in enumerate(parsed):
            sigs: dict[str, list[int]] = {}
            group = None if groups is None else groups[k]
            for s in op.slots(p, index):
                d = place.get(op.direction(p, s))
                if d is None or (group is not None and not op.siblings_allow(p, s, index, group)):
                    continue
                for g in dict.fromkeys((f"{op.name}|{s.kind}", group_of(op, p, s))):
                    sigs.setdefault(g, [0] * len(place))[d] += 1
            for g, v in sigs.items():
                out.setdefault(g, Counter())[tuple(v)] += 1
    return {g: {sig: float(n) for sig, n in c.items()} for g, c in out.items()}


def tables(operators: Iterable, signatures: Mapping[str, Mapping[tuple, float]]) -> tuple[dict, dict]:
    """``(shares, captions)``: the share of captions keeping each direction of each group
    (:func:`solve`) and the captions offering it, keyed ``"group:direction"`` (what
    ``base.balance`` stores; ``captions`` for the ``operator|kind`` groups only). A finer group
    lists only the directions it thins (one at least, so that it counts as seen).

    >>> from iccc.operators import Number
    >>> shares, captions = tables([Number()], {"number|entity": {(1, 0): 80.0, (0, 1): 20.0}})
    >>> shares["number|entity:plural"], shares["number|entity:singular"], captions["number|entity:plural"]
    (0.25, 1.0, 80.0)
    """
    by_name = {op.name: op for op in operators}
    shares_out, captions = {}, {}
    for group, sigs in signatures.items():
        dirs = by_name[group.split("|", 1)[0]].directions
        share = solve(sigs) if sigs else np.ones(len(dirs))
        whole = group.count("|") == 1
        if not whole and share.min() >= 1.0:
            share[0] = 1.0 - 1e-9  # a seen group keeps an entry (rounds to 1.0)
        for k, d in enumerate(dirs):
            if whole or share[k] < 1.0:  # a finer group lists the directions it thins (the others keep all)
                shares_out[f"{group}:{d}"] = round(float(share[k]), 4)
            if whole:
                captions[f"{group}:{d}"] = float(sum(n for sig, n in sigs.items() if sig[k] > 0))
    return shares_out, captions


def thin(op, parsed, slots: list, table: Mapping[str, float] | None) -> list:
    """The slots of ``op`` kept under the direction shares ``table`` (all of them without one):
    a caption keeps all or none of a group's slots of one direction; a group the table lacks
    takes its ``operator|kind`` share."""
    if not table or not slots:
        return slots
    text = parsed.text
    kept, decided = [], {}
    for s in slots:
        d = op.direction(parsed, s)
        g = group_of(op, parsed, s)
        keep = decided.get((g, d))
        if keep is None:
            share = table.get(f"{g}:{d}")
            if share is None:  # a finer group lists only the directions it thins
                seen = any(f"{g}:{e}" in table for e in op.directions)
                share = 1.0 if seen else table.get(direction_key(op.name, s.kind, d), 1.0)
            keep = decided[g, d] = share >= 1.0 or keep_value(text, g, d) < share
        if keep:
            kept.append(s)
    return kept
