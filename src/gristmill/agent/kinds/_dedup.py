"""What the three dedup kinds share: one reading of a goal's duplicate wording (exact, near, semantic)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gristmill.agent.kinds.base import GoalText
from gristmill.agent.requirement import Span

_KEEP_DUPS = re.compile(r"\b(?:keep|allow|don'?t remove|do not remove|leave)\s+(?:the\s+)?(?:duplicates|dupes|copies)|"
                        r"\b(?:no|without|skip|don'?t)\s+(?:any\s+)?dedup")
_EXACT = re.compile(r"\b(?:exact(?:ly)?[- ](?:dup\w*|cop\w+|same|identical|match\w*)|identical (?:docs|documents|texts?|copies|rows|entries)|"
                    r"verbatim (?:dup\w*|copies|repeats)|byte[- ]identical|exact dedup\w*|"
                    r"exact(?=\s*(?:and|or|&|/|,)\s*(?:near|fuzzy|semantic)))\b")
_NEAR = re.compile(r"\b(?:near[- ]?(?:dup\w*|identical|copies)|fuzzy(?: dup\w*| dedup\w*)?|almost (?:identical|the same|duplicate)|minhash|"
                   r"similar (?:docs|documents|texts?|pages|articles)|nearly (?:identical|the same)|mostly the same|lightly edited|"
                   r"small edits|near[- ]?dedup\w*)\b")
_SEMANTIC = re.compile(r"\bsemantic(?:ally)?\b.{0,30}\b(?:dup\w*|similar|same|redundan\w*)|\bparaphras\w*|\bsame meaning\b")
_GENERIC = re.compile(r"\b(?:dedup\w*|de-dup\w*|duplicat\w*|dupes?|repeated (?:docs|documents)|unique (?:docs|documents|texts)|redundan\w*|copies)\b")


@dataclass
class DedupWording:
    exact: re.Match[str] | None = None
    near: re.Match[str] | None = None
    semantic: re.Match[str] | None = None
    generic: re.Match[str] | None = None  # "duplicates" not qualified by the above
    threshold: float | None = None
    generic_spans: list[Span] = field(default_factory=list)
    off: bool = False
    rest: str = ""  # the goal with the exact/near/semantic wording blanked out


_CACHE: dict[str, DedupWording] = {}


def dedup_wording(goal: GoalText) -> DedupWording:
    """How the goal words dedup (cached per goal text: three kinds ask)."""
    if goal.text in _CACHE:
        return _CACHE[goal.text]
    low = goal.low
    w = DedupWording()
    if _KEEP_DUPS.search(low):
        w.off = True
    else:
        m = re.search(r"(?:jaccard|similarity|similar)\D{0,20}(0?\.\d+|\d{1,3}\s*%)", low) or \
            re.search(r"(\d{1,3})\s*%\s*(?:similar|overlap|identical)", low)
        if m:
            v = m.group(1).strip()
            w.threshold = float(v.rstrip("%").strip()) / 100 if v.endswith("%") or float(v.rstrip("%")) > 1 else float(v)
        w.exact, w.near, w.semantic = _EXACT.search(low), _NEAR.search(low), _SEMANTIC.search(low)
        taken = [x.span() for x in (w.exact, w.near, w.semantic) if x]
        rest = list(low)
        for s, e in taken:
            rest[s:e] = " " * (e - s)
        rest_s = "".join(rest)
        w.rest = rest_s
        w.generic = _GENERIC.search(rest_s)
        w.generic_spans = [x.span() for x in _GENERIC.finditer(rest_s)]
        w.generic_spans += [x.span() for pat in (_EXACT, _NEAR, _SEMANTIC) for x in pat.finditer(low)]
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[goal.text] = w
    return w
