"""Use any gristmill policy from an existing ``transformers.Trainer`` script, in a few lines::

    from gristmill.train.hf import PolicyData

    gm = PolicyData("shards/train", policy="odm", seq_len=256, update_every=10)
    trainer = gm.trainer_class(Trainer)(            # your Trainer (or subclass), unchanged otherwise
        model=model, args=args, train_dataset=gm.dataset, callbacks=[gm.callback],
    )
    trainer.train()

What each piece does:

- ``gm.dataset`` is an ``IterableDataset`` that draws windows from the token shards with the policy's
  *current* weights (so use ``dataloader_num_workers=0``: a worker process would hold a stale copy) and
  tags each sample with its domain id.
- ``gm.trainer_class(Trainer)`` returns a subclass whose ``compute_loss`` computes the per-sample loss once
  (reduction='none'), asks the policy for sample weights (selection/reweighting) and records the
  per-domain stats, and logs the weights with the Trainer's logs.
- ``gm.callback`` all-reduces those stats after each optimizer step (identical on every rank), feeds the
  policy, and saves the policy and sampler state next to each Trainer checkpoint
  (``gristmill_state.pt``); ``gm.load_state(checkpoint_dir)`` restores them before
  ``trainer.train(resume_from_checkpoint=...)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset
from transformers import TrainerCallback

from gristmill.errors import UsageError
from gristmill.shards import DomainShard, open_shards
from gristmill.train import dist
from gristmill.train.data import MixtureSampler
from gristmill.train.model import sequence_loss
from gristmill.train.policies import DomainStats, Feedback, Policy, make_policy, weighted_loss

STATE_FILE = "gristmill_state.pt"


class _PolicyDataset(IterableDataset):
    def __init__(self, owner: PolicyData) -> None:
        self.owner = owner

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        if info is not None:
            raise RuntimeError("gristmill PolicyData needs dataloader_num_workers=0 (weights change in-process)")
        o = self.owner
        while True:
            x, dom = o.sampler.sample(1, o.policy.weights)
            yield {"input_ids": x[0, :-1], "gm_targets": x[0, 1:], "gm_domain": dom[0]}


class _Callback(TrainerCallback):
    def __init__(self, owner: PolicyData) -> None:
        self.owner = owner

    def on_step_end(self, args, state, control, **kwargs):
        self.owner.end_step(state.global_step)

    def on_save(self, args, state, control, **kwargs):
        ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        ckpt.mkdir(parents=True, exist_ok=True)
        torch.save(self.owner.state_dict(), ckpt / (f"rank{dist.rank()}_" + STATE_FILE))


class PolicyData:
    """Token shards + a gristmill policy, wired for ``transformers.Trainer`` (dataset, loss hook, callback)."""

    def __init__(
        self,
        shards: str | os.PathLike | dict[str, DomainShard],
        policy: str | Policy = "uniform",
        *,
        seq_len: int = 128,
        seed: int = 0,
        **policy_params: Any,
    ) -> None:
        self.shards = open_shards(shards) if not isinstance(shards, dict) else shards
        self.domains = list(self.shards)
        natural = np.array([s.n_tokens for s in self.shards.values()], dtype=np.float64)
        self.policy = policy if isinstance(policy, Policy) else make_policy(policy, self.domains, natural, policy_params)
        if self.policy.needs_domain_gradients:  # the hook sees losses only: the policy would never move
            raise UsageError(
                f"policy {self.policy.name!r} needs per-domain gradient probes, which only `gristmill train` "
                "runs; with a Trainer use a loss-driven policy (odm, ado, doremi, ...)"
            )
        rank = dist.rank() if dist.is_dist() else int(os.environ.get("RANK", "0"))  # before accelerate's init
        self.sampler = MixtureSampler(list(self.shards.values()), seq_len, seed, rank)
        self.acc: torch.Tensor | None = None  # per-domain sums of this step, kept on the model's device
        self.tokens = np.zeros(len(self.domains))
        self.seq_len = seq_len
        self.dataset = _PolicyDataset(self)
        self.callback = _Callback(self)
        self.history: list[dict[str, Any]] = []
        self.steps_done = 0

    def loss(self, model: Any, inputs: dict[str, Any], reference: Any = None) -> tuple[torch.Tensor, Any]:
        """Per-sample loss once, policy sample weights, stats; returns (scalar loss, model outputs)."""
        dom = inputs.pop("gm_domain")
        targets = inputs.pop("gm_targets")
        inputs.pop("labels", None)
        outputs = model(**inputs, use_cache=False)
        loss_ps = sequence_loss(outputs.logits, targets)
        ref = None
        if reference is not None and self.steps_done % self.policy.reference_every == 0:
            with torch.no_grad():
                ref = sequence_loss(reference(input_ids=inputs["input_ids"]).logits, targets)
        w = self.policy.sample_weights(loss_ps.detach(), dom, ref)
        if self.acc is None:  # no host sync per micro-batch: the sums stay on the device until the step ends
            self.acc = DomainStats.device_sums(len(self.domains), loss_ps.device)
        DomainStats.add_batch(self.acc, loss_ps, dom.to(loss_ps.device), ref)
        return weighted_loss(loss_ps, w), outputs

    def end_step(self, step: int) -> None:
        """After an optimizer step: all-reduce the step's stats and feed the policy."""
        if self.acc is None:
            reduced = DomainStats.from_vector(dist.all_reduce_sum(np.zeros(5 * len(self.domains))))
        else:
            reduced = DomainStats.from_vector(dist.all_reduce_tensor(self.acc.flatten()).cpu().numpy())
            self.acc = None
        self.steps_done = step
        self.tokens += reduced.count * self.seq_len
        if self.policy.on_step(Feedback(step=step, stats=reduced, tokens_per_domain=self.tokens.copy())):
            self.history.append({"step": step, "weights": self.policy.weights_dict()})

    def trainer_class(self, base: type) -> type:
        """A subclass of ``base`` (a ``transformers.Trainer``) whose loss goes through the policy."""
        owner = self

        class GristmillTrainer(base):
            loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides by accumulation steps

            def __init__(self, *a: Any, reference_model: Any = None, **kw: Any) -> None:
                super().__init__(*a, **kw)
                self.model_accepts_loss_kwargs = False
                self.gristmill_reference = reference_model

            def _set_signature_columns_if_needed(self) -> None:
                super()._set_signature_columns_if_needed()  # keep our columns through remove_unused_columns
                if self._signature_columns is not None:
                    self._signature_columns = [*self._signature_columns, "gm_domain", "gm_targets"]

            def log(self, logs: dict[str, float], *a: Any, **kw: Any) -> None:
                logs.update({f"weight/{d}": round(w, 5) for d, w in owner.policy.weights_dict().items()})
                super().log(logs, *a, **kw)

            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                if "gm_domain" not in inputs:  # evaluation batches from a plain dataset
                    return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
                loss, outputs = owner.loss(model, inputs, self.gristmill_reference)
                return (loss, outputs) if return_outputs else loss

        GristmillTrainer.__name__ = f"Gristmill{base.__name__}"
        return GristmillTrainer

    def state_dict(self) -> dict[str, Any]:
        return {"policy": self.policy.state_dict(), "sampler": self.sampler.state_dict(), "tokens": self.tokens.tolist(),
                "steps_done": self.steps_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.sampler.load_state_dict(state["sampler"])
        self.tokens = np.asarray(state["tokens"], dtype=np.float64)
        self.steps_done = int(state.get("steps_done", 0))

    def load_state(self, checkpoint_dir: str | os.PathLike) -> None:
        """Restore policy and sampler from a Trainer checkpoint folder written with :attr:`callback`."""
        path = Path(checkpoint_dir) / (f"rank{dist.rank()}_" + STATE_FILE)
        self.load_state_dict(torch.load(path, weights_only=False))
