"""Claiming an output folder before writing into it.

gristmill never deletes a file it did not write. So an output folder carries a marker of its own
(``.gristmill/output.json``, written before anything else), ``--overwrite`` removes only what gristmill
wrote there (:meth:`Layout.own_entries`), a folder that holds anything else is refused, and so is an output
that is or contains one of the run's input files. A lock (``flock`` on ``.gristmill/lock``) keeps two runs
out of one folder at once: the second exits 2 at once rather than waiting, since a wait could be for hours.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gristmill import __version__
from gristmill.engine.layout import MARKER_FORMAT, Layout, is_gristmill_output
from gristmill.errors import UsageError
from gristmill.io.writers import write_json

OwnEntries = Callable[[], list[Path]]


@dataclass
class Claim:
    """A held output folder: release it when the run ends (the lock also goes when the process dies)."""

    layout: Layout
    handle: IO[str] | None
    own_entries: OwnEntries | None = None
    left_alone: list[str] = field(default_factory=list)  # files gristmill did not write, kept by --overwrite

    def clear(self, keep: tuple[Path, ...] = ()) -> None:
        """Remove what gristmill wrote in the folder (the lock, the marker and ``keep`` stay): ``--overwrite``."""
        _remove_own(self.layout, (self.own_entries or self.layout.own_entries)(), keep)
        out = self.layout.out
        self.left_alone = [str(p.relative_to(out)) for p in sorted(out.iterdir()) if p != self.layout.side]

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the descriptor drops the flock
            self.handle = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_not_over_inputs(out: Path, input_files: Iterable[str]) -> None:
    """Refuse an output folder that is, contains or lies inside an input file: writing there would mix the
    output into the input, and --overwrite would delete the input."""
    real_out = Path(os.path.realpath(out))
    for f in input_files:
        real = Path(os.path.realpath(f))
        if real in real_out.parents:
            raise UsageError(f"output folder {out} would be inside the input file {f}: choose an output folder "
                             "outside the inputs")
        if real == real_out or real_out in real.parents:
            raise UsageError(
                f"output folder {out} holds the input file {f}: the output must not be or contain an input; "
                "choose an output folder outside the inputs (a folder inside an input folder is fine: "
                "gristmill skips its own output folders when reading inputs)"
            )


def _describe(paths: list[Path], root: Path, limit: int = 3) -> str:
    names = [str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in paths[:limit]]
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(names) + more


def claim_output(
    layout: Layout, *, kind: str, input_files: Iterable[str], overwrite: bool, own_entries: OwnEntries | None = None
) -> Claim:
    """Check, lock and mark ``layout.out`` for writing; with ``overwrite``, first remove what gristmill wrote
    there before. ``own_entries`` lists the paths gristmill wrote (default: a run's, from the layout)."""
    out = layout.out
    own = own_entries or layout.own_entries
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {out} exists and is not a folder")
    check_not_over_inputs(out, input_files)
    entries = sorted(p for p in out.iterdir() if p != layout.side) if out.is_dir() else []
    if entries and not is_gristmill_output(out):
        raise UsageError(
            f"output folder {out} is not empty and was not made by gristmill (it holds {_describe(entries, out)}); "
            "gristmill never deletes files it did not write, with or without --overwrite: "
            "choose a new or empty output folder"
        )
    marker = _read_marker(layout)
    if marker is not None and marker.get("kind") != kind:
        raise UsageError(
            f"output folder {out} holds a gristmill {marker.get('kind')} output, not a {kind} output; "
            "choose another output folder"
        )
    if not layout.output_marker.exists():  # first, so that a run killed at any point left a folder it can claim
        layout.side.mkdir(parents=True, exist_ok=True)
        write_json(layout.output_marker, {"format": MARKER_FORMAT, "kind": kind, "gristmill_version": __version__,
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    claim = Claim(layout, _lock(layout), own)
    try:
        if overwrite:
            claim.clear()
    except BaseException:
        claim.release()
        raise
    return claim


def _read_marker(layout: Layout) -> dict | None:
    try:
        return json.loads(layout.output_marker.read_text())
    except (OSError, ValueError):
        return None


def _lock(layout: Layout) -> IO[str]:
    layout.side.mkdir(parents=True, exist_ok=True)
    handle = open(layout.lock, "a+")  # noqa: SIM115  (held for the run; Claim.release closes it)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UsageError(
            f"output folder {layout.out} is being written by another gristmill run ({holder}); "
            "wait for it to finish or choose another output folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    handle.flush()
    return handle


def _remove_own(layout: Layout, entries: list[Path], keep: tuple[Path, ...] = ()) -> None:
    """Remove gristmill's own files; in the side folder everything but the lock (held), the marker and ``keep``."""
    for path in entries:
        if path == layout.side:
            for p in path.iterdir():
                if p in (layout.lock, layout.output_marker, *keep):
                    continue
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        elif path.is_file() or path.is_symlink():
            path.unlink()
    for name in ("rejected", "dropped"):  # side folders of the old layout, when nothing else is left there
        folder = layout.out / name
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
