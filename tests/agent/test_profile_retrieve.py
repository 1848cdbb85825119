"""Profile of the dirty sample against its manifest; retrieval of operators by description."""

from __future__ import annotations

from pathlib import Path

import pytest

from gristmill.agent.profile import near_dup_pairs, profile_sample
from gristmill.agent.retrieve import OperatorIndex
from gristmill.agent.sampling import draw_sample
from gristmill.ops.templates import parse_chat


@pytest.fixture(scope="module")
def prof(dirty: Path):
    return profile_sample(draw_sample(str(dirty), 5000))


def test_profile_counts_match_the_manifest(prof, manifest: dict) -> None:
    # the sample is read as a run reads it: a whitespace-only text is a reject (empty_text) there too
    blank = sum(1 for d in manifest["kinds"]["empty"]["details"] if not d["text"].strip())
    assert blank and prof.docs == manifest["well_formed_lines"] - blank
    assert prof.unreadable == manifest["total_lines"] - manifest["well_formed_lines"] + blank
    exact = len(manifest["kinds"]["exact_duplicate"]["details"])
    # every injected exact copy is counted; empty/whitespace-only docs also collapse to one text
    empties = len(manifest["kinds"]["empty"]["details"])
    assert exact <= round(prof.exact_dup_rate * prof.docs) <= exact + empties
    assert prof.domain_field == "domain" and "code" in prof.domains
    assert max(prof.languages, key=prof.languages.get) == "en"
    injected_emails = sum(1 for d in manifest["kinds"]["pii"]["details"] if any(i["type"] == "email" for i in d["items"]))
    assert prof.pii_docs["email"] >= injected_emails
    assert prof.near_dup_rate > 0.05
    q = prof.signal_quantiles["gopher_quality.n_words"]
    assert q["p5"] <= q["p50"] <= q["p95"]


def test_near_dup_pairs_find_injected_near_duplicates(dirty: Path, manifest: dict) -> None:
    smp = draw_sample(str(dirty), 5000)
    ids = [r["id"] for r in smp.rows]
    pairs = {(ids[a], ids[b]) for a, b, _ in near_dup_pairs(smp.texts(), 0.8)}
    pairs |= {(b, a) for a, b in pairs}
    strong = [d for d in manifest["kinds"]["near_duplicate"]["details"] if d["jaccard_5gram"] >= 0.85]
    found = sum((d["id"], d["original_id"]) in pairs for d in strong)
    assert strong and found == len(strong)


def test_sample_is_spread_over_the_file(data: Path) -> None:
    smp = draw_sample(str(data / "sample.jsonl.gz"), 200)
    assert len(smp.rows) == 200
    assert len({r["domain"] for r in smp.rows}) >= 5  # not the first 200 lines (all one domain)


@pytest.mark.parametrize("query,expected", [
    ("near-duplicate pages with small edits", "minhash_dedup"),
    ("redact e-mail addresses and phone numbers", "pii"),
    ("which language is the document in", "lang_id"),
    ("drop profane and explicit words", "flagged_words"),
    ("cookie banners and navigation menus repeated on many pages", "lines_dedup"),
    ("overlap with a benchmark test set", "decontaminate"),
])
def test_bm25_retrieves_by_description(query: str, expected: str) -> None:
    import gristmill.ops.templates  # noqa: F401

    # BM25 even where the semantic extra is installed: no encoder at all (the env switch would not reach an
    # encoder another test already loaded into semantic_encoder's cache)
    idx = OperatorIndex(encoder=None)
    assert idx.method == "bm25"
    assert idx.search(query, 1)[0].name == expected


def test_chat_parsing() -> None:
    t = "User: hi\nAssistant: hello\nUser: bye\nAssistant: ciao"
    assert [m["role"] for m in parse_chat(t)] == ["user", "assistant", "user", "assistant"]
    assert parse_chat("### Human: q?\n### Assistant: a.")[1]["content"] == "a."
    assert parse_chat("Just prose. User: is mentioned here") is None
    assert parse_chat("User: only a question") is None
