"""Child side of the sandbox (run as ``python -I sandbox_child.py`` by :mod:`gristmill.agent.sandbox`).

Reads ``{"source", "texts", "allowed", "cpu_s", "mem_bytes", "fsize_bytes"}`` as JSON on stdin and writes one
JSON line on the original stdout: ``{"values": [...]}`` or ``{"error": "..."}``. Imports nothing from gristmill
(so it stays small and starts fast). In order, before the snippet runs:

1. resource limits: CPU seconds (``RLIMIT_CPU``), address space (``RLIMIT_AS``), file size, no core dumps;
2. the allowed modules are imported, so the snippet finds them ready and the audit hook can refuse any
   other import;
3. the network is cut: ``socket`` constructors and resolvers raise;
4. an audit hook refuses writes outside the working folder (a fresh temporary folder), process creation,
   sockets, ctypes and imports outside the allow-list;
5. the snippet runs with builtins whose ``__import__`` only allows the allow-list.
"""

import builtins
import contextlib
import io
import json
import math
import os
import resource
import sys


def main() -> None:
    cfg = json.loads(sys.stdin.read())
    result = os.fdopen(os.dup(1), "w")
    sys.stdout = io.StringIO()  # the snippet's prints must not corrupt the result channel

    def reply(obj):
        result.write(json.dumps(obj) + "\n")
        result.flush()

    cpu = int(cfg["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["mem_bytes"], cfg["mem_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["fsize_bytes"], cfg["fsize_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    allowed = frozenset(cfg["allowed"])
    for mod in sorted(allowed):
        with contextlib.suppress(ImportError):
            __import__(mod)

    import _socket
    import socket

    def no_network(*args, **kwargs):
        raise PermissionError("sandbox: network access is disabled")

    for obj, attrs in ((socket, ("socket", "create_connection", "create_server", "getaddrinfo", "gethostbyname",
                                 "gethostbyname_ex", "socketpair", "fromfd")),
                       (_socket, ("socket", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "socketpair"))):
        for a in attrs:
            if hasattr(obj, a):
                setattr(obj, a, no_network)

    root = os.path.realpath(os.getcwd())
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    refused_prefixes = ("subprocess.", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.system", "socket.",
                        "ctypes.", "os.kill", "os.killpg", "signal.", "pty.", "webbrowser.", "urllib.", "http.", "ftplib.",
                        "smtplib.", "sys.settrace", "sys.setprofile", "winreg.", "os.add_dll_directory", "os.startfile")
    path_events = {"os.remove": 0, "os.unlink": 0, "os.rmdir": 0, "os.mkdir": 0, "os.rename": (0, 1), "os.replace": (0, 1),
                   "os.chmod": 0, "os.chown": 0, "os.link": (0, 1), "os.symlink": (0, 1), "os.truncate": 0, "os.utime": 0,
                   "shutil.rmtree": 0, "shutil.copyfile": 1, "shutil.move": 1, "shutil.make_archive": 0}

    def inside(path) -> bool:
        if isinstance(path, int):
            return path > 2  # an already-open descriptor; stdin/stdout/stderr are not for the snippet
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        full = os.path.realpath(os.path.join(root, str(path)))
        return full == root or full.startswith(root + os.sep)

    def hook(event, args):
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & write_flags)
            if writing and not inside(path):
                raise PermissionError(f"sandbox: writing {path!r} outside the temporary folder is not allowed")
        elif event == "import":
            top = str(args[0]).split(".")[0]
            if top not in allowed and args[0] not in sys.modules:
                raise ImportError(f"sandbox: import of {args[0]!r} is not allowed")
        elif event.startswith(refused_prefixes):
            raise PermissionError(f"sandbox: {event} is not allowed")
        elif event in path_events:
            idx = path_events[event]
            for i in idx if isinstance(idx, tuple) else (idx,):
                if i < len(args) and not inside(args[i]):
                    raise PermissionError(f"sandbox: {event} on {args[i]!r} outside the temporary folder is not allowed")

    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name.split(".")[0] not in allowed:
            raise ImportError(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(allowed))})")
        return real_import(name, globals, locals, fromlist, level)

    env_builtins = {k: v for k, v in vars(builtins).items() if k not in ("exec", "eval", "compile", "input", "breakpoint", "help")}
    env_builtins["__import__"] = guarded_import
    code = compile(cfg["source"], "<generated operator>", "exec")
    texts = cfg["texts"]
    sys.addaudithook(hook)

    where = "while loading the code"
    try:
        env = {"__builtins__": env_builtins, "__name__": "gristmill_generated"}
        exec(code, env)
        fn = env.get("score")
        if not callable(fn):
            reply({"error": "the code does not define a function score(text)"})
            return
        values = []
        for i, t in enumerate(texts):
            where = f"on sample document {i}"
            v = fn(t)
            if isinstance(v, bool) or type(v).__name__ == "bool_":
                values.append(float(bool(v)))
            elif isinstance(v, (int, float)) or type(v).__module__ == "numpy" and hasattr(v, "__float__"):
                f = float(v)
                if not math.isfinite(f):
                    reply({"error": f"score() returned {f} {where}; expected a finite number"})
                    return
                values.append(f)
            else:
                reply({"error": f"score() returned {type(v).__name__} {str(v)[:40]!r} {where}; expected a bool or a number"})
                return
    except MemoryError:
        reply({"error": f"memory limit ({cfg['mem_bytes'] // 2**20} MB) exceeded {where}", "limit": "memory"})
        return
    except PermissionError as exc:
        reply({"error": f"{exc} ({where})", "refused": True})
        return
    except ImportError as exc:
        reply({"error": f"{exc} ({where})", "refused": True})
        return
    except RecursionError:
        reply({"error": f"recursion too deep {where}"})
        return
    except BaseException as exc:  # noqa: BLE001 - every failure of the snippet is a refusal reason
        reply({"error": f"{type(exc).__name__}: {str(exc)[:200]} {where}"})
        return
    reply({"values": values})


if __name__ == "__main__":
    main()
