"""iccc._gc: fewer collector passes inside the build's in-memory stages, thresholds restored."""

import gc

import pytest

from iccc._gc import THRESHOLD, fewer_collections


def test_thresholds_are_restored_even_when_the_block_raises():
    before = gc.get_threshold()
    with pytest.raises(KeyError):
        with fewer_collections():
            assert gc.get_threshold()[0] == max(THRESHOLD, before[0])
            raise KeyError("x")
    assert gc.get_threshold() == before


def test_nesting_and_a_collector_switched_off_by_the_user():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            with fewer_collections():
                assert gc.get_threshold()[0] >= THRESHOLD
            assert gc.get_threshold()[0] >= THRESHOLD
        assert gc.get_threshold() == before
        gc.set_threshold(0)
        with fewer_collections():
            assert gc.get_threshold()[0] == 0  # left off
    finally:
        gc.set_threshold(*before)


def test_the_build_stages_use_it():
    import iccc.balance
    import iccc.dataset._builder

    for fn in (iccc.balance.balance_insertions, iccc.balance.calibrate_mix, iccc.dataset._builder.concept_base):
        assert hasattr(fn, "__wrapped__"), fn
