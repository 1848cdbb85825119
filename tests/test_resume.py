"""Kill a run with SIGKILL at many points, run the same command again: the output is exactly that of an
uninterrupted run. Points are hit two ways: a fault hook that makes the process kill itself at an exact
place (between writing a chunk and marking it done, while deciding a dedup), and an outside SIGKILL of the
whole process group once a given number of chunks is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from gristmill.engine.layout import Layout
from tests.conftest import ROOT, gristmill, read_kept, summary, write_recipe
from tests.corpus import make_corpus

STEPS = [{"op": "normalize_text"}, {"op": "length_filter", "params": {"min_words": 5}}, {"op": "exact_dedup"}]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    make_corpus(root / "in", n=2400)
    recipe = write_recipe(root / "r.yaml", STEPS, engine={"chunk_rows": 61})
    ref = root / "ref"
    assert gristmill("run", recipe, "--input", root / "in", "--output", ref, "--workers", "1").returncode == 0
    return root, recipe, snapshot(ref)


def snapshot(out):
    s = summary(out)
    return {
        "rows": read_kept(out, ["id", "text"]).to_pylist(),
        "counts": (s["input"], s["kept"], s["dropped"], s["rejected"]),
        "files": sorted(p.name for p in out.glob("part-*")),
    }


def assert_same(out, ref):
    snap = snapshot(out)
    assert snap["counts"] == ref["counts"]
    assert snap["files"] == ref["files"]
    assert snap["rows"] == ref["rows"]
    assert not list(out.rglob("*.tmp")), "temporaries left behind"


@pytest.mark.parametrize(
    "fault",
    [
        "0:3:before-write",  # stage 1 (streaming), before the chunk's files exist
        "0:7:before-marker",  # stage 1, files renamed into place but not yet marked done
        "0:decide",  # while the dedup decides over all signatures
        "0:complete",  # dedup decision written, stage not yet marked complete
        "1:0:before-marker",  # stage 2 (applying the dedup), first chunk written, unmarked
        "1:20:before-write",  # stage 2, in the middle
    ],
)
def test_kill_at_an_exact_point_then_resume(setup, tmp_path, fault):
    root, recipe, ref = setup
    out = tmp_path / "out"
    args = ("run", recipe, "--input", root / "in", "--output", out, "--workers", "1")
    killed = gristmill(*args, env={"GRISTMILL_TEST_FAULT": fault})
    assert killed.returncode == -signal.SIGKILL, (fault, killed.returncode, killed.stderr[-500:])
    assert not Layout(out).summary.exists()
    resumed = gristmill(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert summary(out)["resumed"] is True
    assert_same(out, ref)


def test_a_killed_worker_is_a_clear_error_and_the_run_resumes(setup, tmp_path):
    """A pool worker killed mid-chunk (the driver survives): exit 1 with a message that says what to do, no
    traceback; the same command then finishes with the output of an uninterrupted run."""
    root, recipe, ref = setup
    out = tmp_path / "out"
    args = ("run", recipe, "--input", root / "in", "--output", out, "--workers", "2")
    broken = gristmill(*args, env={"GRISTMILL_TEST_FAULT": "0:7:before-write"})
    assert broken.returncode == 1, broken.stderr[-500:]
    assert "a worker process died" in broken.stderr and "Traceback" not in broken.stderr
    resumed = gristmill(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert_same(out, ref)


def _markers(out):
    return len(list(Layout(out).state.glob("stage-*/chunk-*.done.json")))


@pytest.mark.parametrize("after_markers", [2, 25, 45, 70])
def test_outside_sigkill_of_the_process_group_then_resume(setup, tmp_path, after_markers):
    """A real kill from outside, while two worker processes are busy, at several depths into the run
    (the corpus makes 40 chunks, so 45 and 70 fall in the dedup-applying stage)."""
    root, recipe, ref = setup
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gristmill.cli", "run", str(recipe), "--input", str(root / "in"), "--output", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _markers(out) < after_markers:
        time.sleep(0.005)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    res = gristmill("run", recipe, "--input", root / "in", "--output", out, "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert_same(out, ref)


def test_kill_twice_in_a_row_then_resume(setup, tmp_path):
    root, recipe, ref = setup
    out = tmp_path / "out"
    args = ("run", recipe, "--input", root / "in", "--output", out, "--workers", "1")
    assert gristmill(*args, env={"GRISTMILL_TEST_FAULT": "0:5:before-marker"}).returncode == -signal.SIGKILL
    assert gristmill(*args, env={"GRISTMILL_TEST_FAULT": "1:9:before-marker"}).returncode == -signal.SIGKILL
    assert gristmill(*args).returncode == 0
    assert_same(out, ref)
