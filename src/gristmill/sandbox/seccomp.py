"""A small seccomp deny-list, assembled as a classic-BPF program for ``bwrap --seccomp FD``.

Namespaces already take away the network, the file system and other processes; the filter removes the
kernel interfaces that a scoring function never needs and that sandbox escapes are made of: creating
processes (``fork``/``vfork``/``clone`` without ``CLONE_THREAD``, so a fork bomb fails at its first fork),
sockets, ptrace, mounts and namespaces, keyrings, BPF, io_uring and module loading. Denied calls fail with
``EPERM`` (``clone3`` with ``ENOSYS``, so that libc falls back to ``clone``, whose flags the filter can see);
a call from another architecture's ABI kills the process.

Only x86-64 is described here (its syscall numbers are checked against the kernel headers in the tests);
elsewhere :func:`program` returns None and the sandbox runs with namespaces and rlimits only.
"""

from __future__ import annotations

import errno
import platform
import struct

# classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h)
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
# offsets in struct seccomp_data
_NR, _ARCH, _ARG0_LOW = 0, 4, 16

DENIED_X86_64: dict[str, int] = {
    "socket": 41, "socketpair": 53, "fork": 57, "vfork": 58, "ptrace": 101, "syslog": 103, "vhangup": 153,
    "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168,
    "reboot": 169, "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "execveat": 322, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "process_madvise": 440,
    "mount_setattr": 442,
}
CLONE_X86_64 = 56
CLONE3_X86_64 = 435


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def x86_64_program() -> bytes:
    """The filter for x86-64 as the bytes of a ``struct sock_filter`` array."""
    eperm = RET_ERRNO | errno.EPERM
    out = [
        _insn(_LD_W_ABS, _ARCH),
        _insn(_JEQ_K, AUDIT_ARCH_X86_64, jt=1, jf=0),
        _insn(_RET_K, RET_KILL_PROCESS),
        _insn(_LD_W_ABS, _NR),
        _insn(_JGE_K, X32_SYSCALL_BIT, jt=0, jf=1),  # the x32 ABI: none of it is needed
        _insn(_RET_K, eperm),
        _insn(_JEQ_K, CLONE3_X86_64, jt=0, jf=1),
        _insn(_RET_K, RET_ERRNO | errno.ENOSYS),
    ]
    for nr in sorted(DENIED_X86_64.values()):
        out += [_insn(_JEQ_K, nr, jt=0, jf=1), _insn(_RET_K, eperm)]
    out += [
        _insn(_JEQ_K, CLONE_X86_64, jt=0, jf=4),
        _insn(_LD_W_ABS, _ARG0_LOW),  # clone's flags: a new thread may be created, a new process not
        _insn(_JSET_K, CLONE_THREAD, jt=0, jf=1),
        _insn(_RET_K, RET_ALLOW),
        _insn(_RET_K, eperm),
        _insn(_RET_K, RET_ALLOW),
    ]
    return b"".join(out)


def program() -> bytes | None:
    """The filter for this machine, or None where no filter is described for its architecture."""
    return x86_64_program() if platform.machine() in ("x86_64", "AMD64") else None
