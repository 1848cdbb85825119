"""The work done on one chunk, in a worker process: parse, run the stage's steps, write, mark done.

Everything a chunk produces is written under temporary names and renamed; the done marker is written
last, so a chunk is either complete or redone from scratch after a kill.
"""

from __future__ import annotations

import gc
import pickle
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.batch import Batch, RuleEnv
from gristmill.catalog.core import use_root
from gristmill.engine.custom_ops import unpack as unpack_custom_ops
from gristmill.engine.layout import SIG_COLUMN, Layout
from gristmill.engine.provenance import UNITS, provenance_table, write_provenance
from gristmill.engine.stages import Stage, plan_stages
from gristmill.engine.word_table import write_task_words
from gristmill.errors import GristmillError
from gristmill.io.inputs import InputFile
from gristmill.io.parse import REJECT_SCHEMA, ParseSpec, _reject, parse_chunk
from gristmill.io.readers import RawChunk
from gristmill.io.writers import write_json, write_parquet, write_table
from gristmill.ops.wordsplit import record_new_chunks
from gristmill.recipe.compile import CompiledRecipe, CompiledStep, compile_recipe

SAMPLE_TEXT_CHARS = 1000


@dataclass
class ChunkTask:
    stage: int
    chunk: int
    raw: RawChunk | None = None
    file: InputFile | None = None


@dataclass
class WorkerConfig:
    """What a worker process needs to rebuild the run: the recipe as data, never pickled operators."""

    recipe_raw: dict
    recipe_source: str | None
    input_path: Any
    output: str
    fault: str | None = None  # test hook: "stage:chunk:where" kills the process at that point
    custom_ops: tuple[bytes, ...] = ()  # operators the user registered in the driver (engine/custom_ops.py)
    catalog_root: str | None = None  # where catalog:// inputs resolve (the driver's --catalog / catalog=)
    warm_words: str | None = None  # the word table the driver preloaded into the caches workers inherit
    # one per executor run: a process that runs chunks of two runs with the same recipe and output (the
    # driver itself with one worker) must not reuse the first one's decisions (context() compares configs)
    run_id: str = ""


_CTX: dict[str, Any] = {}


def init_worker(cfg: WorkerConfig) -> None:
    from gristmill.ops.plugins import load_operator_plugins

    load_operator_plugins(cfg.recipe_source)
    unpack_custom_ops(cfg.custom_ops)
    with use_root(cfg.catalog_root):  # a spawned or forkserver process does not inherit the driver's context
        recipe = compile_recipe(cfg.recipe_raw, source=cfg.recipe_source, input_override=cfg.input_path,
                                output_override=cfg.output)
    for step in recipe.steps:
        step.op.setup()
    record_new_chunks(cfg.warm_words)  # for the run's word table (engine/word_table.py)
    _CTX.clear()
    _CTX.update(cfg=cfg, recipe=recipe, stages=plan_stages(recipe), layout=Layout(cfg.output, recipe.spec.output.format), decisions={})


def init_pool_worker(cfg: WorkerConfig) -> None:
    """The initializer of a local pool's worker process: :func:`start_child`, then :func:`init_worker`."""
    start_child()
    init_worker(cfg)


def start_child() -> None:
    """First thing in a worker process: what it inherited (modules, the driver's word caches, a walk's
    decisions) lives as long as the process, so the collector is told to leave it alone (``gc.freeze``;
    otherwise each worker's first collections walk all of it to free nothing), then :func:`end_with_parent`."""
    gc.freeze()
    end_with_parent()


def end_with_parent() -> None:
    """A pool worker whose driver is killed (kill -9, the OOM killer) would wait for work forever, holding the
    driver's stdout and memory: on Linux, have the kernel kill it when the driver goes (PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the driver died before the request took effect
        os._exit(1)


def context(cfg: WorkerConfig) -> dict[str, Any]:
    if _CTX.get("cfg") is not cfg and _CTX.get("cfg") != cfg:
        init_worker(cfg)
    return _CTX


class StepFailed(GristmillError):
    pass


_Env = RuleEnv  # rule inputs read lazily from the batch (gristmill.batch)


def _maybe_fault(cfg: WorkerConfig, stage: int, chunk: int, where: str) -> None:
    if cfg.fault and cfg.fault == f"{stage}:{chunk}:{where}":
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class ChunkRun:
    """Accumulates one chunk's counts, drops, samples and rejects."""

    def __init__(self, stage: int, chunk: int, samples_per_rule: int, write_dropped: bool) -> None:
        self.stats: dict[str, Any] = {"stage": stage, "chunk": chunk, "steps": {}, "rejected": {}}
        self.drops: list[pa.Table] = []
        self.rejects: list[dict] = []
        self.samples: dict[str, list[dict]] = defaultdict(list)
        self.samples_per_rule = samples_per_rule
        self.write_dropped = write_dropped

    def step(self, name: str) -> dict[str, Any]:
        return self.stats["steps"].setdefault(name, {"in": 0, "out": 0, "dropped": {}, "seconds": 0.0})

    def drop(self, batch: Batch, mask: np.ndarray, step: str, rule: str, signal_cols: list[str], full: bool = False) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        st = self.step(step)
        st["dropped"][rule] = st["dropped"].get(rule, 0) + len(idx)
        table = batch.table.take(pa.array(idx))
        cols = {"id": table.column("id"), "step": pa.array([step] * len(idx)), "rule": pa.array([rule] * len(idx))}
        order = table.column_names  # a new list on every access: taken once
        names = set(order)
        for c in signal_cols:
            if c in names:
                cols[c] = table.column(c)
        if self.write_dropped or full:
            for c in order:
                cols.setdefault(c, table.column(c))
        self.drops.append(pa.table(cols))
        key = f"{step}:{rule}"
        room = self.samples_per_rule - len(self.samples[key])
        if room > 0:
            texts = table.column(batch.text_field).to_pylist()[:room]
            ids = table.column("id").to_pylist()[:room]
            sigs = {c: table.column(c).to_pylist()[:room] for c in signal_cols if c in names}
            for j, (i, t) in enumerate(zip(ids, texts)):
                self.samples[key].append(
                    {"step": step, "rule": rule, "id": i, "text": t[:SAMPLE_TEXT_CHARS], "signals": {c: v[j] for c, v in sigs.items()}}
                )

    def reject(self, rows: list[dict]) -> None:
        self.rejects.extend(rows)
        for r in rows:
            self.stats["rejected"][r["kind"]] = self.stats["rejected"].get(r["kind"], 0) + 1


def _apply_guarded(step: CompiledStep, batch: Batch, run: ChunkRun) -> tuple[Batch, dict[str, Any] | None]:
    """Apply a step; if it raises, find the documents that make it fail and quarantine them as rejects."""
    original = batch.table
    try:
        return batch, step.op.apply(batch)
    except Exception as exc:  # noqa: BLE001 - operator code is arbitrary; we isolate its failures
        first = exc
    n = original.num_rows
    bad = np.zeros(n, dtype=bool)
    errors: dict[int, BaseException] = {}
    for i in range(n):
        try:
            step.op.apply(Batch(original.slice(i, 1), batch.text_field))
        except Exception as exc:  # noqa: BLE001
            bad[i] = True
            errors[i] = exc
    if bad.all() or not bad.any():
        raise StepFailed(f"step {step.name!r} ({step.op.name}) failed on a batch of {n}: {type(first).__name__}: {first}") from first
    ids = original.column("id").to_pylist()
    text = original.column(batch.text_field).to_pylist()
    run.reject(
        [
            _reject(f"step:{step.name}", "id", None, f"step {step.name!r} ({step.op.name}) raised {type(e).__name__}: {e} on id {ids[i]}", text[i])
            for i, e in errors.items()
        ]
    )
    good = Batch(original.filter(pa.array(~bad)), batch.text_field)
    return good, step.op.apply(good)


def run_steps(batch: Batch, steps: list[CompiledStep], run: ChunkRun, signal_cols: list[str]) -> Batch:
    for step in steps:
        st = run.step(step.name)
        st["in"] += batch.num_rows
        if batch.num_rows == 0:
            continue
        t0 = time.perf_counter()
        batch, signals = _apply_guarded(step, batch, run)
        for sname, values in (signals or {}).items():
            batch.set_column(step.op.signal_column(sname), values)
        if step.rules and batch.num_rows:
            env = _Env(batch)
            keep = np.ones(batch.num_rows, dtype=bool)
            for rule in step.rules:
                ok = rule.keep_mask(env, batch.num_rows)
                run.drop(batch, keep & ~ok, step.name, rule.name, signal_cols)
                keep &= ok
            if not keep.all():
                batch = batch.filter(keep)
        st["out"] += batch.num_rows
        st["seconds"] += time.perf_counter() - t0
    return batch


def _load_decision(ctx: dict[str, Any], stage: Stage) -> Any:
    key = stage.index - 1
    if key not in ctx["decisions"]:
        with open(ctx["layout"].decision(key), "rb") as f:
            ctx["decisions"][key] = pickle.load(f)
    return ctx["decisions"][key]


def process_chunk(cfg: WorkerConfig, task: ChunkTask) -> dict[str, Any]:
    ctx = context(cfg)
    recipe: CompiledRecipe = ctx["recipe"]
    layout: Layout = ctx["layout"]
    stage: Stage = ctx["stages"][task.stage]
    out_spec = recipe.spec.output
    inp = recipe.spec.input
    run = ChunkRun(task.stage, task.chunk, out_spec.dropped_samples, out_spec.write_dropped)
    signal_cols = [c for s in recipe.steps for c in s.signal_columns]
    record_cols = signal_cols + [c for c in recipe.input_signals if c not in signal_cols]  # shown with a drop
    tf = inp.text_field

    table: pa.Table | None
    provenance: pa.Table | None = None
    if task.stage == 0:
        assert task.raw is not None and task.file is not None
        parsed = parse_chunk(task.raw, task.file, ParseSpec(tf, inp.id_field, inp.max_doc_bytes, inp.chat))
        run.reject(parsed.rejects)
        run.stats.update(
            file=task.file.relpath,
            first=task.raw.first,
            records=parsed.records,
            blank_lines=parsed.blank_lines,
            bytes=task.raw.nbytes,
            coerced_fields=parsed.coerced_fields,
            numbers_as_text=parsed.numbers_as_text,
        )
        table = parsed.table
        if out_spec.provenance and table is not None and parsed.locations is not None:
            provenance = provenance_table(table.column("id"), task.file.relpath, UNITS.get(task.raw.kind, "row"),
                                          parsed.locations)
    else:
        path = layout.intermediate(task.stage - 1, task.chunk)
        table = pq.read_table(path) if path.exists() else None
    run.stats["rows_in"] = table.num_rows if table is not None else 0

    batch = Batch(table if table is not None else pa.table({"id": pa.array([], pa.string()), tf: pa.array([], pa.string())}), tf)
    if stage.applies is not None:
        g = stage.applies
        st = run.step(g.name)
        t0 = time.perf_counter()
        if SIG_COLUMN in batch.column_names:
            batch = Batch(batch.table.drop_columns([SIG_COLUMN]), tf)
        if batch.num_rows:
            keep = g.op.apply_decision(batch, task.chunk, _load_decision(ctx, stage))
            if keep is not None:
                keep = np.asarray(keep, dtype=bool)
                # duplicates keep their whole row: a re-decided version can bring one back (engine/redecide.py)
                run.drop(batch, ~keep, g.name, g.op.drop_rule, record_cols, full=True)
                batch = batch.filter(keep)
        st["out"] += batch.num_rows
        st["seconds"] += time.perf_counter() - t0

    batch = run_steps(batch, stage.steps, run, record_cols)

    if stage.signs is not None:
        g = stage.signs
        st = run.step(g.name)
        st["in"] += batch.num_rows
        t0 = time.perf_counter()
        if batch.num_rows:
            sig = g.op.signature(batch)
            batch.set_column(SIG_COLUMN, sig)
        st["seconds"] += time.perf_counter() - t0

    run.stats["rows_out"] = batch.num_rows
    _maybe_fault(cfg, task.stage, task.chunk, "before-write")
    if batch.num_rows:
        if stage.final:
            out = batch.table
            if not out_spec.keep_signals:
                out = out.drop_columns([c for c in signal_cols if c in out.column_names])
            as_text = write_table(layout.kept(task.chunk), out, out_spec.format, out_spec.compression)
            if as_text:  # NaN/Infinity that JSONL can only hold as text
                run.stats["numbers_written_as_text"] = as_text
        else:
            write_parquet(layout.intermediate(task.stage, task.chunk), batch.table)
    if run.drops:
        write_parquet(layout.dropped(task.stage, task.chunk), pa.concat_tables(run.drops, promote_options="default"))
    if run.rejects:
        write_parquet(layout.rejected(task.stage, task.chunk), pa.Table.from_pylist(run.rejects, schema=REJECT_SCHEMA))
    if provenance is not None:
        write_provenance(layout.provenance(task.chunk), provenance)
    run.stats["samples"] = [s for v in run.samples.values() for s in v]
    run.stats["first_reject"] = run.rejects[0] if run.rejects else None
    write_task_words(layout, task.stage, task.chunk)
    _maybe_fault(cfg, task.stage, task.chunk, "before-marker")
    write_json(layout.marker(task.stage, task.chunk), run.stats)
    return run.stats
