"""content_kind on real excerpts (bench/content_kind/data, from Debian packages) that training never saw."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError

from gristmill.batch import Batch
from gristmill.ops.content_kind import ContentKind, ContentKindParams
from gristmill.ops.registry import get_op

BENCH = Path(__file__).resolve().parents[2] / "bench" / "content_kind"
sys.path.insert(0, str(BENCH))
from train import is_test  # noqa: E402 - the trainer's split, so these excerpts are held out


def _held_out() -> list[dict]:
    with gzip.open(BENCH / "data" / "excerpts.jsonl.gz", "rt", encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if is_test(r["source"])]


HELD_OUT = _held_out()


def run(texts: list[str], **params) -> dict:
    return ContentKind(ContentKindParams(**params)).apply(Batch(pa.table({"text": texts})))


def test_registered_with_the_planners_interface():
    op = get_op("content_kind")
    assert op.family == "quality"
    names = {s.name for s in op.signals}
    assert {"kind", "code_language", "code_share"} <= names
    assert {f"score_{k}" for k in ("code", "prose", "mixed", "math", "table", "log", "markup")} <= names
    assert ContentKind().rules() == {}  # measures only by default


@pytest.mark.parametrize("kind", ["code", "prose", "mixed", "math", "table", "log", "markup"])
def test_held_out_excerpts_of_each_kind(kind):
    rows = [r for r in HELD_OUT if r["kind"] == kind][:40]
    assert rows, kind
    got = run([r["text"] for r in rows])["kind"]
    hits = sum(g == kind for g in got)
    assert hits >= 0.75 * len(rows), (kind, hits, len(rows))


def test_code_language_of_held_out_code():
    rows = [r for r in HELD_OUT if r["kind"] == "code"][:120]
    sig = run([r["text"] for r in rows])
    right = sum(lang == r["language"] for lang, r in zip(sig["code_language"], rows))
    assert right >= 0.85 * len(rows)
    for kind, lang in zip(sig["kind"], sig["code_language"]):
        assert (lang != "") == (kind in ("code", "mixed"))


def test_readme_with_a_code_block_is_mixed():
    prose = next(r["text"] for r in HELD_OUT if r["kind"] == "prose" and "python3.11-doc" in r["source"] and len(r["text"]) > 1200)
    code = next(r["text"] for r in HELD_OUT if r["language"] == "python" and r["kind"] == "code" and len(r["text"]) > 800)
    readme = prose[:1200] + "\n\nExample:\n\n" + "\n".join("    " + ln for ln in code[:800].split("\n")) + "\n\n" + prose[1200:2000]
    sig = run([prose, code, readme])
    assert sig["code_share"][0] < sig["code_share"][2] < sig["code_share"][1]
    assert sig["kind"][2] == "mixed"


def test_scores_are_probabilities_and_keep_drop_rules():
    sig = run([HELD_OUT[0]["text"], ""])
    total = sum(sig[f"score_{k}"] for k in ("code", "prose", "mixed", "math", "table", "log", "markup"))
    assert total == pytest.approx([1.0, 1.0])
    assert sig["code_share"].min() >= 0 and sig["code_share"].max() <= 1
    assert ContentKind(ContentKindParams(keep=["code"])).rules() == {"wrong_content_kind": "content_kind.kind in ['code']"}
    assert ContentKind(ContentKindParams(drop=["log", "table"])).rules() == {
        "unwanted_content_kind": "content_kind.kind not in ['log', 'table']"}
    with pytest.raises(ValidationError):
        ContentKindParams(keep=["code"], drop=["code"])
    with pytest.raises(ValidationError):
        ContentKindParams(keep=["poetry"])
