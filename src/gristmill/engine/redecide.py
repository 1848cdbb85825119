"""Re-decide a parent version's rows from what it stored, step by step, measuring again only what it must.

Each parent row has an *exit*: the step (and rule) that dropped it, or "kept". The walk goes through the
recipe's steps in order and keeps, per chunk, only what differs from the parent:

* a per-document step whose keep rules changed (or whose rules read a signal whose values changed) has its
  rules evaluated again on the stored signals of the rows that still reach it: the kept rows' signal
  columns and the dropped table's;
* a global step (dedup) decides again over the stored signatures of the rows that still reach it, followed
  by the signatures of new rows when an incremental run adds inputs (``extra``); the outcome is compared
  with the stored one, row by row.

Most rows leave earlier than they did (a tighter rule, a new duplicate that comes first) or keep their exit
with other signal values (a near-duplicate cluster that grew). A duplicate whose kept copy is now dropped
comes back in its place: dedup steps store the whole row of what they drop, so the walk takes it from there
and runs it alone through the steps after its dedup step (:class:`Revived`). A row a filter dropped that a
looser rule would now pass has neither text nor later signals stored: the walk raises
:class:`NotRedecidable` saying how many and where, and the caller runs in full.

At the end, :meth:`ParentWalk.materialize` writes the parent's chunks into a run's output folder: untouched
files are hard-linked (copied across file systems), changed ones rewritten. The result is what a full run
would have written for those chunks.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.batch import Batch
from gristmill.engine.dedup_state import KEEP, SIGNATURE, outcome, state_table, write_state
from gristmill.engine.forked import can_fork, groups_of, map_forked
from gristmill.engine.layout import Layout
from gristmill.engine.parent_files import (
    Ledger,
    NotRedecidable,
    ParentFiles,
    link_file,
    load_ledger,
)
from gristmill.engine.stages import plan_stages
from gristmill.engine.worker import _Env
from gristmill.io.parquet import read_parquet
from gristmill.io.writers import write_parquet, write_table
from gristmill.ops.base import SignatureSource
from gristmill.recipe.compile import CompiledRecipe, CompiledStep


@dataclass
class Revived:
    """Rows of one chunk that the parent dropped at a global step and the new decisions keep: their stored
    content (a duplicate keeps its whole row), the signals measured since, and their place in input order."""

    table: pa.Table
    keys: np.ndarray  # position in the chunk's rows at the first global step
    since: list[tuple[int, str]]  # the parent's exit (step, rule) of each row

    def append(self, table: pa.Table, keys: np.ndarray, since: list[tuple[int, str]]) -> None:
        merged = pa.concat_tables([self.table, table], promote_options="permissive") if self.table.num_rows else table
        all_keys = np.concatenate([self.keys, keys])
        order = np.argsort(all_keys, kind="stable")
        self.table = merged.take(pa.array(order))
        self.keys = all_keys[order]
        both = self.since + since
        self.since = [both[i] for i in order]

    def keep(self, mask: np.ndarray) -> None:
        self.table = self.table.filter(pa.array(mask))
        self.keys = self.keys[mask]
        self.since = [s for s, k in zip(self.since, mask) if k]


def _absent(ids: Iterable[Any], gone: dict[str, Any]) -> np.ndarray:
    return np.fromiter((i not in gone for i in ids), dtype=bool)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, name, values) if i >= 0 else table.append_column(name, values)


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

    def __init__(self, recipe: CompiledRecipe, parent: ParentFiles, rule_steps: Iterable[str] = (),
                 workers: int = 1) -> None:
        self.recipe = recipe
        self.workers = workers  # forked children that share the per-chunk work (engine/forked.py)
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
        self._names: dict[str, list[str]] = {}  # column names per parent file
        self._prefetch: list[str] = []  # columns read with the first read of a file (the steps ahead need them)
        self.only: set[int] | None = None  # the chunks this copy of the walk works on (a forked child's share)
        self._full: dict[str, pa.Table] = {}
        self.revived: dict[int, Revived] = {}
        self.undropped: dict[int, set[str]] = defaultdict(set)  # parent-dropped rows that came back
        self.revived_drops: dict[int, list[tuple[int, pa.Table]]] = defaultdict(list)  # (exit step, rows)
        self.measured = 0  # revived rows measured by a step (the only measuring a walk does)
        self._ready: set[str] = set()
        self._orders: dict[int, dict[str, int]] = {}
        stateful = [s for s in self.steps if s.is_global]
        self.first_global = stateful[0].name if stateful else None

    # -- the parent's rows --------------------------------------------------------------------------------
    def ledger(self, chunk: int) -> Ledger:
        if chunk not in self._ledgers:
            self._ledgers[chunk] = load_ledger(self.parent, chunk, self.index, self._read)
        return self._ledgers[chunk]

    def _read(self, path: str, columns: list[str]) -> pa.Table:
        """Columns of a parent file, cached per file (only the columns asked for so far are read, and on the
        first read the ones the steps ahead will ask for). A file read whole for a rewrite serves every column."""
        whole = self._full.get(path)
        if whole is not None:
            return whole
        have = self._cache.get(path)
        file = None
        if path not in self._names:
            file = pq.ParquetFile(path)
            self._names[path] = file.schema_arrow.names
        names = self._names[path]
        if have is None:
            columns = list(dict.fromkeys([*columns, *self._prefetch]))
        have_names = set(have.column_names) if have is not None else set()
        want = [c for c in columns if c in names and c not in have_names]
        if want:
            more = read_parquet(file if file is not None else path, want)
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
            present = set(t.column_names)
            missing = [c for c in columns if c not in present]
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
        """Re-decide the per-document steps before ``step_index``: chunk by chunk, in forked children when
        the walk has workers (no row has been brought back yet: those are measured here)."""
        ahead = [s for s in self.steps[self.pos:step_index] if self._redecides(s)]
        self._prefetch = sorted({c for s in ahead for r in s.rules for c in (*r.signals, *r.fields)})
        if (ahead and self.workers > 1 and can_fork()
                and not any(rv.table.num_rows for rv in self.revived.values())):
            start = self.pos
            shares = map_forked(lambda chunks: self._advance_share(chunks, start, step_index),
                                groups_of(self._chunks(), self.workers), self.workers)
            resurrected: dict[str, Counter[str]] = defaultdict(Counter)
            for removed, moves, found in shares:
                for c, rows in removed.items():
                    self.removed[c].update(rows)
                self.moves.update(moves)
                for name, n in found.items():
                    resurrected[name].update(n)
            self.redecided.extend(s.name for s in ahead)
            self.pos = step_index
            for step in self.steps[start:step_index]:
                if resurrected.get(step.name):
                    raise self._resurrection(step, resurrected[step.name])
            return
        while self.pos < step_index:
            step = self.steps[self.pos]
            if not step.is_global:
                found = self._per_doc(self.pos, step)
                if found:
                    raise self._resurrection(step, found)
                self._revived_step(self.pos, step)
            self.pos += 1

    def _advance_share(self, chunks: list[int], start: int, step_index: int) -> tuple[
            dict[int, dict[str, tuple[int, str]]], Counter, dict[str, Counter[str]]]:
        """The per-document steps from ``start`` to ``step_index`` over ``chunks`` only (a forked child's
        share), on a copy of the walk that shares its caches; returns the rows that leave earlier now, the
        moves, and the rows that a new rule would keep where the parent dropped them (by step)."""
        walk = copy.copy(self)
        walk.only, walk.pos = set(chunks), start
        walk.removed = defaultdict(dict, {c: dict(self.removed[c]) for c in chunks if self.removed.get(c)})
        walk.moves, walk.redecided = Counter(), []
        found: dict[str, Counter[str]] = {}
        for i in range(start, step_index):
            step = self.steps[i]
            if not step.is_global:
                found[step.name] = walk._per_doc(i, step)
        return {c: dict(v) for c, v in walk.removed.items() if v}, walk.moves, found

    def _chunks(self) -> list[int]:
        chunks = self.parent.chunks()
        return chunks if self.only is None else [c for c in chunks if c in self.only]

    def _redecides(self, step: CompiledStep) -> bool:
        """Whether a per-document step's rules must be evaluated again: they changed, or what they read did
        (a signal a global step changed; only global steps change signals, so this holds until the next)."""
        if step.is_global or not step.rules:
            return False
        return step.name in self.rule_steps or bool(set().union(*(r.signals for r in step.rules)) & self.dirty)

    def _resurrection(self, step: CompiledStep, found: Counter[str]) -> NotRedecidable:
        return NotRedecidable(
            f"the new rules of step {step.name!r} keep {sum(found.values())} row(s) that {self.parent.ref} dropped "
            f"there (rules {dict(found)}); their text and the signals of later steps were never stored")

    def _order(self, chunk: int) -> dict[str, int]:
        """id -> position among the chunk's rows at the first global step: input order for every row that
        reached it (all kept rows and all rows any global step saw)."""
        if chunk not in self._orders:
            path = self.parent.state.get((self.first_global, chunk)) if self.first_global else None
            ids = read_parquet(path, ["id"]).column("id").to_pylist() if path else []
            self._orders[chunk] = {v: i for i, v in enumerate(ids)}
        return self._orders[chunk]

    def _revived_step(self, i: int, step: CompiledStep) -> None:
        """Run a per-document step on the revived rows (they never went through it in the parent)."""
        for c, rv in self.revived.items():
            if not rv.table.num_rows:
                continue
            if step.name not in self._ready:
                step.op.setup()
                self._ready.add(step.name)
            batch = Batch(rv.table, self.tf)
            try:
                signals = step.op.apply(batch)
            except Exception as exc:  # noqa: BLE001 - operator code is arbitrary
                raise NotRedecidable(f"step {step.name!r} failed on a row brought back from {self.parent.ref}: "
                                     f"{type(exc).__name__}: {exc}") from exc
            self.measured += batch.num_rows
            for name, values in (signals or {}).items():
                batch.set_column(step.op.signal_column(name), values)
            rv.table = batch.table
            if not step.rules:
                continue
            env = _Env(batch)
            n = batch.num_rows
            keep = np.ones(n, bool)
            fail = np.full(n, -1)
            for k, rule in enumerate(step.rules):
                ok = rule.keep_mask(env, n)
                fail[keep & ~ok] = k
                keep &= ok
            if not keep.all():
                gone = np.flatnonzero(~keep)
                self._drop_revived(c, rv, gone, i, [step.rules[fail[j]].name for j in gone])
                rv.keep(keep)

    def _drop_revived(self, chunk: int, rv: Revived, rows: np.ndarray, exit_step: int, rules: list[str]) -> None:
        src = rv.table.take(pa.array(rows))
        self.revived_drops[chunk].append((exit_step, self._drop_rows(src, exit_step, rules)))
        for j, rule in zip(rows, rules):
            old_exit, old_rule = rv.since[j]
            self.moves[(old_exit, old_rule, exit_step, rule)] += 1

    def _per_doc(self, i: int, step: CompiledStep) -> Counter[str]:
        """Evaluate ``step``'s rules again where they or what they read changed; returns how many rows each
        rule dropped in the parent that it would keep now (those cannot be re-decided)."""
        resurrected: Counter[str] = Counter()
        if not self._redecides(step):
            return resurrected
        reads = sorted(set().union(*(r.signals for r in step.rules)))
        fields = sorted(set().union(*(r.fields for r in step.rules)))
        self.redecided.append(step.name)
        for c in self._chunks():
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
        return resurrected

    def _move(self, chunk: int, led: Ledger, row: int, exit_step: int, rule: str) -> None:
        self.removed[chunk][led.ids[row]] = (exit_step, rule)
        self.moves[(int(led.exit[row]), led.rule[row], exit_step, rule)] += 1

    def global_step(self, step: CompiledStep, extra: list[int] | None = None,
                    extra_loader: Callable[[int], pa.Array] | None = None,
                    decide: Callable[[SignatureSource], Any] | None = None) -> Any:
        """Decide ``step`` over the parent rows still reaching it (and rows brought back by an earlier
        global step), then the ``extra`` chunks (new rows), in input order.

        Returns the decision (covering both), or None when nothing could differ from the parent's and no
        extra chunk asked for one. ``decide`` replaces ``step.op.decide`` (a resumed run reloads its own).
        """
        gi = self.index[step.name]
        self.advance_to(gi)
        extra = extra or []
        alive: dict[int, tuple[pa.Table, np.ndarray]] = {}
        touched = any(rv.table.num_rows for rv in self.revived.values())
        for (name, c), path in sorted(self.parent.state.items(), key=lambda kv: kv[0][1]):
            if name != step.name:
                continue
            t = read_parquet(path)
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
        virtual = {c: self._virtual_chunk(step, c, *alive.get(c, (None, None)))
                   for c in sorted(set(alive) | {c for c, rv in self.revived.items() if rv.table.num_rows})}
        parent_ids = [c for c, v in virtual.items() if v[0].num_rows]

        def load(cid: int) -> pa.Array:
            if cid in virtual:
                return virtual[cid][0].column(SIGNATURE).combine_chunks()
            assert extra_loader is not None
            return extra_loader(cid)

        source = SignatureSource(parent_ids + list(extra), load)
        decision = decide(source) if decide is not None else step.op.decide(source)
        lost = 0
        for c, (rows, from_parent) in virtual.items():
            full = alive[c][0].num_rows if c in alive else 0
            if not rows.num_rows:
                if full:
                    self.new_state[(step.name, c)] = None
                continue
            ids = rows.column("id").combine_chunks()
            keep_new, sig_new = outcome(step, decision, c, ids, self.tf)
            self.new_state[(step.name, c)] = state_table(ids, keep_new, sig_new, rows.column(SIGNATURE).combine_chunks())
            mine = ~from_parent
            if mine.any():  # rows an earlier step brought back: first, before this step brings back more
                rv = self.revived[c]
                for col, values in sig_new.items():
                    rv.table = _set(rv.table, col, values.filter(pa.array(mine)))
                dropped = np.flatnonzero(~keep_new[mine])
                if len(dropped):
                    self._drop_revived(c, rv, dropped, gi, [step.op.drop_rule] * len(dropped))
                    rv.keep(keep_new[mine])
            lost += self._compare(step, gi, c, rows, from_parent, keep_new, sig_new)
            if rows.num_rows == full and bool(from_parent.all()) and not self._differs_from_state(alive[c][0], keep_new, sig_new):
                del self.new_state[(step.name, c)]
        if lost:
            raise NotRedecidable(
                f"step {step.name!r} would now keep {lost} row(s) of {self.parent.ref} that it dropped as "
                f"{step.op.drop_rule}s, and their text was not stored with them (a version made before duplicates "
                "kept their rows)")
        return decision

    def _virtual_chunk(self, step: CompiledStep, c: int, state: pa.Table | None,
                       mask: np.ndarray | None) -> tuple[pa.Table, np.ndarray]:
        """The rows of chunk ``c`` that reach ``step`` now, in input order: the parent's (its stored state,
        less the rows dropped earlier now) and the revived ones (signed now). Returns (id + signature +
        the stored keep and signals, whether each row is the parent's)."""
        parts, keys, mine = [], [], []
        if state is not None:
            sub = state if mask is None or mask.all() else state.filter(pa.array(mask))
            order = self._order(c)
            parts.append(sub)
            keys.append(np.array([order.get(i, -1) for i in sub.column("id").to_pylist()], dtype=np.int64))
            mine.append(np.ones(sub.num_rows, bool))
        rv = self.revived.get(c)
        if rv is not None and rv.table.num_rows:
            if step.name not in self._ready:
                step.op.setup()
                self._ready.add(step.name)
            sig = step.op.signature(Batch(rv.table, self.tf))
            self.measured += rv.table.num_rows
            n = rv.table.num_rows
            parts.append(pa.table({"id": rv.table.column("id"), KEEP: pa.array(np.zeros(n, bool)), SIGNATURE: sig}))
            keys.append(rv.keys)
            mine.append(np.zeros(n, bool))
        if not parts:
            return pa.table({"id": pa.array([], pa.string())}), np.zeros(0, bool)
        k = np.concatenate(keys)
        if len(parts) == 1 and bool((k[1:] >= k[:-1]).all()):  # already in input order (the usual case)
            return parts[0], mine[0]
        table = pa.concat_tables(parts, promote_options="permissive")
        order = np.argsort(k, kind="stable")
        return table.take(pa.array(order)), np.concatenate(mine)[order]

    def _compare(self, step: CompiledStep, gi: int, c: int, rows: pa.Table, from_parent: np.ndarray,
                 keep_new: np.ndarray, sig_new: dict[str, pa.Array]) -> int:
        """Record how the parent's rows fare at ``step`` now; returns how many came back without content."""
        idx = np.flatnonzero(from_parent)
        every = rows.column("id").to_pylist()
        ids = [every[j] for j in idx]
        keep_old = np.asarray(rows.column(KEEP).to_numpy(zero_copy_only=False), dtype=bool)[idx]
        new = keep_new[idx]
        led = self.ledger(c) if (keep_old != new).any() else None
        for j in np.flatnonzero(keep_old & ~new):
            r = led.where.get(ids[j]) if led else None
            if r is None:
                raise NotRedecidable(f"row {ids[j]!r} of {self.parent.ref} reached step {step.name!r} and was "
                                     "rejected by a later step; its path cannot be re-decided")
            self._move(c, led, r, gi, step.op.drop_rule)
        back = np.flatnonzero(~keep_old & new)
        lost = self._revive(step, gi, c, [ids[j] for j in back], {k: v.take(pa.array(idx[back])) for k, v in sig_new.items()}) if len(back) else 0
        present = set(rows.column_names)
        for col, values in sig_new.items():
            if col not in present:
                continue
            sub = values.take(pa.array(idx))
            diff = np.flatnonzero(~_same(rows.column(col).combine_chunks().take(pa.array(idx)), sub))
            if len(diff):
                self.dirty.add(col)
                py = sub.to_pylist()
                for j in diff:
                    self.overrides[c][col][ids[j]] = py[j]
        return lost

    def _revive(self, step: CompiledStep, gi: int, c: int, ids: list[str], signals: dict[str, pa.Array]) -> int:
        """Bring back parent rows that ``step`` dropped and now keeps, from their stored rows; returns how many
        have no stored text (those cannot come back)."""
        led = self.ledger(c)
        rows, keys, since = [], [], []
        lost = 0
        order = self._order(c)
        for j, i in enumerate(ids):
            r = led.where[i]
            path = next(p for p, a, b in led.segments if a <= r < b)
            start = next(a for p, a, b in led.segments if a <= r < b)
            whole = self._whole(path)
            if self.tf not in whole.column_names or whole.column(self.tf)[r - start].as_py() is None:
                lost += 1
                continue
            row = whole.slice(r - start, 1).drop_columns([n for n in ("step", "rule") if n in whole.column_names])
            for col, values in signals.items():
                row = _set(row, col, values.slice(j, 1))
            rows.append(row)
            keys.append(order[i])
            since.append((int(led.exit[r]), str(led.rule[r])))
            self.undropped[c].add(i)
        if rows:
            table = pa.concat_tables(rows, promote_options="permissive")
            rv = self.revived.setdefault(c, Revived(table.slice(0, 0), np.zeros(0, np.int64), []))
            rv.append(table, np.array(keys, dtype=np.int64), since)
        return lost

    @staticmethod
    def _differs_from_state(state: pa.Table, keep: np.ndarray, signals: dict[str, pa.Array]) -> bool:
        old = np.asarray(state.column(KEEP).to_numpy(zero_copy_only=False), dtype=bool)
        if (old != keep).any():
            return True
        return any(not _same(state.column(c).combine_chunks(), v).all() for c, v in signals.items() if c in state.column_names)

    def finish(self) -> None:
        """Re-decide the steps after the last global one; the rows brought back that are left are kept."""
        self.advance_to(len(self.steps))
        for rv in self.revived.values():
            for old_exit, old_rule in rv.since:
                self.moves[(old_exit, old_rule, len(self.steps), "")] += 1

    # -- writing ----------------------------------------------------------------------------------------------
    def changed_chunks(self) -> set[int]:
        return ({c for c, v in self.removed.items() if v} | {c for c, v in self.overrides.items() if any(v.values())}
                | {c for c, v in self.undropped.items() if v})

    def materialize(self, layout: Layout) -> dict[str, int]:
        """Write every parent chunk into ``layout`` as a full run of the recipe would have; returns counts.
        The chunks are shared among forked children when the walk has workers. (:meth:`chunk_jobs` and
        :meth:`materialize_chunk` split the same work for a pool whose workers did not fork from here.)"""
        stats = Counter(self.materialize_shared(layout))
        changed = self.changed_chunks()

        def write(chunks: list[int]) -> Counter[str]:
            done: Counter[str] = Counter()
            for c in chunks:
                done.update(self.materialize_chunk(layout, c, c in changed))
            return done

        for done in map_forked(write, groups_of(self.parent.chunks(), self.workers), self.workers):
            stats.update(done)
        return dict(stats)

    def materialize_shared(self, layout: Layout) -> dict[str, int]:
        """What belongs to no chunk's rewrite: the rejected rows (linked)."""
        stats = {"chunks": len(self.parent.chunks()), "chunks_rewritten": 0, "files_linked": 0, "files_written": 0}
        for (stage, c), path in sorted(self.parent.rejected.items()):
            link_file(path, layout.rejected(stage, c))
            stats["files_linked"] += 1
        return stats

    def chunk_jobs(self) -> list[dict[str, Any]]:
        """Per parent chunk, what the walk decided about its rows (plain, picklable data), for
        :meth:`adopt` in another process: a worker can then write the chunk with :meth:`materialize_chunk`."""
        changed = self.changed_chunks()
        jobs = []
        for c in self.parent.chunks():
            job: dict[str, Any] = {"chunk": c, "changed": c in changed,
                                   "state": {name: t for (name, cc), t in self.new_state.items() if cc == c}}
            if c in changed:
                job.update(removed=dict(self.removed.get(c, {})),
                           overrides={col: dict(v) for col, v in self.overrides.get(c, {}).items() if v},
                           revived=self.revived.get(c), undropped=set(self.undropped.get(c, ())),
                           revived_drops=list(self.revived_drops.get(c, [])))
            jobs.append(job)
        return jobs

    def adopt(self, job: dict[str, Any]) -> None:
        """Take over another walk's decisions about one chunk (a job of :meth:`chunk_jobs`)."""
        c = job["chunk"]
        for name, table in job["state"].items():
            self.new_state[(name, c)] = table
        if not job["changed"]:
            return
        if job["removed"]:
            self.removed[c] = job["removed"]
        for col, values in job["overrides"].items():
            self.overrides[c][col] = values
        if job["revived"] is not None:
            self.revived[c] = job["revived"]
        if job["undropped"]:
            self.undropped[c] = job["undropped"]
        if job["revived_drops"]:
            self.revived_drops[c] = job["revived_drops"]

    def materialize_chunk(self, layout: Layout, c: int, changed: bool) -> dict[str, int]:
        """Write parent chunk ``c``'s kept and dropped rows into ``layout``, linked when ``changed`` is false
        (the parent's files), else rewritten from them with the walk's decisions; and its dedup state."""
        stats = {"chunks_rewritten": 0, "files_linked": 0, "files_written": 0}
        for name in dict.fromkeys(n for n, cc in [*self.parent.state, *self.new_state] if cc == c):
            if (name, c) in self.new_state:  # what the global step saw and decided (engine/dedup_state.py)
                state = self.new_state[(name, c)]
                if state is not None and state.num_rows:
                    write_state(layout.dedup_state(name, c), state)
                    stats["files_written"] += 1
            else:
                link_file(self.parent.state[(name, c)], layout.dedup_state(name, c))
                stats["files_linked"] += 1
        out = self.recipe.spec.output
        path = self.parent.data.get(c)
        if not changed:
            if path:
                link_file(path, layout.kept(c))
                stats["files_linked"] += 1
            for (stage, cc), dropped in self.parent.dropped.items():
                if cc == c:
                    link_file(dropped, layout.dropped(stage, c))
                    stats["files_linked"] += 1
            return stats
        self._full = {}  # whole parent files of this chunk, read once
        stats["chunks_rewritten"] += 1
        table = self._rewrite_kept(c, path)
        if table is not None and table.num_rows:
            write_table(layout.kept(c), table, "parquet", out.compression)
            stats["files_written"] += 1
        elif table is None and path:
            link_file(path, layout.kept(c))
            stats["files_linked"] += 1
        for stage, rows in self._rewrite_dropped(c).items():
            if isinstance(rows, str):
                link_file(rows, layout.dropped(stage, c))
                stats["files_linked"] += 1
            elif rows.num_rows:
                write_parquet(layout.dropped(stage, c), rows)
                stats["files_written"] += 1
        self._full = {}
        return stats

    def _whole(self, path: str) -> pa.Table:
        if path not in self._full:
            self._full[path] = read_parquet(path)
        return self._full[path]

    def _apply_overrides(self, chunk: int, table: pa.Table) -> pa.Table:
        ov = self.overrides.get(chunk, {})
        if not table.num_rows or not ov:
            return table
        ids = table.column("id").to_pylist()
        present = set(table.column_names)
        for col, by_id in ov.items():
            if col not in present or not by_id:
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

    def _rewrite_kept(self, chunk: int, path: str | None) -> pa.Table | None:
        """The chunk's kept rows without the removed ones, with new signal values and with the rows brought
        back in their input places; None when unchanged."""
        gone = self.removed.get(chunk, {})
        ov = self.overrides.get(chunk, {})
        rv = self.revived.get(chunk)
        back = rv is not None and rv.table.num_rows > 0
        table = self._whole(path) if path else None
        ids = table.column("id").to_pylist() if table is not None else []
        if not back and not any(i in gone for i in ids) and not any(i in by_id for by_id in ov.values() for i in ids):
            return None
        if table is not None and gone:
            table = table.filter(pa.array([i not in gone for i in ids]))
        if table is not None:
            table = self._apply_overrides(chunk, table)
        if not back:
            return table
        assert rv is not None
        names = self._kept_names()
        extra = rv.table
        if not self.recipe.spec.output.keep_signals:
            have = set(extra.column_names)
            extra = extra.drop_columns([c for c in self.signal_cols if c in have])
        if names is not None:
            have = set(extra.column_names)
            extra = extra.select([n for n in names if n in have])
        if table is None:
            return extra
        order = self._order(chunk)
        keys = np.concatenate([np.array([order[i] for i in table.column("id").to_pylist()], dtype=np.int64), rv.keys])
        merged = pa.concat_tables([table, extra], promote_options="permissive")
        return merged.take(pa.array(np.argsort(keys, kind="stable")))

    def _kept_names(self) -> list[str] | None:
        """The column order of the parent's kept rows (every part has the same, see engine/unify.py)."""
        for path in self.parent.data.values():
            return pq.read_schema(path).names
        return None

    def _rewrite_dropped(self, chunk: int) -> dict[int, pa.Table | str]:
        """The chunk's dropped rows per stage: the parent's, less the moved rows, plus the moved rows at their
        new step, each with the signals it had when it was dropped. A stage whose parent file is untouched
        maps to that file's path (to be linked)."""
        led = self.ledger(chunk)  # (a forked child's: from the files' id, step and rule columns, not their text)
        gone = self.removed.get(chunk, {})
        back = self.undropped.get(chunk, set())
        touched = {i for by_id in self.overrides.get(chunk, {}).values() for i in by_id} | set(gone) | back
        per_stage: dict[int, list[pa.Table]] = defaultdict(list)
        same: dict[int, str] = {}
        rows_of = {path: (start, stop) for path, start, stop in led.segments}  # the ledger has every file's ids
        for (stage, c), path in sorted(self.parent.dropped.items()):
            if c != chunk:
                continue
            start, stop = rows_of[path]
            ids = led.ids[start:stop].tolist()
            if not any(i in touched for i in ids):
                same[stage] = path
                continue
            t = self._whole(path)
            if gone or back:
                t = t.filter(pa.array([i not in gone and i not in back for i in ids]))
            per_stage[stage].append(t)
        for exit_step, rows in self.revived_drops.get(chunk, []):
            per_stage[self.drop_stage[exit_step]].append(rows)
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
        out: dict[int, pa.Table | str] = {}
        for stage, ts in per_stage.items():
            if stage in same:  # new rows for a stage whose parent rows are untouched
                ts = [self._whole(same.pop(stage)), *ts]
            out[stage] = self._apply_overrides(chunk, pa.concat_tables(ts, promote_options="permissive"))
        return {**same, **out}

    def _drop_rows(self, src: pa.Table, exit_step: int, rules: list[str]) -> pa.Table:
        """Dropped-table rows for ``src`` at ``exit_step``, with the columns the worker would have written."""
        n = src.num_rows
        order = src.column_names
        names = set(order)
        cols: dict[str, Any] = {"id": src.column("id"), "step": pa.array([self.steps[exit_step].name] * n),
                                "rule": pa.array(rules, pa.string())}
        for c in self.signal_cols:
            if c in names and self.signal_step[c] <= exit_step:
                cols[c] = src.column(c)
        if self.recipe.spec.output.write_dropped or self.steps[exit_step].is_global:  # as engine/worker.py
            for c in order:
                if c not in self.signal_step and c not in ("step", "rule"):
                    cols.setdefault(c, src.column(c))
        return pa.table(cols)

    # -- figures -------------------------------------------------------------------------------------------
    def figures(self) -> dict[str, Any]:
        """The parent's per-step figures and counts after the moves: what a full run would report for them."""
        steps = [{**s, "dropped": dict(s.get("dropped", {}))} for s in self.parent.steps]
        by_name = {s["name"]: s for s in steps}
        kept = self.parent.counts.get("kept", 0)
        last = len(self.steps)
        for (old, old_rule, new, new_rule), n in self.moves.items():
            for j, step in enumerate(self.steps):  # a row enters steps up to its exit, leaves those before it
                s = by_name[step.name]
                s["in"] += n * ((j <= new) - (j <= old))
                s["out"] += n * ((j < new) - (j < old))
            if old < last:
                d = by_name[self.steps[old].name]["dropped"]
                d[old_rule] -= n
                if not d[old_rule]:
                    del d[old_rule]
            else:
                kept -= n
            if new < last:
                d = by_name[self.steps[new].name]["dropped"]
                d[new_rule] = d.get(new_rule, 0) + n
            else:
                kept += n
        return {"steps": steps, "kept": kept}
