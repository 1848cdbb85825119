"""Refusal: no kept conversation has the assistant refusing, saying "As an AI", or disclaiming emotions and
opinions ("Remove OpenAI refusals, disclaimers, and 'As an AI' type examples" - OpenHermes; "remove
dialogues where the assistant replies with phrases like 'I do not have emotions'" - UltraChat 200k).

The families of such replies, the phrases that mark them and the patterns the verifier scans with are data
(``assets/agent/chat.yaml``); the goal's own quoted examples join the phrases. The ``refusal_filter``
operator looks at assistant turns only, so conversations rendered as text ("User: ... Assistant: ...")
are first parsed into a ``messages`` column by ``chat_format`` (nothing dropped). The check scans the kept
text with its own patterns; phrases it still finds are added to the filter by the repair.
"""

from __future__ import annotations

import re
from typing import Any

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import NEG, QUOTED, SELECT, quoted_text, vocabulary
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement, Span

_VOCAB = vocabulary("chat")
FAMILIES: dict[str, dict[str, Any]] = _VOCAB["families"]
_NAMES = {f: re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{n})" for n in spec["names"]) + r")(?![\w-])")
          for f, spec in FAMILIES.items()}
_CONTEXT = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{c})" for c in _VOCAB["context"]) + r")(?![\w-])")
_STRONG = ("refusal", "ai_identity")  # families that are chat boilerplate by themselves
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _fold(s: str) -> str:
    return " ".join(s.translate(_APOS).lower().split())


@register
class Refusal(RequirementKind):
    name = "refusal"
    description = "no kept conversation has refusals, 'As an AI' disclaimers or 'I have no emotions/opinions' replies"
    rank, order = 13, 1.5
    query = "refusals ai disclaimers assistant turns sft"
    families, drives = frozenset({"sft", "select"}), ("refusal_filter", "chat_format", "regex_filter")

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        found: dict[str, list[re.Match[str]]] = {f: list(rx.finditer(low)) for f, rx in _NAMES.items()}
        fams = [f for f, ms in found.items() if ms]
        quoted = [m for m in QUOTED.finditer(goal.text) if re.match(r"(?i)\s*(?:i\b|as an?\b|i'm\b|i am\b)", quoted_text(m))]
        if not fams and not quoted:
            return []
        context = list(_CONTEXT.finditer(low))
        strong = any(f in _STRONG for f in fams)
        if not strong and not quoted and not (context and any(f in ("no_feelings", "disclaimers") for f in fams)):
            return []
        if not strong and not quoted and not re.search(r"\b(?:assistant|bot|chatbot|ai|model|repl\w+|answers?|responses?)\b", low):
            return []
        first = min([ms[0].start() for ms in found.values() if ms] + [m.start() for m in quoted])
        before = low[: first]
        if re.search(rf"\b{SELECT}\b", before) and not re.search(rf"\b{NEG}\b", before):
            mode = "include"
        elif re.search(rf"\b{NEG}\b", low) or "no_feelings" in fams or "refusal" in fams:
            mode = "exclude"
        else:
            return []
        if quoted and "no_feelings" not in fams and re.search(r"emotion|feeling|opinion|belief", " ".join(quoted_text(q).lower() for q in quoted)):
            fams.append("no_feelings")
        phrases: list[str] = []
        detect: list[str] = []
        for f in dict.fromkeys(fams or ["ai_identity"]):
            phrases += FAMILIES[f]["phrases"]
            detect += FAMILIES[f]["detect"]
        own = [_fold(quoted_text(q)).strip(" .,!?") for q in quoted]
        phrases = list(dict.fromkeys(phrases + own))
        detect = list(dict.fromkeys(detect + [re.escape(p) for p in own]))
        read: list[Span] = [m.span() for ms in found.values() for m in ms] + [m.span() for m in context] + [m.span() for m in quoted]
        for s in read:
            goal.claim(s, self.name)
        what = ", ".join(f.replace("_", " ") for f in dict.fromkeys(fams or ["ai_identity"]))
        text = (f"no kept conversation has {what} replies" if mode == "exclude" else f"every kept conversation has {what} replies")
        params = {"families": list(dict.fromkeys(fams)), "phrases": phrases, "detect": detect, "mode": mode}
        return [self.requirement(params, text, what, read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        p = req.params
        prof = ctx.profile
        if "messages" not in prof.fields and prof.chat_share < 0.5:
            # not conversations: the phrases anywhere in the text
            pattern = "(?i)" + "|".join(re.escape(x) for x in p["phrases"])
            ctx.plan.notes.append("refusal phrases searched in the whole text: the input is not conversations")
            return [self.step("regex_filter", {"pattern": pattern, "mode": "exclude" if p["mode"] == "exclude" else "include"},
                              why=f"{req.text} (phrases anywhere in the text)", name="refusal_phrases")]
        steps: list[PlanStep] = []
        if "messages" not in prof.fields and not any(s.op == "chat_format" for s in ctx.plan.steps):
            steps.append(PlanStep("chat_format", {"min_turns": 1, "require_alternating": False, "drop_empty_turns": False,
                                                  "drop_non_chat": False, "normalize": True}, None,
                                  "parse the conversations into a messages column, so only assistant turns are searched "
                                  "(nothing dropped)", self.name, None, 1.0))
        keep = None if p["mode"] == "exclude" else {"refusal": "refusal_filter.refusal_share > 0"}
        steps.append(self.step("refusal_filter", {"extra_phrases": p["phrases"]}, keep,
                               why=f"{req.text}: the bundled refusal list plus {len(p['phrases'])} phrases of the goal's families"))
        return steps

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        p = req.params
        rx = re.compile("|".join(f"(?:{d})" for d in p["detect"]), re.IGNORECASE)
        texts = [t.translate(_APOS) for t in dry.kept_texts]
        hits = [m.group(0).lower() for t in texts for m in [rx.search(t)] if m]
        if p["mode"] == "exclude":
            return self.result(req, not hits, f"{len(hits)} of {len(texts)} kept documents still hold such replies "
                               f"(a pattern scan of its own)" + (f", e.g. {hits[0]!r}" if hits else ""),
                               {"violations": len(hits), "found": sorted(set(hits))[:20]})
        missing = len(texts) - len(hits)
        return self.result(req, missing == 0, f"{missing} of {len(texts)} kept documents hold none", {"violations": missing})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        found = [f for f in check.measured.get("found", []) if f not in req.params["phrases"]]
        for s in ctx.plan.steps:
            if s.op == "refusal_filter" and s.requirement == self.name and found:
                s.params["extra_phrases"] = list(dict.fromkeys(s.params.get("extra_phrases", []) + found))
                req.params["phrases"] = s.params["extra_phrases"]
                ctx.actions.append(f"refusal filter: added {found[:5]} found by the check")
