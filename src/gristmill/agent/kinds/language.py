"""Language: keep or drop documents by language ("English only", "no German or Spanish", "non-English")."""

from __future__ import annotations

import re
from collections import Counter

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import negated_before, vocabulary
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_VOCAB = vocabulary("languages")
LANGUAGES: dict[str, str] = _VOCAB["names"]
CODES = set(LANGUAGES.values()) | set(_VOCAB["extra_codes"])
_OTHER_THAN = re.compile(r"(?:isn'?t|is not|aren'?t|are not|not in|other than|besides|anything but|apart from|aside from|except)\s+(?:in\s+)?$")


@register
class Language(RequirementKind):
    name = "language"
    description = "documents in (or not in) the named languages"
    rank, order = 10, 5
    query = "identify document language keep documents in listed languages"
    families, drives = frozenset({"lang"}), ("lang_id",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        keep: list[str] = []
        drop: list[str] = []
        spans = []
        for clause in goal.clauses:
            low = goal.low[clause.start : clause.end]
            found: list[tuple[int, int, str, bool]] = []  # (start, end, code, written as non-X / other than X)
            for name, code in LANGUAGES.items():
                for m in re.finditer(rf"(non[- ]?)?\b{name}\b", low):
                    other = _OTHER_THAN.search(low[: m.start()])
                    found.append((m.start() if not other else other.start(), m.end(), code, bool(m.group(1)) or bool(other)))
            for m in re.finditer(r"\b(?:lang(?:uage)?s?|lang(?:uage)?\s*code)\s*(?:[:=]|is|in|of)?\s*((?:[a-z]{2}(?:[-_][a-z]{2})?\s*(?:,|/|\bor\b|\band\b)?\s*)+)", low):
                for c in re.findall(r"\b([a-z]{2})\b", m.group(1)):
                    if c in CODES:
                        found.append((m.start(), m.end(), c, False))
            for m in re.finditer(r"\b(?:only|keep|just)\s+([a-z]{2})\b(?:\s*(?:,|and|or|/)\s*([a-z]{2})\b)?", low):
                for c in (m.group(1), m.group(2)):
                    if c and c in CODES and c not in ("no", "it", "id"):
                        found.append((m.start(), m.end(), c, False))
            for start, end, code, non in found:
                neg = negated_before(low, start)
                if non:  # "remove non-English" keeps English; "keep non-English" drops it
                    (drop if not neg else keep).append(code)
                else:
                    (drop if neg else keep).append(code)
                spans.append((clause.start + start, clause.start + end))
        keep = list(dict.fromkeys(c for c in keep if c not in drop))
        drop = list(dict.fromkeys(drop))
        if keep:
            return [self.requirement({"keep": keep}, f"language ∈ {{{', '.join(keep)}}}", "language", read=spans)]
        if drop:
            return [self.requirement({"drop": drop}, f"language ∉ {{{', '.join(drop)}}}", "language", read=spans)]
        return []

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        self.choose(req, ctx.index)
        if "keep" in req.params:
            return [self.step("lang_id", {"languages": req.params["keep"], "min_score": 0.5},
                              why=f"keep documents identified as {req.params['keep']} (cld2, score >= 0.5)")]
        drop = req.params["drop"]
        return [self.step("lang_id", {"min_score": 0.0}, {"unwanted_language": f"not (lang_id.language in {drop!r})"},
                          f"drop documents identified as {drop}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.profile import detect_languages
        from gristmill.agent.scanners import STOPWORD_LANGUAGES, stopword_languages

        texts = dry.kept_texts
        n = len(texts)
        p = req.params
        langs = stopword_languages(texts)
        counts = Counter(langs)
        if "keep" in p:
            targets = [c for c in p["keep"] if c in STOPWORD_LANGUAGES]
            if not targets:  # no bundled stop-word list: fall back to the planner's detector
                langs = detect_languages(texts) or []
                counts, targets = Counter(langs), p["keep"]
            decided = [x for x in langs if x != "unknown"]
            ok = sum(1 for x in decided if x in targets)
            share = ok / len(decided) if decided else (1.0 if not n else 0.0)
            return self.result(req, share >= 0.9, f"{share:.1%} of {len(decided)} kept documents with prose are {targets} by stop-word "
                               f"profile (an independent detector); {n - len(decided)} undecided (code, tables); top: "
                               f"{dict(counts.most_common(4))}", {"share": share})
        bad = sum(counts[c] for c in p["drop"])
        share = bad / n if n else 0.0
        return self.result(req, share <= 0.05, f"{bad} of {n} kept documents are {p['drop']} by stop-word profile", {"share": share})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        for s in ctx.plan.steps:
            if s.op == "lang_id":
                ms = round(min(0.9, s.params.get("min_score", 0.5) + 0.2), 2)
                if ms != s.params.get("min_score"):
                    s.params["min_score"] = ms
                    ctx.actions.append(f"language score threshold raised to {ms}")


def single_language(goal_reqs: list[Requirement]) -> str | None:
    """The one language a goal keeps, if it keeps exactly one (quality and toxicity steps use its lists)."""
    r = next((r for r in goal_reqs if r.kind == "language"), None)
    if r and len(r.params.get("keep", [])) == 1:
        return r.params["keep"][0]
    return None
