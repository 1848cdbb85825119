"""Reclaim space: ``gristmill catalog gc`` and ``gristmill catalog rm NAME@V``.

Two kinds of garbage:

* **Data no manifest references**: what a killed commit left (its data folder was written, its manifest
  never claimed), and the files of removed versions. Every string in any manifest that starts with
  ``datasets/`` is live, file or folder, whichever module added it (side columns, dedup state), and so is
  everything under it. A commit in progress has written files that no manifest names *yet*, so an
  unreferenced file younger than ``min_age`` (default one hour, by its commit id's time or its
  modification time, whichever is later) is left alone; files that only removed versions named go at once.
* **Versions a user asked to drop**: ``rm NAME@V`` or ``gc --keep-last N``. A version is never removed while
  it is tagged or while a version that stays derives from it (``{"ref": "NAME@V"}`` anywhere in that
  version's manifest: its parents, an incremental base, a run it was scored by); such a version is
  refused with the reason, and so, in turn, are its own parents. A removed version leaves a tombstone in
  place of its manifest: its number is never reused, and asking for it says when and how it went.

Order of work, so that a gc killed at any point leaves a readable catalog: tombstone, then drop the
manifest (the version is gone), then delete its files (garbage either way).
"""

from __future__ import annotations

import json
import re
import time
from calendar import timegm
from dataclasses import dataclass, field
from typing import Any

from gristmill.catalog.core import Catalog, Version, parse_ref
from gristmill.catalog.manifest import referenced_keys, removed_key, version_refs
from gristmill.errors import GristmillError, UsageError

DEFAULT_MIN_AGE_S = 3600.0
_COMMIT = re.compile(r"^datasets/[^/]+/data/(?P<ts>\d{8}T\d{6})-[0-9a-f]{8}(?:/|$)")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``1h``, ``7d`` -> seconds."""
    m = _DURATION.match(text)
    if not m:
        raise UsageError(f"bad duration {text!r}: a number with s, m, h or d (e.g. 1h, 0)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@dataclass
class Plan:
    remove: list[Version] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)


def plan_versions(cat: Catalog, explicit: list[str], names: list[str], keep_last: int | None) -> Plan:
    """Which versions go: the ones named, and all but the newest ``keep_last`` of ``names`` (every dataset
    when ``names`` is empty), less those that are tagged or that a staying version derives from."""
    everything = {(n, v.number): v for n in cat.datasets() for v in cat.versions(n)}
    candidates: dict[tuple[str, int], Version] = {}
    for ref in explicit:
        v = cat.get(ref)
        if parse_ref(ref)[1] is None:
            raise UsageError(f"name the version to remove: {v.name}@{v.number}, not {ref}")
        candidates[(v.name, v.number)] = v
    if keep_last is not None:
        for name in names or cat.datasets():
            found = cat.versions(name)
            if not found and names:
                cat.get(name)  # the clear 'unknown dataset' error
            for v in found[: max(0, len(found) - keep_last)]:
                candidates[(v.name, v.number)] = v
    tagged: dict[tuple[str, int], list[str]] = {}
    for name in {n for n, _ in candidates}:
        for tag, number in cat.tags(name).items():
            tagged.setdefault((name, number), []).append(tag)
    refused: dict[tuple[str, int], str] = {k: f"tagged {', '.join(sorted(tagged[k]))}" for k in candidates if k in tagged}
    while True:  # a version that stays keeps its parents, and they keep theirs
        staying = [k for k in everything if k not in candidates or k in refused]
        children: dict[tuple[str, int], list[str]] = {}
        for k in staying:
            for dep in version_refs(everything[k].manifest):
                children.setdefault(dep, []).append(f"{k[0]}@{k[1]}")
        more = {k: f"a parent of {', '.join(sorted(children[k]))}, which stay{'s' if len(children[k]) == 1 else ''}"
                for k in candidates if k not in refused and k in children}
        if not more:
            break
        refused.update(more)
    return Plan(remove=[v for k, v in sorted(candidates.items()) if k not in refused],
                refused=[{"ref": f"{k[0]}@{k[1]}", "reason": why} for k, why in sorted(refused.items())])


def remove_versions(cat: Catalog, versions: list[Version], how: str) -> None:
    """Tombstone each version, then drop its manifest (its files become garbage for :func:`collect`)."""
    for v in versions:
        stone = {"dataset": v.name, "version": v.number, "removed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "by": how, "manifest": v.manifest}
        cat.store.put_bytes(removed_key(v.name, v.number), json.dumps(stone, indent=1, sort_keys=True).encode())
        cat.store.delete(f"datasets/{v.name}/versions/{v.number:06d}.json")
    cat.sync()


def _live(key: str, keys: set[str]) -> bool:
    parts = key.split("/")
    return any("/".join(parts[:i]) in keys for i in range(1, len(parts) + 1))


def _commit_time(key: str) -> float | None:
    m = _COMMIT.match(key)
    return timegm(time.strptime(m["ts"], "%Y%m%dT%H%M%S")) if m else None


def collect(cat: Catalog, min_age_s: float, dry_run: bool, dropping: list[Version] | tuple[Version, ...] = (),
            only_retired: bool = False) -> dict[str, Any]:
    """Delete (or, dry, list) the files under ``datasets/`` that no manifest references. ``dropping``: versions
    being removed (in a dry run, still there); ``only_retired``: touch only the files removed versions named."""
    now = time.time()
    gone = {(v.name, v.number) for v in dropping}
    damaged = {f"{n}@{v}": why for n in cat.datasets() for v, why in cat.damaged(n).items()}
    if damaged:
        ref, why = next(iter(damaged.items()))
        raise GristmillError(f"gc removes nothing while a manifest is damaged (it may name files that look "
                             f"unreferenced): {ref}: {why}")
    roots = (cat.store.url(""), cat.store.root)  # keys written as full paths or URLs count too
    live: set[str] = set()
    for name in cat.datasets():
        for v in cat.versions(name):
            if (v.name, v.number) not in gone:
                live |= referenced_keys(v.manifest, roots)
    retired: set[str] = set()  # files that only removed versions named: no commit can be writing them
    for v in dropping:
        retired |= referenced_keys(v.manifest, roots)
    for name in cat.store.list("datasets"):
        for fname in cat.store.list(f"datasets/{name}/versions"):
            if fname.endswith(".removed.json"):
                stone = json.loads(cat.store.read_bytes(f"datasets/{name}/versions/{fname}"))
                retired |= referenced_keys(stone.get("manifest", {}), roots)
    folders: dict[str, dict[str, Any]] = {}
    young: dict[str, float] = {}
    for key, size, mtime in cat.store.walk("datasets"):
        parts = key.split("/")
        if len(parts) < 3:
            continue
        in_index = parts[2] in ("versions", "tags")
        if in_index and not parts[-1].startswith(".tmp-"):
            continue  # manifests, tombstones and tags are the catalog itself
        if not in_index and _live(key, live):
            continue
        folder = "/".join(parts[:4]) if parts[2] == "data" and len(parts) > 4 else "/".join(parts[:-1])
        if not _live(key, retired):
            if only_retired:
                continue
            age = now - max(_commit_time(key) or 0.0, mtime)
            if age < min_age_s:
                young[folder] = min(young.get(folder, age), age)
                continue
        entry = folders.setdefault(folder, {"folder": folder, "files": 0, "bytes": 0})
        entry["files"] += 1
        entry["bytes"] += size
        if not dry_run:
            cat.store.delete(key)
    return {"folders": sorted(folders.values(), key=lambda f: f["folder"]),
            "files_removed": sum(f["files"] for f in folders.values()),
            "bytes_removed": sum(f["bytes"] for f in folders.values()),
            "young": [{"folder": f, "age_s": round(a, 1)} for f, a in sorted(young.items())],
            "min_age_s": min_age_s}


def gc(cat: Catalog, names: list[str] | None = None, keep_last: int | None = None, min_age_s: float = DEFAULT_MIN_AGE_S,
       dry_run: bool = False) -> dict[str, Any]:
    """``gristmill catalog gc``: drop the versions ``keep_last`` lets go, then the unreferenced files."""
    if keep_last is not None and keep_last < 1:
        raise UsageError("--keep-last must be at least 1: gc never removes every version of a dataset")
    if not dry_run:
        cat.store.check_writable()
    plan = plan_versions(cat, [], list(names or []), keep_last)
    if not dry_run:
        remove_versions(cat, plan.remove, f"gristmill catalog gc --keep-last {keep_last}")
    report = collect(cat, min_age_s, dry_run, dropping=plan.remove)
    return {"root": cat.store.uri, "dry_run": dry_run, "versions_removed": [v.ref for v in plan.remove],
            "versions_refused": plan.refused, **report}


def rm(cat: Catalog, refs: list[str], dry_run: bool = False) -> dict[str, Any]:
    """``gristmill catalog rm NAME@V ...``: remove the versions named (all or none), then their files."""
    if not dry_run:
        cat.store.check_writable()
    plan = plan_versions(cat, refs, [], None)
    if plan.refused:
        raise UsageError("not removed: " + "; ".join(f"{r['ref']} is {r['reason']}" for r in plan.refused))
    if not dry_run:
        remove_versions(cat, plan.remove, "gristmill catalog rm")
    report = collect(cat, DEFAULT_MIN_AGE_S, dry_run, dropping=plan.remove, only_retired=True)
    return {"root": cat.store.uri, "dry_run": dry_run, "versions_removed": [v.ref for v in plan.remove],
            "versions_refused": [], **report}
