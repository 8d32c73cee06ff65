"""Arrow glue of the Ray stages: the ``concepts`` column type, reading a column as Python values,
and setting columns of a ``pyarrow.Table`` batch. The stages run on ``batch_format="pyarrow"``
batches, so every column they write has a declared type (the layout of :func:`iccc.add_concepts`),
never one inferred per block.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

#: Field types of one concept, in :class:`iccc.Concept` field order (``concept_features`` in Arrow).
CONCEPT_FIELDS = (
    ("kind", "string"), ("text", "string"), ("start", "int32"), ("end", "int32"), ("lemma", "string"),
    ("tag", "string"), ("tags", "string"), ("dep", "string"), ("head", "int32"), ("subj", "int32"),
    ("obj", "int32"), ("symmetric", "bool"),
)


def concepts_type():
    """The Arrow type of a ``concepts`` column: ``list<struct<kind: string, text: string, start: int32, ...>>``,
    the type ``datasets`` gives :func:`iccc._schema.concept_features`.

    >>> str(concepts_type().value_type.field("start").type)
    'int32'
    """
    import pyarrow as pa

    return pa.list_(pa.struct([(name, getattr(pa, "bool_" if kind == "bool" else kind)()) for name, kind in
                               CONCEPT_FIELDS]))


def column_values(table, name: str) -> list:
    """Column ``name`` of a ``pyarrow.Table`` as Python values; a JSON column (``datasets``' ``Json``
    feature, Arrow's ``arrow.json`` extension type, as :func:`iccc.dataset.load_captions` writes a
    caption column of mixed types) is decoded, so its numbers, lists and ``None`` reach the
    parser as the values they are, as in a local build.

    >>> import pyarrow as pa
    >>> column_values(pa.table({"a": [1, None]}), "a")
    [1, None]
    """
    if name not in table.column_names:
        raise KeyError(f"Column {name!r} not found. Available: {sorted(table.column_names)}.")
    column = table.column(name)
    values = column.to_pylist()
    if getattr(column.type, "extension_name", None) == "arrow.json":
        return [None if v is None else json.loads(v) for v in values]
    return values


def set_columns(table, values: Mapping[str, Any], types: Mapping[str, Any]):
    """``table`` with the columns ``values`` (lists) set, replacing columns of the same name, each
    of the Arrow type ``types[name]``."""
    import pyarrow as pa

    for name, column in values.items():
        array = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else pa.array(column, type=types[name])
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table
