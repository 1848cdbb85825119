"""One schema for a run's Parquet output, even when its inputs disagreed on a field's type.

Chunks are read and written independently, so a field that is an integer in one input file and a string
in another (or absent, or all-null, in some) ends up with different types in different output parts, and
``pyarrow.dataset`` / Spark / DuckDB refuse to read the folder as one table. After the last stage the
parts' footers are compared; when they differ, the types are unified (Arrow's permissive promotion:
int32 + int64 → int64, int + float → double, null + T → T; fields that still disagree become strings)
and only the disagreeing parts are rewritten, each atomically. Rewriting is idempotent, so a run
killed in the middle finishes the job on resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.io.writers import write_parquet


def unified_type(types: list[pa.DataType]) -> pa.DataType:
    """The narrowest type every one of ``types`` converts to without loss of meaning; string as the fallback."""
    try:
        return pa.unify_schemas([pa.schema([("f", t)]) for t in types], promote_options="permissive").field("f").type
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.string()


def as_type(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """``column`` converted to ``target``; values that have no direct cast to string are written as JSON."""
    if column.type == target:
        return column
    try:
        return pc.cast(column, target)
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if not pa.types.is_string(target):
            raise
        values = [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in column.to_pylist()]
        return pa.chunked_array([pa.array(values, pa.string())])


def unify_parts(folder: Path, compression: str = "zstd") -> dict[str, dict[str, Any]]:
    """Give every ``part-*.parquet`` in ``folder`` the same schema; returns {field: {types, unified}} for
    the fields that disagreed (empty when the parts already agree)."""
    parts = sorted(folder.glob("part-*.parquet"))
    schemas = {p: pq.read_schema(p) for p in parts}
    order: list[str] = []
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas.values():
        for f in schema:
            if f.name not in types:
                order.append(f.name)
                types[f.name] = []
            if f.type not in types[f.name]:
                types[f.name].append(f.type)
    target = pa.schema([(name, unified_type(types[name])) for name in order])
    report = {
        name: {"types": sorted(str(t) for t in types[name]), "unified": str(target.field(name).type)}
        for name in order if len(types[name]) > 1
    }
    if not report:
        return {}
    for path, schema in schemas.items():
        if schema.remove_metadata().equals(target):
            continue
        table = pq.read_table(path)
        columns = [
            as_type(table.column(f.name), f.type) if f.name in schema.names else pa.nulls(len(table), f.type)
            for f in target
        ]
        write_parquet(path, pa.Table.from_arrays(columns, schema=target), compression)
    return report
