"""Shared by the kinds that select on a labelling field (domain, content): matching and checking values."""

from __future__ import annotations

from collections import Counter

from gristmill.agent.checks import DryRun
from gristmill.agent.profile import DOMAIN_FIELDS, Profile


def field_values(words: list[str], profile: Profile) -> list[str]:
    """Values of the profiled domain field that match the words (prefix either way: "book" ~ "books")."""
    out = []
    for w in words:
        for v in profile.domains:
            if v.lower() == w or v.lower().startswith(w) or w.startswith(v.lower()):
                out.append(v)
    return list(dict.fromkeys(out))


def labelling_field(dry: DryRun) -> str | None:
    return next((c for c in DOMAIN_FIELDS if c in dry.kept.column_names), None)


def outside_selection(dry: DryRun, field: str, keep: list[str] | None, drop: list[str] | None) -> tuple[int, dict[str, int]]:
    """(documents whose field value breaks the selection, value counts) on the kept documents."""
    vals = Counter(map(str, dry.kept.column(field).to_pylist()))

    def hit(v: str, words: list[str]) -> bool:
        return any(v.lower().startswith(w) or w.startswith(v.lower()) for w in words)

    if keep:
        bad = sum(c for v, c in vals.items() if not hit(v, keep))
    else:
        bad = sum(c for v, c in vals.items() if hit(v, drop or []))
    return bad, dict(vals)
