"""Guards that keep one hostile JSON line from crashing a worker or silently changing a value.

Two hazards, both invisible to a plain ``loads``:

* **Deep nesting.** Arrow's JSON reader recurses without a limit (100,000 levels kill the process) and
  Parquet cannot read back a schema nested more than about 50 lists deep. :func:`nesting_depths` measures
  every line's depth in one vectorised pass over the chunk's bytes (brackets inside strings are ignored), so
  lines deeper than :data:`MAX_NESTING` are rejected before any parser sees them.
* **Numbers a column cannot hold exactly.** Integers outside the signed 64-bit range become rounded floats
  (orjson and Arrow alike), and ``NaN``/``Infinity`` (not JSON, but common in dumps) are refused by orjson
  and turned into floats by Arrow. :func:`loads_exact` keeps each such number as its source text (a string,
  e.g. ``"123456789012345678901234567890"`` or ``"NaN"``) and says which top-level fields held one, so the
  run summary can count them (``numbers_kept_as_text``). Text was chosen over rejecting the row (a metadata
  number should not cost a document) and over floats (a rounded ID is a silent change, and NaN has no JSON
  form, so a JSONL output would turn it into null).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import orjson

MAX_NESTING = 32
"""Deepest JSON nesting accepted in a record, the record's own object counting as level 1."""

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_LONG_DIGITS = re.compile(rb"[0-9]{19}")  # 19 digits: the shortest integer that may leave the int64 range
_NON_FINITE = re.compile(rb"NaN|Infinity")


class NumberText(str):
    """A number kept as its JSON source text; written back as that raw text when a field becomes JSON."""


_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}\n")))


def too_deep_lines(data: bytes, limit: int = MAX_NESTING) -> dict[int, int]:
    """The lines of ``data`` (0-based, split at ``\\n``) nested deeper than ``limit``, with their depth.

    First a cheap bound: a line cannot be deeper than its number of opening brackets (counted over a copy
    that keeps only brackets and newlines). Only when some line could exceed the limit is the exact depth
    measured, brackets inside strings ignored.
    """
    skeleton = np.frombuffer(data.translate(None, _NOT_BRACKET), dtype=np.uint8)
    opens = np.flatnonzero((skeleton == 91) | (skeleton == 123))
    if len(opens) <= limit:
        return {}
    per_line = np.bincount(np.searchsorted(np.flatnonzero(skeleton == 10), opens))
    if per_line.max() <= limit:
        return {}
    depths = nesting_depths(data)
    return {int(i): int(depths[i]) for i in np.flatnonzero(depths > limit)}


def nesting_depths(data: bytes) -> np.ndarray:
    """The deepest nesting of each line of ``data`` (split at ``\\n``; a last line without one counts).

    Brackets inside JSON strings are ignored (quotes after an odd run of backslashes are escaped). On a
    malformed line the figure is exact up to the first syntax error, which is as far as any parser recurses.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    depths = np.zeros(len(newlines) + (0 if data.endswith(b"\n") else 1), dtype=np.int64)
    brackets = np.flatnonzero((buf == 91) | (buf == 93) | (buf == 123) | (buf == 125))
    if not len(brackets):
        return depths
    quotes = np.flatnonzero(buf == 34)
    if len(quotes):
        quotes = quotes[~_escaped(buf, quotes)]
    line_of = np.searchsorted(newlines, brackets)  # newlines before a bracket = its line
    line_start = np.where(line_of > 0, newlines[np.maximum(line_of - 1, 0)] + 1, 0)
    outside = (np.searchsorted(quotes, brackets) - np.searchsorted(quotes, line_start)) % 2 == 0
    brackets, line_of = brackets[outside], line_of[outside]
    if not len(brackets):
        return depths
    step = np.where((buf[brackets] == 91) | (buf[brackets] == 123), 1, -1)
    level = np.cumsum(step)
    first = np.flatnonzero(np.r_[True, line_of[1:] != line_of[:-1]])  # each line's first bracket
    base = level[first] - step[first]
    group = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(level)]))
    depths[line_of[first]] = np.maximum.reduceat(level - base[group], first)
    return depths


def _escaped(buf: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Which quotes follow an odd run of backslashes (and so sit inside a string)."""
    run = np.zeros(len(quotes), dtype=np.int64)
    pos = quotes - 1
    live = pos >= 0
    live[live] = buf[pos[live]] == 92
    while live.any():
        run[live] += 1
        pos = pos - 1
        live &= pos >= 0
        live[live] = buf[pos[live]] == 92
    return run % 2 == 1


def may_lose_numbers(data: bytes) -> bool:
    """Whether ``data`` may hold a number that a float or int64 column would change (a cheap byte scan)."""
    return bool(_NON_FINITE.search(data) or _LONG_DIGITS.search(data))


def needs_exact_parse(raw: bytes) -> bool:
    """Whether orjson may round a number of this line (an integer of 19 digits or more)."""
    return _LONG_DIGITS.search(raw) is not None


class _Loose(ValueError):
    """The standard library accepted something orjson refuses for another reason than a number."""


def loads_exact(raw: str | bytes) -> tuple[Any, dict[str, int]]:
    """Parse one JSON line keeping out-of-range integers and NaN/Infinity as :class:`NumberText`.

    Returns the value and, per top-level field, how many numbers were kept as text. Raises ValueError for
    a line that is not JSON (lone surrogate escapes included, which orjson refuses too).
    """
    obj = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=NumberText)
    counts: dict[str, int] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            _check_str(key)
            n = _count_kept(value)
            if n:
                counts[key] = n
    else:
        _count_kept(obj)
    return obj, counts


def _parse_int(text: str) -> int | NumberText:
    if len(text) < 19:
        return int(text)
    if len(text) <= 21:  # sign and 20 digits at most for anything within 64 bits
        value = int(text)
        if INT64_MIN <= value <= INT64_MAX:
            return value
    return NumberText(text)


def _parse_float(text: str) -> float | NumberText:
    value = float(text)
    return value if np.isfinite(value) else NumberText(text)


def _check_str(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise _Loose("lone surrogate escape in a string") from None


def _count_kept(value: Any) -> int:
    if isinstance(value, NumberText):
        return 1
    if isinstance(value, str):
        _check_str(value)
        return 0
    if isinstance(value, dict):
        total = 0
        for k, v in value.items():
            _check_str(k)
            total += _count_kept(v)
        return total
    if isinstance(value, list):
        return sum(_count_kept(v) for v in value)
    return 0


def json_text(value: Any) -> str:
    """A value as JSON text, numbers kept as text written back exactly as they were in the source."""
    return orjson.dumps(value, default=_fragment, option=orjson.OPT_PASSTHROUGH_SUBCLASS).decode()


def _fragment(value: Any) -> Any:
    if isinstance(value, NumberText):
        return orjson.Fragment(str(value).encode())
    if isinstance(value, str):  # another str subclass
        return str(value)
    return str(value)
