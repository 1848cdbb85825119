"""Sentence case: capitalise a sentence that starts with a lower-case letter ("Hello. how are you?").

A truecasing heuristic of the kind UltraChat 200k's card describes ("truecasing heuristics to fix the
grammatical errors"), not a model: only the first letter of a word that follows a full stop changes, and only
where that reading is safe. The word must be a common English sentence opener ("the", "it", "each", "how"),
one the document itself writes capitalised elsewhere, or one it uses nowhere else ("it just clicks. lights
on the dashboard are dim"); a word it repeats in lower case and never capitalises is taken for a name the
writer keeps in lower case (a command such as "gzip", a column such as "attlen", a word of another
language). "?" and "!" count as sentence ends only when asked (``ends``): in verse and older prose they are
often followed by a lower-case word ("What, one good in ten? you corrupt the song"). Left alone: a word
after an abbreviation ("e.g. this", "Fig. 3", "Dr. who"), an initial ("J. doe"), a list marker at the start
of a line ("iii. publicity", "3. tail"), an ellipsis ("wait... and then") or a closing quote ('"Stop." she
said'); a word with an upper-case letter or a digit inside ("iPhone", "x86"); a host name ("example.com");
lines that look like code (braces, semicolons, assignments, indented blocks, comments). Text in scripts
without letter case is untouched.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.lexicon import stopwords
from gristmill.ops.registry import register

# abbreviations after which a full stop does not end a sentence (lower-cased, without the dot)
_ABBREVIATIONS = (
    "e.g i.e etc vs cf al approx fig figs no nos nr mr mrs ms dr st jr sr prof inc ltd co corp ca resp viz "
    "p pp vol vols ch sec sect eq eqs ref refs ed eds est dept univ misc op seq et ibid id ex incl min max "
    "avg jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun "
    "n pl sing adj adv prep conj pron interj neut fem masc pref suff comp superl obs imp lat gr fr ger ital sp")
ABBREVIATIONS = frozenset(_ABBREVIATIONS.split())
# words that often open an English sentence: the bundled stop words and a few more
_OPENERS = (
    "each every these those its our your how why when where whom whose then also however therefore thus please "
    "thanks thank yes no here can could should would may might must let now first next finally after before "
    "since while although though because unless once some many most any both either neither such")
OPENERS = stopwords("en") | frozenset(_OPENERS.split())
# a sentence end: a word (of 2+ letters, or a number inside the line: "It costs $80."), an optional closing
# bracket or quote ("(... Friday).", "open()."), then . ! or ?, an optional closing bracket, one or more spaces,
# then an all-lower-case word
_START = re.compile(r"(?P<prev>[^\W_][\w.'’-]*?)(?P<pre>\(\)|[)\]\"”]{1,2})?(?P<end>[.!?])(?P<close>[)\]]?)(?P<gap>[ \t]+)"
                    r"(?P<word>[a-z][a-z'’-]*)(?P<after>\w|\.\w)?")
_CAPITALISED = re.compile(r"\b[A-Z][a-z'’-]+\b")
_LOWER = re.compile(r"(?<![\w.])[a-z][a-z'’-]*\b")


# consonant pairs that can open an English word; a word opening with another pair ("sshd", "pgoutput",
# "ldapmodify") reads as a name, not as a sentence's first word
_ONSET_PAIRS = "bl br ch cl cr dr dw fl fr gl gr kn ph pl pr ps qu sc sh sk sl sm sn sp st sw th tr tw wh wr"
_ONSETS = frozenset(_ONSET_PAIRS.split())
_VOWELS = frozenset("aeiouy")


def _looks_english(word: str) -> bool:
    """Two letters or more, a vowel, no run of five consonants, and an opening English words have."""
    w = word.rstrip("'’-")
    if len(w) < 2 or not _VOWELS & set(w) or re.search(r"[^aeiouy'’-]{5}", w):
        return False
    return w[0] in _VOWELS or w[1] in _VOWELS or w[:2] in _ONSETS


class _Everything(frozenset):
    def __contains__(self, item: object) -> bool:
        return True


_ALL: frozenset[str] = _Everything()


def _english_share(text: str) -> float:
    """Share of the words that are English stop words (about 0.3-0.5 in English prose, near 0 in other languages)."""
    words = _LOWER.findall(text.lower()[:5000])
    return sum(w in OPENERS for w in words) / len(words) if words else 0.0


def _repeated(text: str) -> frozenset[str]:
    """Lower-case words that occur more than once in ``text``."""
    seen: set[str] = set()
    twice: set[str] = set()
    for w in _LOWER.findall(text):
        (twice if w in seen else seen).add(w)
    return frozenset(twice)
# a line of code, not prose about code: braces or a semicolon ending it, indentation, an assignment or a keyword
# opening it, comparison and access operators, tags
_CODE_LINE = re.compile(r"[{};]\s*$|^\s*[{}]|^(?: {4}|\t)|^\s*(?://|#|/\*|\*\s|--\s)|^\s*[\w.\[\]]+\s*[-+*/]?=\s*\S|==|!=|->|=>|::|</?\w+>|"
                        r"^\s*(?:def|class|import|from|return|if|elif|for|while|var|let|const|function|public|private|#include)\b")


def _is_start(m: re.Match[str], line: str, min_prev: int, ends: str, known: frozenset[str],
              repeated: frozenset[str] = frozenset()) -> bool:
    if m.group("end") not in ends:
        return False
    word = re.split(r"['’]", m.group("word").lower())[0]  # "it's" opens like "it"
    if word not in OPENERS and word not in known and (word in repeated or not _looks_english(word)):
        return False  # a word the document repeats in lower case and never capitalises, or that does not read
        #               as an English word ("sshd", "pgoutput", "f"): a name, kept as written
    prev = m.group("prev").lower().rstrip(".")
    if not line[: m.start("prev")].strip() and (prev.isdigit() or len(prev) == 1 or re.fullmatch(r"[ivxlc]{1,5}", prev)):
        return False  # "1. item", "iii. publicity", "a. first": a list marker, not a sentence
    if not prev.isdigit() and (len(prev) < min_prev or prev in ABBREVIATIONS or "." in prev):
        return False  # initials, "e.g", "U.S", abbreviations ("$80. it's" does end a sentence)
    if m.start("end") > 0 and line[m.start("end") - 1] == ".":  # an ellipsis
        return False
    return not m.group("after")  # "example.com", "x86": the word runs on into a dot and a letter, or a digit


def sentence_case_line(line: str, min_prev: int = 2, ends: str = ".", known: frozenset[str] = frozenset(),
                       repeated: frozenset[str] | None = None) -> tuple[str, int]:
    """``line`` with every sentence that starts in lower case capitalised, and how many were; ``known``: words
    the document writes capitalised elsewhere (besides :data:`OPENERS`); ``repeated``: words it uses more than
    once in lower case (default: those of the line itself)."""
    if repeated is None:
        repeated = _repeated(line)
    if _CODE_LINE.search(line) or not re.search(rf"[{re.escape(ends)}][)\]]?[ \t]+[a-z]", line):
        return line, 0
    out, last, n = [], 0, 0
    for m in _START.finditer(line):
        if not _is_start(m, line, min_prev, ends, known, repeated):
            continue
        i = m.start("word")
        out.append(line[last:i])
        out.append(line[i].upper())
        last, n = i + 1, n + 1
    if not n:
        return line, 0
    out.append(line[last:])
    return "".join(out), n


class SentenceCaseParams(OpParams):
    ends: str = Field(".", pattern=r"^[.!?]{1,3}$", description="the marks that end a sentence: '.' (default) or "
                      "also '?' and '!' ('.!?'), which verse and older prose often follow with a lower-case word")
    min_prev_letters: int = Field(2, ge=1, le=10, description="letters the word before the sentence end must have "
                                  "(1 would also read initials such as 'J.' as sentence ends)")


@register
class SentenceCase(Operator):
    name = "sentence_case"
    family = "clean"
    description = """Truecase sentence starts: capitalise the first letter of a sentence that starts with a
    lower-case letter after a full stop ("Hello. how are you?" becomes "Hello. How are you?"). A heuristic, not
    a model: only common sentence openers and words the document capitalises elsewhere change; abbreviations
    (e.g., Dr., Fig.), initials, list markers, ellipses, quotes, names kept in lower case (gzip), words such as
    iPhone or example.com, and code lines are left alone. Rewrites the text; drops nothing."""
    Params = SentenceCaseParams
    writes = ("text",)
    signals = (Signal("fixed", "int", "sentence starts capitalised in the document"),)

    def apply(self, batch: Batch) -> dict[str, Any]:
        texts = batch.texts()
        fixed = np.zeros(len(texts), np.int64)
        out = []
        for i, t in enumerate(texts):
            p = self.params
            if not re.search(rf"[{re.escape(p.ends)}][)\]]?[ \t]+[a-z]", t):
                out.append(t)
                continue
            known = frozenset(w.lower() for w in _CAPITALISED.findall(t))
            repeated = _repeated(t) if _english_share(t) >= 0.2 else _ALL  # other languages: openers and known only
            lines = []
            for line in t.split("\n"):
                new, n = sentence_case_line(line, p.min_prev_letters, p.ends, known, repeated)
                lines.append(new)
                fixed[i] += n
            out.append("\n".join(lines))
        batch.set_texts(out)
        return {"fixed": fixed}
