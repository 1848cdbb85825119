"""Re-decide a parent version's rows from what it stored, step by step, without measuring anything again.

The parent's rows are never re-read as text. Each row has an *exit* in the parent: the step (and rule) that
dropped it, or "kept". The walk goes through the recipe's steps in order and keeps, per chunk, only what
differs from the parent:

* a per-document step whose keep rules changed (or whose rules read a signal whose values changed) has its
  rules evaluated again on the stored signals of the rows that still reach it: the kept rows' signal
  columns and the dropped table's;
* a global step (dedup) decides again over the stored signatures of the rows that still reach it, followed
  by the signatures of new rows when an incremental run adds inputs (``extra``); the outcome is compared
  with the stored one, row by row.

A row can only leave earlier than it did (a tighter rule, a new duplicate that comes first) or keep its
exit with other signal values (a near-duplicate cluster that grew). A row that the new decisions would keep
longer than the parent did needs what was never measured or stored for it (its text, the signals of later
steps): the walk raises :class:`NotRedecidable` naming how many and where, and the caller runs in full.

At the end, :meth:`ParentWalk.materialize` writes the parent's chunks into a run's output folder: untouched
files are hard-linked (copied across file systems), changed ones rewritten with the rows removed and the
signal values updated. The result is what a full run would have written for those chunks.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.batch import Batch
from gristmill.engine.dedup_state import KEEP, SIGNATURE, outcome, state_table
from gristmill.engine.layout import Layout
from gristmill.engine.stages import plan_stages
from gristmill.engine.worker import _Env
from gristmill.errors import GristmillError
from gristmill.io.writers import TMP_SUFFIX, write_parquet, write_table
from gristmill.ops.base import SignatureSource
from gristmill.recipe.compile import CompiledRecipe, CompiledStep

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

    def add(self, kind: str, path: str, step: str | None = None) -> None:
        """File one local path by its name (``part-N.parquet``, ``sK-part-N.pq``, ``chunk-N.pq``)."""
        name = os.path.basename(path)
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


def _link(src: str, dst: Path) -> None:
    """Put ``src`` at ``dst`` whole: a hard link when the file systems allow, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.link{TMP_SUFFIX}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file (without the dataset layer: these are many small files)."""
    return pq.ParquetFile(path).read(columns=columns)


def _absent(ids: Iterable[Any], gone: dict[str, Any]) -> np.ndarray:
    return np.fromiter((i not in gone for i in ids), dtype=bool)


def _same(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Element-wise equality where null equals null and NaN equals NaN."""
    a, b = pc.cast(a, b.type) if a.type != b.type else a, b
    eq = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    same = pc.or_(eq, both_null)
    if pa.types.is_floating(a.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)


class ParentWalk:
    """Walks a parent's rows through ``recipe`` (which measures exactly as the parent's did)."""

    def __init__(self, recipe: CompiledRecipe, parent: ParentFiles, rule_steps: Iterable[str] = ()) -> None:
        self.recipe = recipe
        self.parent = parent
        self.steps = recipe.steps
        self.index = {s.name: i for i, s in enumerate(self.steps)}
        self.rule_steps = set(rule_steps)
        self.tf = recipe.spec.input.text_field
        self.signal_cols = [c for s in self.steps for c in s.signal_columns]
        self.signal_step = {c: i for i, s in enumerate(self.steps) for c in s.signal_columns}
        self.drop_stage: dict[int, int] = {}
        for stage in plan_stages(recipe):
            if stage.applies is not None:
                self.drop_stage[self.index[stage.applies.name]] = stage.index
            for st in stage.steps:
                self.drop_stage[self.index[st.name]] = stage.index
        self.pos = 0
        self.removed: dict[int, dict[str, tuple[int, str]]] = defaultdict(dict)  # chunk -> id -> new exit
        self.overrides: dict[int, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
        self.dirty: set[str] = set()
        self.new_state: dict[tuple[str, int], pa.Table | None] = {}
        self.moves: Counter[tuple[int, str | None, int, str]] = Counter()
        self.redecided: list[str] = []
        self._ledgers: dict[int, Ledger] = {}
        self._cache: dict[str, pa.Table] = {}
        self._full: dict[str, pa.Table] = {}

    # -- the parent's rows --------------------------------------------------------------------------------
    def ledger(self, chunk: int) -> Ledger:
        if chunk in self._ledgers:
            return self._ledgers[chunk]
        ids: list[pa.Array] = []
        exits: list[np.ndarray] = []
        rules: list[np.ndarray] = []
        segments = []
        start = 0
        if chunk in self.parent.data:
            path = self.parent.data[chunk]
            col = _read_parquet(path, ["id"]).column("id").combine_chunks()
            ids.append(col)
            exits.append(np.full(len(col), len(self.steps)))
            rules.append(np.full(len(col), None, dtype=object))
            segments.append((path, start, start + len(col)))
            start += len(col)
        for (_, c), path in sorted(self.parent.dropped.items()):
            if c != chunk:
                continue
            t = _read_parquet(path, ["id", "step", "rule"])
            unknown = set(t.column("step").to_pylist()) - set(self.index)
            if unknown:
                raise NotRedecidable(f"{self.parent.ref}: dropped rows name steps {sorted(unknown)} that this recipe lacks")
            ids.append(t.column("id").combine_chunks())
            exits.append(np.array([self.index[s] for s in t.column("step").to_pylist()], dtype=np.int64))
            rules.append(np.array(t.column("rule").to_pylist(), dtype=object))
            segments.append((path, start, start + t.num_rows))
            start += t.num_rows
        id_list = [v for a in ids for v in a.to_pylist()]
        where = {v: i for i, v in enumerate(id_list)}
        if len(where) != len(id_list):
            dup = next(v for v, n in Counter(id_list).items() if n > 1)
            raise NotRedecidable(f"{self.parent.ref}: id {dup!r} appears twice in chunk {chunk}: rows cannot be "
                                 "told apart without measuring again")
        led = Ledger(np.array(id_list, dtype=object), where,
                     np.concatenate(exits) if exits else np.zeros(0, np.int64),
                     np.concatenate(rules) if rules else np.zeros(0, object), segments)
        self._ledgers[chunk] = led
        return led

    def _read(self, path: str, columns: list[str]) -> pa.Table:
        """Columns of a parent file, cached per file (only the columns asked for so far are read)."""
        have = self._cache.get(path)
        names = pq.read_schema(path).names
        want = [c for c in columns if c in names and (have is None or c not in have.column_names)]
        if want:
            more = _read_parquet(path, want)
            if have is None:
                have = more
            else:
                for name in want:
                    have = have.append_column(name, more.column(name))
            self._cache[path] = have
        return have if have is not None else pa.table({})

    def _values(self, chunk: int, rows: np.ndarray, columns: list[str], why: str) -> pa.Table:
        """The stored values of ``columns`` for the ledger rows ``rows`` (ascending), overrides applied."""
        led = self.ledger(chunk)
        parts = []
        for path, start, stop in led.segments:
            local = rows[(rows >= start) & (rows < stop)] - start
            if not len(local):
                continue
            t = self._read(path, columns)
            missing = [c for c in columns if c not in t.column_names]
            if missing:
                kept = path == self.parent.data.get(chunk)
                hint = ("it keeps no signal columns (output.keep_signals: false)" if kept
                        else "its dropped rows carry only ids and signals (output.write_dropped: false)")
                raise NotRedecidable(f"{why} needs {missing} for {len(local)} row(s) of chunk {chunk}, which "
                                     f"{self.parent.ref} did not store: {hint}")
            parts.append(t.select(columns).take(pa.array(local)))
        table = pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({c: [] for c in columns})
        ov = self.overrides.get(chunk, {})
        for col in columns:
            if col in ov and ov[col]:
                ids = led.ids[rows]
                values = table.column(col).to_pylist()
                for j, i in enumerate(ids):
                    if i in ov[col]:
                        values[j] = ov[col][i]
                idx = table.schema.get_field_index(col)
                table = table.set_column(idx, col, pa.array(values, table.schema.field(col).type))
        return table

    # -- the walk -------------------------------------------------------------------------------------------
    def advance_to(self, step_index: int) -> None:
        """Re-decide the per-document steps before ``step_index``."""
        while self.pos < step_index:
            step = self.steps[self.pos]
            if not step.is_global:
                self._per_doc(self.pos, step)
            self.pos += 1

    def _per_doc(self, i: int, step: CompiledStep) -> None:
        if not step.rules:
            return
        reads = sorted(set().union(*(r.signals for r in step.rules)))
        fields = sorted(set().union(*(r.fields for r in step.rules)))
        if step.name not in self.rule_steps and not (set(reads) & self.dirty):
            return
        self.redecided.append(step.name)
        resurrected: Counter[str] = Counter()
        for c in self.parent.chunks():
            led = self.ledger(c)
            reach = led.exit >= i
            gone = self.removed.get(c)
            if gone:
                reach &= _absent(led.ids, gone)
            rows = np.flatnonzero(reach)
            if not len(rows):
                continue
            table = self._values(c, rows, reads + fields, f"re-deciding step {step.name!r}")
            env = _Env(Batch(table, self.tf))
            n = len(rows)
            keep = np.ones(n, bool)
            fail = np.full(n, -1)
            for k, rule in enumerate(step.rules):
                ok = rule.keep_mask(env, n)
                fail[keep & ~ok] = k
                keep &= ok
            was_here = led.exit[rows] == i
            for j in np.flatnonzero(was_here & keep):
                resurrected[str(led.rule[rows[j]])] += 1
            for j in np.flatnonzero(~keep):
                r = rows[j]
                rule_name = step.rules[fail[j]].name
                if was_here[j] and led.rule[r] == rule_name:
                    continue
                self._move(c, led, r, i, rule_name)
        if resurrected:
            total = sum(resurrected.values())
            raise NotRedecidable(
                f"the new rules of step {step.name!r} keep {total} row(s) that {self.parent.ref} dropped there "
                f"(rules {dict(resurrected)}); their text and the signals of later steps were never stored")

    def _move(self, chunk: int, led: Ledger, row: int, exit_step: int, rule: str) -> None:
        self.removed[chunk][led.ids[row]] = (exit_step, rule)
        self.moves[(int(led.exit[row]), led.rule[row], exit_step, rule)] += 1

    def global_step(self, step: CompiledStep, extra: list[int] | None = None,
                    extra_loader: Callable[[int], pa.Array] | None = None,
                    decide: Callable[[SignatureSource], Any] | None = None) -> Any:
        """Decide ``step`` over the parent rows still reaching it, then the ``extra`` chunks (new rows).

        Returns the decision (covering both), or None when nothing could differ from the parent's and no
        extra chunk asked for one. ``decide`` replaces ``step.op.decide`` (a resumed run reloads its own).
        """
        gi = self.index[step.name]
        self.advance_to(gi)
        extra = extra or []
        alive: dict[int, tuple[pa.Table, np.ndarray]] = {}
        touched = False
        for (name, c), path in sorted(self.parent.state.items(), key=lambda kv: kv[0][1]):
            if name != step.name:
                continue
            t = _read_parquet(path)
            mask = np.ones(t.num_rows, bool)
            gone = self.removed.get(c)
            if gone:
                mask = _absent(t.column("id").to_pylist(), gone)
                touched |= not mask.all()
            alive[c] = (t, mask)
        self.pos = gi + 1
        if not extra and not touched:
            return None
        self.redecided.append(step.name)
        subs = {c: t.filter(pa.array(mask)) for c, (t, mask) in alive.items()}
        parent_ids = [c for c in sorted(subs) if subs[c].num_rows]

        def load(cid: int) -> pa.Array:
            if cid in subs:
                return subs[cid].column(SIGNATURE).combine_chunks()
            assert extra_loader is not None
            return extra_loader(cid)

        source = SignatureSource(parent_ids + list(extra), load)
        decision = decide(source) if decide is not None else step.op.decide(source)
        resurrected = 0
        for c, sub in subs.items():
            changed = sub.num_rows != alive[c][0].num_rows
            if not sub.num_rows:
                self.new_state[(step.name, c)] = None
                continue
            ids = sub.column("id").combine_chunks()
            keep_new, sig_new = outcome(step, decision, c, ids, self.tf)
            keep_old = np.asarray(sub.column(KEEP).to_numpy(zero_copy_only=False), dtype=bool)
            resurrected += int((keep_new & ~keep_old).sum())
            retracted = np.flatnonzero(keep_old & ~keep_new)
            id_list = ids.to_pylist()
            if len(retracted):
                led = self.ledger(c)
                for j in retracted:
                    r = led.where.get(id_list[j])
                    if r is None:
                        raise NotRedecidable(f"row {id_list[j]!r} of {self.parent.ref} reached step {step.name!r} "
                                             "and was rejected by a later step; its path cannot be re-decided")
                    self._move(c, led, r, gi, step.op.drop_rule)
                changed = True
            for col, values in sig_new.items():
                if col not in sub.column_names:
                    continue
                diff = np.flatnonzero(~_same(sub.column(col).combine_chunks(), values))
                if len(diff):
                    changed = True
                    self.dirty.add(col)
                    py = values.to_pylist()
                    for j in diff:
                        self.overrides[c][col][id_list[j]] = py[j]
            if changed:
                self.new_state[(step.name, c)] = state_table(ids, keep_new, sig_new, sub.column(SIGNATURE).combine_chunks())
        if resurrected:
            raise NotRedecidable(
                f"step {step.name!r} would now keep {resurrected} row(s) of {self.parent.ref} that it dropped as "
                f"{step.op.drop_rule}s (their cluster lost the row it kept); their text and later signals were "
                "never stored")
        return decision

    def finish(self) -> None:
        """Re-decide the steps after the last global one."""
        self.advance_to(len(self.steps))

    # -- writing ----------------------------------------------------------------------------------------------
    def changed_chunks(self) -> set[int]:
        return {c for c, v in self.removed.items() if v} | {c for c, v in self.overrides.items() if any(v.values())}

    def materialize(self, layout: Layout) -> dict[str, int]:
        """Write every parent chunk into ``layout`` as a full run of the recipe would have; returns counts."""
        out = self.recipe.spec.output
        changed = self.changed_chunks()
        stats = {"chunks": len(self.parent.chunks()), "chunks_rewritten": 0, "files_linked": 0, "files_written": 0}
        for (stage, c), path in sorted(self.parent.rejected.items()):
            _link(path, layout.rejected(stage, c))
            stats["files_linked"] += 1
        for c in self.parent.chunks():
            path = self.parent.data.get(c)
            if c in changed:
                self._full = {}  # whole parent files of this chunk, read once
                stats["chunks_rewritten"] += 1
                table = self._rewrite_kept(c, path) if path else None
                if table is not None and table.num_rows:
                    write_table(layout.kept(c), table, "parquet", out.compression)
                    stats["files_written"] += 1
                elif table is None and path:
                    _link(path, layout.kept(c))
                    stats["files_linked"] += 1
                for stage, table in self._rewrite_dropped(c).items():
                    if table.num_rows:
                        write_parquet(layout.dropped(stage, c), table)
                        stats["files_written"] += 1
                self._full = {}
            else:
                if path:
                    _link(path, layout.kept(c))
                    stats["files_linked"] += 1
                for (stage, cc), path in self.parent.dropped.items():
                    if cc == c:
                        _link(path, layout.dropped(stage, c))
                        stats["files_linked"] += 1
        for (name, c), path in sorted(self.parent.state.items()):
            if (name, c) in self.new_state:
                table = self.new_state[(name, c)]
                if table is not None and table.num_rows:
                    write_parquet(layout.dedup_state(name, c), table)
                    stats["files_written"] += 1
            else:
                _link(path, layout.dedup_state(name, c))
                stats["files_linked"] += 1
        return stats

    def _whole(self, path: str) -> pa.Table:
        if path not in self._full:
            self._full[path] = _read_parquet(path)
        return self._full[path]

    def _apply_overrides(self, chunk: int, table: pa.Table) -> pa.Table:
        ov = self.overrides.get(chunk, {})
        if not table.num_rows or not ov:
            return table
        ids = table.column("id").to_pylist()
        for col, by_id in ov.items():
            if col not in table.column_names or not by_id:
                continue
            values = table.column(col).to_pylist()
            hit = False
            for j, i in enumerate(ids):
                if i in by_id:
                    values[j] = by_id[i]
                    hit = True
            if hit:
                idx = table.schema.get_field_index(col)
                table = table.set_column(idx, col, pa.array(values, table.schema.field(col).type))
        return table

    def _rewrite_kept(self, chunk: int, path: str) -> pa.Table | None:
        """The chunk's kept rows without the removed ones and with new signal values; None when unchanged."""
        gone = self.removed.get(chunk, {})
        ov = self.overrides.get(chunk, {})
        table = self._whole(path)
        ids = table.column("id").to_pylist()
        if not any(i in gone for i in ids) and not any(i in by_id for by_id in ov.values() for i in ids):
            return None
        if gone:
            table = table.filter(pa.array([i not in gone for i in ids]))
        return self._apply_overrides(chunk, table)

    def _rewrite_dropped(self, chunk: int) -> dict[int, pa.Table]:
        """The chunk's dropped rows per stage: the parent's, less the moved rows, plus the moved rows at their
        new step, each with the signals it had when it was dropped."""
        led = self.ledger(chunk)
        gone = self.removed.get(chunk, {})
        per_stage: dict[int, list[pa.Table]] = defaultdict(list)
        for (stage, c), path in sorted(self.parent.dropped.items()):
            if c != chunk:
                continue
            t = self._whole(path)
            if gone:
                t = t.filter(pa.array([i not in gone for i in t.column("id").to_pylist()]))
            per_stage[stage].append(t)
        by_source: dict[tuple[str, int], list[tuple[int, str, int]]] = defaultdict(list)
        for i, (exit_step, rule) in gone.items():
            r = led.where[i]
            for path, start, stop in led.segments:
                if start <= r < stop:
                    by_source[(path, exit_step)].append((r - start, rule, r))
                    break
        for (path, exit_step), rows in sorted(by_source.items()):
            src = self._whole(path).take(pa.array([r[0] for r in rows]))
            per_stage[self.drop_stage[exit_step]].append(self._drop_rows(src, exit_step, [r[1] for r in rows]))
        return {stage: self._apply_overrides(chunk, pa.concat_tables(ts, promote_options="permissive"))
                for stage, ts in per_stage.items()}

    def _drop_rows(self, src: pa.Table, exit_step: int, rules: list[str]) -> pa.Table:
        """Dropped-table rows for ``src`` at ``exit_step``, with the columns the worker would have written."""
        n = src.num_rows
        cols: dict[str, Any] = {"id": src.column("id"), "step": pa.array([self.steps[exit_step].name] * n),
                                "rule": pa.array(rules, pa.string())}
        for c in self.signal_cols:
            if c in src.column_names and self.signal_step[c] <= exit_step:
                cols[c] = src.column(c)
        if self.recipe.spec.output.write_dropped:
            for c in src.column_names:
                if c not in self.signal_step and c not in ("step", "rule"):
                    cols.setdefault(c, src.column(c))
        return pa.table(cols)

    # -- figures -------------------------------------------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        """The parent's per-step figures and counts after the moves: what a full run would report for them."""
        steps = [{**s, "dropped": dict(s.get("dropped", {}))} for s in self.parent.steps]
        by_name = {s["name"]: s for s in steps}
        kept = self.parent.counts.get("kept", 0)
        for (old, old_rule, new, new_rule), n in self.moves.items():
            for j in range(new, min(old, len(self.steps) - 1) + 1):
                s = by_name[self.steps[j].name]
                if j > new:
                    s["in"] -= n
                if j < old:
                    s["out"] -= n
            if old < len(self.steps):
                d = by_name[self.steps[old].name]["dropped"]
                d[old_rule] -= n
                if not d[old_rule]:
                    del d[old_rule]
            else:
                kept -= n
            d = by_name[self.steps[new].name]["dropped"]
            d[new_rule] = d.get(new_rule, 0) + n
        return {"steps": steps, "kept": kept}
