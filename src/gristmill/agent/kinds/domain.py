"""Domain: keep or drop documents by the value of a field that labels their source (domain, category...)."""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds._fields import field_values, labelling_field, outside_selection
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import SELECTING, negated_before, vocabulary
from gristmill.agent.plan import PlanStep, Unsupported
from gristmill.agent.requirement import Requirement

DOMAINS: dict[str, list[str]] = vocabulary("domains")["domains"]


@register
class Domain(RequirementKind):
    name = "domain"
    description = "documents whose domain field is (or is not) one of the named values"
    rank, order = 70, 2
    query = "select exclude documents by domain field keep rule"
    families, drives = frozenset({"select"}), ("field_filter",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        keep: list[str] = []
        drop: list[str] = []
        keep_spans, drop_spans = [], []
        for clause in goal.clauses:
            low = goal.free(self.name)[clause.start : clause.end]
            for dom, words in DOMAINS.items():
                for w in words:
                    for m in re.finditer(rf"\b{re.escape(w)}\b", low):
                        if dom == "chat" and re.search(r"\b(?:sft|format|normali[sz]|turns?|multi-turn|assistant repl)", low):
                            continue  # the chat/SFT kind's
                        if dom == "multilingual" and not re.search(r"\b(?:only|keep|drop|remove|exclude|no|without|just)\b", low):
                            continue
                        neg = negated_before(low, m.start())
                        (drop if neg else keep).append(dom)
                        (drop_spans if neg else keep_spans).append((clause.start + m.start(), clause.start + m.end()))
        keep = [d for d in dict.fromkeys(keep) if d not in drop]
        drop = list(dict.fromkeys(drop))
        out = []
        # a domain named without a selecting verb ("clean my legal corpus") is context, not a selection
        if keep and not SELECTING.search(goal.low):
            for s in keep_spans:
                goal.assume(s, f"{goal.text[s[0]:s[1]]!r} read as a description of the corpus, not a selection")
            keep = []
        if keep:
            out.append(self.requirement({"keep": keep}, f"domain ∈ {{{', '.join(keep)}}}", "domain", read=keep_spans))
        if drop:
            out.append(self.requirement({"drop": drop}, f"domain ∉ {{{', '.join(drop)}}}", "domain", read=drop_spans))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        profile = ctx.profile
        if not profile.domain_field:
            implied = self._implied(req, ctx)
            if implied is not None:
                return implied
            raise Unsupported("selecting by domain needs a domain field (domain, category, subset...); the input has "
                              f"fields {sorted(profile.fields)}")
        op = self.choose(req, ctx.index)
        f = profile.domain_field
        if "keep" in req.params:
            vals = field_values(req.params["keep"], profile)
            if not vals:
                raise Unsupported(f"no document of domain {req.params['keep']} in the sample; {f} values: {sorted(profile.domains)}")
            return [self.step(op, {"field": f, "values": vals, "mode": "include"}, None, f"keep {f} in {vals} ({req.text})",
                              name="select_domain")]
        vals = field_values(req.params["drop"], profile) or req.params["drop"]
        return [self.step(op, {"field": f, "values": vals, "mode": "exclude"}, None, f"drop {f} in {vals} ({req.text})",
                          name="exclude_domain")]

    def _implied(self, req: Requirement, ctx: PlanContext) -> list[PlanStep] | None:
        """Without a field, a domain the rest of the goal already decides: "no documentation" beside "keep only
        source code" (implied by the selection), "dialogues" beside an SFT/chat requirement (the chat kind keeps
        only conversations), conversations kept on a corpus of conversations."""
        reqs = ctx.goal.requirements
        if "drop" in req.params and any(r.kind in ("content", "domain") and r.params.get("keep") for r in reqs if r is not req):
            req.params["via"] = "implied"
            ctx.plan.notes.append(f"'{req.text}': implied by the selection of {[r.params['keep'] for r in reqs if r.params.get('keep')][0]}")
            return []
        if req.params.get("keep") == ["chat"] and (any(r.kind == "chat" for r in reqs) or ctx.profile.chat_share >= 0.9):
            req.params["via"] = "implied"
            ctx.plan.notes.append(f"'{req.text}': conversations are kept by the chat requirement (sample: "
                                  f"{ctx.profile.chat_share:.0%} conversations)")
            return []
        return None

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        if req.params.get("via") == "implied":
            return self.result(req, True, "implied by another requirement of the goal (no field labels the domain)", hard=False)
        f = labelling_field(dry)
        if f is None:
            return self.result(req, False, "kept documents carry no domain field")
        bad, vals = outside_selection(dry, f, req.params.get("keep"), req.params.get("drop"))
        return self.result(req, bad == 0, f"kept {f} values {vals}; {bad} outside the selection", {"violations": bad})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
