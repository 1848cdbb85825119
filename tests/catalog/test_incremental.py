"""Incremental runs and re-deciding: every child version equals a full run of the same recipe over the same
inputs, row for row (all columns, in order) and dropped row for dropped row."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

import gristmill as gm
from gristmill.engine import forked
from gristmill.engine.redecide import ParentWalk
from gristmill.ops.registry import all_ops
from tests.catalog.incremental_corpus import build
from tests.conftest import gristmill, write_jsonl

STEPS = [
    {"op": "normalize_text"},
    {"op": "length_filter", "params": {"min_words": 30}},
    {"op": "gopher_quality"},
    {"op": "filter", "name": "blocklist", "keep": "field('id') != 'none'"},
    {"op": "exact_dedup"},
    {"op": "minhash_dedup"},
    {"op": "filter", "name": "cluster_cap", "keep": "minhash_dedup.cluster_size <= 3"},
]


@pytest.fixture
def corpus(tmp_path):
    data = tmp_path / "in"
    docs = build(data)
    return {"root": tmp_path / "catalog", "data": data, "docs": docs, "tmp": tmp_path}


def _recipe(c: dict, out: str, steps: list[dict] | None = None, engine: dict | None = None) -> Path:
    path = c["tmp"] / f"{out}.yaml"
    doc = {"name": "incr", "input": {"path": str(c["data"])}, "steps": steps or STEPS,
           "output": {"path": str(c["tmp"] / out)}, **({"engine": engine} if engine else {})}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(c: dict, out: str, into: str, steps: list[dict] | None = None, incremental: bool = True):
    return gm.Recipe.load(str(_recipe(c, out, steps))).run(workers=1, into=into, catalog=str(c["root"]),
                                                           incremental=incremental)


def _dropped(v) -> list[tuple]:
    table = v.dropped()
    rows = table.to_pylist() if table is not None else []
    return sorted((r["id"], r["step"], r["rule"], json.dumps({k: x for k, x in r.items() if x is not None},
                                                              sort_keys=True, default=str)) for r in rows)


def _assert_same(c: dict, a: str, b: str) -> pa.Table:
    va, vb = gm.catalog.get(a, str(c["root"])), gm.catalog.get(b, str(c["root"]))
    ta, tb = va.to_arrow(), vb.to_arrow()
    assert ta.column("id").to_pylist() == tb.column("id").to_pylist()
    assert ta.equals(tb), [n for n in ta.column_names if not ta.column(n).equals(tb.column(n))]
    assert _dropped(va) == _dropped(vb)
    for key in ("input", "kept", "dropped", "rejected"):
        assert va.manifest["counts"][key] == vb.manifest["counts"][key], key
    return ta


def _oneline(text: str) -> str:
    """A message as one line (the console wraps long ones)."""
    return " ".join(text.split())


def _cluster_sizes(table: pa.Table) -> dict[str, int]:
    return dict(zip(table.column("id").to_pylist(), table.column("minhash_dedup.cluster_size").to_pylist()))


def _hold(c: dict, name: str) -> Path:
    held = c["tmp"] / "held" / name
    held.parent.mkdir(exist_ok=True)
    shutil.move(c["data"] / name, held)
    return held


def test_new_inputs_are_deduplicated_against_the_parent_and_equal_a_full_rerun(corpus):
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    first = _run(c, "o1", "web")
    assert first.summary["incremental"]["mode"] == "full" and "no version" in first.summary["incremental"]["reason"]
    parent = gm.catalog.get("web@1", str(c["root"])).to_arrow()
    assert _cluster_sizes(parent)["chain-a"] == 1 and _cluster_sizes(parent)["chain-c"] == 1  # two clusters

    shutil.move(held, c["data"] / "2024-02.jsonl")
    child = _run(c, "o2", "web")
    inc = child.summary["incremental"]
    assert inc["mode"] == "incremental" and inc["parent"] == "web@1"
    assert inc["inputs_new"] == ["2024-02.jsonl"] and inc["inputs_skipped"] == ["2024-01.jsonl"]
    assert [i["relpath"] for i in child.summary["inputs"]] == ["2024-02.jsonl"]  # the only file read
    assert inc["new_rows"]["input"] == len(c["docs"]["new"])
    # the chain's middle document joins A's and C's clusters: C, kept by web@1, is now a near-duplicate of A
    assert inc["parent_rows_changed"]["dropped_now"] == 1
    assert child.summary["balance"]["holds"]

    _run(c, "o3", "full", incremental=False)
    kept = _assert_same(c, "web@2", "full@1")
    assert _cluster_sizes(kept)["chain-a"] == 3 and "chain-c" not in _cluster_sizes(kept)
    dropped = {d[0]: (d[1], d[2]) for d in _dropped(gm.catalog.get("web@2", str(c["root"])))}
    copies = [r["id"] for r in c["docs"]["new"] if r["id"].endswith("-copy")]
    edits = [r["id"] for r in c["docs"]["new"] if r["id"].endswith("-edit")]
    assert any(dropped.get(i) == ("exact_dedup", "duplicate") for i in copies)
    assert any(dropped.get(i) == ("minhash_dedup", "near_duplicate") for i in edits)
    assert dropped["chain-c"] == ("minhash_dedup", "near_duplicate")

    m = gm.catalog.get("web@2", str(c["root"])).manifest
    assert m["parents"][0] == {"kind": "version", "ref": "web@1"}
    assert {e["step"] for e in m["dedup_state"]} == {"exact_dedup", "minhash_dedup"}
    assert all((c["root"] / e["path"]).is_file() for e in m["dedup_state"])  # listed, so gc sees them
    assert m["incremental"]["inputs_new"] == ["2024-02.jsonl"]
    assert [i["relpath"] for i in m["incremental"]["inputs"]] == ["2024-01.jsonl", "2024-02.jsonl"]


def test_nothing_new_is_up_to_date_and_removed_inputs_are_carried(corpus):
    c = corpus
    _run(c, "o1", "web")
    again = _run(c, "o2", "web")
    assert again.extra["up_to_date"] == "web@1" and again.version.ref == "web@1"
    assert [v.number for v in gm.catalog.open(str(c["root"])).versions("web")] == [1]

    fresh = [{"id": f"{r['id']}-march", "text": r["text"].replace(" the ", " a ")} for r in c["docs"]["old"][:30]]
    write_jsonl(c["data"] / "2024-03.jsonl", fresh)
    held = _hold(c, "2024-01.jsonl")  # gone from the inputs: its rows stay in the dataset
    child = _run(c, "o3", "web")
    inc = child.summary["incremental"]
    assert inc["inputs_carried"] == ["2024-01.jsonl"] and inc["inputs_new"] == ["2024-03.jsonl"]
    shutil.move(held, c["data"] / "2024-01.jsonl")
    _run(c, "o4", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_new_thresholds_are_redecided_from_stored_signals_without_measuring(corpus, monkeypatch):
    c = corpus
    _run(c, "o1", "web")
    tighter = [dict(s) for s in STEPS]
    tighter[1] = {"op": "length_filter", "params": {"min_words": 120}}
    tighter[2] = {"op": "gopher_quality", "params": {"min_stop_words": 4, "max_avg_word_length": 7}}
    tighter[3] = {**STEPS[3], "keep": "field('id') != 'pair-x'"}  # Y, X's near-duplicate, takes X's place
    tighter[6] = {**STEPS[6], "keep": "minhash_dedup.cluster_size <= 1"}

    measured: list[tuple[str, int]] = []

    def counting(cls, name):
        original = getattr(cls, name)

        def wrapper(self, batch, *args, **kwargs):
            measured.append((f"{cls.name}.{name}", batch.num_rows))
            return original(self, batch, *args, **kwargs)

        return wrapper

    for cls in all_ops().values():
        monkeypatch.setattr(cls, "apply", counting(cls, "apply"))
        if cls.is_global:
            monkeypatch.setattr(cls, "signature", counting(cls, "signature"))
    child = _run(c, "o2", "web", tighter)
    monkeypatch.undo()
    # nothing measured again but the one row brought back, through the one step after its dedup step
    assert measured == [("filter.apply", 1)]
    inc = child.summary["incremental"]
    assert inc["recipe_change"] == "decisions"
    assert inc["rule_steps"] == ["length_filter", "gopher_quality", "blocklist", "cluster_cap"]
    assert inc["inputs_new"] == [] and inc["new_rows"]["input"] == 0
    changed = inc["parent_rows_changed"]
    assert changed["dropped_now"] > 0 and changed["kept_now"] == 1 and changed["measured_again"] == 1
    _run(c, "o3", "full", tighter, incremental=False)
    kept = _assert_same(c, "web@2", "full@1")
    assert "pair-y" in kept.column("id").to_pylist() and "pair-x" not in kept.column("id").to_pylist()


def _tighter() -> list[dict]:
    tighter = [dict(s) for s in STEPS]
    tighter[1] = {"op": "length_filter", "params": {"min_words": 120}}
    tighter[2] = {"op": "gopher_quality", "params": {"min_stop_words": 4, "max_avg_word_length": 7}}
    tighter[3] = {**STEPS[3], "keep": "field('id') != 'pair-x'"}
    tighter[6] = {**STEPS[6], "keep": "minhash_dedup.cluster_size <= 1"}
    return tighter


def test_incremental_runs_on_an_s3_catalog_equal_full_runs(corpus, monkeypatch):
    """The same two ways of building on a version, with the catalog on an object store (a local S3 server):
    the parent's files, dedup state and word table are fetched and checked like any version's."""
    from tests.catalog.helpers import s3_server

    c = corpus
    with s3_server(c["tmp"], monkeypatch) as bucket:
        c["root"] = f"s3://{bucket}/cat"
        held = _hold(c, "2024-02.jsonl")
        _run(c, "o1", "web")
        shutil.move(held, c["data"] / "2024-02.jsonl")
        child = _run(c, "o2", "web")
        assert child.summary["incremental"]["mode"] == "incremental"
        assert child.summary["incremental"]["word_table_chunks"] > 0
        _run(c, "o3", "full", incremental=False)
        _assert_same(c, "web@2", "full@1")
        from gristmill.catalog.core import Catalog
        from gristmill.catalog.trace import trace

        copy = c["docs"]["new"][15]["id"]  # an exact copy of an old document: dropped in the new month
        found = trace(Catalog(c["root"]), "web@2", copy)
        assert found["occurrences"][0]["status"] == "dropped"
        assert found["sources"][0]["file"] == "2024-02.jsonl"
        again = _run(c, "o4", "web", _tighter())
        assert again.summary["incremental"]["recipe_change"] == "decisions"
        _run(c, "o5", "full", _tighter(), incremental=False)
        _assert_same(c, "web@3", "full@2")


def test_redeciding_with_workers_shares_the_chunks_among_forked_children(corpus, monkeypatch):
    """With two workers, re-deciding's per-chunk work (the per-document rules, then writing the chunks) runs
    in children forked from the driver: the same version as one process makes, and as a full run."""
    c = corpus
    small = {"chunk_rows": 40}  # the parent in 5 chunks
    gm.Recipe.load(str(_recipe(c, "o1", engine=small))).run(workers=1, into="web", catalog=str(c["root"]))
    other = c["tmp"] / "catalog-2"
    shutil.copytree(c["root"], other)
    # earlier tests in this process may leave idle threads (fsspec's IO loop after the S3 tests), which
    # make the walk refuse to fork; none of them is used by the children
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)
    seen = c["tmp"] / "pids"
    for name in ("_per_doc", "materialize_chunk"):
        original = getattr(ParentWalk, name)

        def recording(self, *args, _original=original, _name=name, **kwargs):
            with open(seen, "a") as f:
                f.write(f"{_name} {os.getpid()}\n")
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ParentWalk, name, recording)
    one = gm.Recipe.load(str(_recipe(c, "o2", _tighter(), small))).run(workers=1, into="web", catalog=str(c["root"]),
                                                                         incremental=True)
    seen.unlink()
    two = gm.Recipe.load(str(_recipe(c, "o3", _tighter(), small))).run(workers=2, into="web", catalog=str(other),
                                                                         incremental=True)
    calls = [line.split() for line in seen.read_text().splitlines()]
    writers = {int(pid) for n, pid in calls if n == "materialize_chunk"}
    assert len(writers) == 2 and os.getpid() not in writers
    # the steps before the first dedup step in two children; cluster_cap (after it, beside a row brought
    # back, which is measured) here
    deciders = {int(pid) for n, pid in calls if n == "_per_doc"}
    assert len(deciders - {os.getpid()}) == 2 and os.getpid() in deciders
    monkeypatch.undo()
    for key in ("parent_rows_changed", "redecided_steps", "parent_files"):
        assert one.summary["incremental"][key] == two.summary["incremental"][key], key
    assert one.summary["incremental"]["parent_rows_changed"]["dropped_now"] > 0
    assert one.summary["steps"] == [{**s, "seconds": one.summary["steps"][i]["seconds"]}
                                    for i, s in enumerate(two.summary["steps"])]
    ta, tb = gm.catalog.get("web@2", str(c["root"])), gm.catalog.get("web@2", str(other))
    assert ta.to_arrow().equals(tb.to_arrow()) and _dropped(ta) == _dropped(tb)
    assert [e["hash"] for e in ta.manifest["dedup_state"]] == [e["hash"] for e in tb.manifest["dedup_state"]]
    gm.Recipe.load(str(_recipe(c, "o4", _tighter(), small))).run(workers=1, into="full", catalog=str(c["root"]))
    _assert_same(c, "web@2", "full@1")


def test_a_looser_threshold_is_found_the_same_with_forked_children(corpus, monkeypatch):
    """The rows a looser rule would bring back are counted over every chunk, whichever child read them."""
    c = corpus
    small = {"chunk_rows": 40}
    gm.Recipe.load(str(_recipe(c, "o1", engine=small))).run(workers=1, into="web", catalog=str(c["root"]))
    looser = [dict(s) for s in STEPS]
    looser[2] = {"op": "gopher_quality", "params": {"min_doc_words": 30}}
    reasons = []
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)  # as above
    for workers in (1, 2):
        root = c["tmp"] / f"catalog-{workers}"
        shutil.copytree(c["root"], root)
        done = gm.Recipe.load(str(_recipe(c, f"o{workers + 1}", looser, small))).run(
            workers=workers, into="web", catalog=str(root), incremental=True)
        assert done.summary["incremental"]["mode"] == "full"
        reasons.append(done.summary["incremental"]["reason"])
    assert reasons[0] == reasons[1] and "web@1 dropped there (rules {'short_doc'" in reasons[0]


def test_a_measuring_change_or_a_looser_threshold_runs_in_full_and_says_why(corpus):
    c = corpus
    _run(c, "o1", "web")
    looser = [dict(s) for s in STEPS]
    looser[2] = {"op": "gopher_quality", "params": {"min_doc_words": 30}}
    p = gristmill("run", _recipe(c, "o2", looser), "--workers", "1", "--into", "web", "--incremental",
                  env={"GRISTMILL_HOME": str(c["root"])})
    assert p.returncode == 0, p.stderr
    assert "re-deciding web@1" in p.stderr and "running in full" in p.stderr
    assert re.search(r"step 'gopher_quality' keep \d+ row\(s\) that web@1 dropped there \(rules \{'short_doc'", p.stderr)
    m = gm.catalog.get("web@2", str(c["root"])).manifest
    assert m["incremental"]["mode"] == "full" and "web@1 dropped there" in m["incremental"]["reason"]
    _run(c, "o3", "full", looser, incremental=False)
    _assert_same(c, "web@2", "full@1")

    measuring = [dict(s) for s in looser]
    measuring[5] = {"op": "minhash_dedup", "params": {"num_perm": 128}}
    done = _run(c, "o4", "web", measuring)
    assert done.summary["incremental"]["mode"] == "full"
    assert "measuring parameters changed (num_perm: 256 -> 128)" in done.summary["incremental"]["reason"]
    assert gm.catalog.get("web@3", str(c["root"])).manifest["incremental"]["mode"] == "full"


def test_faults_are_clear(corpus):
    c = corpus
    env = {"GRISTMILL_HOME": str(c["root"])}
    p = gristmill("run", _recipe(c, "o1"), "--workers", "1", "--incremental", env=env)
    assert p.returncode == 2 and "--into NAME" in p.stderr and "Traceback" not in p.stderr
    _run(c, "o1", "web")

    with (c["data"] / "2024-01.jsonl").open("a") as f:  # an input the parent saw, changed
        f.write(json.dumps({"id": "late", "text": "appended afterwards " * 40}) + "\n")
    held = _hold(c, "2024-02.jsonl")
    p = gristmill("run", _recipe(c, "o2"), "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "changed since web@1" in p.stderr and "would lose the rows of 1 input(s)" in p.stderr
    assert "(2024-02.jsonl)" in p.stderr

    shutil.move(held, c["data"] / "2024-02.jsonl")
    done = _run(c, "o3", "web")
    assert done.summary["incremental"]["mode"] == "full" and "changed since web@1" in done.summary["incremental"]["reason"]
    assert done.summary["input"] == 1 + sum(map(len, c["docs"].values()))


def test_a_killed_incremental_run_resumes_to_the_same_version(corpus):
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.move(held, c["data"] / "2024-02.jsonl")
    r = _recipe(c, "o2")
    env = {"GRISTMILL_HOME": str(c["root"])}
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental",
                  env={**env, "GRISTMILL_TEST_FAULT": "1:complete"})  # killed after its second stage's decision
    assert p.returncode != 0 and not (c["tmp"] / "o2" / ".gristmill" / "summary.json").exists()
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 0, p.stderr
    _run(c, "o3", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_the_same_command_again_replaces_a_folder_whose_run_is_registered(corpus):
    """`run RECIPE --into web --incremental`, month after month into the recipe's one output folder: the run the
    folder holds is web@1's, whose files the catalog has, so it is replaced without --overwrite; a folder whose
    kept files changed since is refused as before, and a killed run there is resumed, not replaced."""
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.move(held, c["data"] / "2024-02.jsonl")
    r, env = _recipe(c, "o1"), {"GRISTMILL_HOME": str(c["root"])}
    part = sorted((c["tmp"] / "o1").glob("part-*.parquet"))[0]
    st = part.stat()
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched since it was registered
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 2 and "holds a run of a different recipe or input" in p.stderr, p.stderr
    assert f"1 file changed or removed since its run was registered as web@1 ({part.name})" in _oneline(p.stderr)
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns))
    extra = part.with_name("part-000099.parquet")  # a part file that no version holds
    shutil.copy(part, extra)
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 2 and "holds a run of a different recipe or input" in p.stderr, p.stderr
    assert "it holds 1 part file that web@1 does not (part-000099.parquet)" in _oneline(p.stderr)
    extra.unlink()
    registered = c["tmp"] / "o1" / ".gristmill" / "registered.json"
    record = registered.read_bytes()
    registered.write_text(json.dumps({**json.loads(record), "catalog": "s3://elsewhere/catalog"}))
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 2 and "registered in another catalog (s3://elsewhere/catalog)" in _oneline(p.stderr)
    registered.write_bytes(record)
    prepared = c["tmp"] / "o1" / ".gristmill" / "prepare" / "recipe.yaml"  # what `prepare` leaves: kept
    prepared.parent.mkdir()
    shutil.copy(r, prepared)
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental",
                  env={**env, "GRISTMILL_TEST_FAULT": "1:complete"})
    assert p.returncode != 0 and not (c["tmp"] / "o1" / ".gristmill" / "summary.json").exists()
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 0 and "replaced the run" not in p.stderr, p.stderr  # resumed
    assert "registered web@2" in p.stderr
    assert len(gm.catalog.get("web@1", str(c["root"])).to_arrow()) > 0  # the replaced run's files: still there
    _run(c, "o3", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")
    write_jsonl(c["data"] / "2024-03.jsonl", [{"id": "late", "text": "a late document " * 20}])
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", env=env)
    assert p.returncode == 0 and "replaced the run in" in p.stderr and "registered as web@2" in p.stderr, p.stderr
    assert prepared.read_text() == r.read_text()
    counts = [gm.catalog.get(f"web@{v}", str(c["root"])).manifest["counts"]["input"] for v in (2, 3)]
    assert counts[1] == counts[0] + 1


def test_trace_finds_where_a_document_of_an_incremental_version_was_read(corpus):
    """A child records the provenance of the files it read itself; a document it took from its parent is
    traced to the parent's input file and line through the parent's table, over any number of children."""
    from gristmill.catalog.core import Catalog
    from gristmill.catalog.trace import render, trace

    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.move(held, c["data"] / "2024-02.jsonl")
    _run(c, "o2", "web")
    _run(c, "o3", "web", _tighter())  # re-decided: it read no file at all
    cat = Catalog(str(c["root"]))
    old, new = c["docs"]["old"][3]["id"], c["docs"]["new"][0]["id"]
    for ref in ("web@2", "web@3"):
        node = trace(cat, ref, old)
        (src,) = node["sources"]
        assert (src["file"], src["location"], src["read_by"]) == ("2024-01.jsonl", 4, "web@1"), ref
        assert src["kind"] == "input" and src["path"].endswith("2024-01.jsonl") and "note" not in node
        assert "[read by web@1, which this version builds on]" in "\n".join(render(node))
    (src,) = trace(cat, "web@3", new)["sources"]
    assert (src["file"], src["location"], src["read_by"]) == ("2024-02.jsonl", 1, "web@2")
    (src,) = trace(cat, "web@2", new)["sources"]
    assert (src["file"], src["location"]) == ("2024-02.jsonl", 1) and "read_by" not in src


def test_copies_renames_and_new_files_that_sort_first_equal_a_full_run(corpus):
    """A copy of a covered file beside the original is read (its rows are exact duplicates, as in a full
    run); a renamed file is skipped; a new file that sorts before the old ones makes a full run, saying why,
    since building on the parent would keep other first occurrences than a full run over the sorted inputs."""
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.copy(c["data"] / "2024-01.jsonl", c["data"] / "2024-01b.jsonl")
    copy = _run(c, "o1", "web")
    inc = copy.summary["incremental"]
    assert inc["mode"] == "incremental" and inc["inputs_new"] == ["2024-01b.jsonl"]
    _run(c, "f1", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")
    (c["data"] / "2024-01b.jsonl").rename(c["data"] / "2024-01c.jsonl")  # still after 2024-01
    assert _run(c, "o1", "web").extra["up_to_date"] == "web@2"
    shutil.move(held, c["data"] / "2023-12.jsonl")  # a backfilled month: sorts first
    late = _run(c, "o1", "web")
    assert late.summary["incremental"]["mode"] == "full"
    assert "new input(s) ['2023-12.jsonl'] sort before inputs of web@2" in late.summary["incremental"]["reason"]
    _run(c, "f2", "full", incremental=False)
    _assert_same(c, "web@3", "full@2")


def _add_columns(c: dict, ref: str) -> str:
    """What ``train writeback`` does: the next version is ``ref``'s rows plus a column."""
    v = gm.catalog.get(ref, str(c["root"]))
    ids = v.to_arrow().column("id")
    cat = gm.catalog.open(str(c["root"]))
    return cat.add_columns(ref, pa.table({"id": ids, "train.r1.loss": pa.array([1.0] * len(ids))}), {"kind": "run"}).ref


def test_a_version_that_only_adds_columns_is_not_built_on(corpus):
    """Training writes signals back as a version that adds columns (no dropped rows, no per-step counts of its
    own): an incremental run builds on the run version under it, for new inputs and for new thresholds alike."""
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    assert _add_columns(c, "web@1") == "web@2"
    shutil.move(held, c["data"] / "2024-02.jsonl")
    child = _run(c, "o2", "web")
    inc = child.summary["incremental"]
    assert inc["mode"] == "incremental" and inc["parent"] == "web@1"
    assert any("web@2 only add(s) columns" in n for n in inc["notes"])
    _run(c, "o3", "full", incremental=False)
    _assert_same(c, "web@3", "full@1")  # the parent's dropped rows and counts too
    assert "train.r1.loss" not in gm.catalog.get("web@3", str(c["root"])).to_arrow().column_names
    assert _add_columns(c, "web@3") == "web@4"
    again = _run(c, "o4", "web", _tighter())
    assert again.summary["incremental"]["parent"] == "web@3"
    assert again.summary["incremental"]["recipe_change"] == "decisions"
    _run(c, "o5", "full", _tighter(), incremental=False)
    _assert_same(c, "web@5", "full@2")


def test_a_catalog_input_whose_new_version_rewrote_files_runs_in_full(corpus):
    """Downstream of ``catalog://raw``: raw@2 rewrote raw@1's chunk (a cluster size changed), so raw@1's file is
    gone from the inputs and raw@2's is new; its rows are not carried beside raw@2's (they would be twice)."""
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    raw_steps = [{"op": "normalize_text"}, {"op": "minhash_dedup"}]
    down = c["tmp"] / "down.yaml"
    down.write_text(yaml.safe_dump({"name": "down", "input": {"path": "catalog://raw"},
                                    "steps": [{"op": "length_filter", "params": {"min_words": 30}}],
                                    "output": {"path": str(c["tmp"] / "down")}}))
    root = str(c["root"])
    _run(c, "raw1", "raw", raw_steps)
    gm.Recipe.load(str(down)).run(workers=1, into="down", catalog=root, incremental=True)
    shutil.move(held, c["data"] / "2024-02.jsonl")
    _run(c, "raw2", "raw", raw_steps)
    raw1 = {f["hash"] for f in gm.catalog.get("raw@1", root).manifest["files"]}
    assert not raw1 & {f["hash"] for f in gm.catalog.get("raw@2", root).manifest["files"]}  # rewritten
    done = gm.Recipe.load(str(down)).run(workers=1, into="down", catalog=root, incremental=True)
    assert done.summary["incremental"]["mode"] == "full"
    assert "replaced 1 file(s) of raw@1" in done.summary["incremental"]["reason"]
    ids = gm.catalog.get("down@2", root).to_arrow().column("id").to_pylist()
    assert len(ids) == len(set(ids))
    gm.Recipe.load(str(down)).run(workers=1, into="downfull", catalog=root, overwrite=True)
    _assert_same(c, "down@2", "downfull@1")


def test_a_delta_is_cut_per_worker_count_and_a_resume_keeps_the_cut(tmp_path):
    """Two workers cut a 1,200-document delta into several chunks (one worker would take it whole); a run
    killed part-way and resumed with one worker cuts the chunks its done markers describe, not its own."""
    from tests.catalog.incremental_corpus import _sample

    docs = _sample()
    write_jsonl(tmp_path / "in" / "a.jsonl", docs[:300])
    c = {"root": tmp_path / "catalog", "data": tmp_path / "in", "tmp": tmp_path}
    steps = [{"op": "normalize_text"}, {"op": "exact_dedup"}, {"op": "minhash_dedup"}]
    _run(c, "o1", "web", steps)
    write_jsonl(tmp_path / "in" / "b.jsonl", docs[300:1500])
    env = {"GRISTMILL_HOME": str(c["root"])}
    r = _recipe(c, "o2", steps)
    p = gristmill("run", r, "--workers", "2", "--into", "web", "--incremental",
                  env={**env, "GRISTMILL_TEST_FAULT": "0:3:before-write"})  # the parent is chunk 0: the last
    assert p.returncode != 0 and not (tmp_path / "o2" / ".gristmill" / "summary.json").exists()  # of 1, 2, 3 dies
    p = gristmill("run", r, "--workers", "1", "--into", "web", "--incremental", "--json", "--no-progress", env=env)
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout)["incremental"]
    assert run["next_chunk"] - run["first_chunk"] == 3  # 500 + 500 + 200 rows, as the killed run cut them
    _run(c, "o3", "full", steps, incremental=False)
    _assert_same(c, "web@2", "full@1")


@pytest.mark.ray
def test_an_incremental_run_on_ray_equals_a_full_run(corpus):
    pytest.importorskip("ray")
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.move(held, c["data"] / "2024-02.jsonl")
    child = gm.Recipe.load(str(_recipe(c, "o2"))).run(engine="ray", workers=2, into="web", catalog=str(c["root"]),
                                                      incremental=True)
    assert child.summary["incremental"]["mode"] == "incremental"
    _run(c, "o3", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_parent_chunks_rewritten_by_pool_workers_equal_those_the_driver_rewrites(corpus):
    """With worker processes, the parent's changed chunks are rewritten by the workers (during the last
    stage); with one process, by the driver: the same files either way, and a full run's rows."""
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    shutil.move(held, c["data"] / "2024-02.jsonl")
    other = c["tmp"] / "catalog-2"
    shutil.copytree(c["root"], other)
    one = _run(c, "o2", "web")
    two = gm.Recipe.load(str(_recipe(c, "o3"))).run(workers=2, into="web", catalog=str(other), incremental=True)
    files = one.summary["incremental"]["parent_files"]
    assert files == two.summary["incremental"]["parent_files"] and files["chunks_rewritten"] >= 1
    ta, tb = gm.catalog.get("web@2", str(c["root"])), gm.catalog.get("web@2", str(other))
    assert ta.to_arrow().equals(tb.to_arrow()) and _dropped(ta) == _dropped(tb)
    assert ([e["hash"] for e in ta.manifest["dedup_state"]] == [e["hash"] for e in tb.manifest["dedup_state"]])
    _run(c, "o4", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_a_percentile_step_over_new_inputs_with_pool_workers_equals_a_full_run(corpus):
    """New inputs move a percentile cut-off: parent rows it kept are dropped now, and the parent's chunks
    (kept and dropped files) are rewritten by pool workers, which build each chunk's ledger themselves (from
    the dropped files' id, step and rule columns) and read a dropped file whole only when its rows change.
    The child equals a full run."""
    c = corpus
    steps = [{"op": "normalize_text"}, {"op": "gopher_quality"}, {"op": "exact_dedup"},
             {"op": "signal_percentile", "params": {"of": "gopher_quality.n_words", "drop_top": 0.25}},
             {"op": "minhash_dedup"}]
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web", steps)
    shutil.move(held, c["data"] / "2024-02.jsonl")
    child = gm.Recipe.load(str(_recipe(c, "o2", steps))).run(workers=2, into="web", catalog=str(c["root"]),
                                                             incremental=True)
    run = child.summary["incremental"]
    assert run["mode"] == "incremental" and run["parent_files"]["chunks_rewritten"] >= 1
    assert run["parent_rows_changed"]["dropped_now"] + run["parent_rows_changed"]["kept_now"] >= 1
    _run(c, "o3", "full", steps, incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_a_refusal_to_replace_a_folder_says_why(corpus):
    """`--into` replaces a folder's finished run only when a version holds it; otherwise the refusal says which
    condition failed: a run that was never registered, or whose version was removed."""
    c = corpus
    env = {"GRISTMILL_HOME": str(c["root"])}
    gm.Recipe.load(str(_recipe(c, "o1"))).run(workers=1)  # a plain run: not registered
    p = gristmill("run", _recipe(c, "o1", STEPS[:3]), "--workers", "1", "--into", "web", env=env)
    assert p.returncode == 2 and "its run was not registered in a catalog" in _oneline(p.stderr), p.stderr
    _run(c, "o2", "web")
    p = gristmill("catalog", "rm", "web@1", env=env)
    assert p.returncode == 0, p.stderr
    p = gristmill("run", _recipe(c, "o2", STEPS[:3]), "--workers", "1", "--into", "web", env=env)
    assert p.returncode == 2, p.stderr
    assert "web@1, which its run was registered as, is no longer in the catalog" in _oneline(p.stderr), p.stderr
