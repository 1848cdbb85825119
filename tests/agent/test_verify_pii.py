"""The verifier's independent PII scan: forms the pii operator misses, and look-alikes it must not flag."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.verify import scan_pii

KINDS = ["email", "phone", "ip", "credit_card", "iban", "us_ssn", "secret"]


@pytest.mark.parametrize("text,kind", [
    ("call (+1) 555-0124 ext. 57 today", "phone"),
    ("office: +44 20 7946 0539", "phone"),
    ("mobile +61 491 570 159.", "phone"),
    ("+1 415-555-0100", "phone"),
    ("(415) 555-0100", "phone"),
    ("host fe80::fc11:f315 answered", "ip"),
    ("addr 2001:0db8:8a6a:0000:0000:d45f:ab24:0001", "ip"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.abcdefghijk", "secret"),
    ("aws_secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret"),
])
def test_found(text: str, kind: str) -> None:
    assert kind in scan_pii(text, KINDS), text


@pytest.mark.parametrize("text", [
    "released on 2023-01-15 at noon", "version 1.2.3.4", "at 12:34:56 sharp", "MAC 12:34:56:78:90:ab",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b", "pages 10-12 of 2019", "clause 252.227-7013",
    "order 00001230", "std::vector<int>",
])
def test_not_flagged(text: str) -> None:
    assert scan_pii(text, KINDS) == {}, text


def test_nearer_verb_decides_length_direction() -> None:
    reqs = parse_goal("keep only legal texts and drop anything under 100 words").requirements
    assert [r.params for r in reqs if r.kind == "length"] == [{"unit": "words", "min": 100}]
    reqs = parse_goal("only keep docs shorter than 200 words, remove the rest").requirements
    assert [r.params for r in reqs if r.kind == "length"] == [{"unit": "words", "max": 199}]


def test_per_document_limit_is_a_length_bound_not_a_budget() -> None:
    reqs = parse_goal("limit each document to 500 tokens").requirements
    assert [r.params for r in reqs if r.kind == "length"] == [{"unit": "tokens", "max": 500}]
    assert not [r for r in reqs if r.kind == "token_budget"]


# -- dotted quads in release notes and changelogs (issue 12 §7) -------------------------------------------

RELEASE_NOTES = Path(__file__).parent / "data" / "release_notes"


@pytest.mark.parametrize("name", ["debianutils_changelog.txt", "coreutils_changelog.txt", "libc6_changelog.txt",
                                  "libavif_changelog.txt"])
def test_version_numbers_in_real_changelogs_are_not_ip_addresses(name: str) -> None:
    text = (RELEASE_NOTES / name).read_text(encoding="utf-8")
    assert re.search(r"\b\d+\.\d+\.\d+\.\d+\b", text), "the excerpt must hold a four-part version"
    assert "ip" not in scan_pii(text, ["ip"]), name


@pytest.mark.parametrize("name,address", [("gnupg_changelog_with_ip.txt", "8.8.8.8"),
                                          ("gtk_changelog_with_ip.txt", "192.168.1.1")])
def test_addresses_in_real_changelogs_are_still_found(name: str, address: str) -> None:
    text = (RELEASE_NOTES / name).read_text(encoding="utf-8")
    assert scan_pii(text, ["ip"]).get("ip") == [address]


@pytest.mark.parametrize("text,found", [
    ("version 5.2.1.4", []), ("v5.2.1.4 is out", []), ("## 5.2.1.4 (2023-01-02)", []),
    ("## [5.2.1.4] - 2023-01-02", []), ("bump foo from 5.2.1.4 to 5.2.1.5", []), ("pkg (<= 21.08.8.2-1)", []),
    ("upstream 2.9.5.0.37 fixes it", []), ("Standards-Version: 4.6.1.1", []),
    ("the server at 5.2.1.4 answered", ["5.2.1.4"]), ("ping 10.0.0.7", ["10.0.0.7"]),
    ("connect to 93.186.135.91:8080", ["93.186.135.91"]), ("my address is 172.16.254.1.", ["172.16.254.1"]),
])
def test_dotted_quads_boundaries(text: str, found: list[str]) -> None:
    assert scan_pii(text, ["ip"]).get("ip", []) == found


def test_repair_pattern_keeps_release_notes(tmp_path: Path) -> None:
    """The regex the repair step adds for leftover addresses must not drop a changelog either."""
    from gristmill.agent.verify import IPV4

    text = (RELEASE_NOTES / "debianutils_changelog.txt").read_text(encoding="utf-8")
    assert not IPV4.search(text)
    assert IPV4.search("the server at 93.186.135.91 answered")


@pytest.mark.parametrize("text,found", [
    ("Call 555-0107 during office hours.", ["555-0107"]),
    ("Call (555) 0112-3456 during office hours.", ["(555) 0112-3456"]),
    ("Fax: 555 0199", ["555 0199"]),
    ("see pages 123-4567 of the report", []),
    ("It was released in 2021-2022 and patched in 1998.", []),
])
def test_local_phone_numbers_after_a_phone_cue(text: str, found: list[str]) -> None:
    """Numbers without an area code, as the pii operator does not recognise them (issue 12): the auditor does."""
    assert scan_pii(text, ["phone"]).get("phone", []) == found


def test_repair_drops_on_the_values_when_the_pattern_would_overmatch() -> None:
    from gristmill.agent.kinds.pii import Pii

    kept = ["Call 555-0107 during office hours."] + [f"Quick calls with (+1) 2 apples {i}" for i in range(5)]
    pat = Pii._repair_pattern(kept, {"phone": {"555-0107"}}, {"phone": 1})
    import re

    assert [bool(re.search(pat, t)) for t in kept] == [True] + [False] * 5
    pat = Pii._repair_pattern(kept[:1], {"phone": {"555-0107"}}, {"phone": 1})
    assert re.search(pat, "Call 555-0199 at noon")  # the broad pattern, when it does not over-match
