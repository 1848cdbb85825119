"""Where a run keeps its files. One place, so the executor, resume, readers and tests agree.

::

    OUT/
      part-000000.parquet ...            kept documents, one file per chunk, in input order: nothing else
                                         sits at the top, so any Parquet reader loads OUT as the dataset
      .gristmill/                        everything else; readers skip it (a name starting with ".")
        output.json                      the marker: gristmill made this folder (written first)
        lock                             held (flock) by the run writing the folder
        summary.json                     counts, per-step figures, recipe hash, inputs (written last:
                                         a folder without it is an unfinished run)
        rejected/s0-part-000000.pq       unreadable input with source, location and reason
        dropped/s0-part-000000.pq        ids, rule and signals of dropped documents (full rows on request;
                                         always for duplicates, which re-deciding may bring back)
        provenance/part-000000.pq        id -> source file and line/row of every parsed document (kept or
                                         dropped), per input chunk: what `catalog trace` follows
        dropped_samples.jsonl            a few dropped documents per rule, for a quick look
        registered.json                  the catalog version that holds a copy of this run (--into), with
                                         the kept files' sizes and times: while they are unchanged, a later
                                         --into run may replace the folder without --overwrite
        word_table.txt.gz                every distinct chunk the run split into words, with its words,
                                         so that an incremental run starts warm (engine/word_table.py)
        dedup_state/STEP/chunk-000000.pq what each global step saw and decided, per chunk (id, keep, its
                                         signals, signature: hashes, never text), so that a catalog
                                         version can be extended or re-decided (engine/dedup_state.py)
        state/                           run state: run.json, per-stage chunk files and done markers

The side tables are Parquet files named ``*.pq`` so that a recursive ``OUT/**/*.parquet`` glob (DuckDB)
matches the kept rows only; pyarrow, pandas and ``datasets`` read a ``.pq`` folder like any other.

The layout before this one (gristmill 0.1: ``summary.json``, ``rejected/``, ``dropped/`` and
``dropped_samples.jsonl`` beside the kept rows, run state in ``.gristmill/run.json``) is still recognised:
:func:`find_summary` reads its summary and :func:`is_gristmill_output` claims it, so ``--overwrite`` can
replace it; it is never resumed.
"""

from __future__ import annotations

import re
from pathlib import Path

SIG_COLUMN = "__gm_signature__"
SIDE_DIR = ".gristmill"
MARKER_NAME = "output.json"
MARKER_FORMAT = "gristmill.output"
SIDE_TABLE_EXT = ".pq"
KEPT_PATTERN = re.compile(r"part-\d{6}(\.parquet|\.jsonl|\.jsonl\.gz)")
_LEGACY_TABLE = re.compile(r"s\d+-part-\d{6}\.parquet")


class Layout:
    """The paths of one output folder (``fmt`` is the kept rows' format: parquet, jsonl or jsonl.gz)."""

    def __init__(self, out: str | Path, fmt: str = "parquet") -> None:
        self.out = Path(out)
        self.fmt = fmt
        self.side = self.out / SIDE_DIR
        self.state = self.side / "state"

    @property
    def ext(self) -> str:
        return {"parquet": ".parquet", "jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz"}[self.fmt]

    # -- what readers want ---------------------------------------------------------------------------------
    def kept(self, chunk: int) -> Path:
        return self.out / f"part-{chunk:06d}{self.ext}"

    def kept_files(self) -> list[Path]:
        """The kept data files, in chunk order (whatever their format)."""
        if not self.out.is_dir():
            return []
        return sorted(p for p in self.out.iterdir() if p.is_file() and KEPT_PATTERN.fullmatch(p.name))

    @property
    def summary(self) -> Path:
        return self.side / "summary.json"

    @property
    def rejected_dir(self) -> Path:
        return self.side / "rejected"

    @property
    def dropped_dir(self) -> Path:
        return self.side / "dropped"

    def rejected(self, stage: int, chunk: int) -> Path:
        return self.rejected_dir / f"s{stage}-part-{chunk:06d}{SIDE_TABLE_EXT}"

    def dropped(self, stage: int, chunk: int) -> Path:
        return self.dropped_dir / f"s{stage}-part-{chunk:06d}{SIDE_TABLE_EXT}"

    @property
    def provenance_dir(self) -> Path:
        return self.side / "provenance"

    def provenance(self, chunk: int) -> Path:
        return self.provenance_dir / f"part-{chunk:06d}{SIDE_TABLE_EXT}"

    @property
    def dedup_state_dir(self) -> Path:
        return self.side / "dedup_state"

    def dedup_state(self, step: str, chunk: int) -> Path:
        return self.dedup_state_dir / step / f"chunk-{chunk:06d}{SIDE_TABLE_EXT}"

    @property
    def word_table(self) -> Path:
        """Every distinct chunk the run split into words, for the next incremental run (engine/word_table.py)."""
        return self.side / "word_table.txt.gz"

    @property
    def registered(self) -> Path:
        return self.side / "registered.json"

    @property
    def samples(self) -> Path:
        return self.side / "dropped_samples.jsonl"

    @property
    def prepare_dir(self) -> Path:
        """Where ``gristmill prepare`` puts its plan reports (beside the run's own files, out of the data)."""
        return self.side / "prepare"

    # -- ownership ------------------------------------------------------------------------------------------
    @property
    def output_marker(self) -> Path:
        return self.side / MARKER_NAME

    @property
    def lock(self) -> Path:
        return self.side / "lock"

    # -- run state ------------------------------------------------------------------------------------------
    @property
    def run_file(self) -> Path:
        return self.state / "run.json"

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

    # -- the old layout ---------------------------------------------------------------------------------
    @property
    def legacy_summary(self) -> Path:
        return self.out / "summary.json"

    @property
    def legacy_run_file(self) -> Path:
        return self.side / "run.json"

    def is_legacy(self) -> bool:
        return self.legacy_run_file.is_file() and not self.output_marker.exists()

    def own_entries(self) -> list[Path]:
        """Every path in the folder that gristmill wrote (this layout or the old one), nothing else: what
        ``--overwrite`` may remove. Side folders of the old layout count only for files named as it named
        them."""
        if not self.out.is_dir():
            return []
        own: list[Path] = [p for p in self.out.iterdir() if p.is_file() and _is_kept_or_temporary(p.name)]
        if self.side.is_dir():
            own.append(self.side)
        if self.is_legacy() or self.output_marker.exists():
            for name in ("summary.json", "dropped_samples.jsonl"):
                if (self.out / name).is_file():
                    own.append(self.out / name)
            for name in ("rejected", "dropped"):
                folder = self.out / name
                if folder.is_dir():
                    own += [p for p in folder.iterdir() if p.is_file() and _LEGACY_TABLE.fullmatch(p.name)]
        return own


def _is_kept_or_temporary(name: str) -> bool:
    if KEPT_PATTERN.fullmatch(name):
        return True
    base = name.rsplit(".", 2)[0] if name.endswith(".tmp") else ""
    return bool(base) and KEPT_PATTERN.fullmatch(base) is not None


def is_gristmill_output(folder: str | Path) -> bool:
    """Whether gristmill made ``folder`` (its marker, or the run state of the old layout)."""
    lay = Layout(folder)
    return lay.output_marker.is_file() or lay.legacy_run_file.is_file()


def find_summary(folder: str | Path) -> Path | None:
    """The summary of a finished run in ``folder``, in this layout or the old one; None when unfinished."""
    lay = Layout(folder)
    for path in (lay.summary, lay.legacy_summary):
        if path.is_file():
            return path
    return None


def kept_files(folder: str | Path) -> list[Path]:
    """The kept data files of an output folder (any format), in chunk order."""
    return Layout(folder).kept_files()
