"""Static mixtures: the baselines every dynamic policy is measured against."""

from __future__ import annotations

import numpy as np

from gristmill.train.policies.base import Policy, register_policy


@register_policy("uniform")
class Uniform(Policy):
    """Every domain equally often, whatever its size (the usual baseline; up-samples scarce domains)."""

    def initial_weights(self) -> np.ndarray:
        return np.full(self.k, 1.0 / self.k)


@register_policy("natural")
class Natural(Policy):
    """Domains in proportion to their training tokens: what concatenating the corpus would give."""

    def initial_weights(self) -> np.ndarray:
        return self.natural.copy()


@register_policy("temperature")
class Temperature(Policy):
    """Natural proportions flattened by a temperature: w ∝ p^(1/τ) (τ=1 natural, τ→∞ uniform).

    As used for multilingual sampling (Arivazhagan et al. 2019, "Massively Multilingual NMT"; XLM-R with
    α = 1/τ = 0.3).
    """

    def __init__(self, domains, natural, *, tau: float = 2.0, **base) -> None:
        if tau <= 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        self.tau = float(tau)
        super().__init__(domains, natural, **base)

    def initial_weights(self) -> np.ndarray:
        w = self.natural ** (1.0 / self.tau)
        return w / w.sum()


@register_policy("static")
class Static(Policy):
    """Fixed weights per domain: explicit (``policy.weights: {books: 0.5, code: 0.5}``, summing to 1) or the
    mixture an earlier run learnt (``policy.weights_from: RUN_DIR``, see :mod:`gristmill.train.run_mixture`)."""

    def __init__(self, domains, natural, *, weights: dict[str, float] | None = None, weights_from: str | None = None,
                 **base) -> None:
        given = [k for k, v in (("weights", weights), ("weights_from", weights_from),
                                ("init_weights_from", base.get("init_weights_from"))) if v]
        if len(given) > 1:
            raise ValueError(f"policy 'static' takes one of policy.weights, policy.weights_from, "
                             f"policy.init_weights_from; got {' and '.join(given)}")
        run = weights_from or base.pop("init_weights_from", None)  # for a static policy the two mean the same
        if run:
            from gristmill.train.run_mixture import run_weights

            key = "policy.weights_from" if weights_from else "policy.init_weights_from"
            self._fixed = run_weights(run, list(domains), key)
            super().__init__(domains, natural, **base)
            return
        if not weights:
            raise ValueError("policy 'static' needs policy.weights, e.g. {books: 0.5, code: 0.5}, or "
                             "policy.weights_from: the output folder of a run whose learnt mixture to keep")
        unknown = sorted(set(weights) - set(domains))
        if unknown:
            raise ValueError(f"policy.weights names unknown domains {unknown} (domains: {list(domains)})")
        missing = sorted(set(domains) - set(weights))
        if missing:
            raise ValueError(f"policy.weights has no weight for domains {missing}; give every domain one")
        vals = np.array([float(weights[d]) for d in domains])
        if (vals < 0).any():
            raise ValueError(f"policy.weights must be >= 0, got {weights}")
        if abs(vals.sum() - 1.0) > 1e-6:
            raise ValueError(f"policy.weights must sum to 1, they sum to {vals.sum():.6g}: {weights}")
        self._fixed = vals
        super().__init__(domains, natural, **base)

    def initial_weights(self) -> np.ndarray:
        return self._fixed.copy()
