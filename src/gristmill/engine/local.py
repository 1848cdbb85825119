"""The local executor: stream chunks through a process pool, stage by stage, resumably.

Determinism: chunks are cut from the input by content alone and numbered in input order; every chunk
writes its own files; the summary merges chunk figures in chunk order. So the output is the same rows in
the same order whatever ``workers`` is, and a run killed at any point and started again completes the
same output: finished chunks are skipped by their done markers, unfinished ones are redone.
"""

from __future__ import annotations

import json
import os
import pickle
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow as pa

from gristmill import __version__
from gristmill.catalog.core import default_root
from gristmill.engine.custom_ops import pack as pack_custom_ops
from gristmill.engine.dedup_state import save_stage_state
from gristmill.engine.forked import can_fork, import_pandas, worker_result
from gristmill.engine.layout import SIG_COLUMN, Layout
from gristmill.engine.output_folder import Claim, claim_output
from gristmill.engine.stages import Stage, plan_stages
from gristmill.engine.summary import build_summary
from gristmill.engine.unify import unify_parts
from gristmill.engine.word_table import merge as merge_word_table
from gristmill.engine.worker import ChunkTask, WorkerConfig, init_pool_worker, process_chunk
from gristmill.errors import GristmillError, UsageError
from gristmill.io.inputs import InputFile, resolve_inputs
from gristmill.io.parquet import read_parquet
from gristmill.io.readers import iter_chunks
from gristmill.io.writers import atomic_write, clean_temporaries, write_json
from gristmill.ops.base import SignatureSource
from gristmill.recipe.compile import CompiledRecipe, require_paths


def _worker_context() -> Any:
    """How worker processes start. Forking this already-imported process costs milliseconds where a fresh
    interpreter importing pyarrow and the operator library costs about half a CPU-second per worker; but
    forking is only safe while no other Python thread runs (:func:`~gristmill.engine.forked.can_fork`), so
    otherwise a fork server, which imports once, preloaded, and forks workers from itself."""
    if can_fork():
        import_pandas()
        return get_context("fork")
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["gristmill.engine.worker", "gristmill.ops.builtin", "pandas"])
    return ctx


@dataclass
class RunOptions:
    workers: int | None = None
    strict: bool = False
    overwrite: bool = False
    progress: bool = True
    fault: str | None = None  # test hook, see worker._maybe_fault
    # Asked when the output folder holds a finished run of another recipe or input: whether that run may be
    # replaced without --overwrite, and why or why not (the refusal says it). ``--into`` passes the catalog's
    # answer: a run it holds a copy of (Catalog.holds_run) loses nothing when replaced.
    replaceable: Callable[[Path], tuple[bool, str]] | None = None


@dataclass
class RunResult:
    summary: dict[str, Any]
    output: Path
    resumed: bool = False
    extra: dict = field(default_factory=dict)


ProgressFn = Callable[[str, int, int], None]


class LocalExecutor:
    def __init__(self, recipe: CompiledRecipe, options: RunOptions | None = None) -> None:
        self.recipe = recipe
        self.options = options or RunOptions()
        input_path, output = require_paths(recipe)
        self.input_path = input_path
        self.layout = Layout(output, recipe.spec.output.format)
        self.workers = max(1, self.options.workers or os.cpu_count() or 1)
        self.stages = plan_stages(recipe)
        self.claim: Claim | None = None
        self.replaced: str | None = None  # why a finished run in the folder was replaced (options.replaceable)
        self.first_chunk = 0  # an incremental run numbers its chunks after its parent's
        self.chunk_rows = recipe.spec.engine.chunk_rows  # an incremental run may cut a small delta finer
        self.run_key_extra: dict[str, Any] | None = None  # what else identifies the run (a parent version)
        self.known_fingerprints: dict[str, str] = {}  # path -> fingerprint already computed by the caller

    # -- run identity -------------------------------------------------------------------------------------
    def _run_key(self, files: list[dict]) -> str:
        blob = json.dumps(
            {
                **({"extra": self.run_key_extra} if self.run_key_extra else {}),  # e.g. the parent version
                "recipe": self.recipe.content_hash(),
                "inputs": [(f["relpath"], f["fingerprint"]) for f in files],
                "engine": self.recipe.spec.engine.model_dump(),
                "output_format": self.recipe.spec.output.format,
                "dropped": [self.recipe.spec.output.write_dropped, self.recipe.spec.output.dropped_samples],
                **({} if self.recipe.spec.output.provenance else {"provenance": False}),
            },
            sort_keys=True,
        )
        import hashlib

        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _prepare(self, files: list[InputFile]) -> tuple[list[dict], bool]:
        """Claim the output folder; return input descriptions (with fingerprints) and whether we resume."""
        out = self.layout.out
        if self.layout.is_legacy() and not self.options.overwrite:
            raise UsageError(
                f"output folder {out} holds a run in the layout of an older gristmill, which is not resumed; "
                "pass --overwrite to redo it (only the files gristmill wrote there are removed)"
            )
        self.claim = claim_output(self.layout, kind="run", input_files=[f.path for f in files], overwrite=self.options.overwrite)
        previous = None
        if self.layout.run_file.exists():
            previous = json.loads(self.layout.run_file.read_text())
        cached = {}
        if previous:
            cached = {(f["path"], f["size"], f["mtime_ns"]): f["fingerprint"] for f in previous["inputs"]}
        described = []
        for f in files:
            st = os.stat(f.path)
            fp = cached.get((f.path, f.size, st.st_mtime_ns)) or self.known_fingerprints.get(f.path) or f.fingerprint()
            described.append({**f.to_dict(), "mtime_ns": st.st_mtime_ns, "fingerprint": fp})
        key = self._run_key(described)
        replaced, kept_because = None, ""
        if previous and previous["run_key"] != key and self.options.replaceable is not None:
            may, why = self.options.replaceable(out)
            if may:  # not asked to overwrite: what `prepare` left there (its recipe) stays
                self.claim.clear(keep=(self.layout.prepare_dir,))
                previous, replaced = None, why
            else:
                kept_because = f"; it is not replaced as the next version's folder: {why}"
        self.replaced = replaced
        if previous and previous["run_key"] != key:
            raise UsageError(
                f"output folder {out} holds a run of a different recipe or input (run {previous['run_key'][:12]}, "
                f"this is {key[:12]}){kept_because}; choose another folder, or pass --overwrite to replace that run "
                "(only the files gristmill wrote there are removed)"
            )
        resumed = previous is not None
        if resumed:  # cut the input as the run being resumed did, whatever decided its chunk size
            self.chunk_rows = previous.get("chunk_rows", self.chunk_rows)
        else:
            self.layout.state.mkdir(parents=True, exist_ok=True)
            write_json(
                self.layout.run_file,
                {"run_key": key, "recipe_hash": self.recipe.content_hash(), "gristmill_version": __version__,
                 "inputs": described, "started": time.time(), "chunk_rows": self.chunk_rows},
            )
        self.run_key = key
        return described, resumed

    # -- execution ----------------------------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None) -> RunResult:
        t_start = time.perf_counter()
        self.skipped_outputs: list[str] = []
        files = self._input_files()
        try:
            described, resumed = self._prepare(files)
            result = self._run(files, described, resumed, t_start, progress)
        finally:
            if self.claim is not None:
                self.claim.release()
        result.extra.update(skipped_outputs=self.skipped_outputs, left_alone=self.claim.left_alone,
                            replaced=self.replaced)
        return result

    def _input_files(self) -> list[InputFile]:
        return resolve_inputs(self.input_path, self.recipe.spec.input.format, self.recipe.base_dir,
                              skipped=self.skipped_outputs)

    def _run(self, files: list[InputFile], described: list[dict], resumed: bool, t_start: float,
             progress: ProgressFn | None) -> RunResult:
        if self.layout.summary.exists() and resumed:
            summary = json.loads(self.layout.summary.read_text())
            return RunResult(summary, self.layout.out, resumed=True, extra={"already_complete": True})
        clean_temporaries(self.layout.out)
        warm_words = self._before_workers()
        cfg = WorkerConfig(
            recipe_raw=self.recipe.raw,
            recipe_source=self.recipe.source,
            input_path=self.input_path,
            output=str(self.layout.out),
            fault=self.options.fault,
            custom_ops=pack_custom_ops(self.recipe),
            catalog_root=default_root(),
            warm_words=warm_words,
            run_id=uuid.uuid4().hex,
        )
        decide_seconds: dict[str, float] = {}
        pool = self._make_pool(cfg)
        try:
            chunk_ids: list[int] | None = None
            for stage in self.stages:
                done_file = self.layout.stage_complete(stage.index)
                if done_file.exists():
                    info = json.loads(done_file.read_text())
                    chunk_ids = info["chunks"]
                    decide_seconds.update(info.get("decide_seconds", {}))
                    self._stage_resumed(stage)
                    continue
                tasks = self._stage0_tasks(files) if stage.index == 0 else self._later_tasks(stage, chunk_ids or [])
                chunk_ids = self._run_stage(stage, tasks, cfg, pool, progress)
                info: dict[str, Any] = {"chunks": chunk_ids}
                if stage.signs is not None:
                    t0 = time.perf_counter()
                    decision = self._decide(stage, chunk_ids)
                    save_stage_state(self.layout, stage, chunk_ids, decision, self.recipe.spec.input.text_field)
                    decide_seconds[stage.signs.name] = time.perf_counter() - t0
                    info["decide_seconds"] = {stage.signs.name: decide_seconds[stage.signs.name]}
                if self.options.fault == f"{stage.index}:complete":
                    os.kill(os.getpid(), 9)
                write_json(done_file, info)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        summary = self._finish(chunk_ids or [], described, decide_seconds, time.perf_counter() - t_start, resumed)
        return RunResult(summary, self.layout.out, resumed=resumed)

    def _before_workers(self) -> str | None:
        """Called before the worker processes start (a hook: an incremental run warms the word caches that
        forked workers inherit, and returns the key of what it loaded for ``WorkerConfig.warm_words``)."""
        return None

    def _make_pool(self, cfg: WorkerConfig) -> Any:
        """A pool with ``submit(fn, *args) -> Future`` and ``shutdown``; None runs chunks in this process."""
        if self.workers == 1:
            return None
        return ProcessPoolExecutor(self.workers, mp_context=_worker_context(), initializer=init_pool_worker,
                                   initargs=(cfg,))

    def _stage0_tasks(self, files: list[InputFile]) -> Iterator[ChunkTask]:
        eng = self.recipe.spec.engine
        cid = self.first_chunk
        for i, f in enumerate(files):
            for raw in iter_chunks(i, f, self.chunk_rows, eng.chunk_bytes, self.recipe.spec.input.csv_delimiter):
                yield ChunkTask(stage=0, chunk=cid, raw=raw, file=f)
                cid += 1

    def _later_tasks(self, stage: Stage, chunk_ids: list[int]) -> Iterator[ChunkTask]:
        for cid in chunk_ids:
            yield ChunkTask(stage=stage.index, chunk=cid)

    def _run_stage(
        self, stage: Stage, tasks: Iterator[ChunkTask], cfg: WorkerConfig, pool: Any,
        progress: ProgressFn | None,
    ) -> list[int]:
        ids: list[int] = []
        inflight: deque[Future] = deque()
        docs = 0
        label = self._stage_label(stage)

        def finished(stats: dict[str, Any]) -> None:
            nonlocal docs
            docs += stats.get("records", stats.get("rows_in", 0))
            if self.options.strict and stats.get("first_reject"):
                r = stats["first_reject"]
                raise GristmillError(
                    f"--strict: rejected {r['source']} {r['unit']} {r['location']}: {r['reason']}"
                )
            if progress:
                progress(label, docs, stats.get("bytes", 0))

        for task in tasks:
            ids.append(task.chunk)
            marker = self.layout.marker(task.stage, task.chunk)
            if marker.exists():
                finished(json.loads(marker.read_text()))
                continue
            if pool is None:
                finished(process_chunk(cfg, task))
                continue
            inflight.append(pool.submit(process_chunk, cfg, task))
            while len(inflight) >= 2 * self.workers:
                finished(worker_result(inflight.popleft()))
        while inflight:
            finished(worker_result(inflight.popleft()))
        return ids

    def _stage_label(self, stage: Stage) -> str:
        names = [s.name for s in stage.steps]
        if stage.applies is not None:
            names.insert(0, f"{stage.applies.name} (apply)")
        if stage.signs is not None:
            names.append(f"{stage.signs.name} (signatures)")
        return f"stage {stage.index + 1}/{len(self.stages)}: " + (", ".join(names) or "read and write")

    def _stage_resumed(self, stage: Stage) -> None:
        """Called for a stage that a killed run had finished (a hook for runs that follow a parent)."""

    def _signatures(self, stage: Stage, chunk_ids: list[int]) -> tuple[list[int], Callable[[int], pa.Array]]:
        """The chunks of ``stage`` that wrote signatures, and how to load one chunk's."""
        present = [c for c in chunk_ids if self.layout.intermediate(stage.index, c).exists()]

        def load(cid: int) -> pa.Array:
            path = self.layout.intermediate(stage.index, cid)
            return read_parquet(path, columns=[SIG_COLUMN]).column(SIG_COLUMN).combine_chunks()

        return present, load

    def _decide(self, stage: Stage, chunk_ids: list[int]) -> Any:
        assert stage.signs is not None
        decision = stage.signs.op.decide(SignatureSource(*self._signatures(stage, chunk_ids)))
        if self.options.fault == f"{stage.index}:decide":
            os.kill(os.getpid(), 9)
        atomic_write(self.layout.decision(stage.index), lambda f: pickle.dump(decision, f, protocol=5))
        return decision

    def _amend_summary(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary about to be written (a hook for runs that follow a parent)."""
        return summary

    def _write_word_table(self) -> None:
        """The run's word table, from the chunks its tasks split (engine/word_table.py)."""
        merge_word_table(self.layout)

    def _finish(self, chunk_ids: list[int], inputs: list[dict], decide_seconds: dict[str, float], wall: float, resumed: bool) -> dict[str, Any]:
        markers = {
            (s.index, c): json.loads(self.layout.marker(s.index, c).read_text())
            for s in self.stages
            for c in chunk_ids
        }
        out_spec = self.recipe.spec.output
        schema_report = unify_parts(self.layout.out, out_spec.compression) if self.layout.fmt == "parquet" else {}
        summary = build_summary(
            recipe=self.recipe,
            stages=self.stages,
            chunk_ids=chunk_ids,
            markers=markers,
            inputs=inputs,
            decide_seconds=decide_seconds,
            wall_seconds=wall,
            workers=self.workers,
            layout=self.layout,
            run_key=self.run_key,
            resumed=resumed,
            schema_report=schema_report,
            skipped_outputs=self.skipped_outputs,
        )
        summary = self._amend_summary(summary)
        self._write_word_table()
        samples = summary.pop("_samples")
        if samples:
            payload = "".join(json.dumps(s, ensure_ascii=False, default=str) + "\n" for s in samples).encode()
            atomic_write(self.layout.samples, lambda f: f.write(payload))
        write_json(self.layout.summary, summary)
        for s in self.stages:
            if not s.final:
                for p in self.layout.stage_dir(s.index).glob("chunk-*.parquet"):
                    p.unlink()
                self.layout.decision(s.index).unlink(missing_ok=True)
        return summary
