"""Where no OS sandbox can be made, generated code is refused with what to install, and never runs at all."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from gristmill.agent.sandbox import Proposal, run_sandboxed, save_operator
from gristmill.sandbox import view
from tests.conftest import gristmill, write_jsonl

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the OS sandbox is Linux only")

NO_USERNS = "bwrap: No permissions to create a new namespace, likely because the kernel does not allow non-privileged user namespaces."


def payload(host_file: Path) -> str:
    """Harmless if sandboxed (the host path is not in its view); leaves a file on the host if it ever ran outside."""
    return ("import json\n\n\ndef score(text):\n    os = json.codecs.sys.modules['os']\n"
            f"    fd = os.open({str(host_file)!r}, os.O_WRONLY | os.O_CREAT, 0o644)\n    os.close(fd)\n    return 1\n")


def fake_bwrap(folder: Path) -> Path:
    """A ``bwrap`` that fails as it does on a kernel without unprivileged user namespaces."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "bwrap"
    exe.write_text(f"#!/bin/sh\necho '{NO_USERNS}' >&2\nexit 1\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.fixture
def fresh_probe():
    view.check_available.cache_clear()
    yield
    view.check_available.cache_clear()


@pytest.mark.parametrize("how", ["bwrap missing", "user namespaces off"])
def test_a_proposal_is_refused_with_what_to_install(tmp_path, monkeypatch, fresh_probe, how):
    path = "/nonexistent" if how == "bwrap missing" else str(fake_bwrap(tmp_path / "bin"))
    monkeypatch.setenv("PATH", path)
    v = run_sandboxed(payload(tmp_path / "ran"), ["a document"])
    assert not v.accepted and v.values == []
    expected = "apt-get install bubblewrap" if how == "bwrap missing" else "kernel.unprivileged_userns_clone=1"
    assert expected in v.reason and "catalogue operators only" in v.reason, v.reason
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("how", ["bwrap missing", "user namespaces off"])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_saved_operator_is_refused_by_validate_and_run(tmp_path, how, command):
    save_operator(tmp_path / "operators", Proposal("writes_home", "d", payload(tmp_path / "ran")), "saved as accepted")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("name: t\nsteps:\n  - {op: writes_home}\n")
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": f"document {i}"} for i in range(20)])
    path = "/nonexistent" if how == "bwrap missing" else str(fake_bwrap(tmp_path / "bin"))
    args = [command, recipe] + (["--input", inp, "--output", tmp_path / "out", "--workers", "2"] if command == "run" else [])
    res = gristmill(*args, env={"PATH": path})
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "generated operator 'writes_home' refused" in res.stderr and "bubblewrap" in res.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "out").exists()


def test_the_gate_recognises_user_namespaces_switched_off(tmp_path, monkeypatch):
    """The one case where the sandbox tests skip instead of failing: not root, user namespaces off."""
    from tests.sandbox import gate

    debian, max_ns = tmp_path / "unprivileged_userns_clone", tmp_path / "max_user_namespaces"
    monkeypatch.setattr(gate, "_USERNS_OFF", {str(debian): "0", str(max_ns): "0", str(tmp_path / "absent"): "1"})
    debian.write_text("1\n")
    max_ns.write_text("63452\n")
    assert gate.unprivileged_userns_disabled() is None
    max_ns.write_text("0\n")
    assert gate.unprivileged_userns_disabled() == f"{max_ns} = 0"
