"""The columns of a recipe's input, when they can be known before the run reads a row.

A keep rule may name a column of the input as well as a signal of an earlier step: a training signal
written back into a catalog version (``train.r1.excess_loss``), or a signal an earlier recipe kept
(``gopher.mean_word_length`` in its output). To keep such rules checked at compile time, with a
did-you-mean on a typo, compile asks for the input's columns here. Parquet files (and gristmill output
folders of Parquet) carry a schema in their footers, and a catalog version lists its columns in its
manifest, so both are read without reading any data. JSONL and CSV carry none: their fields are read with
``field('name')``, checked when the data is seen.
"""

from __future__ import annotations

import functools
import os

import pyarrow.parquet as pq

from gristmill.errors import GristmillError


def input_columns(paths: str | list[str] | None, fmt: str = "auto", base_dir: str | None = None) -> frozenset[str] | None:
    """The union of the input's column names, or None when they cannot be known before reading.

    None also when the input cannot be resolved now (a path that does not exist yet): the run reports that
    itself, with its own message, when it starts."""
    if not paths:
        return None
    specs = [paths] if isinstance(paths, str) else list(paths)
    names: set[str] = set()
    files = [s for s in specs if not s.startswith("catalog://")]
    try:
        for spec in specs:
            if spec.startswith("catalog://"):
                names |= catalog_columns(spec)
        if files:
            from gristmill.io.inputs import resolve_inputs

            for f in resolve_inputs(files, fmt, base_dir):
                if f.format != "parquet":
                    return None
                st = os.stat(f.path)
                names |= _parquet_columns(f.path, st.st_size, st.st_mtime_ns)
    except (GristmillError, OSError, ValueError):
        return None
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _parquet_columns(path: str, size: int, mtime_ns: int) -> frozenset[str]:
    """A file's column names from its footer, remembered per (path, size, mtime): a run compiles its recipe
    in the main process and again in each worker, and forked workers inherit what the first read."""
    return frozenset(pq.read_schema(path).names)


def catalog_columns(ref: str) -> set[str]:
    """The columns a catalog version reads as: its data columns and any side columns written back to it.

    Read from the manifest alone (no data file is fetched or hashed): ``schema`` lists the data files'
    columns, and each entry of ``side_files`` (columns added to the version, docs/catalog.md) its own."""
    from gristmill.catalog.core import Catalog

    manifest = Catalog().get(ref).manifest
    names = {f["name"] for f in manifest.get("schema", [])}
    for entry in manifest.get("side_files", []) or []:
        if isinstance(entry, dict):
            names |= {str(c) for c in entry.get("columns", []) or []}
    return names
