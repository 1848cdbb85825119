"""The gate of every test that needs the OS sandbox (use the ``os_sandbox`` fixture): they run wherever the OS sandbox can be made, and fail loudly where it cannot.

A machine without a working bubblewrap fails these tests (CI installs bubblewrap and runs them as root), with
one exception: a process that is not root on a kernel where unprivileged user namespaces are switched off
cannot make the sandbox whatever is installed, so there the tests skip under a name that says exactly that.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gristmill.sandbox import SandboxUnavailable, check_available

# each file holds a value that switches unprivileged user namespaces off when it reads as given
_USERNS_OFF = {"/proc/sys/kernel/unprivileged_userns_clone": "0", "/proc/sys/user/max_user_namespaces": "0",
               "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"}


def unprivileged_userns_disabled() -> str | None:
    """Which kernel setting keeps a non-root process from making a user namespace (None: none does)."""
    for path, off in _USERNS_OFF.items():
        try:
            if Path(path).read_text().strip() == off:
                return f"{path} = {off}"
        except OSError:
            continue
    return None


@pytest.fixture(scope="session")
def os_sandbox() -> None:
    """Fail (never skip) when the sandbox cannot start, except as non-root with user namespaces off."""
    try:
        check_available()
    except SandboxUnavailable as exc:
        setting = unprivileged_userns_disabled()
        if os.geteuid() != 0 and setting:
            pytest.skip(f"sandbox tests skipped: not root and unprivileged user namespaces are disabled ({setting})")
        pytest.fail(f"the OS sandbox for generated operators does not work on this machine: {exc}", pytrace=False)
