"""Cross-document boilerplate removal: lines in at least min_docs documents go, the rest stays."""

from __future__ import annotations

import pytest

from gristmill.ops.lines_dedup import LinesDedup, LinesDedupParams
from gristmill.ops.registry import get_op

from ._dedup_helpers import batch_of, run_global

MENU = "Home | About | Contact"
COOKIE = "We use cookies to improve your experience."


TOPICS = ["rivers", "bridges", "owls", "tides", "ferns", "comets", "kilns", "lutes", "mosses", "quarries"]


def body(i: int) -> str:
    return f"This article talks about {TOPICS[i]} in some detail, unlike any other page."


def test_line_in_min_docs_documents_is_removed_one_fewer_is_kept() -> None:
    docs = [
        f"{MENU}\n{body(1)}\n{COOKIE}",
        f"{MENU}\n{body(2)}\n{COOKIE}",
        f"{MENU}\n{body(3)}",
        f"{body(4)}\nShared by two pages only.",
        f"{body(5)}\nShared by two pages only.",
    ]
    b = batch_of(docs)
    op = LinesDedup(LinesDedupParams(min_docs=3), step="bp")
    (keep,), dec = run_global(op, [b])
    assert keep.all()
    assert b.texts() == [
        f"{body(1)}\n{COOKIE}",
        f"{body(2)}\n{COOKIE}",
        body(3),
        f"{body(4)}\nShared by two pages only.",
        f"{body(5)}\nShared by two pages only.",
    ]
    assert b.table.column("bp.lines_removed").to_pylist() == [1, 1, 1, 0, 0]
    assert dec.stats["boilerplate_lines"] == 1


def test_repeats_within_one_document_count_once() -> None:
    docs = [f"{MENU}\n{body(1)}\n{MENU}", f"{MENU}\n{body(2)}", body(3)]
    b = batch_of(docs)
    (keep,), _ = run_global(LinesDedup(LinesDedupParams(min_docs=3)), [b])
    assert b.texts() == docs  # two documents, not three


def test_normalisation_of_case_space_and_digits() -> None:
    docs = [
        f"Copyright 2021 Acme Inc.\n{body(1)}",
        f"  copyright   2023 ACME inc.\n{body(2)}",
        f"COPYRIGHT 1999 acme inc.\n{body(3)}",
    ]
    b = batch_of(docs)
    run_global(LinesDedup(LinesDedupParams(min_docs=3)), [b])
    assert b.texts() == [body(1), body(2), body(3)]
    b2 = batch_of(docs)
    run_global(LinesDedup(LinesDedupParams(min_docs=3, normalize_digits=False)), [b2])
    assert b2.texts() == docs


def test_short_lines_are_never_boilerplate() -> None:
    docs = [f"def {t}():\n    return {t}\n}}\nabcd\nabcde" for t in TOPICS[:4]]
    b = batch_of(docs)
    run_global(LinesDedup(LinesDedupParams(min_docs=3, min_chars=5)), [b])
    assert b.texts() == [f"def {t}():\n    return {t}\n}}\nabcd" for t in TOPICS[:4]]


def test_documents_left_empty_are_dropped_across_chunks() -> None:
    c1 = batch_of([f"{MENU}\n{COOKIE}", f"{MENU}\n{COOKIE}\n{body(1)}"])
    c2 = batch_of([f"{MENU}\n\n{COOKIE}\n", body(2)])
    op = LinesDedup(LinesDedupParams(min_docs=3), step="bp")
    keeps, _ = run_global(op, [c1, c2])
    assert [list(k) for k in keeps] == [[False, True], [False, True]]
    assert c1.texts()[1] == body(1)
    assert c2.table.column("bp.lines_removed").to_pylist() == [2, 0]


def test_paragraph_unit() -> None:
    footer = "Subscribe to our newsletter.\nFollow us on social media."
    docs = [f"{body(i)}\nSecond line on {TOPICS[i]}.\n\n{footer}" for i in range(3)]
    docs.append(f"{body(9)}\n\nSubscribe to our newsletter.")  # a different paragraph
    b = batch_of(docs)
    run_global(LinesDedup(LinesDedupParams(unit="paragraph", min_docs=3)), [b])
    assert b.texts()[:3] == [f"{body(i)}\nSecond line on {TOPICS[i]}." for i in range(3)]
    assert b.texts()[3] == docs[3]


def test_signature_holds_hashes_only() -> None:
    op = LinesDedup()
    sig = op.signature(batch_of([f"{MENU}\n{MENU}\n{body(1)}", ""]))
    assert sig.to_pylist()[1] == [] and len(sig.to_pylist()[0]) == 2
    assert get_op("lines_dedup") is LinesDedup


def test_min_docs_must_be_at_least_two() -> None:
    with pytest.raises(ValueError):
        LinesDedupParams(min_docs=1)
