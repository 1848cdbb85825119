"""The seccomp filter's x86-64 system-call numbers are the kernel's, and its program is well formed."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from gristmill.sandbox import seccomp

HEADERS = [Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"), Path("/usr/include/asm/unistd_64.h")]


def kernel_numbers() -> dict[str, int]:
    header = next((h for h in HEADERS if h.is_file()), None)
    if header is None:
        pytest.skip("the kernel's unistd_64.h is not installed (Debian: linux-libc-dev)")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)", header.read_text())}


def test_every_number_matches_the_kernel_header() -> None:
    nr = kernel_numbers()
    wrong = {name: (ours, nr.get(name)) for name, ours in seccomp.DENIED_X86_64.items() if nr.get(name) != ours}
    assert wrong == {}
    assert (nr["clone"], nr["clone3"]) == (seccomp.CLONE_X86_64, seccomp.CLONE3_X86_64)


def test_the_program_is_well_formed() -> None:
    prog = seccomp.x86_64_program()
    assert len(prog) % 8 == 0 and len(prog) // 8 < 4096  # struct sock_filter entries, under BPF_MAXINSNS
    insns = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    for i, (code, jt, jf, _) in enumerate(insns):
        if code & 0x07 == 0x05:  # a conditional jump: both targets inside the program
            assert i + 1 + max(jt, jf) < len(insns)
    assert insns[-1][0] == 0x06  # it ends with a return
    denied = {k for code, _, _, k in insns if code == 0x15}
    assert set(seccomp.DENIED_X86_64.values()) <= denied and seccomp.CLONE_X86_64 in denied
