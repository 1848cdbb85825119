"""What a global step saw and decided, kept per chunk beside a run's output so a later run can build on it.

For every global step whose decision only keeps or drops rows (``decides_rows_only``), and every chunk,
one small Parquet table ``.gristmill/dedup_state/STEP/chunk-NNNNNN.pq`` with one row per document that
reached the step, in input order:

    id          the document id
    keep        the step's decision for it
    <signals>   the signal columns the decision wrote (e.g. ``minhash_dedup.cluster_size``)
    signature   the compact signature the step computed (hashes, never text)

An incremental run decides over the parent's signatures followed by the new ones; re-deciding with new
thresholds decides again over the signatures of the rows that still reach the step. Both compare the new
outcome with ``keep`` and the signals stored here to find the parent rows that change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.engine.layout import SIG_COLUMN, Layout
from gristmill.engine.stages import Stage
from gristmill.io.parquet import read_parquet
from gristmill.io.writers import write_parquet
from gristmill.recipe.compile import CompiledStep

SIGNATURE = "signature"
KEEP = "keep"


def stores_state(step: CompiledStep) -> bool:
    return step.is_global and getattr(step.op, "decides_rows_only", False)


def outcome(step: CompiledStep, decision: Any, chunk: int, ids: pa.Array, text_field: str) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The keep mask and the signal columns that ``decision`` gives the rows ``ids`` of ``chunk``.

    Asks the operator itself (``apply_decision`` on a batch of ids and empty texts), so the answer is what
    the workers would write; a rows-only decision reads nothing of the text.
    """
    n = len(ids)
    batch = Batch(pa.table({"id": ids, text_field: pa.array([""] * n, pa.string())}), text_field)
    keep = step.op.apply_decision(batch, chunk, decision) if n else None
    mask = np.ones(n, bool) if keep is None else np.asarray(keep, dtype=bool)
    signals = {c: batch.column(c).combine_chunks() for c in step.signal_columns if c in batch.column_names}
    return mask, signals


def state_table(ids: pa.Array, keep: np.ndarray, signals: dict[str, pa.Array], signature: pa.Array) -> pa.Table:
    cols: dict[str, Any] = {"id": ids, KEEP: pa.array(keep, pa.bool_())}
    cols.update(signals)
    cols[SIGNATURE] = signature
    return pa.table(cols)


def write_state(path: Path, table: pa.Table) -> None:
    """A state file: signatures are hashes, which neither a dictionary nor min/max statistics help (trying
    both took two thirds of the ~3 ms each MinHash state file cost to write, for the same size)."""
    write_parquet(path, table, use_dictionary=["id"], write_statistics=["id", KEEP])


def save_stage_state(layout: Layout, stage: Stage, chunk_ids: list[int], decision: Any, text_field: str) -> None:
    """Write the state of the global step closing ``stage`` for each of ``chunk_ids`` (from the intermediates)."""
    step = stage.signs
    if step is None or not stores_state(step):
        return
    for cid in chunk_ids:
        path = layout.intermediate(stage.index, cid)
        if not path.exists():
            continue
        t = read_parquet(path, columns=["id", SIG_COLUMN])
        ids, sig = t.column("id").combine_chunks(), t.column(SIG_COLUMN).combine_chunks()
        keep, signals = outcome(step, decision, cid, ids, text_field)
        write_state(layout.dedup_state(step.name, cid), state_table(ids, keep, signals, sig))
