"""What the three dedup kinds share: one reading of a goal's duplicate wording (exact, near, semantic)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gristmill.agent.kinds.base import GoalText
from gristmill.agent.requirement import Span

_KEEP_DUPS = re.compile(r"\b(?:keep|allow|don'?t remove|do not remove|leave)\s+(?:the\s+)?(?:duplicates|dupes|copies)|"
                        r"\b(?:no|without|skip|don'?t)\s+(?:any\s+)?dedup")
_EXACT = re.compile(r"\b(?:exact(?:ly)?[- ](?:dup\w*|cop\w+|same|identical|match\w*|ones?|repeats?)|identical (?:docs|documents|texts?|copies|rows|entries|files|records|conversations)|"
                    r"verbatim (?:dup\w*|copies|repeats)|byte[- ]identical|exact dedup\w*|"
                    r"exact(?=\s*(?:and|or|&|/|,)\s*(?:near|fuzzy|semantic)))\b")
_NEAR = re.compile(r"\b(?:near[- ]?(?:dup\w*|identical|copies)|fuzzy(?: dup\w*| dedup\w*| matches)?|almost (?:identical|the same|duplicate)|minhash(?:[- ]?lsh)?|lsh|"
                   r"similar (?:docs|documents|texts?|pages|articles)|nearly (?:identical|the same)|mostly the same|lightly edited|"
                   r"small edits|near[- ]?dedup\w*|shar(?:e|es|ing)\s+(?:over\s+|more than\s+|at least\s+)?\d{1,3}\s*(?:%|percent)[^.;]{0,30}?"
                   r"(?:shingles|n-?grams|\d+-grams|words)|shingle overlap|overlapping (?:shingles|n-?grams))\b")
_SEMANTIC = re.compile(r"\bsemantic(?:ally)?\b.{0,30}\b(?:dup\w*|similar|same|redundan\w*)|\bparaphras\w*|\bsame meaning\b")
_GENERIC = re.compile(r"\b(?:dedup\w*|de-dup\w*|duplicat\w*|dupes?|repeated (?:docs|documents|conversations|dialogues|records|texts|files|pages|entries|rows|examples|samples|chats)|"
                      r"unique (?:docs|documents|texts)|redundan\w*|copies|one copy(?: of each)?)\b")
# what else a dedup request says, read with it: shingles, the survivor, how it is done
_EXTRAS = re.compile(r"\b(?:(?:on|with|using|over|of)\s+)?(?:lower-?cased\s+|word\s+|character\s+|char\s+)?\d+[- ]?(?:grams?|word shingles|shingles)\b|"
                     r"\b(?:word|character|char)?\s*(?:\d+-gram\s+)?shingles\b|\blower-?cased\b|"
                     r"\bkeep(?:ing)?\s+(?:only\s+)?(?:the\s+)?(?:first|earliest|earlier|one)(?:\s+(?:occurrence|copy|one|instance|version|of each|of them))*\b|"
                     r"\b(?:the\s+)?(?:first|earlier|earliest)\s+(?:one|copy|occurrence)\s+(?:stays|wins|is kept|survives|remains)\b|"
                     r"\btreat\w*\b[^.;]{0,40}?\bas\s+(?:the\s+same(?:\s+(?:doc|document|text|thing))?|duplicates?|one)\b|"
                     r"\b(?:of\s+)?another(?:\s+(?:one|doc|document))?\b|\beach other\b|\bglobal(?:ly)?\b|\bat the (?:file|document|doc) level\b|"
                     r"\b(?:when|if|where)\s+(?:two|2|several|multiple|some)\s+\w+\s+(?:are|look)\s+(?:copies|duplicates|identical|the same)\b")
_NEAR_OFF = re.compile(r"\b(?:but\s+)?not\s+(?:the\s+)?near[- ]?(?:dup\w*|identical|copies)|\bleave\s+(?:the\s+)?near[- ]?(?:dup\w*|identical|copies)(?:\s+alone)?|"
                       r"\bkeep\s+(?:the\s+)?near[- ]?(?:dup\w*|identical|copies)|\bexact\s+(?:ones\s+|matches\s+|duplicates\s+)?only\b|\bonly\s+exact\b")


# dedup of parts of documents is the boilerplate kind's ("paragraph-level deduplication", "duplicated lines")
_NOT_DOCS = re.compile(r"\b(?:paragraph|line|sentence)[- ]level (?:dedup\w*|de-?duplicat\w*)|\b(?:duplicated?|repeated) (?:lines|paragraphs)\b")


@dataclass
class DedupWording:
    exact: re.Match[str] | None = None
    near: re.Match[str] | None = None
    semantic: re.Match[str] | None = None
    generic: re.Match[str] | None = None  # "duplicates" not qualified by the above
    threshold: float | None = None
    generic_spans: list[Span] = field(default_factory=list)
    off: bool = False
    near_off: bool = False  # "exact ones only, leave the near-duplicates alone"
    n: int | None = None  # shingle size ("MinHash on 5-grams", "13-grams")
    rest: str = ""  # the goal with the exact/near/semantic wording blanked out


_CACHE: dict[str, DedupWording] = {}


def dedup_wording(goal: GoalText) -> DedupWording:
    """How the goal words dedup (cached per goal text: three kinds ask). Its words are claimed, so that
    "repeated conversations" is not also a selection of conversations."""
    w = _wording(goal)
    for s in w.generic_spans:
        if not goal.is_claimed(*s):
            goal.claim(s, "dedup")
    return w


def _wording(goal: GoalText) -> DedupWording:
    low = _NOT_DOCS.sub(lambda m: " " * len(m.group(0)), goal.free("dedup"))  # same length
    if low in _CACHE:
        return _CACHE[low]
    w = DedupWording()
    if _KEEP_DUPS.search(low):
        w.off = True
    else:
        m = re.search(r"(?:jaccard|similarity|similar)\D{0,20}?(0?\.\d+|\d{1,3}\s*%)(?:\s+or\s+(?:more|higher|above))?", low) or \
            re.search(r"(0?\.\d+|\d{1,3}\s*%)\s*(?:jaccard|similarity|minhash)(?:\s+similarity)?", low) or \
            re.search(r"(?:(?:above|over|more than|at least)\s+)?(\d{1,3})\s*(?:%|percent)\s*(?:or more\s+)?(?:similar\w*|overlap\w*|identical|"
                      r"(?:of\s+(?:their|the|its)\s+)?(?:word\s+)?(?:\d+-gram\s+)?(?:shingles|n-grams|\d+-grams|words|content|text))", low)
        if m:
            v = m.group(1).strip()
            w.threshold = float(v.rstrip("%").strip()) / 100 if v.endswith("%") or float(v.rstrip("%")) > 1 else float(v)
            w.generic_spans.append(m.span())
            pre = re.search(r"(?:above|over|more than|at least|sharing|share|shares)\s*$", low[: m.start()])
            if pre:
                w.generic_spans.append((pre.start(), m.start()))
        g = re.search(r"\b(\d+)[- ]?(?:grams?|word shingles)\b", low)
        if g and 1 <= int(g.group(1)) <= 64:
            w.n = int(g.group(1))
        w.near_off = bool(_NEAR_OFF.search(low))
        w.exact, w.near, w.semantic = _EXACT.search(low), _NEAR.search(low), _SEMANTIC.search(low)
        taken = [x.span() for x in (w.exact, w.near, w.semantic) if x]
        rest = list(low)
        for s, e in taken:
            rest[s:e] = " " * (e - s)
        rest_s = "".join(rest)
        w.rest = rest_s
        w.generic = _GENERIC.search(rest_s)
        w.generic_spans += [x.span() for x in _GENERIC.finditer(rest_s)]
        w.generic_spans += [x.span() for pat in (_EXACT, _NEAR, _SEMANTIC, _NEAR_OFF) for x in pat.finditer(low)]
        if w.exact or w.near or w.semantic or w.generic:
            w.generic_spans += [x.span() for x in _EXTRAS.finditer(low)]
        if w.near_off:
            w.near = None
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[low] = w
    return w
