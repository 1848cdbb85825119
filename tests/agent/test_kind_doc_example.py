"""The worked example in docs/agent.md ("adding a kind") runs as written: the code block, pasted into a module,
registers a kind that the goal parser, the planner and the verifier use with no other change."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from gristmill.agent.checks import DryRun
from gristmill.agent.goal import parse_goal
from gristmill.agent.kinds import CheckContext, get_kind
from gristmill.agent.kinds.base import registered
from gristmill.agent.planner import build_plan
from gristmill.agent.profile import profile_sample
from gristmill.agent.retrieve import OperatorIndex
from gristmill.agent.sampling import draw_sample

DOC = Path(__file__).resolve().parents[2] / "docs" / "agent.md"


def test_the_documented_kind_works_as_written(dirty: Path, tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Worked example: adding a kind"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "the worked example has a python block"
    try:
        exec(compile(code.group(1), "docs/agent.md", "exec"), {"__name__": "shouting_example"})  # noqa: S102
        kind = get_kind("shouting")
        goal = parse_goal("English only; no shouting")
        assert [r.kind for r in goal.requirements] == ["language", "shouting"] and not goal.not_understood
        plan = build_plan(goal, profile_sample(draw_sample(str(dirty), 200)), OperatorIndex(encoder=None))
        step = next(s for s in plan.steps if s.requirement == "shouting")
        assert step.op == "regex_filter" and step.params["mode"] == "exclude"
        req = next(r for r in goal.requirements if r.kind == "shouting")
        kept = pa.table({"id": ["a", "b"], "text": ["A quiet sentence in lower case.", "THIS IS A VERY LOUD DOCUMENT THAT SHOUTS!"]})
        check = kind.check(req, DryRun([], kept, {}, tmp_path), CheckContext())
        assert not check.passed and check.measured["violations"] == 1
    finally:
        registered().pop("shouting", None)


@pytest.mark.parametrize("name", ["truecase"])
def test_a_kind_added_as_one_file_is_registered(name: str) -> None:
    """truecase.py was added as one file (with its operator): it is found through the registry alone."""
    assert get_kind(name).drives == ("sentence_case",)
