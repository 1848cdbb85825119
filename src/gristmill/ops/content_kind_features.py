"""``content_kind``'s features for a whole batch at once: numpy over the Arrow text buffer, no loop per document.

The features are defined, one document at a time, by ``content_kind_reference`` (plain Python ``re``); this
module computes the same numbers an order of magnitude faster, which lets the operator keep up with
``lang_id``. Texts go through in blocks of ~256 KiB, each handled as one byte array:

* the documents are joined with a newline between them (no pattern spans a newline, so neighbouring bytes are
  read without bounds checks and no token runs from one document into the next);
* one ``bytes.translate`` gives every byte a class; the rare classes (each punctuation mark, newline, control
  characters) are located once and sorted by class, which gives their count per document with one search
  and the places where a pattern can start: each pattern is then checked only at its character's positions,
  by its neighbouring bytes; the dense classes (space, upper case, digit, non-ASCII) are counted by one
  ``reduceat`` each;
* lines are a zero-copy Arrow array of newline-terminated spans, whose lengths after Arrow's ASCII trim
  kernels give each line's first and last non-blank byte; a position belongs to the line whose start
  precedes it;
* tokens are the runs of word bytes (the edges of the word-byte mask); a keyword is recognised by a token's
  length and first and last 8 bytes, read as unaligned 64-bit integers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gristmill.ops.content_kind_vocab import (
    COMMENT_START,
    DELIMITERS,
    KEYWORDS,
    KINDS,
    LANGUAGES,
    LEVEL_WORDS,
    PUNCT,
    SENTENCE_STOPS_CJK,
    STAMP_WINDOW,
    VOCAB,
    feature_names,
)

__all__ = ["KINDS", "LANGUAGES", "batch_features", "feature_names", "features"]

BLOCK_BYTES = 256 << 10  # texts go through in blocks of about this many bytes: scratch arrays stay in cache

# --- byte classes ----------------------------------------------------------------------------------------
# word bytes are classes _LOWER.._UNDERSCORE; classes from _UNDERSCORE up are rare enough to be located one by
# one ("positioned": every punctuation mark, newline, control characters); the four dense classes below
# them are counted per document by a reduction
_SPACE, _LOWER, _UPPER, _DIGIT, _CONT, _LEAD, _UNDERSCORE, _OTHER = range(8)
_DENSE = (_SPACE, _UPPER, _DIGIT, _LEAD)
_POSITIONED_MIN = _UNDERSCORE
_CLASS_OF: dict[str, int] = {"_": _UNDERSCORE, "\x00": _OTHER}
for _ch in [c for c in PUNCT if c != "_"] + ["\n"]:
    _CLASS_OF[_ch] = 8 + len(_CLASS_OF) - 2
_NCLASS = 8 + len(_CLASS_OF) - 2
_TABLE = bytearray([_OTHER] * 256)
for _b in range(256):
    _c = chr(_b)
    if 97 <= _b <= 122:
        _TABLE[_b] = _LOWER
    elif 65 <= _b <= 90:
        _TABLE[_b] = _UPPER
    elif 48 <= _b <= 57:
        _TABLE[_b] = _DIGIT
    elif 0x80 <= _b < 0xC0:
        _TABLE[_b] = _CONT
    elif _b >= 0xC0:
        _TABLE[_b] = _LEAD
    elif _c == " ":
        _TABLE[_b] = _SPACE
    elif _c in _CLASS_OF:
        _TABLE[_b] = _CLASS_OF[_c]
_TRANSLATE = bytes(_TABLE)


def _byte_set(chars: bytes | str) -> np.ndarray:
    """A 256-entry boolean table: is this byte one of ``chars``."""
    t = np.zeros(256, bool)
    t[list(chars.encode() if isinstance(chars, str) else chars)] = True
    return t


_IS_LOWER = _byte_set(bytes(range(97, 123)))
_IS_UPPER = _byte_set(bytes(range(65, 91)))
_IS_LETTER = _IS_LOWER | _IS_UPPER
_IS_DIGIT = _byte_set(b"0123456789")
_IS_WORD = _IS_LETTER | _IS_DIGIT | _byte_set(b"_") | _byte_set(bytes(range(128, 256)))
_IS_STOP = _byte_set(b".!?")
_IS_CLOSE_QUOTE = _byte_set(b"\"')")
_IS_CODE_END = _byte_set(b";{}):,]")
_IS_LINE_MARK = _byte_set(b"#$<")
_IS_ASSIGN_LEFT = _IS_WORD | _byte_set(b")]")
_IS_ASSIGN_RIGHT = _IS_WORD | _byte_set(b"\"'([{-")
_IS_OP_PREFIX = _byte_set(b":+-*/!<>=")
_IS_ARROW_BODY = _byte_set(b"-=")
_IS_SPACE, _IS_COLON, _IS_DASH, _IS_CLOSE_BRACKET, _IS_AT = (_byte_set(c) for c in (b" ", b":", b"-", b"]", b"@"))
_COMMENT_1 = _byte_set(b"".join(c for c in COMMENT_START if len(c) == 1))
_COMMENT_2 = {c[0] + 256 * c[1] for c in COMMENT_START if len(c) == 2}  # little-endian pairs
_CJK_STOPS = {int.from_bytes(s, "little") for s in SENTENCE_STOPS_CJK}
_BEGIN = int.from_bytes(b"begin{", "little")
_END = int.from_bytes(b"end{", "little")

# --- keywords: (length, first 8 bytes, last 8 bytes) -> column -------------------------------------------
_WORDS = tuple(dict.fromkeys(VOCAB + LEVEL_WORDS))
_MASK8 = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)


def _word_keys(words: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lens = np.array([len(w) for w in words], np.int64)
    k1 = np.array([int.from_bytes(w[:8], "little") for w in words], np.uint64)
    k2 = np.array([int.from_bytes(w[-8:], "little") if len(w) > 8 else 0 for w in words], np.uint64)
    return lens, k1, k2


def _bucket(k1: np.ndarray) -> np.ndarray:
    """A 16-bit hash of a token's first 8 bytes, for a cheap first filter."""
    with np.errstate(over="ignore"):
        h = k1 * np.uint64(0x9E3779B97F4A7C15)
    return (h >> np.uint64(48)).view(np.int64)


_W_LEN, _W_K1, _W_K2 = _word_keys([w.encode() for w in _WORDS])
_W_ORDER = np.lexsort((_W_LEN, _W_K1))
_W_K1_SORTED = _W_K1[_W_ORDER]
if len(np.unique(_W_K1_SORTED)) != len(_WORDS):  # a token's first 8 bytes must pick at most one word
    raise RuntimeError("content_kind keywords must differ in their first 8 bytes")
_W_FILTER = np.zeros(1 << 16, bool)
_W_FILTER[_bucket(_W_K1)] = True
_LEVEL_COLUMNS = [i for i, w in enumerate(_WORDS) if w in LEVEL_WORDS]
_LANG_MATRIX = np.array([[w in ws for w in VOCAB] for ws in KEYWORDS.values()], np.float64).T


def _chunks(texts: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> list[pa.Array]:
    """The texts as string or large_string arrays without nulls (nulls read as '')."""
    if isinstance(texts, pa.ChunkedArray):
        chunks = texts.chunks
    elif isinstance(texts, pa.Array):
        chunks = [texts]
    else:
        chunks = [pa.array(list(texts), pa.large_string())]
    out = []
    for c in chunks:
        if c.type not in (pa.string(), pa.large_string()):
            c = c.cast(pa.large_string())
        out.append(c.fill_null("") if c.null_count else c)
    return out


def batch_features(texts: pa.Array | pa.ChunkedArray | Sequence[str | None], max_chars: int = 8000) -> np.ndarray:
    """The feature matrix (one row per text, columns ``feature_names()``) of each text's first ``max_chars``."""
    blocks = []
    for arr in _chunks(texts):
        offsets = _offsets(arr)
        ends = np.cumsum(np.minimum(np.diff(offsets), 4 * max_chars))
        cuts = np.searchsorted(ends, np.arange(BLOCK_BYTES, ends[-1], BLOCK_BYTES), "right") if len(arr) else []
        bounds = np.unique(np.concatenate([[0], cuts, [len(arr)]]).astype(np.int64))
        blocks += [_block_features(arr.slice(a, b - a), max_chars) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    return np.concatenate(blocks) if blocks else np.zeros((0, len(feature_names())))


def features(text: str, max_chars: int = 8000) -> np.ndarray:
    """The feature vector of one text (``batch_features`` of a batch of one)."""
    return batch_features([text], max_chars)[0]


def _offsets(arr: pa.Array) -> np.ndarray:
    dtype = np.int64 if arr.type == pa.large_string() else np.int32
    return np.frombuffer(arr.buffers()[1], dtype)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)


def _cut(doc: memoryview, max_chars: int) -> int:
    """Bytes in the first ``max_chars`` characters of a UTF-8 text."""
    if bytes(doc[:max_chars]).isascii():
        return max_chars
    head = np.frombuffer(doc[: 4 * max_chars + 1], np.uint8)
    starts = np.flatnonzero((head & 0xC0) != 0x80)  # bytes that begin a character
    return int(starts[max_chars]) if len(starts) > max_chars else len(doc)


_PAD = bytes(16)


class _Block:
    """One block of texts as one byte array, documents separated by a newline.

    The separator ends every document's last line and no pattern matches across a newline, so a byte's
    neighbours are read without bounds checks and tokens never run from one document into the next.
    """

    def __init__(self, arr: pa.Array, max_chars: int) -> None:
        self.n = len(arr)
        offsets = _offsets(arr)
        data = memoryview(arr.buffers()[2] or b"")
        docs = [data[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        self.sizes = np.diff(offsets)
        for i in np.flatnonzero(self.sizes > max_chars).tolist():  # more bytes than max_chars: maybe cut
            docs[i] = docs[i][: _cut(docs[i], max_chars)]
            self.sizes[i] = len(docs[i])
        self.padded = b"\n".join([_PAD, *docs, _PAD])
        self.start = np.cumsum(self.sizes + 1) - self.sizes + len(_PAD)  # where each document begins
        self.end = self.start + self.sizes
        self.edges = np.append(self.start, self.end[-1])  # document d is edges[d] .. edges[d + 1]
        self.u = np.frombuffer(self.padded, np.uint8)
        self.u64 = np.ndarray((len(self.u) - 7,), "<u8", self.padded, 0, (1,))  # the 8 bytes from each position
        self.cls = np.frombuffer(self.padded.translate(_TRANSLATE), np.uint8)
        pos = np.flatnonzero(self.cls >= _POSITIONED_MIN)
        pos_cls = self.cls[pos]
        order = np.argsort(pos_cls, kind="stable")  # by class, then position
        self._positions = pos[order]
        self._cuts = np.searchsorted(pos_cls[order], np.arange(_POSITIONED_MIN, _NCLASS + 1))
        # per class and document, how many: one search of every document edge in every class's positions
        key = pos_cls[order].astype(np.int64) * len(self.u) + self._positions
        classes = np.arange(_POSITIONED_MIN, _NCLASS)[:, None] * len(self.u)
        found = np.searchsorted(key, classes + self.edges[None, :])
        self.class_counts = (found[:, 1:] - found[:, :-1]).astype(np.float64)  # classes x documents
        self._lines()

    def positions(self, ch: str) -> np.ndarray:
        """Where the (punctuation, newline, ``_``) character ``ch`` occurs, ascending; newlines include the
        separators, ``"\\x00"`` stands for every control character."""
        i = _CLASS_OF[ch] - _POSITIONED_MIN
        return self._positions[self._cuts[i] : self._cuts[i + 1]]

    def at(self, ch: str) -> _Sites:
        return _Sites(self.u, self.positions(ch))

    def doc_of(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.start, pos, "right") - 1

    def count(self, pos: np.ndarray) -> np.ndarray:
        """How many of the (ascending) positions fall in each document."""
        found = np.searchsorted(pos, self.edges)
        return (found[1:] - found[:-1]).astype(np.float64)

    def _lines(self) -> None:
        """Lines as a zero-copy Arrow array of newline-terminated spans, trimmed by Arrow (lengths only)."""
        nlpos = self.positions("\n")
        spans = pa.LargeStringArray.from_buffers(len(nlpos) - 1, pa.py_buffer(nlpos + 1), pa.py_buffer(self.padded))
        self.line_start = nlpos[:-1] + 1
        self.line_doc = self.doc_of(self.line_start)
        self.lines_per_doc = np.bincount(self.line_doc, minlength=self.n)
        self.strip_len = _lengths(pc.ascii_trim_whitespace(spans))
        self.lead = np.diff(nlpos) - _lengths(pc.ascii_ltrim_whitespace(spans))
        self.nonblank = self.strip_len > 0
        self.first = self.line_start + self.lead  # first and last non-blank byte of non-blank lines
        self.last = self.first + self.strip_len - 1

    def line_of(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.line_start, pos, "right") - 1

    def lines_with(self, pos: np.ndarray) -> np.ndarray:
        m = np.zeros(len(self.line_start), bool)
        m[self.line_of(pos)] = True
        return m

    def per_doc(self, *per_line: np.ndarray) -> np.ndarray:
        """Sums over each document's lines (lines are in document order, every document has one or more)."""
        first = np.cumsum(self.lines_per_doc) - self.lines_per_doc
        return np.add.reduceat(np.column_stack(per_line).astype(np.float64), first).T


def _lengths(arr: pa.Array) -> np.ndarray:
    return np.diff(np.frombuffer(arr.buffers()[1], np.int64)[arr.offset : arr.offset + len(arr) + 1])


class _Sites:
    """Positions of a character, narrowed step by step by what their neighbouring bytes are."""

    def __init__(self, u: np.ndarray, pos: np.ndarray) -> None:
        self.u, self.p = u, pos

    def byte(self, k: int) -> np.ndarray:
        return self.u[self.p + k]

    def keep(self, mask: np.ndarray) -> _Sites:
        return _Sites(self.u, self.p[mask])

    def where(self, k: int, table: np.ndarray) -> _Sites:
        """Keep the sites whose byte at offset ``k`` is in ``table`` (a 256-entry boolean table)."""
        return _Sites(self.u, self.p[table[self.u[self.p + k]]])

    def where_all(self, ks: Sequence[int], table: np.ndarray) -> _Sites:
        s = self
        for k in ks:
            s = s.where(k, table)
        return s


def _pairs_matched(valid: np.ndarray) -> np.ndarray:
    """Which of consecutive pairs a left-to-right scan takes when pair i (item i, i+1) may match."""
    taken = np.zeros(len(valid), bool)
    v = np.concatenate([[False], valid, [False]]).view(np.int8)
    edges = np.flatnonzero(v[1:] != v[:-1])
    run_first = np.repeat(edges[::2], edges[1::2] - edges[::2])  # the first pair of each valid pair's run
    idx = np.flatnonzero(valid)
    taken[idx[(idx - run_first) % 2 == 0]] = True
    return taken


def _line_shape(b: _Block) -> dict[str, np.ndarray]:
    """Per line: how it starts and ends, from its first and last non-blank bytes (8 read at a time).

    Every line is preceded by a newline, which none of the tests accepts, so reading before a short line's
    first byte needs no check.
    """
    nb = b.nonblank
    tail = b.u64[np.maximum(b.last - 7, 0)]
    end = tail.view(np.uint8).reshape(-1, 8)  # column 7 is the last non-blank byte, 6 the one before...
    last_b, b1, b2, b3 = end[:, 7], end[:, 6], end[:, 5], end[:, 4]
    head = b.u64[b.first]
    first_b = head.view(np.uint8).reshape(-1, 8)[:, 0]
    first2 = (head & np.uint64(0xFFFF)).astype(np.intp)
    comment = _COMMENT_1[first_b] | np.isin(first2, list(_COMMENT_2))
    prose_end = (_IS_STOP[last_b] & _IS_LOWER[b1] & _IS_LOWER[b2]) | (
        _IS_CLOSE_QUOTE[last_b] & _IS_STOP[b1] & _IS_LOWER[b2] & _IS_LOWER[b3]
    )
    prose_end |= np.isin(tail >> np.uint64(40), list(_CJK_STOPS))
    return {
        "prose_end": nb & prose_end,
        "code_end": nb & _IS_CODE_END[last_b],
        "comment": nb & comment,
        "indented": nb & ((b.lead >= 4) | (b.u[b.line_start] == 9)),
        "line_mark": nb & (b.lead == 0) & _IS_LINE_MARK[first_b],
    }


def _date_and_time(b: _Block) -> tuple[np.ndarray, np.ndarray]:
    """Starts of hh:mm:ss (all of them), and of any date or time: hh:mm:ss, yyyy-mm-dd, dmesg's 1.234567]."""
    s = b.at(":").where_all((1, -1, 2, -2), _IS_DIGIT).where(3, _IS_COLON).where_all((4, 5), _IS_DIGIT)
    times = s.p - 2
    s = b.at("-").where_all((1, -1, 2, -2, -3, -4), _IS_DIGIT).where(3, _IS_DASH).where_all((4, 5), _IS_DIGIT)
    dates = s.p - 4
    s = b.at(".").where(7, _IS_CLOSE_BRACKET).where_all((1, -1, 2, 3, 4, 5, 6), _IS_DIGIT)
    return times, np.concatenate([times, dates, s.p - 1])


def _assignments(b: _Block) -> np.ndarray:
    """Positions of an operator's last byte (= += == := != <= -> =>...) between a word and an operand."""
    eq = b.at("=")
    eq = eq.keep(eq.byte(1) != 61)  # the last "=" of a run
    eq_start = np.where(_IS_OP_PREFIX[eq.byte(-1)], eq.p - 1, eq.p)
    gt = b.at(">").where(-1, _IS_ARROW_BODY)
    op_last, op_first = np.concatenate([eq.p, gt.p]), np.concatenate([eq_start, gt.p - 1])
    u = b.u
    left = u[op_first - 1]
    left = np.where(left == 32, u[op_first - 2], left)
    right = u[op_last + 1]
    right = np.where(right == 32, u[op_last + 2], right)
    return np.sort(op_last[_IS_ASSIGN_LEFT[left] & _IS_ASSIGN_RIGHT[right]])


def _tags(b: _Block) -> tuple[np.ndarray, np.ndarray]:
    """Per document: tags (``<`` or ``</`` then a letter, to the next ``>`` with no ``<`` before it), their bytes."""
    lt = b.positions("<")
    gt = b.positions(">")
    c1 = b.u[lt + 1]
    tag = _IS_LETTER[c1] | ((c1 == 47) & _IS_LETTER[b.u[lt + 2]])
    j = np.searchsorted(gt, lt)
    close = gt[np.minimum(j, len(gt) - 1)] if len(gt) else np.zeros(len(lt), np.int64)
    d = b.doc_of(lt)
    tag &= (j < len(gt)) & (close < b.end[d]) & (close < np.append(lt[1:], len(b.u)))
    return np.bincount(d[tag], minlength=b.n), np.bincount(d[tag], weights=(close - lt + 1)[tag], minlength=b.n)


def _entities(b: _Block) -> np.ndarray:
    """Positions of ``&name;`` (1-12 lower-case letters) and ``&#123;`` (1-7 digits)."""
    amp = b.positions("&")
    semi = b.positions(";")
    j = np.searchsorted(semi, amp)
    amp, q = amp[j < len(semi)], semi[j[j < len(semi)]]
    inner = q - amp - 1
    numeric = b.u[amp + 1] == 35
    ok = np.where(numeric, (inner >= 2) & (inner <= 8), (inner >= 1) & (inner <= 12))
    amp, inner, numeric = amp[ok], inner[ok], numeric[ok]
    for k in range(1, 13):
        ch = b.u[np.minimum(amp + k, len(b.u) - 1)]
        ok = (k > inner) | np.where(numeric, _IS_DIGIT[ch] if k > 1 else ch == 35, _IS_LOWER[ch])
        amp, inner, numeric = amp[ok], inner[ok], numeric[ok]
    return amp


def _math_dollars(b: _Block) -> np.ndarray:
    """Per document: ``$...$`` spans (1-80 bytes inside, no newline), as a left-to-right scan finds them."""
    p = b.positions("$")
    if len(p) < 2:
        return np.zeros(b.n)
    nl = b.positions("\n")
    gap = p[1:] - p[:-1]
    valid = (gap >= 2) & (gap <= 81) & (np.searchsorted(nl, p[1:]) == np.searchsorted(nl, p[:-1]))
    return b.count(p[:-1][_pairs_matched(valid)])


def _double_spaces(b: _Block) -> np.ndarray:
    """Per line: whether two spaces in a row occur between its first and last non-blank bytes."""
    sp = b.cls == _SPACE
    pairs = np.flatnonzero(sp[:-1] & sp[1:])
    pairs = pairs[b.u[pairs - 1] != 32]  # the first pair of each run of spaces
    line = b.line_of(pairs)
    inside = (pairs >= b.first[line]) & (pairs + 1 <= b.last[line])
    m = np.zeros(len(b.line_start), bool)
    m[line[inside]] = True
    return m


def _consistency(b: _Block, nl: np.ndarray) -> list[np.ndarray]:
    """Per delimiter and document: share of non-blank lines whose count of it is the commonest non-zero one."""
    nlines = len(b.line_start)
    ids = np.concatenate([k * nlines + b.line_of(b.positions(ch.decode())) for k, ch in enumerate(DELIMITERS)])
    counts = np.bincount(ids, minlength=len(DELIMITERS) * nlines)
    hit = np.flatnonzero(counts)
    k, line = np.divmod(hit, nlines)
    keep = b.nonblank[line]
    hit, k, line = hit[keep], k[keep], line[keep]
    out = np.zeros((len(DELIMITERS), b.n))
    if not len(hit):
        return list(out)
    group = k * b.n + b.line_doc[line]  # (delimiter, document)
    c = counts[hit]
    top = int(c.max()) + 1
    keys, freq = np.unique(group * top + c, return_counts=True)
    kg, kc = np.divmod(keys, top)
    best = np.lexsort((kc, -freq, kg))
    kg, freq = kg[best], freq[best]
    head = np.concatenate([[True], kg[1:] != kg[:-1]])
    flat = out.reshape(-1)
    flat[kg[head]] = freq[head] / nl[kg[head] % b.n]
    flat[np.bincount(group, minlength=len(DELIMITERS) * b.n) < 2] = 0.0
    return list(out)


def _words(b: _Block) -> tuple[np.ndarray, np.ndarray]:
    """Per document: identifiers (tokens not starting with a digit), and counts of each word of ``_WORDS``."""
    word = (b.cls - np.uint8(_LOWER)) <= np.uint8(_UNDERSCORE - _LOWER)  # wraps below _LOWER
    flips = np.flatnonzero(word[1:] != word[:-1])  # padding and separators are not word bytes
    starts, stops = flips[0::2] + 1, flips[1::2] + 1
    idents = b.count(starts) - b.count(starts[b.cls[starts] == _DIGIT])
    lens = stops - starts
    k1 = b.u64[starts] & _MASK8[np.minimum(lens, 8)]
    maybe = np.flatnonzero(_W_FILTER[_bucket(k1)])
    s, cl, k1 = starts[maybe], lens[maybe], k1[maybe]
    k2 = np.where(cl > 8, b.u64[s + cl - 8], np.uint64(0))
    w = _W_ORDER[np.minimum(np.searchsorted(_W_K1_SORTED, k1), len(_WORDS) - 1)]
    hit = (_W_K1[w] == k1) & (_W_LEN[w] == cl) & (_W_K2[w] == k2)
    counts = np.bincount(b.doc_of(s[hit]) * len(_WORDS) + w[hit], minlength=b.n * len(_WORDS))
    return idents, counts.reshape(b.n, len(_WORDS)).astype(np.float64)


def _code_runs(b: _Block, code_line: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document, over runs of consecutive code lines (blank lines skipped): how many, how many of two
    lines or more, the longest."""
    idx = np.flatnonzero(b.nonblank)
    if not len(idx):
        return np.zeros(b.n), np.zeros(b.n), np.zeros(b.n)
    code, doc = code_line[idx], b.line_doc[idx]
    change = np.concatenate([[True], (doc[1:] != doc[:-1]) | (code[1:] != code[:-1])])
    edge = np.flatnonzero(change)  # where a run of equal lines (code or not) begins
    length = np.append(edge[1:], len(code)) - edge
    is_code = code[edge]
    run_doc, length = doc[edge][is_code], length[is_code]
    longest = np.zeros(b.n, np.int64)
    np.maximum.at(longest, run_doc, length)
    runs = np.bincount(run_doc, minlength=b.n)
    return runs, np.bincount(run_doc[length >= 2], minlength=b.n), longest


def _char_counts(b: _Block, nchars: np.ndarray) -> dict[str, np.ndarray]:
    """Per document: each punctuation mark (from their positions), the dense classes (one reduction each),
    lower-case letters (what is left)."""
    punct = b.class_counts[[_CLASS_OF[c] - _POSITIONED_MIN for c in PUNCT]].T
    out = {c: np.add.reduceat(b.cls == c, b.start, dtype=np.int32).astype(np.float64) for c in _DENSE}
    newlines = b.lines_per_doc - 1
    other = b.class_counts[_OTHER - _POSITIONED_MIN]
    rest = punct.sum(1) + other + newlines + (b.sizes - nchars)  # + continuation bytes
    out[_LOWER] = b.sizes - rest - sum(out.values())
    out["punct"] = punct
    return out


def _block_features(arr: pa.Array, max_chars: int) -> np.ndarray:
    b = _Block(arr, max_chars)
    nchars = np.minimum(np.asarray(pc.utf8_length(arr), np.float64), max_chars)
    nn = np.maximum(nchars, 1)
    h = _char_counts(b, nchars)
    shape = _line_shape(b)
    sentences = sum(
        b.count(b.at(ch).where(1, _IS_SPACE).where(2, _IS_UPPER).where_all((-1, -2), _IS_LOWER).p) for ch in ".!?"
    )
    calls = b.at("(").where(-1, _IS_WORD).p
    assigns = _assignments(b)
    times, stamps = _date_and_time(b)
    stamps = stamps[stamps - b.line_start[b.line_of(stamps)] < STAMP_WINDOW]
    tex = b.at("\\")
    tex_cmd = tex.where(1, _IS_LETTER | _IS_AT).p
    nxt = b.u64[tex.p + 1]
    tex_env = tex.p[((nxt & _MASK8[6]) == _BEGIN) | ((nxt & _MASK8[4]) == _END)]
    tags, tag_chars = _tags(b)
    idents, words = _words(b)
    ni = np.maximum(idents, 1)
    kw = words[:, : len(VOCAB)]  # _WORDS begins with VOCAB

    code_line = b.nonblank & ~shape["prose_end"] & (
        (b.lead > 0) | shape["line_mark"] | shape["code_end"] | b.lines_with(calls) | b.lines_with(assigns)
    )
    runs, blocks, longest = _code_runs(b, code_line)
    (nonblank_lines, nonblank_chars, indented, code_end, prose_end, comment, stamp_lines, spaces2, code_chars,
     prose_end_chars) = b.per_doc(
        b.nonblank, b.strip_len, shape["indented"], shape["code_end"], shape["prose_end"], shape["comment"],
        b.lines_with(stamps), _double_spaces(b), np.where(code_line, b.strip_len, 0),
        np.where(shape["prose_end"], b.strip_len, 0),
    )
    nl = np.maximum(nonblank_lines, 1)
    cs = np.minimum(1.0, code_chars / np.maximum(nonblank_chars, 1))
    prose_chars = np.minimum(1.0, prose_end_chars / np.maximum(nonblank_chars, 1))
    cols = [
        (h[_LOWER] + h[_UPPER] + h[_LEAD]) / nn,
        h[_DIGIT] / nn,
        h[_SPACE] / nn,
        h[_UPPER] / nn,
        h[_LEAD] / nn,
        np.log1p(nchars) / 10,
        np.minimum(nonblank_chars / nl / 100, 3.0),
        (b.lines_per_doc - nonblank_lines) / b.lines_per_doc,
        indented / nl,
        code_end / nl,
        prose_end / nl,
        sentences / nl,
        comment / nl,
        b.count(assigns) / nl,
        b.count(calls) / nl,
        stamp_lines / nl,
        np.minimum(b.count(times) / nl, 2.0),
        np.minimum(words[:, _LEVEL_COLUMNS].sum(1) / nl, 2.0),
        b.count(tex_cmd) / ni,
        np.minimum(b.count(tex_env) / nl, 2.0),
        np.minimum(_math_dollars(b) / nl, 2.0),
        np.minimum(tags / nl, 5.0),
        tag_chars / nn,
        b.count(_entities(b)) / nn * 10,
        *_consistency(b, nl),
        spaces2 / nl,
        kw.sum(1) / ni,
        idents / nn * 5,
        cs,
        cs * (1 - cs) * 4,
        prose_chars,
        runs / nl,
        blocks / nl,
        longest / nl,
        np.minimum(cs, prose_chars),
    ]
    return np.hstack([
        h["punct"] / nn[:, None], np.column_stack(cols), np.sqrt(kw / ni[:, None]),
        np.sqrt(kw @ _LANG_MATRIX / ni[:, None]),
    ])
