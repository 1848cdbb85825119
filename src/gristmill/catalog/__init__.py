"""Dataset versions with lineage: ``gm.catalog.open(root)``, ``gm.catalog.get("name@3")``,
``gm.catalog.trace("name@3", doc_id)`` and ``gm.catalog.gc(...)``."""

from __future__ import annotations

from typing import Any

from gristmill.catalog.core import Catalog, Version, parse_ref, use_root

__all__ = ["Catalog", "Version", "gc", "get", "open", "parse_ref", "rm", "trace", "use_root"]


def open(root: str | None = None) -> Catalog:  # noqa: A001 - the natural name: gm.catalog.open(...)
    """The catalog at ``root`` (a folder or s3://bucket/prefix; default $GRISTMILL_HOME or ~/.gristmill)."""
    return Catalog(root)


def get(ref: str, root: str | None = None) -> Version:
    """One version by ``NAME@V`` (or ``NAME`` for the latest): ``.to_arrow()``, ``.to_pandas()``, ``.to_hf()``."""
    return Catalog(root).get(ref)


def trace(ref: str, doc_id: str, root: str | None = None) -> dict[str, Any]:
    """Where document ``doc_id`` of version ``ref`` came from, through every parent (``catalog trace --json``)."""
    from gristmill.catalog.trace import trace as _trace

    return _trace(Catalog(root), ref, doc_id)


def gc(names: list[str] | None = None, keep_last: int | None = None, min_age_s: float = 3600.0,
       dry_run: bool = False, root: str | None = None) -> dict[str, Any]:
    """Remove unreferenced data and, with ``keep_last``, old versions (``catalog gc --json``)."""
    from gristmill.catalog.gc import gc as _gc

    return _gc(Catalog(root), names, keep_last, min_age_s, dry_run)


def rm(*refs: str, dry_run: bool = False, root: str | None = None) -> dict[str, Any]:
    """Remove the versions named and the files only they use (``catalog rm --json``)."""
    from gristmill.catalog.gc import rm as _rm

    return _rm(Catalog(root), list(refs), dry_run)
