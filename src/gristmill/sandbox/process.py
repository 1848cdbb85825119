"""One long-lived sandboxed child that runs one generated ``score(text)``, fed batch after batch.

The parent talks to the child over two dedicated pipes with length-prefixed JSON frames (:mod:`.child`);
every reply is validated (one finite number per text, nothing else). The child's stdout and stderr share one
pipe that the parent drains in the same ``select`` loop as the replies, keeping at most
:attr:`Limits.output_bytes`: more than that is an output flood and ends the child. A child that dies, times
out, floods or sends a malformed frame raises :class:`SandboxFailure` with the reason; the next call starts a
fresh child. Nothing the child writes to stdout or stderr is ever read as a result.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import selectors
import signal
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from gristmill.sandbox import view

HEADER = struct.Struct(">I")
_CHUNK = 1 << 16
_PIPE_BYTES = 1 << 20  # the request pipe's buffer (Linux allows up to /proc/sys/fs/pipe-max-size, 1 MiB by default)


@dataclass(frozen=True)
class Limits:
    """What one sandboxed child may use. ``wall_s`` bounds each call (start, or one batch) and grows by
    ``wall_per_doc_s`` per document; ``cpu_s`` is the child's whole CPU time (it is restarted after a failure)."""

    cpu_s: int = 10
    wall_s: float = 30.0
    wall_per_doc_s: float = 0.0
    memory_mb: int = 1024
    file_mb: int = 16
    tmp_mb: int = 64
    open_files: int = 64
    processes: int = 16
    output_bytes: int = 2 << 20

    def child(self) -> dict[str, int]:
        return {"cpu_s": self.cpu_s, "mem_bytes": self.memory_mb << 20, "fsize_bytes": self.file_mb << 20,
                "open_files": self.open_files, "processes": self.processes}


class SandboxFailure(RuntimeError):
    """The sandboxed child did not answer as it must (died, timed out, flooded, malformed reply)."""


class CodeError(ValueError):
    """The generated code itself failed (an exception, or a value that is not a finite number)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


def _death(status: int | None, limits: Limits) -> str:
    """Why a child ended, from bwrap's exit status (128 + signal when the child was killed by one)."""
    if status is None:
        return "did not exit"
    sig = -status if status < 0 else status - 128 if status > 128 else 0
    if sig == signal.SIGXCPU:
        return f"exceeded the CPU-time limit of {limits.cpu_s} s"
    if sig == signal.SIGKILL:
        return f"was killed (SIGKILL: the CPU-time limit of {limits.cpu_s} s, or memory)"
    if sig == signal.SIGSYS:
        return "was killed by the seccomp filter (a forbidden system call)"
    if sig:
        return f"was killed by {signal.Signals(sig).name}" if sig in signal.Signals._value2member_map_ else f"was killed by signal {sig}"
    return f"exited with status {status}"


class SandboxedFunction:
    """``score`` from ``source``, called in a sandboxed child process that lives across calls."""

    def __init__(self, source: str, allowed: frozenset[str], limits: Limits | None = None) -> None:
        self.source, self.allowed, self.limits = source, allowed, limits or Limits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = 0
        self._lock = threading.Lock()
        self._output = bytearray()
        self._output_total = 0

    # -- life cycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child and load the code in it; raises :class:`CodeError` if the code does not load."""
        view.check_available()
        self._output, self._output_total = bytearray(), 0
        req_r, req_w = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # fewer wake-ups for a batch of megabytes
            fcntl.fcntl(req_w, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        sfd = view.seccomp_fd()
        keep = [req_r, resp_w] + ([sfd] if sfd is not None else [])
        try:
            argv = view.command(self.allowed, req_r, resp_w, sfd, self.limits.tmp_mb << 20)
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, pass_fds=keep)
        finally:
            for fd in [*keep, out_w]:
                os.close(fd)
        self._owner = os.getpid()
        self._req, self._resp, self._out = req_w, resp_r, out_r
        os.set_blocking(req_w, False)
        reply = self._exchange({"source": self.source, "allowed": sorted(self.allowed), "limits": self.limits.child()},
                               self.limits.wall_s, 1 << 16, "while loading the code")
        if "error" in reply:
            self.close()
            raise CodeError(str(reply["error"]))
        if reply != {"ready": True}:
            self._fail("sent a malformed first reply")

    @property
    def pid(self) -> int | None:
        """The process id of the running bubblewrap process (its child runs the code), or None."""
        return self._proc.pid if self.running() and self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._owner == os.getpid() and self._proc.poll() is None

    def close(self, grace_s: float = 2.0) -> int | None:
        """End the child (end of input, then SIGKILL after ``grace_s``); returns its exit status."""
        proc, self._proc = self._proc, None
        if proc is None or self._owner != os.getpid():
            return None  # a forked copy does not own the parent's child
        os.close(self._req)
        deadline = time.monotonic() + grace_s
        while proc.poll() is None and time.monotonic() < deadline:
            if not self._drain(min(0.05, max(0.0, deadline - time.monotonic()))):
                break
        if proc.poll() is None:
            proc.kill()
        status = proc.wait()
        os.set_blocking(self._out, False)
        with contextlib.suppress(BlockingIOError):
            while len(self._output) < self.limits.output_bytes and (chunk := os.read(self._out, _CHUNK)):
                self._capture(chunk)
        os.close(self._resp)
        os.close(self._out)
        return status

    def _fail(self, why: str) -> None:
        proc = self._proc
        status = None
        if proc is not None:
            try:
                status = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                proc.kill()
            self.close(grace_s=0)
            if status is not None and why.startswith("stopped answering"):
                why = f"{_death(status, self.limits)} ({why})"
        raise SandboxFailure(why)

    # -- calls ------------------------------------------------------------------------------------------
    def __call__(self, texts: list[str]) -> list[float]:
        """One finite float per text; :class:`CodeError` if the code failed, :class:`SandboxFailure` if the child did."""
        with self._lock:
            if not self.running():
                self._proc = None
                self.start()
            wall = self.limits.wall_s + self.limits.wall_per_doc_s * len(texts)
            encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
            reply = self._exchange({"lengths": [len(b) for b in encoded]}, wall, 4096 + 32 * len(texts),
                                   f"on a batch of {len(texts)}", raw=b"".join(encoded))
            if "error" in reply:
                index = reply.get("index")
                raise CodeError(str(reply["error"]), index if isinstance(index, int) else None)
            return self._values(reply, len(texts))

    def _values(self, reply: dict[str, Any], n: int) -> list[float]:
        values = reply.get("values")
        if set(reply) != {"values"} or not isinstance(values, list) or len(values) != n or not all(
                type(v) in (int, float) and math.isfinite(v) for v in values):
            self._fail(f"sent a malformed reply (expected {n} finite numbers)")
        return [float(v) for v in values]

    @property
    def output(self) -> bytes:
        """What the code wrote to stdout and stderr (at most ``limits.output_bytes``)."""
        return bytes(self._output)

    # -- the select loop --------------------------------------------------------------------------------
    def _capture(self, chunk: bytes) -> bool:
        """Keep what fits under the cap; True once the child wrote more than the cap (a flood)."""
        self._output_total += len(chunk)
        room = self.limits.output_bytes - len(self._output)
        if room > 0:
            self._output += chunk[:room]
        return self._output_total > self.limits.output_bytes

    def _flood(self) -> None:
        self._fail(f"wrote more than {self.limits.output_bytes / 2**20:g} MB to stdout/stderr (output flood)")

    def _drain(self, timeout: float) -> bool:
        """Read what the child writes for up to ``timeout`` s; False at end of output or on a flood."""
        with selectors.DefaultSelector() as sel:
            sel.register(self._out, selectors.EVENT_READ)
            if sel.select(timeout):
                chunk = os.read(self._out, _CHUNK)
                return bool(chunk) and not self._capture(chunk)
        return True

    def _exchange(self, request: dict[str, Any], wall_s: float, max_reply: int, where: str,
                  raw: bytes | None = None) -> dict[str, Any]:
        """Send ``request`` (and ``raw`` as a second, unparsed frame), then read one validated reply frame."""
        body = json.dumps(request).encode()
        tail = b"" if raw is None else HEADER.pack(len(raw)) + raw
        pending = memoryview(b"".join((HEADER.pack(len(body)), body, tail)))
        reply = bytearray()
        need: int | None = None
        deadline = time.monotonic() + wall_s
        out_open = True
        with selectors.DefaultSelector() as sel:
            sel.register(self._resp, selectors.EVENT_READ)
            sel.register(self._out, selectors.EVENT_READ)
            sel.register(self._req, selectors.EVENT_WRITE)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"did not answer within the wall-clock limit of {wall_s:g} s {where}")
                for key, _ in sel.select(left):
                    if key.fd == self._req:
                        try:
                            pending = pending[os.write(self._req, pending[:_PIPE_BYTES]):]
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            self._fail(f"stopped answering {where}")
                        if not pending:
                            sel.unregister(self._req)
                    elif key.fd == self._out:
                        chunk = os.read(self._out, _CHUNK)
                        if chunk and self._capture(chunk):
                            self._flood()
                        elif not chunk and out_open:
                            sel.unregister(self._out)
                            out_open = False
                    else:
                        chunk = os.read(self._resp, _CHUNK)
                        if not chunk:
                            self._fail(f"stopped answering {where}")
                        reply += chunk
                        if need is None and len(reply) >= HEADER.size:
                            (need,) = HEADER.unpack_from(reply)
                            if need > max_reply:
                                self._fail(f"sent a reply frame of {need} bytes (at most {max_reply} expected)")
                        if need is not None and len(reply) > HEADER.size + need:
                            self._fail("sent more than one reply frame")
                        if need is not None and len(reply) == HEADER.size + need and not pending:
                            try:
                                obj = json.loads(bytes(reply[HEADER.size:]))
                            except (UnicodeDecodeError, json.JSONDecodeError):
                                self._fail("sent a reply that is not JSON")
                            if not isinstance(obj, dict):
                                self._fail("sent a reply that is not an object")
                            return obj
