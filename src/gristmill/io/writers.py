"""Atomic file writes: write under a temporary name in the same folder, fsync, then rename.

A reader (or a resumed run) therefore sees a file whole or not at all.

JSON has no NaN or Infinity (orjson writes them as ``null``), so the JSONL writer writes a non-finite float as
its JSON-style text, ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, and returns how many it wrote per field for
the run summary (``numbers_kept_as_text``): the same form and the same count as a JSON input's NaN gets when it
is read (:mod:`gristmill.io.json_guard`). Finite numbers beside them stay numbers; Parquet keeps NaN as NaN.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TMP_SUFFIX = ".tmp"


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=2, sort_keys=False, default=str).encode() + b"\n"))


def write_parquet(path: str | Path, table: pa.Table, compression: str = "zstd", **options: Any) -> None:
    """``options`` go to ``pq.write_table`` (``use_dictionary``, ``write_statistics``)."""
    atomic_write(path, lambda f: pq.write_table(table, f, compression=compression, **options))


def _float_leaves(arr: pa.Array) -> list[pa.Array]:
    """The floating-point values anywhere inside ``arr`` (through lists, structs and maps)."""
    t = arr.type
    if pa.types.is_floating(t):
        return [arr]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _float_leaves(arr.flatten())
    if pa.types.is_map(t):
        return _float_leaves(arr.keys) + _float_leaves(arr.items)
    if pa.types.is_struct(t):
        return [leaf for i in range(t.num_fields) for leaf in _float_leaves(arr.field(i))]
    return []


def _non_finite(col: pa.ChunkedArray) -> int:
    """How many NaN/±Infinity values ``col`` holds, at any depth."""
    return sum(int(pc.sum(pc.invert(pc.is_finite(leaf))).as_py() or 0) for chunk in col.chunks
               for leaf in _float_leaves(chunk) if len(leaf))


def _as_text(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its JSON-style text, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, tuple):  # a map's (key, value) pairs
        return tuple(_as_text(v) for v in value)
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    return value


def jsonl_records(table: pa.Table) -> tuple[list[dict], dict[str, int]]:
    """The rows as JSON-ready dicts, non-finite floats as text, and how many were turned to text per field."""
    records = table.to_pylist()
    counts = {name: n for name, col in zip(table.column_names, table.columns) if (n := _non_finite(col))}
    for name in counts:
        for r in records:
            r[name] = _as_text(r[name])
    return records, counts


def write_jsonl(path: str | Path, rows: list[dict] | pa.Table, gzip_level: int | None = None) -> dict[str, int]:
    """Write JSON lines; returns the non-finite floats written as text per field (a table's only)."""
    records, as_text = jsonl_records(rows) if isinstance(rows, pa.Table) else (rows, {})
    payload = b"".join(orjson.dumps(r, default=str, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for r in records)
    if gzip_level is not None:
        import gzip

        payload = gzip.compress(payload, compresslevel=gzip_level, mtime=0)
    atomic_write(path, lambda f: f.write(payload))
    return as_text


def write_table(path: str | Path, table: pa.Table, fmt: str, compression: str = "zstd") -> dict[str, int]:
    """Write ``table`` as Parquet or JSONL (``.jsonl`` or ``.jsonl.gz`` by the path's name); returns the
    non-finite floats written as text per field (JSONL only: Parquet keeps them as they are)."""
    if fmt == "parquet":
        write_parquet(path, table, compression)
        return {}
    return write_jsonl(path, table, gzip_level=6 if str(path).endswith(".gz") else None)


def clean_temporaries(folder: str | Path) -> int:
    """Remove temporaries left by a killed run; returns how many."""
    folder = Path(folder)
    if not folder.exists():
        return 0
    n = 0
    for p in folder.rglob(f"*{TMP_SUFFIX}"):
        p.unlink(missing_ok=True)
        n += 1
    return n
