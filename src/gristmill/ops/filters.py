"""Simple measurement filters."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register


class LengthParams(OpParams):
    min_chars: int = Field(1, ge=0, le=100_000_000, description="drop documents with fewer characters")
    max_chars: int | None = Field(None, ge=1, description="drop documents with more characters (None: no limit)")
    min_words: int = Field(0, ge=0, le=10_000_000, description="drop documents with fewer whitespace-separated words")
    max_words: int | None = Field(None, ge=1, description="drop documents with more words (None: no limit)")


@register
class LengthFilter(Operator):
    name = "length_filter"
    family = "quality"
    description = """Measure each document's length in characters, words (whitespace-separated) and lines,
    and keep documents whose character and word counts fall within the given bounds. Use it to drop empty,
    very short (fragments, titles) or very long (dumps, logs) documents. Word counts undercount languages
    written without spaces (Chinese, Japanese); bound those by characters."""
    Params = LengthParams
    signals = (
        Signal("chars", "int", "number of Unicode characters"),
        Signal("words", "int", "number of whitespace-separated words"),
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
            # reuse the shared word lists when another step built them; otherwise count without keeping
            # every word as a Python string (that view costs ~10x the text in memory)
            "words": np.fromiter(
                (len(w) for w in batch.view("words")) if batch.has_view("words") else (len(t.split()) for t in texts),
                np.int64,
                len(texts),
            ),
            "lines": np.fromiter((t.count("\n") + 1 for t in texts), np.int64, len(texts)),
        }


@register
class RuleFilter(Operator):
    name = "filter"
    family = "select"
    description = """Keep documents that satisfy the step's `keep` rule, an expression over signals measured
    by earlier steps and over input fields (e.g. `field('domain') in ['code', 'docs']` or
    `length.words >= 50 and field('license') != 'unknown'`). Use it to select or exclude by domain, source,
    license or any combination of signals; it measures nothing itself."""
    reads = ()

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        """Measures nothing: the step's ``keep`` rule decides (the engine called this and crashed before)."""
        return {}
