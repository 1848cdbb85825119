"""Per-document provenance: the input file and line (JSONL, CSV) or row (Parquet) each document came from.

An id that gristmill generates carries its location (``a.jsonl#L42``); an id the input gives does not. So
every input chunk writes a side table ``id -> (source, unit, location)`` for every document it parsed, kept
or later dropped, under ``OUT/.gristmill/provenance/``. The source and unit columns are dictionary-encoded
(one value per chunk), so the table costs about what its id column costs. ``gristmill catalog trace``
reads it, carried into the catalog version beside the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.io.writers import write_parquet

PROVENANCE_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("source", pa.dictionary(pa.int32(), pa.string())),
    ("unit", pa.dictionary(pa.int32(), pa.string())),
    ("location", pa.int64()),
])
UNITS = {"lines": "line", "rows": "line", "arrow": "row"}  # raw chunk kind -> what its locations count


def _constant(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))


def provenance_table(ids: pa.ChunkedArray | pa.Array, source: str, unit: str, locations: np.ndarray) -> pa.Table:
    """One row per parsed document: its id, the input's relative path, ``line`` or ``row``, and where."""
    n = len(ids)
    if len(locations) != n:
        raise ValueError(f"provenance: {n} ids but {len(locations)} locations")
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    return pa.Table.from_arrays([ids.cast(pa.string()), _constant(source, n), _constant(unit, n),
                                 pa.array(locations, pa.int64())], schema=PROVENANCE_SCHEMA)


def write_provenance(path: str | Path, table: pa.Table) -> None:
    write_parquet(path, table)


def find_ids(paths: list[str], doc_id: str) -> list[dict]:
    """The provenance rows of ``doc_id`` in the tables at ``paths`` (an id may repeat in the input)."""
    found = []
    for p in paths:
        table = pq.read_table(p)
        hits = pc.equal(table.column("id"), pa.scalar(doc_id, pa.string()))
        if pc.any(hits).as_py():
            found += [{"source": r["source"], "unit": r["unit"], "location": r["location"]}
                      for r in table.filter(hits).to_pylist()]
    return found
