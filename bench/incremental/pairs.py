"""Interleaved pairs of one incremental command under two (or more) source trees: which way a change goes.

    python bench/incremental/run.py --months 20 --repeat 1 --cases a     # builds the parent version once
    git worktree add /tmp/before HEAD~1                                    # or any other tree of src/
    python bench/incremental/pairs.py --rounds 10 before=/tmp/before/src after=src

Each round runs ``gristmill run ... --incremental`` (the case (a) command of run.py, on a fresh copy of the
parent's catalog) once per tree, alternating which goes first; prints each tree's median wall and CPU
seconds and, against the first tree, the median of the paired differences and how many rounds were faster.
On a VM whose speed drifts by 20% between minutes, only such pairs show a change of a few percent.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import sys
from pathlib import Path

from run import gristmill  # the benchmark's own runner (this folder is on sys.path)

RUN = Path(__file__).resolve().parents[2] / "bench" / "_work" / "incremental" / "run"


def one(src: str, recipe: Path, work: Path) -> tuple[float, float]:
    """One incremental command under ``src``: (wall s, CPU s of it and its workers)."""
    cat, out = work / "catalog", work / "out"
    shutil.rmtree(cat, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(RUN / "catalog-parent", cat)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=src, GRISTMILL_HOME=str(cat))
    took, _, _ = gristmill(["run", str(recipe), "--workers", "2", "--into", "web", "--incremental"], env)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("trees", nargs="+", help="NAME=PATH of a src/ folder")
    args = ap.parse_args()
    trees = [tuple(t.split("=", 1)) for t in args.trees]
    if not (RUN / "catalog-parent").is_dir() or not (RUN / "r1-0.yaml").is_file():
        sys.exit("no parent version: run `python bench/incremental/run.py --months 20 --repeat 1 --cases a` first")
    work = RUN / "pairs"
    work.mkdir(exist_ok=True)
    recipe = work / "recipe.yaml"
    recipe.write_text((RUN / "r1-0.yaml").read_text().replace(str(RUN / "o1-0"), str(work / "out")))
    for _, src in trees:
        compileall.compile_dir(src, quiet=1)  # as installed: no command pays for compiling
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in trees}
    for r in range(args.rounds):
        for name, src in trees if r % 2 == 0 else trees[::-1]:
            times[name].append(one(src, recipe, work))
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1][0]:.2f} s" for n, _ in trees), file=sys.stderr)
    print("| tree | wall s median (min) | CPU s median | paired wall diff vs first | CPU diff | faster rounds |")
    print("|---|---|---|---|---|---|")
    first = trees[0][0]
    for name, _ in trees:
        w = [x[0] for x in times[name]]
        c = [x[1] for x in times[name]]
        dw = [b[0] - a[0] for a, b in zip(times[first], times[name])]
        dc = [b[1] - a[1] for a, b in zip(times[first], times[name])]
        diff = ("- | - | -" if name == first else
                f"{statistics.median(dw):+.3f} | {statistics.median(dc):+.3f} | {sum(d < 0 for d in dw)} of {len(dw)}")
        print(f"| {name} | {statistics.median(w):.2f} ({min(w):.2f}) | {statistics.median(c):.2f} | {diff} |")


if __name__ == "__main__":
    main()
