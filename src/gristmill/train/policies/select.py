"""Sample-level policies: select the hardest samples of each batch, or the most learnable (RHO-loss),
or reweight every sample by its loss.

These act on the per-sample loss the loop already computed (reduction='none'), before the backward pass:
a selection is a 0/1 mask, a reweighting any non-negative vector (the loop divides by its sum, so the
loss scale stays that of a mean). The sampler keeps the policy's (static) domain mixture, ``init``.
"""

from __future__ import annotations

import math

import torch

from gristmill.train.policies.base import Feedback, Policy, register_policy


def _top_mask(score: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    k = max(1, math.ceil(keep_fraction * score.numel()))
    idx = torch.topk(score.float(), k, sorted=False).indices
    mask = torch.zeros_like(score, dtype=torch.float32)
    mask[idx] = 1.0
    return mask


@register_policy("hard")
class HardSelection(Policy):
    """Train on the ``keep_fraction`` highest-loss samples of each micro-batch.

    Follows online batch selection by loss (Loshchilov & Hutter 2015; Jiang et al. 2019, "Selective
    Backprop"). Where it differs: the papers score a larger candidate pool with a forward pass and
    back-propagate only the chosen samples; here the candidates are the micro-batch itself and the loss
    from the training forward is reused, so selection costs a top-k (nothing measurable) but back-prop
    still runs over the whole batch (masked). Tokens in ``metrics.jsonl`` count every sample drawn.
    """

    kind = "select"

    def __init__(self, domains, natural, *, keep_fraction: float = 0.5, **base) -> None:
        if not 0 < keep_fraction <= 1:
            raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
        self.keep_fraction = float(keep_fraction)
        super().__init__(domains, natural, **base)

    def sample_weights(self, loss, domain, ref_loss):
        return _top_mask(loss, self.keep_fraction)


@register_policy("rho")
class RhoLoss(Policy):
    """RHO-loss: train on the samples with the highest *reducible* loss, model loss minus reference loss.

    Follows Mindermann et al. 2022, "Prioritized Training on Points that are Learnable, Worth Learning, and
    Not Yet Learnt": a noisy sample has high loss under both models and is skipped, an already-learnt one
    has low model loss and is skipped. Where it differs: the paper's irreducible-loss model is trained on a
    held-out set and its losses are precomputed; here any reference model given by ``policy.reference``
    (e.g. a short run of the same config) is run alongside, and the candidate pool is the micro-batch
    (see ``hard``). Costs one reference forward per micro-batch.
    """

    kind = "select"
    needs_reference = True

    def __init__(self, domains, natural, *, keep_fraction: float = 0.5, **base) -> None:
        if not 0 < keep_fraction <= 1:
            raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
        self.keep_fraction = float(keep_fraction)
        super().__init__(domains, natural, **base)

    def sample_weights(self, loss, domain, ref_loss):
        return _top_mask(loss - ref_loss, self.keep_fraction)


@register_policy("reweight")
class LossReweight(Policy):
    """Per-sample loss weights w ∝ exp(clip(z, ±z_max) / τ), z the loss standardised by running stats.

    Follows the idea of Sow et al. 2025, "Dynamic Loss-Based Sample Reweighting for Improved Large Language
    Model Pretraining": move gradient mass toward samples whose loss is high relative to the rest, without
    dropping any. Where it differs: the paper normalises within each batch and studies several weight
    functions; here z uses a running mean and standard deviation of the all-reduced per-domain stats (so the
    same loss gets the same weight on every rank), with one exponential weight function and a clip.
    """

    kind = "reweight"

    def __init__(
        self, domains, natural, *, tau: float = 2.0, z_max: float = 3.0, momentum: float = 0.9, **base
    ) -> None:
        if tau <= 0 or z_max <= 0:
            raise ValueError(f"tau and z_max must be > 0, got tau={tau}, z_max={z_max}")
        self.tau, self.z_max, self.momentum = float(tau), float(z_max), float(momentum)
        super().__init__(domains, natural, **base)
        self.mean, self.std, self.ready = 0.0, 1.0, False

    def on_step(self, feedback: Feedback) -> bool:
        if feedback.stats.count.sum() > 0:
            m, s = feedback.stats.global_mean_std()
            if not self.ready:
                self.mean, self.std, self.ready = m, s, True
            else:
                self.mean = self.momentum * self.mean + (1 - self.momentum) * m
                self.std = self.momentum * self.std + (1 - self.momentum) * s
        return super().on_step(feedback)

    def sample_weights(self, loss, domain, ref_loss):
        if not self.ready:
            return None
        z = ((loss.float() - self.mean) / max(self.std, 1e-6)).clamp(-self.z_max, self.z_max)
        return torch.exp(z / self.tau)

    def extra_state(self) -> dict:
        return {"mean": self.mean, "std": self.std, "ready": self.ready}

    def load_extra_state(self, state: dict) -> None:
        self.mean, self.std, self.ready = float(state["mean"]), float(state["std"]), bool(state["ready"])


__all__ = ["HardSelection", "RhoLoss", "LossReweight"]
