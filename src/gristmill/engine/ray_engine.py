"""The Ray executor: the local executor's stages, chunks and files, with chunks run as Ray tasks.

Only the pool differs, so output, resume and determinism are the local engine's. On one machine this needs
nothing more; on a cluster the output folder must be on storage that every node sees (NFS, a mounted
bucket), since each task writes its chunk's files itself. Operators the user registered in the driver
(``@register``) reach the tasks inside the worker configuration, pickled by value (engine/custom_ops.py).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from gristmill.engine.local import LocalExecutor
from gristmill.engine.worker import WorkerConfig, process_chunk
from gristmill.errors import UsageError


class _RayPool:
    def __init__(self, workers: int) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("the Ray engine needs the ray extra: pip install 'gristmill[ray]'") from None
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self._task = ray.remote(num_cpus=1, max_retries=2)(process_chunk)

    def submit(self, fn: Any, *args: Any) -> Future:
        return self._task.remote(*args).future()

    def shutdown(self, cancel_futures: bool = True) -> None:
        if self._owns:
            self._ray.shutdown()


class RayExecutor(LocalExecutor):
    """Runs every chunk as a Ray task (``--engine ray``); also when ``workers`` is 1."""

    def _make_pool(self, cfg: WorkerConfig) -> Any:
        return _RayPool(self.workers)
