"""``OnTheFlyDataset``: an on-the-fly build that shows the columns its rows have.

``Dataset.with_transform`` changes what rows look like, not what ``features``, ``column_names`` or
``print(ds)`` say: those describe the stored table, which for an on-the-fly build holds the
parsed ``concepts`` and the row ids the transform needs instead of ``prompt``, ``target``,
``task``... ``datasets`` has no public way to declare the output of a transform, so this thin
subclass does it, and nothing else:

* ``features``, ``column_names`` and ``repr`` describe the rows as read (while the build's
  transform is set; after ``with_format(None)`` or another ``with_transform`` they describe the
  table again);
* ``ds["prompt"]`` (a column the transform writes) gives the column's values, computed from the
  text columns only (images are not decoded);
* ``select``, ``shuffle``, ``train_test_split``, ... return this class again while the result
  still runs the build's transform.

``datasets``' own code keeps seeing the stored table: when the caller of ``features`` or
``column_names`` is a module of ``datasets`` (its ``map``, ``save_to_disk``, ``format``, the
format carried over by ``select``...), the stored names and features are returned. That, and
keeping the class on the results of ``select``..., rely on ``datasets`` internals, kept in
:mod:`iccc.dataset._datasets_internals` (checked by ``tests/test_datasets_internals.py``).
"""

from __future__ import annotations

from functools import wraps

from datasets import Dataset, DatasetDict, Features

from ._datasets_internals import adopt, called_from_datasets, stored_column_names, stored_features
from ._samples import ROW_COLUMN, find_builder

#: Dataset methods whose result keeps the transform (and so stays an on-the-fly view).
_KEEPS_TRANSFORM = ("select", "shuffle", "sort", "train_test_split", "shard", "skip", "take", "filter",
                    "flatten_indices")


class OnTheFlyDataset(Dataset):
    """A ``datasets.Dataset`` with an iccc on-the-fly transform, described by its output columns.

    Made by :func:`iccc.build_dataset` with ``mode="transform"``; everything else is a
    ``datasets.Dataset`` (``isinstance`` holds, it saves, shuffles and splits as one).
    """

    def _builder(self):
        return find_builder(self)

    def _view_features(self, builder) -> Features:
        raw = stored_features(self)
        hidden = set(builder.hidden) | {ROW_COLUMN}
        read = set(builder.input_columns)
        # the transform returns the columns it read (in table order, minus the hidden ones), then
        # what it adds, then (output_all_columns) every other column
        out = {name: feature for name, feature in raw.items() if name in read and name not in hidden}
        out.update(builder.features())
        for name, feature in raw.items():
            if name not in out and name not in hidden:
                out[name] = feature
        return Features(out)

    # ``datasets``' own reads are answered first: finding the builder reads ``Dataset.format``,
    # which may read ``column_names``
    @property
    def features(self) -> Features:
        if called_from_datasets():
            return stored_features(self)
        builder = self._builder()
        return stored_features(self) if builder is None else self._view_features(builder)

    @property
    def column_names(self) -> list[str]:
        if called_from_datasets():
            return stored_column_names(self)
        builder = self._builder()
        return stored_column_names(self) if builder is None else list(self._view_features(builder))

    def __repr__(self) -> str:
        builder = self._builder()
        if builder is None:
            return super().__repr__()
        return (f"Dataset({{\n    features: {list(self._view_features(builder))},\n    num_rows: {self.num_rows}\n}})"
                f"  # on the fly: {builder!r}")

    def __getitem__(self, key):
        builder = self._builder() if isinstance(key, str) and not called_from_datasets() else None
        if builder is not None:
            if key in builder.output_columns:
                return self._built_column(builder, key)
            if key in builder.hidden or key == ROW_COLUMN or key not in stored_column_names(self):
                raise KeyError(f"Column {key!r} not in the dataset. Columns: {self.column_names}.")
        return super().__getitem__(key)

    def _built_column(self, builder, key: str) -> list:
        raw = Dataset.with_format(self, None).select_columns(builder.input_columns + [ROW_COLUMN])
        values = []
        for batch in raw.iter(batch_size=1000):
            values.extend(builder.build(batch, batch[ROW_COLUMN])[key])
        return values


def _adopt(out):
    if isinstance(out, DatasetDict):
        for split in out.values():
            _adopt(split)
    elif type(out) is Dataset and find_builder(out) is not None:
        adopt(out, OnTheFlyDataset)
    return out


def _keeping_view(name: str):
    method = getattr(Dataset, name)

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        return _adopt(method(self, *args, **kwargs))

    return wrapper


for _name in _KEEPS_TRANSFORM:
    if hasattr(Dataset, _name):
        setattr(OnTheFlyDataset, _name, _keeping_view(_name))


def on_the_fly(ds: Dataset) -> Dataset:
    """``ds`` (a ``Dataset`` with a build's transform) as an :class:`OnTheFlyDataset`."""
    return _adopt(ds)
