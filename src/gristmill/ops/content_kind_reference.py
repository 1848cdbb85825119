"""``content_kind``'s features computed the plain way: one document at a time, Python ``re`` over its bytes.

This is the readable definition of every feature. The operator computes the same numbers for a whole batch
at once with numpy over the Arrow buffers (``content_kind_features.batch_features``, ~10x faster); the tests
check that the two agree on real excerpts. Texts are read as UTF-8 bytes: "letters" are ASCII letters plus
non-ASCII characters, a token is a run of ASCII letters, digits, ``_`` and non-ASCII bytes, blank means
ASCII whitespace only.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import groupby

import numpy as np

from gristmill.ops.content_kind_vocab import (
    CODE_LINE_END,
    COMMENT_START,
    DELIMITERS,
    KEYWORDS,
    LEVEL_WORDS,
    PUNCT,
    SENTENCE_STOPS_CJK,
    STAMP_WINDOW,
    VOCAB,
)

_TOKEN = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")
_SENTENCE = re.compile(rb"[a-z]{2}[.!?] [A-Z]")
_CALL = re.compile(rb"[A-Za-z0-9_\x80-\xff]\(")
# a word, optional space, an assignment/comparison/arrow operator, optional space, an operand
_ASSIGN = re.compile(rb"(?<=[A-Za-z0-9_\x80-\xff)\]]) ?(?:[:+\-*/!<>=]?=|->|=>)(?= ?[A-Za-z0-9_\x80-\xff\"'(\[{-])")
_STAMP = re.compile(rb"\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d|\d\.\d{6}\]")  # time, ISO date, dmesg's [  12.345678]
_TIME = re.compile(rb"(?=\d\d:\d\d:\d\d)")
_LEVEL = set(w.encode() for w in LEVEL_WORDS)
_TEX_CMD = re.compile(rb"\\[A-Za-z@]")
_TEX_ENV = re.compile(rb"\\(?:begin|end)\{")
_MATH_DOLLAR = re.compile(rb"\$[^$\n]{1,80}\$")
_TAG = re.compile(rb"</?[A-Za-z][^<>]*>")
_ENTITY = re.compile(rb"&(?:#\d{1,7}|[a-z]{1,12});")
_PROSE_END = re.compile(rb"[a-z]{2}[.!?][\"')]?\Z")


def _prose_end(s: bytes) -> bool:
    return bool(_PROSE_END.search(s)) or s.endswith(SENTENCE_STOPS_CJK)


def _delimiter_consistency(lines: list[bytes], ch: bytes) -> float:
    """Share of non-blank lines whose count of ``ch`` is the commonest non-zero count (ties: the smaller)."""
    counts = [ln.count(ch) for ln in lines]
    common = Counter(c for c in counts if c)
    if sum(common.values()) < 2:
        return 0.0
    top = max(common.values())
    mode = min(c for c, f in common.items() if f == top)
    return common[mode] / len(lines)


def reference_features(text: str, max_chars: int = 8000) -> np.ndarray:
    """The feature vector of one text's first ``max_chars`` characters (order: ``feature_names()``)."""
    u = text[:max_chars].encode("utf-8", "replace")
    nchars = len(text[:max_chars])
    n = max(nchars, 1)
    raw_lines = u.split(b"\n")
    lines = [ln for ln in raw_lines if ln.strip()]
    stripped = [ln.strip() for ln in lines]
    nl = max(len(lines), 1)
    tokens = _TOKEN.findall(u)
    idents = [t for t in tokens if not t[:1].isdigit()]
    ni = max(len(idents), 1)
    lead = sum(1 for c in u if c >= 0xC0)
    tags = _TAG.findall(u)
    out = [u.count(c.encode()) / n for c in PUNCT]
    out += [
        (sum(1 for c in u if 65 <= c <= 90 or 97 <= c <= 122) + lead) / n,
        sum(1 for c in u if 48 <= c <= 57) / n,
        u.count(b" ") / n,
        sum(1 for c in u if 65 <= c <= 90) / n,
        lead / n,
        math.log1p(nchars) / 10,
        min(sum(map(len, stripped)) / nl / 100, 3.0),
        (len(raw_lines) - len(lines)) / len(raw_lines),
        sum(1 for ln in lines if len(ln) - len(ln.lstrip()) >= 4 or ln.startswith(b"\t")) / nl,
        sum(1 for s in stripped if s[-1:] in CODE_LINE_END) / nl,
        sum(1 for s in stripped if _prose_end(s)) / nl,
        len(_SENTENCE.findall(u)) / nl,
        sum(1 for s in stripped if s.startswith(COMMENT_START)) / nl,
        len(_ASSIGN.findall(u)) / nl,
        len(_CALL.findall(u)) / nl,
        sum(1 for ln in lines if (m := _STAMP.search(ln)) and m.start() < STAMP_WINDOW) / nl,
        min(len(_TIME.findall(u)) / nl, 2.0),
        min(sum(1 for t in idents if t in _LEVEL) / nl, 2.0),
        len(_TEX_CMD.findall(u)) / ni,
        min(len(_TEX_ENV.findall(u)) / nl, 2.0),
        min(len(_MATH_DOLLAR.findall(u)) / nl, 2.0),
        min(len(tags) / nl, 5.0),
        sum(map(len, tags)) / n,
        len(_ENTITY.findall(u)) / n * 10,
        *(_delimiter_consistency(lines, ch) for ch in DELIMITERS),
        sum(1 for s in stripped if b"  " in s) / nl,
    ]
    counts = Counter(t.decode() for t in idents if len(t) <= 16)
    kw = np.array([counts[w] for w in VOCAB], np.float64)
    # a line looks like code: indented, starts with # $ <, ends like a statement, calls or assigns; and it
    # does not end like a sentence
    code = [
        not _prose_end(s)
        and bool(len(ln) > len(ln.lstrip()) or ln[:1] in (b"#", b"$", b"<") or s[-1:] in CODE_LINE_END
                 or _CALL.search(ln) or _ASSIGN.search(ln))
        for ln, s in zip(lines, stripped)
    ]
    nonblank_chars = sum(map(len, stripped))

    def share(chars: int) -> float:  # of the non-blank lines' characters
        return min(1.0, chars / nonblank_chars) if nonblank_chars else 0.0

    cs = share(sum(len(s) for s, c in zip(stripped, code) if c))
    prose_chars = share(sum(len(s) for s in stripped if _prose_end(s)))
    runs = [len(list(g)) for is_code, g in groupby(code) if is_code]  # runs of consecutive code lines
    out += [kw.sum() / ni, len(idents) / n * 5, cs, cs * (1 - cs) * 4, prose_chars, len(runs) / nl,
            sum(1 for r in runs if r >= 2) / nl, max(runs, default=0) / nl, min(cs, prose_chars)]
    lang = [sum(counts[w] for w in ws) / ni for ws in KEYWORDS.values()]
    return np.concatenate([np.asarray(out, np.float64), np.sqrt(kw / ni), np.sqrt(np.asarray(lang))])
