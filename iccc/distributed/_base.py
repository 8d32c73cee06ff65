"""The concept base of a Ray dataset: partial bases per block, merged on the driver.

Each block of the parsed dataset is counted into its own :class:`iccc.ConceptBase` (a stateless
``map_batches`` task per block, one row out: the partial base as JSON, the block's smallest row
key, and the block's rows of the balance sample). The driver merges the partials with
:meth:`iccc.ConceptBase.merge`, in the order of their smallest row key, pairwise as a tree (each
level copies the data once, not once per block), and runs the balance simulation
(:func:`iccc.balance.balance_insertions`) on the sample, as a local build does.

The counts never depend on how the rows are split into blocks. A base also remembers the order in
which lemmas were first seen (it decides ties between lemmas written alike in the balance
simulation): merging blocks of consecutive row keys in key order gives the order of one pass over
the rows, so with the row index as the id column the base is the one :func:`iccc.build_dataset`
builds, key for key. The balance sample is the rows whose key is a multiple of
``ceil(rows / balance_rows)`` and that have concepts, at most ``balance_rows`` of them, smallest
keys first: with row-index keys, the local build's even sample; with content keys, a uniform
random one, the same for any partitioning.
"""

from __future__ import annotations

import json
from math import ceil
from typing import Sequence

from .. import columns
from .._schema import ParsedCaption
from ..base import ConceptBase
from ._arrow import column_values
from ._keys import batch_keys
from ._options import check_columns, check_dataset, check_positive

#: Captions the balance simulation runs on at most (as in a local build).
BALANCE_ROWS = 50_000
# The columns of a partial: its smallest row key, its rows, the base (JSON), the sample (JSON).
_FIRST, _ROWS, _BASE, _SAMPLE = "first_key", "rows", "base", "sample"


def partial_base(table, *, caption_column: str, group_column: str | None, id_column: str | None,
                 stride: int, balance: bool):
    """The partial base of one block (a ``pyarrow.Table``) as a one-row table (see the module doc).

    >>> import iccc, pyarrow as pa
    >>> parsed = iccc.distributed.ParserActor()(pa.table({"caption": ["A red car.", "A red bus."], "row": [0, 1]}))
    >>> out = partial_base(parsed, caption_column="caption", group_column=None, id_column="row", stride=1,
    ...                    balance=True)
    >>> out.column("rows").to_pylist(), len(json.loads(out.column("sample")[0].as_py()))
    ([2], 2)
    """
    import pyarrow as pa

    names = [caption_column, columns.CONCEPTS] + ([group_column] if group_column else []) + \
        ([id_column] if id_column else [])
    batch = {name: column_values(table, name) for name in dict.fromkeys(names)}
    keys = batch_keys(batch, caption_column=caption_column, group_column=group_column, id_column=id_column)
    captions, found = batch[caption_column], batch[columns.CONCEPTS]
    groups = batch[group_column] if group_column else [None] * len(captions)
    base = ConceptBase()
    sample = []
    for key, text, concepts, group in zip(keys.tolist(), captions, found, groups):
        row = {"text": text if isinstance(text, str) else "", "concepts": concepts or ()}
        base.add(row, group=group)  # what iccc.dataset.concept_base counts, row for row
        if balance and concepts and key % stride == 0:
            sample.append((key, row["text"], concepts, group))
    first = int(keys.min()) if len(keys) else -1
    return pa.table({_FIRST: pa.array([first], pa.int64()), _ROWS: pa.array([len(keys)], pa.int64()),
                     _BASE: pa.array([json.dumps(base.to_json(), ensure_ascii=False)], pa.large_string()),
                     _SAMPLE: pa.array([json.dumps(sample, ensure_ascii=False)], pa.large_string())})


def merge_bases(bases: Sequence[ConceptBase]) -> ConceptBase:
    """The bases merged in the order given, pairwise as a tree (``((a+b)+(c+d))``: the same base as
    ``a+b+c+d``, with ``log2(n)`` copies instead of ``n``).

    >>> import iccc
    >>> a, b, c = (iccc.ConceptBase.from_parsed(iccc.parse([t])) for t in ("A red car.", "A dog.", "A red bus."))
    >>> merge_bases([a, b, c]) == iccc.ConceptBase.from_parsed(iccc.parse(["A red car.", "A dog.", "A red bus."]))
    True
    """
    bases = list(bases)
    if not bases:
        return ConceptBase()
    for b in bases:
        if not isinstance(b, ConceptBase):
            raise TypeError(f"`bases` should hold iccc.ConceptBase objects, got {type(b).__name__}: {b!r:.80}.")
    while len(bases) > 1:
        bases = [bases[k].merge(bases[k + 1]) if k + 1 < len(bases) else bases[k] for k in range(0, len(bases), 2)]
    return bases[0]


def concept_base(
    parsed,
    *,
    caption_column: str = columns.CAPTION,
    group_column: str | None = None,
    id_column: str | None = None,
    balance: bool = True,
    balance_rows: int = BALANCE_ROWS,
    seed: int = 0,
    corrupt_config: dict | None = None,
    rows: int | None = None,
) -> ConceptBase:
    """The concept base of a parsed Ray dataset (with ``concepts``, e.g. from
    :func:`iccc.distributed.add_concepts`): partial bases per block, merged on the driver, balanced
    on an even sample (see the module docstring). Runs the dataset (materialise it first if it is
    used again: ``parsed = parsed.materialize()``).

    Args:
        parsed: the parsed ``ray.data.Dataset``.
        caption_column, group_column: the caption and image-id columns (as in :func:`iccc.build_dataset`).
        id_column: the integer row-id column (``None``: content keys of caption + image id).
        balance: run :func:`iccc.balance.balance_insertions` on the sample.
        balance_rows: the sample's size at most.
        seed: the balance simulation's seed.
        corrupt_config: passed to the simulation's :class:`iccc.Corruptor` (operations, kinds, ...).
        rows: the number of rows, when known (else ``parsed.count()`` is asked).

    Returns:
        The :class:`iccc.ConceptBase`.
    """
    check_dataset(parsed, "parsed")
    check_columns(parsed, caption_column=caption_column, group_column=group_column, id_column=id_column)
    if not isinstance(balance, bool):
        raise TypeError(f"`balance` should be True or False, got {balance!r}.")
    balance_rows = check_positive("balance_rows", balance_rows)
    total = parsed.count() if rows is None else rows
    stride = max(1, ceil(total / balance_rows))
    parts = parsed.map_batches(partial_base, fn_kwargs=dict(caption_column=caption_column, group_column=group_column,
                                                            id_column=id_column, stride=stride, balance=balance),
                               batch_format="pyarrow", batch_size=None)
    found: list[tuple[int, ConceptBase]] = []
    sample: list = []
    for table in parts.iter_batches(batch_format="pyarrow", batch_size=None):
        for first, n, text, rows_json in zip(*(table.column(c).to_pylist() for c in (_FIRST, _ROWS, _BASE, _SAMPLE))):
            if n:
                found.append((first, ConceptBase.from_json(json.loads(text))))
                sample.extend(json.loads(rows_json))
    found.sort(key=lambda item: item[0])
    base = merge_bases([b for _, b in found])
    if balance and sample and base.kinds():
        from ..balance import balance_insertions

        sample.sort(key=lambda item: item[0])
        sample = sample[:balance_rows]
        captions = [ParsedCaption.from_dict({"text": text, "concepts": concepts}) for _, text, concepts, _ in sample]
        balance_insertions(base, captions, groups=[group for *_, group in sample], seed=seed,
                           **(corrupt_config or {}))
    return base
