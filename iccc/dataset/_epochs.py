"""Per-epoch resampling of on-the-fly builds: :func:`set_epoch`, and the ``IterableDataset`` hook
(in :mod:`iccc.dataset._datasets_internals`, which imports ``datasets``).

A row of training epoch ``e`` draws from the :mod:`iccc.streams` streams of epoch ``epoch + e``
(``epoch``: the build's), so new corruptions and prompts each epoch, the same ones on every rerun."""

from __future__ import annotations

from typing import Any

from ._checks import check_count
from ._samples import SampleBuilder, find_builder


def hook_iterable(ds, builder: SampleBuilder) -> bool:
    """Make the map step of ``builder`` in the ``IterableDataset`` ``ds`` follow ``ds.set_epoch``;
    returns whether it could (``False`` with a ``datasets`` version laid out otherwise)."""
    from ._datasets_internals import hook

    return hook(ds, builder)


def set_epoch(ds: Any, epoch: int) -> None:
    """Make an on-the-fly build draw the rows of training epoch ``epoch``.

    Works on what :func:`iccc.build_dataset` returns with ``mode="transform"`` (a ``Dataset`` with
    a transform, or a ``DatasetDict`` of them) and on iterable builds (there it is
    ``ds.set_epoch(epoch)``). Call it at the start of every epoch, e.g. from a
    ``TrainerCallback.on_epoch_begin``. With ``DataLoader(persistent_workers=True)`` a map-style
    dataset is copied into the workers once, so set the epoch before they start, or use
    non-persistent workers.

    >>> import iccc
    >>> from datasets import Dataset
    >>> from iccc.dataset import build_dataset
    >>> ds = build_dataset(Dataset.from_dict({"caption": ["A red car.", "A blue bus."] * 4}),
    ...                    mode="transform", p_correction=1.0, balance=False)
    >>> first = ds[:]["prompt"]
    >>> set_epoch(ds, 1)
    >>> ds[:]["prompt"] != first
    True
    """
    epoch = check_count("epoch", epoch)
    from datasets import DatasetDict, IterableDataset, IterableDatasetDict

    if isinstance(ds, (DatasetDict, IterableDatasetDict)):
        for split in ds.values():
            set_epoch(split, epoch)
        return
    if isinstance(ds, IterableDataset):
        ds.set_epoch(epoch)
        return
    builder = find_builder(ds)
    if builder is None:
        raise TypeError(
            f"`ds` should be an on-the-fly build (iccc.build_dataset(..., mode='transform')) or an IterableDataset, "
            f"got {type(ds).__name__} without an iccc transform. A materialised build is fixed: build it "
            "again with another `epoch` to draw new corruptions."
        )
    builder.set_epoch(epoch)
