"""What the verifier sees (the dry run: sample in, kept documents out) and what it says (one Check each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.agent.profile import est_tokens

if TYPE_CHECKING:
    from gristmill.agent.requirement import Requirement


@dataclass
class Check:
    requirement: str
    kind: str
    passed: bool
    evidence: str
    measured: dict[str, Any] = field(default_factory=dict)
    hard: bool = True  # a failed hard check blocks the recipe; soft checks are reported
    req: Requirement | None = field(default=None, repr=False, compare=False)  # what it checks (None: run-level)

    def line(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.requirement}: {self.evidence}"


@dataclass
class DryRun:
    """What the verifier sees: the sample that went in and what came out."""

    input_rows: list[dict[str, Any]]
    kept: pa.Table
    summary: dict[str, Any]
    out_dir: Path
    text_field: str = "text"

    @property
    def kept_texts(self) -> list[str]:
        return [t or "" for t in self.kept.column(self.text_field).to_pylist()] if self.kept.num_rows else []

    def retention(self) -> tuple[float, float]:
        # rows the reader rejected (no text to keep) are not the plan's to drop: retention is of readable rows
        n_in = self.summary.get("input", len(self.input_rows)) - self.summary.get("rejected", {}).get("total", 0)
        docs = self.summary.get("kept", 0) / n_in if n_in else 0.0
        tok_in = sum(est_tokens(r.get(self.text_field) or "") for r in self.input_rows)
        kept_ids = set(self.kept.column("id").to_pylist()) if self.kept.num_rows and "id" in self.kept.column_names else set()
        by_id = [r for r in self.input_rows if r.get("id") in kept_ids]
        if by_id:  # the input's own text of each kept document (steps may have rewritten the kept text)
            tok_out = sum(est_tokens(r.get(self.text_field) or "") for r in by_id)
        else:  # id-less input: the engine named the rows itself, so measure the kept text
            tok_out = sum(est_tokens(t) for t in self.kept_texts)
        return docs, (tok_out / tok_in if tok_in else 0.0)


def read_kept(out_dir: Path) -> pa.Table:
    files = sorted(out_dir.glob("part-*.parquet"))
    if not files:
        import orjson

        rows = []
        for f in sorted(out_dir.glob("part-*.jsonl*")):
            import gzip

            op = gzip.open if f.name.endswith(".gz") else open
            with op(f, "rb") as fh:
                rows.extend(orjson.loads(line) for line in fh if line.strip())
        return pa.Table.from_pylist(rows) if rows else pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
