"""Checkpoint folders that prove they are complete: a manifest of checksums written last, then an atomic rename.

A checkpoint is ``checkpoints/step_NNNNNNN/`` holding ``state.pt`` (rank 0), ``rank{r}.pt`` (one per rank) and
``manifest.json``: every file's size and xxh3-64 checksum, written after the files and fsynced, inside the
temporary folder that is then renamed into place. ``checkpoints/latest`` names the newest one (replaced
atomically). A resumed run trusts a checkpoint only after checking it against its manifest; when the latest
is damaged it falls back to the newest valid older one with a warning and moves the damaged one aside
(``step_NNNNNNN.corrupt``), never deleting it. Retention counts valid checkpoints only, so a damaged newer
one never pushes a good older one out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import xxhash

from gristmill.errors import GristmillError

FORMAT = "gristmill.checkpoint"
MANIFEST = "manifest.json"
LATEST = "latest"
STATE_FILE = "state.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")
_CHUNK = 4 << 20


def step_folder(root: Path, step: int) -> Path:
    return root / f"step_{step:07d}"


def _checksum(path: Path) -> str:
    h = xxhash.xxh3_64()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def publish(tmp: Path, step: int, world: int, keep: int) -> Path:
    """Seal a filled temporary folder (manifest last), rename it into place, point ``latest`` at it, prune."""
    files = {}
    for p in sorted(tmp.iterdir()):
        if p.is_file() and p.name != MANIFEST:
            _fsync(p)
            files[p.name] = {"bytes": p.stat().st_size, "xxh3_64": _checksum(p)}
    manifest = {"format": FORMAT, "version": 1, "step": step, "world": world, "files": files}
    _write_atomically(tmp / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    root = tmp.parent
    path = step_folder(root, step)
    if path.exists():  # the same step saved again (a resumed run re-reaching it): the new one replaces it
        shutil.rmtree(path)
    os.replace(tmp, path)
    _fsync(root)
    _write_atomically(root / LATEST, path.name)
    prune(root, keep)
    return path


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise ValueError(f"{MANIFEST} is missing (never completed, or written by an older gristmill)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{MANIFEST} is unreadable ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise ValueError(f"{MANIFEST} is not a {FORMAT} manifest")
    world = manifest.get("world")
    needed = [STATE_FILE] + [f"rank{r}.pt" for r in range(world if isinstance(world, int) and world > 0 else 1)]
    for name in needed:
        if name not in manifest["files"]:
            raise ValueError(f"{MANIFEST} does not list {name}")
    return manifest


def problem(folder: Path, *, checksums: bool = True) -> str | None:
    """Why ``folder`` is not a usable checkpoint (None when it is): manifest, then each file's size and checksum."""
    try:
        manifest = _read_manifest(folder)
    except ValueError as e:
        return str(e)
    for name, entry in manifest["files"].items():
        p = folder / name
        if not p.is_file():
            return f"{name} is missing"
        size = p.stat().st_size
        if size != entry.get("bytes"):
            return f"{name} is {size} bytes, the manifest says {entry.get('bytes')}"
        if checksums and _checksum(p) != entry.get("xxh3_64"):
            return f"{name} does not match its checksum (damaged after it was written)"
    return None


def _step_folders(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return sorted(found)


def prune(root: Path, keep: int) -> None:
    """Keep the newest ``keep`` valid checkpoints; delete only valid ones older than those (sizes checked)."""
    valid = [p for _, p in _step_folders(root) if problem(p, checksums=False) is None]
    for old in valid[:-keep]:
        shutil.rmtree(old)


def _quarantine(folder: Path) -> Path:
    target = folder.with_name(folder.name + ".corrupt")
    n = 1
    while target.exists():
        target, n = folder.with_name(f"{folder.name}.corrupt{n}"), n + 1
    os.replace(folder, target)
    return target


def find_resumable(root: Path, warn: Any = print) -> Path | None:
    """The newest valid checkpoint at or before the one ``latest`` names (None: nothing to resume from).

    Each damaged one on the way is reported through ``warn`` and moved aside; when checkpoints exist but none
    is valid, raise rather than start again from step 0 over them.
    """
    folders = _step_folders(root)
    if not folders:
        return None
    named = (root / LATEST).read_text(errors="replace").strip() if (root / LATEST).is_file() else ""
    match = _STEP_DIR.match(named)
    if match and (root / named).is_dir():
        folders = [(s, p) for s, p in folders if s <= int(match.group(1))]
    elif named:
        warn(f"[gristmill] warning: {root / LATEST} names {named!r}, which is not a checkpoint; "
             f"using the newest valid one")
    damaged: list[tuple[Path, str]] = []
    for _, folder in reversed(folders):
        why = problem(folder)
        if why is None:
            for bad, reason in damaged:
                moved = _quarantine(bad)
                warn(f"[gristmill] warning: checkpoint {bad} is damaged ({reason}); moved to {moved.name}; "
                     f"resuming from {folder.name}")
            return folder
        damaged.append((folder, why))
    detail = "; ".join(f"{p.name}: {why}" for p, why in damaged)
    raise GristmillError(
        f"train.resume: no valid checkpoint in {root} ({detail}); nothing was changed. Run without "
        f"train.resume to start again from step 0, or give train.resume a checkpoint folder"
    )


def check_explicit(folder: Path) -> str | None:
    """Why a checkpoint the user named is unusable (None when it is fine)."""
    return f"checkpoint {folder} does not exist" if not folder.is_dir() else problem(folder)
