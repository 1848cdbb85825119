"""`gristmill catalog gc` and `rm`: unreferenced data goes, versions go only when asked, never a tagged
version or a parent of one that stays; on a local root and on an S3 root."""

from __future__ import annotations

from pathlib import Path

import pytest

from gristmill.catalog.core import Catalog
from tests.catalog.helpers import clear_failure, ok_json, recipe, s3_server
from tests.conftest import gristmill, write_jsonl

STEPS = [{"op": "length_filter", "params": {"min_words": 3}}]


def _docs(n: int) -> list[dict]:
    return [{"id": f"d{i}", "text": " ".join(["word"] * (i % 10 + 1))} for i in range(n)]


def _commit(tmp: Path, env: dict, name: str, input: str, tag: str, extra: list[str] = ()) -> None:
    r = recipe(tmp / f"{tag}.yaml", input, tmp / f"out-{tag}", STEPS)
    p = gristmill("run", r, "--workers", "1", "--into", name, "--overwrite", *extra, env=env)
    assert p.returncode == 0, p.stderr


def _data_folders(root: Path, name: str) -> set[str]:
    return {p.name for p in (root / "datasets" / name / "data").iterdir()}


@pytest.fixture
def cat(tmp_path):
    root = tmp_path / "catalog"
    data = write_jsonl(tmp_path / "in" / "a.jsonl", _docs(40))
    return root, str(data), {"GRISTMILL_HOME": str(root)}


def test_gc_removes_what_a_killed_commit_left_and_nothing_a_version_uses(cat, tmp_path):
    root, data, env = cat
    _commit(tmp_path, env, "web", data, "v1")
    before = _data_folders(root, "web")
    r = recipe(tmp_path / "k.yaml", data, tmp_path / "out-k", STEPS)
    p = gristmill("run", r, "--workers", "1", "--into", "web", env={**env, "GRISTMILL_TEST_FAULT": "catalog:before-claim"})
    assert p.returncode != 0
    (leftover,) = _data_folders(root, "web") - before

    young = ok_json(gristmill("catalog", "gc", "--json", env=env))  # a commit may still be writing it
    assert young["files_removed"] == 0 and young["young"][0]["folder"].endswith(leftover)
    dry = ok_json(gristmill("catalog", "gc", "--min-age", "0", "--dry-run", "--json", env=env))
    assert dry["files_removed"] == 3 and leftover in _data_folders(root, "web")  # kept, dropped, provenance
    done = ok_json(gristmill("catalog", "gc", "--min-age", "0", "--json", env=env))
    assert done["files_removed"] == 3 and done["versions_removed"] == []
    assert _data_folders(root, "web") == before
    assert Catalog(str(root)).get("web@1").to_arrow().num_rows == 32  # every file of web@1 still there, hash-checked
    assert len(Catalog(str(root)).get("web@1").local_files("provenance_files")) == 1


def test_keep_last_removes_old_versions_but_never_a_tagged_one_or_a_parent(cat, tmp_path):
    root, data, env = cat
    for i in range(1, 5):
        _commit(tmp_path, env, "web", data, f"v{i}")
    assert gristmill("catalog", "tag", "web@1", "gold", env=env).returncode == 0
    _commit(tmp_path, env, "long", "catalog://web@2", "long")  # long@1 derives from web@2
    files3 = [root / f["path"] for f in Catalog(str(root)).get("web@3").manifest["files"]]

    out = ok_json(gristmill("catalog", "gc", "web", "--keep-last", "1", "--json", env=env))
    assert out["versions_removed"] == ["web@3"]
    refused = {r["ref"]: r["reason"] for r in out["versions_refused"]}
    assert refused == {"web@1": "tagged gold", "web@2": "a parent of long@1, which stays"}
    assert not any(f.exists() for f in files3)
    clear_failure(gristmill("catalog", "show", "web@3", env=env), 2, "web@3 was removed", "catalog gc")
    assert [e["version"] for e in ok_json(gristmill("catalog", "log", "web", "--json", env=env))] == [4, 2, 1]
    for ref in ("web@1", "web@2", "web@4", "long@1"):
        assert Catalog(str(root)).get(ref).to_arrow().num_rows > 0

    clear_failure(gristmill("catalog", "rm", "web@1", env=env), 2, "web@1 is tagged gold")
    clear_failure(gristmill("catalog", "rm", "web@2", env=env), 2, "web@2 is a parent of long@1")
    assert ok_json(gristmill("catalog", "rm", "web@4", "--json", env=env))["versions_removed"] == ["web@4"]
    _commit(tmp_path, env, "web", data, "v5")  # the numbers of removed versions are never given out again
    assert [e["version"] for e in ok_json(gristmill("catalog", "log", "web", "--json", env=env))] == [5, 2, 1]
    # removing the child frees the parent
    assert ok_json(gristmill("catalog", "rm", "long@1", "web@2", "--json", env=env))["versions_removed"] == [
        "long@1", "web@2"]


def test_every_path_and_every_ref_a_manifest_names_counts_whoever_added_it(cat, tmp_path):
    """Other modules add files (side columns, dedup state) and version references to manifests: gc keeps them."""
    root, data, env = cat
    _commit(tmp_path, env, "web", data, "v1")
    _commit(tmp_path, env, "web", data, "v2")
    cat_ = Catalog(str(root))
    v2 = cat_.get("web@2")
    side = root / "datasets" / "web" / "columns" / "c1"
    side.mkdir(parents=True)
    (side / "train.loss.pq").write_bytes(b"PAR1")
    (side / "state").mkdir()
    (side / "state" / "bands.bin").write_bytes(b"x")
    (side / "by_url.pq").write_bytes(b"PAR1")
    stray = root / "datasets" / "web" / "columns" / "c2" / "orphan.pq"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"PAR1")
    manifest = {k: v for k, v in v2.manifest.items() if k not in ("version", "checksum", "parents")}
    manifest["parents"] = [{"kind": "run", "run": "r1"}]
    manifest["side_columns"] = [{"path": "datasets/web/columns/c1/train.loss.pq"}]
    manifest["dedup_state"] = "datasets/web/columns/c1/state/"  # a folder: all under it
    manifest["extra"] = {"url": str(side / "by_url.pq")}  # a full path under the root counts too
    manifest["incremental"] = {"base": {"ref": "web@1"}}
    assert cat_._claim("web", manifest).number == 3

    out = ok_json(gristmill("catalog", "gc", "web", "--keep-last", "1", "--min-age", "0", "--json", env=env))
    assert out["versions_removed"] == ["web@2"]
    assert out["versions_refused"] == [{"ref": "web@1", "reason": "a parent of web@3, which stays"}]
    assert (side / "train.loss.pq").exists() and (side / "state" / "bands.bin").exists() and (side / "by_url.pq").exists()
    assert not stray.exists()
    assert all((root / f["path"]).exists() for f in v2.manifest["files"])  # web@3 uses web@2's data files


def test_gc_on_an_s3_root(tmp_path, monkeypatch):
    with s3_server(tmp_path, monkeypatch) as bucket:
        uri = f"s3://{bucket}/cat"
        env = {"GRISTMILL_HOME": uri}
        data = str(write_jsonl(tmp_path / "in" / "a.jsonl", _docs(40)))
        for i in (1, 2):
            _commit(tmp_path, env, "web", data, f"v{i}")
        r = recipe(tmp_path / "k.yaml", data, tmp_path / "out-k", STEPS)
        p = gristmill("run", r, "--workers", "1", "--into", "web", env={**env, "GRISTMILL_TEST_FAULT": "catalog:before-claim"})
        assert p.returncode != 0
        cat = Catalog(uri)
        files1 = [f["path"] for f in cat.get("web@1").manifest["files"]]
        out = ok_json(gristmill("catalog", "gc", "web", "--keep-last", "1", "--min-age", "0", "--json", env=env))
        assert out["versions_removed"] == ["web@1"] and out["files_removed"] == 6  # web@1's 3 + the leftover's 3
        assert not any(cat.store.exists(k) for k in files1)
        assert cat.store.exists("datasets/web/versions/000001.removed.json")
        assert Catalog(uri).get("web@2").to_arrow().num_rows == 32
        clear_failure(gristmill("catalog", "show", "web@1", env=env), 2, "web@1 was removed")
        again = ok_json(gristmill("catalog", "gc", "--min-age", "0", "--json", env=env))
        assert again["files_removed"] == 0


def test_gc_refuses_a_root_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    clear_failure(gristmill("catalog", "gc", "--catalog", str(blocker / "catalog")), 2, "is not writable")
    clear_failure(gristmill("catalog", "rm", "web@1", "--catalog", str(blocker / "catalog")), 2, "is not writable")
