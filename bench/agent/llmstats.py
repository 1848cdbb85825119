"""Who planned each task, and the LLM planner's figures with and without the built-in fallback.

Both agent benchmarks (the original tasks in ``run.py`` and the public suite in ``public/run.py``) read
what `gristmill prepare` logs: "planned by LLM ..." when the LLM's plan was used, "falling back to the
built-in planner" when it was not, "the LLM planner yielded no plan" under ``--no-fallback``, and one
"round N:" line per dry run. A run with the fallback gives all three figures at once: a task whose plan
came from the LLM runs exactly as it would without the fallback (same plan, same verify and repair), and a
task that fell back fails without it. ``--no-fallback`` measures the second figure directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ROUND = re.compile(r"^round \d+:", re.MULTILINE)


def planner_of(log: str) -> str:
    """``llm`` (the LLM's plan was used), ``fallback`` (the built-in planner's), ``no plan`` (the LLM failed
    and no fallback was allowed) or ``not asked`` (prepare stopped before planning: a goal refused or
    unmeetable on the profile)."""
    if "planned by LLM" in log:
        return "llm"
    if "falling back to the built-in planner" in log:
        return "fallback"
    if "the LLM planner yielded no plan" in log:
        return "no plan"
    return "not asked"


def repair_rounds(log: str) -> int:
    """Repair rounds after the first dry run (0 when the first plan verified, or when none ran)."""
    return max(0, len(_ROUND.findall(log)) - 1)


@dataclass
class Tally:
    group: str  # level or corpus
    passed: bool
    planner: str  # see planner_of
    rounds: int
    seconds: float


def llm_table(rows: Iterable[Tally], groups: list[tuple[str, str]], fallback: bool) -> str:
    """Markdown: per group, the LLM's plans, its pass rate without the fallback (and with no repair round),
    and the combined rate (LLM, else the built-in planner). ``groups`` are (key, label); key "all" is all."""
    rows = list(rows)
    lines = ["| group | tasks | plans by the LLM | pass, LLM without fallback | LLM plan passed with no repair round | "
             "pass, combined (LLM, else built-in) | planner not asked | s/task |",
             "|---|---|---|---|---|---|---|---|"]

    def rate(k: int, n: int) -> str:
        return f"{k}/{n} ({k / n:.0%})" if n else "-"

    for key, label in groups:
        rs = [r for r in rows if key == "all" or r.group == key]
        if not rs:
            continue
        n = len(rs)
        own = [r for r in rs if r.passed and r.planner in ("llm", "not asked")]
        first = [r for r in own if r.planner == "llm" and r.rounds == 0]
        combined = rate(sum(r.passed for r in rs), n) if fallback else "- (run without fallback)"
        lines.append(f"| {label} | {n} | {sum(r.planner == 'llm' for r in rs)} | {rate(len(own), n)} | {len(first)} | "
                     f"{combined} | {sum(r.planner == 'not asked' for r in rs)} | {sum(r.seconds for r in rs) / n:.1f} |")
    return "\n".join(lines)
