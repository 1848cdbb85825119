"""Cross-document line (or paragraph) dedup: remove boilerplate that repeats across many documents.

Navigation menus, cookie banners, footers and licence headers repeat verbatim across pages of a site. CCNet
(Wenzek et al. 2020) hashes every normalised paragraph and removes those seen elsewhere; RefinedWeb and
Dolma do the same at line level. Here a line is boilerplate when it occurs in at least ``min_docs``
documents. State is one 64-bit hash per distinct line of each document, never the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import GlobalOperator, OpParams, Signal, SignatureSource
from gristmill.ops.registry import register

_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_PARA = re.compile(r"\n[ \t]*\n+")


class LinesDedupParams(OpParams):
    unit: Literal["line", "paragraph"] = Field(
        "line", description="line: split on newlines; paragraph: split on blank lines (CCNet)"
    )
    min_docs: int = Field(
        3,
        ge=2,
        le=10_000_000,
        description="a unit is boilerplate when at least this many documents contain it",
    )
    min_words: int = Field(
        3,
        ge=1,
        le=1000,
        description="units with fewer whitespace-separated words are never removed (headings such as "
        "'See also' or 'Act I', code such as 'import (' or '}')",
    )
    lowercase: bool = Field(True, description="compare lines case-insensitively")
    normalize_digits: bool = Field(
        True, description="compare lines with every digit run replaced by 0 (dates, counters)"
    )


@dataclass
class BoilerplateDecision:
    """The sorted hashes of boilerplate units, and how many there were."""

    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    stats: dict[str, int] = field(default_factory=dict)


@register
class LinesDedup(GlobalOperator):
    name = "lines_dedup"
    family = "dedup"
    description = """Remove boilerplate lines (or paragraphs) that repeat across many documents: menus,
    cookie notices, footers, share buttons, repeated disclaimers. A line is removed from every document
    when at least `min_docs` documents contain it (compared after trimming, collapsing whitespace and, by
    default, lower-casing and replacing digits). Documents left empty are dropped. Run it after exact and
    near-duplicate dedup (otherwise every line of a duplicated page counts as boilerplate), and with a high
    `min_docs` or not at all on source code, where short lines like `}` legitimately repeat."""
    Params = LinesDedupParams
    writes = ("text",)
    signals = (Signal("lines_removed", "int", "number of lines (or paragraphs) removed as boilerplate"),)
    cost = "moderate"
    drop_rule = "only_boilerplate"
    decides_rows_only = False  # its decision rewrites every document's text: never re-decided from signatures
    references = (
        "Wenzek et al., CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data, 2020",
        "Penedo et al., The RefinedWeb Dataset for Falcon LLM, 2023 (line-level dedup)",
    )

    def _units(self, text: str) -> list[str]:
        if self.params.unit == "line":  # type: ignore[attr-defined]
            return text.split("\n")
        return _PARA.split(text)

    def _hashes(self, units: list[str]) -> np.ndarray:
        """One hash per unit; 0 for units too short to ever count as boilerplate."""
        p: LinesDedupParams = self.params  # type: ignore[assignment]
        out = np.zeros(len(units), np.uint64)
        for i, u in enumerate(units):
            key = _WS.sub(" ", u).strip()
            if key.count(" ") + 1 < p.min_words or not key:
                continue
            if p.lowercase:
                key = key.lower()
            if p.normalize_digits:
                key = _DIGITS.sub("0", key)
            out[i] = xxhash.xxh3_64_intdigest(key.encode()) or 1
        return out

    def signature(self, batch: Batch) -> pa.Array:
        offsets, values = [0], []
        for text in batch.texts():
            h = self._hashes(self._units(text or ""))
            h = np.unique(h[h != 0])  # a line counts once per document
            values.append(h)
            offsets.append(offsets[-1] + len(h))
        flat = np.concatenate(values) if values else np.zeros(0, np.uint64)
        return pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pa.array(flat, pa.uint64()))

    def decide(self, signatures: SignatureSource) -> BoilerplateDecision:
        p: LinesDedupParams = self.params  # type: ignore[assignment]
        parts = [arr.flatten().to_numpy(zero_copy_only=False) for _, arr in signatures]
        if not parts:
            return BoilerplateDecision()
        uniq, counts = np.unique(np.concatenate(parts), return_counts=True)
        hashes = uniq[counts >= p.min_docs]
        return BoilerplateDecision(
            hashes, {"distinct_lines": int(len(uniq)), "boilerplate_lines": int(len(hashes))}
        )

    def apply_decision(self, batch: Batch, chunk_id: int, decision: BoilerplateDecision) -> np.ndarray:
        sep = "\n" if self.params.unit == "line" else "\n\n"  # type: ignore[attr-defined]
        texts = batch.texts()
        keep = np.ones(len(texts), bool)
        removed = np.zeros(len(texts), np.int64)
        new_texts, changed = list(texts), False
        for i, text in enumerate(texts):
            units = self._units(text or "")
            bad = np.isin(self._hashes(units), decision.hashes)
            if not bad.any():
                continue
            removed[i] = int(bad.sum())
            kept = [u for u, b in zip(units, bad) if not b]
            new_texts[i] = sep.join(kept).strip("\n")
            keep[i] = bool(new_texts[i].strip())
            changed = True
        if changed:
            batch.set_texts(new_texts)
        batch.set_column(self.signal_column("lines_removed"), pa.array(removed, pa.int64()))
        return keep
