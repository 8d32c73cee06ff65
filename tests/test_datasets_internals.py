"""What iccc.dataset relies on inside ``datasets`` (``iccc/dataset/_datasets_internals.py``), checked on
the installed version. Each check fails naming the ``datasets`` version and the attribute that changed,
so an upgrade that breaks one says where to look."""

from __future__ import annotations

import inspect
import sys

import pytest

datasets = pytest.importorskip("datasets")

from iccc import ConceptBase  # noqa: E402
from iccc.dataset import _datasets_internals as internals  # noqa: E402
from iccc.dataset._samples import SampleBuilder  # noqa: E402

VERSION = datasets.__version__
N = 12


def relied_on(condition, attribute: str, change: str) -> None:
    if not condition:
        pytest.fail(f"datasets {VERSION}: {attribute} {change}. iccc/dataset/_datasets_internals.py relies on it; "
                    "adapt that module to this version of datasets.", pytrace=False)


def builder(**kwargs) -> SampleBuilder:
    """A captioning-only builder: it needs no concepts, and its prompts follow (seed, epoch, row)."""
    return SampleBuilder(ConceptBase(), p_correction=0.0, **kwargs)


def rows() -> datasets.Dataset:
    return datasets.Dataset.from_dict({"caption": [f"A dog number {i}." for i in range(N)], "concepts": [[]] * N,
                                       "parse_status": ["ok"] * N})


def streamed(fn: SampleBuilder, num_shards: int = 1):
    return rows().to_iterable_dataset(num_shards=num_shards).map(fn, batched=True, with_indices=True,
                                                                  input_columns=fn.input_columns)


def prompts_of(fn: SampleBuilder, indices) -> list[str]:
    return fn.build(rows().select(indices).to_dict(), list(indices))["prompt"]


# ------------------------------------------------------------------------------ 1. epochs of a stream
def test_the_map_step_class_and_its_methods():
    cls = internals.MappedExamplesIterable
    relied_on(cls is not None, "datasets.iterable_dataset.MappedExamplesIterable", "cannot be imported")
    for name in ("shuffle_data_sources", "shard_data_sources"):
        relied_on(callable(getattr(cls, name, None)), f"MappedExamplesIterable.{name}", "is gone")
    params = list(inspect.signature(cls.shard_data_sources).parameters)
    relied_on(params[:4] == ["self", "num_shards", "index", "contiguous"],
              "MappedExamplesIterable.shard_data_sources(num_shards, index, contiguous)", f"takes {params} instead")


def test_the_map_step_is_reached_from_the_dataset_and_takes_the_epoch_class():
    fn = builder()
    ds = streamed(fn)
    relied_on(hasattr(ds, "_ex_iterable"), "IterableDataset._ex_iterable", "is gone")
    steps = list(internals._pipeline(ds))
    names = [type(s).__name__ for s in steps]
    relied_on(any(isinstance(s, internals.MappedExamplesIterable) and getattr(s, "function", None) is fn
                  for s in steps),
              "MappedExamplesIterable.function / .ex_iterable",
              f"no longer lead from IterableDataset._ex_iterable to the map step (steps: {names})")
    relied_on(internals.hook(ds, fn), "MappedExamplesIterable.__class__",
              "could not be set to EpochMappedExamplesIterable")


def test_set_epoch_reaches_the_map_step_through_shift_rngs():
    fn = builder(seed=3)
    ds = streamed(fn)
    assert internals.hook(ds, fn)
    epoch0 = [r["prompt"] for r in ds]
    assert epoch0 == prompts_of(builder(seed=3), range(N))
    ds.set_epoch(4)
    epoch4 = [r["prompt"] for r in ds]
    relied_on(epoch4 == prompts_of(builder(seed=3, epoch=4), range(N)) and epoch4 != epoch0,
              "IterableDataset.set_epoch -> shift_rngs(epoch) on each step of the pipeline",
              "no longer reaches the map step (its rows are not those of the epoch)")


def test_a_shard_keeps_the_epoch_class_and_gets_its_own_rows():
    fn = builder(seed=3)
    ds = streamed(fn, num_shards=2)
    assert internals.hook(ds, fn)
    shard = ds.shard(num_shards=2, index=1)
    steps = [s for s in internals._pipeline(shard) if isinstance(s, internals.MappedExamplesIterable)]
    relied_on(steps and type(steps[0]) is internals.EpochMappedExamplesIterable,
              "IterableDataset.shard -> MappedExamplesIterable.shard_data_sources",
              "no longer goes through the map step's own shard_data_sources")
    # the shard's position p stands for row 2p + 1: its rows never share an index with shard 0's
    got = [r["prompt"] for r in shard]
    relied_on(got == prompts_of(builder(seed=3).in_shard(2, 1), range(len(got))),
              "MappedExamplesIterable.shard_data_sources", "no longer hands the shard the rebuilt map step")


# ------------------------------------------------------------------------------ 2. keeping a subclass
def test_a_dataset_takes_a_subclass_that_adds_no_state():
    class Sub(datasets.Dataset):
        pass

    ds = datasets.Dataset.from_dict({"a": [1, 2, 3]}).select([2, 0])
    out = internals.adopt(ds, Sub)
    relied_on(type(out) is Sub and out.to_dict() == {"a": [3, 1]} and out.select([1]).to_dict() == {"a": [1]},
              "Dataset.__class__", "can no longer be set to a subclass without breaking the dataset")


# ------------------------------------------------------------------------------ 3. datasets' own reads
def test_features_column_names_and_format_are_properties():
    for name in ("features", "column_names", "format"):
        relied_on(isinstance(inspect.getattr_static(datasets.Dataset, name), property), f"Dataset.{name}",
                  "is no longer a property")
    ds = rows()
    assert internals.stored_features(ds) == ds.features and internals.stored_column_names(ds) == ds.column_names


class Probe(datasets.Dataset):
    """Records who reads ``features`` and ``column_names``: ``(attribute, caller module, called_from_datasets)``."""

    reads: list = []

    @property
    def features(self):
        Probe.reads.append(("features", sys._getframe(1).f_globals.get("__name__"), internals.called_from_datasets()))
        return internals.stored_features(self)

    @property
    def column_names(self):
        Probe.reads.append(("column_names", sys._getframe(1).f_globals.get("__name__"),
                            internals.called_from_datasets()))
        return internals.stored_column_names(self)


@pytest.mark.parametrize("operation", ["map", "select", "shuffle", "filter", "train_test_split", "format",
                                       "with_format", "save_to_disk"])
def test_datasets_reads_features_and_column_names_from_its_own_modules(operation, tmp_path):
    ds = internals.adopt(datasets.Dataset.from_dict({"caption": ["A dog.", "A cat.", "A cow."]}), Probe)
    run = {
        "map": lambda: ds.map(lambda r: {"n": len(r["caption"])}),
        "select": lambda: ds.select([2, 0]),
        "shuffle": lambda: ds.shuffle(seed=0),
        "filter": lambda: ds.filter(lambda r: True),
        "train_test_split": lambda: ds.train_test_split(test_size=1, seed=0),
        "format": lambda: ds.format,
        "with_format": lambda: ds.with_format("numpy"),
        "save_to_disk": lambda: ds.save_to_disk(str(tmp_path / "ds")),
    }[operation]
    Probe.reads = []
    run()
    foreign = [(name, module) for name, module, ours in Probe.reads if not ours]
    relied_on(not foreign, f"Dataset.{operation}",
              f"reads {foreign} from outside the datasets modules, where OnTheFlyDataset would answer with the "
              "columns of its rows instead of the stored table")
    if operation in ("map", "format", "save_to_disk"):
        assert Probe.reads, f"Dataset.{operation} read neither attribute: the probe saw nothing"
