"""What the requirement kinds share when they read a goal: clauses, numbers, negation and selection words.

The vocabularies live in ``assets/agent/*.yaml`` (data, not code); this module loads them once and offers
the few helpers every kind needs: cut a goal into clauses with their character spans, parse "2k" or
"fifty", and tell whether a word is excluded ("drop X") or selected ("keep X") by the nearer verb of its
own clause — so an exclusion in one clause never turns into a selection in another.
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


PHRASES = vocabulary("phrases")
NUMBER_WORDS: dict[str, int] = PHRASES["numbers"]
NEG = rf"(?:{_alternation(PHRASES['negations'])})"
SELECT = rf"(?:{_alternation(PHRASES['selections'])})"
NUM = r"(\d[\d,_]*(?:\.\d+)?\s*(?:k|m|b|thousand|million|billion)?|" + "|".join(
    sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
FILLER = frozenset(PHRASES["filler"])
_CLAUSE_VERBS = _alternation(PHRASES["clause_verbs"])
# sentence punctuation and semicolons; ", and" / " but " / " then "; a comma or "and" before a verb
_SPLIT = re.compile(
    r"[.;\n!?]+(?=\s|$)|[;\n]+|,\s*(?:and|but|then|also)\s+|\s+but\s+|\s+then\s+|,\s+(?=(?:" + _CLAUSE_VERBS + r")\b)"
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
    for m in list(_SPLIT.finditer(text)) + [None]:
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
    s = s.strip().lower().replace(",", "").replace("_", "")
    if s in NUMBER_WORDS:
        return float(NUMBER_WORDS[s])
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
    last_neg = max(m.start() for m in re.finditer(rf"\b{NEG}\b", before))
    sels = [m.start() for m in re.finditer(rf"\b{SELECT}\b", before)]
    # "nothing but X", "nothing other than X", "only ... except" read as selections of X
    if re.search(r"\bnothing\s+(?:but|other than|except|besides)\s+(?:\w+\s+){0,2}$", before):
        return False
    return not (sels and max(sels) > last_neg)


def hull(spans: list[Span]) -> Span | None:
    """The smallest span covering all of ``spans`` (None for none)."""
    return (min(s for s, _ in spans), max(e for _, e in spans)) if spans else None
