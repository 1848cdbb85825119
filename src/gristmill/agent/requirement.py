"""A goal, the clauses it was cut into, and the checkable requirements read from them.

Every clause of a goal ends in exactly one place (the same spirit as "every input row ends in exactly one
place"): it gave one or more requirements, it was read as an explicit assumption, it is filler that asks
for nothing ("please"), or it is listed as *not understood*. ``Goal.not_understood`` is what ``prepare``
refuses to run without ``accept_partial``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Span = tuple[int, int]


@dataclass
class Requirement:
    """One checkable requirement. ``kind`` names its requirement kind (:mod:`gristmill.agent.kinds`)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    source: str = ""  # the words of the goal it came from
    assumption: str | None = None
    span: Span | None = None  # characters of the goal it came from; None for defaults the goal did not ask for
    read: list[Span] = field(default_factory=list, repr=False)  # every piece of the goal it read (default: span)

    @property
    def pieces(self) -> list[Span]:
        return self.read or ([self.span] if self.span else [])

    def __str__(self) -> str:
        s = self.text or f"{self.kind} {self.params}"
        return f"{s}  [assumed: {self.assumption}]" if self.assumption else s

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": self.params, "text": self.text, "source": self.source,
                "assumption": self.assumption, "span": list(self.span) if self.span else None}


ClauseStatus = Literal["requirement", "assumption", "filler", "not understood"]


@dataclass
class Clause:
    """A piece of the goal between separators, with where it sits in the goal and what became of it."""

    text: str
    start: int
    end: int
    status: ClauseStatus = "not understood"
    detail: str = ""  # the requirements or the assumption it became, or why it was not understood

    @property
    def span(self) -> Span:
        return (self.start, self.end)

    def line(self) -> str:
        return f"[{self.start}:{self.end}] {self.text!r} -> {self.status}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Goal:
    text: str
    requirements: list[Requirement]
    assumptions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # contradictions found in the goal itself
    clauses: list[Clause] = field(default_factory=list)

    def of(self, kind: str) -> list[Requirement]:
        return [r for r in self.requirements if r.kind == kind]

    def first(self, kind: str) -> Requirement | None:
        found = self.of(kind)
        return found[0] if found else None

    @property
    def not_understood(self) -> list[Clause]:
        return [c for c in self.clauses if c.status == "not understood"]
