"""Mixing benchmark: uniform vs natural vs every dynamic policy, same data, same model, several seeds.

    # every policy at 3M tokens, as in docs/train.md (about 30 minutes on 2 cores):
    python bench/mixing/run.py --max-tokens 3000000 --seq-len 64 --n-layer 2 --n-embd 96 --vocab-size 2048 \
        --evals 15 --eval-tokens 2048 --threads 1 --jobs 2 --short-budget 0.7 --short-policies ado
    # the token goal at 10M tokens (about an hour on 2 cores):
    python bench/mixing/run.py --policies uniform,natural,odm,ado,doremi --max-tokens 10000000 --seq-len 64 \
        --n-layer 2 --n-embd 96 --vocab-size 2048 --evals 15 --eval-tokens 2048 --threads 1 --jobs 2
    python bench/mixing/run.py                 # defaults: a 4x256 model, 128-token windows (GPU-sized)

Runs go to a pool of ``--jobs`` processes (``--threads 1`` each); the workers exit when the bench process
is gone.

Data: ``data/sample.jsonl.gz`` when present (else the built-in synthetic corpus), plus a derived ``noisy``
domain (random characters: high irreducible loss) and a ``--scarce`` domain capped to a few documents.
Reference-model policies (doremi, rho) use the uniform run of the same seed as their reference (DoReMi's
setup: a reference of the same size and budget on the baseline mixture); that run's cost is not in their
overhead column, which counts only the per-step work (reference forward included).

Prints one table (mean ± std over seeds): average and worst-domain held-out loss at the token budget;
tokens to reach uniform's final average loss as a share of uniform's tokens (linear interpolation between evals,
">1" when never reached); the policy's share of step time. Results also go to ``--out``/results.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shlex
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from gristmill.loop.compare import tokens_to_reach
from gristmill.shards import build_shards, iter_records
from gristmill.train.config import dump_config, load_config
from gristmill.train.loop import train
from gristmill.train.synthetic import make_corpus, noisy_text, write_jsonl_gz

ALL = ["uniform", "natural", "temperature", "odm", "ado", "doge", "doremi", "hard", "rho", "reweight"]


def build_corpus(args: argparse.Namespace, work: Path) -> Path:
    sample = Path(args.data)
    if sample.exists():
        recs = list(iter_records(str(sample), ["id", "text", "domain"]))
        source = str(sample)
    else:
        recs = make_corpus({"books": 800, "code": 800, "legal": 800, "reference": 800, "chat": 40}, seed=0)
        source = "synthetic (data file not found)"
    r = random.Random(0)
    by_dom: dict[str, list[dict]] = {}
    for rec in recs:
        if rec.get("text") and rec.get("domain"):
            by_dom.setdefault(rec["domain"], []).append(rec)
    if args.scarce in by_dom:
        by_dom[args.scarce] = by_dom[args.scarce][: args.scarce_docs]
    mean_len = int(np.mean([len(x["text"]) for docs in by_dom.values() for x in docs]))
    n_noisy = max(10, int(args.noisy_share * sum(len(v) for v in by_dom.values())))
    by_dom["noisy"] = [
        {"id": f"noisy-{i}", "text": noisy_text(r, min(mean_len, 2000)), "domain": "noisy"} for i in range(n_noisy)
    ]
    out = work / "corpus.jsonl.gz"
    write_jsonl_gz([x for docs in by_dom.values() for x in docs], out)
    print(f"corpus: {source}; docs per domain: " + ", ".join(f"{d}={len(v)}" for d, v in sorted(by_dom.items())))
    return out


def parse_statics(specs: list[str]) -> dict[str, dict[str, float]]:
    """``NAME=books:0.5,code:0.5`` → {NAME: {books: 0.5, code: 0.5}} (the static policy checks the weights)."""
    out: dict[str, dict[str, float]] = {}
    for spec in specs:
        name, sep, body = spec.partition("=")
        if not sep or not name or name in ALL:
            raise SystemExit(f"--static {spec!r}: expected NAME=DOMAIN:W,... with a NAME that is not a policy")
        try:
            out[name] = {d.strip(): float(w) for d, w in (item.split(":") for item in body.split(","))}
        except ValueError:
            raise SystemExit(f"--static {spec!r}: weights are DOMAIN:FLOAT, comma-separated") from None
    return out


def watch_parent(parent: int) -> None:
    """In each pool worker: exit when the bench process is gone, rather than finish runs nobody will read."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def run_one(sets: list[str]) -> float:
    """One training run in a worker process; returns its wall time (the metrics are on disk)."""
    t0 = time.time()
    train(load_config(None, sets))
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="data/sample.jsonl.gz")
    ap.add_argument("--out", default="bench/_work/mixing")
    ap.add_argument("--policies", default=",".join(ALL))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=3_000_000)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--evals", type=int, default=20, help="evaluations per run")
    ap.add_argument("--eval-tokens", type=int, default=8192)
    ap.add_argument("--update-every", type=int, default=None, help="default: each policy's own cadence")
    ap.add_argument("--scarce", default="chat")
    ap.add_argument("--scarce-docs", type=int, default=20)
    ap.add_argument("--noisy-share", type=float, default=0.1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads per run (0: torch's default); 1 "
                    "is much faster than 2 on a shared, busy machine")
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel (use --threads 1 and one job per core)")
    ap.add_argument("--reuse", action="store_true", help="keep finished runs whose resolved config is unchanged (the config holds no policy code or defaults: "
                    "after changing a policy, delete its runs/<policy>-s* folders)")
    ap.add_argument("--short-budget", type=float, default=0.0, help="also train --short-policies on this share of "
                    "the budget (own full schedule) and compare their final loss with uniform's at the full budget")
    ap.add_argument("--short-policies", default="ado", help="policies for --short-budget (comma-separated)")
    ap.add_argument("--static", action="append", default=[], metavar="NAME=DOMAIN:W,...",
                    help="also run a fixed mixture under NAME (repeatable), e.g. tilt=books:0.5,code:0.5; every "
                    "domain needs a weight and they sum to 1. A bound on what mixing can reach: found offline")
    args = ap.parse_args()
    statics = parse_statics(args.static)
    command = "python bench/mixing/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(args, work)
    summary = build_shards(
        str(corpus), work / "shards", vocab_size=args.vocab_size, min_heldout_tokens=args.eval_tokens // 2
    )
    print("train tokens per domain: " + ", ".join(f"{d}={v['train']['tokens']}" for d, v in summary["domains"].items()))
    policies = args.policies.split(",") + [n for n in statics if n not in args.policies.split(",")]
    if "uniform" not in policies:
        policies = ["uniform", *policies]
    results: dict[str, list[dict]] = {p: [] for p in policies}
    t_start = time.time()

    def run_dir(pol: str, seed: int, frac: float = 1.0) -> Path:
        return work / "runs" / (f"{pol}-s{seed}" if frac == 1.0 else f"{pol}-b{frac:g}-s{seed}")

    def job(pol: str, seed: int, frac: float = 1.0) -> list[str] | None:
        """The run's --set list, or None when --reuse finds it finished with the identical config."""
        out = run_dir(pol, seed, frac)
        budget = int(args.max_tokens * frac)
        steps = budget // (args.seq_len * args.batch_size)  # a shorter run has its own full schedule
        sets = [
            f"data.train={work / 'shards' / 'train'}", f"data.heldout={work / 'shards' / 'heldout'}",
            f"output={out}", f"seed={seed}",
            f"model.config={{model_type: gpt2, n_layer: {args.n_layer}, n_head: {args.n_head}, n_embd: {args.n_embd}}}",
            f"train.seq_len={args.seq_len}", f"train.batch_size={args.batch_size}",
            f"train.max_tokens={budget}", f"train.lr={args.lr}", f"train.device={args.device}",
            f"train.warmup_steps={max(1, steps // 20)}", f"train.eval_every={max(1, steps // args.evals)}",
            f"train.eval_tokens={args.eval_tokens}", f"train.threads={args.threads}", "log.step_log=false",
        ]
        if pol in statics:
            weights = ", ".join(f"{d}: {w}" for d, w in statics[pol].items())
            sets += ["policy.name=static", f"policy.weights={{{weights}}}"]
        else:
            sets.append(f"policy.name={pol}")
        if args.update_every:
            sets.append(f"policy.update_every={args.update_every}")
        if pol in ("doremi", "rho"):  # the same seed's uniform run is the reference
            sets.append(f"policy.reference={work / 'runs' / f'uniform-s{seed}'}")
        done = out / "model"
        if args.reuse and done.exists() and (out / "config.yaml").read_text() == dump_config(load_config(None, sets)):
            return None
        if out.exists():
            shutil.rmtree(out)
        return sets

    def collect(pol: str, seed: int, wall: float, frac: float = 1.0) -> None:
        out = run_dir(pol, seed, frac)
        rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        overhead = [r["policy_overhead"] for r in rows if r["policy_overhead"] is not None]
        label = pol if frac == 1.0 else f"{pol}@{frac:g}"
        results.setdefault(label, []).append({
            "seed": seed, "rows": rows, "avg": rows[-1]["avg"], "worst": rows[-1]["worst"],
            "worst_domain": rows[-1]["worst_domain"], "overhead": float(np.mean(overhead)) if overhead else 0.0,
            "tokens_per_s": float(np.mean([r["tokens_per_s"] for r in rows if r["tokens_per_s"]])),
            "weights": rows[-1]["weights"], "wall_s": wall,
        })
        print(f"  seed {seed} {label:12s} avg {rows[-1]['avg']:.4f} worst {rows[-1]['worst']:.4f} ({wall:.0f}s)", flush=True)

    # uniform first: it is every other run's yardstick and the reference of doremi/rho, which wait for it;
    # the other policies queue behind uniform in the same phase so that no core idles
    short = [p for p in args.short_policies.split(",") if p] if args.short_budget else []
    needs_ref = {"doremi", "rho"}
    phases = [[("uniform", s, 1.0) for s in range(args.seeds)]
              + [(p, s, 1.0) for s in range(args.seeds) for p in policies if p not in needs_ref | {"uniform"}]
              + [(p, s, args.short_budget) for s in range(args.seeds) for p in short if p not in needs_ref],
              [(p, s, 1.0) for s in range(args.seeds) for p in policies if p in needs_ref]
              + [(p, s, args.short_budget) for s in range(args.seeds) for p in short if p in needs_ref]]
    ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx, initializer=watch_parent,
                             initargs=(os.getpid(),)) as pool:
        for phase in phases:
            futures = {}
            for p, s, frac in phase:
                sets = job(p, s, frac)
                if sets is None:
                    collect(p, s, float("nan"), frac)  # reused (--reuse): finished earlier, same config
                else:
                    futures[pool.submit(run_one, sets)] = (p, s, frac)
            for fut in as_completed(futures):
                pol, seed, frac = futures[fut]
                collect(pol, seed, fut.result(), frac)
    for runs in results.values():
        runs.sort(key=lambda r: r["seed"])
    # tokens to reach uniform's final average (same seed): the yardstick; and natural's, when it ran:
    # a dynamic policy should also beat the better of the two static baselines
    yardsticks = ["uniform"] + (["natural"] if "natural" in results else [])
    for pol in policies:
        for run in results[pol]:
            for yard in yardsticks:
                base = results[yard][run["seed"]]["rows"][-1]
                reached = tokens_to_reach(run["rows"], base["avg"])
                run["ratio" if yard == "uniform" else f"ratio_{yard}"] = (
                    None if reached is None else reached / base["tokens"]
                )

    def ratio_cell(ratios: list[float | None]) -> str:
        if all(x is not None for x in ratios):
            return f"{np.mean(ratios):.2f} ± {np.std(ratios):.2f}"
        done = [x for x in ratios if x is not None]
        return f">1 in {len(ratios) - len(done)}/{len(ratios)} seeds" + (f" (others {np.mean(done):.2f})" if done else "")

    natural_col = "natural" in results
    lines = [
        f"command: {command}",
        f"budget {args.max_tokens} tokens, {args.seeds} seeds, model gpt2 {args.n_layer}x{args.n_embd}, "
        f"seq {args.seq_len} x batch {args.batch_size}, {args.jobs} job(s) x {args.threads or 'default'} "
        f"thread(s), total wall {time.time() - t_start:.0f}s",
        "",
        "| policy | avg held-out loss | worst-domain loss | tokens to reach uniform's final avg (× uniform's tokens) | "
        + ("tokens to reach natural's final avg (× natural's) | " if natural_col else "")
        + "policy overhead | tokens/s |",
        "|---|---|---|---|" + ("---|" if natural_col else "") + "---|---|",
    ]
    for pol in policies:
        runs = results[pol]
        avg, worst = np.array([r["avg"] for r in runs]), np.array([r["worst"] for r in runs])
        ratio_s = ratio_cell([r["ratio"] for r in runs])
        if natural_col:
            ratio_s += " | " + ratio_cell([r["ratio_natural"] for r in runs])
        lines.append(
            f"| {pol} | {avg.mean():.4f} ± {avg.std():.4f} | {worst.mean():.4f} ± {worst.std():.4f} | {ratio_s} | "
            f"{100 * np.mean([r['overhead'] for r in runs]):.2f}% | {np.mean([r['tokens_per_s'] for r in runs]):.0f} |"
        )
    lines += ["", "final weights (seed 0): "]
    for pol in policies:
        w = results[pol][0]["weights"]
        lines.append(f"  {pol:12s} " + " ".join(f"{d}={v:.3f}" for d, v in w.items()))
    if short:
        base_avg = np.array([r["avg"] for r in results["uniform"]])
        base_worst = np.array([r["worst"] for r in results["uniform"]])
        lines += [
            "",
            f"At {args.short_budget:g}x the budget ({int(args.max_tokens * args.short_budget)} tokens, its own full "
            "schedule) against uniform at 1x (same seed):",
            "",
            "| policy | avg held-out loss | worst-domain loss | avg - uniform@1x | worst - uniform@1x | seeds at or below uniform's avg |",
            "|---|---|---|---|---|---|",
        ]
        for pol in short:
            runs = results[f"{pol}@{args.short_budget:g}"]
            avg, worst = np.array([r["avg"] for r in runs]), np.array([r["worst"] for r in runs])
            da, dw = avg - base_avg, worst - base_worst
            lines.append(
                f"| {pol} | {avg.mean():.4f} ± {avg.std():.4f} | {worst.mean():.4f} ± {worst.std():.4f} | "
                f"{da.mean():+.4f} ± {da.std():.4f} | {dw.mean():+.4f} ± {dw.std():.4f} | {int((da <= 0).sum())}/{len(da)} |"
            )
    table = "\n".join(lines)
    print("\n" + table)
    (work / "results.md").write_text(table + "\n")
    (work / "results.json").write_text(json.dumps({"command": command, "results": results}, indent=1))


if __name__ == "__main__":
    main()
