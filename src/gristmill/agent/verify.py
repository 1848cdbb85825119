"""Check every requirement on the dry-run output, independently of the operators that enforced it.

Each requirement's kind measures the property itself on the kept documents (:mod:`gristmill.agent.kinds`):
a regex scan for e-mails, an exact 5-gram Jaccard over candidate pairs, a second language detector, word
counts. A bug in an operator or a wrong plan then shows up as a failed check with evidence, not as a
silently wrong dataset. The detectors live in :mod:`scanners`; the dry run and checks in :mod:`checks`.
"""

from __future__ import annotations

from gristmill.agent.checks import Check, DryRun, read_kept
from gristmill.agent.kinds import CheckContext, get_kind
from gristmill.agent.requirement import Goal
from gristmill.agent.scanners import (  # noqa: F401 - re-exported: the bench and tests read them from here
    CARD,
    EMAIL,
    IBAN,
    IPV4,
    IPV6,
    PHONE,
    SECRET,
    SSN,
    STOPWORD_LANGUAGES,
    ipv4_candidates,
    ipv6_candidates,
    luhn,
    phone_candidates,
    scan_pii,
    stopword_languages,
)

__all__ = ["Check", "DryRun", "read_kept", "scan_pii", "stopword_languages", "verify"]


def verify(goal: Goal, dry: DryRun, total_input_tokens: int | None = None, total_input_docs: int | None = None) -> list[Check]:
    ctx = CheckContext(total_input_tokens, total_input_docs)
    checks = [get_kind(r.kind).check(r, dry, ctx) for r in goal.requirements]
    n_in = dry.summary.get("input", 0)
    kept = dry.summary.get("kept", 0)
    checks.append(Check("output is not empty", "nonempty", kept > 0, f"{kept} of {n_in} sample documents kept"))
    bal = dry.summary.get("balance", {})
    checks.append(Check("input = kept + dropped + rejected", "balance", bool(bal.get("holds")), str(bal.get("detail", ""))))
    return checks
