"""End to end: goal -> verified recipe -> output, on the bundled dirty sample, and goals that cannot be met."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from gristmill.agent.cli import prepare_command
from gristmill.agent.prepare import prepare
from gristmill.agent.verify import EMAIL
from gristmill.engine.layout import Layout


def quiet(_: str) -> None:
    pass


def kept_rows(out: Path) -> list[dict]:
    return [r for f in sorted(out.glob("part-*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_full_prepare_on_dirty_meets_every_requirement(dirty: Path, manifest: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    goal = "English only, remove duplicates and near-duplicates, at least 50 words, redact email addresses"
    res = prepare(str(dirty), goal, out, log=quiet, workers=1)
    assert res.passed, [c.line() for c in res.checks]
    rows = kept_rows(out)
    assert rows and res.summary["kept"] == len(rows)
    assert res.summary["input"] == res.summary["kept"] + res.summary["dropped"]["total"] + res.summary["rejected"]["total"]
    assert not any(EMAIL.search(r["text"]) for r in rows)
    assert all(len(r["text"].split()) >= 50 for r in rows)
    kept_ids = {r["id"] for r in rows}
    for d in manifest["kinds"]["exact_duplicate"]["details"]:
        assert not ({d["id"], d["original_id"]} <= kept_ids), d  # never both copies
    # the recipe is a normal recipe: it compiles and carries a why per step
    from gristmill.recipe.compile import load_recipe

    rec = load_recipe(res.recipe_path)
    assert [s.op.name for s in rec.steps][0] == "normalize_text"
    text = res.recipe_path.read_text()
    assert text.count("  # ") >= len(rec.steps)
    report = (Layout(out).prepare_dir / "plan_report.md").read_text()
    assert "Predicted retention" in report and "Examples of dropped documents" in report
    assert (Layout(out).prepare_dir / "plan_report.html").read_text().startswith("<!doctype html>")


def test_plan_only_writes_recipe_and_report_without_running(dirty: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    res = prepare(str(dirty), "drop documents that contain any PII, strict quality", out, plan_only=True, log=quiet,
                  recipe_out=tmp_path / "r.yaml")
    assert res.passed and res.summary is None
    assert not list(out.glob("part-*")) and (tmp_path / "r.yaml").is_file()
    ops = [s["op"] for s in res.recipe["steps"]]
    assert "pii" in ops and "c4_quality" in ops and "fineweb_quality" in ops


def test_toxicity_keyword_and_domain_selection(dirty: Path, tmp_path: Path) -> None:
    res = prepare(str(dirty), "only books and code, no toxic language, drop documents mentioning 'lorem ipsum'",
                  tmp_path / "o", plan_only=True, log=quiet)
    assert res.passed
    ops = [s["op"] for s in res.recipe["steps"]]
    assert {"field_filter", "flagged_words", "keyword_filter"} <= set(ops)


def test_chat_goal_keeps_only_normalised_conversations(data: Path, sample_rows: list[dict], tmp_path: Path) -> None:
    from conftest import write_jsonl

    rows = [r for r in sample_rows if r["domain"] == "chat"][:60] + [r for r in sample_rows if r["domain"] == "books"][:60]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "o"
    res = prepare(str(src), "SFT: normalise the chat format, at least 4 turns", out, log=quiet, workers=1)
    assert res.passed
    kept = kept_rows(out)
    assert kept and all(r["domain"] == "chat" for r in kept)
    assert all(len(r["messages"]) >= 4 and r["messages"][0]["role"] == "user" for r in kept)


def test_only_french_on_english_corpus_fails_with_reason(english_docs: Path, tmp_path: Path) -> None:
    out = tmp_path / "fr"
    r = CliRunner().invoke(prepare_command, [str(english_docs), "--goal", "keep only French", "--output", str(out)])
    assert r.exit_code == 1
    assert "fr" in r.output and "empty" in r.output
    assert not list(out.glob("part-*")) if out.exists() else True


def test_contradictory_retention_and_length(dirty: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(prepare_command, [str(dirty), "--goal", "keep 90% of documents but only those over 10k words",
                                             "--output", str(tmp_path / "x"), "--plan-only"])
    assert r.exit_code == 1 and "contradictory" in r.output


def test_self_contradictory_goal_is_usage_error(dirty: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(prepare_command, [str(dirty), "--goal", "at least 500 words and at most 100 words",
                                             "--output", str(tmp_path / "x")])
    assert r.exit_code == 2 and "contradicts" in r.output


def test_retention_target_triggers_repair(mixed_small: Path, tmp_path: Path) -> None:
    """Strict quality on a multi-domain slice drops most documents; 'keep 60%' forces relaxing it."""
    res = prepare(str(mixed_small), "strict quality filtering but keep at least 60% of documents", tmp_path / "o",
                  plan_only=True, log=quiet, max_rounds=4)
    assert res.passed
    assert len(res.history) > 1 and any("relaxed" in a for h in res.history for a in h.get("repairs", []))
    ret = next(c for c in res.checks if c.kind == "retention")
    assert ret.measured["docs"] >= 0.6


def test_unreachable_retention_fails_after_repairs(dirty: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(prepare_command, [str(dirty), "--goal", "English only and keep 99% of documents",
                                             "--output", str(tmp_path / "x"), "--plan-only", "--max-rounds", "2"])
    assert r.exit_code == 1 and "keep ≥ 99% of docs" in r.output
    report = json.loads((Layout(tmp_path / "x").prepare_dir / "plan.json").read_text())
    assert report["status"] == "FAILED"
