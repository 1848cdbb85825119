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
import pyarrow.parquet as pq

from gristmill.errors import UsageError
from gristmill.io.inputs import resolve_inputs
from gristmill.io.readers import open_binary


@dataclass
class Sample:
    """Rows drawn from the input, plus how many records were scanned and how many were unreadable."""

    rows: list[dict[str, Any]]
    scanned: int
    unreadable: int
    files: list[str] = field(default_factory=list)
    text_field: str = "text"

    def texts(self) -> list[str]:
        return [r.get(self.text_field) or "" for r in self.rows]


def _iter_records(path: str) -> Any:
    for f in resolve_inputs(path):
        if f.format == "parquet":
            for batch in pq.ParquetFile(f.path).iter_batches(batch_size=4096):
                yield from batch.to_pylist()
        elif f.format in ("jsonl",):
            with open_binary(f) as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    try:
                        obj = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        yield None
                        continue
                    yield obj if isinstance(obj, dict) else None
        else:  # csv/tsv: let Arrow parse
            import pyarrow.csv as pcsv

            opts = pcsv.ParseOptions(delimiter="\t" if f.format == "tsv" else ",")
            yield from pcsv.read_csv(f.path, parse_options=opts).to_pylist()


def draw_sample(path: str, n: int = 2000, seed: int = 0, max_scan: int = 200_000, text_field: str = "text") -> Sample:
    """Reservoir-sample ``n`` readable records (rows without a text string count as unreadable)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    scanned = bad = readable = 0
    files = [f.path for f in resolve_inputs(path)]
    if not files:
        raise UsageError(f"no input files at {path}")
    for rec in _iter_records(path):
        if scanned >= max_scan:
            break
        scanned += 1
        if rec is None or not isinstance(rec.get(text_field), str):
            if rec is not None and isinstance(rec.get("messages"), list):
                pass  # chat rows without text are readable; the profile notes the format
            else:
                bad += 1
                continue
        readable += 1
        if len(rows) < n:
            rows.append(rec)
        else:
            j = rng.randrange(readable)
            if j < n:
                rows[j] = rec
    return Sample(rows=rows, scanned=scanned, unreadable=bad, files=files, text_field=text_field)


def write_sample(sample: Sample, path: Path) -> Path:
    """Write the sample as JSONL so the real engine can dry-run a recipe on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for r in sample.rows:
            fh.write(orjson.dumps(r, default=str) + b"\n")
    return path


def table_of(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows)
