"""Read a goal written in another language, or with a typo, through the English vocabularies.

The requirement kinds read English. A goal in Chinese ("去除重复文本", "做 RAG 清洗和文本去重") is first
*glossed*: its terms are replaced by the English words of ``assets/agent/glossary.yaml`` ("remove duplicate
text"), longest term first, Chinese numerals become digits and full-width punctuation becomes ASCII, so
every kind's vocabulary (dedup, language names, length units, PII kinds...) serves the goal without a
second copy. A goal with a misspelt keyword ("remvoe", "dedupliate") gets the one vocabulary word it is
one slip away from. Either way the reading keeps, for every character, the characters of the goal it came
from, so requirement spans and not-understood clauses still point into the goal as the user wrote it, and
every replacement is printed as an assumption. Quoted text is never glossed or corrected: it is what the
user wants matched.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from gristmill.agent.phrases import FILLER, vocabulary
from gristmill.agent.requirement import Span

_GLOSSARY = vocabulary("glossary")
_CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|「[^」]*」|『[^』]*』|'[^'\n]{1,60}'(?!\w)|`[^`]*`")
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_ZH_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_TOKEN = re.compile(r"[a-z][a-z'-]*[a-z]")


@dataclass
class Reading:
    """What the kinds read (``text``) and, per character of it, the goal characters it stands for."""

    source: str
    text: str
    starts: list[int]
    ends: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def identity(self) -> bool:
        return self.text == self.source

    def to_goal(self, span: Span) -> Span:
        """A span of the reading as a span of the goal (the hull of the goal characters it covers)."""
        a, b = span
        if self.identity or not self.text:
            return span
        a = min(max(a, 0), len(self.text) - 1)
        b = min(max(b, a + 1), len(self.text))
        return (self.starts[a], max(self.ends[b - 1], self.starts[a]))


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def emit(self, s: str, start: int, end: int) -> None:
        for ch in s:
            self.out.append(ch)
            self.starts.append(start)
            self.ends.append(end)

    def reading(self, notes: list[str]) -> Reading:
        return Reading(self.source, "".join(self.out), self.starts, self.ends, notes)


def zh_number(s: str) -> int | None:
    """"五十" -> 50, "两千" -> 2000, "一百二十" -> 120, "三" -> 3; None for what is not a numeral."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _ZH_DIGITS:
            if digit is not None:  # "一二" is not a numeral
                return None
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit == 10_000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


@functools.cache
def _zh_terms() -> tuple[dict[str, str], int]:
    terms = {k: ("" if v is None else str(v)) for k, v in _GLOSSARY["zh"].items()}
    return terms, max(map(len, terms))


def _gloss_cjk(b: _Builder, text: str, offset: int, notes: list[str]) -> None:
    terms, longest = _zh_terms()
    punct = _GLOSSARY["punctuation"]
    i = 0
    glossed: list[str] = []
    while i < len(text):
        ch = text[i]
        num = _ZH_NUMBER.match(text, i)
        if num and zh_number(num.group(0)) is not None and not any(text.startswith(t, i) and len(t) > len(num.group(0))
                                                                      for t in terms if t[0] == ch):
            b.emit(f" {zh_number(num.group(0))} ", offset + i, offset + num.end())
            i = num.end()
            continue
        for n in range(min(longest, len(text) - i), 0, -1):
            t = text[i : i + n]
            if t in terms:
                b.emit(f" {terms[t]} " if terms[t] else " ", offset + i, offset + i + n)
                if terms[t]:
                    glossed.append(f"{t} = {terms[t]}")
                i += n
                break
        else:
            b.emit(str(punct.get(ch, ch)), offset + i, offset + i + 1)
            i += 1
    if glossed:
        notes.append("read through the glossary: " + ", ".join(dict.fromkeys(glossed)))


@functools.cache
def known_words() -> frozenset[str]:
    """Every English word the vocabularies hold: the targets of typo correction."""
    words: set[str] = set(FILLER)

    def walk(x: object) -> None:
        if isinstance(x, str):
            words.update(w for w in re.findall(r"[a-z]+(?:-[a-z]+)*", x.lower()) if len(w) > 1)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    # every vocabulary a kind reads, so that a word one kind knows is never "corrected" into another's
    base = resources.files("gristmill") / "assets" / "agent"
    for f in sorted(base.iterdir(), key=lambda f: f.name):
        if f.name.endswith((".yaml", ".json")) and f.name.rsplit(".", 1)[0] != "glossary":
            walk(vocabulary(f.name.rsplit(".", 1)[0]))
    walk(list(_GLOSSARY["zh"].values()))
    walk(_GLOSSARY["known"])
    return frozenset(words)


def _one_slip(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one slip: two neighbours swapped (length >= 4), one letter left out or
    added (length >= 7), or one letter replaced (length >= 9). Short words are never corrected: too
    many real words are one letter apart."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return la >= 4
        return len(diff) == 1 and la >= 9
    if abs(la - lb) != 1 or min(la, lb) < 6:
        return False
    short, long_ = (a, b) if la < lb else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


def correction(word: str) -> str | None:
    """The one known word ``word`` is a slip of, or None (known, unknown, or ambiguous)."""
    known = known_words()
    w = word.lower()
    if w in known or len(w) < 4 or not w.isascii():
        return None
    found = {k for k in known if abs(len(k) - len(w)) <= 1 and k[:1] == w[:1] and _one_slip(w, k)}
    return found.pop() if len(found) == 1 else None


def _latin_section(text: str) -> tuple[str, dict[str, str]] | None:
    """The Latin-script glossary section the goal is written in, if any (two markers, outnumbering English)."""
    words = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.lower())
    english = sum(w in _GLOSSARY["english_markers"] for w in words)
    for lang, spec in _GLOSSARY.get("latin", {}).items():
        hits = sum(w in spec["markers"] for w in words)
        if hits >= 2 and hits > english:
            return lang, {k.lower(): str(v) for k, v in spec["terms"].items()}
    return None


def read_goal(text: str) -> Reading:
    """The goal as the requirement kinds read it (see the module docstring)."""
    b = _Builder(text)
    notes: list[str] = []
    section = _latin_section(text)
    latin_terms = section[1] if section else {}
    latin_rx = (re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in sorted(latin_terms, key=len, reverse=True))
                           + r")(?![\w-])", re.IGNORECASE) if latin_terms else None)
    glossed_latin: list[str] = []
    pos = 0
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    corrected: list[str] = []

    def plain(seg: str, off: int) -> None:
        i = 0
        for m in _CJK.finditer(seg):
            if m.start() < i:
                continue
            _latin(seg[i : m.start()], off + i)
            j = m.start()
            while j < len(seg) and (_CJK.match(seg[j]) or (seg[j].isspace() and j + 1 < len(seg) and _CJK.match(seg[j + 1]))
                                    or seg[j].isdigit() or seg[j] == "%"):
                j += 1
            _gloss_cjk(b, seg[m.start() : j], off + m.start(), notes)
            i = j
        _latin(seg[i:], off + i)

    def _latin(seg: str, off: int) -> None:
        if latin_rx is not None:
            i = 0
            for m in latin_rx.finditer(seg):
                _words(seg[i : m.start()], off + i)
                b.emit(latin_terms[m.group(0).lower()], off + m.start(), off + m.end())
                glossed_latin.append(f"{m.group(0)} = {latin_terms[m.group(0).lower()]}")
                i = m.end()
            _words(seg[i:], off + i)
        else:
            _words(seg, off)

    def _words(seg: str, off: int) -> None:
        i = 0
        for m in _TOKEN.finditer(seg.lower()):
            fix = correction(m.group(0))
            if fix is None:
                continue
            for k in range(i, m.start()):
                b.emit(seg[k], off + k, off + k + 1)
            b.emit(fix, off + m.start(), off + m.end())
            corrected.append(f"{seg[m.start():m.end()]!r} as {fix!r}")
            i = m.end()
        for k in range(i, len(seg)):
            b.emit(seg[k], off + k, off + k + 1)

    for s, e in quoted:
        plain(text[pos:s], pos)
        for k in range(s, e):
            b.emit(text[k], k, k + 1)
        pos = e
    plain(text[pos:], pos)
    if glossed_latin and section:
        notes.append(f"read as {section[0]} through the glossary: " + ", ".join(dict.fromkeys(glossed_latin)))
    if corrected:
        notes.append("read " + ", ".join(corrected) + " (a typo?)")
    return b.reading(notes)
