"""Reading one small Parquet file: the engine's intermediates, a version's dedup state, ledgers and chunks."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq


def read_parquet(source: str | os.PathLike[str] | pq.ParquetFile, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file (a path, or one already opened), without the dataset layer and on this thread: these
    are many small files, which pyarrow's thread pool read 2-5x slower on two cores (waking its threads costs
    more than decoding a few row groups: the 40 MinHash state files of a 145k-document version in 0.05-0.3 s,
    on one thread 0.035-0.06 s)."""
    file = source if isinstance(source, pq.ParquetFile) else pq.ParquetFile(source)
    return file.read(columns=columns, use_threads=False)
