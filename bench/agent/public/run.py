"""Run the frozen public goal suite: `gristmill prepare` on every goal, then the independent checks.

The goals (goals.yaml) come from public projects and dataset cards, not from beside the planner; the
checks (checks.py) look only at the output data. A goal passes when prepare exits 0 and every check
holds. A prepare that exits 2 saying parts of the goal were not understood is a FAIL, counted
separately as "refused: not understood".

    python bench/agent/public/run.py [--llm SPEC [--no-fallback]] [--only SUBSTRING] [--every N [--offset K]] [--jobs 2]
                                     [--json] [--goals FILE] [--timeout S]

``--goals`` runs another goal file on the same corpora and checks (the development set in
``bench/agent/dev/`` does). A goal marked ``expect: refusal`` (none in the frozen suite) passes when
prepare refuses it clearly (exit 2 "not understood" or exit 1 "cannot meet") and fails if it runs.

With ``--llm`` a second table gives the LLM planner's own figures per corpus: plans it made, its pass rate
without the built-in fallback (and with no repair round), and the combined rate (``../llmstats.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from checks import Ctx, run_checks  # noqa: E402 - the suite's own modules, beside this file
from corpora import build  # noqa: E402
from llmstats import Tally, llm_table, planner_of, repair_rounds  # noqa: E402 - the agent benchmarks' shared tally

GOALS = HERE / "goals.yaml"
NOT_UNDERSTOOD = re.compile(r"not understood|did not understand|could not understand|unmapped|not mapped|unrecogni[sz]ed",
                            re.IGNORECASE)


@dataclass
class Result:
    id: str
    corpus: str
    outcome: str  # pass | fail | refused: not understood | refused (exit 2) | cannot meet (exit 1) | crash | timeout
    #               | refused as expected (an `expect: refusal` goal, counted as a pass)
    failed: list[str]  # "check: reason" for every failed check
    exit_code: int | None
    kept: int | None
    input: int
    seconds: float
    stderr_tail: str = ""
    unmapped: bool = False  # prepare said clauses of the goal were not understood (exit 2)
    planner: str = "built-in"  # with --llm: llm | fallback | no plan | not asked (llmstats.planner_of)
    rounds: int = 0  # repair rounds after the first dry run

    @property
    def passed(self) -> bool:
        return self.outcome in ("pass", "refused as expected")


def load_goals(path: Path = GOALS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["goals"]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_kept(out: Path) -> list[dict]:
    """The kept documents: the output folder's top-level part files (Parquet, or JSONL when asked for)."""
    rows: list[dict] = []
    for p in sorted(out.glob("part-*")):
        if p.suffix == ".parquet":
            rows += pq.read_table(p).to_pylist()
        elif p.name.endswith(".jsonl"):
            rows += read_jsonl(p)
        elif p.name.endswith(".jsonl.gz"):
            import gzip

            with gzip.open(p, "rt", encoding="utf-8") as fh:
                rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def prepare_cmd() -> list[str]:
    """`gristmill prepare` as the user runs it, through the same Python as this runner."""
    return [sys.executable, "-m", "gristmill.cli", "prepare"]


def run_goal(goal: dict, corpora: Path, labels: dict, work: Path, llm: str | None, timeout: float,
             fallback: bool = True) -> Result:
    corpus = corpora / f"{goal['corpus']}.jsonl"
    inputs = read_jsonl(corpus)
    out = work / goal["id"]
    cmd = prepare_cmd() + [str(corpus), "--goal", goal["goal"], "--output", str(out), "--workers", "1"]
    if llm:
        cmd += ["--llm", llm] + ([] if fallback else ["--no-fallback"])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Result(goal["id"], goal["corpus"], "timeout", [], None, None, len(inputs), time.perf_counter() - t0,
                      planner=planner_of(err) if llm else "built-in", rounds=repair_rounds(err))
    dt = time.perf_counter() - t0
    tail = proc.stderr.strip()[-600:]
    base = {"id": goal["id"], "corpus": goal["corpus"], "exit_code": proc.returncode, "input": len(inputs),
            "seconds": dt, "stderr_tail": tail, "planner": planner_of(proc.stderr) if llm else "built-in",
            "rounds": repair_rounds(proc.stderr)}
    refusal_expected = goal.get("expect") == "refusal"
    if proc.returncode == 2:
        nu = bool(NOT_UNDERSTOOD.search(proc.stderr))
        outcome = "refused: not understood" if nu else "refused (exit 2)"
        return Result(outcome="refused as expected" if refusal_expected else outcome, failed=[], kept=None, unmapped=nu, **base)
    if proc.returncode == 1 and "Traceback (most recent call last)" not in proc.stderr:
        return Result(outcome="refused as expected" if refusal_expected else "cannot meet (exit 1)", failed=[], kept=None, **base)
    if proc.returncode != 0 or "Traceback (most recent call last)" in proc.stderr:
        return Result(outcome="crash", failed=[], kept=None, **base)
    kept = read_kept(out)
    if refusal_expected:
        return Result(outcome="fail", failed=["expected a clear refusal, but prepare ran"], kept=len(kept), **base)
    ctx = Ctx(kept=kept, inputs=inputs, labels=labels[goal["corpus"]]["docs"], order=labels[goal["corpus"]]["order"])
    failed = [f"{name}: {why}" for name, why in run_checks(ctx, goal["checks"]) if why]
    return Result(outcome="fail" if failed else "pass", failed=failed, kept=len(kept), **base)


def _last_line(tail: str) -> str:
    """The line of prepare's stderr that says why (the reword hint after a not-understood list is skipped)."""
    lines = [ln for ln in tail.splitlines() if ln.strip() and not ln.startswith("reword it")]
    return lines[-1].strip() if lines else ""


def table(results: list[Result], planner: str) -> str:
    llm = any(r.planner != "built-in" for r in results)
    lines = ["| goal | corpus | result | failed check | exit | kept/input | s |" + (" planner | rounds |" if llm else ""),
             "|---|---|---|---|---|---|---|" + ("---|---|" if llm else "")]
    for r in results:
        why = r.failed[0] if r.failed else (_last_line(r.stderr_tail)[:110] if r.outcome not in ("pass", "fail") and r.stderr_tail else "")
        why = why.replace("|", "\\|")
        more = f" (+{len(r.failed) - 1} more)" if len(r.failed) > 1 else ""
        kept = f"{r.kept}/{r.input}" if r.kept is not None else f"-/{r.input}"
        ex = "" if r.exit_code is None else str(r.exit_code)
        res = "PASS (refused as expected)" if r.outcome == "refused as expected" else "PASS" if r.passed else r.outcome.upper()
        lines.append(f"| {r.id} | {r.corpus} | {res} | {why}{more} | {ex} | {kept} | {r.seconds:.1f} |"
                     + (f" {r.planner} | {r.rounds} |" if llm else ""))
    n = len(results)
    passed = sum(r.passed for r in results)
    counts = {k: sum(r.outcome == k for r in results) for k in
              ("fail", "refused: not understood", "refused (exit 2)", "cannot meet (exit 1)", "crash", "timeout")}
    nu = sum(r.unmapped for r in results)
    lines += ["", "| planner | goals | passed | pass rate | failed a check | refused: not understood | other exit 2 | exit 1 | crash | timeout | goals with unmapped clauses |",
              "|---|---|---|---|---|---|---|---|---|---|---|",
              f"| {planner} | {n} | {passed} | {passed / n:.0%} | {counts['fail']} | {counts['refused: not understood']} | "
              f"{counts['refused (exit 2)']} | {counts['cannot meet (exit 1)']} | {counts['crash']} | {counts['timeout']} | {nu} |"
              if n else "| - | 0 | 0 | - | | | | | | | |"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description="Run the frozen public goal suite against `gristmill prepare`.")
    ap.add_argument("--llm", default=None, help="passed to `gristmill prepare --llm` (default: the built-in planner)")
    ap.add_argument("--only", default=None, help="run only goals whose id contains this substring")
    ap.add_argument("--jobs", type=int, default=2, help="goals prepared at once (each with --workers 1)")
    ap.add_argument("--no-fallback", action="store_true", help="with --llm: prepare --no-fallback (no built-in plan when the LLM yields none)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per prepare before it counts as a timeout [default: 180; 900 with --llm]")
    ap.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    ap.add_argument("--keep", type=Path, default=None, help="build corpora and outputs here and keep them")
    ap.add_argument("--goals", type=Path, default=GOALS, help="goal file (default: the frozen public suite)")
    ap.add_argument("--every", type=int, default=1, metavar="N",
                    help="a deterministic subset: every N-th goal in file order (goals 1, 1+N, 1+2N, ...; with --offset K, K+1, ...)")
    ap.add_argument("--offset", type=int, default=0, metavar="K", help="with --every: start at the (K+1)-th goal")
    args = ap.parse_args()
    if args.every < 1 or not 0 <= args.offset < args.every:
        ap.error("--every must be >= 1 and 0 <= --offset < --every")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    if args.no_fallback and not args.llm:
        ap.error("--no-fallback needs --llm")
    timeout = args.timeout or (900.0 if args.llm else 180.0)

    goals = [g for k, g in enumerate(load_goals(args.goals))
             if k % args.every == args.offset and (not args.only or args.only in g["id"])]
    work = args.keep or Path(tempfile.mkdtemp(prefix="gristmill-public-suite-"))
    corpora = work / "corpora"
    build(corpora)
    labels = json.loads((corpora / "labels.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda g: run_goal(g, corpora, labels, work / "out", args.llm, timeout,
                                                   not args.no_fallback), goals))
    wall = time.perf_counter() - t0
    planner = f"llm ({args.llm}{', no fallback' if args.no_fallback else ''})" if args.llm else "built-in"
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        passed = sum(r.passed for r in results)
        print(json.dumps({"planner": planner, "goals": len(results), "passed": passed,
                          "unmapped": sum(r.unmapped for r in results),
                          "pass_rate": passed / len(results) if results else None, "wall_s": round(wall, 1),
                          "results": [asdict(r) for r in results]}, indent=2, ensure_ascii=False))
    else:
        print(table(results, planner))
        if args.llm:
            tallies = [Tally(r.corpus, r.passed, r.planner, r.rounds, r.seconds) for r in results]
            corpora_seen = list(dict.fromkeys(r.corpus for r in results))
            print(f"\nLLM planner {args.llm}: per corpus\n")
            print(llm_table(tallies, [(c, c) for c in corpora_seen] + [("all", "all")], fallback=not args.no_fallback))
        cmd = ("python bench/agent/public/run.py" + (f" --goals {args.goals}" if args.goals != GOALS else "")
               + (f" --llm {args.llm}" if args.llm else "") + (" --no-fallback" if args.no_fallback else "")
               + (f" --only {args.only}" if args.only else "")
               + (f" --every {args.every}" + (f" --offset {args.offset}" if args.offset else "") if args.every > 1 else ""))
        print(f"\nwall {wall:.0f} s with --jobs {args.jobs}; command: {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
