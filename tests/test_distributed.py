"""iccc.distributed: the Ray Data build gives the rows of the local build, on a real local cluster.

One Ray instance for the module (``ray.init(num_cpus=2)``, Ray's logs quiet); the expensive
build runs once (a fixture) and several tests read it. Row keys (:mod:`iccc.rowkeys`) and the
actors' batch work are also tested in this process, without a cluster.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import iccc
import iccc.distributed as idist
from iccc import columns
from iccc.corrupt import DEFAULT_OPERATIONS, DEFAULT_P_ADD, DEFAULT_P_SWAP
from iccc.rowkeys import content_key, content_keys, encode, id_keys

datasets = pytest.importorskip("datasets", reason="the distributed tests compare with the datasets build")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco_captions"
KARPATHY = SHARED / "coco_karpathy_test.json.gz"
BAD_INPUTS = Path(__file__).resolve().parent / "bad_inputs"
N_CAPTIONS = 200
LONG_CAPTION = "A dog on a couch " + "and a very long tail " * 5_000 + "."
#: Odd captions appended to the real ones (the statuses must be those of a local build).
BAD = ["", None, "   \t ", LONG_CAPTION, "一只狗躺在绿色的沙发上。", "Hello there."]
SETTINGS = dict(seed=3, epoch=1, p_correction=0.5)


# ---------------------------------------------------------------------------- row keys (no Ray)
def test_id_keys_are_the_ids_and_refuse_what_is_not_a_row_number():
    assert id_keys(np.arange(5)).tolist() == [0, 1, 2, 3, 4]
    assert id_keys([2**63 - 1]).tolist() == [2**63 - 1]
    for bad in ([-1], [1.5], ["3"], [True], [2**63], np.array([-3])):
        with pytest.raises(ValueError, match="row keys"):
            id_keys(bad, name="row")


def test_content_keys_are_stable_typed_63_bit_and_order_free():
    captions = ["A dog.", "A dog.", "A cat.", None, 12345]
    images = [1, 2, 1, 1, "x"]
    keys = content_keys(captions, images)
    assert keys.dtype == np.int64 and (keys >= 0).all()
    assert len(set(keys.tolist())) == len(keys)  # same caption, other image: another key
    assert content_keys(captions[::-1], images[::-1]).tolist() == keys.tolist()[::-1]
    assert content_key("A dog.", 1) != content_key("A dog.", "1")  # types kept apart
    assert content_key("A dog.", np.int64(1)) == content_key("A dog.", 1)
    assert encode("ab") + encode("c") != encode("a") + encode("bc")  # length-prefixed
    # a fixed value: the key must never change between versions, machines or processes
    assert content_key("A man riding a horse.", 391895) == content_key("A man riding a horse.", 391895)
    with pytest.raises(ValueError, match="image_ids"):
        content_keys(["a", "b"], [1])


# ---------------------------------------------------------------------------- the cluster
@pytest.fixture(scope="module")
def ray():
    return pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'iccc[ray]')")


@pytest.fixture(scope="module")
def cluster(ray):
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_ds():
    """200 Karpathy test captions (5 per image, in file order) + the odd ones, with a row column."""
    if not KARPATHY.is_file():
        pytest.skip(f"real captions not found: {KARPATHY} (the shared data directory is absent)")
    with gzip.open(KARPATHY, "rt", encoding="utf-8") as f:
        items = json.load(f)
    rows = [{"caption": c, "image_id": item["image"]} for item in items for c in item["caption"]][:N_CAPTIONS]
    rows += [{"caption": c, "image_id": f"bad-{k}"} for k, c in enumerate(BAD)]
    return datasets.Dataset.from_list([{**r, "row": k} for k, r in enumerate(rows)])


@pytest.fixture(scope="module")
def local_build(local_ds):
    return iccc.build_dataset(local_ds, **SETTINGS).to_list()


@pytest.fixture(scope="module")
def ray_build(cluster, local_ds, tmp_path_factory):
    """The Ray build of ``local_ds`` (rows keyed by ``row``), written as parquet and read back."""
    folder = tmp_path_factory.mktemp("ray_build")
    parsed = idist.add_concepts(idist.from_dataset(local_ds), batch_size=50, concurrency=2).materialize()
    base = idist.concept_base(parsed, group_column="image_id", id_column="row", seed=SETTINGS["seed"],
                              corrupt_config=dict(operations=DEFAULT_OPERATIONS, kinds=None, p_swap=DEFAULT_P_SWAP,
                                                  p_add=DEFAULT_P_ADD))
    built = idist.build_dataset(parsed, id_column="row", batch_size=50, concurrency=2,
                                save_base=str(folder / "base.json"), **SETTINGS)
    files = idist.write_parquet(built.drop_columns([columns.CONCEPTS, columns.PARSE_STATUS]), folder / "out")
    loaded = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train",
                                   cache_dir=str(folder / "cache"))
    return dict(parsed=parsed, base=base, saved_base=iccc.ConceptBase.load(folder / "base.json"),
                rows=sorted(loaded.to_list(), key=lambda r: r["row"]), columns=loaded.column_names)


def test_ray_build_has_the_rows_of_the_local_build(ray_build, local_build):
    rows = ray_build["rows"]
    assert [r["row"] for r in rows] == list(range(len(local_build)))  # every row exactly once
    assert ray_build["columns"] == list(local_build[0])
    different = [k for k, (a, b) in enumerate(zip(rows, local_build)) if a != b]
    assert not different, (rows[different[0]], local_build[different[0]])
    tasks = Counter(r["task"] for r in rows)
    assert tasks["correction"] > 50 and tasks["caption"] > 50  # the draws did something


def test_distributed_base_is_the_local_base(ray_build, local_ds):
    from iccc.dataset import concept_base

    local = concept_base([iccc.add_concepts(local_ds)], group_column="image_id", seed=SETTINGS["seed"])
    assert ray_build["saved_base"] == local and ray_build["saved_base"].fingerprint() == local.fingerprint()
    assert ray_build["base"] == local  # the stage alone, too
    assert local.balance  # balanced on its sample, not skipped


def test_bad_captions_get_the_local_statuses(ray_build, local_build):
    n = N_CAPTIONS
    got = [(r["build_status"], r["target"] is None) for r in ray_build["rows"][n:]]
    assert got == [(r["build_status"], r["target"] is None) for r in local_build[n:]]
    assert [s for s, _ in got[:3]] == ["empty", "missing", "empty"]


def test_corruptions_are_those_of_a_dataset_map_of_corrupt(ray_build, local_ds):
    """Every corrected row carries the record ``Dataset.map(iccc.corrupt)`` gives that row, and
    the Ray corrupt stage gives the map's columns."""
    parsed = iccc.add_concepts(local_ds)
    kwargs = dict(concepts=ray_build["base"], seed=SETTINGS["seed"], epoch=SETTINGS["epoch"], group_column="image_id")
    mapped = parsed.map(iccc.corrupt, batched=True, with_indices=True, fn_kwargs=kwargs).to_list()
    checked = 0
    for row, record in zip(ray_build["rows"], mapped):
        if row["task"] == "correction" and row["operation"] in DEFAULT_OPERATIONS:
            assert (row["corrupted_caption"], row["original"], row["replacement"]) == \
                (record["corrupted_caption"], record["original"], record["replacement"])
            checked += 1
    assert checked > 50
    ray_mapped = idist.corrupt(ray_build["parsed"], ray_build["base"], id_column="row", seed=SETTINGS["seed"],
                               epoch=SETTINGS["epoch"], group_column="image_id", batch_size=64).take_all()
    ray_mapped.sort(key=lambda r: r["row"])
    from iccc.corrupt import RECORD_COLUMNS

    names = list(RECORD_COLUMNS) + [columns.CORRUPT_STATUS]
    assert [[r[c] for c in names] for r in ray_mapped] == [[r[c] for c in names] for r in mapped]


def test_content_keys_do_not_depend_on_the_partitioning(ray_build, local_ds):
    """Without an id column: one block in this process, and 7 blocks on 2 actors, give the same rows."""
    import pyarrow as pa

    parsed = ray_build["parsed"]
    base = ray_build["base"]
    table = pa.concat_tables(parsed.iter_batches(batch_format="pyarrow", batch_size=None))
    from iccc.dataset._samples import SampleBuilder

    builder = SampleBuilder(base, group_column="image_id", **SETTINGS)
    whole = idist.SampleActor(builder)(table).to_pylist()
    split = idist.build_samples(parsed.repartition(7).materialize(), base, group_column="image_id", concurrency=2, batch_size=30,
                                **SETTINGS).take_all()
    assert sorted(split, key=lambda r: r["row"]) == sorted(whole, key=lambda r: r["row"])
    by_row = {r["row"]: r for r in ray_build["rows"]}
    assert sum(by_row[r["row"]]["prompt"] != r["prompt"] for r in whole) > 10  # other keys, other draws


def test_a_worker_dying_mid_build_loses_and_repeats_no_row(ray_build, tmp_path):
    marker = tmp_path / "died"

    class ExitOnce(idist.SampleActor):  # defined here: shipped to the workers by value
        """A build actor whose process dies in its first batch, once per build (a marker file)."""

        def __call__(self, table):
            if not marker.exists():
                marker.write_text("died")
                os._exit(1)
            return super().__call__(table)

    out = idist.build_samples(ray_build["parsed"], ray_build["base"], group_column="image_id", id_column="row",
                              hidden=(columns.CONCEPTS, columns.PARSE_STATUS), concurrency=2, batch_size=40,
                              actor_class=ExitOnce, max_restarts=2, max_task_retries=2, **SETTINGS).take_all()
    assert marker.read_text() == "died"  # an actor did die
    assert sorted(r["row"] for r in out) == [r["row"] for r in ray_build["rows"]]
    assert sorted(out, key=lambda r: r["row"]) == ray_build["rows"]


def test_cli_ray_engine_writes_the_local_engine_rows(cluster, tmp_path, capsys):
    from iccc.cli import main

    source = BAD_INPUTS / "mixed.jsonl"
    ray_out, local_out = tmp_path / "ray", tmp_path / "local"
    assert main(["build", str(source), "-o", str(local_out), "-q", "--seed", "5"]) == 0
    assert main(["build", str(source), "-o", str(ray_out), "-q", "--seed", "5", "--engine", "ray",
                 "--num-workers", "1", "--save-base", str(tmp_path / "base.json")]) == 0
    printed = capsys.readouterr().out
    assert "on Ray" in printed and "build_status" in printed
    local = datasets.load_from_disk(str(local_out)).to_list()
    loaded = datasets.load_dataset("parquet", data_files=str(ray_out / "*.parquet"), split="train",
                                   cache_dir=str(tmp_path / "cache")).to_list()
    assert len(loaded) == len(local) == 16
    order = {json.dumps(r, sort_keys=True, default=str): k for k, r in enumerate(local)}
    assert sorted(order.get(json.dumps(r, sort_keys=True, default=str), -1) for r in loaded) == list(range(16))
    assert (tmp_path / "base.json").is_file()


def test_cli_ray_engine_refuses_local_only_options(cluster, tmp_path, capsys):
    from iccc.cli import main

    code = main(["build", str(BAD_INPUTS / "mixed.jsonl"), "-o", str(tmp_path / "x"), "--engine", "ray",
                 "--num-proc", "2"])
    assert code == 2 and "--num-workers" in capsys.readouterr().err
    code = main(["build", str(BAD_INPUTS / "mixed.jsonl"), "-o", str(tmp_path / "x.jsonl"), "--engine", "ray"])
    assert code == 2 and "folder of parquet" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the actors in this process
def test_actors_read_mixed_json_captions_as_a_local_build_does(ray):
    """A caption column of mixed types (``load_captions`` stores it as JSON) reaches the parser as
    values: numbers, lists and dicts are ``not_string``, as locally."""
    from iccc.dataset import load_captions
    from iccc.dataset._samples import SampleBuilder

    ds = load_captions(str(BAD_INPUTS / "mixed.jsonl"))
    base = iccc.dataset.concept_base([iccc.add_concepts(ds)], group_column="image_id")
    local = iccc.build_dataset(ds, concepts=base, p_correction=1.0, seed=0, keep_concepts=True)
    parsed = idist.ParserActor()(ds.with_format("arrow")[:])
    assert parsed.column("parse_status").to_pylist() == local["parse_status"]
    assert parsed.column("concepts").to_pylist() == local["concepts"]
    builder = SampleBuilder(base, group_column="image_id", p_correction=1.0, seed=0)
    keyed = idist.SampleActor(builder, id_column="row")(parsed.append_column("row", [list(range(len(ds)))]))
    assert keyed.column("build_status").to_pylist() == local["build_status"]
    assert keyed.column("prompt").to_pylist() == local["prompt"]
    assert {"not_string", "missing", "empty", "non_english"} <= set(local["build_status"])


def test_concepts_type_is_the_datasets_layout(ray):
    from datasets import Features

    from iccc._schema import concept_features

    assert Features({"c": concept_features()}).arrow_schema.field("c").type == idist.concepts_type()


def test_merge_bases_equals_one_pass():
    parsed = iccc.parse(["A red car on a street.", "Two dogs on a couch.", "A man riding a horse.", "A red bus."])
    one = iccc.ConceptBase.from_parsed(parsed)
    parts = [iccc.ConceptBase.from_parsed(parsed[k:k + 1]) for k in range(4)]
    merged = idist.merge_bases(parts)
    assert merged == one and list(merged.counts["noun"]) == list(one.counts["noun"])  # first-seen order too
    with pytest.raises(TypeError, match="bases"):
        idist.merge_bases([one, "not a base"])


def test_bad_arguments_are_refused_before_any_work(cluster):
    from ray.data import from_items

    ds = from_items([{"caption": "A dog."}])
    with pytest.raises(TypeError, match="ray.data.Dataset"):
        idist.build_dataset([{"caption": "A dog."}])
    with pytest.raises(ValueError, match="concurrency"):
        idist.add_concepts(ds, concurrency=0)
    with pytest.raises(KeyError, match="text"):
        idist.build_dataset(ds, caption_column="text")
    with pytest.raises(ValueError, match="p_correction"):
        idist.build_dataset(ds, p_correction=1.5)
    with pytest.raises(ValueError, match="Unknown operation"):
        idist.build_dataset(ds, operations=["shuffle"])
    with pytest.raises(TypeError, match="nlp"):
        idist.add_concepts(ds, nlp=object())


# ---------------------------------------------------------------------------- two nodes (last: it replaces the cluster)
@pytest.mark.slow
def test_two_node_cluster_gives_the_same_rows(cluster, ray_build, local_ds):
    """Two raylets on this machine (``ray.cluster_utils.Cluster``), one CPU each: one actor per
    node, the base given (one streaming pass), the rows of the one-node build."""
    from ray.cluster_utils import Cluster

    base = ray_build["base"]
    cluster.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        nodes.add_node(num_cpus=1)
        cluster.init(address=nodes.address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        assert len([n for n in cluster.nodes() if n["Alive"]]) == 2
        ds = idist.from_dataset(local_ds.select(range(60)), num_blocks=4)
        out = idist.build_dataset(ds, concepts=base, id_column="row", concurrency=(1, 2), batch_size=15,
                                  **SETTINGS).take_all()
    finally:
        cluster.shutdown()
        nodes.shutdown()
    assert sorted(out, key=lambda r: r["row"]) == ray_build["rows"][:60]
