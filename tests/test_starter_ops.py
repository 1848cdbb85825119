"""Starter operators and the rule language, at their boundaries."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gristmill.batch import Batch
from gristmill.ops.base import SignatureSource
from gristmill.ops.clean import NormalizeParams, NormalizeText
from gristmill.ops.dedup import ExactDedup, ExactDedupParams, first_occurrences
from gristmill.ops.filters import LengthFilter, LengthParams
from gristmill.recipe.rules import RuleError, compile_rule


def batch(texts: list[str]) -> Batch:
    return Batch(pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts}))


def test_normalize_text_unicode_and_whitespace():
    b = batch(["cafe\u0301\u200b  au\t\tlait  \r\n\r\n\r\n\r\n  second   line  ", "plain"])
    NormalizeText(NormalizeParams()).apply(b)
    assert b.texts() == ["café au lait\n\nsecond line", "plain"]
    assert b.table.column("text").to_pylist() == b.texts()
    nfkc = batch(["ﬁne ①"])
    NormalizeText(NormalizeParams(unicode_form="NFKC")).apply(nfkc)
    assert nfkc.texts() == ["fine 1"]
    untouched = batch(["a  b"])
    NormalizeText(NormalizeParams(whitespace=False)).apply(untouched)
    assert untouched.texts() == ["a  b"]


def keep_of(op, b: Batch) -> np.ndarray:
    signals = op.apply(b)
    env = {op.signal_column(k): np.asarray(v) for k, v in signals.items()}
    rules = [compile_rule(n, src, env) for n, src in op.rules().items()]
    keep = np.ones(b.num_rows, dtype=bool)
    for r in rules:
        keep &= r.keep_mask(env, b.num_rows)
    return keep


@pytest.mark.parametrize(
    "params, texts, expected",
    [
        ({"min_words": 3}, ["one two", "one two three"], [False, True]),  # just under / at the bound
        ({"min_chars": 5, "min_words": 0}, ["abcd", "abcde"], [False, True]),
        ({"max_chars": 5}, ["abcde", "abcdef"], [True, False]),
        ({"max_words": 2}, ["a b", "a b c"], [True, False]),
    ],
)
def test_length_filter_bounds(params, texts, expected):
    op = LengthFilter(LengthParams(**params))
    assert keep_of(op, batch(texts)).tolist() == expected


def test_length_filter_signals_and_word_view_is_shared():
    b = batch(["two words\nand a line", "x", "Hello, world."])
    signals = LengthFilter(LengthParams()).apply(b)
    assert signals["chars"].tolist() == [20, 1, 13]
    assert signals["words"].tolist() == [5, 1, 2]
    assert signals["lines"].tolist() == [2, 1, 1]
    assert not b.has_view("words") and not b.has_view("word_ids")  # counted without building a view
    again = LengthFilter(LengthParams()).apply(b)
    assert again["words"].tolist() == [5, 1, 2]


def _sample(ids: set[str]) -> dict[str, str]:
    import gzip
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "sample.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = (json.loads(line) for line in f)
        return {r["id"]: r["text"] for r in rows if r["id"] in ids}


def test_length_filter_counts_chinese_and_japanese_words():
    """Debian handbook sections (ja-JP, zh-CN) have 14 and 25 whitespace chunks but hundreds of words."""
    texts = _sample({"multilingual-000300", "multilingual-000607"})
    ja, zh = texts["multilingual-000300"], texts["multilingual-000607"]
    assert len(ja.split()) < 50 and len(zh.split()) < 50
    b = batch([ja, zh])
    words = LengthFilter(LengthParams()).apply(b)["words"]
    assert words.min() >= 100
    assert keep_of(LengthFilter(LengthParams(min_words=50)), batch([ja, zh])).tolist() == [True, True]
    # a Han character is one word and a kana run another; the full-width marks are not words
    assert LengthFilter(LengthParams()).apply(batch(["日本語のテキスト。"]))["words"].tolist() == [5]


def test_exact_dedup_keeps_first_occurrence_across_chunks():
    op = ExactDedup(ExactDedupParams())
    chunks = {0: batch(["a b", "c", "a  b "]), 1: batch(["c", "new", "A B"])}
    sigs = {cid: op.signature(b) for cid, b in chunks.items()}
    decision = op.decide(SignatureSource([0, 1], sigs.__getitem__))
    assert decision[0].tolist() == [True, True, False]
    assert decision[1].tolist() == [False, True, True]  # "A B" differs: case is kept by default
    lower = ExactDedup(ExactDedupParams(lowercase=True))
    sigs = {cid: lower.signature(b) for cid, b in chunks.items()}
    assert lower.decide(SignatureSource([0, 1], sigs.__getitem__))[1].tolist() == [False, True, False]


def test_first_occurrences_order():
    keys = np.array([[1, 2], [3, 4], [1, 2], [1, 3], [3, 4]], dtype=np.uint64)
    assert first_occurrences(keys).tolist() == [True, True, False, True, False]


def test_rule_language_semantics():
    env = {
        "s.x": np.array([1.0, np.nan, 5.0, 10.0]),
        "s.lang": np.array(["en", "fr", None, "en"], dtype=object),
        "field:domain": np.array(["web", "code", "web", None], dtype=object),
    }
    def ev(src):
        return compile_rule("r", src, ["s.x", "s.lang"]).keep_mask(env, 4).tolist()

    assert ev("s.x >= 5") == [False, False, True, True]  # NaN fails a threshold
    assert ev("2 <= s.x < 10") == [False, False, True, False]
    assert ev("s.lang in ['en']") == [True, False, False, True]
    assert ev("s.lang not in ['en']") == [False, True, True, False]
    assert ev("not s.x > 3 or field('domain') == 'code'") == [True, True, False, False]
    assert ev("s.x * 2 - 1 > 8 and s.lang == 'en'") == [False, False, False, True]
    assert ev("abs(s.x - 6) <= 1 or isnan(s.x)") == [False, True, True, False]
    for bad in ("s.x >", "import os", "s.x.y > 1", "open('f')", "s.x if s.x else 1", "[s.x] == 1"):
        with pytest.raises(RuleError):
            compile_rule("r", bad, ["s.x"])
