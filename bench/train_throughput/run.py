"""Training-loop throughput: a plain Hugging Face step against gristmill's loop with a policy on, same model,
same data, same machine, in one run.

    python bench/train_throughput/run.py                                   # CPU, tiny GPT-2 (a minute)
    python bench/train_throughput/run.py --preset gpt2-124m --compile      # one GPU: the issue's yardstick
    python bench/train_throughput/run.py --preset gpt2-25m                 # one GPU: the mixing run's scale

The plain step is what a Hugging Face user writes: ``model(input_ids, labels=input_ids).loss``, backward,
clip, fused AdamW, bf16 autocast on CUDA, optionally ``torch.compile``. gristmill's rows run the real loop
(``gristmill.train.loop.train``) with ``uniform`` and with dynamic policies, whose per-sample loss, stats
all-reduce and policy updates are all inside the timed steps. Both read the same random-token shards
through the same sampler. Throughput is the median over timed windows of ``--window`` steps, excluding
the first (compilation, allocator warm-up) and, for the loop, the last (it includes the final checkpoint).
MFU is model FLOPs (6N + 12·L·d·T per token) over ``--peak-tflops`` (989: H100 SXM dense bf16).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gristmill.shards import ShardWriter, open_shards
from gristmill.train.config import load_config
from gristmill.train.data import MixtureSampler
from gristmill.train.loop import train
from gristmill.train.model import flops_per_token
from gristmill.train.policies import get_policy_class

PRESETS = {
    "tiny": {"n_layer": 2, "n_embd": 128, "n_head": 4, "vocab": 8192, "seq": 128, "batch": 16},
    "gpt2-25m": {"n_layer": 6, "n_embd": 512, "n_head": 8, "vocab": 8192, "seq": 1024, "batch": 32},
    "gpt2-124m": {"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab": 50257, "seq": 1024, "batch": 16},
}


def write_random_shards(root: Path, vocab: int, tokens_per_domain: int, domains: int = 4) -> None:
    """Random token ids per domain (throughput does not depend on what the tokens say)."""
    rng = np.random.default_rng(0)
    for split, n in (("train", tokens_per_domain), ("heldout", max(4096, tokens_per_domain // 50))):
        for d in range(domains):
            w = ShardWriter(root / split / f"d{d}", domain=f"d{d}", vocab_size=vocab, eos_id=0)
            for _ in range(max(1, n // 8192)):
                w.add(rng.integers(1, vocab, size=8192).tolist())
            w.close()


def plain_hf(args, shards_root: Path, preset: dict, device: torch.device) -> dict:
    """The reference: a plain Hugging Face training step on the same sampler."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=preset["n_layer"], n_embd=preset["n_embd"], n_head=preset["n_head"],
                     vocab_size=preset["vocab"], n_positions=preset["seq"], resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(cfg).to(device)
    fpt = flops_per_token(model, preset["seq"])
    step_model = torch.compile(model) if args.compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda")
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    shards = list(open_shards(shards_root / "train").values())
    sampler = MixtureSampler(shards, preset["seq"] - 1, seed=0)  # rows of seq tokens, as the loop's inputs
    weights = np.full(len(shards), 1.0 / len(shards))
    rates = []
    for _window in range(args.windows):
        sync(device)
        t0 = time.perf_counter()
        for _ in range(args.window):
            x, _dom = sampler.sample(preset["batch"], weights)
            x = x.to(device, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False):
                loss = step_model(input_ids=x, labels=x).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        sync(device)
        rates.append(args.window * preset["batch"] * preset["seq"] / (time.perf_counter() - t0))
    tps = statistics.median(rates[1:])
    return {"name": "plain Hugging Face step", "tokens_per_s": tps, "overhead": None,
            "mfu": tps * fpt / (args.peak_tflops * 1e12) if device.type == "cuda" else None}


def gristmill_loop(args, shards_root: Path, preset: dict, policy: str, out: Path) -> dict:
    steps = args.window * (args.windows + 1)
    sets = [
        f"data.train={shards_root / 'train'}", f"data.heldout={shards_root / 'heldout'}", f"output={out}",
        f"model.config={{model_type: gpt2, n_layer: {preset['n_layer']}, n_head: {preset['n_head']}, "
        f"n_embd: {preset['n_embd']}}}",
        f"train.seq_len={preset['seq']}", f"train.batch_size={preset['batch']}",
        f"train.max_tokens={steps * preset['batch'] * preset['seq']}", "train.lr=1e-4",
        f"train.eval_every={args.window}", f"train.eval_tokens={preset['seq']}", f"train.compile={args.compile}",
        f"train.peak_tflops={args.peak_tflops}", f"policy.name={policy}", "policy.update_every=10",
        "log.step_log=false", "log.plot=false",
    ]
    if args.threads:
        sets.append(f"train.threads={args.threads}")
    if get_policy_class(policy).needs_reference:  # the uniform row's model stands in as the reference
        sets.append(f"policy.reference={out.parent / 'run-uniform'}")
    train(load_config(None, sets))
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    timed = [r for r in rows if r["tokens_per_s"]][1:-1]  # not the first window (warm-up) nor the last (checkpoint)
    tps = statistics.median(r["tokens_per_s"] for r in timed)
    return {"name": f"gristmill loop, policy {policy}", "tokens_per_s": tps,
            "overhead": statistics.median(r["policy_overhead"] for r in timed),
            "mfu": statistics.median(r["mfu"] for r in timed) if timed[0]["mfu"] is not None else None}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--policies", default="uniform,ado,odm", help="gristmill rows (comma-separated)")
    ap.add_argument("--window", type=int, default=10, help="steps per timed window")
    ap.add_argument("--windows", type=int, default=5, help="windows per row (the first is not counted)")
    ap.add_argument("--compile", action="store_true", help="torch.compile both the plain step and the loop")
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    if args.windows < 3:
        ap.error("--windows must be at least 3 (the first and, for the loop, the last are not counted)")
    if args.threads:
        torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="gm-throughput-"))
    tokens = preset["batch"] * preset["seq"] * args.window * (args.windows + 2)
    write_random_shards(work / "shards", preset["vocab"], max(tokens // 4, 200_000))
    policies = args.policies.split(",")
    if any(get_policy_class(p).needs_reference for p in policies) and "uniform" not in policies[:1]:
        ap.error("reference policies (doremi, rho) use the uniform row's model: list uniform first")
    results = [plain_hf(args, work / "shards", preset, device)]
    for pol in policies:
        results.append(gristmill_loop(args, work / "shards", preset, pol, work / f"run-{pol}"))
    base = results[0]["tokens_per_s"]
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"\npreset {args.preset} ({preset}), {name}, compile={args.compile}, "
          f"{args.window} steps x {args.windows} windows (median, first window not counted)\n")
    print("| path | tokens/s | × plain HF | policy share of step time | MFU |")
    print("|---|---|---|---|---|")
    for r in results:
        overhead = "" if r["overhead"] is None else f"{100 * r['overhead']:.2f}%"
        mfu = "" if r["mfu"] is None else f"{100 * r['mfu']:.1f}%"
        print(f"| {r['name']} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / base:.2f} | {overhead} | {mfu} |")


if __name__ == "__main__":
    main()
