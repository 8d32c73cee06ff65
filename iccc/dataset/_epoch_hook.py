"""The map step of an iterable build that follows ``IterableDataset.set_epoch`` (imports ``datasets``).

An ``IterableDataset`` tells the iterables it is made of its epoch when iteration starts: it calls
``shift_rngs(epoch)`` on those that have the method, after any data-source shuffle and before
splitting into workers. That is how ``ds.set_epoch(e)`` reaches a shuffle buffer, also in
persistent ``DataLoader`` workers (the epoch is in shared memory). The map step that runs a
:class:`SampleBuilder` gets the same method here, so that ``set_epoch`` (called by
``transformers.Trainer`` and ``accelerate`` for iterable datasets) draws new corruptions. This
relies on ``datasets`` internals; :func:`hook` reports whether it could attach.
"""

from __future__ import annotations

from copy import copy

from datasets.iterable_dataset import MappedExamplesIterable

from ._samples import SampleBuilder


class EpochMappedExamplesIterable(MappedExamplesIterable):
    """A map step whose :class:`SampleBuilder` draws the rows of the dataset's epoch.

    ``datasets`` calls ``shift_rngs`` twice: with the epoch, on the whole pipeline (taken as the
    builder's epoch), and in a ``DataLoader`` worker with the worker's id, after giving it its
    shards (ignored: :meth:`shard_data_sources` already gave the shard its own row indices).
    """

    _sharded = False

    def shift_rngs(self, value: int):
        if self._sharded:
            return self
        shifted = copy(self)
        shifted.function = self.function.at_epoch(int(value))
        return shifted

    # ``datasets`` rebuilds a map step as a plain MappedExamplesIterable when it shuffles or shards
    # the data sources; keep the epoch-following class.
    def shuffle_data_sources(self, *args, **kwargs):
        return _rewrap(super().shuffle_data_sources(*args, **kwargs), sharded=self._sharded)

    def shard_data_sources(self, num_shards: int, index: int, contiguous=True):
        sharded = _rewrap(super().shard_data_sources(num_shards, index, contiguous=contiguous), sharded=True)
        sharded.function = self.function.in_shard(num_shards, index)
        return sharded


def _rewrap(ex, sharded: bool = False):
    if type(ex) is MappedExamplesIterable and isinstance(ex.function, SampleBuilder):
        ex.__class__ = EpochMappedExamplesIterable
    if sharded:
        ex._sharded = True
    return ex


def hook(ds, builder: SampleBuilder) -> bool:
    """Make the map step running ``builder`` in the ``IterableDataset`` ``ds`` follow ``ds.set_epoch``."""
    ex = getattr(ds, "_ex_iterable", None)
    for _ in range(64):
        if ex is None:
            return False
        if isinstance(ex, MappedExamplesIterable) and getattr(ex, "function", None) is builder:
            _rewrap(ex)
            return isinstance(ex, EpochMappedExamplesIterable)
        ex = getattr(ex, "ex_iterable", None)
    return False
