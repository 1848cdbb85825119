"""Bench (a): heuristic pipeline, gristmill vs datatrove, same corpus, one worker each, side by side.

    python bench/prep_vs_datatrove/run.py --max-mb 100        # the full run (>= 100 MB)
    python bench/prep_vs_datatrove/run.py --max-mb 5          # a quick run

Needs bench/_work/corpus.jsonl.gz (bench/common/make_corpus.py) and datatrove in bench/_work/dt-venv
(python -m venv bench/_work/dt-venv && bench/_work/dt-venv/bin/pip install datatrove spacy regex).
docs/s per core = documents / CPU seconds of the single worker process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT / "bench/_work/corpus.jsonl.gz"))
    ap.add_argument("--max-mb", type=float, default=100.0)
    ap.add_argument("--dt-python", default=str(ROOT / "bench/_work/dt-venv/bin/python"))
    args = ap.parse_args()
    side = str(Path(__file__).with_name("heuristic_sides.py"))
    res = {}
    for name, py in (("gristmill", sys.executable), ("datatrove", args.dt_python)):
        out = subprocess.run([py, side, name, "--corpus", args.corpus, "--max-mb", str(args.max_mb)],
                             check=True, capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"),
                                                                                         "PATH": "/usr/bin:/bin"})
        res[name] = json.loads(out.stdout.strip().splitlines()[-1])
    g, d = res["gristmill"], res["datatrove"]
    print(f"corpus: {g['docs']} docs, {g['mb']} MB; 1 worker each\n")
    print("| side | docs/s per core | CPU s | peak RSS MB | kept |")
    print("|---|---|---|---|---|")
    for r in (g, d):
        print(f"| {r['side']} | {r['docs_per_cpu_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | {r['kept']} |")
    print(f"\nspeed-up gristmill/datatrove: {g['docs_per_cpu_s'] / d['docs_per_cpu_s']:.2f}x; "
          f"RSS ratio: {g['peak_rss_mb'] / d['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
