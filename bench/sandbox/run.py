"""What the OS sandbox costs a generated operator, beside running the same code in-process, on the same batches.

    python bench/sandbox/run.py [--sizes 1,10,100,1000,3118] [--repeats 3]

Two generated operators (the same source text both ways): ``len``, whose work is nothing, so its figures are
the sandbox's bare cost, and ``words``, a regex word count of the kind an LLM writes. The in-process path
``exec``s the source here and calls ``score`` on every text (what gristmill did before the sandbox); the
sandboxed path is :class:`gristmill.sandbox.SandboxedFunction`, the one long-lived bubblewrap child per
operator per worker that ``gristmill run`` uses. Batches are cut from the bundled sample
(``data/sample.jsonl.gz``, 3,118 documents, 1.6 kB on average); each figure is the best of ``--repeats``
passes over the whole sample (the machine is shared). Printed: the one-time availability probe and the child
start-up, then per batch size the round trip per batch, documents per second both ways, the ratio, and the
sandbox's extra milliseconds per batch.
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


def best_pass(call: Callable[[list[str]], list[float]], batches: list[list[str]], repeats: int) -> float:
    """Seconds of the fastest pass over every batch."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for b in batches:
            call(b)
        best = min(best, time.perf_counter() - t0)
    return best


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
    print(f"{len(texts)} documents ({sum(map(len, texts)) / len(texts) / 1000:.1f} kB on average), best of "
          f"{args.repeats} passes\n")
    print("| one-time cost | ms |\n|---|---:|")
    print(f"| availability probe (once per worker process) | {probe * 1000:.0f} |")
    print(f"| child start-up and code load (once per operator per worker) | {start * 1000:.0f} |\n")
    print("| operator | batch | batches | in-process docs/s | sandboxed docs/s | sandboxed / in-process | "
          "round trip per batch, ms | extra per batch, ms |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, source in OPERATORS.items():
        local = in_process(source)
        sandboxed = SandboxedFunction(source, ALLOWED_IMPORTS, LIMITS)
        sandboxed.start()
        try:
            for size in sizes:
                batches = [texts[i:i + size] for i in range(0, len(texts), size)]
                assert local(batches[0]) == sandboxed(batches[0])  # the same values both ways
                t_local = best_pass(local, batches, args.repeats)
                t_box = best_pass(sandboxed, batches, args.repeats)
                print(f"| {name} | {size} | {len(batches)} | {len(texts) / t_local:,.0f} | {len(texts) / t_box:,.0f} | "
                      f"{t_local / t_box:.3f}x | {t_box / len(batches) * 1000:.2f} | "
                      f"{(t_box - t_local) / len(batches) * 1000:.2f} |")
        finally:
            sandboxed.close()


if __name__ == "__main__":
    main()
