"""Shared per-document views, computed once per batch and reused by every operator that needs them."""

from __future__ import annotations

from gristmill.batch import Batch, register_view


@register_view("words")
def words(batch: Batch) -> list[list[str]]:
    """Whitespace-separated tokens. Languages without spaces are handled by operators that need more."""
    return [t.split() for t in batch.texts()]


@register_view("lines")
def lines(batch: Batch) -> list[list[str]]:
    return [t.split("\n") for t in batch.texts()]
