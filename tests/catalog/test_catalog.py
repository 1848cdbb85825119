"""The catalog end to end through the CLI: commit with --into, lineage through catalog://, faults and races."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, gristmill, write_jsonl

RECIPE = """
input: {{path: "{input}"}}
steps:
  - op: length_filter
    params: {{min_words: {min_words}}}
output: {{path: "{output}"}}
"""


def _docs(n: int, start: int = 0) -> list[dict]:
    return [{"id": f"d{i}", "text": " ".join(["word"] * (i % 10 + 1))} for i in range(start, start + n)]


def _recipe(tmp: Path, name: str, input: str, output: Path, min_words: int = 3) -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(RECIPE.format(input=input, output=output, min_words=min_words))
    return p


@pytest.fixture
def cat(tmp_path):
    root = tmp_path / "catalog"
    data = write_jsonl(tmp_path / "in" / "a.jsonl", _docs(40))
    return root, data, {"GRISTMILL_HOME": str(root)}


def _json(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_run_into_registers_versions_with_record_and_lineage(cat, tmp_path):
    root, data, env = cat
    r = _recipe(tmp_path, "r", str(data), tmp_path / "out1")
    assert gristmill("run", r, "--workers", "1", "--into", "web", env=env).returncode == 0
    shown = _json(gristmill("catalog", "show", "web@1", "--json", env=env))
    assert shown["rows"] == 32  # 40 docs, the 8 with fewer than 3 words are dropped
    assert shown["counts"]["dropped"]["total"] == 8
    assert shown["parents"][0]["kind"] == "input" and shown["parents"][0]["fingerprint"].startswith("xxh3-128:")
    assert shown["recipe"]["text"] == r.read_text() and shown["operators"][0]["op"] == "length_filter"
    assert pq.read_table(shown["urls"][0]).num_rows == 32  # any Parquet reader opens the files by path
    dropped = pq.read_table(Path(root) / shown["dropped_files"][0]["path"])
    assert dropped.num_rows == 8 and set(dropped["rule"].to_pylist()) == {"too_few_words"}

    r2 = _recipe(tmp_path, "r2", "catalog://web@1", tmp_path / "out2", min_words=8)
    assert gristmill("run", r2, "--workers", "1", "--into", "long", env=env).returncode == 0
    tree = _json(gristmill("catalog", "lineage", "long@1", "--json", env=env))
    assert tree["parents"][0]["ref"] == "web@1"
    assert tree["parents"][0]["parents"][0]["path"] == str(data)
    assert _json(gristmill("catalog", "show", "long", "--json", env=env))["rows"] == 12

    assert gristmill("run", r, "--workers", "1", "--into", "web", "--overwrite", env=env).returncode == 0
    again = gristmill("run", r, "--workers", "1", "--into", "web", env=env)  # the same finished run: no new version
    assert again.returncode == 0 and "already registered as web@2" in again.stderr, again.stderr
    log = _json(gristmill("catalog", "log", "web", "--json", env=env))
    assert [e["version"] for e in log] == [2, 1]
    assert gristmill("catalog", "tag", "web@1", "gold", env=env).returncode == 0
    assert _json(gristmill("catalog", "show", "web@1", "--json", env=env))["tags"] == ["gold"]
    diff = _json(gristmill("catalog", "diff", "web@1", "long@1", "--json", env=env))
    assert diff["rows"] == [32, 12] and diff["recipe_changed"] and diff["parents_added"] == ["web@1"]
    out = tmp_path / "exp"
    assert gristmill("catalog", "export", "web@2", "--output", out, "--format", "jsonl", env=env).returncode == 0
    assert len((out / "part-000000.jsonl").read_text().splitlines()) == 32


def test_unknown_names_and_corrupt_files_are_clear_errors(cat, tmp_path):
    root, data, env = cat
    assert gristmill("run", _recipe(tmp_path, "r", str(data), tmp_path / "o"), "--workers", "1", "--into", "web",
                     env=env).returncode == 0
    for args in (["show", "nope"], ["show", "web@9"], ["show", "web@x"]):
        p = gristmill("catalog", *args, env=env)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "unknown version web@9" in gristmill("catalog", "show", "web@9", env=env).stderr
    shown = _json(gristmill("catalog", "show", "web@1", "--json", env=env))
    part = Path(shown["urls"][0])
    part.chmod(0o644)
    part.write_bytes(part.read_bytes()[:-10] + b"0123456789")
    p = gristmill("catalog", "export", "web@1", "--output", tmp_path / "e", env=env)
    assert p.returncode == 1 and "is corrupt" in p.stderr and "Traceback" not in p.stderr
    part.unlink()
    p = gristmill("catalog", "export", "web@1", "--output", tmp_path / "e2", env=env)
    assert p.returncode == 1 and "is missing" in p.stderr
    typo = tmp_path / "catalgo"  # a mistyped --catalog: said so, naming the root, and no folder is left behind
    p = gristmill("catalog", "list", "--catalog", typo, env=env)
    assert p.returncode == 0 and f"(no catalog at {typo})" in p.stdout
    p = gristmill("catalog", "show", "web", "--catalog", typo, env=env)
    assert p.returncode == 2 and f"there is no catalog at {typo}" in p.stderr and "Traceback" not in p.stderr
    assert not typo.exists()
    typo.mkdir()
    p = gristmill("catalog", "list", "--catalog", typo, env=env)
    assert p.returncode == 0 and f"(empty catalog at {typo})" in p.stdout


def test_a_killed_commit_leaves_the_catalog_as_it_was(cat, tmp_path):
    root, data, env = cat
    r = _recipe(tmp_path, "r", str(data), tmp_path / "o")
    p = gristmill("run", r, "--workers", "1", "--into", "web", env={**env, "GRISTMILL_TEST_FAULT": "catalog:before-claim"})
    assert p.returncode != 0
    assert _json(gristmill("catalog", "list", "--json", env=env)) == []
    assert gristmill("run", r, "--workers", "1", "--into", "web", env=env).returncode == 0
    assert [e["version"] for e in _json(gristmill("catalog", "log", "web", "--json", env=env))] == [1]


RACE = """
import sys
from gristmill.catalog.core import Catalog
print(Catalog(sys.argv[1]).commit_run("web", sys.argv[2]).number)
"""


def test_two_writers_racing_get_distinct_versions(cat, tmp_path):
    root, data, env = cat
    outs = []
    for i in range(2):
        out = tmp_path / f"o{i}"
        assert gristmill("run", _recipe(tmp_path, f"r{i}", str(data), out, min_words=3 + i), "--workers", "1",
                         env=env).returncode == 0
        outs.append(out)
    pyenv = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(root), str(o)], stdout=subprocess.PIPE, text=True,
                              env=pyenv) for o in outs * 2]
    numbers = sorted(int(p.communicate(timeout=120)[0]) for p in procs)
    assert numbers == [1, 2, 3, 4]
    log = _json(gristmill("catalog", "log", "web", "--json", env=env))
    assert sorted(e["rows"] for e in log) == [28, 28, 32, 32]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_an_s3_root_works_through_a_local_server(tmp_path, monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                     "GRISTMILL_S3_ENDPOINT": f"http://127.0.0.1:{port}", "XDG_CACHE_HOME": str(tmp_path / "cache")}.items():
            monkeypatch.setenv(k, v)
        import s3fs

        s3fs.S3FileSystem(client_kwargs={"endpoint_url": f"http://127.0.0.1:{port}"}).mkdir("bucket")
        data = write_jsonl(tmp_path / "in" / "a.jsonl", _docs(40))
        env = {"GRISTMILL_HOME": "s3://bucket/cat"}
        assert gristmill("run", _recipe(tmp_path, "r", str(data), tmp_path / "o"), "--workers", "1", "--into", "web",
                         env=env).returncode == 0
        from gristmill.catalog.core import Catalog

        cat = Catalog("s3://bucket/cat")
        v = cat.get("web@1")
        assert v.to_arrow().num_rows == 32 and v.manifest["files"][0]["path"].startswith("datasets/web/data/")
        from gristmill.catalog.store import AlreadyExists

        with pytest.raises(AlreadyExists):  # the commit point is a conditional put on the store itself
            cat.store.put_if_absent("datasets/web/versions/000001.json", b"{}")
    finally:
        server.stop()


def test_object_store_faults_are_clear_errors(tmp_path, monkeypatch):
    """A bucket that does not exist reads as no catalog (not an empty one), a root without a bucket and an
    export to an object store are refused (exit 2, nothing written), and a server that cannot be reached is a
    runtime failure naming the root (exit 1), never a traceback."""
    from tests.catalog.helpers import _free_port, s3_server

    with s3_server(tmp_path, monkeypatch) as bucket:
        data = write_jsonl(tmp_path / "in" / "a.jsonl", _docs(10))
        root = f"s3://{bucket}/cat"
        assert gristmill("run", _recipe(tmp_path, "r", str(data), tmp_path / "o"), "--workers", "1", "--into", "web",
                         "--catalog", root).returncode == 0
        p = gristmill("catalog", "list", "--catalog", f"s3://no-{bucket}/cat")
        assert p.returncode == 0 and f"(no catalog at s3://no-{bucket}/cat)" in p.stdout
        p = gristmill("catalog", "show", "web", "--catalog", f"s3://no-{bucket}/cat")
        assert p.returncode == 2 and f"there is no catalog at s3://no-{bucket}/cat" in p.stderr
        p = gristmill("catalog", "list", "--catalog", "s3://")
        assert p.returncode == 2 and "names no bucket" in p.stderr
        p = gristmill("catalog", "export", "web@1", "--output", f"s3://{bucket}/out", "--catalog", root, cwd=tmp_path)
        assert p.returncode == 2 and "export writes to a local folder" in p.stderr and not (tmp_path / "s3:").exists()
        down = {"GRISTMILL_S3_ENDPOINT": f"http://127.0.0.1:{_free_port()}", "AWS_MAX_ATTEMPTS": "1"}
        for args in (("list",), ("show", "web@1")):
            p = gristmill("catalog", *args, "--catalog", root, env=down)
            assert p.returncode == 1 and f"catalog root {root}" in p.stderr, p.stderr
            assert "Traceback" not in p.stderr
        p = gristmill("run", _recipe(tmp_path, "r2", str(data), tmp_path / "o2"), "--into", "web", "--catalog", root,
                      env=down)  # a server that does not answer is a runtime failure, not a root that refuses
        assert p.returncode == 1 and f"catalog root {root}: EndpointConnectionError" in p.stderr, p.stderr
        assert "not writable" not in p.stderr and "Traceback" not in p.stderr and not (tmp_path / "o2").exists()
        p = gristmill("run", _recipe(tmp_path, "r2", str(data), tmp_path / "o2"), "--into", "web",
                      "--catalog", f"s3://no-{bucket}/cat")  # a bucket that does not exist: the root is wrong
        assert p.returncode == 2 and f"catalog root s3://no-{bucket}/cat is not writable" in p.stderr, p.stderr
        assert not (tmp_path / "o2").exists()


@contextlib.contextmanager
def _frozen_server() -> Iterator[int]:
    """A server that accepts connections and never answers (a hung object store); yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_an_object_store_that_stops_answering_fails_within_its_timeout(tmp_path):
    """A server that takes connections but never answers: the command fails (exit 1, naming the root) once
    GRISTMILL_S3_TIMEOUT has passed for each attempt at its requests (AWS_MAX_ATTEMPTS=1 here; the clients'
    retries multiply it), instead of waiting for ever; a bad value is refused."""
    pytest.importorskip("s3fs")
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_MAX_ATTEMPTS": "1", "GRISTMILL_S3_TIMEOUT": "1"}
    with _frozen_server() as port:
        env["GRISTMILL_S3_ENDPOINT"] = f"http://127.0.0.1:{port}"
        for args in (("list",), ("show", "web@1")):
            p = gristmill("catalog", *args, "--catalog", "s3://bucket/cat", env=env, timeout=300)
            assert p.returncode == 1 and "catalog root s3://bucket/cat" in p.stderr, p.stderr
            assert "Traceback" not in p.stderr
        data = write_jsonl(tmp_path / "in" / "a.jsonl", _docs(5))
        p = gristmill("run", _recipe(tmp_path, "r", str(data), tmp_path / "o"), "--into", "web", "--catalog",
                      "s3://bucket/cat", env=env, timeout=300)  # checked before the run: a runtime failure
        assert p.returncode == 1 and "catalog root s3://bucket/cat: " in p.stderr and "not writable" not in p.stderr
        assert not (tmp_path / "o").exists()
        p = gristmill("catalog", "list", "--catalog", "s3://bucket/cat", env={**env, "GRISTMILL_S3_TIMEOUT": "soon"})
        assert p.returncode == 2 and "GRISTMILL_S3_TIMEOUT='soon'" in p.stderr, p.stderr


def test_asyncio_is_quiet_only_about_the_object_store_clients_orphaned_tasks():
    """When a store stops answering, the client's other requests fail as tasks nobody awaits: asyncio's
    "Task exception was never retrieved" for those is dropped (gristmill has said what failed, in one line);
    any other asyncio record, and an orphaned task of other code, still reaches the log."""
    import logging

    from gristmill.catalog.store import Store

    Store("s3://bucket/cat")  # an object-store root installs the filter (once)
    Store("s3://bucket/other")
    log = logging.getLogger("asyncio")
    quiet = [f for f in log.filters if type(f).__name__ == "_OrphanedClientTask"]
    assert len(quiet) == 1

    def raised_in(module: str) -> tuple:
        scope = {"__name__": module}
        exec("def request():\n    raise OSError('connection reset')", scope)
        try:
            scope["request"]()
        except OSError:
            return sys.exc_info()
        raise AssertionError

    def record(message: str, exc_info: tuple | None) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, exc_info)

    assert not quiet[0].filter(record("Task exception was never retrieved", raised_in("aiohttp.client")))
    assert not quiet[0].filter(record("Task exception was never retrieved", raised_in("aiobotocore.endpoint")))
    assert quiet[0].filter(record("Task exception was never retrieved", raised_in("mypipeline.loader")))
    assert quiet[0].filter(record("Unclosed client session", raised_in("aiohttp.client")))
    assert quiet[0].filter(record("Task exception was never retrieved", None))
