"""What the requirement kinds share when they read a goal: clauses, numbers, negation and selection words.

The vocabularies live in ``assets/agent/*.yaml`` (data, not code); this module loads them once and offers
the few helpers every kind needs: cut a goal into clauses with their character spans, parse "2k", "fifty",
"five thousand" or "a third", and tell whether a word is excluded ("drop X", "X must go") or selected
("keep X") by the nearer polarity word of its own clause — so an exclusion in one clause never turns into
a selection in another.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import yaml

from gristmill.agent.requirement import Clause, Span


@functools.cache
def vocabulary(name: str) -> Any:
    """The data file ``assets/agent/<name>.yaml`` (or ``.json``), parsed; a missing file is a packaging bug."""
    base = resources.files("gristmill") / "assets" / "agent"
    for ext in (".yaml", ".json"):
        f = base / f"{name}{ext}"
        if f.is_file():
            return yaml.safe_load(f.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"agent vocabulary {name!r} is not bundled (assets/agent/{name}.yaml)")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def terms(words: list[str]) -> str:
    """A regular expression matching any of ``words`` as whole words (longest first; spaces match any run of
    blanks; a word ending or starting in a non-word character such as "c++" still gets its boundary)."""
    return r"(?<![\w-])(?:" + _alternation(words) + r")(?![\w-])"


PHRASES = vocabulary("phrases")
NUMBER_WORDS: dict[str, int] = PHRASES["numbers"]
FRACTIONS: dict[str, float] = PHRASES["fractions"]
NEG = rf"(?:{_alternation(PHRASES['negations'])})"
POSTFIX_NEG = rf"(?:{_alternation(PHRASES['postfix_negations'])})"
SELECT = rf"(?:{_alternation(PHRASES['selections'] + PHRASES['wishes'])})"
SELECTING = re.compile(rf"\b(?:{_alternation(PHRASES['selections'])})\b")
_NUMWORD = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUM = (r"(\d[\d,_]*(?:\.\d+)?(?:\s*(?:k|m|b|thousand|million|billion))?(?![\w])|\.\d+|"
       rf"(?:{_NUMWORD})(?:[\s-]+(?:hundred|thousand|million))?(?:\s+(?:and\s+)?(?:{_NUMWORD}))?(?![\w]))")
FRACTION = rf"(?:{_alternation(list(FRACTIONS))})"
FILLER = frozenset(PHRASES["filler"])
# a quoted phrase: "...", “...”, `...`, or '...' (an apostrophe inside, as in 'I don't have feelings', is not its end)
QUOTED = re.compile(r"\"([^\"\n]{1,80})\"|“([^”\n]{1,80})”|`([^`\n]{1,80})`|(?<!\w)'((?:[^'\n]|'(?=\w)){1,80})'(?!\w)")


def quoted_text(m: re.Match[str]) -> str:
    """The text inside a :data:`QUOTED` match."""
    return next(g for g in m.groups() if g is not None)
DESCRIPTIONS: dict[str, list[str]] = PHRASES["descriptions"]
UNSUPPORTED: dict[str, str] = PHRASES["unsupported"]
_CLAUSE_VERBS = _alternation(PHRASES["clause_verbs"])
# sentence punctuation and semicolons; ", and" / " but " / " then "; a comma or "and" before a verb. "but" after
# everything/anything/all/nothing is an exception ("everything but French"), not a new clause.
_BUT = r"(?<!everything)(?<!anything)(?<!\ball)(?<!nothing)(?<!\bnone)"
_SPLIT = re.compile(
    r"[.;\n!?]+(?=\s|$)|[;\n]+|,\s*(?:and|then|also)\s+|" + _BUT + r",\s*but\s+|" + _BUT + r"\s+but\s+(?!not\b)|\s+then\s+"
    r"|,\s+(?=(?:" + _CLAUSE_VERBS + r")\b)"
    r"|\s+and\s+(?=(?:" + _CLAUSE_VERBS + r")\b)|\s+(?:plus|as well as)\s+(?=(?:" + _CLAUSE_VERBS + r")\b)",
    re.IGNORECASE,
)


def lower(text: str) -> str:
    """Lower case with the same length as ``text``, so positions in it are positions in the goal."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def split_clauses(text: str) -> list[Clause]:
    """The goal cut at sentence ends, semicolons and verb-led ", and" / "and" joins, with character spans."""
    out: list[Clause] = []
    pos = 0
    protected = [m.span() for m in re.finditer(r"\bbetween\s+\S+\s+and\s+\S+|\(([^()]*)\)", text, re.IGNORECASE)]
    protected += [m.span() for m in QUOTED.finditer(text)]  # 'like "Hello. how are you?"': one piece
    for m in list(_SPLIT.finditer(text)) + [None]:
        if m is not None and any(s < m.start() < e for s, e in protected):
            continue  # "between 3 and 10", a parenthesis: one piece
        end = m.start() if m else len(text)
        piece = text[pos:end]
        stripped = piece.strip(" \t,:")
        if stripped:
            start = pos + piece.index(stripped)
            out.append(Clause(stripped, start, start + len(stripped)))
        if m:
            pos = m.end()
    return out


def parse_number(s: str) -> float:
    """"2k" -> 2000, "100,000" -> 100000, "fifty" -> 50, "five thousand" -> 5000, "1.5k" -> 1500, ".7" -> 0.7."""
    s = s.strip().lower().replace(",", "").replace("_", "")
    if s in NUMBER_WORDS:
        return float(NUMBER_WORDS[s])
    if s in FRACTIONS:
        return float(FRACTIONS[s])
    words = re.split(r"[\s-]+", s)
    if words and words[0] in NUMBER_WORDS:
        total, cur = 0.0, 0.0
        for w in words:
            if w == "and":
                continue
            if w in ("hundred", "thousand", "million"):
                cur = (cur or 1) * {"hundred": 100, "thousand": 1000, "million": 1_000_000}[w]
                if w != "hundred":
                    total, cur = total + cur, 0.0
            elif w in NUMBER_WORDS:
                cur += NUMBER_WORDS[w]
            else:
                raise ValueError(f"not a number: {s!r}")
        return total + cur
    mult = 1.0
    for suffix, m in (("thousand", 1e3), ("million", 1e6), ("billion", 1e9), ("k", 1e3), ("m", 1e6), ("b", 1e9)):
        if s.endswith(suffix):
            s, mult = s[: -len(suffix)].strip(), m
            break
    return float(s) * mult


def negated_before(clause: str, start: int, window: int = 48) -> bool:
    """True when the nearest polarity word before ``start`` (in the same clause) excludes: "drop X", "no X",
    "except X"; a nearer selecting word ("drop code and keep X") wins."""
    before = clause[max(0, start - window) : start]
    if before.rstrip().endswith("non-") or before.endswith("non"):
        return True
    negs = [m.end() for m in re.finditer(rf"\b{NEG}\b[^,]*$", before)]
    if not negs:
        return False
    neg_spans = [m.span() for m in re.finditer(rf"\b{NEG}\b", before)]
    last_neg = max(s for s, _ in neg_spans)
    # a selecting word inside an exclusion ("don't want") is the exclusion's
    sels = [m.start() for m in re.finditer(rf"\b{SELECT}\b", before) if not any(s <= m.start() < e for s, e in neg_spans)]
    # "nothing but X", "nothing other than X", "only ... except" read as selections of X
    if re.search(r"\bnothing\s+(?:but|other than|except|besides)\s+(?:\w+\s+){0,2}$", before):
        return False
    return not (sels and max(sels) > last_neg)


def negated_after(clause: str, end: int, window: int = 40) -> bool:
    """True when the words right after a term exclude it ("exact copies go", "the spam must go", "code is
    removed"), with at most a few words in between and no comma."""
    after = clause[end : end + window]
    return re.match(rf"(?:\s+(?:\w+|'\w+)){{0,3}}?\s+{POSTFIX_NEG}\b", after.split(",")[0]) is not None


def excluded(clause: str, start: int, end: int, window: int = 48) -> bool:
    """Whether the term at ``start:end`` of ``clause`` is excluded, by a word before it or after it."""
    return negated_before(clause, start, window) or (not _selected_before(clause, start, window) and negated_after(clause, end))


def _selected_before(clause: str, start: int, window: int) -> bool:
    before = clause[max(0, start - window) : start]
    return re.search(rf"\b{SELECT}\b", before) is not None


def hull(spans: list[Span]) -> Span | None:
    """The smallest span covering all of ``spans`` (None for none)."""
    return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else None
