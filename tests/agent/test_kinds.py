"""The requirement-kind registry and contract; rule tuning on the rule AST; content kinds (issue 12 §2, §3)."""

from __future__ import annotations

import numpy as np
import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.kinds import GoalText, RequirementKind, all_kinds, get_kind, register
from gristmill.agent.kinds.base import registered
from gristmill.agent.planner import build_plan
from gristmill.agent.tuning import threshold_of, tune_rules
from gristmill.ops.registry import all_ops

HAS_CONTENT_KIND = "content_kind" in all_ops()


def test_every_kind_is_one_registered_module_with_the_contract() -> None:
    names = [k.name for k in all_kinds()]
    assert len(names) == len(set(names)) >= 18
    for k in all_kinds():
        assert type(k).__module__ == f"gristmill.agent.kinds.{k.name}", k.name  # one file per kind
        assert k.target or k.drives, f"{k.name} drives no operator"


def test_adding_a_kind_is_one_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shouting(RequirementKind):
        name = "shouting"
        rank = 999

        def parse(self, goal: GoalText):
            m = goal.low.find("no shouting")
            return [self.requirement({}, "no all-caps documents", span=(m, m + 11))] if m >= 0 else []

    monkeypatch.setitem(registered(), "shouting", Shouting())
    assert get_kind("shouting").name == "shouting"
    g = parse_goal("English only; no shouting")
    assert [r.kind for r in g.requirements] == ["language", "shouting"]
    assert not g.not_understood
    registered().pop("shouting")
    with pytest.raises(TypeError):
        register(type("Nameless", (RequirementKind,), {}))


@pytest.mark.parametrize("rule,column,value,above", [
    ("gopher.words >= 50", "gopher.words", 50, True), ("50 <= gopher.words", "gopher.words", 50, True),
    ("not (gopher.words < 50)", "gopher.words", 50, True), ("gopher.ratio < 0.3", "gopher.ratio", 0.3, False),
])
def test_threshold_rules_are_read_from_the_ast(rule: str, column: str, value: float, above: bool) -> None:
    t = threshold_of(rule)
    assert t is not None and (t.column, t.value, t.keeps_above) == (column, value, above)


@pytest.mark.parametrize("rule", ["a.b > 3 and a.c < 2", "a.b == 3", "a.b in [1, 2]", "a.b >= a.c"])
def test_other_rules_are_left_alone(rule: str) -> None:
    assert threshold_of(rule) is None


class _Prof:
    def __init__(self, values: np.ndarray) -> None:
        self.signals = {"x.v": values}
        self.docs = len(values)

    def share_where(self, rule: str) -> float:
        from gristmill.recipe.rules import compile_rule

        return float(np.mean(compile_rule("p", rule, ["x.v"]).evaluate(self.signals, self.docs)))


def test_tune_rules_moves_only_the_number_and_keeps_the_bound() -> None:
    prof = _Prof(np.arange(100, dtype=float))
    rules, notes = tune_rules("x", {"r": "not (x.v < 50)"}, prof, 0.15)  # type: ignore[arg-type]
    assert rules == {"r": "not x.v < 14.85"} and notes
    rules, _ = tune_rules("x", {"r": "x.v > 50"}, prof, 0.15)  # type: ignore[arg-type]
    assert rules == {"r": "x.v >= 14.85"}
    assert prof.share_where(rules["r"]) == pytest.approx(0.85)


def test_prose_is_a_kind_of_content_not_the_books_domain() -> None:
    g = parse_goal("only prose, no tables")
    assert [(r.kind, r.params) for r in g.requirements] == [("content", {"keep": ["prose"]}), ("content", {"drop": ["table"]})]
    assert not g.of("domain")


def test_code_in_a_language_is_read_with_its_language() -> None:
    assert parse_goal("keep only Python code").first("content").params == {"keep": ["code"], "code_languages": ["python"]}
    assert parse_goal("drop the Go source files").first("content").params == {"drop": ["code"], "code_languages": ["go"]}
    assert not parse_goal("keep language codes like en and fr").of("content")


def _unlabelled_profile(data):
    from gristmill.agent.profile import profile_sample
    from gristmill.agent.sampling import Sample

    rows = [{"id": str(i), "text": t} for i, t in enumerate(["def f(x):\n    return x\n", "A plain sentence about rivers and hills."] * 10)]
    return profile_sample(Sample(rows=rows, scanned=len(rows), unreadable=0))


@pytest.mark.skipif(HAS_CONTENT_KIND, reason="the content_kind operator is registered")
def test_without_content_kind_a_kind_of_content_is_not_understood(data) -> None:
    from gristmill.agent.plan import NotUnderstood

    g = parse_goal("only source code")
    with pytest.raises(NotUnderstood, match="content_kind"):
        build_plan(g, _unlabelled_profile(data))
    plan = build_plan(g, _unlabelled_profile(data), accept_partial=True)
    assert any("not planned" in n for n in plan.notes)


@pytest.mark.skipif(not HAS_CONTENT_KIND, reason="needs the content_kind operator (another branch)")
def test_with_content_kind_code_is_selected_from_the_text(data) -> None:
    plan = build_plan(parse_goal("only Python code"), _unlabelled_profile(data))
    step = next(s for s in plan.steps if s.op == "content_kind")
    assert "content_kind.code_language in ['python']" in step.keep["content_kind"]
    plan = build_plan(parse_goal("drop the prose"), _unlabelled_profile(data))
    assert next(s for s in plan.steps if s.op == "content_kind").params == {"drop": ["prose"]}


def test_semantic_dedup_is_chosen_when_its_extra_is_installed(monkeypatch: pytest.MonkeyPatch, data) -> None:
    import gristmill.agent.kinds.dedup_semantic as sem

    goal = parse_goal("remove paraphrases")
    monkeypatch.setattr(sem, "semantic_extra_installed", lambda: True)
    plan = build_plan(goal, _unlabelled_profile(data))
    assert [s.op for s in plan.steps if s.requirement == "dedup_semantic"] == ["semantic_dedup"]
    monkeypatch.setattr(sem, "semantic_extra_installed", lambda: False)
    plan = build_plan(parse_goal("remove paraphrases"), _unlabelled_profile(data))
    assert [s.op for s in plan.steps if s.requirement == "dedup_semantic"] == ["minhash_dedup"]
    assert any("semantic extra" in n for n in plan.notes)
