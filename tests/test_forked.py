"""Per-chunk work in forked children (engine/forked.py): the same results as in one process, in order, and a
clear error when a child dies."""

from __future__ import annotations

import os

import pytest

from gristmill.engine import forked
from gristmill.errors import GristmillError

STATE = {"factor": 3}  # set before forking: the children read it without any pickling


def _share(group: list[int]) -> tuple[int, list[int]]:
    return os.getpid(), [x * STATE["factor"] for x in group]


@pytest.fixture
def forkable(monkeypatch):
    if "fork" not in forked.multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)  # idle threads of earlier tests


def test_groups_are_dealt_round_robin_and_results_come_back_in_order(forkable):
    groups = forked.groups_of(list(range(10)), workers=2)
    assert groups == [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]]
    out = forked.map_forked(_share, groups, workers=2)
    assert [r for _, r in out] == [[x * 3 for x in g] for g in groups]
    pids = {pid for pid, _ in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert forked.map_forked(_share, groups, workers=1) == [(os.getpid(), r) for _, r in out]


def test_a_share_that_fails_raises_here_and_a_dead_child_is_a_clear_error(forkable):
    def fail(group):
        raise ValueError(f"bad group {group}")

    with pytest.raises(ValueError, match="bad group"):
        forked.map_forked(fail, [[1], [2]], workers=2)
    with pytest.raises(GristmillError, match="died before it finished"):
        forked.map_forked(lambda group: os._exit(3), [[1], [2]], workers=2)


def _frozen(group: list[int]) -> tuple[int, int]:
    import gc

    return gc.get_freeze_count(), len(group)


def test_children_leave_what_they_inherited_to_reference_counting(forkable):
    import gc

    assert gc.get_freeze_count() == 0  # the driver (perhaps a user's notebook) is never frozen
    out = forked.map_forked(_frozen, [[1], [2, 3]], workers=2)
    assert all(frozen > 1000 for frozen, _ in out)  # the modules and objects inherited from this process
    assert gc.get_freeze_count() == 0


def test_paused_gc_holds_the_collector_and_restores_it():
    import gc

    assert gc.isenabled()
    with forked.paused_gc():
        assert not gc.isenabled()
        built = [[i] for i in range(10)]
    assert gc.isenabled()
    assert not any(o is built for o in gc.get_objects(generation=0))
    assert any(o is built for o in gc.get_objects(generation=2))  # moved to the oldest generation
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        with forked.paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
    with pytest.raises(ValueError), forked.paused_gc():
        raise ValueError("restored on error too")
    assert gc.isenabled()
