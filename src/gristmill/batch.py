"""A block of documents as an Arrow table, with shared views computed once per block.

Operators read and write documents through a :class:`Batch`. Expensive derived views of the text (word
lists, lines, n-gram hashes...) are registered once in :mod:`gristmill.ops.views` and cached on the batch,
so five quality filters in a row split the words once, not five times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

ViewFn = Callable[["Batch"], list[Any]]
_VIEWS: dict[str, ViewFn] = {}


def register_view(name: str) -> Callable[[ViewFn], ViewFn]:
    """Register a named per-document view (e.g. ``words``) computed lazily, once per batch."""

    def deco(fn: ViewFn) -> ViewFn:
        if name in _VIEWS and _VIEWS[name] is not fn:
            raise ValueError(f"view {name!r} is already registered")
        _VIEWS[name] = fn
        return fn

    return deco


class Batch:
    """Documents of one block: the Arrow table plus lazily cached Python views.

    ``text_field`` names the column that holds the document text; operators never hard-code it.
    """

    def __init__(self, table: pa.Table, text_field: str = "text") -> None:
        self._table = table
        self.text_field = text_field
        self._texts: list[str] | None = None
        self._texts_dirty = False
        self._views: dict[str, list[Any]] = {}

    @property
    def table(self) -> pa.Table:
        if self._texts is not None and self._texts_dirty:
            self._table = _set_column(self._table, self.text_field, _text_array(self._texts))
            self._texts_dirty = False
        return self._table

    @property
    def num_rows(self) -> int:
        return self._table.num_rows

    def __len__(self) -> int:
        return self._table.num_rows

    @property
    def column_names(self) -> list[str]:
        return self._table.column_names

    def texts(self) -> list[str]:
        """The document texts as Python strings (cached)."""
        if self._texts is None:
            self._texts = self._table.column(self.text_field).to_pylist()
        return self._texts

    def set_texts(self, texts: Sequence[str]) -> None:
        """Replace the texts (after a cleaning step); drops every cached view."""
        if len(texts) != self.num_rows:
            raise ValueError(f"set_texts got {len(texts)} texts for {self.num_rows} rows")
        self._texts = list(texts)
        self._texts_dirty = True
        self._views.clear()

    def view(self, name: str) -> list[Any]:
        """A registered derived view of every document, computed once per batch."""
        cached = self._views.get(name)
        if cached is None:
            if name not in _VIEWS:
                import gristmill.ops.views  # noqa: F401 - registers the common views
            if name not in _VIEWS:
                import gristmill.ops.builtin  # noqa: F401 - and every operator module's own
            try:
                fn = _VIEWS[name]
            except KeyError:
                raise KeyError(f"no view named {name!r}; known: {sorted(_VIEWS)}") from None
            cached = fn(self)
            self._views[name] = cached
        return cached

    def has_view(self, name: str) -> bool:
        """Whether a view is already computed (an operator may then reuse it instead of a cheaper pass)."""
        return name in self._views

    def column(self, name: str) -> pa.ChunkedArray:
        return self.table.column(name)

    def set_column(self, name: str, values: Any) -> None:
        """Add or replace a column (signals, rewritten fields). ``values`` is an Arrow array, numpy or list."""
        if name == self.text_field:
            self.set_texts(values if isinstance(values, list) else pa.array(values).to_pylist())
            return
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
        if len(arr) != self.num_rows:
            raise ValueError(f"column {name!r} has {len(arr)} values for {self.num_rows} rows")
        self._table = _set_column(self.table, name, arr)

    def filter(self, keep: np.ndarray) -> Batch:
        """A new batch with the rows where ``keep`` is true; cached views are filtered along."""
        mask = np.asarray(keep, dtype=bool)
        out = Batch(self.table.filter(pa.array(mask)), self.text_field)
        idx = np.flatnonzero(mask)
        if self._texts is not None:
            out._texts = [self._texts[i] for i in idx]
        out._views = {k: [v[i] for i in idx] for k, v in self._views.items()}
        return out


class RuleEnv(Mapping):
    """What a keep rule (or an expression parameter) reads from a batch: columns by name, lazily, as numpy.

    ``field:<name>`` reads an input field the same way; a column the batch lacks reads as nulls."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.cache: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.cache:
            name = key[6:] if key.startswith("field:") else key
            if name in self.batch.column_names:
                col = self.batch.column(name)
                numeric = pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)
                arr = col.to_numpy() if numeric else None
                if arr is None or (col.null_count and not pa.types.is_floating(col.type)):
                    arr = np.array(col.to_pylist(), dtype=object)
                self.cache[key] = arr
            else:
                self.cache[key] = np.full(self.batch.num_rows, None, dtype=object)
        return self.cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.batch.column_names)

    def __len__(self) -> int:
        return len(self.batch.column_names)


def _set_column(table: pa.Table, name: str, arr: pa.Array | pa.ChunkedArray) -> pa.Table:
    i = table.schema.get_field_index(name)
    if i >= 0:
        return table.set_column(i, name, arr)
    return table.append_column(name, arr)


def _text_array(texts: list[str]) -> pa.Array:
    try:
        return pa.array(texts, pa.string())
    except pa.ArrowCapacityError:  # over 2 GiB of text in one batch
        return pa.array(texts, pa.large_string())
