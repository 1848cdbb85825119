"""The console script exits without tearing the interpreter down (cli.entry): nothing it prints is lost, exit
codes are kept, and exit handlers still run."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import gristmill


def _entry(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"import atexit, sys\nfrom gristmill import cli\n{code}\ncli.entry()"],
                          capture_output=True, text=True, timeout=120)


def test_a_long_output_through_a_pipe_arrives_whole_and_errors_keep_their_codes(tmp_path):
    p = gristmill("ops", "list", "--json")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) > 50_000 and {op["name"] for op in json.loads(p.stdout)} >= {"minhash_dedup", "length_filter"}
    missing = gristmill("run", tmp_path / "nope.yaml")
    assert missing.returncode == 2 and missing.stdout == "" and missing.stderr


def test_exit_handlers_run_and_a_message_exit_is_code_1():
    p = _entry("atexit.register(lambda: print('handler ran'))\nsys.argv = ['gristmill', '--version']")
    assert p.returncode == 0 and "gristmill" in p.stdout and p.stdout.rstrip().endswith("handler ran")
    p = _entry("def boom():\n    sys.exit('stopped: a reason')\ncli.main = boom")
    assert p.returncode == 1 and "stopped: a reason" in p.stderr
