"""Draw a reproducible sample of the input: the agent plans and verifies on it before touching the corpus.

A uniform reservoir sample (fixed seed) over the first ``max_scan`` records, not the first N: bundled and
real corpora are often sorted by source, and the first N rows would all come from one domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from gristmill.io.documents import DocumentReader, RejectLog


@dataclass
class Sample:
    """Rows drawn from the input, plus how many records were scanned and how many were unreadable.

    ``rejects`` holds the unreadable ones with their file, line or row, and reason, as a run reports them."""

    rows: list[dict[str, Any]]
    scanned: int
    unreadable: int
    files: list[str] = field(default_factory=list)
    text_field: str = "text"
    rejects: RejectLog = field(default_factory=RejectLog)

    def texts(self) -> list[str]:
        return [r.get(self.text_field) or "" for r in self.rows]


def draw_sample(path: str, n: int = 2000, seed: int = 0, max_scan: int = 200_000, text_field: str = "text") -> Sample:
    """Reservoir-sample ``n`` documents among the first ``max_scan`` records.

    The input is read as a run reads it (:mod:`gristmill.io.documents`): a record the run would reject is
    counted as unreadable and kept in ``Sample.rejects``; a document whose input gave no id has none here
    either, so the sample is the input's rows as they were."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    scanned = bad = readable = 0
    reader = DocumentReader(path, text_field=text_field)
    for rec in reader.records(generated_ids=False) if max_scan > 0 else ():
        scanned += 1
        if rec is None:
            bad += 1
        else:
            readable += 1
            if len(rows) < n:
                rows.append(rec)
            else:
                j = rng.randrange(readable)
                if j < n:
                    rows[j] = rec
        if scanned >= max_scan:
            break  # before the reader reads (and counts) one record more
    return Sample(rows=rows, scanned=scanned, unreadable=bad, files=[f.path for f in reader.files],
                  text_field=text_field, rejects=reader.rejects)


def write_sample(sample: Sample, path: Path) -> Path:
    """Write the sample as JSONL so the real engine can dry-run a recipe on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for r in sample.rows:
            fh.write(orjson.dumps(r, default=str) + b"\n")
    return path


def table_of(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows)
