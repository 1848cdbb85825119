"""A run that builds on a parent version: new inputs only, decided together with the parent's stored state.

The new input files go through the local executor's stages as in any run, with chunk numbers that follow
the parent's. At each global step the decision is made over the parent's stored signatures (the rows
still reaching it, in input order) followed by the new rows' (:class:`~gristmill.engine.redecide.ParentWalk`),
so "first occurrence wins" means: the parent's rows win over new rows, and new rows among themselves go by
input order, exactly as a full run over the parent's inputs followed by the new ones. The parent's chunks are
then written into the output folder (linked when unchanged), so the folder holds what that full run would
have written, and its summary counts the whole dataset.

With no new input and changed thresholds, the same machinery re-decides the parent from its stored signals.

Writing the parent's chunks needs only the walk's decisions, which are final once the last global step has
decided: with a pool of workers, the chunks to rewrite are handed to the workers then, before the last
stage's own tasks, while the driver writes the dedup state and links the untouched files.
"""

from __future__ import annotations

import json
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gristmill.engine.forked import paused_gc, worker_result
from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.engine.parent_files import link_file
from gristmill.engine.redecide import ParentFiles, ParentWalk
from gristmill.engine.stages import Stage
from gristmill.engine.word_table import WordTable, header_fingerprint, parts_dir
from gristmill.engine.word_table import load as load_word_table
from gristmill.engine.word_table import merge as merge_word_table
from gristmill.engine.word_table import preload as preload_words
from gristmill.engine.worker import ChunkTask, WorkerConfig, context
from gristmill.io.inputs import InputFile
from gristmill.io.writers import atomic_write
from gristmill.recipe.compile import CompiledRecipe


@dataclass
class ParentRun:
    """What an incremental run needs of its parent: its files, identity, chunk numbering and what to report."""

    files: ParentFiles
    commit: str
    next_chunk: int
    rule_steps: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # copied into the summary's "incremental" section
    word_table: str | None = None  # the parent's word table (local path), when its splitter is this one


CHUNKS_PER_WORKER = 2  # a small delta is cut so that every worker gets about this many chunks
MIN_CHUNK_ROWS = 500


def delta_chunk_rows(chunk_rows: int, parent: ParentRun, new_files: list[InputFile], workers: int) -> int:
    """Rows per chunk for the new inputs: the recipe's, or fewer when the delta (estimated from the parent's
    rows per input byte) would otherwise leave workers idle. Each chunk costs a fixed ~0.1 CPU-second (its
    files, markers, per-batch set-up), so one worker takes the delta in as few chunks as the recipe allows.
    The choice is stored with the run (``LocalExecutor._prepare``): a resumed run cuts the same chunks
    whatever its worker count."""
    covered = sum(i.get("bytes", 0) for i in parent.info.get("covered_inputs", [])) - sum(f.size for f in new_files)
    rows = parent.files.counts.get("input", 0)
    if covered <= 0 or rows <= 0 or workers <= 1:
        return chunk_rows
    estimate = rows * sum(f.size for f in new_files) / covered
    return min(chunk_rows, max(MIN_CHUNK_ROWS, -(-int(estimate) // (CHUNKS_PER_WORKER * workers))))


class IncrementalExecutor(LocalExecutor):
    def __init__(self, recipe: CompiledRecipe, options: RunOptions | None, parent: ParentRun,
                 new_files: list[InputFile], fingerprints: dict[str, str] | None = None) -> None:
        super().__init__(recipe, options)
        self.parent = parent
        self.new_files = new_files
        self.first_chunk = parent.next_chunk
        self.chunk_rows = delta_chunk_rows(recipe.spec.engine.chunk_rows, parent, new_files, self.workers)
        self.run_key_extra = {"parent": parent.commit, "rule_steps": parent.rule_steps}
        self.known_fingerprints = fingerprints or {}
        self.walk = ParentWalk(recipe, parent.files, parent.rule_steps, workers=self.workers)
        self.walk_seconds = 0.0
        self.parent_words: WordTable | None = None  # the parent's word table, once loaded
        self.materialized: dict[str, int] | None = None
        self.walk_finished = False

    def _input_files(self) -> list[InputFile]:
        return self.new_files

    def _before_workers(self) -> str | None:
        """Warm this process's word caches with the parent's table: forked workers inherit them, so they split
        only chunks the parent never saw (a cold worker spends about a CPU-second splitting ~10^5 chunks).
        Re-deciding alone reads no input: nothing to warm."""
        if self.parent.word_table is None or not self.new_files:
            return None
        t0 = time.perf_counter()
        with paused_gc():
            self.parent_words = load_word_table(self.parent.word_table)
            key = preload_words(self.parent_words) if self.parent_words is not None else None
        self.walk_seconds += time.perf_counter() - t0
        return key

    def _make_pool(self, cfg: WorkerConfig) -> Any:
        """Re-deciding alone reads no input: no pool (its workers would each set up every operator). The walk
        shares its per-chunk work among children forked from this process instead, which inherit what it has
        read and decided (engine/forked.py)."""
        return super()._make_pool(cfg) if self.new_files else None

    def _decide(self, stage: Stage, chunk_ids: list[int]) -> Any:
        assert stage.signs is not None
        present, load = self._signatures(stage, chunk_ids)
        t0 = time.perf_counter()
        decision = self.walk.global_step(stage.signs, present, load)
        self.walk_seconds += time.perf_counter() - t0
        atomic_write(self.layout.decision(stage.index), lambda f: pickle.dump(decision, f, protocol=5))
        return decision

    def _stage_resumed(self, stage: Stage) -> None:
        """A resumed run replays the parent's walk through a finished stage with the decision it saved."""
        if stage.signs is None:
            return
        with open(self.layout.decision(stage.index), "rb") as f:
            saved = pickle.load(f)
        present, load = self._signatures(stage, self._finished_chunks(stage))
        self.walk.global_step(stage.signs, present, load, decide=lambda _source: saved)

    def _finished_chunks(self, stage: Stage) -> list[int]:
        return json.loads(self.layout.stage_complete(stage.index).read_text())["chunks"]

    def _write_word_table(self) -> None:
        """The parent's table, extended with the chunks this run's tasks split (linked when none)."""
        table = self.parent.word_table
        if self.parent_words is None and table is not None and not any(parts_dir(self.layout).glob("*.txt")):
            if header_fingerprint(table) is not None:  # a damaged table is not handed on
                link_file(table, self.layout.word_table)
            return
        if self.parent_words is None and table is not None:
            self.parent_words = load_word_table(table)
        merge_word_table(self.layout, self.parent_words)

    def _finish_walk(self) -> None:
        if not self.walk_finished:
            self.walk.finish()
            self.walk_finished = True

    def _run_stage(self, stage: Stage, tasks: Iterator[ChunkTask], cfg: WorkerConfig, pool: Any,
                   progress: Callable[[str, int, int], None] | None) -> list[int]:
        """The last stage: every decision is made, so the workers rewrite the parent's changed chunks and
        their dedup state first (in parallel, ahead of the stage's own tasks) while the driver links the rest.
        Only when there are new inputs: re-deciding alone has no pool (:meth:`_make_pool`), and its walk
        writes them at the end, in forked children."""
        if (not stage.final or not self.new_files or not isinstance(pool, ProcessPoolExecutor)
                or self.materialized is not None):
            return super()._run_stage(stage, tasks, cfg, pool, progress)
        t0 = time.perf_counter()
        self._finish_walk()
        jobs = self.walk.chunk_jobs()
        changed = [j for j in jobs if j["changed"] or j["state"]]  # the rest is linked here
        groups = [changed[i::self.workers * 2] for i in range(min(len(changed), self.workers * 2))]
        futures: list[Future] = [pool.submit(rewrite_parent_chunks, cfg, self.parent.files, self.parent.rule_steps, g)
                                 for g in groups]
        stats = Counter(self.walk.materialize_shared(self.layout))
        for job in jobs:
            if not (job["changed"] or job["state"]):
                stats.update(self.walk.materialize_chunk(self.layout, job["chunk"], False))
        self.walk_seconds += time.perf_counter() - t0
        ids = super()._run_stage(stage, tasks, cfg, pool, progress)
        for f in futures:
            stats.update(worker_result(f))
        self.materialized = dict(stats)
        return ids

    def _finish(self, chunk_ids: list[int], inputs: list[dict], decide_seconds: dict[str, float], wall: float,
                resumed: bool) -> dict[str, Any]:
        t0 = time.perf_counter()
        self._finish_walk()
        if self.materialized is None:  # one process, or a resumed run whose last stage was done
            self.materialized = self.walk.materialize(self.layout)
        self.walk_seconds += time.perf_counter() - t0
        self.new_chunks = len(chunk_ids)
        return super()._finish(chunk_ids, inputs, decide_seconds, wall + time.perf_counter() - t0, resumed)

    def _amend_summary(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Count the parent's rows too: the summary describes the whole dataset, as a full run's would."""
        fig = self.walk.figures()
        counts = self.parent.files.counts
        parent_steps = {s["name"]: s for s in fig["steps"]}
        for st in summary["steps"]:
            p = parent_steps.get(st["name"])
            if p is None:
                continue
            st["in"] += p.get("in", 0)
            st["out"] += p.get("out", 0)
            for rule, n in p.get("dropped", {}).items():
                st["dropped"][rule] = st["dropped"].get(rule, 0) + n
        new_input, new_kept = summary["input"], summary["kept"]
        summary["input"] = new_input + counts.get("input", 0)
        summary["kept"] = new_kept + fig["kept"]
        by_step = {st["name"]: dict(st["dropped"]) for st in summary["steps"] if st["dropped"]}
        summary["dropped"] = {"total": sum(sum(d.values()) for d in by_step.values()), "by_step": by_step}
        rejected = dict(summary["rejected"]["by_kind"])
        for kind, n in counts.get("rejected", {}).get("by_kind", {}).items():
            rejected[kind] = rejected.get(kind, 0) + n
        summary["rejected"] = {"total": sum(rejected.values()), "by_kind": dict(sorted(rejected.items()))}
        d, r = summary["dropped"]["total"], summary["rejected"]["total"]
        summary["balance"] = {
            "equation": "input = kept + dropped + rejected",
            "holds": summary["input"] == summary["kept"] + d + r,
            "detail": f"{summary['input']} = {summary['kept']} + {d} + {r}",
        }
        summary["chunks"] = len(self.parent.files.chunks()) + self.new_chunks
        moved = sum(self.walk.moves.values())
        summary["incremental"] = {
            **self.parent.info,
            "new_rows": {"input": new_input, "kept": new_kept},
            "parent_rows_changed": {
                "dropped_now": sum(n for (old, _, _, _), n in self.walk.moves.items() if old == len(self.walk.steps)),
                "kept_now": sum(n for (_, _, new, _), n in self.walk.moves.items() if new == len(self.walk.steps)),
                "moved": moved,
                "signal_values": sum(len(v) for ov in self.walk.overrides.values() for v in ov.values()),
                "measured_again": self.walk.measured,
            },
            "redecided_steps": list(dict.fromkeys(self.walk.redecided)),
            "parent_files": self.materialized,
            "parent_seconds": round(self.walk_seconds, 3),
            # chunks of the parent's word table put in the word caches before the workers started (0: none
            # stored, or stored by another splitter)
            "word_table_chunks": len(self.parent_words.chunks) if self.parent_words is not None else 0,
            "first_chunk": self.first_chunk,
            "next_chunk": self.first_chunk + self.new_chunks,
        }
        return summary


def rewrite_parent_chunks(cfg: WorkerConfig, files: ParentFiles, rule_steps: list[str],
                          jobs: list[dict[str, Any]]) -> dict[str, int]:
    """In a worker: write parent chunks into the run's output folder as the driver's walk decided
    (:meth:`ParentWalk.chunk_jobs`); returns the counts of files written and linked."""
    ctx = context(cfg)
    walk = ParentWalk(ctx["recipe"], files, rule_steps)
    stats: Counter[str] = Counter()
    for job in jobs:
        walk.adopt(job)
        stats.update(walk.materialize_chunk(ctx["layout"], job["chunk"], job["changed"]))
    return dict(stats)
