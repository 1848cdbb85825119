"""Token budget: the kept tokens of the full input (predicted from the sample) stay within a cap or floor.

A cap is met by appending ``budget_sample`` (a deterministic content-hash sample) rather than by tightening
quality, which would change what the data is when the goal only asked for less of it.
"""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, RepairContext, RequirementKind, register
from gristmill.agent.phrases import NUM, parse_number
from gristmill.agent.requirement import Requirement

ASSUMED = "tokens estimated as characters / 4"


@register
class TokenBudget(RequirementKind):
    name = "token_budget"
    description = "predicted kept tokens of the full input within a cap or floor"
    rank, order = 111, 14
    target = True

    def _req(self, kind: str, v: float, m: re.Match[str]) -> Requirement:
        return self.requirement({kind: int(v)}, f"kept tokens {'≤' if kind == 'max' else '≥'} {int(v):,} (full input, predicted)",
                                m.group(0), ASSUMED, span=m.span())

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low
        out = []
        for m in re.finditer(rf"\b{NUM}\s*(?:-\s*)?tokens?\s+(budget|target|cap|limit|in total|total|overall)\b|\b(?:budget|target|cap|limit) of\s+{NUM}\s*tokens?", low):
            v = parse_number(m.group(1) or m.group(3))
            before = low[max(0, m.start() - 20) : m.start()]
            if re.search(r"at most|up to|no more than|not more than|maximum|max\.?|under|below|cap(?:ped)? at|limit(?:ed)? to|<=?\s*$", before):
                kind = "max"
            elif re.search(r"at least|minimum|min\.?|need|no less than|not less than|more than|over", before):
                kind = "min"
            else:
                kind = "max" if re.search(r"budget|cap|limit", m.group(0)) else "min"
            if v >= 10_000:
                out.append(self._req(kind, v, m))
        if not out:
            # "cap the output at 300k tokens", "trim it to 1M tokens"
            m = re.search(rf"\b(?:cap|limit|trim|truncat|cut|shrink|downsampl|subsampl)\w*\b[^.;,\d]{{0,30}}?\b(?:at|to)\s+{NUM}\s*tokens?\b", low)
            if m and parse_number(m.group(1)) >= 10_000:
                out.append(self._req("max", parse_number(m.group(1)), m))
        if out:
            return out
        for m in re.finditer(rf"(budget of|target of|about|around|roughly|at least|minimum of|at most|up to|no more than|cap(?:ped)? at|need|want|~|get)\s+{NUM}\s+tokens?\b", low):
            if re.search(r"\b(?:per|each|a|every)\s+(?:doc|document|text|row|sample)", low[m.end() : m.end() + 30]):
                continue
            if re.search(r"\b(?:docs?|documents?|texts?|with|having|than)\s*$", low[max(0, m.start() - 40) : m.start()]):
                continue
            v = parse_number(m.group(2))
            if v < 10_000:  # small numbers are per-document lengths, not budgets
                continue
            kind = "max" if m.group(1) in ("at most", "up to", "no more than", "capped at", "cap at", "budget of") else "min"
            out.append(self._req(kind, v, m))
        return out

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        docs, toks = dry.retention()
        total = ctx.total_input_tokens
        if total is None:
            return self.result(req, True, "no input size known; not checked", hard=False)
        pred = int(toks * total)
        p = req.params
        ok = p.get("min", 0) <= pred <= p.get("max", float("inf"))
        return self.result(req, ok, f"predicted {pred:,} kept tokens of {total:,} in the full input ({toks:.1%} of tokens kept "
                           "on the sample)", {"predicted_tokens": pred})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        if "min" in req.params:
            ctx.relax_quality()
        cap, pred = req.params.get("max"), check.measured.get("predicted_tokens")
        if not cap or not pred:
            return
        step = next((s for s in ctx.plan.steps if s.op == "budget_sample"), None)
        frac = round(min(1.0, (step.params["fraction"] if step else 1.0) * cap / pred * 0.98), 6)
        why = (f"trim to the token budget ({cap:,} tokens): keep a content-hash sample of {frac:.1%} of the documents "
               "that pass every other step (2% margin; the budget holds in expectation)")
        if step:
            step.params["fraction"], step.why = frac, why
        else:
            ctx.plan.steps.append(self.step("budget_sample", {"fraction": frac}, None, why))
        ctx.actions.append(f"sampling to the token budget: keep {frac:.1%} of documents (predicted {pred:,} > cap {cap:,})")
