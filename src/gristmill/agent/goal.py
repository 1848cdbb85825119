"""Turn a goal written in plain language into explicit, checkable requirements, and account for every clause.

Deterministic and rule-based: each requirement kind (:mod:`gristmill.agent.kinds`) reads the goal's clauses
with its own phrasings (synonyms, negation, numbers with units), so "no docs under 50 words", "at least 50
words" and "drop anything shorter than fifty words" give the same requirement. What the goal leaves open
gets a sensible default and an *assumption* that is printed, never a silent guess; and every clause ends
in exactly one place: requirement, assumption, filler, or the list of what was not understood.
"""

from __future__ import annotations

import re

from gristmill.agent.kinds import GoalText, all_kinds, get_kind
from gristmill.agent.phrases import DESCRIPTIONS, FILLER, NUM, SELECTING, UNSUPPORTED, terms
from gristmill.agent.requirement import Clause, Goal, Requirement, Span
from gristmill.errors import UsageError

__all__ = ["Goal", "Requirement", "parse_goal", "account"]

_WORD = re.compile(r"[\w][\w'+#.-]*")
_GENERIC = re.compile(r"\b(?:clean\w*|pretrain\w*|training[- ]ready|ready for training|prepare|tidy|good data|usable)\b")
_NO_DEDUP = re.compile(r"\b(?:keep|allow|leave)\s+(?:the\s+)?(?:duplicates|dupes|copies)|\b(?:no|without|skip|don'?t)\s+(?:any\s+)?dedup")
# words of a general request that the usual defaults answer ("prepare this corpus", "make it good for pretraining")
_DEFAULT_WORDS = frozenset(["prepare", "preparing", "prepared", "clean", "cleaning", "cleaned", "up", "tidy", "good", "usable",
                            "pretraining", "pretrain", "training", "train", "ready", "llm", "model", "models", "corpus"])


def _defaults(kind_names: list[str], why: str) -> list[Requirement]:
    out = []
    texts = {"quality": ({"level": "standard"}, "quality level: standard"),
             "dedup_exact": ({}, "no two kept documents have identical text"),
             "dedup_near": ({"threshold": 0.8}, "no near-duplicate pairs with word-5-gram Jaccard ≥ 0.8")}
    for k in kind_names:
        params, text = texts[k]
        out.append(Requirement(k, dict(params), text, "", assumption=why.format(kind=k)))
    return out


_CORPUS = re.compile(terms(DESCRIPTIONS["corpus"]))
_PIPELINE = re.compile(rf"(?:{NUM}\s+)?(?:{terms(DESCRIPTIONS['pipeline'])}[\s-]*)+")
_UNSUPPORTED = re.compile(terms(list(UNSUPPORTED)))


def _inside(pos: Span, spans: list[Span]) -> bool:
    return any(s <= pos[0] and pos[1] <= e for s, e in spans)


def _descriptions(goal: GoalText, c: Clause, read: list[Span]) -> None:
    """Words that describe the corpus ("the GitHub files") or the pipeline ("5 logically consistent operators",
    "with a Bloom filter") and that no kind read: assumptions, printed. A corpus word the clause selects
    ("keep only the GitHub files") is left unread: selecting by source needs a field."""
    low = goal.low[c.start : c.end]
    for m in _CORPUS.finditer(low):
        span = (c.start + m.start(), c.start + m.end())
        if _inside(span, read) or SELECTING.search(low[: m.start()]):
            continue
        goal.assume(span, f"{goal.text[span[0]:span[1]]!r} read as a description of the corpus, not a selection")
    for m in _PIPELINE.finditer(low):
        span = (c.start + m.start(), c.start + m.end())
        if m.group(0).strip() and not _inside(span, read):
            goal.assume(span, f"{goal.text[span[0]:span[1]].strip()!r} read as a remark on how to build the pipeline; "
                              "the plan has the steps the requirements need")


def account(goal: GoalText, reqs: list[Requirement], defaulted: bool) -> list[Clause]:
    """Say, for every clause, where it ended: requirement(s), assumption, filler, or not understood (with the
    words no kind read). A number no kind read ("written before 1990") is not understood: it asks for
    something. A request no operator can serve ("truecase", "translate") says why."""
    read = [p for r in reqs for p in r.pieces]
    for c in goal.clauses:
        _descriptions(goal, c, read)
    assumed = [s for s, _ in goal.assumed]
    for c in goal.clauses:
        words = [(c.start + m.start(), c.start + m.end(), m.group(0).lower().strip(".-'")) for m in _WORD.finditer(c.text)]
        content = [(s, e, w) for s, e, w in words if w and w not in FILLER]
        gave = [r for r in reqs if any(s < c.end and c.start < e for s, e in r.pieces)]
        unread = [w for s, e, w in content if not _inside((s, e), read) and not _inside((s, e), assumed)]
        cannot = [UNSUPPORTED[m.group(0)] for m in _UNSUPPORTED.finditer(goal.low[c.start : c.end])
                  if not _inside((c.start + m.start(), c.start + m.end()), read)]
        if cannot:
            c.status, c.detail = "not understood", "gristmill cannot do this: " + "; ".join(dict.fromkeys(cannot))
            continue
        if defaulted and unread and all(w in _DEFAULT_WORDS for w in unread):
            unread = []
            if not gave:
                c.status, c.detail = "assumption", "a general request: the usual pretraining defaults"
                continue
        if unread:
            c.status = "not understood"
            c.detail = "words no requirement kind reads: " + ", ".join(dict.fromkeys(unread))
            if gave:
                c.detail += f" (the rest gave: {'; '.join(r.text for r in gave)})"
        elif gave:
            c.status, c.detail = "requirement", "; ".join(r.text for r in gave)
        elif any(s < c.end and c.start < e for s, e in assumed):
            c.status = "assumption"
            c.detail = "; ".join(a for s, a in goal.assumed if s[0] < c.end and c.start < s[1])
        elif not content:
            c.status, c.detail = "filler", "asks for nothing"
        else:
            c.status, c.detail = "not understood", "no requirement kind reads it"
    return goal.clauses


def parse_goal(text: str) -> Goal:
    """Parse a goal; raise UsageError for an empty goal. Contradictions are listed in ``problems`` and clauses
    no kind could read in ``Goal.not_understood``."""
    if not text or not text.strip():
        raise UsageError("--goal is empty: say what the data should become, e.g. 'English only, no duplicates'")
    gt = GoalText(text)
    reqs: list[Requirement] = []
    for kind in all_kinds():
        reqs.extend(kind.parse(gt))
    assumptions = [r.assumption for r in reqs if r.assumption]
    kinds = {r.kind for r in reqs if "implied_by" not in r.params}
    meaningful = {k for k in kinds if not get_kind(k).target}
    low = gt.low
    defaulted = False
    if meaningful == {"quality"} and _GENERIC.search(low) and not _NO_DEDUP.search(low):
        reqs += _defaults(["dedup_exact", "dedup_near"], "a general clean-up includes {kind}")
        for r in reqs[-2:]:
            r.assumption = ("a general clean-up includes exact dedup" if r.kind == "dedup_exact"
                            else "a general clean-up includes near-dup dedup at Jaccard 0.8")
        assumptions.append("general clean-up read as standard quality filtering plus exact and near-duplicate removal")
        defaulted = True
    if not meaningful:
        reqs = _defaults(["quality", "dedup_exact", "dedup_near"], "no specific filter asked") + reqs
        reqs[0].assumption = "no specific filter asked: standard quality filtering"
        reqs[1].assumption = "no specific filter asked: exact dedup"
        reqs[2].assumption = "no specific filter asked: near-dup dedup at Jaccard 0.8"
        assumptions.append("the goal names no specific filter; applying the usual pretraining defaults "
                           "(standard quality, exact and near-duplicate removal)")
        defaulted = True
    problems: list[str] = []
    for r in reqs:
        if r.kind == "length" and "min" in r.params and "max" in r.params and r.params["min"] > r.params["max"]:
            problems.append(f"length bounds contradict each other: at least {r.params['min']} and at most {r.params['max']} {r.params['unit']}")
        if r.kind == "retention" and not 0 <= r.params["min"] <= 1:
            problems.append(f"retention target {r.params['min']:.0%} is not a share between 0% and 100%")
    if len([r for r in reqs if r.kind == "language"]) > 1:
        problems.append("the goal both selects and excludes languages; say which to keep")
    tb = [r for r in reqs if r.kind == "token_budget"]
    mins = [r.params["min"] for r in tb if "min" in r.params]
    maxs = [r.params["max"] for r in tb if "max" in r.params]
    if mins and maxs and max(mins) > min(maxs):
        problems.append(f"token budget asks for at least {max(mins):,} and at most {min(maxs):,} tokens")
    doms = [r for r in reqs if r.kind == "domain" and "keep" in r.params]
    if doms:
        drops = {d for r in reqs if r.kind == "domain" for d in r.params.get("drop", [])}
        both = drops & set(doms[0].params["keep"])
        if both:
            problems.append(f"domain {sorted(both)} is both selected and excluded")
    clauses = account(gt, reqs, defaulted)
    assumptions = list(dict.fromkeys(assumptions + [a for _, a in gt.assumed if a not in assumptions] + gt.notes))
    if not gt.reading.identity:  # spans of the reading -> spans of the goal as written
        for r in reqs:
            r.span = gt.to_goal(r.span) if r.span else None
            r.read = [gt.to_goal(x) for x in r.read]
        for c in clauses:
            c.start, c.end = gt.to_goal((c.start, c.end))
            c.text = text[c.start : c.end]
    return Goal(text=text, requirements=reqs, assumptions=assumptions, problems=problems, clauses=clauses)
