"""Forked workers for the build's in-memory stages, and the same base with any ``num_proc``."""

from __future__ import annotations

import os

import pytest

import iccc
from iccc._workers import ChunkWorkers, can_fork, chunks, fork_map, workers

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork start method on this platform")


def _append(chunk, value):
    chunk.append(value)
    return list(chunk)


def _fail(chunk):
    raise ValueError(f"bad chunk {chunk!r}")


def _die(chunk):
    os._exit(3)


def test_chunks_cover_the_range_in_order():
    for n in (0, 1, 7, 100):
        for parts in (1, 2, 3, 8):
            pieces = chunks(n, parts)
            assert [i for r in pieces for i in r] == list(range(n))
            assert len(pieces) == max(1, min(parts, n))


def test_workers_validates_num_proc():
    with pytest.raises(ValueError, match="num_proc"):
        workers(0, 10)
    with pytest.raises(ValueError, match="num_proc"):
        workers(True, 10)
    assert workers(None, 10) == 1 and workers(4, 1) == 1


@needs_fork
def test_fork_map_returns_results_in_order_and_raises_failures():
    assert fork_map(sum, [[1, 2], [3], [4, 5, 6]], num_proc=2) == [3, 3, 15]
    with pytest.raises(ValueError, match="bad chunk"):
        fork_map(_fail, [[1], [2]], num_proc=2)


@needs_fork
def test_chunk_workers_keep_their_state_across_passes():
    with ChunkWorkers([[0], [10]], num_proc=2) as pool:
        assert pool.map(_append, 1) == [[0, 1], [10, 1]]
        assert pool.map(_append, 2) == [[0, 1, 2], [10, 1, 2]]  # each worker kept its chunk
    serial = ChunkWorkers([[0], [10]])
    assert serial.map(_append, 1) == [[0, 1], [10, 1]]


@needs_fork
def test_chunk_workers_report_a_failure_and_a_dead_worker():
    with ChunkWorkers([[1], [2]], num_proc=2) as pool:
        with pytest.raises(RuntimeError, match="bad chunk"):
            pool.map(_fail)
    with ChunkWorkers([[1], [2]], num_proc=2) as pool:
        with pytest.raises(RuntimeError, match="died"):  # not a hang
            pool.map(_die)


@pytest.fixture(scope="module")
def parsed_sample(nlp):
    from datasets import Dataset

    rows = iccc.sample_captions()
    return iccc.add_concepts(Dataset.from_list([{**r, "image_id": str(r["image_id"])} for r in rows]), nlp=nlp)


@needs_fork
def test_concept_base_is_the_same_with_any_num_proc(parsed_sample, monkeypatch):
    """Counting in pieces, the calibration and the balancing rounds in two processes give the
    base (counts, key order, factors, mix table) of one process."""
    import iccc.balance
    import iccc.dataset._builder as builder
    from iccc.dataset import build_dataset, concept_base

    monkeypatch.setattr(builder, "MIN_WORKER_ROWS", 10)  # the sample is small: force the workers
    monkeypatch.setattr(iccc.balance, "MIN_WORKER_CAPTIONS", 10)
    halves = [parsed_sample.select(range(0, 45)), parsed_sample.select(range(45, len(parsed_sample)))]
    one = concept_base(halves, group_column="image_id", balance_rows=80)
    two = concept_base(halves, group_column="image_id", balance_rows=80, num_proc=2)
    assert one.to_json() == two.to_json()
    assert one.balance and dict(one.balance) == dict(two.balance)
    for kind in one.counts:  # the same keys in the same order (candidate pools are built in it)
        assert list(one.counts[kind]) == list(two.counts[kind])
        assert list(one.contexts[kind]) == list(two.contexts[kind])
    rows_one = build_dataset(parsed_sample, concepts=one, group_column="image_id", p_correction=0.5)
    rows_two = build_dataset(parsed_sample, concepts=two, group_column="image_id", p_correction=0.5)
    assert rows_one[:] == rows_two[:]


@needs_fork
def test_build_dataset_num_proc_builds_its_base_in_workers(parsed_sample, monkeypatch):
    import iccc.balance
    import iccc.dataset._builder as builder
    from iccc.dataset import build_dataset

    monkeypatch.setattr(builder, "MIN_WORKER_ROWS", 10)
    monkeypatch.setattr(iccc.balance, "MIN_WORKER_CAPTIONS", 10)
    calls = []
    real = builder.fork_map

    def spy(fn, items, num_proc=None):
        calls.append((len(items), num_proc))
        return real(fn, items, num_proc)

    monkeypatch.setattr(builder, "fork_map", spy)
    one = build_dataset(parsed_sample, group_column="image_id", p_correction=0.5)
    two = build_dataset(parsed_sample, group_column="image_id", p_correction=0.5, num_proc=2)
    assert calls == [(1, None), (2, 2)]
    assert one[:] == two[:]


def test_balance_insertions_validates_num_proc(engine_base, engine_parsed):
    from iccc.balance import balance_insertions

    with pytest.raises(ValueError, match="num_proc"):
        balance_insertions(engine_base.merge(iccc.ConceptBase()), engine_parsed, rounds=1, num_proc=0)
