"""The OS-level sandbox in which code written by an LLM runs, both when it is tested and when a recipe uses it.

:mod:`.view` builds the bubblewrap command (namespaces, read-only view, tmpfs, no network), :mod:`.seccomp`
the system-call filter, :mod:`.process` the long-lived child and its framed channel, :mod:`.child` the
program inside. Where no sandbox can be made, :class:`SandboxUnavailable` says what to install; generated
code never runs outside it.
"""

from gristmill.sandbox.process import CodeError, Limits, SandboxedFunction, SandboxFailure
from gristmill.sandbox.view import SandboxUnavailable, check_available

__all__ = ["CodeError", "Limits", "SandboxFailure", "SandboxUnavailable", "SandboxedFunction", "check_available"]
