"""Bad input and faults of the catalog: each a one-line error with exit 2 (the user's input) or 1 (damage
found at run time), never a traceback, and never a catalog left half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.catalog.core import Catalog
from tests.catalog.helpers import clear_failure, ok_json, recipe
from tests.conftest import gristmill, write_jsonl

STEPS = [{"op": "length_filter", "params": {"min_words": 3}}]


@pytest.fixture
def web(tmp_path):
    root = tmp_path / "catalog"
    env = {"GRISTMILL_HOME": str(root)}
    data = write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": f"d{i}", "text": " ".join(["w"] * (i % 9 + 1))} for i in range(30)])
    r = recipe(tmp_path / "r.yaml", str(data), tmp_path / "o", STEPS)
    assert gristmill("run", r, "--workers", "1", "--into", "web", env=env).returncode == 0
    return tmp_path, root, env


def _reader(tmp: Path, ref: str, n: int = 0) -> Path:
    return recipe(tmp / f"read{n}.yaml", f"catalog://{ref}", tmp / f"read-out{n}", [{"op": "normalize_text"}])


def _versions(env) -> list[int]:
    return [e["version"] for e in ok_json(gristmill("catalog", "log", "web", "--json", env=env))]


def test_unknown_dataset_or_version_in_a_recipe(web):
    tmp, _, env = web
    clear_failure(gristmill("run", _reader(tmp, "nope@1"), "--into", "x", env=env), 2, "unknown dataset 'nope'")
    clear_failure(gristmill("run", _reader(tmp, "web@7", 1), env=env), 2, "unknown version web@7 (versions: 1)")
    clear_failure(gristmill("run", _reader(tmp, "web@x", 2), env=env), 2, "bad version 'x'")
    clear_failure(gristmill("catalog", "trace", "nope@1", "d1", env=env), 2, "unknown dataset 'nope'")
    clear_failure(gristmill("catalog", "rm", "web@7", env=env), 2, "unknown version web@7")
    clear_failure(gristmill("catalog", "rm", "web", env=env), 2, "name the version to remove: web@1")
    assert [d["dataset"] for d in ok_json(gristmill("catalog", "list", "--json", env=env))] == ["web"]


def test_a_corrupt_or_missing_data_file_fails_the_reader_not_the_catalog(web):
    tmp, root, env = web
    v = Catalog(str(root)).get("web@1")
    part = root / v.manifest["files"][0]["path"]
    good = part.read_bytes()
    part.write_bytes(good[:-8] + b"garbage!")
    clear_failure(gristmill("run", _reader(tmp, "web@1"), env=env), 1, "is corrupt", "does not match the manifest")
    part.unlink()
    clear_failure(gristmill("run", _reader(tmp, "web@1", 1), env=env), 1, "is missing")
    part.write_bytes(good)
    prov = root / v.manifest["provenance_files"][0]["path"]
    prov.unlink()
    clear_failure(gristmill("catalog", "trace", "web@1", "d5", env=env), 1, "is missing")
    assert gristmill("run", _reader(tmp, "web@1", 2), env=env).returncode == 0  # the data itself is whole again


def test_a_manifest_that_does_not_match_its_checksum_is_refused(web):
    tmp, root, env = web
    second = recipe(tmp / "b.yaml", str(tmp / "in" / "a.jsonl"), tmp / "o2", STEPS)
    assert gristmill("run", second, "--workers", "1", "--into", "other", env=env).returncode == 0
    path = root / "datasets" / "web" / "versions" / "000001.json"
    m = json.loads(path.read_text())
    assert m["checksum"].startswith("xxh3-128:")
    m["rows"] = 1_000_000  # an edit by hand
    path.write_text(json.dumps(m, indent=1, sort_keys=True))
    clear_failure(gristmill("catalog", "show", "web@1", env=env), 1, "was modified after it was committed")
    clear_failure(gristmill("run", _reader(tmp, "web@1"), env=env), 1, "was modified after it was committed")
    clear_failure(gristmill("run", _reader(tmp, "web", 1), env=env), 1, "was modified")  # the latest: no fallback
    listed = ok_json(gristmill("catalog", "list", "--json", env=env))  # the other dataset is still listed
    assert listed[0]["dataset"] == "other" and listed[0]["version"] == 1 and "modified" in listed[1]["error"]
    clear_failure(gristmill("catalog", "gc", "--min-age", "0", env=env), 1, "gc removes nothing while a manifest is damaged")
    path.write_text('{"dataset": "web", "vers')  # truncated
    clear_failure(gristmill("catalog", "show", "web@1", env=env), 1, "is damaged: not valid JSON")
    # a new commit neither reads nor replaces the damaged manifest: it takes the next number
    assert gristmill("run", second, "--workers", "1", "--into", "web", "--overwrite", env=env).returncode == 0
    assert (root / "datasets" / "web" / "versions" / "000002.json").exists()
    assert path.read_text() == '{"dataset": "web", "vers'


def test_a_root_that_is_not_writable_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    data = write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "d1", "text": "a b c d"}])
    r = recipe(tmp_path / "r.yaml", str(data), tmp_path / "o", STEPS)
    clear_failure(gristmill("run", r, "--into", "web", "--catalog", blocker / "cat"), 2, "is not writable")
    assert not (tmp_path / "o").exists()  # refused before anything ran
    clear_failure(gristmill("run", r, "--into", "web/../x", "--catalog", tmp_path / "cat"), 2, "bad dataset name")
    jsonl = recipe(tmp_path / "j.yaml", str(data), tmp_path / "oj", STEPS, output_options={"format": "jsonl"})
    clear_failure(gristmill("run", jsonl, "--into", "web", "--catalog", tmp_path / "cat"), 2, "needs output.format: parquet")
    assert not (tmp_path / "oj").exists()


def test_a_version_removed_by_gc_is_a_clear_error_for_the_recipe_that_names_it(web):
    tmp, _, env = web
    again = recipe(tmp / "again.yaml", str(tmp / "in" / "a.jsonl"), tmp / "o-again", STEPS)
    assert gristmill("run", again, "--workers", "1", "--into", "web", env=env).returncode == 0
    assert ok_json(gristmill("catalog", "gc", "web", "--keep-last", "1", "--json", env=env))["versions_removed"] == ["web@1"]
    err = clear_failure(gristmill("run", _reader(tmp, "web@1"), env=env), 2, "web@1 was removed from catalog",
                        "gristmill catalog gc --keep-last 1", "versions left: 2")
    assert len(err.strip().splitlines()) == 1
    assert _versions(env) == [2]
