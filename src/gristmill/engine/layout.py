"""Where a run keeps its files. One place, so the executor, resume and tests agree.

::

    OUT/
      part-000000.parquet ...        kept documents, one file per chunk, in input order
      rejected/part-000000.parquet   unreadable input with source, location and reason
      dropped/s0-part-000000.parquet ids, rule and signals of dropped documents (full rows on request)
      dropped_samples.jsonl          a few dropped documents per rule, for a quick look
      summary.json                   counts, per-step figures, recipe hash, input fingerprints
      .gristmill/                    run state: run.json, per-stage chunk files and done markers
"""

from __future__ import annotations

from pathlib import Path

SIG_COLUMN = "__gm_signature__"


class Layout:
    def __init__(self, out: str | Path, fmt: str = "parquet") -> None:
        self.out = Path(out)
        self.fmt = fmt
        self.state = self.out / ".gristmill"

    @property
    def ext(self) -> str:
        return {"parquet": ".parquet", "jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz"}[self.fmt]

    @property
    def run_file(self) -> Path:
        return self.state / "run.json"

    @property
    def summary(self) -> Path:
        return self.out / "summary.json"

    def stage_dir(self, stage: int) -> Path:
        return self.state / f"stage-{stage}"

    def stage_complete(self, stage: int) -> Path:
        return self.stage_dir(stage) / "complete.json"

    def marker(self, stage: int, chunk: int) -> Path:
        return self.stage_dir(stage) / f"chunk-{chunk:06d}.done.json"

    def intermediate(self, stage: int, chunk: int) -> Path:
        return self.stage_dir(stage) / f"chunk-{chunk:06d}.parquet"

    def decision(self, stage: int) -> Path:
        return self.stage_dir(stage) / "decision.pkl"

    def kept(self, chunk: int) -> Path:
        return self.out / f"part-{chunk:06d}{self.ext}"

    def rejected(self, stage: int, chunk: int) -> Path:
        return self.out / "rejected" / f"s{stage}-part-{chunk:06d}.parquet"

    def dropped(self, stage: int, chunk: int) -> Path:
        return self.out / "dropped" / f"s{stage}-part-{chunk:06d}.parquet"

    @property
    def samples(self) -> Path:
        return self.out / "dropped_samples.jsonl"
