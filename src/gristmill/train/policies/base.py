"""The data policy contract: a small class, registered by name, that turns loss feedback into decisions.

After each optimizer step the loop hands the policy a :class:`Feedback`: per-domain sums of per-sample
loss (and of a reference model's loss when the policy asks for one), all-reduced across ranks so every rank
holds the same numbers. On its cadence (``warmup_steps``, then every ``update_every`` steps) the policy
may return new *domain weights* (mixing). Before the backward pass the loop also asks
:meth:`Policy.sample_weights` for *per-sample loss weights* given the micro-batch's per-sample loss:
a 0/1 mask is a selection, any other non-negative vector a reweighting, ``None`` the plain mean.

A custom policy is::

    @register_policy("mine")
    class Mine(Policy):
        def __init__(self, domains, natural, *, strength: float = 1.0, **base):
            super().__init__(domains, natural, **base)
            self.strength = strength

        def update(self, stats):          # stats: DomainStats over the last window, same on every rank
            return self.weights * np.exp(self.strength * stats.mean_loss())   # normalized by the caller

New weights pass through :meth:`Policy.guard` (a floor per domain, ``min_weight``, and a limit on how far a
weight moves in one update, ``max_change``), the same for every mixer; a policy sets its own defaults.
Everything a policy needs to resume lives in :meth:`state_dict` (numbers and numpy arrays only).
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from gristmill.errors import UsageError

_REGISTRY: dict[str, type[Policy]] = {}


def register_policy(name: str):
    """Class decorator: make a policy available as ``policy.name: <name>``."""

    def wrap(cls: type[Policy]) -> type[Policy]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"policy {name!r} is already registered by {_REGISTRY[name].__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def available_policies() -> list[str]:
    return sorted(_REGISTRY)


def get_policy_class(name: str) -> type[Policy]:
    if name not in _REGISTRY:
        hint = difflib.get_close_matches(name, _REGISTRY, n=1)
        raise UsageError(
            f"policy.name: unknown strategy {name!r}"
            + (f"; did you mean {hint[0]!r}?" if hint else "")
            + f" (available: {', '.join(available_policies())})"
        )
    return _REGISTRY[name]


def policy_params(cls: type[Policy]) -> dict[str, Any]:
    """The keyword parameters a policy accepts (its own and the base class's) with their defaults."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass) and issubclass(klass, Policy):
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.kind is p.KEYWORD_ONLY:
                    out[p.name] = p.default
    return out


def make_policy(name: str, domains: list[str], natural: np.ndarray, params: dict[str, Any]) -> Policy:
    """Build a registered policy; unknown parameters are an error listing the valid ones."""
    cls = get_policy_class(name)
    valid = policy_params(cls)
    for key in params:
        if key not in valid:
            hint = difflib.get_close_matches(key, valid, n=1)
            raise UsageError(
                f"policy.{key}: not a parameter of policy {name!r}"
                + (f"; did you mean {hint[0]}?" if hint else "")
                + f" (valid: {', '.join(sorted(valid))})"
            )
    try:
        return cls(list(domains), np.asarray(natural, dtype=np.float64), **params)
    except (TypeError, ValueError) as e:
        raise UsageError(f"policy {name!r}: {e}") from e


@dataclass
class DomainStats:
    """Per-domain sums over a window of steps (already all-reduced): loss, loss², count, reference loss."""

    loss_sum: np.ndarray
    loss_sq: np.ndarray
    count: np.ndarray
    ref_sum: np.ndarray
    ref_count: np.ndarray

    @classmethod
    def zeros(cls, k: int) -> DomainStats:
        return cls(*(np.zeros(k) for _ in range(5)))

    @staticmethod
    def device_sums(k: int, device: torch.device | str) -> torch.Tensor:
        """A [5, k] float64 tensor in this class's vector layout, for sums kept on the model's device."""
        return torch.zeros(5, k, dtype=torch.float64, device=device)

    @staticmethod
    def add_batch(sums: torch.Tensor, loss: torch.Tensor, domain: torch.Tensor, ref: torch.Tensor | None) -> None:
        """Add a micro-batch's per-sample losses (and reference losses) to ``sums``, on the device: no host sync."""
        lp = loss.detach().double()
        sums[0].index_add_(0, domain, lp)
        sums[1].index_add_(0, domain, lp * lp)
        sums[2].index_add_(0, domain, torch.ones_like(lp))
        if ref is not None:
            sums[3].index_add_(0, domain, ref.double())
            sums[4].index_add_(0, domain, torch.ones_like(lp))

    def to_vector(self) -> np.ndarray:
        return np.concatenate([self.loss_sum, self.loss_sq, self.count, self.ref_sum, self.ref_count])

    @classmethod
    def from_vector(cls, v: np.ndarray) -> DomainStats:
        return cls(*np.split(np.asarray(v, dtype=np.float64), 5))

    def __iadd__(self, other: DomainStats) -> DomainStats:
        for f in ("loss_sum", "loss_sq", "count", "ref_sum", "ref_count"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        return self

    def mean_loss(self) -> np.ndarray:
        """Mean per-sample loss per domain; NaN where the window drew no sample of the domain."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.loss_sum / np.maximum(self.count, 1), np.nan)

    def mean_ref(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.ref_count > 0, self.ref_sum / np.maximum(self.ref_count, 1), np.nan)

    def global_mean_std(self) -> tuple[float, float]:
        n = self.count.sum()
        if n == 0:
            return 0.0, 1.0
        mean = self.loss_sum.sum() / n
        var = max(self.loss_sq.sum() / n - mean**2, 0.0)
        return float(mean), float(np.sqrt(var) + 1e-8)


@dataclass
class Feedback:
    """What the loop hands the policy after a step. ``stats`` is identical on every rank."""

    step: int
    stats: DomainStats
    tokens_per_domain: np.ndarray
    alignment: np.ndarray | None = None  # K×K <g_i, P g_j> on probe steps (needs_domain_gradients only)


def weighted_loss(loss: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """The loss to optimise: the plain mean, or the policy's per-sample weights (a 0/1 mask selects)."""
    return loss.mean() if weights is None else (weights * loss).sum() / weights.sum().clamp_min(1e-12)


def repeat_value(epochs: np.ndarray, scale: float) -> np.ndarray:
    """What one more token of each domain is worth next to a fresh one, given how many times the domain has
    been seen (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models": repeated data decays
    as exp(-repetitions / R*), R* ≈ 15.4). A scarce domain's training signal keeps improving as it is
    memorised; this keeps that from reading as progress. ``scale`` 0: off."""
    if not scale:
        return np.ones(len(epochs))
    return np.exp(-np.maximum(np.asarray(epochs, dtype=np.float64) - 1.0, 0.0) / scale)


def normalize(w: np.ndarray) -> np.ndarray:
    w = np.clip(np.nan_to_num(np.asarray(w, dtype=np.float64), nan=0.0, posinf=0.0), 0.0, None)
    s = w.sum()
    return w / s if s > 0 else np.full_like(w, 1.0 / len(w))


def floor_weights(w: np.ndarray, floor: float) -> np.ndarray:
    """The mixture nearest ``w`` (scaling the rest down) in which every weight is at least ``floor``."""
    w = normalize(w)
    low = np.zeros(len(w), dtype=bool)
    for _ in range(len(w)):
        low |= w < floor
        rest = w[~low].sum()
        w = np.where(low, floor, w * (1 - floor * low.sum()) / rest if rest > 0 else 0.0)
        if not (w < floor - 1e-15).any():
            break
    return w


def project_to_band(target: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The mixture clip(λ·target, lo, hi) that sums to 1 (λ by bisection: the sum grows with λ)."""
    if lo.sum() >= 1:
        return lo / lo.sum()
    if hi.sum() <= 1:
        return hi / hi.sum()
    target = np.maximum(target, 1e-12)
    a, b = 0.0, 1.0
    while np.clip(b * target, lo, hi).sum() < 1:
        b *= 2
    for _ in range(60):
        m = (a + b) / 2
        a, b = (m, b) if np.clip(m * target, lo, hi).sum() < 1 else (a, m)
    w = np.clip(b * target, lo, hi)
    return w / w.sum()


class Policy:
    """Base class: fixed initial weights, a warmup-then-every-N cadence, and the state round-trip."""

    name: ClassVar[str] = "base"
    kind: ClassVar[str] = "mix"  # mix | select | reweight (what the policy changes)
    needs_reference: ClassVar[bool] = False
    needs_domain_gradients: ClassVar[bool] = False  # the loop then sets Feedback.alignment every
    # ``gradient_every`` steps (see gristmill.train.gradients), on a sketch of ``sketch_size`` coordinates
    gradient_every: int = 0
    sketch_size: int = 0

    def __init__(
        self,
        domains: list[str],
        natural: np.ndarray,
        *,
        warmup_steps: int = 0,
        update_every: int = 10,
        init: str = "uniform",
        reference: str | None = None,
        min_weight: float | None = None,
        max_change: float | None = None,
        reference_every: int | None = None,
        init_weights_from: str | None = None,
    ) -> None:
        if init not in ("uniform", "natural"):
            raise ValueError(f"init must be 'uniform' or 'natural', got {init!r}")
        k = len(domains)
        min_weight = self.default_min_weight(k) if min_weight is None else float(min_weight)
        max_change = self.default_max_change if max_change is None else float(max_change)
        if not 0 <= min_weight * k < 1:
            raise ValueError(f"min_weight × domains must be in [0, 1), got {min_weight} × {k}")
        if max_change != 0 and max_change <= 1:
            raise ValueError(f"max_change must be > 1 (a factor per update) or 0 (no limit), got {max_change}")
        self.min_weight, self.max_change = min_weight, max_change
        self.reference_every = self.default_reference_every if reference_every is None else int(reference_every)
        if self.reference_every < 1:
            raise ValueError(f"reference_every must be at least 1 (steps), got {reference_every}")
        self.domains = list(domains)
        self.k = len(domains)
        self.domain_tokens = np.asarray(natural, dtype=np.float64)  # the domains' sizes (train tokens)
        self.natural = normalize(natural)
        self.warmup_steps = int(warmup_steps)
        self.update_every = max(1, int(update_every))
        self.init = init
        self.reference = reference
        self.init_weights_from = init_weights_from
        self.weights = self.start_weights()
        self.window = DomainStats.zeros(self.k)
        self.steps_seen = 0
        self.updates = 0

    # --- what subclasses override -------------------------------------------------------------------
    default_max_change: ClassVar[float] = 0.0  # 0: no limit on how fast weights move
    default_reference_every: ClassVar[int] = 1  # steps between reference forwards (needs_reference only)

    default_floor_share: ClassVar[float] = 0.0  # the default min_weight is this share of 1/K

    def default_min_weight(self, k: int) -> float:
        return self.default_floor_share / k

    def initial_weights(self) -> np.ndarray:
        return self.natural.copy() if self.init == "natural" else np.full(self.k, 1.0 / self.k)

    def start_weights(self) -> np.ndarray:
        """The first mixture: the one an earlier run learnt (``init_weights_from``: its output folder, see
        :mod:`gristmill.train.run_mixture`), lifted to this policy's floor; else :meth:`initial_weights`."""
        if not self.init_weights_from:
            return self.initial_weights()
        from gristmill.train.run_mixture import run_weights

        learnt = run_weights(self.init_weights_from, self.domains, "policy.init_weights_from")
        return floor_weights(learnt, self.min_weight) if self.min_weight else learnt

    def update(self, stats: DomainStats) -> np.ndarray | None:
        """New domain weights from the window's stats (None: keep the current ones)."""
        return None

    def sample_weights(
        self, loss: torch.Tensor, domain: torch.Tensor, ref_loss: torch.Tensor | None
    ) -> torch.Tensor | None:
        """Per-sample loss weights for this micro-batch (mask = selection); None = plain mean."""
        return None

    def extra_state(self) -> dict[str, Any]:
        return {}

    def utility(self) -> dict[str, Any]:
        """What the policy learnt about the domains, JSON-ready, for the run's ``mixture.json`` (e.g. fitted
        learning curves, gradient alignment); empty for a policy that learns nothing."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    # --- what the loop calls ------------------------------------------------------------------------
    def on_step(self, feedback: Feedback) -> bool:
        """Accumulate the step's (all-reduced) stats; on the cadence, update. Returns True if weights changed."""
        self.steps_seen += 1
        self.window += feedback.stats
        due = self.steps_seen >= self.warmup_steps and (
            (self.steps_seen - self.warmup_steps) % self.update_every == 0
        )
        if not due:
            return False
        new = self.update(self.window)
        self.window = DomainStats.zeros(self.k)
        if new is None:
            return False
        self.weights = self.guard(normalize(new))
        self.updates += 1
        return True

    def guard(self, new: np.ndarray) -> np.ndarray:
        """The same guard rails for every mixer: no domain below ``min_weight`` (lifted, the others scaled
        down in proportion), and no weight moved by more than ``max_change``× in one update. A starved
        domain is forgotten and its loss climbs back, which costs more than the few tokens a floor spends;
        a mixture that jumps chases the noise of one window."""
        target = floor_weights(new, self.min_weight) if self.min_weight else new
        if not self.max_change:
            return target
        lo = np.maximum(self.weights / self.max_change, self.min_weight)
        hi = np.maximum(self.weights * self.max_change, lo)
        return project_to_band(target, lo, hi)

    def passes(self, tokens_per_domain: np.ndarray) -> np.ndarray:
        """How many times each domain's training tokens have been drawn (0 for a domain of unknown size)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.domain_tokens > 0, np.asarray(tokens_per_domain) / self.domain_tokens, 0.0)

    def weights_dict(self) -> dict[str, float]:
        return {d: float(w) for d, w in zip(self.domains, self.weights, strict=True)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weights": self.weights.tolist(),
            "window": self.window.to_vector().tolist(),
            "steps_seen": self.steps_seen,
            "updates": self.updates,
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(f"checkpoint holds policy {state.get('name')!r}, config asks for {self.name!r}")
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.window = DomainStats.from_vector(np.asarray(state["window"]))
        self.steps_seen = int(state["steps_seen"])
        self.updates = int(state["updates"])
        self.load_extra_state(state.get("extra", {}))
