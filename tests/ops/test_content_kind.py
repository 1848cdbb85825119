"""content_kind on real excerpts (bench/content_kind/data, from Debian packages) that training never saw, and its
batch feature code checked against the one-document reference that defines the features."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from gristmill.batch import Batch
from gristmill.ops.content_kind import ContentKind, ContentKindParams, load_model
from gristmill.ops.content_kind_features import KINDS, batch_features, feature_names
from gristmill.ops.content_kind_reference import reference_features
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


# --- the batch feature code (what the operator runs) against the one-document reference ---------------------

EDGE_CASES = [
    "",
    "   \n\t\n",
    "x",
    "def f(x):\n    return x  # trailing spaces   \r\n\r\n",
    "第一行。\n第二行！\n混合 text with `code()` and a = b;\n",
    "Time: 12:34:56:78 and 2024-01-02-03 at [    0.123456] done.\n",
    "$a$ and $b$ but $$x$$ and $1 or\n$2 ... $",
    "<p class='x'>a < b and c > d</p><br/><a+b> &amp; &#1234; &toolongentityname; &#12345678;",
    "\\begin{document}\\end{x}\\\\alpha \\@foo \\begin",
    "a==b; c!==d; e => f; g->h; i >= j; k += 1; l = -1; m===n; o  = p",
    "col1,col2,col3\n1,2,3\n4,5,6\n7,8\n",
    "naïve café ünïcode wörds définitions\n" * 3,
    "INFO start\nWARN low disk\nerror: failed\nDEBUG x\n",
]


def _glued_batch() -> list:
    """Documents whose last and first bytes are word bytes, None, and a text longer than max_chars."""
    long = ("é" * 500 + "word " * 100 + "\n") * 8
    return ["abc", "def", None, "ghi\n", "jkl", long, "if x:\n\tpass", *EDGE_CASES]


def _close(fast, ref):
    return np.allclose(fast, ref, rtol=1e-9, atol=1e-12)


def test_batch_features_equal_the_reference_on_held_out_excerpts():
    texts = [r["text"] for r in HELD_OUT[:: max(1, len(HELD_OUT) // 150)]]
    fast = batch_features(texts)
    ref = np.stack([reference_features(t) for t in texts])
    assert fast.shape == ref.shape == (len(texts), len(feature_names()))
    bad = [feature_names()[j] for j in np.flatnonzero(~np.isclose(fast, ref, rtol=1e-9, atol=1e-12).all(0))]
    assert not bad, bad


@pytest.mark.parametrize("max_chars", [200, 1000, 8000])
def test_batch_features_equal_the_reference_on_edge_cases(max_chars):
    texts = _glued_batch()
    fast = batch_features(texts, max_chars)
    ref = np.stack([reference_features(t or "", max_chars) for t in texts])
    for i, t in enumerate(texts):
        assert _close(fast[i], ref[i]), (t[:40] if t else t, [
            (feature_names()[j], fast[i, j], ref[i, j]) for j in np.flatnonzero(~np.isclose(fast[i], ref[i]))])


def test_batch_features_read_any_arrow_layout():
    texts = _glued_batch()
    want = batch_features(texts)
    for arr in (
        pa.array(texts, pa.string()),
        pa.array(texts, pa.large_string()),
        pa.chunked_array([pa.array(texts[:4]), pa.array(texts[4:])]),
        pa.array(["zzz", *texts], pa.string()).slice(1),  # an array with an offset
    ):
        assert _close(batch_features(arr), want)
    one_by_one = np.stack([batch_features([t])[0] for t in texts])
    assert _close(one_by_one, want)  # a document's features do not depend on its neighbours
    assert batch_features([]).shape == (0, len(feature_names()))


def test_operator_kinds_equal_those_from_reference_features():
    rows = HELD_OUT[:: max(1, len(HELD_OUT) // 120)]
    texts = [r["text"] for r in rows]
    sig = run(texts)
    m = load_model()
    xs = (np.stack([reference_features(t) for t in texts]) - m["mean"]) / m["std"]
    ref_kinds = [KINDS[i] for i in (xs @ m["kind_w"] + m["kind_b"]).argmax(1)]
    assert sig["kind"] == ref_kinds
    assert len(set(ref_kinds)) >= 5  # the sample spans the kinds


def test_reads_texts_rewritten_by_an_earlier_step():
    code = next(r["text"] for r in HELD_OUT if r["kind"] == "code" and r["language"] == "java")
    prose = next(r["text"] for r in HELD_OUT if r["kind"] == "prose" and len(r["text"]) > 1000)
    batch = Batch(pa.table({"text": [code]}))
    assert ContentKind().apply(batch)["kind"] == ["code"]
    batch.set_texts([prose])  # what a cleaning step does
    assert ContentKind().apply(batch)["kind"] == ["prose"]
