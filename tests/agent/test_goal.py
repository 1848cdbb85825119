"""The goal parser: the same intent in different words gives the same requirement."""

from __future__ import annotations

import pytest

from gristmill.agent.goal import parse_goal
from gristmill.errors import UsageError


def kinds(goal: str) -> dict[str, dict]:
    return {r.kind: r.params for r in parse_goal(goal).requirements}


@pytest.mark.parametrize("goal", [
    "English only", "keep only English documents", "remove non-English text", "language: en",
    "I only want texts in english", "drop everything that isn't English... keep english",
])
def test_language_keep_english_phrasings(goal: str) -> None:
    assert kinds(goal)["language"] == {"keep": ["en"]}


@pytest.mark.parametrize("goal,drop", [("no German or Spanish", ["de", "es"]), ("exclude French text", ["fr"]),
                                       ("get rid of Chinese documents", ["zh"])])
def test_language_exclusion(goal: str, drop: list[str]) -> None:
    assert kinds(goal)["language"] == {"drop": drop}


@pytest.mark.parametrize("goal", [
    "at least 50 words", "no documents under 50 words", "drop docs with fewer than 50 words",
    "minimum of fifty words per document", "documents must have ≥ 50 words", "remove anything shorter than 50 words",
])
def test_min_words_phrasings(goal: str) -> None:
    assert kinds(goal)["length"] == {"unit": "words", "min": 50}


def test_length_boundaries_strict_comparisons() -> None:
    assert kinds("more than 50 words")["length"] == {"unit": "words", "min": 51}
    assert kinds("at most 2k words")["length"] == {"unit": "words", "max": 2000}
    assert kinds("drop documents over 10k words")["length"] == {"unit": "words", "max": 10000}
    assert kinds("between 100 and 5000 characters")["length"] == {"unit": "chars", "min": 100, "max": 5000}


@pytest.mark.parametrize("goal,level", [
    ("strict quality filtering", "strict"), ("only high-quality text", "strict"), ("aggressively filter junk", "strict"),
    ("light quality filtering", "lenient"), ("filter gently for quality", "lenient"), ("remove low-quality spam", "standard"),
])
def test_quality_levels(goal: str, level: str) -> None:
    assert kinds(goal)["quality"] == {"level": level}


def test_no_quality_filtering_is_respected() -> None:
    assert "quality" not in kinds("no quality filtering, just remove exact duplicates")


@pytest.mark.parametrize("goal,expect", [
    ("remove exact duplicates", {"dedup_exact"}), ("drop near-duplicates", {"dedup_near"}),
    ("deduplicate", {"dedup_exact", "dedup_near"}), ("remove fuzzy duplicates and identical copies", {"dedup_exact", "dedup_near"}),
    ("remove semantically similar duplicates", {"dedup_semantic"}),
])
def test_dedup_kinds(goal: str, expect: set[str]) -> None:
    assert {k for k in kinds(goal) if k.startswith("dedup")} == expect


def test_dedup_threshold_from_goal() -> None:
    assert kinds("remove near duplicates above 70% similarity")["dedup_near"]["threshold"] == pytest.approx(0.7)
    assert kinds("near-dup dedup with jaccard 0.9")["dedup_near"]["threshold"] == pytest.approx(0.9)


def test_pii_modes() -> None:
    assert kinds("redact email addresses")["pii"] == {"mode": "redact", "kinds": ["email"]}
    assert kinds("drop documents that contain phone numbers")["pii"]["mode"] == "drop"
    g = parse_goal("remove PII")
    (r,) = g.of("pii")
    assert r.params["mode"] == "redact" and r.assumption  # ambiguous: default stated


def test_retention_and_budget() -> None:
    assert kinds("keep at least 30% of tokens")["retention"] == {"unit": "tokens", "min": 0.3}
    assert kinds("don't drop more than 20% of the documents")["retention"] == {"unit": "docs", "min": 0.8}
    assert kinds("a budget of 200k tokens")["token_budget"] == {"max": 200000}


def test_domain_keyword_regex_chat_decontam_format() -> None:
    assert kinds("only code")["content"] == {"keep": ["code"]}  # a kind of content, read from the text or a field
    assert kinds("exclude legal texts and licences")["domain"] == {"drop": ["legal"]}
    assert kinds("drop documents mentioning 'lorem ipsum'")["keyword"] == {"keywords": ["lorem ipsum"], "mode": "exclude"}
    assert kinds("keep only documents matching /def \\w+\\(/")["regex"]["mode"] == "include"
    assert kinds("SFT data: normalise the chat format, at least 4 turns")["chat"]["min_turns"] == 4
    assert kinds("decontaminate against evals/test.jsonl")["decontam"]["references"] == ["evals/test.jsonl"]
    assert kinds("write it as gzipped jsonl")["output_format"] == {"format": "jsonl.gz"}


def test_ambiguous_goal_gets_defaults_with_assumptions() -> None:
    g = parse_goal("make this usable")
    assert {r.kind for r in g.requirements} == {"quality", "dedup_exact", "dedup_near"}
    assert g.assumptions


def test_contradictions_and_empty_goal() -> None:
    assert parse_goal("at least 500 words and at most 100 words").problems
    with pytest.raises(UsageError):
        parse_goal("   ")
