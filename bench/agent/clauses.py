"""How many goals of each suite have clauses the goal parser does not understand (parse only, no data).

The three suites: the original tasks (``run.py``, written beside the planner), the frozen public suite
(``public/goals.yaml``) and the development set (``dev/goals.yaml``). A goal with an unmapped clause is
refused by ``prepare`` (exit 2) unless ``--accept-partial``; the dev set's ``expect: refusal`` goals are
*meant* to be refused and are counted apart.

    python bench/agent/clauses.py [--list]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def suites() -> dict[str, list[tuple[str, str, bool]]]:
    """suite -> [(id, goal, refusal expected)]."""
    sys.path.insert(0, str(HERE))
    from run import TASKS  # the original tasks

    out: dict[str, list[tuple[str, str, bool]]] = {
        "original (run.py)": [(str(i), t.goal, False) for i, t in enumerate(TASKS, 1)]}
    for name, path in (("public (frozen)", HERE / "public" / "goals.yaml"), ("dev", HERE / "dev" / "goals.yaml")):
        goals = yaml.safe_load(path.read_text(encoding="utf-8"))["goals"]
        out[name] = [(g["id"], g["goal"], g.get("expect") == "refusal") for g in goals]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print every goal with unmapped clauses and why")
    args = ap.parse_args()
    from gristmill.agent.goal import parse_goal

    rows = ["| suite | goals | with unmapped clauses | of them: refusal expected |", "|---|---|---|---|"]
    listing = []
    for suite, goals in suites().items():
        bad, expected = 0, 0
        for gid, goal, refusal in goals:
            g = parse_goal(goal)
            if g.not_understood:
                bad += 1
                expected += refusal
                listing += [f"- {suite} {gid}: {c.text!r} -> {c.detail}" for c in g.not_understood]
        rows.append(f"| {suite} | {len(goals)} | {bad} | {expected} |")
    print("\n".join(rows))
    if args.list and listing:
        print("\n" + "\n".join(listing))
    print("\ncommand: python bench/agent/clauses.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
