"""Every clause of a goal ends in one place; exclusions stay scoped to their own clause (issue 12 §1)."""

from __future__ import annotations

import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.phrases import negated_before, split_clauses


def test_clauses_carry_their_span_in_the_goal() -> None:
    goal = "English only; drop code and keep the legal texts"
    clauses = split_clauses(goal)
    assert [c.text for c in clauses] == ["English only", "drop code", "keep the legal texts"]
    assert all(goal[c.start : c.end] == c.text for c in clauses)


@pytest.mark.parametrize("clause,word,negated", [
    ("drop code and keep english", "english", False),  # the nearer verb decides
    ("keep english and drop code", "code", True),
    ("everything except french", "french", True),
    ("nothing but legal texts", "legal", False),
    ("no code at all", "code", True),
])
def test_negation_is_scoped_by_the_nearest_verb(clause: str, word: str, negated: bool) -> None:
    assert negated_before(clause, clause.index(word)) is negated


@pytest.mark.parametrize("goal,language", [
    ("drop the code and keep English", {"keep": ["en"]}),
    ("keep English, remove the code", {"keep": ["en"]}),
    ("everything other than German", {"drop": ["de"]}),
    ("remove anything other than English", {"keep": ["en"]}),
    ("no Spanish at all, and dedupe", {"drop": ["es"]}),
])
def test_an_exclusion_never_becomes_a_selection(goal: str, language: dict) -> None:
    g = parse_goal(goal)
    assert [r.params for r in g.of("language")] == [language]


def test_requirements_show_the_span_they_came_from() -> None:
    goal = "remove near-duplicates; at least 50 words"
    g = parse_goal(goal)
    spans = {r.kind: goal[r.span[0] : r.span[1]] for r in g.requirements if r.span}
    assert "near-duplicates" in spans["dedup_near"]
    assert spans["length"] == "at least 50 words"


@pytest.mark.parametrize("goal,unread", [
    ("English only, and sort them alphabetically", "sort"),
    ("remove near-duplicates; translate everything to French", "translate"),
    ("keep documents about quantum gravity written before 1990", "1990"),
])
def test_a_clause_no_kind_reads_is_listed_not_dropped(goal: str, unread: str) -> None:
    g = parse_goal(goal)
    missing = " ".join(c.text + " " + c.detail for c in g.not_understood)
    assert g.not_understood, [c.line() for c in g.clauses]
    assert unread.split()[0] in missing or any(unread in c.text for c in g.not_understood)


@pytest.mark.parametrize("goal", [
    "English only", "remove exact duplicates", "please deduplicate this corpus", "clean this up",
    "prepare this corpus", "at least 50 words, thanks", "redact e-mail addresses",
    "drop documents mentioning 'lorem ipsum'", "only books and code, no toxic language",
])
def test_understood_goals_account_for_every_clause(goal: str) -> None:
    g = parse_goal(goal)
    assert not g.not_understood, [c.line() for c in g.clauses]
    assert all(c.status in ("requirement", "assumption", "filler") for c in g.clauses)


def test_prepare_refuses_a_partly_understood_goal_with_exit_2(tmp_path) -> None:
    import gzip
    import json

    from click.testing import CliRunner

    from gristmill.agent.cli import prepare_command

    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        for i in range(30):
            f.write(json.dumps({"id": str(i), "text": f"document number {i} " * (5 + i)}) + "\n")
    res = CliRunner().invoke(prepare_command, [str(src), "--goal", "remove exact duplicates and sort them alphabetically",
                                               "--output", str(tmp_path / "o"), "--plan-only"])
    assert res.exit_code == 2, res.output
    assert "sort them alphabetically" in res.output and "--accept-partial" in res.output
    res = CliRunner().invoke(prepare_command, [str(src), "--goal", "remove exact duplicates and sort them alphabetically",
                                               "--output", str(tmp_path / "o"), "--plan-only", "--accept-partial"])
    assert res.exit_code == 0, res.output


def test_exact_and_near_duplicates_in_one_clause_give_both_kinds() -> None:
    from gristmill.agent.goal import parse_goal

    g = parse_goal("pretraining data for a small model: remove exact and near duplicates")
    kinds = {r.kind for r in g.requirements}
    assert {"dedup_exact", "dedup_near"} <= kinds
    assert not [c for c in g.clauses if c.line().split("-> ")[1].startswith("not understood")]
