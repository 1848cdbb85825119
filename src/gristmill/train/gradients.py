"""Per-domain gradient alignment, measured inside an ordinary training step for policies that ask for it.

Training loss tells a mixer how fast each domain's *own* loss falls, not what a step on one domain does to
the others; the transfer is what decides the best mixture when the goal is the average over domains. The
first-order answer is a gradient inner product: an AdamW step along domain j's gradient g_j changes domain
i's loss by about -lr <g_i, P g_j>, with P = 1/(sqrt(v̂)+eps) the optimizer's own preconditioner (as in
DoGE, Fan et al. 2023, and LESS, Xia et al. 2024, which uses Adam-preconditioned gradients).

On a probe step the loop hands the micro-batch to :func:`probe_backward` instead of one backward pass:
each domain's rows are split in two halves and each half gets its own forward and backward. The gradient
that reaches the optimizer is the same sum as the plain batch's; on the way, the gradient of every half is
read off on a fixed coordinate sketch. Two halves give an unbiased self term <g_i^a, P g_i^b>: the plain
<g_i, P g_i> is inflated by the sampling noise of a small batch, most for the noisiest domain.
:func:`alignment` turns the ranks' summed sketches into the K×K matrix A (A_ij = <g_i, P g_j>; the diagonal
the split-half estimate; NaN where a domain was not drawn), identical on every rank.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from gristmill.train import dist
from gristmill.train.model import per_sample_loss


class GradientSketch:
    """A fixed, seeded subset of parameter coordinates (every coordinate when the model is small enough)."""

    def __init__(self, params: list[torch.nn.Parameter], size: int, seed: int) -> None:
        self.params = [p for p in params if p.requires_grad]
        total = sum(p.numel() for p in self.params)
        gen = torch.Generator().manual_seed(seed)
        # without replacement would need a permutation of every coordinate (GBs for a 7B model): sample
        # with replacement and drop repeats, which leaves slightly fewer than ``size`` distinct coordinates
        keep = None if total <= size else torch.randint(total, (size,), generator=gen).unique(sorted=True)
        self.index: list[torch.Tensor | None] = []
        start = 0
        for p in self.params:
            if keep is None:
                self.index.append(None)
            else:
                lo, hi = torch.searchsorted(keep, torch.tensor([start, start + p.numel()]))
                self.index.append((keep[lo:hi] - start).to(p.device))
            start += p.numel()
        self.size = total if keep is None else len(keep)

    def read(self, tensors: list[torch.Tensor | None]) -> torch.Tensor:
        """The sketch of one tensor per parameter (``p.grad``, an optimizer moment; None reads as zeros)."""
        parts = []
        for p, t, idx in zip(self.params, tensors, self.index, strict=True):
            n = p.numel() if idx is None else len(idx)
            if t is None:
                parts.append(torch.zeros(n, dtype=torch.float32, device=p.device))
            else:
                flat = t.detach().reshape(-1)
                parts.append((flat if idx is None else flat[idx]).float())
        return torch.cat(parts)

    def grads(self) -> torch.Tensor:
        return self.read([p.grad for p in self.params])


def probe_backward(
    model: Any,
    x: torch.Tensor,
    dom: torch.Tensor,
    k: int,
    sketch: GradientSketch,
    scale: float,
    autocast: Callable[[], Any],
    no_sync: Callable[[], Any] | None,
    offset: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward and backward ``x`` one (domain, half) group at a time, accumulating the same gradient as
    ``(per_sample_loss(model, x).sum() * scale).backward()``. Returns the per-sample loss [B] (detached),
    the per-group sums of per-sample gradients on the sketch [2k, m] and the group sizes [2k] (row 2d+h:
    domain d, half h). ``no_sync`` keeps DDP from reducing each group: the caller reduces once, after.
    ``offset`` (the rank's parity) alternates which half gets a domain's first row, so that two ranks with
    one sample each still fill both halves."""
    loss_ps = torch.empty(len(x), dtype=torch.float32, device=x.device)
    sums = torch.zeros(2 * k, sketch.size, dtype=torch.float32, device=x.device)
    sizes = torch.zeros(2 * k, dtype=torch.float64, device=x.device)
    dom_host = dom.cpu()
    before = sketch.grads()
    for d in range(k):
        rows = torch.nonzero(dom_host == d).flatten()
        halves = (rows[0::2], rows[1::2]) if offset % 2 == 0 else (rows[1::2], rows[0::2])
        for h, half in enumerate(halves):
            if len(half) == 0:
                continue
            half = half.to(x.device)
            with no_sync() if no_sync is not None else contextlib.nullcontext():
                with autocast():
                    loss = per_sample_loss(model, x[half])
                (loss.sum() * scale).backward()
            after = sketch.grads()
            sums[2 * d + h] = (after - before) / scale
            sizes[2 * d + h] = len(half)
            before = after
            loss_ps[half] = loss.detach().float()
    return loss_ps, sums, sizes


def average_gradients(params: list[torch.nn.Parameter]) -> None:
    """Mean of every parameter's gradient over ranks (what DDP's reducer does; identity on one process)."""
    world = dist.world_size()
    grads = [p.grad for p in params if p.grad is not None]
    if world == 1 or not grads:
        return
    flat = dist.all_reduce_tensor(torch.cat([g.reshape(-1) for g in grads])) / world  # one collective
    for g, part in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
        g.copy_(part.view_as(g))


def adam_preconditioner(optimizer: torch.optim.Optimizer, sketch: GradientSketch) -> torch.Tensor | None:
    """1/(sqrt(v̂)+eps) on the sketch, from AdamW's second moment; None before the first optimizer step."""
    state = [optimizer.state.get(p, {}) for p in sketch.params]
    if not state or any("exp_avg_sq" not in s for s in state):
        return None
    group = optimizer.param_groups[0]
    beta2, eps = group["betas"][1], group["eps"]
    step = float(state[0]["step"])
    v = sketch.read([s["exp_avg_sq"] for s in state]) / (1 - beta2**step)
    return 1.0 / (v.sqrt() + eps)


def alignment(sums: torch.Tensor, sizes: torch.Tensor, precond: torch.Tensor | None) -> torch.Tensor:
    """The K×K matrix A_ij = <g_i, P g_j> of mean per-domain gradients (float64, on the device), from sums
    already added up over ranks; the diagonal is the split-half estimate <g_i^a, P g_i^b>. NaN rows and
    columns for domains not drawn; a NaN diagonal where a domain had a single sample."""
    k = len(sizes) // 2
    s = sums.double().view(k, 2, -1)
    n = sizes.view(k, 2)
    p = torch.ones(s.shape[-1], dtype=torch.float64, device=s.device) if precond is None else precond.double()
    whole = s.sum(1) / n.sum(1, keepdim=True)  # NaN (0/0) for a domain with no sample
    a = (whole * p) @ whole.T
    halves = s / n.unsqueeze(-1)
    a.diagonal().copy_(((halves[:, 0] * p) * halves[:, 1]).sum(-1))
    return a
