"""Everything :mod:`iccc.dataset` relies on that ``datasets`` does not offer publicly, in one place.

``datasets`` (checked with 5.2) has public ways to read a dataset's format (``Dataset.format``)
and to set a transform (``with_transform``), which the rest of the package uses. Three things have
no public alternative, and live here:

1. **Per-epoch draws of a streaming build** (:func:`hook`). An ``IterableDataset`` tells the
   examples iterables it is made of its epoch when iteration starts: it copies its pipeline
   (``IterableDataset._ex_iterable``, each step's ``ex_iterable``) and calls ``shift_rngs(epoch)``
   on each step that has the method, after any data-source shuffle and before splitting into
   workers; a ``DataLoader`` worker gets its shard through ``shard_data_sources``. That is how
   ``ds.set_epoch(e)`` reaches a shuffle buffer, also in persistent workers. A map step
   (``datasets.iterable_dataset.MappedExamplesIterable``, with ``function`` and ``ex_iterable``)
   has no such method, and no public hook gives a map function the epoch: :func:`hook` turns the
   map step running a :class:`~iccc.dataset._samples.SampleBuilder` into an
   :class:`EpochMappedExamplesIterable` (its ``__class__`` reassigned), which has it.
2. **Keeping a Dataset subclass** (:func:`adopt`). ``Dataset.select``, ``shuffle``, ... build a
   plain ``Dataset``; an on-the-fly build stays an ``OnTheFlyDataset`` by reassigning the result's
   ``__class__`` (building one anew would need the private ``_indices``).
3. **Telling ``datasets``' own reads from the user's** (:func:`called_from_datasets`,
   :func:`stored_features`, :func:`stored_column_names`). ``OnTheFlyDataset`` shows the columns
   its rows have; ``datasets``' own code (``map``, ``save_to_disk``, ``format``, the format carried
   over by ``select``) must keep seeing the stored table. The caller's module tells them apart,
   and the stored values are those of the ``Dataset.features`` / ``Dataset.column_names``
   properties.

``tests/test_datasets_internals.py`` checks each of these against the installed ``datasets`` and
fails naming the version and the attribute when one changes.
"""

from __future__ import annotations

import sys
from copy import copy

from datasets import Dataset

from ._samples import SampleBuilder

try:
    from datasets.iterable_dataset import MappedExamplesIterable
except ImportError:  # pragma: no cover - another layout: hook() reports that it could not attach
    MappedExamplesIterable = None

#: Steps of an ``IterableDataset`` pipeline :func:`hook` walks down looking for the map step.
MAX_DEPTH = 64


# ------------------------------------------------------------------------------ 1. epochs of a stream
if MappedExamplesIterable is not None:

    class EpochMappedExamplesIterable(MappedExamplesIterable):
        """A map step whose :class:`SampleBuilder` draws the rows of the dataset's epoch.

        ``datasets`` calls ``shift_rngs`` twice: with the epoch, on the whole pipeline (taken as
        the builder's epoch), and in a ``DataLoader`` worker with the worker's id, after giving it
        its shards (ignored: :meth:`shard_data_sources` already gave the shard its own row indices).
        """

        _sharded = False

        def shift_rngs(self, value: int):
            if self._sharded:
                return self
            shifted = copy(self)
            shifted.function = self.function.at_epoch(int(value))
            return shifted

        # ``datasets`` rebuilds a map step as a plain MappedExamplesIterable when it shuffles or
        # shards the data sources; keep the epoch-following class.
        def shuffle_data_sources(self, *args, **kwargs):
            return _rewrap(super().shuffle_data_sources(*args, **kwargs), sharded=self._sharded)

        def shard_data_sources(self, num_shards: int, index: int, contiguous=True):
            sharded = _rewrap(super().shard_data_sources(num_shards, index, contiguous=contiguous), sharded=True)
            sharded.function = self.function.in_shard(num_shards, index)
            return sharded


def _rewrap(ex, sharded: bool = False):
    if type(ex) is MappedExamplesIterable and isinstance(ex.function, SampleBuilder):
        adopt(ex, EpochMappedExamplesIterable)
    if sharded:
        ex._sharded = True
    return ex


def _pipeline(ds):
    """The steps of an ``IterableDataset``'s pipeline, outermost first (at most :data:`MAX_DEPTH`)."""
    ex = getattr(ds, "_ex_iterable", None)
    for _ in range(MAX_DEPTH):
        if ex is None:
            return
        yield ex
        ex = getattr(ex, "ex_iterable", None)


def hook(ds, builder: SampleBuilder) -> bool:
    """Make the map step running ``builder`` in the ``IterableDataset`` ``ds`` follow
    ``ds.set_epoch``; returns whether it could (``False`` with a ``datasets`` laid out otherwise)."""
    if MappedExamplesIterable is None:
        return False
    for ex in _pipeline(ds):
        if isinstance(ex, MappedExamplesIterable) and getattr(ex, "function", None) is builder:
            _rewrap(ex)
            return isinstance(ex, EpochMappedExamplesIterable)
    return False


# ------------------------------------------------------------------------------ 2. keeping a subclass
def adopt(obj, cls):
    """``obj`` made an instance of ``cls``, a subclass of its class that adds no state."""
    obj.__class__ = cls
    return obj


# ------------------------------------------------------------------------------ 3. datasets' own reads
def called_from_datasets(depth: int = 2) -> bool:
    """Whether the code asking (``depth`` frames up: 2 is the caller of the property that calls
    this) is part of the ``datasets`` library."""
    try:
        name = sys._getframe(depth).f_globals.get("__name__", "")
    except ValueError:  # pragma: no cover - shallower stack than expected
        return False
    return name == "datasets" or name.startswith("datasets.")


def stored_features(ds: Dataset):
    """The features of the table ``ds`` stores, whatever a subclass's ``features`` says."""
    return Dataset.features.fget(ds)


def stored_column_names(ds: Dataset) -> list[str]:
    """The column names of the table ``ds`` stores, whatever a subclass's ``column_names`` says."""
    return Dataset.column_names.fget(ds)
