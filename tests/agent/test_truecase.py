"""The truecase kind: "fix sentences that start with a lowercase letter" is understood, planned with
``sentence_case``, checked on the kept text and drops nothing (real conversations from the bundled sample)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.prepare import prepare


@pytest.mark.parametrize("text", [
    'Truecase the dataset: fix sentences that start with a lowercase letter, like "Hello. how are you?".',
    "capitalise the first letter of every sentence",
    "fix the capitalization, and remove exact duplicates",
])
def test_truecase_goals_are_understood(text: str) -> None:
    goal = parse_goal(text)
    assert "truecase" in [r.kind for r in goal.requirements]
    assert not goal.not_understood
    assert "keyword" not in [r.kind for r in goal.requirements]  # the quoted example is not a keyword to match


def test_translation_is_still_refused_with_its_reason() -> None:
    goal = parse_goal("translate every document into English")
    assert goal.not_understood and "translation needs a model" in goal.not_understood[0].detail


def test_truecase_end_to_end_on_real_chats(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    with gzip.open(data / "sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        chats = [json.loads(line) for line in fh]
    chats = [r for r in chats if r["domain"] == "chat"][:40]
    rows = [{"id": r["id"], "text": re.sub(r"(?<=[a-z]{3}\. )(The|It|This|You|How|What)\b", lambda m: m.group(1).lower(), r["text"])}
            for r in chats]
    assert sum(a["text"] != b["text"] for a, b in zip(rows, chats)) >= 10
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = prepare(str(path), "Fix sentences that start with a lowercase letter.", tmp_path / "out", plan_only=True,
                  log=lambda _: None)
    assert res.passed
    assert "sentence_case" in [s["op"] for s in res.recipe["steps"]]
    assert res.dry_summary["kept"] == res.dry_summary["input"] == 40
