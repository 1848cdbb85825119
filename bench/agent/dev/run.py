"""Run the development goal set (goals.yaml beside this file) with the public suite's runner, corpora and checks.

Not frozen: a guard against tuning the goal parser to the frozen suite's sentences. Same table, same
options as ``bench/agent/public/run.py`` (``--jobs``, ``--only``, ``--llm``, ``--json``, ``--keep``).

    python bench/agent/dev/run.py [--jobs 2] [--only SUBSTRING]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "public"))

import run as public_run  # noqa: E402 - the public suite's runner, beside goals.yaml there

if __name__ == "__main__":
    if "--goals" not in sys.argv:
        sys.argv[1:1] = ["--goals", str(HERE / "goals.yaml")]
    sys.exit(public_run.main())
