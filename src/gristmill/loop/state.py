"""What a loop has finished, so that a rerun reuses it: ``OUT/loop_state.json``.

Each phase is recorded with a *key* (a hash of everything it was run from: its settings and the results of the
phases before it), its result (catalog refs, run folders, figures) and its wall time. A rerun reuses a phase
whose key is unchanged and whose artifacts still exist (:meth:`LoopState.done`); any other phase runs again,
and so does every phase after it, since their keys hold its result.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

STATE_FILE = "loop_state.json"


def phase_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class LoopState:
    def __init__(self, out: Path) -> None:
        self.path = out / STATE_FILE
        self.phases: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                self.phases = json.loads(self.path.read_text()).get("phases", {})
            except (OSError, json.JSONDecodeError):
                self.phases = {}  # a damaged state file: everything runs again

    def done(self, phase: str, key: str) -> dict[str, Any] | None:
        """The recorded result of ``phase`` when it finished with this ``key``; None otherwise."""
        rec = self.phases.get(phase)
        return rec if rec is not None and rec.get("key") == key else None

    def record(self, phase: str, key: str, result: dict[str, Any], seconds: float) -> None:
        self.phases[phase] = {"key": key, "result": result, "seconds": seconds}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"phases": self.phases}, indent=2, default=str) + "\n")
        os.replace(tmp, self.path)
