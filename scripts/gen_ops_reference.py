"""Write docs/operators.md (the operator reference) and docs/operators_overview.md from the registry.

    python scripts/gen_ops_reference.py [--check]

``--check`` writes nothing and exits 1 when a committed page differs from what the registry gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gristmill.ops.reference import render_markdown, render_overview

ROOT = Path(__file__).resolve().parents[1]
OVERVIEW_HEAD = (
    "## Operators\n\n"
    "Every operator measures signals (columns `<step>.<signal>`) and states default keep rules with the published\n"
    "thresholds; `gristmill ops list` shows the catalogue, `gristmill ops show NAME` one operator, and\n"
    "[docs/operators.md](docs/operators.md) the full reference (parameters, ranges, signals, default rules,\n"
    "papers), generated from the registry.\n\n"
)


def pages() -> dict[Path, str]:
    return {ROOT / "docs/operators.md": render_markdown(), ROOT / "docs/operators_overview.md": OVERVIEW_HEAD + render_overview()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for path, text in pages().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        sys.exit("out of date (run python scripts/gen_ops_reference.py): " + ", ".join(str(p) for p in stale))


if __name__ == "__main__":
    main()
