"""The kinds added for outsiders' goals (issue 12), end to end on real documents of the bundled sample:
an exact random subset, links removed with every document kept, an exception to a language exclusion,
labels measured without dropping anything."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gristmill.agent.prepare import prepare


@pytest.fixture(scope="module")
def corpus(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with gzip.open(data / "sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["domain"], []).append(r)
    picked = by["docs"][:25] + by["code"][:12] + by["multilingual"][:15] + by["books"][:8]
    path = tmp_path_factory.mktemp("kinds") / "in.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in picked), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")  # no embedding model to load for these plans


def run(corpus: Path, goal: str, tmp_path: Path):
    return prepare(str(corpus), goal, tmp_path / "out", plan_only=True, log=lambda _: None)


def test_a_subset_of_n_is_exact_on_the_sample(corpus: Path, tmp_path: Path) -> None:
    res = run(corpus, "Give me 20 random documents.", tmp_path)
    assert res.passed and res.dry_summary["kept"] == 20
    step = next(s for s in res.recipe["steps"] if s.get("name") == "subset")
    assert 0 < step["params"]["fraction"] < 1


def test_links_leave_the_text_and_the_documents_stay(corpus: Path, tmp_path: Path) -> None:
    res = run(corpus, "Remove hyperlinks from the text, but keep the documents.", tmp_path)
    assert res.passed and res.dry_summary["kept"] == res.dry_summary["input"]
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text", "strip_urls_emails"]


def test_code_is_exempt_from_the_language_exclusion(corpus: Path, tmp_path: Path) -> None:
    res = run(corpus, "Drop the records that are not in English, but keep the source code.", tmp_path)
    lang = next(s for s in res.recipe["steps"] if s["op"] == "lang_id")
    assert "content_kind.kind in ['code']" in next(iter(lang["keep"].values()))
    assert res.passed
    dropped = res.dry_summary["dropped"]["by_step"].get("lang_id", {})
    assert sum(dropped.values()) >= 10  # the multilingual sections went, the code stayed (12 files in)
    assert res.dry_summary["kept"] >= 12 + 25 - 3


def test_labels_are_columns_and_nothing_is_dropped(corpus: Path, tmp_path: Path) -> None:
    res = run(corpus, "Label each document with the language it is written in.", tmp_path)
    assert res.passed and res.dry_summary["kept"] == res.dry_summary["input"]
    assert any(c.kind == "label" and c.passed for c in res.checks)
