"""The verifier's own measures of a document, written from the published definitions of the filter rules.

The rules kind (:mod:`gristmill.agent.kinds.rules`) enforces "mean word length between 3 and 10" or "at
most 90% of lines starting with a bullet" with the operators' signals and counting steps; the check
measures the same property here, in plain Python over the kept text, so an operator whose definition
differs (a tokenizer that counts punctuation as words, "characters in duplicated lines" counting only the
repeats) shows up as kept documents that break the rule, which the repair then tightens away.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable

BULLETS = ("•", "-", "*", "‣", "◦", "●", "⁃")
TERMINAL = (".", "!", "?", '"', "'", "”", "’")  # C4's terminal punctuation: a full stop, ! ? or a closing quote
_TAG = re.compile(r"<[^>]*>|&#?\w+;")
_NULLS = frozenset({"null", "none", "nan", "undefined"})
GOPHER_STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})


def _nonblank(t: str) -> list[str]:
    return [ln for ln in t.split("\n") if ln.strip()]


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def words(t: str) -> float:
    from gristmill.ops.filters import count_text_words

    return float(count_text_words([t])[0])


def mean_word_length(t: str) -> float:
    ws = []
    for w in t.split():
        i, j = 0, len(w)
        while i < j and _is_punct(w[i]):
            i += 1
        while j > i and _is_punct(w[j - 1]):
            j -= 1
        if j > i:
            ws.append(j - i)
    return sum(ws) / len(ws) if ws else 0.0


def symbol_word_ratio(t: str) -> float:
    n = len(t.split())
    return (t.count("#") + t.count("...") + t.count("…")) / n if n else 0.0


def bullet_line_share(t: str) -> float:
    ls = _nonblank(t)
    return sum(ln.lstrip().startswith(BULLETS) for ln in ls) / len(ls) if ls else 0.0


def ellipsis_line_share(t: str) -> float:
    ls = _nonblank(t)
    return sum(ln.rstrip().endswith(("...", "…")) for ln in ls) / len(ls) if ls else 0.0


def punct_end_line_share(t: str) -> float:
    ls = _nonblank(t)
    return sum(ln.rstrip().endswith(TERMINAL) for ln in ls) / len(ls) if ls else 0.0


def short_line_share(t: str, n: int = 30) -> float:
    ls = _nonblank(t)
    return sum(len(ln.strip()) < n for ln in ls) / len(ls) if ls else 0.0


def dup_line_char_share(t: str) -> float:
    """Characters in lines that occur more than once (every occurrence), over the characters of all lines."""
    ls = _nonblank(t)
    seen = Counter(ln.strip() for ln in ls)
    total = sum(len(ln) for ln in ls)
    return sum(len(ln) for ln in ls if seen[ln.strip()] > 1) / total if total else 0.0


def dup_line_share(t: str) -> float:
    """Lines that repeat an earlier line, over all lines (Gopher)."""
    ls = [ln.strip() for ln in _nonblank(t)]
    return (len(ls) - len(set(ls))) / len(ls) if ls else 0.0


def dup_para_share(t: str) -> float:
    ps = [" ".join(p.split()) for p in re.split(r"\n\s*\n", t) if p.strip()]
    return (len(ps) - len(set(ps))) / len(ps) if ps else 0.0


def avg_line_length(t: str) -> float:
    ls = t.split("\n")
    return sum(len(ln) for ln in ls) / len(ls)


def max_line_length(t: str) -> float:
    return float(max(len(ln) for ln in t.split("\n")))


def alnum_fraction(t: str) -> float:
    return sum(ch.isalnum() for ch in t) / len(t) if t else 0.0


def chars_no_punct_ws(t: str) -> float:
    return float(sum(1 for ch in t if not ch.isspace() and not _is_punct(ch)))


def alpha_words_ratio(t: str) -> float:
    ws = t.split()
    return sum(any(c.isalpha() for c in w) for w in ws) / len(ws) if ws else 0.0


def upper_ratio(t: str) -> float:
    letters = [c for c in t if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def digit_ratio(t: str) -> float:
    return sum(c.isdigit() for c in t) / len(t) if t else 0.0


def sentences(t: str) -> float:
    """Runs of sentence-ending marks followed by a space or the end of the text."""
    ends = ".!?。！？"
    n, i = 0, 0
    while i < len(t):
        if t[i] in ends:
            j = i
            while j < len(t) and t[j] in ends:
                j += 1
            n += j == len(t) or t[j].isspace()
            i = j
        else:
            i += 1
    return float(n)


def _grams(t: str, n: int) -> tuple[list[str], list[str]]:
    words = t.lower().split()
    return words, [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def top_ngram_share(t: str, n: int = 2) -> float:
    """Characters (in words) of the most frequent word n-gram times its count, over all word characters (Gopher)."""
    words, grams = _grams(t, n)
    total = sum(map(len, words))
    if not grams or not total:
        return 0.0
    g, c = Counter(grams).most_common(1)[0]
    return c * len(g.replace(" ", "")) / total if c > 1 else 0.0


def dup_ngram_share(t: str, n: int = 5) -> float:
    """Characters of the words covered by word n-grams that occur more than once, over all word characters."""
    words, grams = _grams(t, n)
    total = sum(map(len, words))
    if not grams or not total:
        return 0.0
    counts = Counter(grams)
    covered = [False] * len(words)
    for i, g in enumerate(grams):
        if counts[g] > 1:
            for k in range(i, i + n):
                covered[k] = True
    return sum(len(w) for w, c in zip(words, covered) if c) / total


def empty(t: str) -> float:
    """1 when nothing but whitespace, punctuation or symbols, markup tags, entities or a null placeholder."""
    rest = _TAG.sub(" ", t)
    return float(not any(any(c.isalnum() for c in w) and w.strip("\"'.,;:!?()[]{}").lower() not in _NULLS
                         for w in rest.split()))


MEASURES: dict[str, Callable[..., float]] = {f.__name__: f for f in (
    words, mean_word_length, symbol_word_ratio, bullet_line_share, ellipsis_line_share, punct_end_line_share,
    short_line_share, dup_line_char_share, dup_line_share, dup_para_share, avg_line_length, max_line_length,
    alnum_fraction, chars_no_punct_ws, alpha_words_ratio, upper_ratio, digit_ratio, empty, sentences, top_ngram_share,
    dup_ngram_share,
)}


def measure(name: str, text: str, param: int | None = None) -> float:
    fn = MEASURES[name]
    return fn(text, param) if param is not None else fn(text)
