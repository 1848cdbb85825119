"""The parent-child channel carries every text exactly: empty, NUL, any script, lone surrogates, megabytes."""

from __future__ import annotations

import sys

import pytest

from gristmill.ops.generated import ALLOWED_IMPORTS
from gristmill.sandbox import Limits, SandboxedFunction
from tests.sandbox.gate import os_sandbox  # noqa: F401 - the fixture

pytestmark = [pytest.mark.usefixtures("os_sandbox"),
              pytest.mark.skipif(sys.platform != "linux", reason="the OS sandbox is Linux only")]

# each text's length in code points and its first code point, as the code inside the sandbox sees them
MEASURE = "def score(text):\n    return len(text) * 2000000 + (ord(text[0]) if text else 0)\n"
TEXTS = ["", "a\x00b", "café", "日本語のテキスト", "\ud800 lone surrogate", "🙂" * 3, "x" * (3 << 20), "\n\r\t"]


def test_every_text_arrives_as_it_was_sent() -> None:
    fn = SandboxedFunction(MEASURE, ALLOWED_IMPORTS, Limits(cpu_s=10, wall_s=60))
    try:
        for batch in (TEXTS, TEXTS[::-1], TEXTS[:1], []):
            assert fn(batch) == [len(t) * 2000000 + (ord(t[0]) if t else 0) for t in batch]
    finally:
        assert fn.close() == 0
