"""A gradient-alignment mixer (DoGE-style): give tokens to the domains whose gradient lowers the *average*
loss over all domains the most, transfer to the other domains included.

Follows Fan, Pagliardini & Jaggi 2023, "DoGE: Domain Reweighting with Generalization Estimation": a step
on domain j changes domain i's loss by about -lr <g_i, g_j>, so the weight of domain j should grow with
Σ_i <g_i, g_j>, its first-order contribution to lowering the average loss. The loop measures the K×K
matrix A_ij = <g_i, P g_j> every ``gradient_every`` steps (:mod:`gristmill.train.gradients`).

Where it differs:
- *Online, in the run being trained*, not on a proxy whose averaged weights train a second model.
- The inner product is preconditioned by AdamW's second moment, P = 1/(sqrt(v̂)+eps): the direction the
  optimizer really moves (as LESS, Xia et al. 2024, does for data selection).
- The self term <g_j, g_j> is estimated from two disjoint halves of the domain's samples, <g_j^a, P g_j^b>:
  on a small batch the plain square is dominated by sampling noise, which would reward the noisiest domain
  (the weakness DoReMi's excess loss shows on unlearnable data).
- A is averaged over probes (``memory``, an exponential moving average), the weights follow the positive
  part of the gain, w_j ∝ max(mean_i A_ij, 0), smoothed like the loss-curve mixer's (``smoothing``) rather
  than DoGE's multiplicative update, and pass the shared guard rails (floor 1/(4K), at most ×1.5 per update).
- Repeated data is worth less: each gain is multiplied by exp(-repetitions / 15.4) (Muennighoff et al.
  2023), because the training gradient of a memorised domain stops saying anything about held-out text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gristmill.train.policies.base import DomainStats, Feedback, Policy, register_policy, repeat_value


@register_policy("doge")
class GradientAlignmentMixer(Policy):
    needs_domain_gradients = True
    default_max_change = 1.5
    default_floor_share = 0.25  # at least 1/(4K) per domain

    def __init__(
        self,
        domains,
        natural,
        *,
        gradient_every: int = 10,
        sketch_size: int = 1 << 20,
        memory: float = 0.98,
        smoothing: float = 0.8,
        repeat_scale: float = 15.4,
        **base: Any,
    ) -> None:
        if gradient_every < 1:
            raise ValueError(f"gradient_every must be at least 1 (steps), got {gradient_every}")
        if sketch_size < 1:
            raise ValueError(f"sketch_size must be at least 1 (coordinates), got {sketch_size}")
        if not 0 <= memory < 1 or not 0 <= smoothing < 1:
            raise ValueError(f"memory and smoothing must be in [0, 1), got {memory} and {smoothing}")
        if repeat_scale < 0:
            raise ValueError(f"repeat_scale must be >= 0 (0: off), got {repeat_scale}")
        self.gradient_every, self.sketch_size = int(gradient_every), int(sketch_size)
        self.memory, self.smoothing, self.repeat_scale = float(memory), float(smoothing), float(repeat_scale)
        super().__init__(domains, natural, **base)
        self.align = np.full((self.k, self.k), np.nan)
        self.epochs = np.zeros(self.k)

    def on_step(self, feedback: Feedback) -> bool:
        self.epochs = self.passes(feedback.tokens_per_domain)
        if feedback.alignment is not None:
            new = np.asarray(feedback.alignment, dtype=np.float64)
            seen = np.isfinite(new)
            old = np.isfinite(self.align)
            mixed = np.where(old, self.memory * self.align + (1 - self.memory) * new, new)
            self.align = np.where(seen, mixed, self.align)
        return super().on_step(feedback)

    def gain(self) -> np.ndarray:
        """Per domain j: mean_i <g_i, P g_j>, the first-order drop of the average loss per unit of weight on j."""
        return self.align.mean(axis=0)

    def update(self, stats: DomainStats) -> np.ndarray | None:
        if not np.isfinite(self.align).all():
            return None  # not every pair measured yet
        score = np.maximum(self.gain(), 0.0) * repeat_value(self.epochs, self.repeat_scale)
        if score.sum() <= 0:
            return None
        return self.smoothing * self.weights + (1 - self.smoothing) * score / score.sum()

    def extra_state(self) -> dict:
        return {"align": self.align.tolist()}  # NaN survives torch.save

    def utility(self) -> dict:
        """The averaged alignment matrix A_ij = <g_i, P g_j> (rows and columns in ``domains`` order; null
        where not measured) and each domain's gain, mean_i A_ij."""
        finite = np.isfinite(self.align)
        return {"alignment": [[float(v) if ok else None for v, ok in zip(row, oks, strict=True)]
                              for row, oks in zip(self.align, finite, strict=True)],
                "gain": {d: (float(g) if np.isfinite(g) else None) for d, g in zip(self.domains, self.gain(), strict=True)}}

    def load_extra_state(self, state: dict) -> None:
        self.align = np.asarray(state["align"], dtype=np.float64)
