"""The data–model loop, measured: does what round 1's model learnt about each document make round 2 better?

    # the runs in bench/loop/README.md (3 seeds, 3M tokens per run, 2 processes):
    python bench/loop/run.py --seeds 3 --max-tokens 3000000 --jobs 2
    python bench/loop/run.py --report-only          # the tables from whatever finished (runs stay on disk)

On a corpus from the bundled sample with labelled noise injected inside each domain (``corpus.py``), every
step goes through gristmill's primitives: the corpus is a catalog version; round 1 trains on
``catalog://loopbench@1``; ``score_run`` scores every document with the round-1 model and a reference
(a small model trained on a clean, trusted subset: RHO-LOSS's irreducible-loss model; for seed 0 also the
run's own step-0 weights); ``write_back`` commits the signals as a new version; a recipe with
``signal_percentile`` over ``train.r1sN.*`` (per domain) refines it into the round-2 version; round 2 trains
on it, starting from the mixture round 1 learnt (``policy.init_weights_from``). The heuristic baseline drops
the same share of each domain by the Gopher quality / Gopher repetition / FineWeb / C4 filters.

Every arm evaluates on the same clean held-out documents (``data.heldout``) and trains the same number of
tokens. Prints markdown tables: precision and recall of each way of dropping against the labels, the held-out
losses of the arms, tokens to reach round 1's final loss, the loop's cost and wall time per phase. Each run
keeps its results on disk (``--out``), so a partial set still gives tables (``--report-only``).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import shlex
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import NOISE_KINDS, build_corpus  # noqa: E402
from gristmill.loop.compare import tokens_to_reach  # noqa: E402

HEURISTICS = ["gopher_quality", "gopher_repetition", "fineweb_quality", "c4_quality"]
# (name, signal column suffix or special, direction: drop the top or the bottom of each domain, needs)
RANKINGS = [
    ("loss (high)", "loss", "top"),
    ("excess vs step-0 model (high)", "init_excess", "top"),
    ("clean reference's loss (high)", "ref_loss", "top"),
    ("excess vs clean reference, RHO (low)", "excess_loss", "bottom"),
]


# ----------------------------------------------------------------------------------------------------------
# pool workers
# ----------------------------------------------------------------------------------------------------------
def _worker_init(threads: int) -> None:
    """Exit when the bench process is gone; one torch thread per process (faster on a shared 2-core box)."""
    import torch

    from gristmill.engine.worker import end_with_parent

    torch.set_num_threads(threads)
    end_with_parent()


def _train(sets: list[str]) -> float:
    from gristmill.train.config import load_config
    from gristmill.train.loop import train

    t0 = time.time()
    train(load_config(None, sets))
    return time.time() - t0


def _score(run_dir: str, reference: str, output: str | None, catalog: str) -> float:
    from gristmill.train.score import score_run

    t0 = time.time()
    score_run(run_dir, reference=reference, catalog=catalog, output=output, batch_size=32, device="cpu")
    return time.time() - t0


# ----------------------------------------------------------------------------------------------------------
# the bench
# ----------------------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.out).resolve()
        self.catalog = str(self.work / "catalog")
        self.runs = self.work / "runs"
        self.timings = self.work / "timings.jsonl"

    # --- bookkeeping ------------------------------------------------------------------------------------
    def log_time(self, phase: str, task: str, seconds: float, **extra: object) -> None:
        with self.timings.open("a") as f:
            f.write(json.dumps({"phase": phase, "task": task, "seconds": seconds, **extra}) + "\n")
        print(f"  [{time.strftime('%H:%M:%S')}] {phase:10s} {task:18s} {seconds:7.1f}s", flush=True)

    def timed(self, phase: str, task: str, fn, *a, **kw):
        t0 = time.time()
        out = fn(*a, **kw)
        self.log_time(phase, task, time.time() - t0)
        return out

    # --- data -------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Corpus, catalog versions, tokenizer, clean held-out shards, heuristic decisions (idempotent)."""
        import gristmill as gm
        from gristmill.shards import build_shards, train_bpe

        a, w = self.args, self.work
        if (w / "prepared.json").exists():
            return
        if w.exists():
            shutil.rmtree(w)
        w.mkdir(parents=True)
        m = self.timed("prepare", "corpus", build_corpus, a.sample, w / "corpus", seed=a.corpus_seed,
                       noise_share=a.noise_share)
        print(f"corpus: {m['docs']} docs ({m['noisy_docs']} noisy, {100 * m['noisy_share']:.1f}%), "
              f"{m['chars']:,} chars; held-out {m['heldout_docs']}, trusted {m['trusted_docs']}", flush=True)

        def register(src: Path, name: str) -> None:
            gm.Recipe(input=str(src), steps=[], output=str(w / "prep" / name)).run(
                workers=1, into=name, catalog=self.catalog, overwrite=True)

        self.timed("prepare", "catalog", register, w / "corpus" / "corpus.jsonl.gz", "loopbench")
        self.timed("prepare", "catalog", register, w / "corpus" / "trusted.jsonl.gz", "trusted")
        texts = [json.loads(x)["text"] for x in _gz_lines(w / "corpus" / "corpus.jsonl.gz")]
        tok = self.timed("prepare", "tokenizer", train_bpe, texts, vocab_size=a.vocab_size)
        tok.save(str(w / "tokenizer.json"))
        # the clean held-out set: every document but one per domain lands in the "train" split of this set
        self.timed("prepare", "heldout", build_shards, str(w / "corpus" / "heldout.jsonl.gz"), w / "heldout",
                   tokenizer=str(w / "tokenizer.json"), heldout_fraction=0.01, max_heldout_docs=1)
        self.heuristics()
        (w / "prepared.json").write_text(json.dumps({"corpus": m}, indent=1))

    def heuristics(self) -> None:
        """Each filter alone over loopbench@1 (default rules); per document, how many of them drop it."""
        import gristmill as gm

        w = self.work
        ids = pq.read_table(_version_files(self.catalog, "loopbench@1"), columns=["id"])["id"].to_pylist()
        fails = dict.fromkeys(ids, 0)
        per_op = {}
        for op in HEURISTICS:
            out = w / "prep" / f"heur-{op}"
            t0 = time.time()
            gm.Recipe(input="catalog://loopbench@1", steps=[getattr(gm.ops, op)()], output=str(out)).run(
                workers=1, catalog=self.catalog, overwrite=True)
            self.log_time("heuristics", op, time.time() - t0)
            kept = set(pq.read_table(str(out), columns=["id"])["id"].to_pylist())
            per_op[op] = [i for i in ids if i not in kept]
            for i in per_op[op]:
                fails[i] += 1
        (w / "heuristics.json").write_text(json.dumps({"fails": fails, "dropped": per_op}))

    def heuristic_version(self, rate: float) -> None:
        """``loopbench-heur@1``: loopbench@1 less the ``rate`` of each domain the filters rank worst."""
        import gristmill as gm

        w = self.work
        if (w / "heur_version.json").exists():
            return
        t0 = time.time()
        table = pq.read_table(_version_files(self.catalog, "loopbench@1"))
        fails = json.loads((w / "heuristics.json").read_text())["fails"]
        score = np.array([fails[i] for i in table["id"].to_pylist()], dtype=float)
        drop = drop_mask(score, table["domain"].to_numpy(zero_copy_only=False), rate, "top", self.args.corpus_seed)
        kept = table.filter(pa.array(~drop))
        pq.write_table(kept, w / "prep" / "heur-kept.parquet")
        gm.Recipe(input=str(w / "prep" / "heur-kept.parquet"), steps=[], output=str(w / "prep" / "loopbench-heur")).run(
            workers=1, into="loopbench-heur", catalog=self.catalog, overwrite=True)
        self.log_time("heuristics", "version", time.time() - t0)
        (w / "heur_version.json").write_text(json.dumps({"dropped": int(drop.sum()), "rows": len(drop)}))

    # --- runs -------------------------------------------------------------------------------------------
    def train_sets(self, name: str, version: str, seed: int, budget: int, extra: list[str] = ()) -> list[str]:
        a = self.args
        steps = budget // (a.seq_len * a.batch_size)
        return [
            f"data.train=catalog://{version}", f"data.catalog={self.catalog}",
            f"data.tokenizer={self.work / 'tokenizer.json'}", f"data.heldout={self.work / 'heldout' / 'train'}",
            "data.heldout_fraction=0.01", "data.max_heldout_docs=1", "data.min_heldout_tokens=0",
            f"output={self.runs / name}", f"run.name={name.replace('-', '')}", f"seed={seed}",
            f"model.config={{model_type: gpt2, n_layer: {a.n_layer}, n_head: {a.n_head}, n_embd: {a.n_embd}}}",
            f"train.seq_len={a.seq_len}", f"train.batch_size={a.batch_size}", f"train.max_tokens={budget}",
            f"train.lr={a.lr}", "train.device=cpu", f"train.warmup_steps={max(1, steps // 20)}",
            f"train.eval_every={max(1, steps // a.evals)}", f"train.eval_tokens={a.eval_tokens}",
            f"train.threads={a.threads}", "log.step_log=false", "log.plot=false", *extra,
        ]

    def refine(self, seed: int) -> None:
        """Write round 1's signals back and cut the round-2 version with a signal_percentile recipe."""
        import gristmill as gm
        from gristmill.train.writeback import write_back

        a, name = self.args, f"r1-s{seed}"
        t0 = time.time()
        v = write_back(self.runs / name, catalog=self.catalog)
        self.log_time("writeback", name, time.time() - t0, version=v.ref)
        col = f"train.r1s{seed}.{a.refine_signal}"
        share = {"drop_top" if a.refine_direction == "top" else "drop_bottom": a.drop_rate}
        t0 = time.time()
        gm.Recipe(input=f"catalog://{v.ref}", output=str(self.work / "prep" / f"r2-s{seed}"), steps=[
            gm.ops.signal_percentile(name="refine", of=f"signal('{col}')", by="domain", **share),
        ]).run(workers=1, into=f"loopbench-r2s{seed}", catalog=self.catalog, overwrite=True)
        self.log_time("refine", name, time.time() - t0)

    def schedule(self) -> None:
        """Every task with its dependencies; pool tasks run ``--jobs`` at a time, seed by seed."""
        a = self.args
        self.runs.mkdir(exist_ok=True)
        policy = [f"policy.name={a.policy}"]
        tasks: dict[str, dict] = {}

        def add(name: str, key: tuple, deps: list[str], kind: str, fn, *args) -> None:
            tasks[name] = {"key": key, "deps": deps, "kind": kind, "fn": fn, "args": args}

        ref_done = (self.runs / "ref" / "model" / "config.json").exists()
        if not ref_done:
            add("ref", (0, 0), [], "train", _train,
                self.train_sets("ref", "trusted@1", 0, a.ref_tokens, [f"policy.name={a.policy}"]))
        arms = a.arms.split(",")
        for s in range(a.seeds):
            def done(name: str) -> bool:
                return (self.runs / name / "model" / "config.json").exists()

            r1, heur = f"r1-s{s}", f"heur-s{s}"
            r1_deps = [] if done(r1) else [r1]
            if not done(r1):
                add(r1, (s, 1), [], "train", _train,
                    self.train_sets(r1, "loopbench@1", s, a.max_tokens, [*policy, "signals.save_init=true"]))
            scored = (self.runs / r1 / "signals.parquet").exists()
            ref_deps = [] if ref_done else ["ref"]
            if not scored:
                add(f"score-{s}", (s, 2), r1_deps + ref_deps, "score", _score,
                    str(self.runs / r1), str(self.runs / "ref"), None, self.catalog)
            if s == 0 and not (self.runs / r1 / "signals_init.parquet").exists():  # last: the least needed
                add("score-init-0", (99, 0), r1_deps, "score", _score,
                    str(self.runs / r1), "init", str(self.runs / r1 / "signals_init.parquet"), self.catalog)
            refined = (self.work / "prep" / f"r2-s{s}").exists()
            wants = [x for x in ("r2", "r2data") if x in arms and not done(f"{x}-s{s}")]
            if wants and not refined:
                add(f"refine-{s}", (s, 3), [] if scored else [f"score-{s}"], "main", self.refine, s)
            for arm in wants:  # r2: refined data and round 1's mixture; r2data: refined data, a fresh mixture
                init = [f"policy.init_weights_from={self.runs / r1}"] if arm == "r2" and a.init_mixture else []
                add(f"{arm}-s{s}", (s, 4 if arm == "r2" else 7), [] if refined else [f"refine-{s}"], "train", _train,
                    self.train_sets(f"{arm}-s{s}", f"loopbench-r2s{s}@1", s, a.max_tokens, [*policy, *init]))
            if "heur" in arms and not done(heur):
                add(heur, (s, 6), [], "train", _train,
                    self.train_sets(heur, "loopbench-heur@1", s, a.max_tokens, policy))
        self.execute(tasks)

    def execute(self, tasks: dict[str, dict]) -> None:
        ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
        phase_of = {"train": "train", "score": "score", "main": "refine"}
        running: dict[Future, tuple[str, float]] = {}
        finished: set[str] = set()
        failed: set[str] = set()
        with ProcessPoolExecutor(max_workers=self.args.jobs, mp_context=ctx, initializer=_worker_init,
                                 initargs=(self.args.threads,)) as pool:
            while len(finished) + len(failed) < len(tasks):
                failed |= {n for n, t in tasks.items() if any(d in failed for d in t["deps"])}
                busy = {v[0] for v in running.values()}
                ready = sorted((t["key"], n) for n, t in tasks.items() if n not in finished | failed | busy
                               and all(d in finished for d in t["deps"]))
                ran_main = False
                for _, n in ready:
                    t = tasks[n]
                    if t["kind"] == "main":  # light steps (write-back, a recipe) run here, at once
                        try:
                            t["fn"](*t["args"])
                            finished.add(n)
                        except Exception as e:  # noqa: BLE001 - a failed step fails its dependants only
                            print(f"  {n} failed: {e!r}", flush=True)
                            failed.add(n)
                        ran_main = True
                        break
                    if len(running) < self.args.jobs:
                        running[pool.submit(t["fn"], *t["args"])] = (n, time.time())
                if ran_main:
                    continue
                if not running:
                    failed |= set(tasks) - finished  # nothing can start: unmet dependencies
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    n, t0 = running.pop(fut)
                    try:
                        fut.result()
                        finished.add(n)
                        self.log_time(phase_of[tasks[n]["kind"]], n, time.time() - t0)
                    except Exception as e:  # noqa: BLE001
                        print(f"  {n} failed: {e!r}", flush=True)
                        failed.add(n)
        if failed:
            print(f"failed or skipped: {', '.join(sorted(failed))}", flush=True)


# ----------------------------------------------------------------------------------------------------------
# measures
# ----------------------------------------------------------------------------------------------------------
def drop_mask(score: np.ndarray, groups: np.ndarray, rate: float, direction: str, seed: int) -> np.ndarray:
    """Drop ⌈rate × n⌉ documents of each group with the highest (``top``) or lowest scores; ties in a seeded
    random order, NaN never dropped."""
    rng = np.random.default_rng(seed)
    tie = rng.random(len(score))
    s = np.where(np.isnan(score), -np.inf, score) if direction == "top" else np.where(np.isnan(score), -np.inf, -score)
    drop = np.zeros(len(score), dtype=bool)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        k = math.ceil(rate * len(idx) - 1e-9)
        order = idx[np.lexsort((tie[idx], -s[idx]))]
        drop[order[:k]] = True
    return drop


def pr(drop: np.ndarray, noisy: np.ndarray) -> tuple[float, float]:
    tp = int((drop & noisy).sum())
    return tp / max(1, int(drop.sum())), tp / max(1, int(noisy.sum()))


def _gz_lines(path: Path) -> list[str]:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def _version_files(catalog: str, ref: str) -> pa.Table | list[str]:
    from gristmill.catalog.core import Catalog

    return Catalog(catalog).get(ref).local_files()


def _metrics(run: Path) -> list[dict] | None:
    f = run / "metrics.jsonl"
    if not (run / "model" / "config.json").exists() or not f.exists():
        return None
    return [json.loads(x) for x in f.read_text().splitlines()]


def _ms(xs: list[float], fmt: str = ".4f") -> str:
    if not xs:
        return "–"
    return f"{np.mean(xs):{fmt}} ± {np.std(xs):{fmt.lstrip('+')}}" if len(xs) > 1 else f"{xs[0]:{fmt}}"


def report(bench: Bench, command: str) -> str:
    a, w = bench.args, bench.work
    labels = {json.loads(x)["id"]: json.loads(x)["kind"] for x in (w / "corpus" / "labels.jsonl").read_text().splitlines()}
    corpus = pq.read_table(_version_files(bench.catalog, "loopbench@1"), columns=["id", "domain"])
    ids = corpus["id"].to_pylist()
    dom = corpus["domain"].to_numpy(zero_copy_only=False)
    kind = np.array([labels[i] for i in ids])
    noisy = kind != "clean"
    heur = json.loads((w / "heuristics.json").read_text())
    hfails = np.array([heur["fails"][i] for i in ids], dtype=float)
    rates = [a.drop_rate, a.drop_rate2]
    lines = [f"Corpus: {len(ids)} documents, {int(noisy.sum())} noisy ({100 * noisy.mean():.1f}%); "
             f"drop rates are per domain (⌈rate × n⌉ of each domain).", ""]

    # precision / recall per way of dropping, per seed of round 1
    signals: dict[int, dict[str, np.ndarray]] = {}
    for s in range(a.seeds):
        f = bench.runs / f"r1-s{s}" / "signals.parquet"
        if not f.exists():
            continue
        t = pq.read_table(f)
        pos = {i: k for k, i in enumerate(t[t.column_names[0]].to_pylist())}
        order = np.array([pos[i] for i in ids])
        pre = f"train.r1s{s}."
        sig = {c[len(pre):]: t[c].to_numpy(zero_copy_only=False).astype(float)[order] for c in t.column_names if c.startswith(pre)}
        fi = bench.runs / f"r1-s{s}" / "signals_init.parquet"
        if fi.exists():
            ti = pq.read_table(fi)
            pos_i = {i: k for k, i in enumerate(ti[ti.column_names[0]].to_pylist())}
            sig["init_excess"] = ti[pre + "excess_loss"].to_numpy(zero_copy_only=False).astype(float)[[pos_i[i] for i in ids]]
        signals[s] = sig
    ways: list[tuple[str, dict[int, np.ndarray] | np.ndarray, str]] = []
    ways.append(("heuristics: filters failed (ties at random)", hfails, "top"))
    for label, col, direction in RANKINGS:
        ways.append((label, {s: v[col] for s, v in signals.items() if col in v}, direction))
    sig_col, sig_dir = a.refine_signal, a.refine_direction
    # both: the mean of the two within-domain percentile ranks (filters failed; the refining signal)
    both = {}
    for s, v in signals.items():
        if sig_col in v:
            r = _pct(v[sig_col], dom) if sig_dir == "top" else _pct(-v[sig_col], dom)
            both[s] = (_pct(hfails, dom) + r) / 2
    ways.append((f"both: mean rank of filters failed and {sig_col} ({'high' if sig_dir == 'top' else 'low'})",
                 both, "top"))
    # two training signals that miss different kinds: the clean model's loss (high) and RHO's excess (low)
    two = {s: np.maximum(_pct(v["ref_loss"], dom), _pct(-v["excess_loss"], dom)) for s, v in signals.items()
           if "ref_loss" in v and "excess_loss" in v}
    ways.append(("clean reference's loss (high) and RHO excess (low), the higher rank", two, "top"))
    head = "| way of dropping | seeds | " + " | ".join(f"P @ {r:.0%} | R @ {r:.0%}" for r in rates) + " | " + \
        " | ".join(f"R {k} @ {rates[0]:.0%}" for k in NOISE_KINDS) + " |"
    lines += ["### Dropping noise: precision and recall against the labels", "", head,
              "|" + "---|" * (2 + 2 * len(rates) + len(NOISE_KINDS))]
    pr_rows = {}
    for label, score, direction in ways:
        per_seed = score if isinstance(score, dict) else {0: score}
        if not per_seed:
            continue
        cells: list[str] = []
        stats = {}
        for r in rates:
            ps, rs = [], []
            for s, sc in per_seed.items():
                p, rr = pr(drop_mask(sc, dom, r, direction, s), noisy)
                ps.append(p)
                rs.append(rr)
            cells += [_ms(ps, ".3f"), _ms(rs, ".3f")]
            stats[r] = (float(np.mean(ps)), float(np.mean(rs)))
        for k in NOISE_KINDS:
            m = kind == k
            cells.append(_ms([float((drop_mask(sc, dom, rates[0], direction, s) & m).sum() / m.sum())
                              for s, sc in per_seed.items()], ".2f"))
        pr_rows[label] = stats
        lines.append(f"| {label} | {len(per_seed)} | " + " | ".join(cells) + " |")
    at_natural = np.array([hfails[i] > 0 for i in range(len(ids))])
    p, r = pr(at_natural, noisy)
    lines += ["", f"The four filters at their own thresholds (a document dropped by any of them) drop "
              f"{100 * at_natural.mean():.1f}% of the corpus: precision {p:.3f}, recall {r:.3f}; per filter: "
              + ", ".join(f"{op} {100 * len(d) / len(ids):.1f}%" for op, d in heur["dropped"].items())
              + ". Per domain: " + ", ".join(f"{d} {100 * at_natural[dom == d].mean():.0f}%" for d in np.unique(dom)) + "."]

    # held-out losses per arm
    arms = [("r1", "round 1 (noisy corpus)"), ("heur", "heuristic-filtered"),
            ("r2", "round 2 (refined data, round 1's mixture)"), ("r2data", "round 2, refined data only (fresh mixture)")]
    res = {arm: {s: _metrics(bench.runs / f"{arm}-s{s}") for s in range(a.seeds)} for arm, _ in arms}
    lines += ["", "### Held-out loss at equal tokens (the same clean held-out set for every arm)", "",
              "| arm | seeds | avg held-out loss | worst-domain loss | worst domain | Δ avg vs round 1 (same seed) | "
              "tokens to reach round 1's final avg (× round 1's) |", "|---|---|---|---|---|---|---|"]
    ratios_r2: list[float | None] = []
    for arm, label in arms:
        got = {s: m for s, m in res[arm].items() if m}
        if not got and arm == "r2data":  # an optional arm (--arms ...,r2data)
            continue
        if not got:
            lines.append(f"| {label} | 0 | – | – | – | – | – |")
            continue
        avg = [m[-1]["avg"] for m in got.values()]
        worst = [m[-1]["worst"] for m in got.values()]
        wd = sorted({m[-1]["worst_domain"] for m in got.values()})
        deltas, ratios = [], []
        for s, m in got.items():
            base = res["r1"].get(s)
            if base and arm != "r1":
                deltas.append(m[-1]["avg"] - base[-1]["avg"])
                reached = tokens_to_reach(m, base[-1]["avg"])
                ratios.append(None if reached is None else reached / base[-1]["tokens"])
        if arm == "r2":
            ratios_r2 = ratios
        done = [x for x in ratios if x is not None]
        ratio_s = ("1 (itself)" if arm == "r1" else "–" if not ratios else _ms(done, ".2f") if len(done) == len(ratios)
                   else f">1 in {len(ratios) - len(done)}/{len(ratios)}" + (f" (others {np.mean(done):.2f})" if done else ""))
        lines.append(f"| {label} | {len(got)} | {_ms(avg)} | {_ms(worst)} | {', '.join(wd)} | "
                     f"{_ms(deltas, '+.4f') if deltas else '–'} | {ratio_s} |")
    # per-domain final losses
    doms = sorted({d for arm in res.values() for m in arm.values() if m for d in m[-1]["heldout"]})
    if doms:
        lines += ["", "Final held-out loss per domain (mean over the seeds that finished):", "",
                  "| arm | " + " | ".join(doms) + " |", "|---|" + "---|" * len(doms)]
        for arm, label in arms:
            got = [m for m in res[arm].values() if m]
            if got:
                lines.append(f"| {label} | " + " | ".join(f"{np.mean([m[-1]['heldout'][d] for m in got]):.3f}" for d in doms) + " |")
        w0 = {arm: next((m[-1]["weights"] for m in res[arm].values() if m), None) for arm, _ in arms}
        lines += ["", f"Final mixture ({a.policy}, first seed that finished): " + "; ".join(
            f"{arm}: " + " ".join(f"{d}={v:.2f}" for d, v in ws.items()) for arm, ws in w0.items() if ws)]

    # cost
    timings = [json.loads(x) for x in bench.timings.read_text().splitlines()] if bench.timings.exists() else []
    scores = [json.loads((bench.runs / f"r1-s{s}" / "signals.json").read_text()) for s in range(a.seeds)
              if (bench.runs / f"r1-s{s}" / "signals.json").exists()]
    train_s = {t["task"]: t["seconds"] for t in timings if t["phase"] == "train"}
    r1_s = [train_s[f"r1-s{s}"] for s in range(a.seeds) if f"r1-s{s}" in train_s]
    ref_tok = a.ref_tokens
    lines += ["", "### The loop's cost", ""]
    if scores:
        sc_tok = float(np.mean([x["tokens"] for x in scores]))
        sc_s = float(np.mean([x["seconds"] for x in scores]))
        r1_mean = float(np.mean(r1_s)) if r1_s else float("nan")
        ref_s = train_s.get("ref", float("nan"))
        lines += [
            "| item | tokens | seconds (mean per seed) | × round 1's training tokens | × round 1's training seconds |",
            "|---|---|---|---|---|",
            f"| round-1 training | {a.max_tokens:,} | {_ms(r1_s, '.0f')} | 1.00 | 1.00 |",
            f"| reference model on the trusted subset (once per loop) | {ref_tok:,} | {ref_s:.0f} | "
            f"{ref_tok / a.max_tokens:.2f} | {ref_s / r1_mean:.2f} |",
            f"| scoring every document: round-1 model + reference (2 forwards) | {int(sc_tok):,} × 2 | {sc_s:.0f} | "
            f"{2 * sc_tok / a.max_tokens / 3:.2f} (a forward ≈ ⅓ of a training token) | {sc_s / r1_mean:.2f} |",
        ]
        done = [x for x in ratios_r2 if x is not None]
        if done:
            extra_tok = ref_tok / a.max_tokens + 2 * sc_tok / a.max_tokens / 3
            extra_s = (ref_s + sc_s) / r1_mean
            lines += ["", f"Round 2 reached round 1's final average loss in **{np.mean(done):.2f}×** round 1's tokens "
                      f"(seeds that reached it: {len(done)}/{len(ratios_r2)}); counting the reference model and the "
                      f"scoring pass too, {np.mean(done) + extra_tok:.2f}× in training-token equivalents, "
                      f"{np.mean(done) + extra_s:.2f}× in seconds (goal ≤ 0.8×)."]
    phases: dict[str, float] = {}
    for t in timings:
        phases[t["phase"]] = phases.get(t["phase"], 0.0) + t["seconds"]
    if phases:
        lines += ["", "Wall time by phase (summed over tasks; with --jobs 2 two of them overlap): "
                  + ", ".join(f"{k} {v:.0f}s" for k, v in phases.items())]
        per_round = {}
        for t in timings:
            for pre in ("r1", "r2", "heur"):
                if t["phase"] == "train" and t["task"].startswith(pre + "-"):
                    per_round.setdefault(pre, []).append(t["seconds"])
        lines += ["One loop for one seed (mean seconds): prepare " + f"{sum(t['seconds'] for t in timings if t['phase'] == 'prepare'):.0f}"
                  + f", heuristics {phases.get('heuristics', 0):.0f}, reference {train_s.get('ref', 0):.0f}, round 1 "
                  + f"{np.mean(per_round.get('r1', [0])):.0f}, score {np.mean([t['seconds'] for t in timings if t['phase'] == 'score' and t['task'].startswith('score-') and 'init' not in t['task']] or [0]):.0f}"
                  + f", write-back {np.mean([t['seconds'] for t in timings if t['phase'] == 'writeback'] or [0]):.1f}"
                  + f", refine {np.mean([t['seconds'] for t in timings if t['phase'] == 'refine' and t['task'].startswith('r1-')] or [0]):.1f}"
                  + f", round 2 {np.mean(per_round.get('r2', [0])):.0f}"]
    lines += ["", f"Setup: gpt2 {a.n_layer}x{a.n_embd} (vocab {a.vocab_size}), seq {a.seq_len} x batch {a.batch_size}, "
              f"{a.max_tokens:,} tokens per run, policy {a.policy}" + (" (round 2 starts from round 1's mixture)" if a.init_mixture else "")
              + f", round 2 drops the {'top' if sig_dir == 'top' else 'bottom'} {a.drop_rate:.0%} of each domain by "
              f"train.r1sN.{sig_col}; {a.jobs} job(s) x {a.threads} thread(s).", ""]
    ran = (w / "command.txt").read_text().strip() if (w / "command.txt").exists() else command
    lines.append(f"command: `{ran}`" + (f" (tables: `{command}`)" if ran != command else ""))
    return "\n".join(lines)


def _pct(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Percentile rank within each group, in (0, 1]; ties share their mean rank."""
    import pandas as pd

    return pd.Series(x).groupby(groups).rank(pct=True, method="average").to_numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", default="data/sample.jsonl.gz")
    ap.add_argument("--out", default="bench/_work/loop")
    ap.add_argument("--corpus-seed", type=int, default=0)
    ap.add_argument("--noise-share", type=float, default=0.15, help="noise documents per domain (share)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--arms", default="r1,r2,heur")
    ap.add_argument("--max-tokens", type=int, default=3_000_000)
    ap.add_argument("--ref-tokens", type=int, default=1_000_000, help="the reference model's budget (trusted subset)")
    ap.add_argument("--policy", default="ado")
    ap.add_argument("--init-mixture", action=argparse.BooleanOptionalAction, default=True,
                    help="round 2 starts from round 1's learnt mixture")
    ap.add_argument("--refine-signal", default="excess_loss", help="the train.r1sN.* column round 2 ranks by")
    ap.add_argument("--refine-direction", default="bottom", choices=["top", "bottom"])
    ap.add_argument("--drop-rate", type=float, default=0.15, help="share of each domain dropped (round 2, heuristics)")
    ap.add_argument("--drop-rate2", type=float, default=0.30, help="a second rate for precision/recall")
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--n-layer", type=int, default=1)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--vocab-size", type=int, default=2048)
    ap.add_argument("--evals", type=int, default=15)
    ap.add_argument("--eval-tokens", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    command = "python bench/loop/run.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    bench = Bench(args)
    if args.report_only and not (bench.work / "prepared.json").exists():
        print(f"error: nothing prepared under {bench.work}: run without --report-only first", file=sys.stderr)
        sys.exit(2)
    if not args.report_only:
        t0 = time.time()
        bench.prepare()
        (bench.work / "command.txt").write_text(command + "\n")
        bench.heuristic_version(args.drop_rate)
        bench.schedule()
        print(f"total wall {time.time() - t0:.0f}s", flush=True)
    table = report(bench, command)
    print("\n" + table)
    (bench.work / "results.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
