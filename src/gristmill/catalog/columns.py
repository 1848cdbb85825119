"""Columns added to a version as side files: only the new columns, row-aligned with each data file.

A version made by :func:`add_columns` is a new version of the same dataset that *shares* its parent's data
files (the same store keys and hashes: the text is never rewritten) and lists, under ``side_files`` in its
manifest, one Parquet file per data file holding only the added columns, in that data file's row order::

    "side_files": [{"path": "datasets/web/data/<commit>/_columns/part-000000.parquet", "hash": "xxh3-128:..",
                    "bytes": 2113, "rows": 500, "file": 0, "columns": ["train.r1.loss", ...]}, ...]

``file`` is the index of the data file in ``files``. A later ``add_columns`` carries the earlier side files
forward, so a version's columns are its data files' columns plus every side file's. Every gristmill read of
a version (:meth:`Version.to_arrow`, ``catalog://`` inputs of recipes and training, ``export``) joins them
back as ordinary columns; a reader without gristmill joins data file ``i`` with its side files by position
(DuckDB ``POSITIONAL JOIN``) or by id (docs/catalog.md).

The version's ``lineage`` says where the columns came from (for training signals: ``{"kind": "run", ...}``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from gristmill import __version__
from gristmill.errors import GristmillError, UsageError

if TYPE_CHECKING:
    from gristmill.catalog.core import Catalog, Version

SIDE_DIR = "_columns"
BATCH_ROWS = 8192


def joined_fingerprint(data_hash: str, side_hashes: Sequence[str]) -> str:
    """The fingerprint of a data file read together with its side files (its hash alone when it has none).

    Computable from a manifest without reading any file, so a run that read ``catalog://web@2`` (the text
    of ``web@1`` plus columns) is traced back to ``web@2``, not to ``web@1``."""
    if not side_hashes:
        return data_hash
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest("|".join([data_hash, *side_hashes]).encode())


def is_columns_version(manifest: dict) -> bool:
    """Made by :func:`add_columns` (its parent's rows plus columns), not by a run of a recipe."""
    return str(manifest.get("recipe", {}).get("name") or "").startswith("add_columns:")


def side_files_of(manifest: dict, index: int) -> list[dict]:
    """The side files of data file ``index``, oldest first."""
    return [s for s in manifest.get("side_files", []) if s["file"] == index]


def side_columns(manifest: dict) -> list[str]:
    return [c for s in manifest.get("side_files", []) if s["file"] == 0 for c in s["columns"]]


def content_hash(manifest: dict, columns: Sequence[str] | None = None) -> str:
    """A hash of what a reader of the version sees: its data files and side files (all of them, or only the
    side files that hold one of ``columns``). Two versions with the same text share the data part."""
    want = None if columns is None else set(columns)
    parts = [f["hash"] for f in manifest["files"]]
    parts += [s["hash"] for s in manifest.get("side_files", []) if want is None or want & set(s["columns"])]
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest("\n".join(parts).encode())


class _Rows:
    """Hand out exactly ``n`` rows at a time from a stream of record batches of any sizes."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self._buffer: list[pa.RecordBatch] = []
        self._held = 0

    def take(self, n: int) -> pa.Table:
        while self._held < n:
            try:
                rb = next(self._batches)
            except StopIteration:
                break
            self._buffer.append(rb)
            self._held += rb.num_rows
        if self._held < n:
            raise GristmillError(f"a side file holds fewer rows than its data file (short by {n - self._held})")
        table = pa.Table.from_batches(self._buffer)
        out, rest = table.slice(0, n), table.slice(n)
        self._buffer, self._held = rest.to_batches(), rest.num_rows
        return out


def iter_joined(data_path: str, side_paths: Sequence[str], columns: Sequence[str] | None = None,
                batch_size: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """Batches of a data file with its side files' columns appended, streamed (memory of one batch)."""
    data = pq.ParquetFile(data_path)
    sides = [pq.ParquetFile(p) for p in side_paths]
    for p, side in zip(side_paths, sides, strict=True):
        if side.metadata.num_rows != data.metadata.num_rows:
            raise GristmillError(f"side file {p} holds {side.metadata.num_rows} rows, its data file {data_path} "
                                 f"{data.metadata.num_rows}: the version is damaged")
    want = None if columns is None else list(columns)
    data_cols = [c for c in data.schema_arrow.names if want is None or c in want]
    side_cols = [[c for c in s.schema_arrow.names if want is None or c in want] for s in sides]
    readers = [_Rows(s.iter_batches(batch_size=batch_size, columns=cols)) for s, cols in zip(sides, side_cols, strict=True)
               if cols]
    used = [cols for cols in side_cols if cols]
    for rb in data.iter_batches(batch_size=batch_size, columns=data_cols):
        table = pa.Table.from_batches([rb])
        for reader, cols in zip(readers, used, strict=True):
            part = reader.take(rb.num_rows)
            for c in cols:
                table = table.append_column(part.schema.field(c), part.column(c))
        yield table


def iter_version(version: Version, columns: Sequence[str] | None = None,
                 batch_size: int = BATCH_ROWS) -> Iterator[tuple[int, pa.Table]]:
    """(first row of the batch in the version, batch) over every data file in order, side columns joined."""
    row = 0
    sides = version.local_files("side_files") if version.manifest.get("side_files") else []
    by_file: dict[int, list[str]] = {}
    for entry, path in zip(version.manifest.get("side_files", []), sides, strict=True):
        by_file.setdefault(entry["file"], []).append(path)
    for i, path in enumerate(version.local_files()):
        for table in iter_joined(path, by_file.get(i, []), columns, batch_size):
            yield row, table
            row += table.num_rows


def read_file(version: Version, index: int, path: str) -> pa.Table:
    """Data file ``index`` (already fetched to ``path``) with its side columns, whole."""
    sides = [version.catalog._fetch_verified(s, version.ref) for s in side_files_of(version.manifest, index)]
    tables = list(iter_joined(path, sides))
    if not tables:
        return pq.read_table(path)
    return pa.concat_tables(tables)


def _signal_table(columns: pa.Table | str | os.PathLike) -> pa.Table:
    if isinstance(columns, pa.Table):
        return columns
    try:
        return pq.read_table(columns)
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"cannot read the columns to add from {columns}: {exc}") from None


def _positions(version: Version, files: list[str], ids: pa.Array, id_field: str) -> list[pa.Array] | None:
    """For each data file, the rows of ``ids`` that hold its documents, in its row order; None when they
    already are in the version's order (the fast path: a plain slice). Raises when the ids do not match."""
    in_order, seen, per_file = True, 0, []
    missing: list[str] = []
    for path in files:
        file_ids = pq.read_table(path, columns=[id_field]).column(id_field).combine_chunks().cast(pa.string())
        n = len(file_ids)
        if in_order and seen + n <= len(ids) and ids.slice(seen, n).equals(file_ids):
            per_file.append(pa.array(range(seen, seen + n), pa.int64()))
        else:
            in_order = False
            pos = pc.index_in(file_ids, value_set=ids)
            if pos.null_count:
                missing += file_ids.filter(pc.is_null(pos)).to_pylist()[: 5 - len(missing)]
            per_file.append(pos)
        seen += n
    if missing:
        raise UsageError(f"the columns to add have no row for {len(missing)}+ documents of {version.ref} "
                         f"(e.g. {id_field} {', '.join(map(repr, missing[:5]))}); they must cover every document")
    if len(ids) != seen:
        raise UsageError(f"the columns to add hold {len(ids)} rows, {version.ref} has {seen} documents: "
                         f"{len(ids) - seen} of their {id_field}s are not documents of this version")
    return None if in_order else per_file


def add_columns(catalog: Catalog, ref: str, columns: pa.Table | str | os.PathLike, lineage: dict[str, Any], *,
                id_field: str | None = None, tags: Sequence[str] = ()) -> Version:
    """Commit the next version of ``ref``'s dataset: ``ref``'s rows plus the columns of ``columns`` (a table or a
    Parquet file with the version's id field and the new columns), matched by id.

    Only the new columns are written (one side file per data file); ids must match the version's exactly
    (each document once, no others), new names must not exist yet, and nothing is written otherwise."""
    base = catalog.get(ref)
    catalog.store.check_writable()
    id_field = id_field or base.manifest.get("id_field") or "id"
    table = _signal_table(columns)
    if id_field not in table.column_names:
        raise UsageError(f"the columns to add have no {id_field!r} column (the id field of {base.ref}) to match "
                         f"documents by; found {', '.join(table.column_names)}")
    if id_field not in {f["name"] for f in base.manifest["schema"]}:
        raise UsageError(f"{base.ref} has no {id_field!r} column to match documents by")
    new = [c for c in table.column_names if c != id_field]
    if not new:
        raise UsageError("no column to add: the table holds only the id field")
    existing = {f["name"] for f in base.manifest["schema"]} | set(side_columns(base.manifest))
    clash = [c for c in new if c in existing]
    if clash:
        raise UsageError(f"{base.ref} already has column(s) {', '.join(clash)}; add them under another name "
                         f"(for training signals: another run name)")
    if not isinstance(lineage, dict) or "kind" not in lineage:
        raise UsageError("lineage must be a dict with a 'kind' (e.g. {'kind': 'run', ...})")
    ids = table.column(id_field).combine_chunks().cast(pa.string())
    if pc.count_distinct(ids).as_py() != len(ids) or ids.null_count:
        raise UsageError(f"the columns to add repeat a {id_field} (or hold a null one): each document once")
    files = base.local_files()
    positions = _positions(base, files, ids, id_field)  # every check is done before anything is written
    values = table.select(new)
    commit = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    sides, start = [], 0
    with tempfile.TemporaryDirectory(prefix="gristmill-columns-") as tmp:
        paths = []
        for i in range(len(files)):
            rows = pq.ParquetFile(files[i]).metadata.num_rows
            part = values.slice(start, rows) if positions is None else values.take(positions[i])
            start += rows
            path = Path(tmp) / f"part-{i:06d}.parquet"
            pq.write_table(part, path, compression="zstd")
            paths.append(path)
        uploaded = catalog._upload(paths, f"datasets/{base.name}/data/{commit}/{SIDE_DIR}")
    for i, entry in enumerate(uploaded):
        sides.append(dict(entry, file=i, columns=new))
    manifest = dict(base.manifest)
    manifest.update({
        "commit": commit,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gristmill_version": __version__,
        "schema": base.manifest["schema"] + [{"name": c, "type": str(values.schema.field(c).type)} for c in new],
        "side_files": list(base.manifest.get("side_files", [])) + sides,
        "dropped_files": [],
        "rejected_files": [],
        "recipe": {"name": f"add_columns:{lineage['kind']}", "text": None,
                   "hash": "xxh3-128:" + xxhash.xxh3_128_hexdigest(json.dumps(lineage, sort_keys=True).encode())},
        "operators": [],
        "parents": [{"kind": "version", "ref": base.ref}],
        "lineage": lineage,
        "counts": {"input": base.manifest["rows"], "kept": base.manifest["rows"], "dropped": {"total": 0},
                   "rejected": {"total": 0}},
        "steps": [],
    })
    version = catalog._claim(base.name, manifest)
    for t in tags:
        catalog.tag(version.ref, t)
    return version
