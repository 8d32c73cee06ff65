"""Parsing on Ray: a stateful actor per worker, the spaCy pipeline loaded once in each.

:class:`ParserActor` is the callable class ``Dataset.map_batches`` runs in an actor pool; it
wraps :class:`iccc.parsing.ConceptParser` (the function :func:`iccc.add_concepts` maps), so a
caption gets the same ``concepts`` and ``parse_status`` here as locally, in the same Arrow layout.
"""

from __future__ import annotations

from typing import Any

from .. import columns
from ._arrow import column_values, concepts_type, set_columns
from ._options import (
    BATCH_SIZE,
    MAX_RESTARTS,
    MAX_TASK_RETRIES,
    actor_args,
    check_columns,
    check_dataset,
    check_nlp,
    check_positive,
    map_actors,
)


class ParserActor:
    """Adds ``concepts`` and ``parse_status`` to ``pyarrow.Table`` batches (one pipeline per actor).

    Args:
        nlp: pipeline name or folder (``None``: the default pipeline), loaded in ``__init__``.
        caption_column: the caption column.
        gpu: call ``spacy.require_gpu()`` before loading (transformer pipelines on GPU actors).

    >>> import pyarrow as pa
    >>> out = ParserActor()(pa.table({"caption": ["A red bus.", None]}))
    >>> out.column("parse_status").to_pylist(), out.column("concepts").type == concepts_type()
    (['ok', 'missing'], True)
    """

    def __init__(self, nlp: Any = None, *, caption_column: str = columns.CAPTION, gpu: bool = False):
        from ..parsing import ConceptParser

        if gpu:
            import spacy

            spacy.require_gpu()
        self.caption_column = caption_column
        self.parser = ConceptParser(check_nlp(nlp), column=caption_column)

    def __call__(self, table):
        import pyarrow as pa

        found = self.parser(column_values(table, self.caption_column))
        return set_columns(table, found, {columns.CONCEPTS: concepts_type(), columns.PARSE_STATUS: pa.string()})


def add_concepts(
    ds,
    *,
    caption_column: str = columns.CAPTION,
    nlp: Any = None,
    batch_size: int = BATCH_SIZE,
    concurrency: int | tuple[int, int] = 1,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    max_restarts: int = MAX_RESTARTS,
    max_task_retries: int = MAX_TASK_RETRIES,
):
    """:func:`iccc.add_concepts` on a Ray dataset: a lazy ``map_batches`` over a pool of
    :class:`ParserActor` actors that adds ``concepts`` and ``parse_status`` to every row.

    Args:
        ds: a ``ray.data.Dataset`` with a caption column.
        caption_column: the caption column.
        nlp: spaCy pipeline name or folder (each actor loads it once).
        batch_size: rows per batch.
        concurrency: actors (an int) or ``(min, max)`` for an autoscaling pool.
        num_cpus, num_gpus: resources per actor; ``num_gpus`` > 0 runs the pipeline on the GPU
            (``spacy.require_gpu()``: for ``en_core_web_trf``).
        max_restarts, max_task_retries: how often a crashed actor is restarted and its batch retried.

    Returns:
        The lazy ``ray.data.Dataset`` (nothing runs until it is consumed).
    """
    check_dataset(ds)
    check_columns(ds, caption_column=caption_column)
    kwargs = actor_args(concurrency, num_cpus, num_gpus, max_restarts, max_task_retries)
    return map_actors(ds, ParserActor, fn_constructor_kwargs=dict(nlp=check_nlp(nlp), caption_column=caption_column,
                                                                   gpu=bool(num_gpus)),
                      batch_format="pyarrow", batch_size=check_positive("batch_size", batch_size), **kwargs)
