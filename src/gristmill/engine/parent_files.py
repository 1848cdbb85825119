"""A parent version's files, found by chunk, and its rows with the step that dropped each (its ledger).

Read by the walk that re-decides a parent (:mod:`gristmill.engine.redecide`): files are many and small, so
they are read without Arrow's dataset layer, and written into a run's output folder by hard link.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.io.parquet import read_parquet
from gristmill.io.writers import TMP_SUFFIX

_PART = re.compile(r"part-(\d{6,})\.parquet")
_SIDE = re.compile(r"s(\d+)-part-(\d{6,})\.pq")
_STATE = re.compile(r"chunk-(\d{6,})\.pq")



class NotRedecidable(GristmillError):
    """The stored data cannot give what a full run would; the message says why (the caller runs in full)."""


@dataclass
class ParentFiles:
    """Local paths of a parent version's files, by chunk, and its figures."""

    ref: str
    data: dict[int, str] = field(default_factory=dict)
    dropped: dict[tuple[int, int], str] = field(default_factory=dict)  # (stage, chunk)
    rejected: dict[tuple[int, int], str] = field(default_factory=dict)  # (stage, chunk)
    state: dict[tuple[str, int], str] = field(default_factory=dict)  # (global step, chunk)
    steps: list[dict] = field(default_factory=list)  # per-step figures of the parent's summary
    counts: dict[str, Any] = field(default_factory=dict)  # input, kept, dropped, rejected

    def add(self, kind: str, path: str, step: str | None = None, name: str | None = None) -> None:
        """File one local path by its name (``part-N.parquet``, ``sK-part-N.pq``, ``chunk-N.pq``): ``name``,
        else the path's own (a file fetched from an object store is cached under its hash, not its name)."""
        name = name or os.path.basename(path)
        if kind == "files" and (m := _PART.fullmatch(name)):
            self.data[int(m.group(1))] = path
        elif kind in ("dropped_files", "rejected_files") and (m := _SIDE.fullmatch(name)):
            target = self.dropped if kind == "dropped_files" else self.rejected
            target[(int(m.group(1)), int(m.group(2)))] = path
        elif kind == "dedup_state" and step and (m := _STATE.fullmatch(name)):
            self.state[(step, int(m.group(1)))] = path
        else:
            raise GristmillError(f"{self.ref}: unexpected {kind} file name {name!r}")

    def chunks(self) -> list[int]:
        """Every chunk holding a kept, dropped or deduplicated row."""
        return sorted(set(self.data) | {c for _, c in self.dropped} | {c for _, c in self.state})


@dataclass
class Ledger:
    """The parent's rows of one chunk: kept rows first (data file order), then dropped rows (file order)."""

    ids: np.ndarray  # object array of ids
    where: dict[str, int]
    exit: np.ndarray  # step index that dropped the row; len(steps) when kept
    rule: np.ndarray  # object array: the rule that dropped it (None when kept)
    segments: list[tuple[str, int, int]]  # (path, start, stop) in row order


def link_file(src: str, dst: Path) -> None:
    """Put ``src`` at ``dst`` whole: a hard link when the file systems allow, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.link{TMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def load_ledger(parent: ParentFiles, chunk: int, index: dict[str, int],
                read: Callable[[str, list[str]], pa.Table] = read_parquet) -> Ledger:
    """The parent's rows of ``chunk`` with their exits (``index``: step name -> position in the recipe).
    ``read`` reads columns of a file (a caller that reads more of the same files passes its cached reader)."""
    ids: list[pa.Array] = []
    exits: list[np.ndarray] = []
    rules: list[np.ndarray] = []
    segments = []
    start = 0
    if chunk in parent.data:
        path = parent.data[chunk]
        col = read(path, ["id"]).column("id").combine_chunks()
        ids.append(col)
        exits.append(np.full(len(col), len(index)))
        rules.append(np.full(len(col), None, dtype=object))
        segments.append((path, start, start + len(col)))
        start += len(col)
    for (_, c), path in sorted(parent.dropped.items()):
        if c != chunk:
            continue
        t = read(path, ["id", "step", "rule"])
        unknown = set(t.column("step").to_pylist()) - set(index)
        if unknown:
            raise NotRedecidable(f"{parent.ref}: dropped rows name steps {sorted(unknown)} that this recipe lacks")
        ids.append(t.column("id").combine_chunks())
        exits.append(np.array([index[s] for s in t.column("step").to_pylist()], dtype=np.int64))
        rules.append(np.array(t.column("rule").to_pylist(), dtype=object))
        segments.append((path, start, start + t.num_rows))
        start += t.num_rows
    id_list = [v for a in ids for v in a.to_pylist()]
    where = {v: i for i, v in enumerate(id_list)}
    if len(where) != len(id_list):
        dup = next(v for v, n in Counter(id_list).items() if n > 1)
        raise NotRedecidable(f"{parent.ref}: id {dup!r} appears twice in chunk {chunk}: rows cannot be "
                             "told apart without measuring again")
    led = Ledger(np.array(id_list, dtype=object), where,
                 np.concatenate(exits) if exits else np.zeros(0, np.int64),
                 np.concatenate(rules) if rules else np.zeros(0, object), segments)
    return led
