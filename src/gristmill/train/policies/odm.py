"""Online Data Mixing (ODM): domains as arms of an EXP3 bandit whose reward is the training loss.

Follows Albalak et al. 2023, "Efficient Online Data Mixing For Language Model Pre-Training": the reward of
domain *i* is its training loss divided by its sampling probability (importance weighting), smoothed by an
exponential moving average R̂_i ← α R̂_i + (1-α) L_i/π_i; the weights are
π = (1 - Kε_t) softmax(ε_t R̂) + ε_t with ε_t = min(1/K, sqrt(ln K / (K t))). Where it differs: the paper
draws a whole batch from one arm per step, here a batch mixes domains, so every domain present in the
window is updated at once (the importance weight still corrects for how often each is drawn), and the
update runs on ``update_every`` steps of all-reduced loss instead of one local batch. Cheap: O(K) per
update. Caveat inherited from the paper: loss, not loss *reduction*, is the reward, so a noisy domain with
high irreducible loss attracts weight.
"""

from __future__ import annotations

import numpy as np

from gristmill.train.policies.base import DomainStats, Policy, register_policy


@register_policy("odm")
class ODM(Policy):
    def __init__(self, domains, natural, *, alpha: float = 0.9, update_every: int = 1, **base) -> None:
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)
        super().__init__(domains, natural, update_every=update_every, **base)  # the paper updates every step
        self.reward = np.zeros(self.k)
        self.t = 0

    def epsilon(self, t: int) -> float:
        return min(1.0 / self.k, float(np.sqrt(np.log(self.k) / (self.k * max(t, 1)))))

    def update(self, stats: DomainStats) -> np.ndarray:
        self.t += 1
        loss = stats.mean_loss()
        seen = ~np.isnan(loss)
        r = np.where(seen, np.nan_to_num(loss) / np.maximum(self.weights, 1e-12), 0.0)
        self.reward = np.where(seen, self.alpha * self.reward + (1 - self.alpha) * r, self.reward)
        eps = self.epsilon(self.t)
        z = eps * self.reward
        soft = np.exp(z - z.max())
        soft /= soft.sum()
        return (1 - self.k * eps) * soft + eps

    def extra_state(self) -> dict:
        return {"reward": self.reward.tolist(), "t": self.t}

    def utility(self) -> dict:
        """EXP3's smoothed reward per domain (loss / sampling probability)."""
        return {"reward": dict(zip(self.domains, self.reward.tolist(), strict=True)), "updates": self.t}

    def load_extra_state(self, state: dict) -> None:
        self.reward = np.asarray(state["reward"], dtype=np.float64)
        self.t = int(state["t"])
