"""Predicted token retention from the dry run, for inputs with and without their own ids."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gristmill.agent.checks import est_tokens
from gristmill.agent.prepare import dry_run

DATA = Path(__file__).resolve().parents[2] / "data" / "sample.jsonl.gz"
RECIPE = {"input": {"path": "x"}, "steps": [{"op": "length_filter", "params": {"min_words": 120}}],
          "output": {"path": "y", "format": "parquet"}}


def _rows(n: int, with_ids: bool) -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(n), fh)]
    return [{"id": r["id"], "text": r["text"]} if with_ids else {"text": r["text"]} for r in rows]


@pytest.mark.parametrize("with_ids", [True, False])
def test_token_retention_matches_the_kept_documents(tmp_path: Path, with_ids: bool) -> None:
    rows = _rows(300, with_ids)
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    dry = dry_run(RECIPE, sample, tmp_path / "out", rows)
    docs, tokens = dry.retention()
    long_rows = [r for r in rows if len(r["text"].split()) >= 120]
    assert 0 < len(long_rows) < len(rows)
    assert docs == pytest.approx(len(long_rows) / len(rows))
    expected = sum(est_tokens(r["text"]) for r in long_rows) / sum(est_tokens(r["text"]) for r in rows)
    assert tokens == pytest.approx(expected, rel=0.02)  # was 0.0 for id-less input
