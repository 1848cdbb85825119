"""The program that runs inside the OS sandbox and calls a generated ``score(text)`` (see :mod:`.process`).

Run as ``python -I -S child.py RFD WFD SITE`` by :mod:`gristmill.sandbox.process`, it imports nothing from
gristmill (gristmill is not in the sandbox's view) and speaks length-prefixed JSON frames: a 4-byte big-endian
length, then that many bytes of UTF-8 JSON. It reads frames on ``RFD`` and writes frames on ``WFD``; its
stdout and stderr belong to the generated code, are capped by the parent and never read as a result.

1. first request ``{"source", "allowed", "limits"}``: set the rlimits, load the code with an import
   allow-list (a friendly filter with a clear message; the boundary is the sandbox around this process,
   so the code may otherwise do as it likes: write in ``/tmp``, reach ``os`` through another module), reply
   ``{"ready": true}`` or ``{"error": ...}``;
2. every later request is two frames: ``{"lengths": [...]}``, then the texts' UTF-8 bytes one after another
   (a raw frame, cut by those byte lengths: no JSON escaping, one copy); reply ``{"values": [...]}`` (one
   finite float per text) or ``{"error": ..., "index": i}``;
3. end of input: exit 0.
"""

import builtins
import json
import math
import os
import resource
import struct
import sys

HEADER = struct.Struct(">I")
MAX_REQUEST = 1 << 30


def read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_raw(fd):
    head = read_exact(fd, HEADER.size)
    if head is None:
        return None
    (n,) = HEADER.unpack(head)
    if n > MAX_REQUEST:
        raise ValueError(f"request frame of {n} bytes is too large")
    return read_exact(fd, n)


def read_frame(fd):
    body = read_raw(fd)
    return None if body is None else json.loads(body)


def read_texts(fd, lengths):
    blob = read_raw(fd)
    if blob is None:
        return None
    view, texts, start = memoryview(blob), [], 0
    for n in lengths:
        texts.append(str(view[start:start + n], "utf-8", "surrogatepass"))
        start += n
    return texts


def write_frame(fd, obj):
    body = json.dumps(obj).encode()
    data = memoryview(HEADER.pack(len(body)) + body)
    while data:
        data = data[os.write(fd, data):]


def set_limits(lim):
    cpu = lim["cpu_s"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU first; SIGKILL one second later
    for name, value in (("RLIMIT_AS", lim["mem_bytes"]), ("RLIMIT_FSIZE", lim["fsize_bytes"]),
                        ("RLIMIT_NOFILE", lim["open_files"]), ("RLIMIT_NPROC", lim["processes"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))


def load(source, allowed):
    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name.split(".")[0] not in allowed:
            raise ImportError(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(allowed))})")
        return real_import(name, globals, locals, fromlist, level)

    env_builtins = dict(vars(builtins))
    env_builtins["__import__"] = guarded_import
    env = {"__builtins__": env_builtins, "__name__": "gristmill_generated"}
    exec(compile(source, "<generated operator>", "exec"), env)
    fn = env.get("score")
    if not callable(fn):
        raise ValueError("the code does not define a function score(text)")
    return fn


def as_number(v, i):
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return float(bool(v))
    if isinstance(v, (int, float)) or (type(v).__module__ == "numpy" and hasattr(v, "__float__")):
        f = float(v)
        if math.isfinite(f):
            return f
        raise ValueError(f"score() returned {f} on document {i}; expected a finite number")
    raise ValueError(f"score() returned {type(v).__name__} {str(v)[:40]!r} on document {i}; expected a bool or a number")


def describe(exc, where, mem_mb):
    if isinstance(exc, MemoryError):
        return f"memory limit ({mem_mb} MB) exceeded {where}"
    if isinstance(exc, RecursionError):
        return f"recursion too deep {where}"
    return f"{type(exc).__name__}: {str(exc)[:300]} {where}"


def main():
    rfd, wfd, site = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    cfg = read_frame(rfd)
    set_limits(cfg["limits"])
    sys.path.append(site)
    mem_mb = cfg["limits"]["mem_bytes"] >> 20
    try:
        fn = load(cfg["source"], frozenset(cfg["allowed"]))
    except BaseException as exc:  # noqa: BLE001 - every failure of the code is a reason to report
        write_frame(wfd, {"error": describe(exc, "while loading the code", mem_mb)})
        return
    write_frame(wfd, {"ready": True})
    while True:
        req = read_frame(rfd)
        texts = None if req is None else read_texts(rfd, req["lengths"])
        if texts is None:
            return
        values, reply = [], None
        for i, text in enumerate(texts):
            try:
                values.append(as_number(fn(text), i))
            except BaseException as exc:  # noqa: BLE001
                reply = {"error": describe(exc, f"on document {i}", mem_mb), "index": i}
                break
        write_frame(wfd, reply or {"values": values})


if __name__ == "__main__":
    main()
