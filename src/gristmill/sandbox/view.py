"""What a sandboxed child sees and may do: the ``bwrap`` command line, and the check that it works here.

bubblewrap is the boundary because it is small, unprivileged (no daemon, no setuid needed where user
namespaces are allowed), packaged everywhere (Debian ``bubblewrap``, the sandbox of Flatpak) and puts the
child in new user, network, mount, PID, IPC and UTS namespaces with one ``execve``. The child's view is built
from an empty root: read-only binds of the interpreter, its standard library, the system shared libraries and
the allowed packages (under ``/sandbox/site``), with any ``site-packages`` inside the standard library folder
covered by an empty one; a private, size-capped tmpfs as ``/tmp`` (its working folder and home, the only
writable place); a minimal, read-only ``/dev``; no ``/proc``, no ``/etc`` (but the loader cache), no home (only
the path down to the interpreter when it lives there, as with pyenv), no input data. The network namespace has
no interface but its own loopback (the host's 127.0.0.1 is out of reach), and the seccomp filter refuses
``socket``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from gristmill.sandbox import seccomp

CHILD = Path(__file__).with_name("child.py")
SITE = "/sandbox/site"
CHILD_IN_VIEW = "/sandbox/child.py"
NOBODY = 65534
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`; "
                "`make test` and `make demo` install it when run as root)")
CHILD_ENV = {"LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
             "MKL_NUM_THREADS": "1"}


class SandboxUnavailable(RuntimeError):
    """No OS-level sandbox can be made on this machine, so generated code must not run here at all."""


def interpreter() -> str:
    """The real interpreter binary (a virtual environment's ``python`` is a symlink to it)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _interpreter_binds() -> list[str]:
    """The interpreter, its standard library and ``libpython`` where it is a shared library, at their own paths."""
    paths = {interpreter()}
    for key in ("stdlib", "platstdlib"):
        stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})[key])
        if stdlib.is_dir():
            paths.add(str(stdlib.resolve()))
    libdir, ldlib = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME") or ""
    if libdir and ldlib and (Path(libdir) / ldlib).is_file():
        paths.add(str((Path(libdir) / ldlib).resolve()))
    return sorted(paths)


def _hidden_package_folders(binds: list[str]) -> list[str]:
    """Package folders inside a bound standard library (``site-packages`` of a pyenv or Docker Python):
    every package installed there would otherwise be readable and importable in the sandbox."""
    return [str(Path(b) / name) for b in binds if Path(b).is_dir() for name in ("site-packages", "dist-packages")
            if (Path(b) / name).is_dir()]


def _system_library_args() -> list[str]:
    """The shared-library folders the interpreter and numpy load from, read-only; top-level symlinks kept."""
    args: list[str] = []
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    lib_dirs = [f"/usr/lib/{multiarch}"] if multiarch and Path(f"/usr/lib/{multiarch}").is_dir() else ["/usr/lib"]
    for top in ("/lib", "/lib64", "/lib32"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            lib_dirs.append(top)
    lib_dirs += [d for d in ("/usr/lib64",) if Path(d).is_dir()]
    for d in lib_dirs:
        args += ["--ro-bind", d, d]
    if Path("/etc/ld.so.cache").is_file():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _package_binds(allowed: frozenset[str]) -> list[tuple[str, str]]:
    """(host folder, folder in the view) for every allowed package that is not in the standard library."""
    binds = []
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    for name in sorted(allowed):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue  # a stdlib module or one that is not installed: the child's import says so
        folder = Path(next(iter(spec.submodule_search_locations))).resolve()
        if folder.is_relative_to(stdlib):
            continue
        binds.append((str(folder), f"{SITE}/{name}"))
        libs = folder.with_name(f"{folder.name}.libs")  # the shared libraries a manylinux wheel vendors
        if libs.is_dir():
            binds.append((str(libs), f"{SITE}/{libs.name}"))
    return binds


def bwrap_path() -> str:
    found = shutil.which("bwrap")
    if not found:
        raise SandboxUnavailable(f"generated operators run only inside an OS-level sandbox and `bwrap` was not found: {INSTALL_HINT}")
    return found


def command(allowed: frozenset[str], rfd: int, wfd: int, seccomp_fd: int | None, tmp_bytes: int) -> list[str]:
    """The ``bwrap`` command line that runs :mod:`.child` with ``rfd``/``wfd`` as its frame channel."""
    args = [bwrap_path(), "--unshare-user", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--hostname", "sandbox"]
    for key, value in CHILD_ENV.items():
        args += ["--setenv", key, value]
    args += _system_library_args()
    binds = _interpreter_binds()
    for p in binds:
        args += ["--ro-bind", p, p]
    for p in _hidden_package_folders(binds):  # an empty, read-only folder over it
        args += ["--size", "4096", "--tmpfs", p, "--remount-ro", p]
    for src, dst in _package_binds(allowed):
        args += ["--ro-bind", src, dst]
    # /dev is bwrap's own tmpfs (the device nodes, /dev/shm as a plain folder): read-only, so that /tmp, capped
    # at ``tmp_bytes``, is the only place the code can write
    args += ["--ro-bind", str(CHILD), CHILD_IN_VIEW, "--dev", "/dev", "--remount-ro", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
             "--chdir", "/tmp", "--remount-ro", "/"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", interpreter(), "-I", "-S", CHILD_IN_VIEW, str(rfd), str(wfd), SITE]


def seccomp_fd() -> int | None:
    """A memory file holding the seccomp program, positioned at its start (None where none is described)."""
    prog = seccomp.program()
    if prog is None:
        return None
    fd = os.memfd_create("gristmill-seccomp", 0)
    os.write(fd, prog)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@functools.cache
def check_available() -> None:
    """Raise :class:`SandboxUnavailable` unless a full sandbox starts here (probed once per process)."""
    bwrap = bwrap_path()
    fd = seccomp_fd()
    try:
        argv = command(frozenset(), 0, 1, fd, 1 << 20)
        argv = argv[: argv.index("--") + 1] + [interpreter(), "-I", "-S", "-c", "pass"]
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False,
                                  pass_fds=() if fd is None else (fd,))
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the OS-level sandbox for generated operators could not start ({bwrap}: {exc})") from None
    finally:
        if fd is not None:
            os.close(fd)
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise SandboxUnavailable(
            f"the OS-level sandbox for generated operators cannot be made here ({why[0][:200]}); it needs bubblewrap "
            "with user namespaces allowed (as root, or `sysctl kernel.unprivileged_userns_clone=1`, and on Ubuntu "
            "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`). Generated operators are never run unsandboxed.")
