"""gristmill's minhash_dedup through the real engine (`gristmill run`, one worker), for minhash_bench.py.

    .venv/bin/python bench/prep_vs_datatrove/gm_engine_minhash.py INPUT.jsonl WORKDIR

Writes a one-step recipe (minhash_dedup, defaults, kept documents as JSONL like datatrove's writer), runs
the CLI with --workers 1, and prints one JSON line: wall seconds, kept rows, peak RSS of the CLI process
tree's largest process.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml


def main() -> None:
    src, work = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    recipe = {
        "name": "minhash_bench",
        "input": {"path": str(src), "text_field": "text", "id_field": "id"},
        "steps": [{"op": "minhash_dedup"}],
        "output": {"path": str(work / "out"), "format": "jsonl"},
    }
    (work / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    t = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gristmill.cli",
            "run",
            str(work / "recipe.yaml"),
            "--workers",
            "1",
            "--json",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    summary = json.loads(proc.stdout)
    kept_ids = []
    for f in sorted((work / "out").glob("part-*.jsonl*")):
        kept_ids += [json.loads(line)["id"] for line in f.open()]
    (work / "kept_ids.txt").write_text("\n".join(kept_ids))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": {"engine run": wall}, "kept": summary["kept"], "peak_rss_mb": rss}))


if __name__ == "__main__":
    main()
