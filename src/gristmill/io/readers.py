"""Split input files into chunks of raw records, in the main process, without parsing them.

A chunk is the unit of parallel work, of resume and of output: chunk boundaries depend only on the file's
content and the chunk limits (never on read sizes or the worker count), so a rerun cuts the same chunks and
numbers them the same way. Parsing and validation happen in the workers (:mod:`gristmill.io.parse`).

Whatever cannot be read becomes a chunk that carries only an error (a whole file that is not what its
name says, a truncated compressed stream), so that it reaches the rejects with its location.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from gristmill.errors import GristmillError
from gristmill.io.inputs import InputFile

_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"PAR1": "parquet"}


@dataclass
class RawChunk:
    """Raw records of one chunk, still unparsed.

    ``kind``: ``lines`` (``data`` is bytes of whole lines), ``arrow`` (``data`` is a pyarrow Table),
    ``rows`` (``data`` is a list of (line number, dict)), or ``error`` (nothing readable; ``error`` says why).
    ``first`` is the number of the first record: a 1-based line, or a 0-based Parquet row.
    ``tail_error`` is a problem found right after this chunk's records (e.g. a truncated stream).
    """

    file_index: int
    kind: str
    first: int
    data: Any = None
    error: str | None = None
    tail_error: str | None = None
    tail_location: int | None = None
    nbytes: int = 0
    extra: dict = field(default_factory=dict)


def sniff(path: str) -> str | None:
    """What the first bytes say the file is: gzip, zstd, parquet, or None (text or unknown)."""
    with open(path, "rb") as f:
        head = f.read(4)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _mismatch(file: InputFile) -> str | None:
    """Why the file's content contradicts its name, or None."""
    if file.size == 0:
        return "empty file"
    seen = sniff(file.path)
    name = file.relpath
    if file.format == "parquet":
        if seen != "parquet":
            return f"{name} is named as Parquet but is not a Parquet file (content looks like {seen or 'text'})"
        return None
    if file.compression and seen != file.compression:
        return f"{name} is named as {file.compression} but its content is {seen or 'not compressed'}"
    if not file.compression and seen in ("gzip", "zstd"):
        return f"{name} has no compression suffix but its content is {seen}-compressed; rename it (.gz/.zst)"
    if seen == "parquet":
        return f"{name} is named as {file.format} but its content is Parquet; rename it .parquet"
    return None


def iter_chunks(
    file_index: int, file: InputFile, chunk_rows: int, chunk_bytes: int, csv_delimiter: str | None = None,
    columns: Sequence[str] | None = None,
) -> Iterator[RawChunk]:
    """Cut one input file into raw chunks. ``columns``: read only those of them a Parquet file has (a reader
    that needs a few fields skips the rest of a wide file); text formats are always read whole."""
    problem = _mismatch(file)
    if problem:
        yield RawChunk(file_index, "error", first=0, error=problem)
        return
    if file.format == "parquet":
        yield from _parquet_chunks(file_index, file, chunk_rows, columns)
    elif file.format in ("csv", "tsv"):
        delim = csv_delimiter or ("\t" if file.format == "tsv" else ",")
        yield from _csv_chunks(file_index, file, chunk_rows, delim)
    else:
        yield from _line_chunks(file_index, file, chunk_rows, chunk_bytes)


class _Decompressing(io.RawIOBase):
    """Incremental decompression that hands out every byte decoded before a truncation or corruption.

    ``gzip.GzipFile`` discards the last decoded block when it meets a truncated stream; this reader keeps it,
    so the complete lines before the cut are processed and only the partial tail is rejected.
    """

    def __init__(self, path: str, compression: str) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._compression = compression
        self._pending = b""
        self._done = False
        self.error: str | None = None  # set instead of raising, so buffered readers keep the data before it
        self._new_member()

    def _new_member(self) -> None:
        if self._compression == "gzip":
            self._d: Any = zlib.decompressobj(wbits=31)
        else:
            self._d = zstandard.ZstdDecompressor().decompressobj()

    def _member_finished(self) -> bool:
        return bool(self._d.eof)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while not self._pending and not self._done:
            block = self._raw.read(1 << 20)
            if not block:
                self._done = True
                if not self._member_finished():
                    self.error = "compressed stream ended before its end marker"
                break
            try:
                out = self._d.decompress(block)
            except (zlib.error, zstandard.ZstdError) as exc:
                self._done = True
                self.error = f"corrupt compressed data: {exc}"
                break
            while self._member_finished() and self._d.unused_data:
                rest = self._d.unused_data
                self._new_member()  # concatenated members (gzip -c a b > c), as gzip allows
                out += self._d.decompress(rest)
            self._pending = out
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(file: InputFile) -> io.BufferedIOBase:
    """The decompressed byte stream of a text input."""
    if file.compression in ("gzip", "zstd"):
        return io.BufferedReader(_Decompressing(file.path, file.compression), buffer_size=1 << 20)
    return open(file.path, "rb")  # noqa: SIM115


_STREAM_ERRORS = (EOFError, OSError, zlib.error, zstandard.ZstdError)


def _line_chunks(file_index: int, file: InputFile, chunk_rows: int, chunk_bytes: int) -> Iterator[RawChunk]:
    buf = bytearray()
    ends = np.empty(0, dtype=np.int64)  # positions of the newlines in buf, found once per byte read
    line = 1  # number of the first line in buf
    total = 0
    error: str | None = None
    with open_binary(file) as stream:
        eof = False
        while not eof:
            try:
                block = stream.read(1 << 22)
            except _STREAM_ERRORS as exc:
                error = f"{file.compression or 'file'} stream is truncated or corrupt: {exc}"
                block = b""
            if not block:
                eof = True
                raw_error = getattr(getattr(stream, "raw", None), "error", None)
                if raw_error and not error:
                    error = f"{file.compression} stream is truncated or corrupt: {raw_error}"
            else:
                found = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + len(buf)
                ends = np.concatenate([ends, found]) if len(ends) else found
                buf += block
                total += len(block)
            # emit every complete chunk the buffer holds: content alone decides where chunks end
            start = 0
            k = 0  # index into ends of the first line end after start
            while k < len(ends):
                by_rows = k + chunk_rows - 1
                by_bytes = int(np.searchsorted(ends, start + chunk_bytes - 1, side="left"))
                cut_idx = min(by_rows, by_bytes)
                if cut_idx >= len(ends):
                    break
                cut = int(ends[cut_idx]) + 1
                yield RawChunk(file_index, "lines", first=line, data=bytes(buf[start:cut]), nbytes=cut - start)
                line += cut_idx - k + 1
                start = cut
                k = cut_idx + 1
            if start:
                del buf[:start]
                ends = ends[k:] - start
            if error:
                break
    if error:
        # the complete lines read before the failure are kept; the partial last line is lost with the tail
        cut = int(ends[-1]) + 1 if len(ends) else 0
        complete = bytes(buf[:cut])
        yield RawChunk(
            file_index,
            "lines",
            first=line,
            data=complete,
            nbytes=len(complete),
            tail_error=f"{error} (after line {line + len(ends) - 1}; {len(buf) - cut} bytes of a partial line lost)",
            tail_location=line + len(ends),
        )
        return
    if buf:
        yield RawChunk(file_index, "lines", first=line, data=bytes(buf), nbytes=len(buf))
    elif total == 0:
        yield RawChunk(file_index, "error", first=0, error="empty file (no data after decompression)")


def _parquet_chunks(
    file_index: int, file: InputFile, chunk_rows: int, columns: Sequence[str] | None = None
) -> Iterator[RawChunk]:
    try:
        pf = pq.ParquetFile(file.path)
    except (pa.ArrowException, OSError) as exc:
        yield RawChunk(file_index, "error", first=0, error=f"unreadable Parquet file: {exc}")
        return
    if pf.metadata.num_rows == 0:
        yield RawChunk(file_index, "error", first=0, error="empty file (Parquet with 0 rows)")
        return
    row = 0
    wanted = None if columns is None else [c for c in pf.schema_arrow.names if c in columns]
    try:
        if file.columns_from:  # a catalog version's data file with its added columns (catalog/columns.py)
            from gristmill.catalog.columns import iter_joined

            batches = iter_joined(file.path, file.columns_from, columns=columns, batch_size=chunk_rows)
        else:
            batches = (pa.Table.from_batches([rb]) for rb in pf.iter_batches(batch_size=chunk_rows, columns=wanted))
        for table in batches:
            yield RawChunk(file_index, "arrow", first=row, data=table, nbytes=table.nbytes)
            row += table.num_rows
    except (pa.ArrowException, OSError, GristmillError) as exc:  # GristmillError: a side file out of step
        yield RawChunk(file_index, "error", first=row, error=f"unreadable Parquet data from row {row} on: {exc}")


def _csv_chunks(file_index: int, file: InputFile, chunk_rows: int, delimiter: str) -> Iterator[RawChunk]:
    rows: list[tuple[int, Any]] = []
    first = 1
    with open_binary(file) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            yield RawChunk(file_index, "error", first=0, error="empty file (no CSV header)")
            return
        except (csv.Error, *_STREAM_ERRORS) as exc:
            yield RawChunk(file_index, "error", first=1, error=f"unreadable CSV header: {exc}")
            return
        line = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                rows.append((reader.line_num, ("error", f"malformed CSV: {exc}")))
                continue
            except _STREAM_ERRORS as exc:
                yield RawChunk(
                    file_index, "rows", first=first, data=rows, extra={"header": header},
                    tail_error=f"{file.compression or 'file'} stream is truncated or corrupt: {exc}",
                    tail_location=reader.line_num + 1,
                )
                return
            rows.append((line, values))
            line = reader.line_num + 1
            if len(rows) >= chunk_rows:
                yield RawChunk(file_index, "rows", first=first, data=rows, extra={"header": header})
                rows, first = [], line
    if rows:
        yield RawChunk(file_index, "rows", first=first, data=rows, extra={"header": header})
