"""(b) MinHash dedup, gristmill vs datatrove, side by side on the same input and machine, one core each.

    .venv/bin/python bench/prep_vs_datatrove/minhash_bench.py [--big-mb 100] [--skip-big]

Two corpora:
* quality: bench/dedup_quality's corpus (near-duplicates injected at known Jaccard, exact ground truth),
  for precision / recall / F1 of both tools at threshold 0.8;
* big: >= 100 MB of documentation sections, each with two edited copies (0-30% of words edited), for
  throughput (documents per second per core) and peak RSS.

datatrove runs in its own venv (bench/_work/dt-venv: python -m venv bench/_work/dt-venv &&
bench/_work/dt-venv/bin/pip install datatrove regex spacy). gristmill's phases are driven directly in one
process (gm_minhash.py), and also through the engine (gm_engine_minhash.py: `gristmill run --workers 1`
on a one-step recipe); all write the kept documents as JSONL.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / "bench" / "_work"
DT_PY = WORK / "dt-venv" / "bin" / "python"
sys.path.insert(0, str(ROOT / "bench" / "dedup_quality"))

from corpus import iter_sections, load_corpus, scores, true_duplicates  # noqa: E402


def write_jsonl(path: Path, texts: list[str]) -> None:
    with path.open("wb") as f:
        for i, t in enumerate(texts):
            f.write(orjson.dumps({"id": f"d{i}", "text": t}) + b"\n")


def big_corpus(path: Path, target_mb: int, seed: int = 0) -> int:
    if path.exists() and path.stat().st_size >= target_mb << 20:
        return sum(1 for _ in path.open("rb"))
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    size = 0
    sections = list(iter_sections())
    vocab = sorted({w for t in sections[:500] for w in t.split() if w.isalpha()})
    while size < target_mb << 20:
        for s in sections:
            texts.append(s)
            for _ in range(2):
                w = s.split()
                for pos in rng.choice(len(w), int(len(w) * rng.uniform(0, 0.3)), replace=False):
                    w[pos] = vocab[rng.integers(len(vocab))]
                texts.append(" ".join(w))
            size += 3 * len(s.encode())
            if size >= target_mb << 20:
                break
    order = rng.permutation(len(texts))
    write_jsonl(path, [texts[i] for i in order])
    return len(texts)


def run(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[1]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def gristmill(path: Path, tag: str, *params: str) -> dict:
    return run([sys.executable, str(HERE / "gm_minhash.py"), str(path), str(WORK / f"gm_{tag}"), *params])


def gristmill_engine(path: Path, tag: str) -> dict:
    return run([sys.executable, str(HERE / "gm_engine_minhash.py"), str(path), str(WORK / f"gme_{tag}")])


def datatrove(path: Path, tag: str, *config: str) -> dict:
    return run([str(DT_PY), str(HERE / "dt_minhash.py"), str(path), str(WORK / f"dt_{tag}"), *config])


def kept_mask(workdir: Path, n: int) -> np.ndarray:
    keep = np.zeros(n, bool)
    for line in (workdir / "kept_ids.txt").read_text().split():
        keep[int(line[1:])] = True
    return keep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-mb", type=int, default=100)
    ap.add_argument("--skip-big", action="store_true")
    args = ap.parse_args()
    if not DT_PY.exists():
        raise SystemExit(f"no datatrove venv at {DT_PY} (see this file's docstring)")

    texts, _, pairs = load_corpus(4000, 2000, 0, None)
    qpath = WORK / "mh_quality.jsonl"
    write_jsonl(qpath, texts)
    true_dup = true_duplicates(len(texts), pairs, 0.8)
    runs = [
        ("gristmill default (256 perm, verify)", "gm_quality", gristmill(qpath, "quality")),
        ("gristmill default, via `gristmill run`", "gme_quality", gristmill_engine(qpath, "quality")),
        (
            "gristmill LSH only, 128 perm 9x13",
            "gm_quality_lsh",
            gristmill(qpath, "quality_lsh", "verify=false", "num_perm=128", "bands=9", "rows=13"),
        ),
        ("datatrove FineWeb defaults 14x8", "dt_quality", datatrove(qpath, "quality")),
        ("datatrove tuned for 0.8: 9x13", "dt_quality_913", datatrove(qpath, "quality_913", "9", "13")),
    ]
    print(f"quality corpus: {len(texts)} docs, {int(true_dup.sum())} true duplicates at exact Jaccard >= 0.8")
    print(f"{'tool':38} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, tag, _ in runs:
        p, r, f = scores(~kept_mask(WORK / tag, len(texts)), true_dup)
        print(f"{name:38} {p:9.4f} {r:7.4f} {f:6.4f}")

    if args.skip_big:
        return
    bpath = WORK / "mh_big.jsonl"
    n = big_corpus(bpath, args.big_mb)
    mb = bpath.stat().st_size / 1e6
    gm, gme, dt = gristmill(bpath, "big"), gristmill_engine(bpath, "big"), datatrove(bpath, "big")
    print(f"\nbig corpus: {n} docs, {mb:.0f} MB; one worker each (docs/s = docs/s per core)")
    print(f"{'tool':12} {'total s':>8} {'docs/s/core':>12} {'kept':>7} {'peak RSS MB':>12}   stages (s)")
    rows = []
    for name, res in (("gristmill", gm), ("gm engine", gme), ("datatrove", dt)):
        total = sum(res["seconds"].values())
        rows.append(n / total)
        stages = ", ".join(f"{k} {v:.1f}" for k, v in res["seconds"].items())
        print(
            f"{name:12} {total:8.1f} {n / total:12.0f} {res['kept']:7d} {res['peak_rss_mb']:12.0f}   {stages}"
        )
    print(
        f"ratio gristmill / datatrove (docs/s per core): {rows[0] / rows[2]:.2f}x direct, "
        f"{rows[1] / rows[2]:.2f}x through `gristmill run --workers 1`"
    )


if __name__ == "__main__":
    main()
