"""Test LLM-written operator code in the OS-level sandbox and accept it only if it behaves on the sample.

Layers, each with its own refusal reason:

1. **Static check** (in this process, nothing runs): the code must parse, define ``score(text)``, import only
   :data:`gristmill.ops.generated.ALLOWED_IMPORTS` and use no private or dunder names (``x._sys``,
   ``__class__``, ``__import__``), nor ``open``, ``exec``, ``eval``, ``compile``, ``getattr``, ``globals``.
   A friendly first filter that gives the LLM a clear reason; it is not the boundary.
2. **The OS-level sandbox** (:mod:`gristmill.sandbox`): a bubblewrap child in new user, network, mount, PID,
   IPC and UTS namespaces, seeing only the interpreter, the standard library and the allowed packages
   read-only and a private tmpfs, with no network, a seccomp filter, and rlimits on CPU, memory, processes,
   file size and open files. The code runs there exactly as it will inside ``gristmill run``.
3. **Behaviour on the sample**: ``score`` must return a bool or a finite number for every sampled document,
   without an exception, within the limits; the reply comes over a dedicated framed channel (stdout and
   stderr are capped and never read as a verdict), and the child must then exit cleanly.

Where no sandbox can be made here, the code is refused with what to install; it never runs unsandboxed.
Accepted code is saved beside the recipe by :func:`save_operator` (``operators/NAME.py`` plus the SHA-256
manifest that :mod:`gristmill.ops.plugins` checks before loading).
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from gristmill.ops.generated import ALLOWED_IMPORTS, FUNCTION, NAME, check_keep, is_generated, module_text
from gristmill.sandbox import CodeError, SandboxedFunction, SandboxFailure
from gristmill.sandbox import Limits as ChildLimits
from gristmill.sandbox.view import SandboxUnavailable, check_available

_FORBIDDEN_NAMES = {"open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars",
                    "__import__", "breakpoint", "input", "memoryview", "help"}


@dataclass
class Limits:
    cpu_s: int = 10
    wall_s: float = 30.0
    memory_mb: int = 1024
    file_mb: int = 16
    max_docs: int = 500  # sampled documents the code is tested on
    output_mb: float = 2.0  # what the code may write to stdout/stderr before it counts as a flood

    def child(self) -> ChildLimits:
        return ChildLimits(cpu_s=self.cpu_s, wall_s=self.wall_s, memory_mb=self.memory_mb, file_mb=self.file_mb,
                           output_bytes=int(self.output_mb * 2**20))


@dataclass
class Verdict:
    accepted: bool
    reason: str
    values: list[float] = field(default_factory=list)
    seconds: float = 0.0
    output: bytes = b""  # what the code wrote to stdout/stderr, capped at Limits.output_mb

    def __str__(self) -> str:
        return ("accepted: " if self.accepted else "refused: ") + self.reason


def static_check(source: str) -> str | None:
    """Why the code is refused before running it, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"syntax error on line {exc.lineno}: {exc.msg}"
    defines = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] not in ALLOWED_IMPORTS:
                    return f"imports {a.name!r}; allowed imports: {', '.join(sorted(ALLOWED_IMPORTS))}"
        elif isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] not in ALLOWED_IMPORTS:
                return f"imports from {node.module or '.'!r}; allowed imports: {', '.join(sorted(ALLOWED_IMPORTS))}"
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return f"uses the private attribute {node.attr!r} (line {node.lineno})"
        elif isinstance(node, ast.Name) and (node.id in _FORBIDDEN_NAMES or node.id.startswith("__")):
            return f"uses {node.id!r} (line {node.lineno}); generated operators may not touch files, code or the interpreter"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == FUNCTION and node.col_offset == 0:
            defines = True
    if not defines:
        return f"the code does not define a top-level function {FUNCTION}(text)"
    return None


def run_sandboxed(source: str, texts: list[str], limits: Limits | None = None, static: bool = True) -> Verdict:
    """Test ``source`` on ``texts`` in the sandbox. ``static=False`` skips layer 1 (tests of the OS layer)."""
    lim = limits or Limits()
    t0 = time.perf_counter()
    if static:
        why = static_check(source)
        if why:
            return Verdict(False, f"static check: {why}", seconds=time.perf_counter() - t0)
    try:
        check_available()
    except SandboxUnavailable as exc:
        return Verdict(False, f"{exc}; until then use catalogue operators only", seconds=time.perf_counter() - t0)
    texts = [t if isinstance(t, str) else "" for t in texts[: lim.max_docs]]
    fn = SandboxedFunction(source, ALLOWED_IMPORTS, lim.child())
    reason, values = "", []
    try:
        values = fn(texts)
    except CodeError as exc:
        reason = str(exc)
    except SandboxFailure as exc:
        reason = f"the sandboxed process {exc} on {len(texts)} sample documents"
    finally:
        status = fn.close()
    dt = time.perf_counter() - t0
    if not reason and status != 0:
        reason = f"the sandboxed process did not exit cleanly after its reply (status {status})"
    if reason:
        return Verdict(False, reason, seconds=dt, output=fn.output)
    return Verdict(True, f"returned a number for each of {len(texts)} sample documents in {dt:.1f} s "
                         f"(limits: {lim.cpu_s} s CPU, {lim.wall_s:g} s wall, {lim.memory_mb} MB)", values, dt, fn.output)


@dataclass
class Proposal:
    """A new operator as the LLM proposes it."""

    name: str
    description: str
    code: str
    keep: str = "score > 0"

    @classmethod
    def parse(cls, obj: object) -> Proposal:
        if not isinstance(obj, dict):
            raise ValueError("each new_operators entry must be an object {name, description, code, keep}")
        name, code = obj.get("name"), obj.get("code")
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(f"new operator name {name!r} must match {NAME.pattern}")
        from gristmill.ops.registry import all_ops

        if name in all_ops() and not is_generated(name):
            raise ValueError(f"new operator name {name!r} is taken by a built-in operator; choose another")
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"new operator {name!r} has no code")
        keep = obj.get("keep")
        return cls(name, str(obj.get("description") or "")[:500], code, check_keep(keep if isinstance(keep, str) else None))


def save_operator(folder: Path, p: Proposal, note: str) -> Path:
    """Write ``folder/NAME.py`` and add its SHA-256 to ``folder/manifest.json``."""
    from gristmill.ops.plugins import MANIFEST

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{p.name}.py"
    path.write_text(module_text(p.name, p.description, p.code, p.keep, note), encoding="utf-8")
    man = folder / MANIFEST
    entries = json.loads(man.read_text()) if man.is_file() else {}
    entries[p.name] = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "note": note}
    man.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def copy_operators(src: Path, dst: Path, names: list[str]) -> None:
    """Copy accepted operators (files and manifest entries) from the work folder to beside the recipe."""
    from gristmill.ops.plugins import MANIFEST

    entries = json.loads((src / MANIFEST).read_text())
    dst.mkdir(parents=True, exist_ok=True)
    man = dst / MANIFEST
    out = json.loads(man.read_text()) if man.is_file() else {}
    for n in names:
        (dst / entries[n]["file"]).write_bytes((src / entries[n]["file"]).read_bytes())
        out[n] = entries[n]
    man.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
