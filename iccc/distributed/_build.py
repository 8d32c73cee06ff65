"""Corruption and sample building on Ray: actors that hold the concept base once each.

The base travels once: the driver puts the :class:`~iccc.dataset._samples.SampleBuilder` (with its
base) in the object store (``ray.put``), and each actor of the pool fetches it in ``__init__`` and
keeps it, with the corruption engine built on it, for every batch it is given. The batch work is
the library's own: :meth:`SampleBuilder.build` (what :func:`iccc.build_dataset` maps) and
:func:`iccc.corrupt` (what ``Dataset.map(iccc.corrupt)`` runs), with each row's position replaced
by its row key (:mod:`iccc.rowkeys`), so a row draws the same whatever block it lands in.

:func:`build_dataset` chains the stages: parse (:func:`iccc.distributed.add_concepts`), the base
(:func:`iccc.distributed.concept_base`, when none is given: the parsed rows are materialised
between the two passes), then :func:`build_samples`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .. import columns
from ..base import ConceptBase
from ..corrupt import DEFAULT_OPERATIONS, DEFAULT_P_ADD, DEFAULT_P_SWAP, RECORD_COLUMNS, STATUS_COLUMN
from ..dataset._builder import _check_operations
from ..dataset._prompts import DEFAULT_TARGET_FORMAT
from ..dataset._samples import DEFAULT_P_CORRECTION, TARGET, SampleBuilder, output_columns
from ._arrow import column_values, set_columns
from ._base import BALANCE_ROWS, concept_base
from ._keys import batch_keys
from ._options import (
    BATCH_SIZE,
    MAX_RESTARTS,
    MAX_TASK_RETRIES,
    actor_args,
    check_columns,
    check_dataset,
    check_positive,
    map_actors,
)
from ._parse import add_concepts

#: Columns taken as the image id when ``group_column="auto"`` (as in :func:`iccc.build_dataset`).
GROUP_COLUMNS = (columns.IMAGE_ID, "cocoid")
_INT_RECORD = frozenset(("start", "end", "new_start", "new_end", "other_start", "other_end"))


def _fetch(value):
    import ray

    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


class SampleActor:
    """Adds the sample columns of :func:`iccc.build_dataset` to ``pyarrow.Table`` batches.

    Args:
        builder: the :class:`~iccc.dataset._samples.SampleBuilder` (or an object-store reference
            to it), fetched once per actor.
        id_column: the integer row-id column (``None``: content keys of caption + image id).
        hidden: columns to drop from the output (the parse's ``concepts`` and ``parse_status``).
        image_column: an image column to rename ``image`` (as a local build does), or ``None``.
        drop_unusable: leave out rows without a usable caption.
    """

    def __init__(self, builder, *, id_column: str | None = None, hidden: Sequence[str] = (),
                 image_column: str | None = None, drop_unusable: bool = False):
        builder = _fetch(builder)
        if not isinstance(builder, SampleBuilder):
            raise TypeError(f"`builder` should be a SampleBuilder, got {type(builder).__name__}.")
        self.builder = builder
        self.id_column = id_column
        self.hidden = tuple(hidden)
        self.image_column = image_column
        self.drop_unusable = drop_unusable

    def __call__(self, table):
        import pyarrow as pa

        builder = self.builder
        names = builder.input_columns + ([self.id_column] if self.id_column else [])
        batch = {name: column_values(table, name) for name in dict.fromkeys(names)}
        keys = batch_keys(batch, caption_column=builder.caption_column, group_column=builder.group_column,
                          id_column=self.id_column)
        out = builder.build(batch, keys.tolist())
        table = table.drop_columns([c for c in self.hidden if c in table.column_names])
        table = set_columns(table, out, dict.fromkeys(out, pa.string()))
        if self.image_column is not None and self.image_column in table.column_names:
            table = table.rename_columns([columns.IMAGE if c == self.image_column else c for c in table.column_names])
        if self.drop_unusable:
            table = table.filter(pa.array([t is not None for t in out[TARGET]], pa.bool_()))
        return table


class CorruptActor:
    """Adds the columns of ``Dataset.map(iccc.corrupt, ...)`` (the record and ``corrupt_status``).

    Args:
        concepts: the :class:`iccc.ConceptBase` (or an object-store reference to it).
        id_column: the integer row-id column (``None``: content keys of caption + image id).
        seed, epoch, caption_column, group_column, **config: passed to :func:`iccc.corrupt`.
    """

    def __init__(self, concepts, *, id_column: str | None = None, seed: int = 0, epoch: int = 0,
                 caption_column: str = columns.CAPTION, group_column: str | None = None, **config):
        self.concepts = _fetch(concepts)
        if not isinstance(self.concepts, ConceptBase):
            raise TypeError(f"`concepts` should be an iccc.ConceptBase, got {type(self.concepts).__name__}.")
        self.id_column = id_column
        self.kwargs = dict(seed=seed, epoch=epoch, caption_column=caption_column, group_column=group_column, **config)

    def __call__(self, table):
        import pyarrow as pa

        from ..corrupt import corrupt

        caption_column, group_column = self.kwargs["caption_column"], self.kwargs["group_column"]
        names = [caption_column, columns.CONCEPTS, columns.PARSE_STATUS] + ([group_column] if group_column else []) \
            + ([self.id_column] if self.id_column else [])
        batch = {name: column_values(table, name) for name in dict.fromkeys(names) if name in table.column_names}
        keys = batch_keys(batch, caption_column=caption_column, group_column=group_column, id_column=self.id_column)
        out = corrupt(batch, keys.tolist(), concepts=self.concepts, **self.kwargs)
        types = {name: pa.int64() if name in _INT_RECORD else pa.string() for name in (*RECORD_COLUMNS, STATUS_COLUMN)}
        return set_columns(table, out, types)


def _check_common(ds, caption_column, group_column, id_column, batch_size):
    check_dataset(ds)
    check_positive("batch_size", batch_size)
    for name, value in (("caption_column", caption_column), ("group_column", group_column),
                        ("id_column", id_column)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"`{name}` should be a column name (a non-empty string) or None, got {value!r}.")
    check_columns(ds, caption_column=caption_column, group_column=group_column, id_column=id_column)


def build_samples(
    parsed,
    concepts: ConceptBase,
    *,
    caption_column: str = columns.CAPTION,
    image_column: str | None = columns.IMAGE,
    group_column: str | None = None,
    id_column: str | None = None,
    hidden: Sequence[str] = (),
    drop_unusable: bool = False,
    batch_size: int = BATCH_SIZE,
    concurrency: int | tuple[int, int] = 1,
    num_cpus: float | None = None,
    max_restarts: int = MAX_RESTARTS,
    max_task_retries: int = MAX_TASK_RETRIES,
    actor_class: type = SampleActor,
    **sampling,
):
    """The sample stage alone: a parsed Ray dataset (``concepts`` and ``parse_status``) and a base in,
    the rows of :func:`iccc.build_dataset` out (lazy ``map_batches`` over :class:`SampleActor` actors).

    Args:
        parsed: the parsed ``ray.data.Dataset``.
        concepts: the :class:`iccc.ConceptBase` (put in the object store once).
        caption_column, image_column, group_column: as in :func:`iccc.build_dataset` (``group_column``
            is a column name or ``None`` here).
        id_column: the integer row-id column (``None``: content keys of caption + image id).
        hidden: columns to drop from the output.
        drop_unusable: leave out rows without a usable caption.
        batch_size, concurrency, num_cpus, max_restarts, max_task_retries: the actor pool.
        actor_class: :class:`SampleActor` or a subclass of it.
        **sampling: the :class:`~iccc.dataset._samples.SampleBuilder` settings (``seed``, ``epoch``,
            ``p_correction``, ``p_swap``, ``p_correct_caption``, ``target_format``, prompts,
            ``operations``, ``kinds``, ``p_add``, ``mix``).

    Returns:
        The lazy ``ray.data.Dataset``.
    """
    import ray

    _check_common(parsed, caption_column, group_column, id_column, batch_size)
    if not isinstance(concepts, ConceptBase):
        raise TypeError(f"`concepts` should be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
    if not (isinstance(actor_class, type) and issubclass(actor_class, SampleActor)):
        raise TypeError(f"`actor_class` should be SampleActor or a subclass of it, got {actor_class!r}.")
    builder = SampleBuilder(concepts, caption_column=caption_column, group_column=group_column, **sampling)
    rename = image_column if image_column not in (None, columns.IMAGE) else None
    return map_actors(
        parsed, actor_class, fn_constructor_args=(ray.put(builder),),
        fn_constructor_kwargs=dict(id_column=id_column, hidden=tuple(hidden), image_column=rename,
                                   drop_unusable=bool(drop_unusable)),
        batch_format="pyarrow", batch_size=batch_size,
        **actor_args(concurrency, num_cpus, None, max_restarts, max_task_retries))


def corrupt(
    parsed,
    concepts: ConceptBase,
    *,
    seed: int = 0,
    epoch: int = 0,
    caption_column: str = columns.CAPTION,
    group_column: str | None = None,
    id_column: str | None = None,
    batch_size: int = BATCH_SIZE,
    concurrency: int | tuple[int, int] = 1,
    num_cpus: float | None = None,
    max_restarts: int = MAX_RESTARTS,
    max_task_retries: int = MAX_TASK_RETRIES,
    **config,
):
    """``Dataset.map(iccc.corrupt, batched=True, with_indices=True, ...)`` on a parsed Ray dataset:
    adds the corruption record columns and ``corrupt_status`` (lazy, over :class:`CorruptActor`
    actors). Rows are keyed by ``id_column`` (the row index there gives the local map's rows) or
    by content keys. ``config``: ``operations``, ``kinds``, ``p_swap``, ``p_add``, ``same_category``.
    """
    import ray

    from ..streams import check_non_negative

    _check_common(parsed, caption_column, group_column, id_column, batch_size)
    if not isinstance(concepts, ConceptBase):
        raise TypeError(f"`concepts` should be an iccc.ConceptBase, got {type(concepts).__name__}: {concepts!r:.80}.")
    kwargs = dict(id_column=id_column, seed=check_non_negative("seed", seed),
                  epoch=check_non_negative("epoch", epoch), caption_column=caption_column,
                  group_column=group_column, **config)
    from ..corrupt import Corruptor

    Corruptor(concepts, **config)  # a bad configuration fails here, with its message, not in a worker
    return map_actors(parsed, CorruptActor, fn_constructor_args=(ray.put(concepts),), fn_constructor_kwargs=kwargs,
                              batch_format="pyarrow", batch_size=batch_size,
                              **actor_args(concurrency, num_cpus, None, max_restarts, max_task_retries))


def detect_group_column(names: Sequence[str], schema=None, image_column: str | None = columns.IMAGE) -> str | None:
    """``group_column="auto"``: the first of ``image_id``, ``cocoid`` the data has, else the image
    column when it holds strings (paths), else ``None`` (as :func:`iccc.build_dataset` picks).

    >>> detect_group_column(["caption", "cocoid"])
    'cocoid'
    """
    for name in GROUP_COLUMNS:
        if name in names:
            return name
    if image_column is not None and image_column in names and schema is not None:
        import pyarrow as pa

        kind = schema.field(image_column).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return image_column
    return None


_NO_CONCEPTS = (
    "No caption in column {caption_column!r} has concepts to corrupt, so no correction sample can be made. "
    "Check `caption_column` (one English caption per row), pass a built `concepts` base, or pass "
    "p_correction=0 for captioning samples only."
)


def build_dataset(
    ds,
    *,
    caption_column: str = columns.CAPTION,
    image_column: str | None = columns.IMAGE,
    group_column: str | None = "auto",
    id_column: str | None = None,
    concepts: ConceptBase | None = None,
    balance: bool = True,
    seed: int = 0,
    epoch: int = 0,
    p_correction: float = DEFAULT_P_CORRECTION,
    p_swap: float = DEFAULT_P_SWAP,
    p_correct_caption: float = 0.0,
    target_format: str = DEFAULT_TARGET_FORMAT,
    caption_prompts: Sequence[str] | None = None,
    correction_prompts: Sequence[str] | None = None,
    operations: Sequence[str] = DEFAULT_OPERATIONS,
    kinds: Sequence[str] | None = None,
    p_add: float = DEFAULT_P_ADD,
    mix: Mapping[str, float] | None = None,
    nlp: Any = None,
    batch_size: int = BATCH_SIZE,
    concurrency: int | tuple[int, int] = 1,
    parse_concurrency: int | tuple[int, int] | None = None,
    num_gpus: float | None = None,
    keep_concepts: bool = False,
    drop_unusable: bool = False,
    balance_rows: int = BALANCE_ROWS,
    save_base: str | None = None,
    max_restarts: int = MAX_RESTARTS,
    max_task_retries: int = MAX_TASK_RETRIES,
):
    """:func:`iccc.build_dataset` on a Ray dataset: the same columns, statuses and (for the same
    row keys) the same rows, as a lazy ``ray.data.Dataset`` (write it with
    :func:`iccc.distributed.write_parquet`).

    A row's draws come from the :mod:`iccc.streams` streams of ``(seed, epoch, key)``: ``key`` is
    the row's integer in ``id_column`` (with the row index there, every row is the local build's),
    else the content key of its caption and image id (:func:`iccc.rowkeys.content_keys`), never
    its position in a block, so the rows do not depend on partitioning, order or the number of
    workers. Without ``concepts`` the base is built from the parsed rows (partial bases per block,
    merged on the driver, balanced on an even sample: :func:`iccc.distributed.concept_base`); the
    parsed rows are materialised (Ray's object store, spilling to disk) between that pass and the
    build. With ``concepts`` the build streams in one pass.

    Args:
        ds: a ``ray.data.Dataset`` (any source: ``read_parquet``, ``read_json``, ``from_arrow``,
            :func:`iccc.distributed.read_captions`).
        caption_column, image_column, group_column, concepts, balance, seed, epoch, p_correction, p_swap,
            p_correct_caption, target_format, caption_prompts, correction_prompts, operations, kinds, p_add,
            nlp, keep_concepts, drop_unusable: as in :func:`iccc.build_dataset`.
        id_column: the integer row-id column, or ``None`` for content keys.
        batch_size: rows per batch of the parse and build maps.
        concurrency: build actors (an int, or ``(min, max)``); ``parse_concurrency``: parser actors
            (default: ``concurrency``). With ``concepts`` given the two pools run at the same time and
            hold their CPUs together: fixed pools that add up to more than the cluster's CPUs wait
            forever; give ``(1, n)`` pools, which grow as CPUs allow.
        num_gpus: GPUs per parser actor (transformer pipelines).
        balance_rows: the balance sample's size at most.
        save_base: save the concept base built here to this JSON file (``.json`` / ``.json.gz``).
        max_restarts, max_task_retries: a crashed actor is restarted and its batch retried this often.

    Returns:
        The lazy ``ray.data.Dataset`` of samples.
    """
    from ..dataset._checks import check_bool, check_count, check_p

    _check_common(ds, caption_column, None, id_column, batch_size)
    if concepts is not None and not isinstance(concepts, ConceptBase):
        raise TypeError(f"`concepts` should be an iccc.ConceptBase or None, got {type(concepts).__name__}: "
                        f"{concepts!r:.80}.")
    for name, value in (("balance", balance), ("keep_concepts", keep_concepts), ("drop_unusable", drop_unusable)):
        check_bool(name, value)
    check_positive("balance_rows", balance_rows)
    schema = ds.schema()
    names = list(schema.names) if schema is not None else []
    if group_column == "auto":
        group_column = detect_group_column(names, schema, image_column)
    _check_common(ds, caption_column, group_column, id_column, batch_size)
    if image_column is not None and image_column not in names and image_column != columns.IMAGE:
        raise KeyError(f"Image column {image_column!r} not found. Available: {sorted(names)}. Pass "
                       "`image_column=None` for a dataset without images.")
    sampling = dict(seed=check_count("seed", seed), epoch=check_count("epoch", epoch), p_correction=p_correction,
                    p_swap=p_swap, p_correct_caption=p_correct_caption, target_format=target_format,
                    caption_prompts=caption_prompts, correction_prompts=correction_prompts, operations=operations,
                    kinds=kinds, p_add=p_add, mix=mix)
    check_p("p_correction", p_correction)
    SampleBuilder(ConceptBase(), **{**sampling, "p_correction": 0.0})  # the sampling arguments, before any work
    if p_correction + p_correct_caption > 1.0:
        raise ValueError(f"`p_correction` + `p_correct_caption` should be at most 1, got {p_correction} + "
                         f"{p_correct_caption}.")
    _check_operations(operations, kinds)
    clash = [c for c in output_columns(caption_column) if c in names]
    if clash:
        raise ValueError(f"The dataset already has column(s) {clash} that build_dataset writes; rename or remove "
                         "them first (ds.rename_columns / ds.drop_columns).")
    hidden: tuple = ()
    parsed = ds
    if not (columns.CONCEPTS in names and columns.PARSE_STATUS in names):
        parsed = add_concepts(ds, caption_column=caption_column, nlp=nlp, batch_size=batch_size,
                              concurrency=parse_concurrency or concurrency, num_gpus=num_gpus,
                              max_restarts=max_restarts, max_task_retries=max_task_retries)
        hidden = () if keep_concepts else (columns.CONCEPTS, columns.PARSE_STATUS)
    if concepts is None:
        parsed = parsed.materialize()
        rows = parsed.count()
        concepts = concept_base(parsed, caption_column=caption_column, group_column=group_column,
                                id_column=id_column, balance=balance and p_correction > 0, balance_rows=balance_rows,
                                seed=seed, rows=rows,
                                corrupt_config=dict(operations=operations, kinds=kinds, p_swap=p_swap, p_add=p_add, mix=mix))
        if not concepts.kinds():
            if rows and p_correction > 0:
                raise ValueError(_NO_CONCEPTS.format(caption_column=caption_column))
            sampling["p_correction"] = 0.0  # no row to corrupt: a builder that needs no base
        if save_base is not None:
            concepts.save(save_base)
    elif save_base is not None:
        raise ValueError("`save_base` saves the base built from the data; it cannot be combined with `concepts`.")
    return build_samples(parsed, concepts, caption_column=caption_column, image_column=image_column,
                         group_column=group_column, id_column=id_column, hidden=hidden, drop_unusable=drop_unusable,
                         batch_size=batch_size, concurrency=concurrency, max_restarts=max_restarts,
                         max_task_retries=max_task_retries, **sampling)
