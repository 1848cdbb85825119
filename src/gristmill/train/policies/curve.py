"""A loss-curve-driven mixer (ADO-style): give tokens to the domains whose fitted learning curve is steepest.

Follows Jiang et al. 2024, "Adaptive Data Optimization: Dynamic Sample Selection with Scaling Laws" (ADO):
fit a power law L_i(n) = ε_i + β_i n^(-a_i) to each domain's training loss, and sample in proportion to
the predicted loss reduction per sample, a_i (L̂_i(n) - ε_i) / n, times a prior and ADO's credit term
sqrt(h_i (1 - h_i)) on the recent sampling history h, smoothed over time.

Where it differs:
- *n is the samples drawn from that domain* (``counts: domain``; ADO's code offers it, its default is
  the total). With the total, a domain's slope does not fall as it gets more data, the credit term
  rewards the domains already sampled most, and the mixture collapses: at 1M tokens in the mixing
  benchmark the first version put 0.56 on code and 0.33 on the scarce chat domain (being memorised) and
  starved the other six at 0.018, losing 0.33 in average held-out loss. Per domain, a domain has to show
  proportionally more progress to keep more tokens.
- The fit is a grid over ε with closed-form least squares in log space on window means (``update_every``
  steps each), over the whole history (``fit_window`` = 1; less keeps only the most recent share), instead
  of L-BFGS from a grid of starts on Savitzky-Golay-smoothed per-step losses: microseconds per update.
- An exponential moving average (``smoothing``) instead of ADO's running mean of all past mixtures, and
  the shared guard rails instead of ADO's 0.01 floor: at least 1/(4K) per domain, at most ×1.5 per update.
- The prior is uniform by default (ADO: natural proportions), because a natural prior starves a scarce
  domain; instead, each score is multiplied by what a repeated token is worth next to a fresh one,
  exp(-repetitions / ``repeat_scale``) with R* = 15.4 from Muennighoff et al. 2023, "Scaling
  Data-Constrained Language Models". Training loss cannot tell learning from memorisation: at 3M tokens
  the version without it gave the 8.7k-token chat domain 0.17 of the mixture (60 epochs) and its
  held-out loss ended 0.12 worse than uniform's.
A noisy domain has a flat curve once its character statistics are learnt (ε ≈ its loss), so its weight
falls to the floor: the property ODM lacks.
"""

from __future__ import annotations

import numpy as np

from gristmill.train.policies.base import DomainStats, Feedback, Policy, register_policy, repeat_value


def fit_power_law(n: np.ndarray, loss: np.ndarray, grid: int = 24) -> tuple[float, float, float]:
    """Fit L = eps + beta * n^(-a) by a grid over eps and least squares on log(L - eps); returns (eps, beta, a)."""
    n = np.asarray(n, dtype=np.float64)
    loss = np.asarray(loss, dtype=np.float64)
    ln = np.log(n)
    best = (float(loss.min()) * 0.5, 1.0, 0.0)
    best_err = np.inf
    for eps in np.linspace(0.0, 0.98 * loss.min(), grid):
        y = np.log(loss - eps)
        A = np.stack([np.ones_like(ln), -ln], axis=1)
        (logb, a), *_ = np.linalg.lstsq(A, y, rcond=None)
        a = float(np.clip(a, 0.0, 1.5))
        pred = eps + np.exp(logb) * n ** (-a)
        err = float(np.sum((np.log(pred) - np.log(loss)) ** 2))
        if err < best_err:
            best, best_err = (float(eps), float(np.exp(logb)), a), err
    return best


@register_policy("ado")
class LossCurveMixer(Policy):
    default_max_change = 1.5
    MAX_POINTS = 256  # a long run's history is fitted on this many evenly spaced window means
    default_floor_share = 0.25  # at least 1/(4K) per domain

    def __init__(
        self,
        domains,
        natural,
        *,
        min_points: int = 4,
        fit_window: float = 1.0,
        smoothing: float = 0.8,
        history_decay: float = 0.9,
        prior: str = "uniform",
        counts: str = "domain",
        repeat_scale: float = 15.4,
        **base,
    ) -> None:
        if counts not in ("domain", "total"):
            raise ValueError(f"counts must be 'domain' or 'total', got {counts!r}")
        self.counts = counts
        if repeat_scale < 0:
            raise ValueError(f"repeat_scale must be >= 0 (0: off), got {repeat_scale}")
        self.repeat_scale = float(repeat_scale)
        if prior not in ("uniform", "natural"):
            raise ValueError(f"prior must be 'uniform' or 'natural', got {prior!r}")
        if not 0 < fit_window <= 1:
            raise ValueError(f"fit_window must be in (0, 1], got {fit_window}")
        self.min_points, self.fit_window = int(min_points), float(fit_window)
        self.smoothing, self.history_decay, self.prior_name = float(smoothing), float(history_decay), prior
        super().__init__(domains, natural, **base)
        self.prior = self.natural.copy() if prior == "natural" else np.full(self.k, 1.0 / self.k)
        self.samples_seen = np.zeros(len(domains))
        self.hist_n: list[list[float]] = []
        self.hist_loss: list[list[float]] = []
        self.recent = self.weights.copy()
        self.epochs = np.zeros(self.k)

    def on_step(self, feedback: Feedback) -> bool:
        s = feedback.stats
        self.epochs = self.passes(feedback.tokens_per_domain)
        if s.count.sum() > 0:
            self.samples_seen = self.samples_seen + (s.count if self.counts == "domain" else s.count.sum())
            self.recent = self.history_decay * self.recent + (1 - self.history_decay) * s.count / s.count.sum()
        return super().on_step(feedback)

    def fit(self) -> list[dict[str, float] | None]:
        """Each domain's power law fitted on the (bounded) history: eps, beta, a, the last n, the predicted
        loss there and the slope a(L̂ - eps)/n; None for a domain with fewer than ``min_points`` windows."""
        if not self.hist_n:
            return [None] * self.k
        keep = max(self.min_points, int(np.ceil(self.fit_window * len(self.hist_n))))
        rows = np.unique(np.linspace(len(self.hist_n) - min(keep, len(self.hist_n)), len(self.hist_n) - 1,
                                     num=min(keep, self.MAX_POINTS)).round().astype(int))  # bounded cost
        n = np.asarray(self.hist_n)[rows]
        curves = np.asarray(self.hist_loss, dtype=np.float64)[rows]
        out: list[dict[str, float] | None] = []
        for i in range(self.k):
            ok = np.isfinite(curves[:, i])  # a window that drew no sample of the domain holds NaN
            if ok.sum() < self.min_points:
                out.append(None)
                continue
            eps, beta, a = fit_power_law(n[ok, i], curves[ok, i])
            pred = eps + beta * n[-1, i] ** (-a)
            out.append({"eps": eps, "beta": beta, "a": a, "n": float(n[-1, i]), "predicted_loss": float(pred),
                        "slope": float(a * max(pred - eps, 0.0) / n[-1, i])})
        return out

    def utility(self) -> dict:
        """The fitted learning curve of every domain (see :meth:`fit`) and its repetitions so far."""
        return {"curves": dict(zip(self.domains, self.fit(), strict=True)),
                "epochs": dict(zip(self.domains, self.epochs.tolist(), strict=True))}

    def update(self, stats: DomainStats) -> np.ndarray | None:
        loss = stats.mean_loss()
        self.hist_n.append(self.samples_seen.tolist())
        self.hist_loss.append(loss.tolist())
        slope = np.array([np.nan if f is None else f["slope"] for f in self.fit()])
        if np.isnan(slope).all():
            return None
        slope = np.where(np.isnan(slope), np.nanmean(slope), slope)  # not enough points yet: the average
        credit = np.sqrt(self.recent * (1 - self.recent))
        score = self.prior * slope * credit * repeat_value(self.epochs, self.repeat_scale)
        if score.sum() <= 0:
            return None
        return self.smoothing * self.weights + (1 - self.smoothing) * score / score.sum()

    def extra_state(self) -> dict:
        return {  # epochs are not state: on_step sets them from the feedback before every update
            "samples_seen": self.samples_seen.tolist(), "hist_n": list(self.hist_n), "hist_loss": list(self.hist_loss),
            "recent": self.recent.tolist(),
        }

    def load_extra_state(self, state: dict) -> None:
        self.samples_seen = np.asarray(state["samples_seen"], dtype=np.float64)
        self.hist_n = [list(x) for x in state["hist_n"]]
        self.hist_loss = [list(x) for x in state["hist_loss"]]
        self.recent = np.asarray(state["recent"], dtype=np.float64)
