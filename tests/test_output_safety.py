"""gristmill never deletes what it did not write, keeps two runs out of one folder, and says so loudly when
a setting rejects most of an input; odd inputs (FIFOs, link loops) are named for what they are."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from gristmill.engine.layout import Layout
from tests.conftest import gristmill, read_kept, summary, write_jsonl, write_recipe

ROWS = [{"id": f"d{i}", "text": f"document number {i} has several plain words in it"} for i in range(20)]


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path / "r.yaml", [{"op": "normalize_text"}])


def run(recipe: Path, inp: Path, out: Path, *extra: str):
    return gristmill("run", recipe, "--input", inp, "--output", out, "--workers", "1", *extra)


def test_overwrite_refuses_a_folder_of_the_users_own_files(tmp_path, recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", ROWS)
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.txt").write_text("four years of work")
    (mine / "sub" / "notes.md").write_text("notes")
    for extra in ((), ("--overwrite",)):
        res = run(recipe, inp, mine, *extra)
        assert res.returncode == 2, res.stderr
        assert "not made by gristmill" in res.stderr and "never deletes" in res.stderr
        assert "pass --overwrite" not in res.stderr  # the message must not invite deleting the user's files
    assert (mine / "thesis.txt").read_text() == "four years of work"
    assert (mine / "sub" / "notes.md").read_text() == "notes"
    assert sorted(p.name for p in mine.iterdir()) == ["sub", "thesis.txt"]


def test_output_equal_to_the_input_folder_is_refused_and_the_input_survives(tmp_path, recipe):
    data = tmp_path / "data"
    write_jsonl(data / "a.jsonl", ROWS)
    before = (data / "a.jsonl").read_bytes()
    res = run(recipe, data, data, "--overwrite")
    assert res.returncode == 2 and "holds the input file" in res.stderr, res.stderr
    assert (data / "a.jsonl").read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == ["a.jsonl"]


@pytest.mark.parametrize("shape", ["contains the input deeper down", "is the input file", "is inside the input file"])
def test_an_output_that_is_contains_or_is_inside_an_input_is_refused(tmp_path, recipe, shape):
    data = tmp_path / "data"
    inp = write_jsonl(data / "sub" / "a.jsonl", ROWS)
    before = inp.read_bytes()
    out = {"contains the input deeper down": data, "is the input file": inp, "is inside the input file": inp / "out"}[shape]
    res = run(recipe, inp, out, "--overwrite")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert inp.read_bytes() == before and sorted(p.name for p in data.rglob("*")) == ["a.jsonl", "sub"]


def test_output_inside_the_input_folder_runs_twice_and_is_not_read_back(tmp_path, recipe):
    data = tmp_path / "data"
    write_jsonl(data / "a.jsonl", ROWS)
    out = data / "out"
    first = run(recipe, data, out)
    assert first.returncode == 0, first.stderr
    assert summary(out)["input"] == 20
    again = run(recipe, data, out)
    assert again.returncode == 0, again.stderr
    assert f"skipped {out}" in again.stderr and "already complete" in again.stderr
    redo = run(recipe, data, out, "--overwrite")
    assert redo.returncode == 0, redo.stderr
    s = summary(out)
    assert (s["input"], s["kept"]) == (20, 20)  # the first run's output was not taken as input
    assert s["inputs_skipped"] == {"gristmill_output_folders": [str(out)]}
    assert [f["relpath"] for f in s["inputs"]] == ["a.jsonl"]


def test_overwrite_removes_only_gristmills_files(tmp_path, recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out"
    assert run(recipe, inp, out).returncode == 0
    (out / "notes.md").write_text("a note the user put here later")
    res = run(recipe, inp, out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert (out / "notes.md").read_text() == "a note the user put here later"
    assert "left 1 file(s) gristmill did not write" in res.stderr
    assert read_kept(out).num_rows == 20


def test_a_second_run_into_a_folder_in_use_exits_2(tmp_path, recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out"
    assert run(recipe, inp, out).returncode == 0
    lay = Layout(out)
    with open(lay.lock, "a+") as held:  # stands for a run that is writing the folder right now
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        for extra in ((), ("--overwrite",)):
            res = run(recipe, inp, out, *extra)
            assert res.returncode == 2 and "being written by another gristmill run" in res.stderr, res.stderr
        assert read_kept(out).num_rows == 20 and lay.summary.exists()  # nothing was touched
    assert run(recipe, inp, out, "--overwrite").returncode == 0  # free again once the holder is gone


def test_an_unfinished_run_has_no_summary(tmp_path, recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out"
    killed = gristmill("run", recipe, "--input", inp, "--output", out, "--workers", "1",
                       env={"GRISTMILL_TEST_FAULT": "0:0:before-marker"})
    assert killed.returncode != 0
    assert Layout(out).output_marker.exists() and not Layout(out).summary.exists()
    assert run(recipe, inp, out).returncode == 0 and summary(out)["kept"] == 20


def test_a_wrong_text_field_rejecting_every_row_exits_1_with_the_summary(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", ROWS)
    recipe = write_recipe(tmp_path / "r.yaml", [{"op": "normalize_text"}], input={"text_field": "body"})
    out = tmp_path / "out"
    res = run(recipe, inp, out)
    assert res.returncode == 1, res.stderr
    assert "20 of the 20 rows of input file in.jsonl were rejected as 'missing_text'" in res.stderr
    s = summary(out)
    assert s["mass_rejects"] == [{"file": "in.jsonl", "reason": "missing_text", "rejected": 20, "of": 20}]
    assert s["balance"]["holds"] and s["rejected"]["total"] == 20


def test_half_the_rows_rejected_is_not_a_mass_reject(tmp_path, recipe):
    rows = ROWS[:10] + [{"id": f"x{i}", "body": "no text"} for i in range(10)]  # exactly half: not more than half
    res = run(recipe, write_jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert summary(tmp_path / "out")["mass_rejects"] == []


def test_fifo_and_symlink_loop_inputs_are_named(tmp_path, recipe):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    res = run(recipe, fifo, tmp_path / "o1")
    assert res.returncode == 2 and "is a FIFO (named pipe), not a regular file" in res.stderr, res.stderr
    res = run(recipe, tmp_path / "a.jsonl", tmp_path / "o2")
    assert res.returncode == 2 and "is a symbolic link loop" in res.stderr, res.stderr
    assert "does not exist" not in res.stderr


def test_tokenize_refuses_a_folder_of_the_users_own_files(tmp_path):
    pytest.importorskip("tokenizers")
    inp = write_jsonl(tmp_path / "in.jsonl", [{**r, "domain": "web"} for r in ROWS])
    mine = tmp_path / "mine"
    (mine / "train").mkdir(parents=True)
    (mine / "train" / "web").mkdir()
    (mine / "train" / "web" / "thesis.txt").write_text("mine")
    res = gristmill("tokenize", inp, "--output", mine, "--vocab-size", "300")
    assert res.returncode == 2 and "not made by gristmill" in res.stderr, res.stderr
    assert (mine / "train" / "web" / "thesis.txt").read_text() == "mine"
