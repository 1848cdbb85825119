"""Atomic file writes: write under a temporary name in the same folder, fsync, then rename.

A reader (or a resumed run) therefore sees a file whole or not at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
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


def write_parquet(path: str | Path, table: pa.Table, compression: str = "zstd") -> None:
    atomic_write(path, lambda f: pq.write_table(table, f, compression=compression))


def write_jsonl(path: str | Path, rows: list[dict] | pa.Table, gzip_level: int | None = None) -> None:
    records = rows.to_pylist() if isinstance(rows, pa.Table) else rows
    payload = b"".join(orjson.dumps(r, default=str, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for r in records)
    if gzip_level is not None:
        import gzip

        payload = gzip.compress(payload, compresslevel=gzip_level, mtime=0)
    atomic_write(path, lambda f: f.write(payload))


def write_table(path: str | Path, table: pa.Table, fmt: str, compression: str = "zstd") -> None:
    """Write ``table`` as Parquet or JSONL (``.jsonl`` or ``.jsonl.gz`` by the path's name)."""
    if fmt == "parquet":
        write_parquet(path, table, compression)
    else:
        write_jsonl(path, table, gzip_level=6 if str(path).endswith(".gz") else None)


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
