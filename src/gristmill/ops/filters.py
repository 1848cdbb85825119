"""Simple measurement filters."""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register
from gristmill.ops.wordsplit import split_word_ids, token_props


class LengthParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({"min_chars", "max_chars", "min_words", "max_words"})
    min_chars: int = Field(1, ge=0, le=100_000_000, description="drop documents with fewer characters")
    max_chars: int | None = Field(None, ge=1, description="drop documents with more characters (None: no limit)")
    min_words: int = Field(0, ge=0, le=10_000_000, description="drop documents with fewer words (whitespace-separated; Chinese/Japanese: per Han character and kana run)")
    max_words: int | None = Field(None, ge=1, description="drop documents with more words (None: no limit)")


@register
class LengthFilter(Operator):
    name = "length_filter"
    version = "2"  # 2: words from the word splitter (CJK counted), was whitespace
    family = "quality"
    description = """Measure each document's length in characters, words and lines, and keep documents
    whose character and word counts fall within the given bounds. Use it to drop empty, very short
    (fragments, titles) or very long (dumps, logs) documents. Words are whitespace-separated, except in texts
    with Han or kana characters, where the project's word splitter (the one the Gopher rules use) counts one
    word per Han character and per kana run, punctuation marks not counted."""
    Params = LengthParams
    signals = (
        Signal("chars", "int", "number of Unicode characters"),
        Signal("words", "int", "number of words (whitespace-separated; Han characters and kana runs in CJK text)"),
        Signal("lines", "int", "number of lines"),
    )

    def rules(self) -> dict[str, str]:
        p = self.params
        c, w = self.signal_column("chars"), self.signal_column("words")
        rules = {"too_short": f"{c} >= {p.min_chars}"} if p.min_chars > 0 else {}
        if p.max_chars is not None:
            rules["too_long"] = f"{c} <= {p.max_chars}"
        if p.min_words > 0:
            rules["too_few_words"] = f"{w} >= {p.min_words}"
        if p.max_words is not None:
            rules["too_many_words"] = f"{w} <= {p.max_words}"
        return rules

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        texts = batch.texts()
        return {
            "chars": np.fromiter((len(t) for t in texts), np.int64, len(texts)),
            "words": count_words(batch),
            "lines": np.fromiter((t.count("\n") + 1 for t in texts), np.int64, len(texts)),
        }


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def count_words(batch: Batch) -> np.ndarray:
    """Whitespace-separated words, except that a text holding Han or kana counts the word splitter's tokens.

    The splitter (the Gopher rules' ``word_ids``) makes each Han character and each kana run a word, where a
    whitespace count sees a Chinese or Japanese paragraph as one or two words; its punctuation tokens are
    not counted. Other texts keep the plain count: it is ~10x faster and the same for space-separated
    scripts up to punctuation marks that stand alone.
    """
    return count_text_words(batch.texts(), batch.view("word_ids") if batch.has_view("word_ids") else None)


def count_text_words(texts: list[str], shared: list | None = None) -> np.ndarray:
    """:func:`count_words` over plain texts (the agent's independent length check counts the same way)."""
    n = len(texts)
    counts = np.fromiter((len(t.split()) for t in texts), np.int64, n)
    cjk = [i for i, t in enumerate(texts) if _CJK_CHAR.search(t)]
    if cjk:
        ids = [shared[i] if shared is not None else split_word_ids(texts[i]) for i in cjk]
        symbol = token_props()["symbol"]  # after the split: covers every id just made
        for i, a in zip(cjk, ids):
            counts[i] = int((~symbol[a]).sum())
    return counts


@register
class RuleFilter(Operator):
    name = "filter"
    family = "select"
    description = """Keep documents that satisfy the step's `keep` rule, an expression over signals measured
    by earlier steps and over input fields (e.g. `field('domain') in ['code', 'docs']` or
    `length.words >= 50 and field('license') != 'unknown'`). Use it to select or exclude by domain, source,
    license or any combination of signals; it measures nothing itself."""
    reads = ()
    needs_keep = True

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        """Measures nothing: the step's ``keep`` rule decides (the engine called this and crashed before)."""
        return {}
