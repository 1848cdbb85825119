"""Dataset versions with lineage: ``gm.catalog.open(root)`` and ``gm.catalog.get("name@3")``."""

from __future__ import annotations

from gristmill.catalog.core import Catalog, Version, parse_ref

__all__ = ["Catalog", "Version", "get", "open", "parse_ref"]


def open(root: str | None = None) -> Catalog:  # noqa: A001 - the natural name: gm.catalog.open(...)
    """The catalog at ``root`` (a folder or s3://bucket/prefix; default $GRISTMILL_HOME or ~/.gristmill)."""
    return Catalog(root)


def get(ref: str, root: str | None = None) -> Version:
    """One version by ``NAME@V`` (or ``NAME`` for the latest): ``.to_arrow()``, ``.to_pandas()``, ``.to_hf()``."""
    return Catalog(root).get(ref)
