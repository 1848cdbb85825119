"""The training loop, in the order things happen (nanoGPT-plain), with a data policy in two visible places.

    x, dom = sampler.sample(batch, policy.weights)        # the policy's mixture picks the data
    loss_ps = per_sample_loss(model, x)                   # computed once, reduction='none'
    w = policy.sample_weights(loss_ps.detach(), dom, ref) # selection / reweighting (None: plain mean)
    ...backward, clip, step...
    policy.on_step(Feedback(all_reduce(stats)))           # identical numbers on every rank, one step late

Everything else (eval per domain, metrics.jsonl, checkpoints, resume) is written where it happens.

The run's state lives on one object, :class:`Run` (model, optimizer, sampler, policy, step, the stats waiting
for the policy), built by small ``_setup_*`` methods; :meth:`Run.fit` is the loop and :meth:`Run.train_step`
one optimizer step, top to bottom. :func:`train` is ``Run(cfg).fit()``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gristmill.errors import GristmillError, UsageError
from gristmill.train import checkpoint, dist
from gristmill.train.config import Config, dump_config
from gristmill.train.data import MixtureSampler, TrainData, eval_windows, load_data
from gristmill.train.doc_signals import DocTracker
from gristmill.train.gradients import (
    GradientSketch,
    adam_preconditioner,
    alignment,
    average_gradients,
    probe_backward,
)
from gristmill.train.model import (
    build_model,
    check_model_fits,
    count_params,
    flops_per_token,
    per_sample_loss,
    per_token_loss,
)
from gristmill.train.policies import DomainStats, Feedback, Policy, make_policy, weighted_loss
from gristmill.train.source import SOURCE_FILE


def lr_at(step: int, total: int, warmup: int, lr: float, min_ratio: float) -> float:
    """Linear warmup then cosine decay to ``min_ratio * lr``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    return torch.device(name)


@torch.no_grad()
def evaluate(model: Any, windows: dict[str, torch.Tensor], device: torch.device, autocast: Any) -> dict[str, float]:
    """Mean held-out loss per domain on fixed windows."""
    model.eval()
    out = {}
    for dom, w in windows.items():
        losses = []
        for i in range(0, len(w), 32):
            with autocast():
                losses.append(per_sample_loss(model, w[i : i + 32].to(device)))
        out[dom] = float(torch.cat(losses).mean())
    model.train()
    return out


def load_reference(cfg: Config, data: TrainData, device: torch.device) -> Any:
    """The frozen reference model a policy asked for (``policy.reference``: a model folder or a run's output)."""
    if not cfg.policy.reference:
        raise UsageError(
            f"policy {cfg.policy.name!r} needs a reference model: set policy.reference to a model folder or "
            f"to the output of an earlier run (e.g. one with --set policy.name=uniform)"
        )
    from gristmill.train.config import ModelConfig

    ref = build_model(ModelConfig(path=cfg.policy.reference), data.vocab_size, cfg.train.seq_len, data.eos_id)
    check_model_fits(ref, data.vocab_size, cfg.train.seq_len, where="policy.reference")
    ref.to(device).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _truncate_jsonl(path: Path, keep_below_step: int) -> None:
    if not path.exists():
        return
    rows = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] < keep_below_step]
    path.write_text("".join(r + "\n" for r in rows))


def _resume_from(cfg: Config, output: Path, device: torch.device) -> Path | None:
    """The checkpoint to resume from, verified, the same on every rank (rank 0 decides, then tells the others)."""
    tc, root = cfg.train, output / "checkpoints"
    if tc.resume is not True:
        folder = Path(str(tc.resume))
        why = checkpoint.check_explicit(folder)
        if why is not None:
            raise UsageError(f"train.resume: {why}")
        return folder
    code = 0  # rank 0's verdict: step + 1 to resume, 0 for a fresh start, -1 when it failed
    failure: Exception | None = None
    if dist.rank() == 0:
        try:
            found = checkpoint.find_resumable(root, warn=lambda m: print(m, flush=True))
            code = 0 if found is None else int(found.name.split("_")[1]) + 1
        except Exception as e:  # noqa: BLE001 - re-raised below, after the other ranks heard of it
            failure, code = e, -1
    code = int(dist.all_reduce_sum(np.array([code], dtype=np.float64), device)[0])
    if failure is not None:
        raise failure
    if code < 0:
        raise GristmillError("train.resume: rank 0 found no valid checkpoint")
    return checkpoint.step_folder(root, code - 1) if code else None


def prepare(cfg: Config) -> tuple[TrainData, Any, Policy]:
    """Everything that can be wrong with a config, checked before any training step: data, model, policy."""
    output = Path(cfg.output)
    data = load_data(cfg.data, output, cfg.train.seq_len)
    model = build_model(cfg.model, data.vocab_size, cfg.train.seq_len, data.eos_id)
    check_model_fits(model, data.vocab_size, cfg.train.seq_len)
    policy = make_policy(
        cfg.policy.name, data.domains, data.natural,
        {k: v for k, v in (("warmup_steps", cfg.policy.warmup_steps), ("update_every", cfg.policy.update_every),
                           ("reference", cfg.policy.reference)) if v is not None} | cfg.policy.params(),
    )
    if policy.needs_domain_gradients and policy.kind != "mix":
        raise UsageError(f"policy {policy.name!r}: per-domain gradients are measured for mixing policies only")
    if policy.needs_reference and not cfg.policy.reference:
        load_reference(cfg, data, torch.device("cpu"))  # raises the explanatory error
    if cfg.signals.doc_losses and DocTracker.for_shards(data.train, cfg.train.seq_len) is None:
        raise UsageError("signals.doc_losses: the training shards have no document map (ids per document); train "
                         "from a catalog version or data.text, or shards built by this version of gristmill")
    return data, model, policy


@dataclass
class _Window:
    """What the next metrics row averages over: wall time, policy time, tokens and step losses since the last eval."""

    t0: float = field(default_factory=time.perf_counter)
    policy_s: float = 0.0
    tokens: int = 0
    train_losses: list[float] = field(default_factory=list)


class Run:
    """One training run. Its state lives on this object, set up by small named methods (as torchtune's
    recipes do); :meth:`fit` is the loop, in the order a step happens (as in nanoGPT).

    ``feed_policy``, ``log_eval`` and ``save_checkpoint`` are the methods that change the run's state between
    steps; nothing is shared through closures.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg, self.tc = cfg, cfg.train
        self.output = Path(cfg.output)
        self.step = 0
        self.last: dict[str, Any] = {}
        self.window = _Window()
        # Step t's all-reduced stats reach the policy after step t+1's work is queued (train.feedback_delay):
        # reading them at once would make the host wait for the device every step and drain the GPU's queue.
        self.pending: list[tuple[int, torch.Tensor, Any, list[float] | None]] = []  # (step, stats, copy done, counts)
        self.steps_log: Any = None
        self.tb: Any = None

    # --- setup ----------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Everything before step 0, in this order (the order fixes the random streams: do not reorder)."""
        self._setup_process()
        self._setup_components()
        self._setup_optimizer()
        self._setup_sampling()
        self._resume_or_start_fresh()
        self._setup_logs()

    def _setup_process(self) -> None:
        dist.init_from_env()
        self.rank, self.world = dist.rank(), dist.world_size()
        self.device = pick_device(self.tc.device)
        if self.tc.threads:
            torch.set_num_threads(self.tc.threads)
        torch.manual_seed(self.cfg.seed)
        random.seed(self.cfg.seed)
        np.random.seed(self.cfg.seed)

    def _setup_components(self) -> None:
        """Data, model, policy, reference: every configuration error surfaces here, before step 0."""
        self.data, model, self.policy = prepare(self.cfg)
        if self.rank == 0:  # only now: a configuration error leaves nothing behind
            self.output.mkdir(parents=True, exist_ok=True)
        dist.barrier()
        model.to(self.device)
        self.reference = load_reference(self.cfg, self.data, self.device) if self.policy.needs_reference else None
        self.use_bf16 = self.device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.raw_model = model
        if self.tc.compile:
            model = torch.compile(model)
        if self.world > 1:
            model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.model = model

    def autocast(self) -> Any:
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.use_bf16 else contextlib.nullcontext()

    def _setup_optimizer(self) -> None:
        tc, params = self.tc, list(self.raw_model.parameters())
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": tc.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=tc.lr, betas=(tc.beta1, tc.beta2), fused=self.device.type == "cuda",
        )
        # policies that read per-domain gradients get them on a fixed coordinate sketch, every gradient_every steps
        self.sketch = (GradientSketch(params, self.policy.sketch_size, self.cfg.seed)
                       if self.policy.needs_domain_gradients else None)
        self.tokens_per_step = tc.batch_size * tc.grad_accum * tc.seq_len * self.world
        self.total_steps = max(1, tc.max_tokens // self.tokens_per_step)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: self.lr_at(s) / tc.lr)

    def lr_at(self, step: int) -> float:
        tc = self.tc
        return lr_at(step, self.total_steps, tc.warmup_steps, tc.lr, tc.min_lr_ratio)

    def _setup_sampling(self) -> None:
        tc, data = self.tc, self.data
        self.sampler = MixtureSampler(data.train, tc.seq_len, self.cfg.seed, self.rank)
        self.windows = {d: eval_windows(h, tc.seq_len, tc.eval_tokens) for d, h in zip(data.domains, data.heldout, strict=True)}
        self.k = len(data.domains)
        self.tokens_drawn = np.zeros(self.k)  # all ranks together, kept identical by the per-step all-reduce
        sig = self.cfg.signals  # per-document draws (and first/last-draw losses), when the shards map documents
        self.docs = (DocTracker.for_shards(data.train, tc.seq_len, losses=sig.doc_losses)
                     if sig.draws or sig.doc_losses else None)

    def _resume_or_start_fresh(self) -> None:
        rank, output = self.rank, self.output
        ckpt_dir = _resume_from(self.cfg, output, self.device) if self.tc.resume else None
        if ckpt_dir is not None:
            self._load_checkpoint(ckpt_dir)
        elif rank == 0:  # a fresh run: nothing of an earlier run in this folder may mix with its logs
            for old in [output / "metrics.jsonl", output / "steps.jsonl", *output.glob("weights.rank*.jsonl"),
                        output / "doc_signals.parquet", output / "mixture.json", output / SOURCE_FILE,
                        output / "signals.parquet", output / "signals.json"]:
                old.unlink(missing_ok=True)
            shutil.rmtree(output / "checkpoints", ignore_errors=True)
            shutil.rmtree(output / "model_init", ignore_errors=True)
            if self.cfg.signals.save_init:  # the step-0 weights: a reference model for `train score`
                self._save_model(output / "model_init")
        dist.barrier()

    def _load_checkpoint(self, ckpt_dir: Path) -> None:
        state = torch.load(ckpt_dir / "state.pt", map_location=self.device, weights_only=False)
        self.raw_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.policy.load_state_dict(state["policy"])
        self.step, self.tokens_drawn = int(state["step"]), np.asarray(state["tokens_drawn"])
        self.pending = [(int(t), torch.tensor(v, dtype=torch.float64), None, c) for t, v, c in state.get("pending", [])]
        local = torch.load(ckpt_dir / f"rank{self.rank}.pt", weights_only=False)
        self.sampler.load_state_dict(local["sampler"])
        torch.set_rng_state(local["torch_rng"])
        np.random.set_state(local["numpy_rng"])
        random.setstate(local["python_rng"])
        if self.docs is not None and "docs" in local:
            self.docs.load_state_dict(local["docs"])
        logged = self.step - len(self.pending)  # rows up to here were written before the save; the pending ones after
        if self.rank == 0:
            _truncate_jsonl(self.output / "metrics.jsonl", self.step)  # the eval at `step` runs again
            _truncate_jsonl(self.output / "steps.jsonl", logged + 1)
        if self.cfg.log.per_rank_weights:
            _truncate_jsonl(self.output / f"weights.rank{self.rank}.jsonl", logged + 1)
        print(f"[gristmill] resumed from {ckpt_dir} at step {self.step}", flush=True)

    def _setup_logs(self) -> None:
        cfg, rank, output = self.cfg, self.rank, self.output
        if rank == 0:
            (output / "config.yaml").write_text(dump_config(self._recorded_config()))
            if self.data.source is not None:
                (output / SOURCE_FILE).write_text(json.dumps(self.data.source.to_json(), indent=2) + "\n")
        if cfg.log.tensorboard and rank == 0:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(output / "tensorboard"))
            except ImportError:
                print("[gristmill] log.tensorboard: tensorboard is not installed; skipping", flush=True)
        self.weights_log = output / f"weights.rank{rank}.jsonl" if cfg.log.per_rank_weights else None
        self.model_flops = flops_per_token(self.raw_model, self.tc.seq_len)
        if rank == 0:
            print(
                f"[gristmill] {count_params(self.raw_model) / 1e6:.2f}M params, {self.k} domains, {self.total_steps} "
                f"steps of {self.tokens_per_step} tokens, policy {self.policy.name}, device {self.device}, "
                f"world {self.world}",
                flush=True,
            )

    def _recorded_config(self) -> Config:
        """The config as run: a catalog version pinned to its number, content hash and catalog root."""
        src = self.data.source
        if src is None:
            return self.cfg
        cfg = self.cfg.model_copy(deep=True)
        cfg.data.train, cfg.data.version_hash = f"catalog://{src.ref}", src.content_hash
        cfg.data.catalog = cfg.data.catalog or src.catalog
        return cfg

    # --- the loop -------------------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to the token budget (or ``train.stop_at_step``); returns the last metrics row."""
        self.setup()
        tc = self.tc
        self.model.train()
        self.steps_log = open(self.output / "steps.jsonl", "a") if self.rank == 0 and self.cfg.log.step_log else None  # noqa: SIM115
        while self.step < self.total_steps:
            if self.step % tc.eval_every == 0:
                self.log_eval()
            acc, align, policy_time = self.train_step()
            self.step += 1
            self.queue_feedback(acc, align, policy_time)
            self.feed_policy(self.step - tc.feedback_delay)
            stopping = tc.stop_at_step is not None and self.step >= tc.stop_at_step
            if (tc.ckpt_every and self.step % tc.ckpt_every == 0) or self.step == self.total_steps or stopping:
                self.save_checkpoint()
            if stopping and self.step < self.total_steps:
                self._close_steps_log()
                return self.last
        self.log_eval()
        self._close_steps_log()
        self.finish()
        return self.last

    def train_step(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        """One optimizer step over ``grad_accum`` micro-batches; returns the per-domain sums (on the device),
        the gradient alignment on probe steps, and the seconds spent in policy work."""
        tc, policy, model, k = self.tc, self.policy, self.model, self.k
        acc = DomainStats.device_sums(k, self.device)  # per-domain sums, stay on the device
        policy_time = 0.0
        probing = self.sketch is not None and self.step % policy.gradient_every == 0
        doc_losses = self.docs is not None and self.docs.losses
        for micro in range(tc.grad_accum):
            x, dom = self.sampler.sample(tc.batch_size, policy.weights)  # the policy's mixture picks the data
            if self.docs is not None:
                self.docs.add_draws(*self.sampler.last_draw)
            x, dom = x.to(self.device, non_blocking=True), dom.to(self.device, non_blocking=True)
            ref_ps, tok_loss = None, None
            if probing and micro == tc.grad_accum - 1:  # the same gradient, one (domain, half) at a time
                t0 = time.perf_counter()
                loss_ps, grad_sums, grad_sizes = probe_backward(
                    model, x, dom, k, self.sketch, 1.0 / (tc.batch_size * tc.grad_accum), self.autocast,
                    model.no_sync if self.world > 1 else None, offset=self.rank,
                )
                average_gradients(self.sketch.params)  # every micro-batch ran without DDP's reduction
                policy_time += time.perf_counter() - t0
                if doc_losses:  # the probe ran by groups: one more forward for the per-token loss
                    with torch.no_grad(), self.autocast():
                        tok_loss = per_token_loss(model, x)
            else:
                last_micro = micro == tc.grad_accum - 1
                sync = contextlib.nullcontext() if self.world == 1 or last_micro else model.no_sync()
                with sync:
                    with self.autocast():
                        if doc_losses:  # the same mean, with the per-token losses kept for the documents
                            tok_loss = per_token_loss(model, x)
                            loss_ps = tok_loss.mean(dim=1)
                        else:
                            loss_ps = per_sample_loss(model, x)  # computed once, reduction='none'
                    t0 = time.perf_counter()
                    if self.reference is not None and self.step % policy.reference_every == 0:
                        with torch.no_grad(), self.autocast():
                            ref_ps = per_sample_loss(self.reference, x)
                    w = policy.sample_weights(loss_ps.detach(), dom, ref_ps)  # selection / reweighting
                    policy_time += time.perf_counter() - t0
                    (weighted_loss(loss_ps, w) / tc.grad_accum).backward()
            t0 = time.perf_counter()
            DomainStats.add_batch(acc, loss_ps, dom, ref_ps)
            policy_time += time.perf_counter() - t0
            if tok_loss is not None:  # opt-in: a host sync per micro-batch
                self.docs.add_losses(self.step, *self.sampler.last_draw, tok_loss.detach().float().cpu().numpy())
        align = None
        if probing:
            t0 = time.perf_counter()
            align = alignment(dist.all_reduce_tensor(grad_sums), dist.all_reduce_tensor(grad_sizes),
                              adam_preconditioner(self.optimizer, self.sketch))
            policy_time += time.perf_counter() - t0
        if tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.raw_model.parameters(), tc.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return acc, align, policy_time

    def queue_feedback(self, acc: torch.Tensor, align: torch.Tensor | None, policy_time: float) -> None:
        """All-reduce the step's per-domain sums on the device and start their copy to the host, without waiting."""
        t0 = time.perf_counter()
        local_count = acc[2].tolist() if self.weights_log is not None else None
        reduced_dev = dist.all_reduce_tensor(acc.flatten())  # queued on the device, no host sync here
        if align is not None:  # [5k stats | k*k alignment]: one copy to the host, one pending entry
            reduced_dev = torch.cat([reduced_dev, align.flatten()])
        if self.device.type == "cuda":
            host = torch.empty(reduced_dev.shape, dtype=torch.float64, pin_memory=True)
            host.copy_(reduced_dev, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record()
        else:
            host, copied = reduced_dev.cpu(), None
        self.pending.append((self.step, host, copied, local_count))
        self.window.policy_s += policy_time + time.perf_counter() - t0
        self.window.tokens += self.tokens_per_step

    def feed_policy(self, upto: int) -> None:
        """Hand the policy every pending step's stats up to step ``upto`` (inclusive), in order."""
        k, policy = self.k, self.policy
        while self.pending and self.pending[0][0] <= upto:
            at, stats, copied, local_count = self.pending.pop(0)
            vec = _wait_for(stats, copied)  # waiting for the device is not policy time
            t0 = time.perf_counter()
            reduced = DomainStats.from_vector(vec[: 5 * k])
            align = vec[5 * k :].reshape(k, k) if len(vec) > 5 * k else None
            self.tokens_drawn += reduced.count * self.tc.seq_len
            changed = policy.on_step(
                Feedback(step=at, stats=reduced, tokens_per_domain=self.tokens_drawn.copy(), alignment=align)
            )
            self.window.policy_s += time.perf_counter() - t0
            step_loss = float(reduced.loss_sum.sum() / max(reduced.count.sum(), 1.0))  # mean over all ranks
            self.window.train_losses.append(step_loss)
            if self.steps_log is not None:
                self.steps_log.write(json.dumps({"step": at, "loss": step_loss, "lr": self.lr_at(at)}) + "\n")
                self.steps_log.flush()
            if self.weights_log is not None and changed:
                with open(self.weights_log, "a") as f:
                    f.write(json.dumps({"step": at, "weights": policy.weights.tolist(), "local_count": local_count}) + "\n")

    def log_eval(self) -> None:
        """Feed the policy up to now, evaluate held-out loss per domain, append a metrics row (rank 0)."""
        self.feed_policy(self.step)  # the row shows every step up to this one
        elapsed = time.perf_counter() - self.window.t0
        if self.rank == 0:
            self.last = self._metrics_row(evaluate(self.raw_model, self.windows, self.device, self.autocast), elapsed)
            with open(self.output / "metrics.jsonl", "a") as f:
                f.write(json.dumps(self.last) + "\n")
            last = self.last
            print(
                f"[gristmill] step {self.step:5d} tokens {last['tokens']:9d} held-out avg {last['avg']:.4f} "
                f"worst {last['worst']:.4f} ({last['worst_domain']})", flush=True,
            )
            if self.tb is not None:
                for d, v in last["heldout"].items():
                    self.tb.add_scalar(f"heldout/{d}", v, last["tokens"])
                    self.tb.add_scalar(f"weight/{d}", self.policy.weights_dict()[d], last["tokens"])
                self.tb.add_scalar("heldout/avg", last["avg"], last["tokens"])
        dist.barrier()
        self.window = _Window()

    def _metrics_row(self, held: dict[str, float], elapsed: float) -> dict[str, Any]:
        win, tc = self.window, self.tc
        worst = max(held, key=held.get)
        return {
            "step": self.step,
            "tokens": int(self.step * self.tokens_per_step),
            "heldout": held,
            "avg": float(np.mean(list(held.values()))),
            "worst": held[worst],
            "worst_domain": worst,
            "weights": self.policy.weights_dict(),
            "tokens_per_domain": {d: int(t) for d, t in zip(self.data.domains, self.tokens_drawn, strict=True)},
            "train_loss": float(np.mean(win.train_losses)) if win.train_losses else None,
            "lr": self.scheduler.get_last_lr()[0],
            "tokens_per_s": win.tokens / elapsed if win.tokens else None,
            "policy_overhead": win.policy_s / elapsed if win.tokens else None,
            "mfu": (win.tokens / elapsed * self.model_flops / (self.world * tc.peak_tflops * 1e12))
            if win.tokens and self.device.type == "cuda" else None,
            "policy": self.policy.name,
        }

    def save_checkpoint(self) -> None:
        """Write ``checkpoints/step_N`` (rank 0: model, optimizer, policy; every rank: its sampler and RNGs)."""
        rank, step = self.rank, self.step
        tmp = checkpoint.step_folder(self.output / "checkpoints", step).with_name(f"step_{step:07d}.tmp")
        if rank == 0:
            tmp.mkdir(parents=True, exist_ok=True)
        dist.barrier()
        torch.save(
            {"sampler": self.sampler.state_dict(), "torch_rng": torch.get_rng_state(),
             "numpy_rng": np.random.get_state(), "python_rng": random.getstate(),
             **({"docs": self.docs.state_dict()} if self.docs is not None else {})},
            tmp / f"rank{rank}.pt",
        )
        dist.barrier()
        if rank == 0:
            torch.save(
                {"model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "policy": self.policy.state_dict(), "step": step,
                 "tokens_drawn": self.tokens_drawn.tolist(), "config": self.cfg.model_dump(mode="json"),
                 "pending": [(t, _wait_for(v, ev).tolist(), c) for t, v, ev, c in self.pending]},
                tmp / "state.pt",
            )
            checkpoint.publish(tmp, step, self.world, self.tc.keep_checkpoints)
        dist.barrier()

    def _close_steps_log(self) -> None:
        if self.steps_log is not None:
            self.steps_log.close()
            self.steps_log = None

    def _save_model(self, folder: Path) -> None:
        self.raw_model.save_pretrained(str(folder))
        if self.data.tokenizer_path is not None:
            shutil.copy(self.data.tokenizer_path, folder / "tokenizer.json")

    def finish(self) -> None:
        """After the last step: the model (with its tokenizer), the learnt mixture (``mixture.json``), each
        document's draws (``doc_signals.parquet``), the plot."""
        doc_table = self.docs.finish(self.device) if self.docs is not None else None  # every rank takes part
        if self.rank == 0:
            output, data, policy = self.output, self.data, self.policy
            self._save_model(output / "model")
            average = None
            if hasattr(policy, "average_weights"):
                average = dict(zip(data.domains, policy.average_weights().tolist(), strict=True))
                (output / "average_weights.json").write_text(json.dumps(average, indent=2) + "\n")
            mixture = {"domains": data.domains, "final": policy.weights_dict(), "average": average,
                       "policy": policy.name, "utility": policy.utility()}
            (output / "mixture.json").write_text(json.dumps(mixture, indent=2) + "\n")
            if doc_table is not None:
                import pyarrow.parquet as pq

                pq.write_table(doc_table, output / "doc_signals.parquet", compression="zstd")
            if self.cfg.log.plot:
                from gristmill.train.plot import plot_metrics

                plot_metrics(output / "metrics.jsonl", output / "mixing.png")
            if self.tb is not None:
                self.tb.close()
        dist.barrier()


def _wait_for(stats: torch.Tensor, copied: Any) -> np.ndarray:
    if copied is not None:
        copied.synchronize()
    return stats.numpy()


def train(cfg: Config) -> dict[str, Any]:
    """Run one training job as configured; returns the last metrics row. Writes into ``cfg.output``."""
    return Run(cfg).fit()
