"""The phenomena the compositionality benchmarks test, and which iccc edit makes each.

VALSE, VL-CheckList, SugarCrepe, ARO and CREPE judge a model on a fixed set of phenomena; every
iccc edit (an operation on a concept kind) belongs to one of them (:data:`PHENOMENA`). The share
of each in a build is set by the operation mix (:data:`iccc.corrupt.DEFAULT_MIX`, ``mix=``) and
reported by :func:`iccc.build_summary` (``"phenomena"``); :func:`mix_table` shows what a mix asks
for, phenomenon by phenomenon, so a user can match a benchmark's mix.

>>> phenomenon_of("swap", "attribute")
'binding swap'
>>> [row["operation"] for row in mix_table()][:3]
['replace', 'swap', 'add']
"""

from __future__ import annotations

from typing import Mapping, Sequence

#: ``{phenomenon: ((operation, kind), ...)}``, in the order the benchmarks list them.
PHENOMENA: dict[str, tuple[tuple[str, str], ...]] = {
    "object": (("replace", "noun"), ("replace", "entity")),
    "attribute": (("replace", "attribute"),),
    "action": (("replace", "verb"),),
    "relation": (("replace", "relation"),),
    "count": (("replace", "count"),),
    "number": (("number", "entity"),),
    "existence": (("existence", "entity"), ("existence", "relation")),
    "object swap": (("swap", "noun"),),
    "binding swap": (("swap", "attribute"),),
    "actant swap": (("swap", "relation"),),
    "addition": (("add", "attribute"), ("add", "entity")),
}
_OF = {edit: name for name, edits in PHENOMENA.items() for edit in edits}


def phenomenon_of(operation: str, kind: str) -> str:
    """The phenomenon of an edit (``"{operation} {kind}"`` itself for an edit not listed)."""
    if not isinstance(operation, str) or not isinstance(kind, str):
        raise TypeError(f"`operation` and `kind` should be strings, got {operation!r} and {kind!r}.")
    return _OF.get((operation, kind), f"{operation} {kind}")


def phenomena_counts(edits: Mapping[str, int]) -> dict[str, int]:
    """``{phenomenon: count}`` from ``{"operation kind": count}`` (a summary's ``edits``), in
    :data:`PHENOMENA` order."""
    out: dict[str, int] = {}
    for key, n in edits.items():
        op, _, kind = str(key).partition(" ")
        name = phenomenon_of(op, kind)
        out[name] = out.get(name, 0) + int(n)
    order = {name: k for k, name in enumerate(PHENOMENA)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def mix_table(operations: Sequence[str] | None = None, **shares) -> list[dict]:
    """One row per operation of a mix: ``operation``, ``share`` (of the corrections, as
    :func:`iccc.corrupt.requested_shares` gives it for ``operations`` and ``p_swap`` / ``p_add`` /
    ``mix`` in ``shares``) and the ``phenomena`` it makes. Defaults: :data:`iccc.corrupt.DEFAULT_MIX`."""
    from .corrupt import DEFAULT_OPERATIONS, requested_shares

    requested = requested_shares(DEFAULT_OPERATIONS if operations is None else operations, **shares)
    return [{"operation": op, "share": share,
             "phenomena": [name for name, edits in PHENOMENA.items() if any(o == op for o, _ in edits)]}
            for op, share in requested.items()]
