"""torch.distributed helpers: identity when not initialised, so the loop and policies run unchanged on one process."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as tdist


def init_from_env() -> bool:
    """Start the process group when launched by torchrun (WORLD_SIZE > 1); gloo on CPU, nccl on GPU."""
    if tdist.is_available() and not tdist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        tdist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        return True
    return False


def is_dist() -> bool:
    return tdist.is_available() and tdist.is_initialized()


def rank() -> int:
    return tdist.get_rank() if is_dist() else 0


def world_size() -> int:
    return tdist.get_world_size() if is_dist() else 1


def all_reduce_sum(x: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """Sum a float64 vector over ranks (identity on one process), so every rank holds identical numbers."""
    if not is_dist():
        return np.asarray(x, dtype=np.float64)
    t = torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)
    tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
    return t.cpu().numpy()


def barrier() -> None:
    if is_dist():
        tdist.barrier()


def all_reduce_tensor(t: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over ranks in place (identity on one process); returns it."""
    if is_dist():
        tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
    return t
