"""The committed operator reference page is what the registry generates (so it cannot rot)."""

from __future__ import annotations

from pathlib import Path

from gristmill.ops.reference import render_markdown, render_overview
from gristmill.ops.registry import all_ops

ROOT = Path(__file__).resolve().parents[2]


def test_committed_reference_page_matches_the_registry() -> None:
    page = (ROOT / "docs/operators.md").read_text(encoding="utf-8")
    assert page == render_markdown(), "docs/operators.md is stale: run python scripts/gen_ops_reference.py"
    assert render_overview() in (ROOT / "docs/operators_overview.md").read_text(encoding="utf-8")


def test_every_operator_has_a_section_with_its_parameters_and_signals() -> None:
    page = render_markdown()
    for name, cls in all_ops().items():
        section = page.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for p in cls.Params.model_fields:
            assert f"| `{p}` |" in section, (name, p)
        for s in cls.signals:
            assert f"| `{s.name}` |" in section, (name, s.name)
    assert "- `short_doc`: `gopher_quality.n_non_symbol_words >= 50`" in page
