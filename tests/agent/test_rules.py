"""The rules kind (issue 12): the plan's measures agree with the verifier's definitions on real documents, a
bound is kept exactly, and the repair tightens an operator whose definition differs."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.kinds.rules import COUNTERS, MEASURES, counter_pattern
from gristmill.agent.measures import measure


@pytest.fixture(scope="module")
def texts(data: Path) -> list[str]:
    from gristmill.ops.clean import normalize

    with gzip.open(data / "sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    # the plan measures after normalize_text (its first step): so do we
    picked = [r["text"] for r in rows if r.get("domain") in ("docs", "books", "code", "legal", "multilingual")][::7][:120]
    return [normalize(t, "NFC", True, True) for t in picked]


def count(name: str, text: str, lim: int | None = None) -> int:
    return len(re.findall(counter_pattern(name, lim), text))


# the measures the plan computes from counting steps alone: they must equal the definitions exactly
EXACT = {
    "bullet_line_share": lambda t: count("bullet_lines", t) / max(count("lines", t), 1),
    "ellipsis_line_share": lambda t: count("ellipsis_lines", t) / max(count("lines", t), 1),
    "punct_end_line_share": lambda t: count("punct_end_lines", t) / max(count("lines", t), 1),
    "symbol_word_ratio": lambda t: count("symbols", t) / max(count("words", t), 1),
    "alnum_fraction": lambda t: count("alnum", t) / max(len(t), 1),
    "avg_line_length": lambda t: (len(t) - count("newlines", t)) / (count("newlines", t) + 1),
    "chars_no_punct_ws": lambda t: count("nonspace_nonpunct", t),
    "sentences": lambda t: count("sentence_ends", t),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_counting_steps_equal_the_definition(texts: list[str], name: str) -> None:
    got = np.array([EXACT[name](t) for t in texts])
    want = np.array([measure(MEASURES[name]["check"], t) for t in texts])
    assert np.allclose(got, want), [(t[:60], g, w) for t, g, w in zip(texts, got, want) if not np.isclose(g, w)][:3]


def test_short_lines_and_longest_line_counters(texts: list[str]) -> None:
    for t in texts:
        assert count("short_lines", t, 30 - 3) / max(count("lines", t), 1) == pytest.approx(measure("short_line_share", t, 30))
        longest = measure("max_line_length", t)
        assert (count("long_lines", t, int(longest)) > 0) and count("long_lines", t, int(longest) + 1) == 0


def test_empty_documents() -> None:
    empties = ["", " ", "\n\n\t", "<p></p>", "&nbsp;", "\u200b", "...", "---", "•", "null"]
    full = ["Hello", "<p>Read the manual</p>", "404 Not Found", "nullable fields are allowed", "N/A 3"]
    for t in empties:
        assert count("empty_doc", t) == 1 and measure("empty", t) == 1.0, repr(t)
    for t in full:
        assert count("empty_doc", t) == 0 and measure("empty", t) == 0.0, repr(t)
    assert set(COUNTERS) >= {"empty_doc", "lines", "words"}


def test_a_drop_clause_builds_the_negated_bound() -> None:
    from gristmill.agent.kinds import get_kind

    req = parse_goal("Throw out pages where more than a third of the lines are bullet points.").first("rules")
    expr, steps = get_kind("rules").expression(req)
    assert get_kind("rules").keep_rule(req, expr) == "(count_bullet_lines.matches / max(count_lines.matches, 1)) <= 0.3333"
    assert {s.name for s in steps} == {"count_bullet_lines", "count_lines"} and all(s.keep == {} for s in steps)


@pytest.mark.slow
def test_fineweb_custom_filters_hold_on_every_kept_document(data: Path, tmp_path: Path) -> None:
    """End to end on 200 real documents: the FineWeb line rules, stated the way the FineWeb blog states them."""
    from gristmill.agent.prepare import prepare

    src = tmp_path / "in.jsonl"
    with gzip.open(data / "sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][:200]
    src.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rows), encoding="utf-8")
    goal = ("Remove documents where 12% or fewer of the lines end with punctuation, where 10% or more of the characters "
            "are in duplicated lines, or where 67% or more of the lines are shorter than 30 characters.")
    res = prepare(str(src), goal, tmp_path / "out", plan_only=True, log=lambda _: None)
    assert res.passed
    import pyarrow.parquet as pq

    kept = [t for f in sorted((tmp_path / "out").glob("part-*.parquet")) for t in pq.read_table(f).column("text").to_pylist()]
    assert not kept  # plan only: nothing written at the top level; the dry run is what was verified
    assert all(c.passed for c in res.checks if c.kind == "rules")
