"""The training loop, in the order things happen (nanoGPT-plain), with a data policy in two visible places.

    x, dom = sampler.sample(batch, policy.weights)        # the policy's mixture picks the data
    loss_ps = per_sample_loss(model, x)                   # computed once, reduction='none'
    w = policy.sample_weights(loss_ps.detach(), dom, ref) # selection / reweighting (None: plain mean)
    ...backward, clip, step...
    policy.on_step(Feedback(all_reduce(stats)))           # identical numbers on every rank, one step late

Everything else (eval per domain, metrics.jsonl, checkpoints, resume) is written where it happens.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gristmill.errors import GristmillError, UsageError
from gristmill.train import checkpoint, dist
from gristmill.train.config import Config, dump_config
from gristmill.train.data import MixtureSampler, TrainData, eval_windows, load_data
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
)
from gristmill.train.policies import DomainStats, Feedback, Policy, make_policy, weighted_loss


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
    return data, model, policy


def train(cfg: Config) -> dict[str, Any]:
    """Run one training job as configured; returns the last metrics row. Writes into ``cfg.output``."""
    dist.init_from_env()
    rank, world = dist.rank(), dist.world_size()
    output = Path(cfg.output)
    if rank == 0:
        output.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    tc = cfg.train
    device = pick_device(tc.device)
    if tc.threads:
        torch.set_num_threads(tc.threads)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)

    # --- data, model, policy: every configuration error surfaces here, before step 0 -----------------
    data, model, policy = prepare(cfg)
    model.to(device)
    reference = load_reference(cfg, data, device) if policy.needs_reference else None
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()

    def autocast() -> Any:
        return torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()

    raw_model = model
    if tc.compile:
        model = torch.compile(model)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    decay = [p for p in raw_model.parameters() if p.dim() >= 2]
    no_decay = [p for p in raw_model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": tc.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=tc.lr, betas=(tc.beta1, tc.beta2), fused=device.type == "cuda",
    )
    # policies that read per-domain gradients get them on a fixed coordinate sketch, every gradient_every steps
    sketch = (GradientSketch(list(raw_model.parameters()), policy.sketch_size, cfg.seed)
              if policy.needs_domain_gradients else None)
    tokens_per_step = tc.batch_size * tc.grad_accum * tc.seq_len * world
    total_steps = max(1, tc.max_tokens // tokens_per_step)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_at(s, total_steps, tc.warmup_steps, tc.lr, tc.min_lr_ratio) / tc.lr
    )
    sampler = MixtureSampler(data.train, tc.seq_len, cfg.seed, rank)
    windows = {d: eval_windows(h, tc.seq_len, tc.eval_tokens) for d, h in zip(data.domains, data.heldout, strict=True)}
    k = len(data.domains)
    tokens_drawn = np.zeros(k)  # all ranks together, kept identical by the per-step all-reduce
    step = 0
    # Step t's all-reduced stats reach the policy after step t+1's work is queued (train.feedback_delay):
    # reading them at once would make the host wait for the device every step and drain the GPU's queue.
    pending: list[tuple[int, torch.Tensor, Any, list[float] | None]] = []  # (step, stats, copy done, counts)

    # --- resume ---------------------------------------------------------------------------------------
    ckpt_dir = _resume_from(cfg, output, device) if tc.resume else None
    if ckpt_dir is not None:
        state = torch.load(ckpt_dir / "state.pt", map_location=device, weights_only=False)
        raw_model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        policy.load_state_dict(state["policy"])
        step, tokens_drawn = int(state["step"]), np.asarray(state["tokens_drawn"])
        pending = [(int(t), torch.tensor(v, dtype=torch.float64), None, c) for t, v, c in state.get("pending", [])]
        local = torch.load(ckpt_dir / f"rank{rank}.pt", weights_only=False)
        sampler.load_state_dict(local["sampler"])
        torch.set_rng_state(local["torch_rng"])
        np.random.set_state(local["numpy_rng"])
        random.setstate(local["python_rng"])
        logged = step - len(pending)  # rows up to here were written before the save; the pending ones after
        if rank == 0:
            _truncate_jsonl(output / "metrics.jsonl", step)  # the eval at `step` runs again
            _truncate_jsonl(output / "steps.jsonl", logged + 1)
        if cfg.log.per_rank_weights:
            _truncate_jsonl(output / f"weights.rank{rank}.jsonl", logged + 1)
        print(f"[gristmill] resumed from {ckpt_dir} at step {step}", flush=True)
    elif rank == 0:  # a fresh run: nothing of an earlier run in this folder may mix with its logs
        for old in [output / "metrics.jsonl", output / "steps.jsonl", *output.glob("weights.rank*.jsonl")]:
            old.unlink(missing_ok=True)
        shutil.rmtree(output / "checkpoints", ignore_errors=True)
    dist.barrier()

    if rank == 0:
        (output / "config.yaml").write_text(dump_config(cfg))
    tb = None
    if cfg.log.tensorboard and rank == 0:
        try:
            from torch.utils.tensorboard import SummaryWriter

            tb = SummaryWriter(str(output / "tensorboard"))
        except ImportError:
            print("[gristmill] log.tensorboard: tensorboard is not installed; skipping", flush=True)
    weights_log = output / f"weights.rank{rank}.jsonl" if cfg.log.per_rank_weights else None
    model_flops = flops_per_token(raw_model, tc.seq_len)
    if rank == 0:
        print(
            f"[gristmill] {count_params(raw_model) / 1e6:.2f}M params, {k} domains, {total_steps} steps of "
            f"{tokens_per_step} tokens, policy {policy.name}, device {device}, world {world}",
            flush=True,
        )

    def save_checkpoint() -> None:
        tmp = checkpoint.step_folder(output / "checkpoints", step).with_name(f"step_{step:07d}.tmp")
        if rank == 0:
            tmp.mkdir(parents=True, exist_ok=True)
        dist.barrier()
        torch.save(
            {"sampler": sampler.state_dict(), "torch_rng": torch.get_rng_state(),
             "numpy_rng": np.random.get_state(), "python_rng": random.getstate()},
            tmp / f"rank{rank}.pt",
        )
        dist.barrier()
        if rank == 0:
            torch.save(
                {"model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "policy": policy.state_dict(), "step": step,
                 "tokens_drawn": tokens_drawn.tolist(), "config": cfg.model_dump(mode="json"),
                 "pending": [(t, wait_for(v, ev).tolist(), c) for t, v, ev, c in pending]},
                tmp / "state.pt",
            )
            checkpoint.publish(tmp, step, world, tc.keep_checkpoints)
        dist.barrier()

    window_t0, window_policy, window_tokens, train_losses = time.perf_counter(), 0.0, 0, []
    last: dict[str, Any] = {}

    def wait_for(stats: torch.Tensor, copied: Any) -> np.ndarray:
        if copied is not None:
            copied.synchronize()
        return stats.numpy()

    def feed_policy(upto: int) -> None:
        """Hand the policy every pending step's stats up to step ``upto`` (inclusive), in order."""
        nonlocal tokens_drawn, window_policy
        while pending and pending[0][0] <= upto:
            at, stats, copied, local_count = pending.pop(0)
            vec = wait_for(stats, copied)  # waiting for the device is not policy time
            t0 = time.perf_counter()
            reduced = DomainStats.from_vector(vec[: 5 * k])
            align = vec[5 * k :].reshape(k, k) if len(vec) > 5 * k else None
            tokens_drawn += reduced.count * tc.seq_len
            changed = policy.on_step(
                Feedback(step=at, stats=reduced, tokens_per_domain=tokens_drawn.copy(), alignment=align)
            )
            window_policy += time.perf_counter() - t0
            step_loss = float(reduced.loss_sum.sum() / max(reduced.count.sum(), 1.0))  # mean over all ranks
            train_losses.append(step_loss)
            if steps_log is not None:
                steps_log.write(json.dumps({"step": at, "loss": step_loss, "lr": lr_at(at, total_steps, tc.warmup_steps, tc.lr, tc.min_lr_ratio)}) + "\n")
                steps_log.flush()
            if weights_log is not None and changed:
                with open(weights_log, "a") as f:
                    f.write(json.dumps({"step": at, "weights": policy.weights.tolist(), "local_count": local_count}) + "\n")

    def log_eval() -> None:
        nonlocal window_t0, window_policy, window_tokens, train_losses, last
        feed_policy(step)  # the row shows every step up to this one
        elapsed = time.perf_counter() - window_t0
        if rank == 0:
            held = evaluate(raw_model, windows, device, autocast)
            worst = max(held, key=held.get)
            last = {
                "step": step,
                "tokens": int(step * tokens_per_step),
                "heldout": held,
                "avg": float(np.mean(list(held.values()))),
                "worst": held[worst],
                "worst_domain": worst,
                "weights": policy.weights_dict(),
                "tokens_per_domain": {d: int(t) for d, t in zip(data.domains, tokens_drawn, strict=True)},
                "train_loss": float(np.mean(train_losses)) if train_losses else None,
                "lr": scheduler.get_last_lr()[0],
                "tokens_per_s": window_tokens / elapsed if window_tokens else None,
                "policy_overhead": window_policy / elapsed if window_tokens else None,
                "mfu": (window_tokens / elapsed * model_flops / (world * tc.peak_tflops * 1e12))
                if window_tokens and device.type == "cuda" else None,
                "policy": policy.name,
            }
            with open(output / "metrics.jsonl", "a") as f:
                f.write(json.dumps(last) + "\n")
            print(
                f"[gristmill] step {step:5d} tokens {last['tokens']:9d} held-out avg {last['avg']:.4f} "
                f"worst {last['worst']:.4f} ({worst})", flush=True,
            )
            if tb is not None:
                for d, v in held.items():
                    tb.add_scalar(f"heldout/{d}", v, last["tokens"])
                    tb.add_scalar(f"weight/{d}", policy.weights_dict()[d], last["tokens"])
                tb.add_scalar("heldout/avg", last["avg"], last["tokens"])
        dist.barrier()
        window_t0, window_policy, window_tokens, train_losses = time.perf_counter(), 0.0, 0, []

    # --- the loop -------------------------------------------------------------------------------------
    model.train()
    steps_log = open(output / "steps.jsonl", "a") if rank == 0 and cfg.log.step_log else None  # noqa: SIM115
    while step < total_steps:
        if step % tc.eval_every == 0:
            log_eval()
        acc = DomainStats.device_sums(k, device)  # per-domain sums, stay on the device
        policy_time = 0.0
        probing = sketch is not None and step % policy.gradient_every == 0
        for micro in range(tc.grad_accum):
            x, dom = sampler.sample(tc.batch_size, policy.weights)
            x, dom = x.to(device, non_blocking=True), dom.to(device, non_blocking=True)
            ref_ps = None
            if probing and micro == tc.grad_accum - 1:  # the same gradient, one (domain, half) at a time
                t0 = time.perf_counter()
                loss_ps, grad_sums, grad_sizes = probe_backward(
                    model, x, dom, k, sketch, 1.0 / (tc.batch_size * tc.grad_accum), autocast,
                    model.no_sync if world > 1 else None, offset=rank,
                )
                average_gradients(sketch.params)  # every micro-batch ran without DDP's reduction
                policy_time += time.perf_counter() - t0
            else:
                sync = contextlib.nullcontext() if world == 1 or micro == tc.grad_accum - 1 else model.no_sync()
                with sync:
                    with autocast():
                        loss_ps = per_sample_loss(model, x)
                    t0 = time.perf_counter()
                    if reference is not None and step % policy.reference_every == 0:
                        with torch.no_grad(), autocast():
                            ref_ps = per_sample_loss(reference, x)
                    w = policy.sample_weights(loss_ps.detach(), dom, ref_ps)
                    policy_time += time.perf_counter() - t0
                    (weighted_loss(loss_ps, w) / tc.grad_accum).backward()
            t0 = time.perf_counter()
            DomainStats.add_batch(acc, loss_ps, dom, ref_ps)
            policy_time += time.perf_counter() - t0
        align = None
        if probing:
            t0 = time.perf_counter()
            align = alignment(dist.all_reduce_tensor(grad_sums), dist.all_reduce_tensor(grad_sizes),
                              adam_preconditioner(optimizer, sketch))
            policy_time += time.perf_counter() - t0
        if tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(raw_model.parameters(), tc.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        t0 = time.perf_counter()
        local_count = acc[2].tolist() if weights_log is not None else None
        reduced_dev = dist.all_reduce_tensor(acc.flatten())  # queued on the device, no host sync here
        if align is not None:  # [5k stats | k*k alignment]: one copy to the host, one pending entry
            reduced_dev = torch.cat([reduced_dev, align.flatten()])
        if device.type == "cuda":
            host = torch.empty(reduced_dev.shape, dtype=torch.float64, pin_memory=True)
            host.copy_(reduced_dev, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record()
        else:
            host, copied = reduced_dev.cpu(), None
        pending.append((step, host, copied, local_count))
        window_policy += policy_time + time.perf_counter() - t0
        window_tokens += tokens_per_step
        feed_policy(step - tc.feedback_delay)
        stopping = tc.stop_at_step is not None and step >= tc.stop_at_step
        if (tc.ckpt_every and step % tc.ckpt_every == 0) or step == total_steps or stopping:
            save_checkpoint()
        if stopping and step < total_steps:
            if steps_log is not None:
                steps_log.close()
            return last
    log_eval()
    if steps_log is not None:
        steps_log.close()
    if rank == 0:
        raw_model.save_pretrained(str(output / "model"))
        if data.tokenizer_path is not None:
            shutil.copy(data.tokenizer_path, output / "model" / "tokenizer.json")
        if hasattr(policy, "average_weights"):
            avg = dict(zip(data.domains, policy.average_weights().tolist(), strict=True))
            (output / "average_weights.json").write_text(json.dumps(avg, indent=2) + "\n")
        if cfg.log.plot:
            from gristmill.train.plot import plot_metrics

            plot_metrics(output / "metrics.jsonl", output / "mixing.png")
        if tb is not None:
            tb.close()
    dist.barrier()
    return last
