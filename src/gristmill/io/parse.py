"""Turn a raw chunk into a table of valid documents plus the rejects, each with its location and reason.

Runs in the workers. Every record of the chunk ends either as a row of the table or as a reject; blank
lines of a JSONL file hold no record and are only counted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from gristmill.io.chat import MESSAGES_TYPE, ChatError, chat_fields
from gristmill.io.inputs import InputFile
from gristmill.io.json_guard import (
    MAX_NESTING,
    json_text,
    loads_exact,
    may_lose_numbers,
    needs_exact_parse,
    too_deep_lines,
)
from gristmill.io.readers import RawChunk

PREVIEW_CHARS = 4096
_BOM = b"\xef\xbb\xbf"
REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("unit", pa.string()),
        ("location", pa.int64()),
        ("kind", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("raw_bytes", pa.int64()),
    ]
)


@dataclass
class ParseSpec:
    text_field: str = "text"
    id_field: str = "id"
    max_doc_bytes: int = 16 << 20
    chat: bool = False  # records are conversations (see gristmill.io.chat); the text field is their rendering


@dataclass
class Parsed:
    table: pa.Table | None
    rejects: list[dict] = field(default_factory=list)
    records: int = 0  # input units seen: rows plus unreadable units
    blank_lines: int = 0
    coerced_fields: list[str] = field(default_factory=list)
    numbers_as_text: dict[str, int] = field(default_factory=dict)  # per field: numbers kept as their JSON text
    locations: np.ndarray | None = None  # per table row: its line (1-based) or Parquet row (0-based) in the file


def _preview(raw: bytes | str | Any) -> tuple[str, int]:
    if isinstance(raw, bytes):
        return raw[:PREVIEW_CHARS].decode("utf-8", errors="replace"), len(raw)
    if not isinstance(raw, str):
        try:
            raw = orjson.dumps(raw, default=str).decode()
        except TypeError:
            raw = repr(raw)
    return raw[:PREVIEW_CHARS], len(raw.encode("utf-8", errors="replace"))


def _reject(source: str, unit: str, location: int | None, reason: str, raw: Any = b"", kind: str | None = None) -> dict:
    preview, size = _preview(raw)
    return {
        "source": source,
        "unit": unit,
        "location": location,
        "kind": kind or reject_kind(reason),
        "reason": reason,
        "raw": preview,
        "raw_bytes": size,
    }


_KINDS = (
    ("chat record", "bad_chat"),
    ("nesting deeper than", "too_deep"),
    ("malformed JSON", "malformed_json"),
    ("invalid UTF-8", "invalid_utf8"),
    ("missing text field", "missing_text"),
    ("is null", "null_text"),
    ("(expected a string)", "non_string_text"),
    ("is empty", "empty_text"),
    ("over max_doc_bytes", "too_large"),
    ("truncated or corrupt", "truncated"),
    ("empty file", "empty_file"),
    ("named as", "format_mismatch"),
    ("its content is", "format_mismatch"),
    ("line is a JSON", "not_an_object"),
    ("invalid Unicode", "invalid_unicode"),
    ("fields, header has", "bad_csv_row"),
    ("malformed CSV", "bad_csv_row"),
    ("raised", "operator_error"),
)


def reject_kind(reason: str) -> str:
    """A short, stable category for a reject reason (reasons themselves carry details)."""
    for needle, kind in _KINDS:
        if needle in reason:
            return kind
    return "unreadable"


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def check_text(value: Any, spec: ParseSpec) -> str | None:
    """Why a text value cannot be a document, or None when it can."""
    name = spec.text_field
    if value is None:
        return f"text field {name!r} is null"
    if not isinstance(value, str):
        return f"text field {name!r} is {type(value).__name__} (expected a string)"
    if not value.strip():
        return f"text field {name!r} is empty"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return f"text field {name!r} holds invalid Unicode (a lone surrogate)"
    if size > spec.max_doc_bytes:
        return f"document is {_mib(size)}, over max_doc_bytes={_mib(spec.max_doc_bytes)}"
    return None


def parse_chunk(chunk: RawChunk, file: InputFile, spec: ParseSpec) -> Parsed:
    src = file.relpath
    if chunk.kind == "error":
        return Parsed(None, [_reject(src, "file", chunk.first or None, chunk.error or "unreadable")], records=1)
    if chunk.kind == "lines":
        out = _parse_lines(chunk, src, spec)
    elif chunk.kind == "arrow":
        out = _parse_arrow_chat(chunk, src, spec) if spec.chat else _parse_arrow(chunk, src, spec)
    else:
        out = _parse_csv_rows(chunk, src, spec)
    if chunk.tail_error:
        unit = "line" if chunk.kind in ("lines", "rows") else "row"
        out.rejects.append(_reject(src, unit, chunk.tail_location, chunk.tail_error))
        out.records += 1
    return out


def _make_id(src: str, unit: str, loc: int) -> str:
    return f"{src}#{'L' if unit == 'line' else 'R'}{loc}"


def _has_timestamp(t: pa.DataType) -> bool:
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        return True
    return any(_has_timestamp(t.field(i).type) for i in range(t.num_fields))


def _has_float(t: pa.DataType) -> bool:
    if pa.types.is_floating(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_float(t.value_type)
    return any(_has_float(t.field(i).type) for i in range(t.num_fields))


def _names_are_utf8(t: pa.DataType | pa.Schema) -> bool:
    """Whether every field name, nested ones included, is valid UTF-8 (Arrow's full validation skips names)."""
    fields = list(t) if isinstance(t, pa.Schema) else [t.field(i) for i in range(t.num_fields)]
    if isinstance(t, pa.DataType) and (pa.types.is_list(t) or pa.types.is_large_list(t)):
        return _names_are_utf8(t.value_type)
    try:
        return all(f.name is not None and _names_are_utf8(f.type) for f in fields)
    except UnicodeDecodeError:
        return False


def _parse_lines_fast(chunk: RawChunk, src: str, spec: ParseSpec, too_deep: dict[int, int]) -> Parsed | None:
    """Arrow's JSON reader for the common case: well-formed UTF-8 objects, no blank lines.

    Returns None whenever it cannot be sure of giving the per-line path's result (a blank line, invalid
    UTF-8, a parse error, an oversize line, a text column that is not a string, nested date inference, a
    line nested too deep for Arrow's recursive parser, a number a float column would change);
    the caller then takes the per-line path, which reports each bad line with its reason.
    """
    data: bytes = chunk.data
    if not data or too_deep or data[0] >= 0x80:  # Arrow skips a leading BOM (and more): per-line decides
        return None
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1))
        table.validate(full=True)  # Arrow's JSON reader does not check UTF-8; full validation does, cheaply
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError, UnicodeDecodeError):
        return None
    if not _names_are_utf8(table.schema):
        return None
    if any(_has_timestamp(f.type) for f in table.schema):
        # JSON has no dates: keep ISO strings as the strings they were
        fields = []
        for f in table.schema:
            if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type) or pa.types.is_time(f.type):
                fields.append(pa.field(f.name, pa.string()))
            elif _has_timestamp(f.type):
                return None
            else:
                fields.append(f)
        try:
            table = pj.read_json(
                io.BytesIO(data),
                read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
                parse_options=pj.ParseOptions(explicit_schema=pa.schema(fields)),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
    if any(_has_float(f.type) for f in table.schema) and may_lose_numbers(data):
        return None  # a rounded 64-bit-plus integer or a NaN: the per-line path keeps its text
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != n_lines or spec.text_field not in table.column_names:
        return None
    col = table.column(spec.text_field)
    if not pa.types.is_string(col.type) or col.null_count:  # null or missing: the slow path tells which
        return None
    parsed = _parse_arrow(RawChunk(chunk.file_index, "arrow", first=chunk.first, data=table), src, spec, unit="line")
    if parsed.rejects:
        raw_lines = data.split(b"\n")
        for r in parsed.rejects:
            r["raw"], r["raw_bytes"] = _preview(raw_lines[r["location"] - chunk.first])
    return parsed


def _parse_lines(chunk: RawChunk, src: str, spec: ParseSpec) -> Parsed:
    data: bytes = chunk.data
    too_deep = too_deep_lines(data) if data else {}
    fast = None if spec.chat else _parse_lines_fast(chunk, src, spec, too_deep)
    if fast is not None:
        return fast
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    rows: list[dict] = []
    locs: list[int] = []
    rejects: list[dict] = []
    blank = 0
    idf = spec.id_field
    as_text: dict[str, int] = {}
    for offset, raw in enumerate(lines):
        lineno = chunk.first + offset
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if lineno == 1 and raw.startswith(_BOM):  # a byte order mark opening the file, as Windows tools write
            raw = raw[len(_BOM) :]
        if not raw.strip():
            blank += 1
            continue
        if len(raw) > spec.max_doc_bytes:
            rejects.append(
                _reject(src, "line", lineno, f"line is {_mib(len(raw))}, over max_doc_bytes={_mib(spec.max_doc_bytes)}", raw)
            )
            continue
        if offset in too_deep:
            reason = f"nesting deeper than {MAX_NESTING} levels (this line: {too_deep[offset]})"
            rejects.append(_reject(src, "line", lineno, reason, raw))
            continue
        obj, reason, kept = _loads(raw)
        if reason:
            rejects.append(_reject(src, "line", lineno, reason, raw))
            continue
        if not isinstance(obj, dict):
            rejects.append(_reject(src, "line", lineno, f"line is a JSON {type(obj).__name__}, expected an object", raw))
            continue
        why = _check_record(obj, spec)
        if why:
            rejects.append(_reject(src, "line", lineno, why, raw))
            continue
        ident = obj.get(idf)
        row = {"id": _make_id(src, "line", lineno) if ident is None else _id_str(ident)}
        for k, v in obj.items():
            if k != "id":
                row[k] = v
        rows.append(row)
        locs.append(lineno)
        for name, n in kept.items():
            as_text[name] = as_text.get(name, 0) + n
    table, coerced = rows_to_table(rows, spec.chat)
    return Parsed(table, rejects, records=len(lines) - blank, blank_lines=blank, coerced_fields=coerced,
                  numbers_as_text=as_text, locations=np.asarray(locs, dtype=np.int64))


def _loads(raw: bytes) -> tuple[Any, str | None, dict[str, int]]:
    """One JSON line: (value, None, numbers kept as text per field) or (None, why it is unreadable, {}).

    orjson parses; the standard library (see :func:`gristmill.io.json_guard.loads_exact`) takes over only
    to keep a number exact that orjson would round (19 digits or more) or refuses (NaN, Infinity, 1e400).
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            return None, f"invalid UTF-8 at byte {uexc.start}: {uexc.reason}", {}
        try:
            obj, kept = loads_exact(text)
        except (ValueError, RecursionError):
            kept = {}
        if not kept:  # the standard library is never a way around orjson for anything but numbers
            return None, f"malformed JSON: {exc}", {}
        return obj, None, kept
    if needs_exact_parse(raw):
        try:
            exact, kept = loads_exact(raw.decode("utf-8"))
            return exact, None, kept
        except (ValueError, RecursionError):
            pass
    return obj, None, {}


def _check_record(obj: dict, spec: ParseSpec) -> str | None:
    """Why a parsed record cannot be a document, or None; in chat mode adds the canonical fields to ``obj``."""
    tf = spec.text_field
    if spec.chat:
        try:
            chat_fields(obj, tf)
        except ChatError as exc:
            return str(exc)
    elif tf not in obj:
        return f"missing text field {tf!r}"
    return check_text(obj[tf], spec)


def _id_str(ident: Any) -> str:
    return ident if isinstance(ident, str) else orjson.dumps(ident).decode()


def rows_to_table(rows: list[dict], chat: bool = False) -> tuple[pa.Table | None, list[str]]:
    """Rows to Arrow, column by column (several times faster than ``Table.from_pylist``).

    A field whose values mix types (a number here, a string there) is stored as JSON text and reported.
    With ``chat``, the canonical ``messages`` column gets its fixed type.
    """
    if not rows:
        return None, []
    names: dict[str, None] = dict.fromkeys(rows[0])
    first = rows[0].keys()
    if any(r.keys() != first for r in rows):
        for r in rows:
            names.update(dict.fromkeys(r))
    arrays, coerced = [], []
    for name in names:
        values = [r.get(name) for r in rows]
        if chat and name == "messages":
            arrays.append(pa.array(values, MESSAGES_TYPE))
            continue
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            coerced.append(name)
            arrays.append(
                pa.array([None if v is None else json_text(v) for v in values], pa.string())
            )
    return pa.table(arrays, names=list(names)), coerced


def _parse_arrow(chunk: RawChunk, src: str, spec: ParseSpec, unit: str = "row") -> Parsed:
    table: pa.Table = chunk.data
    n = table.num_rows
    locs = np.arange(chunk.first, chunk.first + n)
    tf, idf = spec.text_field, spec.id_field
    if tf not in table.column_names:
        reason = f"missing text field {tf!r} (this file's columns: {', '.join(table.column_names)})"
        rejects = [_reject(src, unit, int(loc), reason, row) for loc, row in zip(locs, table.slice(0, n).to_pylist())]
        return Parsed(None, rejects, records=n)
    col = table.column(tf)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        rows = table.to_pylist()
        reason = f"text field {tf!r} is {col.type} in this file (expected a string)"
        return Parsed(None, [_reject(src, unit, int(loc), reason, r) for loc, r in zip(locs, rows)], records=n)
    col = col.cast(pa.string()) if pa.types.is_large_string(col.type) else col
    null = pc.is_null(col).to_numpy(zero_copy_only=False)
    # whitespace as Python's str.strip() sees it; the anchored match stops at the first other character
    empty = pc.fill_null(pc.match_substring_regex(col, r"^[\s\x{1c}-\x{1f}\x{85}\p{Z}]*$"), False).to_numpy(zero_copy_only=False)
    big = pc.fill_null(pc.greater(pc.binary_length(col), spec.max_doc_bytes), False).to_numpy(zero_copy_only=False)
    bad = null | empty | big
    rejects: list[dict] = []
    if bad.any():
        for i in np.flatnonzero(bad):
            value = col[int(i)].as_py()
            rejects.append(_reject(src, unit, int(locs[i]), check_text(value, spec) or "invalid text", table.slice(int(i), 1).to_pylist()[0]))
        table = table.filter(pa.array(~bad))
        locs = locs[~bad]
        col = col.filter(pa.array(~bad))
    generated = pa.array([_make_id(src, unit, int(loc)) for loc in locs], pa.string())
    if idf in table.column_names:
        given = table.column(idf)
        given = given.cast(pa.string()) if not pa.types.is_string(given.type) else given
        ids = pc.if_else(pc.is_null(given), generated, given)
    else:
        ids = generated
    rest = [c for c in table.column_names if c != "id"]
    out = pa.table([ids] + [table.column(c) if c != tf else col for c in rest], names=["id"] + rest)
    return Parsed(out if out.num_rows else None, rejects, records=n, locations=locs)


def _parse_arrow_chat(chunk: RawChunk, src: str, spec: ParseSpec) -> Parsed:
    """Parquet rows in chat mode: the original columns keep their types; canonical columns are appended."""
    table: pa.Table = chunk.data
    n = table.num_rows
    tf, idf = spec.text_field, spec.id_field
    keep = np.zeros(n, dtype=bool)
    rejects: list[dict] = []
    msgs, fmts, texts = [], [], []
    for i, obj in enumerate(table.to_pylist()):
        raw = dict(obj)
        why = _check_record(obj, spec)
        if why:
            rejects.append(_reject(src, "row", chunk.first + i, why, raw))
            continue
        keep[i] = True
        msgs.append(obj["messages"])
        fmts.append(obj["chat_format"])
        texts.append(obj[tf])
    locs = np.arange(chunk.first, chunk.first + n)[keep]
    table = table.filter(pa.array(keep))
    if not table.num_rows:
        return Parsed(None, rejects, records=n)
    if tf in table.column_names:
        table = table.rename_columns([f"{tf}_original" if c == tf else c for c in table.column_names])
    for name, arr in (("messages", pa.array(msgs, MESSAGES_TYPE)), ("chat_format", pa.array(fmts, pa.string())),
                      (tf, pa.array(texts, pa.string()))):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, arr) if i >= 0 else table.append_column(name, arr)
    generated = pa.array([_make_id(src, "row", int(loc)) for loc in locs], pa.string())
    if idf in table.column_names:
        given = table.column(idf)
        given = given.cast(pa.string()) if not pa.types.is_string(given.type) else given
        ids = pc.if_else(pc.is_null(given), generated, given)
    else:
        ids = generated
    rest = [c for c in table.column_names if c != "id"]
    return Parsed(pa.table([ids] + [table.column(c) for c in rest], names=["id"] + rest), rejects, records=n,
                  locations=locs)


def _parse_csv_rows(chunk: RawChunk, src: str, spec: ParseSpec) -> Parsed:
    header: list[str] = chunk.extra["header"]
    rows: list[dict] = []
    locs: list[int] = []
    rejects: list[dict] = []
    for line, values in chunk.data:
        if isinstance(values, tuple) and values and values[0] == "error":
            rejects.append(_reject(src, "line", line, values[1]))
            continue
        raw = ",".join(values)
        if any(_has_surrogate(v) for v in values):
            rejects.append(_reject(src, "line", line, "invalid UTF-8", raw.encode("utf-8", "surrogateescape")))
            continue
        if len(values) != len(header):
            rejects.append(_reject(src, "line", line, f"row has {len(values)} fields, header has {len(header)}", raw))
            continue
        obj = dict(zip(header, values))
        why = _check_record(obj, spec)
        if why:
            rejects.append(_reject(src, "line", line, why, raw))
            continue
        ident = obj.get(spec.id_field) or None
        row = {"id": ident or _make_id(src, "line", line)}
        row.update((k, v) for k, v in obj.items() if k != "id")
        rows.append(row)
        locs.append(line)
    table, coerced = rows_to_table(rows, spec.chat)
    return Parsed(table, rejects, records=len(chunk.data), coerced_fields=coerced,
                  locations=np.asarray(locs, dtype=np.int64))


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
