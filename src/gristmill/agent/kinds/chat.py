"""Chat: every kept document is a well-formed conversation with enough turns, normalised to messages (SFT)."""

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
from gristmill.agent.phrases import NUM, parse_number
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_CHAT = re.compile(r"\b(?:sft|instruction[- ]tun\w*|(?:supervised )?fine[- ]?tun\w*|supervised|chat[- ]?(?:format|data|template|style|ml)|conversations?|dialog(?:ue)?s?|"
                   r"multi[- ]turn|turns?|assistant (?:repl\w*|answers?|turns?|messages?|responses?)|messages format|openai format|chatml|sharegpt)\b")


@register
class Chat(RequirementKind):
    name = "chat"
    description = "conversations with at least N turns, normalised to a messages column"
    rank, order = 90, 1
    query = "chat conversations sft messages turns normalise"
    families, drives = frozenset({"sft"}), ("chat_format",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        if not _CHAT.search(low):
            return []
        if re.search(r"\b(?:no|drop|remove|exclude|without)\b[^.;]{0,15}\b(?:chat|conversations?|dialog\w*)\b", low) and not re.search(r"sft|fine", low):
            return []
        params: dict[str, Any] = {"min_turns": 2, "normalize": True}
        read = [m.span() for m in _CHAT.finditer(low)]
        m = re.search(rf"(?:at least|min(?:imum)?(?: of)?|more than|no fewer than)\s+{NUM}\s+(?:user\s+|assistant\s+)?(?:turns?|messages?|exchanges?|rounds?)", low)
        if m:
            params["min_turns"] = int(parse_number(m.group(1))) + (1 if m.group(0).startswith("more than") else 0)
            read.append(m.span())
        elif re.search(r"multi[- ]turn", low):
            params["min_turns"] = 4
        e = re.search(r"\bempty\b", low)
        if e:
            params["drop_empty"] = True
            read.append(e.span())
        for x in re.finditer(r"\b(?:normali[sz]\w*|format\w*|data)\b", low):
            read.append(x.span())
        text = f"every kept document is a well-formed conversation with ≥ {params['min_turns']} turns, normalised to messages"
        return [self.requirement(params, text, "chat", read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        params = {"min_turns": req.params.get("min_turns", 2), "normalize": req.params.get("normalize", True)}
        why = f"template operator: {req.text} (sample: {ctx.profile.chat_share:.0%} conversations)"
        existing = next((s for s in ctx.plan.steps if s.op == op), None)
        if existing is not None:  # another kind parsed the conversations already: one step, with this kind's rules
            existing.params = params
            existing.why, existing.requirement, existing.order = why, self.name, self.order
            return []
        return [self.step(op, params, why=why)]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.ops.templates import chat_stats, parse_chat

        texts = dry.kept_texts
        p = req.params
        bad = 0
        for tx in texts:
            turns, alt, empty = chat_stats(parse_chat(tx))
            if turns < p.get("min_turns", 2) or not alt or empty:
                bad += 1
        has_msgs = "messages" in dry.kept.column_names or not p.get("normalize", True)
        return self.result(req, bad == 0 and has_msgs, f"{bad} of {len(texts)} kept documents are not well-formed conversations with "
                           f">= {p.get('min_turns', 2)} turns; messages column {'present' if has_msgs else 'missing'}", {"violations": bad})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
