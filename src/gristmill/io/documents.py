"""Read documents the way ``gristmill run`` reads them, for every command that is not a run.

``tokenize``, train's ``data.text``, ``model fit-*`` and ``prepare``'s sample read their inputs here, and this
module goes through the run's own stage 0: :func:`~gristmill.io.inputs.resolve_inputs` (files, folders, globs,
gristmill output folders with their kept rows only, in this layout or the 0.1 one, and ``catalog://NAME[@V]``),
:func:`~gristmill.io.readers.iter_chunks` (JSONL plain, .gz or .zst, Parquet, CSV/TSV; a name that the content
contradicts is an error) and :func:`~gristmill.io.parse.parse_chunk` (the run's validation). So every command
accepts the same inputs and turns the same bad rows into rejects, each with its file, line or row, and
reason, instead of crashing on the first bad line or skipping it unseen. A :class:`RejectLog` counts the
rejects by kind for a one-line report and keeps them, in a Parquet file with the run's reject schema when it
is given a path.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.io.inputs import InputFile, resolve_inputs
from gristmill.io.parse import REJECT_SCHEMA, Parsed, ParseSpec, _make_id, _reject, parse_chunk
from gristmill.io.readers import iter_chunks
from gristmill.recipe.model import EngineSpec, InputSpec

# the run's defaults, so that a command cuts the same chunks and types the same columns as a run
CHUNK_ROWS: int = EngineSpec.model_fields["chunk_rows"].default
CHUNK_BYTES: int = EngineSpec.model_fields["chunk_bytes"].default
MAX_DOC_BYTES: int = InputSpec.model_fields["max_doc_bytes"].default
_REASON_CHARS = 160
_FLUSH_ROWS = 4096


@dataclass
class DocumentBatch:
    """The valid documents of one chunk, as a run would see them, and where each one came from."""

    table: pa.Table  # ``id`` first (the input's id, or one made from the location), then the fields
    file: InputFile
    unit: str  # "line" (JSONL, CSV: 1-based) or "row" (Parquet: 0-based)
    locations: np.ndarray  # the line or row of each document
    generated_ids: np.ndarray  # True where the input gave no id and ``id`` was made from the location


class RejectLog:
    """Every record a command could not use: counted by kind, the first ones kept for the message.

    With ``path`` every reject is written there (Parquet, the run's reject schema: source, unit, location,
    kind, reason, raw) a few thousand at a time, through a temporary file renamed on :meth:`close`; nothing is written
    when nothing is rejected. Without it the first ``keep`` rejects stay in memory (:meth:`save` writes them).
    """

    def __init__(self, path: str | os.PathLike | None = None, keep: int = 1000) -> None:
        self.path = Path(path) if path is not None else None
        self.keep = keep
        self.records = 0  # input records read: documents plus rejected records (blank lines are neither)
        self.total = 0
        self.by_kind: Counter[str] = Counter()
        self.kept: list[dict] = []
        self._pending: list[dict] = []  # written in row groups of _FLUSH_ROWS, not one per reject
        self._writer: pq.ParquetWriter | None = None

    def add(self, rejects: list[dict]) -> None:
        """Count rejects (dicts in the run's reject schema) and keep or write them."""
        if not rejects:
            return
        self.total += len(rejects)
        self.by_kind.update(r["kind"] for r in rejects)
        room = (self.keep if self.path is None else 1) - len(self.kept)
        if room > 0:
            self.kept += rejects[:room]
        if self.path is not None:
            self._pending += rejects
            if len(self._pending) >= _FLUSH_ROWS:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._tmp, REJECT_SCHEMA)
        self._writer.write_table(pa.Table.from_pylist(self._pending, REJECT_SCHEMA))
        self._pending = []

    def reject(self, batch: DocumentBatch, i: int, reason: str, kind: str) -> None:
        """Reject document ``i`` of ``batch`` for a reason of the command's own (a missing domain, say)."""
        row = batch.table.slice(i, 1).to_pylist()[0]
        self.add([_reject(batch.file.relpath, batch.unit, int(batch.locations[i]), reason, row, kind=kind)])

    @property
    def _tmp(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".tmp")

    def close(self) -> None:
        """Finish the details file (when there is anything to write)."""
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            assert self.path is not None
            os.replace(self._tmp, self.path)

    def save(self, path: str | os.PathLike) -> Path | None:
        """Write the rejects kept in memory to ``path`` (Parquet); None when there are none."""
        if not self.kept:
            return None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(self.kept, REJECT_SCHEMA), path)
        return path

    def __enter__(self) -> RejectLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_dict(self) -> dict[str, Any]:
        """What a summary records: counts, the first reject, and where every reject is."""
        first = None
        if self.kept:
            r = self.kept[0]
            first = {k: r[k] for k in ("source", "unit", "location", "kind", "reason")}
        details = str(self.path) if self.path is not None and self.total else None
        return {"records": self.records, "total": self.total, "by_kind": dict(self.by_kind.most_common()),
                "first": first, "details": details}

    def line(self) -> str:
        return describe_rejects(self.to_dict())


def describe_rejects(rejected: dict[str, Any]) -> str:
    """One line for a person: how many records were rejected and why, the first one, and where they all are."""
    if not rejected.get("total"):
        return f"read {rejected.get('records', 0):,} input records, none rejected"
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in rejected["by_kind"].items())
    text = f"rejected {rejected['total']:,} of {rejected['records']:,} input records ({kinds})"
    first = rejected.get("first")
    if first:
        where = first["source"] + ("" if first["location"] is None else f" {first['unit']} {first['location']}")
        reason = first["reason"] if len(first["reason"]) <= _REASON_CHARS else first["reason"][:_REASON_CHARS] + "…"
        text += f"; first: {where}: {reason}"
    if rejected.get("details"):
        text += f"; all of them with their reasons: {rejected['details']}"
    return text


class DocumentReader:
    """The documents of some inputs, read and checked as a run reads them (see the module's docstring).

    Resolving the inputs happens here, so that a path that names nothing is a :class:`UsageError` before a
    command writes anything. ``columns``: the fields a command needs besides the text and the id (a Parquet
    file is read for those only; ``None`` reads every field).
    """

    def __init__(
        self,
        inputs: str | Sequence[str],
        *,
        text_field: str = "text",
        id_field: str = "id",
        fmt: str = "auto",
        columns: Sequence[str] | None = None,
        max_doc_bytes: int = MAX_DOC_BYTES,
        csv_delimiter: str | None = None,
        rejects: RejectLog | None = None,
    ) -> None:
        self.skipped: list[str] = []  # gristmill output folders found inside an input folder, left out
        self.files: list[InputFile] = resolve_inputs(
            [inputs] if isinstance(inputs, str) else list(inputs), fmt, skipped=self.skipped
        )
        self.spec = ParseSpec(text_field, id_field, max_doc_bytes)
        self.columns = None if columns is None else list(dict.fromkeys([text_field, id_field, *columns]))
        self.csv_delimiter = csv_delimiter
        self.rejects = rejects if rejects is not None else RejectLog()

    def __iter__(self) -> Iterator[DocumentBatch]:
        """The documents chunk by chunk; every reject goes to :attr:`rejects`."""
        for file, unit, parsed in self._parsed():
            self.rejects.records += parsed.records
            self.rejects.add(parsed.rejects)
            if parsed.table is not None and parsed.table.num_rows:
                yield self._batch(file, unit, parsed)

    def records(self, fields: Sequence[str] | None = None, *, generated_ids: bool = True) -> Iterator[dict | None]:
        """Every input record in file order: a document as a dict (only ``fields`` when given), or None for a
        record that was rejected (counted and kept in :attr:`rejects` as it is yielded, so a caller that stops
        early has counted exactly what it saw). With ``generated_ids=False`` a document whose input gave no id
        has none (``id`` is absent from a full row and None among ``fields``)."""
        for file, unit, parsed in self._parsed():
            batch = self._batch(file, unit, parsed) if parsed.table is not None and parsed.table.num_rows else None
            rows = batch.table.to_pylist() if batch is not None else []
            if not generated_ids and batch is not None:
                for row, made in zip(rows, batch.generated_ids):
                    if made:
                        row.pop("id", None)
            if fields is not None:
                rows = [{k: row.get(k) for k in fields} for row in rows]
            if not parsed.rejects:
                for row in rows:
                    self.rejects.records += 1
                    yield row
                continue
            rejects = sorted(parsed.rejects, key=lambda r: -1 if r["location"] is None else r["location"])
            locs = batch.locations if batch is not None else np.zeros(0, np.int64)
            i = j = 0
            while i < len(rows) or j < len(rejects):
                loc = rejects[j]["location"] if j < len(rejects) else None
                if j < len(rejects) and (i == len(rows) or loc is None or loc < locs[i]):
                    self.rejects.records += 1
                    self.rejects.add([rejects[j]])
                    j += 1
                    yield None
                else:
                    self.rejects.records += 1
                    i += 1
                    yield rows[i - 1]

    def _parsed(self) -> Iterator[tuple[InputFile, str, Parsed]]:
        for index, file in enumerate(self.files):
            columns = self._projection(file)
            for raw in iter_chunks(index, file, CHUNK_ROWS, CHUNK_BYTES, self.csv_delimiter, columns):
                yield file, "row" if raw.kind == "arrow" else "line", parse_chunk(raw, file, self.spec)

    def _projection(self, file: InputFile) -> list[str] | None:
        """The columns to read from a Parquet file: all of them when its text column is missing, so that the
        reject names the columns the file has."""
        if self.columns is None or file.format != "parquet":
            return None
        try:
            names = pq.read_schema(file.path).names
        except (pa.ArrowException, OSError):
            return None  # the chunker reports the unreadable file
        return self.columns if self.spec.text_field in names else None

    @staticmethod
    def _batch(file: InputFile, unit: str, parsed: Parsed) -> DocumentBatch:
        table = parsed.table
        assert table is not None and parsed.locations is not None
        made = [_make_id(file.relpath, unit, int(loc)) for loc in parsed.locations]
        generated = np.array(table.column("id").to_pylist(), dtype=object) == np.array(made, dtype=object)
        return DocumentBatch(table, file, unit, parsed.locations, np.asarray(generated, dtype=bool))
