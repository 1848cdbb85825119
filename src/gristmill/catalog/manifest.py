"""A version's manifest on the store: where it lives, its checksum, and what it points at.

A manifest is sealed with a checksum (xxh3-128 of its canonical JSON without the checksum itself), so a
manifest edited by hand or damaged in transfer is refused with its file named, never read as truth.
A removed version leaves a tombstone (``000003.removed.json``) in place of its manifest: its number is
never given out again, so a recipe pinned to ``NAME@3`` fails clearly instead of reading other data.

What a manifest points at is found generically, so that keys other modules add (side columns, dedup state)
are covered without this module knowing them: every string value that starts with ``datasets/`` is a file
or folder the version needs, and every ``{"ref": "NAME@V"}`` anywhere in it names a version it derives from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from gristmill.catalog.store import bytes_hash
from gristmill.errors import GristmillError

MANIFEST_FILE = re.compile(r"(\d{6})\.json")
TAKEN_FILE = re.compile(r"(\d{6})(?:\.removed)?\.json")  # a number once used stays used
DATA_PREFIX = "datasets/"
_REF = re.compile(r"^(?:catalog://)?([A-Za-z0-9][A-Za-z0-9_.-]{0,127})@(\d+)$")


class CorruptManifest(GristmillError):
    """A manifest that is not what was committed: not JSON, not a manifest, or its checksum differs."""


def manifest_key(name: str, number: int) -> str:
    return f"datasets/{name}/versions/{number:06d}.json"


def removed_key(name: str, number: int) -> str:
    return f"datasets/{name}/versions/{number:06d}.removed.json"


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(manifest: dict[str, Any]) -> bytes:
    """The bytes to store: ``manifest`` with its checksum set (also on the dict itself)."""
    manifest["checksum"] = bytes_hash(_canonical(manifest))
    return json.dumps(manifest, indent=1, sort_keys=True).encode()


def unseal(data: bytes, where: str) -> dict[str, Any]:
    """Parse and check a stored manifest; ``where`` names it in the error."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptManifest(f"manifest {where} is damaged: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not {"dataset", "version", "files"} <= manifest.keys():
        raise CorruptManifest(f"manifest {where} is damaged: not a gristmill manifest")
    expected = manifest.get("checksum")
    if expected is not None:  # manifests of gristmill 0.1 catalogs carry none
        got = bytes_hash(_canonical(manifest))
        if got != expected:
            raise CorruptManifest(f"manifest {where} was modified after it was committed: its checksum is {got}, "
                                  f"it records {expected}; restore the file, or remove the version with "
                                  "`gristmill catalog rm`")
    return manifest


def _walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        key, v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.items())
        elif isinstance(v, list):
            stack.extend((key, x) for x in v)
        else:
            yield key, v


def referenced_keys(manifest: dict[str, Any], roots: tuple[str, ...] = ()) -> set[str]:
    """Every store key (file or folder) the manifest names: what gc must keep while the version exists.
    A key may also be written as a full path or URL under one of ``roots`` (the store's)."""
    out = set()
    for _, v in _walk(manifest):
        if not isinstance(v, str):
            continue
        for root in roots:
            if root and v.startswith(root.rstrip("/") + "/"):
                v = v[len(root.rstrip("/")) + 1:]
                break
        if v.startswith(DATA_PREFIX):
            out.add(v.rstrip("/"))
    return out


def version_refs(manifest: dict[str, Any]) -> set[tuple[str, int]]:
    """The versions this one derives from: every ``"ref": "NAME@V"`` in it (parents, incremental bases, ...)."""
    out = set()
    for key, v in _walk(manifest):
        if key == "ref" and isinstance(v, str) and (m := _REF.match(v)):
            out.add((m.group(1), int(m.group(2))))
    return out
