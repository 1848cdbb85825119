"""DoReMi, online: up-weight the domains where the model trails a reference model the most.

Follows Xie et al. 2023, "DoReMi: Optimizing Data Mixtures Speeds Up Language Model Pretraining": per
domain excess loss λ_i = max(L_model,i - L_ref,i, 0), multiplicative update α ← α · exp(η λ), renormalised
and mixed with uniform, α ← (1-c) α/Σα + c/K. The paper trains a small *proxy* with group DRO against a
reference and then trains the main model on the *average* of the proxy's weights; this class is the online
form (the model being trained is the proxy, and the current weights drive sampling), and it keeps the
running average (``average_weights``) that :func:`gristmill.train.doremi.run_doremi` uses for the classic
proxy → weights → main pipeline. Where it differs: the paper re-weights the loss of a uniformly sampled
batch (importance weighting), here the weights drive the sampler (lower-variance, cheaper); and excess loss
is averaged per sample over the window, not per token and per step; and the sampling weights keep a floor
of 1/(4K) per domain (``min_weight``; the paper's smoothing c = 1e-3 lets a domain starve: in the mixing
benchmark the noisy domain fell to weight 0.00, was forgotten, and its held-out loss climbed from 4.8 to
6.6). Needs a reference model. The reference is frozen, so its mean loss per domain is a constant: it is
averaged over the whole run from a forward every ``reference_every`` steps (default 8), which cuts the
reference's cost (about a quarter of step time when run every step) by that factor.
"""

from __future__ import annotations

import numpy as np

from gristmill.train.policies.base import DomainStats, Policy, register_policy


@register_policy("doremi")
class DoReMi(Policy):
    needs_reference = True
    default_reference_every = 8
    default_floor_share = 0.25  # at least 1/(4K) per domain

    def __init__(self, domains, natural, *, eta: float = 1.0, smoothing: float = 1e-3, **base) -> None:
        if eta <= 0 or not 0 <= smoothing < 1:
            raise ValueError(f"need eta > 0 and 0 <= smoothing < 1, got eta={eta}, smoothing={smoothing}")
        self.eta, self.smoothing = float(eta), float(smoothing)
        super().__init__(domains, natural, **base)
        self.log_alpha = np.log(self.weights)
        self.sum_weights = np.zeros(self.k)
        self.n_avg = 0
        self.run_stats = DomainStats.zeros(self.k)  # every window so far: the frozen reference's mean per domain

    def update(self, stats: DomainStats) -> np.ndarray:
        self.run_stats += stats
        excess = np.nan_to_num(np.maximum(stats.mean_loss() - self.run_stats.mean_ref(), 0.0))
        self.log_alpha = self.log_alpha + self.eta * excess
        a = np.exp(self.log_alpha - self.log_alpha.max())
        w = (1 - self.smoothing) * a / a.sum() + self.smoothing / self.k
        self.log_alpha = np.log(w)
        self.sum_weights += w
        self.n_avg += 1
        return w

    def average_weights(self) -> np.ndarray:
        """The mean of the weights over all updates: DoReMi's output mixture."""
        return self.sum_weights / self.n_avg if self.n_avg else self.weights.copy()

    def utility(self) -> dict:
        """Per domain, over the whole run: the reference's mean loss and the model's mean excess loss over it."""
        ref = self.run_stats.mean_ref()
        excess = self.run_stats.mean_loss() - ref
        clean = lambda v: {d: (float(x) if np.isfinite(x) else None) for d, x in zip(self.domains, v, strict=True)}  # noqa: E731
        return {"reference_loss": clean(ref), "excess_loss": clean(excess), "updates": self.n_avg}

    def extra_state(self) -> dict:
        return {"log_alpha": self.log_alpha.tolist(), "sum": self.sum_weights.tolist(), "n": self.n_avg,
                "run_stats": self.run_stats.to_vector().tolist()}

    def load_extra_state(self, state: dict) -> None:
        self.log_alpha = np.asarray(state["log_alpha"], dtype=np.float64)
        self.sum_weights = np.asarray(state["sum"], dtype=np.float64)
        self.n_avg = int(state["n"])
        self.run_stats = DomainStats.from_vector(np.asarray(state["run_stats"]))
