"""Run a function over groups of work in forked copies of this process, which inherit its memory.

Re-deciding a parent version builds its decisions in the driver (what the parent stored, read once); the
per-chunk work that follows needs those decisions and nothing else. Forked children see them without any
pickling, each takes a share of the chunks and returns a small result. Forking is only safe while no other
Python thread runs (a pool's manager thread, an object store's IO loop), so otherwise, or with one
worker, or where fork does not exist, the groups run here, one after another, with the same results.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from gristmill.engine.worker import start_child
from gristmill.errors import GristmillError

T = TypeVar("T")
R = TypeVar("R")

_TASK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None  # what the forked children inherit


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector while building many long-lived objects at once (pandas' modules,
    the parent's word table): the allocations trigger full collections that walk everything and free
    nothing (0.2 s of a 20-month incremental run's serial start, in two such collections and ~250 small
    ones). What was built then moves to the oldest generation, which only the rare full collections walk.
    Reference counting still frees what it always frees."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():  # (a caller's own frozen objects stay frozen)
            gc.freeze()  # straight to the oldest generation, without a traversal: the young ones would
            gc.unfreeze()  # each walk all of it once more (0.06-0.09 s in the driver)
        if was:
            gc.enable()


def import_pandas() -> None:
    """Import pandas before forking: pyarrow imports it (when installed) on a process's first ``take`` or
    array conversion, about 0.3 CPU-seconds that each forked child would otherwise pay again."""
    with contextlib.suppress(ImportError), paused_gc():
        import pandas  # noqa: F401


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def groups_of(items: Sequence[T], workers: int, per_worker: int = 2) -> list[list[T]]:
    """``items`` dealt round-robin into up to ``workers * per_worker`` groups (neighbouring chunks are
    alike in size, so dealing them out keeps the groups even)."""
    n = min(len(items), max(1, workers * per_worker))
    return [list(items[i::n]) for i in range(n)]


def map_forked(fn: Callable[[T], R], groups: Sequence[T], workers: int) -> list[R]:
    """``[fn(g) for g in groups]``, in up to ``workers`` forked children when that is safe.

    ``fn`` runs in a child that inherited this process as it is now, and may be called there for more
    than one group: it must not rely on state an earlier group left behind. Exceptions reach the caller.
    """
    global _TASK
    if workers <= 1 or len(groups) <= 1 or not can_fork():
        return [fn(g) for g in groups]
    import_pandas()
    _TASK = (fn, groups)
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(groups)), mp_context=ctx, initializer=start_child) as pool:
            futures = [pool.submit(_call, i) for i in range(len(groups))]
            return [worker_result(f) for f in futures]
    finally:
        _TASK = None


def worker_result(future: Future) -> Any:
    """A worker's result; a worker that died (killed, out of memory) is a clear error, not a traceback."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise GristmillError("a worker process died before it finished (killed, or out of memory?); the chunks "
                             "already done are kept: run the same command again to resume") from exc


def _call(i: int) -> Any:
    assert _TASK is not None, "map_forked's task is inherited by forking"
    fn, groups = _TASK
    return fn(groups[i])
