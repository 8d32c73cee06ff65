"""Checks of the arguments the Ray stages share: the dataset, the actor pool, fault tolerance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Restarts of a crashed actor (Ray's ``max_restarts``) and retries of the batch it was working on
#: (``max_task_retries``) the stages ask for by default: a lost worker costs its batch again, and
#: every row still comes out exactly once.
MAX_RESTARTS = 3
MAX_TASK_RETRIES = 3
#: Rows per batch of the parse and build maps.
BATCH_SIZE = 1000


def check_dataset(ds, name: str = "ds"):
    """``ds`` when it is a ``ray.data.Dataset``, else ``TypeError`` saying how to make one."""
    import ray.data

    if not isinstance(ds, ray.data.Dataset):
        raise TypeError(f"`{name}` should be a ray.data.Dataset (ray.data.read_parquet, read_json, from_arrow, or "
                        f"iccc.distributed.read_captions), got {type(ds).__name__}: {ds!r:.80}.")
    return ds


def column_names(ds) -> list[str] | None:
    """The columns of a Ray dataset, when known without running it (a read's schema); else ``None``."""
    try:
        schema = ds.schema(fetch_if_missing=False)
    except TypeError:  # an older Ray without the argument
        schema = ds.schema()
    return list(schema.names) if schema is not None else None


def check_columns(ds, **named) -> None:
    """Each ``argument=column`` (``None`` skipped) must be a column of ``ds`` when its schema is known."""
    names = column_names(ds)
    if names is None:
        return
    for argument, column in named.items():
        if column is not None and column not in names:
            raise KeyError(f"Column {column!r} (`{argument}`) not found in the dataset. Available: {sorted(names)}.")


def check_concurrency(concurrency: Any) -> int | tuple[int, int]:
    """The actor pool size: a positive int, or ``(min, max)`` for an autoscaling pool.

    >>> check_concurrency(2), check_concurrency((1, 4))
    (2, (1, 4))
    """
    def positive(value) -> bool:
        return not isinstance(value, bool) and isinstance(value, int) and value >= 1

    if positive(concurrency):
        return concurrency
    if isinstance(concurrency, (tuple, list)) and len(concurrency) == 2 and all(map(positive, concurrency)) \
            and concurrency[0] <= concurrency[1]:
        return tuple(concurrency)
    raise ValueError(f"`concurrency` should be a positive integer (actors) or a (min, max) pair of them, "
                     f"got {concurrency!r}.")


def check_resource(name: str, value: Any) -> float | None:
    """``num_gpus`` / ``num_cpus`` per actor: ``None`` or a non-negative number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`{name}` should be a non-negative number of {name[4:]} per actor or None, got {value!r}.")
    return value


def check_retries(name: str, value: Any) -> int:
    """``max_restarts`` / ``max_task_retries``: a non-negative int, or -1 (Ray: no limit)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise ValueError(f"`{name}` should be a non-negative integer or -1 (no limit), got {value!r}.")
    return value


def check_nlp(nlp: Any) -> str | None:
    """A pipeline every actor can load: ``None`` (the default), a package name or a folder path."""
    if nlp is None or isinstance(nlp, str):
        return nlp
    if isinstance(nlp, Path):
        return str(nlp)
    raise TypeError(f"`nlp` should be a spaCy pipeline name or folder path (each actor loads its own), got "
                    f"{type(nlp).__name__}: {nlp!r:.80}. Save an in-memory pipeline with nlp.to_disk(path).")


def actor_args(concurrency, num_cpus, num_gpus, max_restarts, max_task_retries) -> dict:
    """The ``map_batches`` keywords of an actor stage: a fixed pool of ``concurrency`` actors, or an
    autoscaling one for a ``(min, max)`` pair."""
    from ray.data import ActorPoolStrategy

    size = check_concurrency(concurrency)
    pool = ActorPoolStrategy(size=size) if isinstance(size, int) else ActorPoolStrategy(min_size=size[0],
                                                                                          max_size=size[1])
    out = dict(compute=pool,
               max_restarts=check_retries("max_restarts", max_restarts),
               max_task_retries=check_retries("max_task_retries", max_task_retries))
    for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
        if check_resource(name, value) is not None:
            out[name] = value
    return out


def check_positive(name: str, value: Any) -> int:
    """A positive integer, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` should be a positive integer, got {value!r}.")
    return value


def map_actors(ds, actor_class, **kwargs):
    """``ds.map_batches(actor_class, **kwargs)``: an actor stage. Ray 2.60 takes ``max_restarts``
    and ``max_task_retries`` only as ``ray_remote_args``, which it marks deprecated; the warning is
    silenced here, once, rather than shown on every stage (Ray's own default for actor pools,
    when it stops taking them, is to restart and retry without limit)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*ray_remote_args.* is deprecated")
        return ds.map_batches(actor_class, **kwargs)
