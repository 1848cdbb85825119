"""The requirement-kind contract and its registry.

A requirement kind is everything the agent knows about one sort of thing a goal can ask for ("no
duplicates", "English only", "at least 50 words"), in one file, in the shape of an operator:

- ``parse(goal)``: read the goal's clauses and return requirements, each with the span of the goal it came
  from (clauses it cannot read are left alone: the goal parser lists them as not understood);
- ``build(req, ctx)``: plan steps from the profile, driving an operator that retrieval over the registry's
  descriptions (``query``, ``families``) finds and that the kind knows how to set (``drives``);
- ``check(req, dry, ctx)``: measure the requirement on the dry run's kept documents, independently of the
  operator that enforced it;
- ``repair(req, check, ctx)``: change the plan after a failed check, saying what it did.

Kinds register with :func:`register` when their module is imported; :mod:`gristmill.agent.kinds` imports
every module of the package, so adding a kind means adding one file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.phrases import lower, split_clauses
from gristmill.agent.plan import Plan, PlanStep, Unsupported
from gristmill.agent.requirement import Clause, Goal, Requirement, Span

if TYPE_CHECKING:
    from gristmill.agent.profile import Profile
    from gristmill.agent.retrieve import OperatorIndex


class GoalText:
    """The goal as the kinds read it: its reading (:mod:`gristmill.agent.gloss`: the goal itself, or its
    English gloss and typo corrections), a same-length lower-case copy and its clauses. Positions are
    positions in the reading; :meth:`to_goal` maps a span back to the goal as written."""

    def __init__(self, text: str) -> None:
        from gristmill.agent.gloss import read_goal

        self.source = text
        self.reading = read_goal(text)
        self.text = self.reading.text
        self.low = lower(self.text)
        self.clauses: list[Clause] = split_clauses(self.text)
        self.notes: list[str] = list(self.reading.notes)
        self.assumed: list[tuple[Span, str]] = []  # words read as an explicit assumption, not a requirement
        self.claimed: list[tuple[Span, str]] = []  # words a kind took as its own (later kinds leave them alone)

    def assume(self, span: Span, assumption: str) -> None:
        """Account for ``span`` as read, with what was assumed about it (printed; never a silent guess)."""
        self.assumed.append((span, assumption))

    def claim(self, span: Span, kind: str) -> None:
        """Mark ``span`` as read by ``kind``: kinds parsed later ("spam" for quality, "over 100 characters" for
        length) do not read those words again with another meaning."""
        self.claimed.append((span, kind))

    def is_claimed(self, start: int, end: int | None = None, by: str | None = None) -> bool:
        """True when a kind other than ``by`` claimed a span overlapping ``start:end`` (goal positions)."""
        end = start + 1 if end is None else end
        return any(s < end and start < e and k != by for (s, e), k in self.claimed)

    def to_goal(self, span: Span) -> Span:
        return self.reading.to_goal(span)

    def lead(self, clause: Clause) -> str:
        """The polarity verb a continuation clause inherits ("remove the spam, plus anything under 40 words":
        "plus anything under 40 words" is removed too): the previous clause's leading exclusion, or ""."""
        from gristmill.agent.phrases import NEG, SELECT

        i = next((k for k, c in enumerate(self.clauses) if c.start == clause.start), 0)
        low = self.low[clause.start : clause.end]
        if i == 0 or not re.match(r"(?:plus|also|and also|as well as|and|or|nor)\b", low) or re.search(rf"\b(?:{NEG}|{SELECT})\b", low):
            return ""
        prev = self.low[self.clauses[i - 1].start : self.clauses[i - 1].end]
        m = re.match(rf"\W*(?:\w+\W+){{0,3}}?({NEG}|{SELECT})\b", prev)
        return m.group(1) if m else ""

    def free(self, by: str | None = None) -> str:
        """The lower-case reading with the words other kinds claimed blanked out (same length, so positions
        stay goal positions): what ``by`` may still read."""
        if not any(k != by for _, k in self.claimed):
            return self.low
        chars = list(self.low)
        for (s, e), k in self.claimed:
            if k != by:
                chars[s:e] = " " * (e - s)
        return "".join(chars)

    def span(self, start: int, end: int, offset: int = 0) -> Span:
        return (offset + start, offset + end)

    def clause_of(self, pos: int) -> Clause | None:
        return next((c for c in self.clauses if c.start <= pos < c.end), None)

    def find(self, words: str) -> Span | None:
        """Span of the first occurrence of ``words`` (case-insensitive) in the goal."""
        i = self.low.find(words.lower()) if words else -1
        return (i, i + len(words)) if i >= 0 else None


@dataclass
class PlanContext:
    profile: Profile
    goal: Goal
    index: OperatorIndex
    plan: Plan


@dataclass
class CheckContext:
    total_input_tokens: int | None = None
    total_input_docs: int | None = None  # readable documents of the full input (the sample may be smaller)


@dataclass
class RepairContext:
    """What a repair may change (``plan``, in place) and read; ``relax`` lowers the quality level once a round."""

    plan: Plan
    profile: Profile
    goal: Goal
    relax_quality: Callable[[], bool]
    actions: list[str] = field(default_factory=list)


class RequirementKind:
    """One kind of requirement. Subclasses set the class attributes and override what they support."""

    name: ClassVar[str]
    description: ClassVar[str] = ""  # one line for docs and `--explain`
    rank: ClassVar[int] = 50  # parse order: requirements are listed in this order
    order: ClassVar[float] = 5.0  # where this kind's steps go in the recipe (normalize 0 ... token budget 14)
    query: ClassVar[str] = ""  # what retrieval asks the operator index for
    families: ClassVar[frozenset[str]] = frozenset()  # operator families allowed to serve it
    drives: ClassVar[tuple[str, ...]] = ()  # operators whose parameters this kind knows how to set
    target: ClassVar[bool] = False  # a target on the result (retention, budget): checked, met by repair

    # -- the contract -------------------------------------------------------------------------------------
    def parse(self, goal: GoalText) -> list[Requirement]:
        return []

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        return []

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        return self.result(req, False, f"no check for requirement kind {self.name!r}")

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        """Change ``ctx.plan`` and append to ``ctx.actions``; do nothing when no repair is known."""

    # -- helpers for subclasses ---------------------------------------------------------------------------
    def requirement(self, params: dict[str, Any], text: str, source: str = "", assumption: str | None = None,
                    span: Span | None = None, read: list[Span] | None = None) -> Requirement:
        """A requirement of this kind; ``read`` lists every piece of the goal it accounts for (its words)."""
        read = sorted(set(read or []))
        if span is None and read:
            span = (read[0][0], read[-1][1])
        return Requirement(self.name, params, text, source, assumption, span, read)

    def step(self, op: str, params: dict[str, Any] | None = None, keep: dict[str, str] | None = None,
             why: str = "", name: str | None = None) -> PlanStep:
        return PlanStep(op, params or {}, keep, why, self.name, name, self.order)

    def result(self, req: Requirement, passed: bool, evidence: str, measured: dict[str, Any] | None = None,
               hard: bool = True) -> Check:
        return Check(str(req), self.name, passed, evidence, measured or {}, hard, req)

    def choose(self, req: Requirement, index: OperatorIndex) -> str:
        """The best-ranked retrieved operator of an allowed family that this kind drives."""
        for h in index.search(self.query or self.name, 8):
            if h.family in self.families and h.name in self.drives:
                return h.name
        available = [d for d in self.drives if d in index.ops]
        if available:  # retrieval ranked it below others; the kind still knows how to drive it
            return available[0]
        raise Unsupported(f"no registered operator serves {self.name!r} ({req.text})")

    @staticmethod
    def move_late(ctx: RepairContext, kind: str) -> None:
        """A later step rewrote the text (boilerplate removal, redaction): move this kind's steps last."""
        for s in ctx.plan.steps:
            if s.requirement == kind and not s.late:
                s.why += "; repair: moved after the steps that rewrite text"
                s.late = True
                ctx.actions.append(f"moved {s.op} after the text-rewriting steps")


_KINDS: dict[str, RequirementKind] = {}


def register(cls: type[RequirementKind]) -> type[RequirementKind]:
    """Class decorator: add a kind to the registry (one instance per kind; a name may be taken once)."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} must set a name")
    if cls.name in _KINDS and type(_KINDS[cls.name]) is not cls:
        raise ValueError(f"requirement kind {cls.name!r} is registered twice ({type(_KINDS[cls.name]).__name__}, {cls.__name__})")
    _KINDS[cls.name] = cls()
    return cls


def registered() -> dict[str, RequirementKind]:
    return _KINDS
