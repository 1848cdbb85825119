"""What the OS sandbox costs a generated operator, beside running the same code in-process, on the same batches.

    python bench/sandbox/run.py [--sizes 1,10,100,1000,3118] [--repeats 3]

Two generated operators (the same source text both ways): ``len``, whose work is nothing, so its figures are
the sandbox's bare cost, and ``words``, a regex word count of the kind an LLM writes. The in-process path
``exec``s the source here and calls ``score`` on every text (what gristmill did before the sandbox); the
sandboxed path is :class:`gristmill.sandbox.SandboxedFunction`, the one long-lived bubblewrap child per
operator per worker that ``gristmill run`` uses. Batches are cut from the bundled sample
(``data/sample.jsonl.gz``, 3,118 documents, 1.7 kB on average), ``--repeats`` passes over the whole sample
per batch size. Printed: the one-time availability probe and the child start-up, then per batch size the
documents per CPU-second both ways (in-process: this process; sandboxed: this process plus the child's
process tree, read from ``/proc/PID/schedstat``, averaged over the passes) and their ratio, then the wall
clock: the best pass's round trip per batch and the sandbox's extra milliseconds per batch. On a shared
machine the CPU figures are the ones to compare; wall times move with the neighbours' load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from gristmill.ops.generated import ALLOWED_IMPORTS
from gristmill.sandbox import Limits, SandboxedFunction, check_available

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"
OPERATORS = {
    "len": "def score(text):\n    return len(text)\n",
    "words": "import re\n\nWORD = re.compile(r'[A-Za-z]+')\n\n\ndef score(text):\n    return len(WORD.findall(text))\n",
}
LIMITS = Limits(cpu_s=3600, wall_s=120.0)


def in_process(source: str) -> Callable[[list[str]], list[float]]:
    env: dict = {"__name__": "bench_in_process"}
    exec(compile(source, "<generated operator>", "exec"), env)
    fn = env["score"]
    return lambda texts: [float(fn(t)) for t in texts]


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += _tree(int(child))
    return found


def tree_cpu_seconds(pid: int | None) -> float:
    """CPU time of a process and its descendants (the sandboxed child under bubblewrap), nanosecond-exact."""
    if pid is None:
        return 0.0
    return sum(int(Path(f"/proc/{p}/schedstat").read_text().split()[0]) for p in _tree(pid)) / 1e9


def passes(call: Callable[[list[str]], list[float]], batches: list[list[str]], repeats: int,
           child: int | None = None) -> tuple[float, float]:
    """(wall seconds of the fastest pass over every batch, mean CPU seconds per pass including ``child``)."""
    best = float("inf")
    cpu0 = time.process_time() + tree_cpu_seconds(child)
    for _ in range(repeats):
        t0 = time.perf_counter()
        for b in batches:
            call(b)
        best = min(best, time.perf_counter() - t0)
    return best, (time.process_time() + tree_cpu_seconds(child) - cpu0) / repeats


def timed(action: Callable[[], object], n: int) -> float:
    """Median seconds of ``n`` runs of ``action``."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,10,100,1000,3118", help="documents per batch")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with gzip.open(SAMPLE, "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    sizes = [int(s) for s in args.sizes.split(",")]

    probe = timed(check_available.__wrapped__, 3)  # what check_available() costs once per process

    def start_and_close() -> None:
        fn = SandboxedFunction(OPERATORS["len"], ALLOWED_IMPORTS, LIMITS)
        fn.start()
        fn.close()

    start = timed(start_and_close, 5)
    print(f"{len(texts)} documents ({sum(map(len, texts)) / len(texts) / 1000:.1f} kB on average), {args.repeats} "
          "passes per batch size (CPU: the mean pass; wall: the best pass)\n")
    print("| one-time cost | ms |\n|---|---:|")
    print(f"| availability probe (once per worker process) | {probe * 1000:.0f} |")
    print(f"| child start-up and code load (once per operator per worker) | {start * 1000:.0f} |\n")
    print("| operator | batch | batches | in-process docs/CPU-s | sandboxed docs/CPU-s | sandboxed / in-process | "
          "wall: round trip per batch, ms | wall: extra per batch, ms |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, source in OPERATORS.items():
        local = in_process(source)
        sandboxed = SandboxedFunction(source, ALLOWED_IMPORTS, LIMITS)
        sandboxed.start()
        try:
            for size in sizes:
                batches = [texts[i:i + size] for i in range(0, len(texts), size)]
                assert local(batches[0]) == sandboxed(batches[0])  # the same values both ways
                t_local, cpu_local = passes(local, batches, args.repeats)
                t_box, cpu_box = passes(sandboxed, batches, args.repeats, sandboxed.pid)
                print(f"| {name} | {size} | {len(batches)} | {len(texts) / cpu_local:,.0f} | {len(texts) / cpu_box:,.0f} | "
                      f"{cpu_local / cpu_box:.3f}x | {t_box / len(batches) * 1000:.2f} | "
                      f"{(t_box - t_local) / len(batches) * 1000:.2f} |")
        finally:
            sandboxed.close()


if __name__ == "__main__":
    main()
