"""``gristmill run RECIPE --into NAME --incremental``: the next version of NAME, built on the latest one.

Deciding how (:func:`plan_run`), from the latest version's manifest and the run's inputs:

* the recipe is unchanged and some inputs are new (by fingerprint): process only those, deduplicated
  against the parent's stored signatures (``incremental``);
* only keep rules or thresholds changed: re-decide the parent's rows from their stored signals, and process
  any new inputs with the new rules (``incremental`` too; the summary lists the re-decided steps);
* nothing is new and the recipe is unchanged: there is nothing to do (``up_to_date``);
* anything else (no version yet, a recipe that measures differently, an input the parent saw whose bytes
  changed, a parent made without stored signatures): a full run over the inputs, saying why (``full``).

Inputs the parent covered that are no longer among the run's inputs are *carried*: an incremental child
keeps their rows (it adds to its parent). A full run cannot carry them, so when one is needed and inputs
are missing, the run is refused rather than silently dropping those rows.

The keep-first rule: the child equals a full run over the inputs in their order, which is the parent's
inputs (in the parent's order) followed by the new ones when new files sort after the old ones (dated or
numbered shards). When they do not (a new file sorts before an old one, or a renamed input moved), building
on the parent would keep other first occurrences: the run is a full one, saying why. A file with the bytes
of a covered one is the same file when it has its name, or when that name is gone (renamed: skipped); a
copy beside the original is read, as a full run would read it.

What each version stores for this (:func:`extend_manifest`): the ``dedup_state`` files (per global step
and chunk: ids, decisions, signatures; hashes, never text), listed in the manifest like its data files so
that garbage collection sees them, its word table (every distinct chunk its runs split into words, keyed
by the splitter's fingerprint: an incremental run's workers start with it in their caches,
``engine/word_table.py``), and an ``incremental`` record: the recipe's canonical form, the input files it
covers with fingerprints, the next chunk number and how the version was made.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from gristmill.catalog.columns import is_columns_version
from gristmill.catalog.core import Catalog, Version
from gristmill.catalog.manifest import CorruptManifest
from gristmill.engine.dedup_state import stores_state
from gristmill.engine.incremental import IncrementalExecutor, ParentRun
from gristmill.engine.layout import Layout
from gristmill.engine.local import LocalExecutor, RunOptions, RunResult
from gristmill.engine.redecide import NotRedecidable, ParentFiles
from gristmill.engine.word_table import header_fingerprint, splitter_fingerprint
from gristmill.errors import GristmillError, UsageError
from gristmill.io.inputs import InputFile, resolve_inputs
from gristmill.io.writers import write_json
from gristmill.recipe.change import RecipeChange, compare, stored_form
from gristmill.recipe.compile import CompiledRecipe, require_paths

STATE_FORMAT = 1
Mode = Literal["incremental", "full", "up_to_date"]


def _hex(fingerprint: str) -> str:
    return fingerprint.split(":")[-1]


@dataclass
class Plan:
    """How an ``--incremental`` run proceeds, and why."""

    name: str
    mode: Mode
    reason: str
    parent: Version | None = None
    change: RecipeChange | None = None
    new_files: list[InputFile] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # path -> xxh3-128 hex
    skipped: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        if self.mode == "up_to_date":
            return f"{self.reason}: nothing to do"
        if self.mode == "full":
            return f"--incremental: running in full: {self.reason}"
        assert self.parent is not None
        parts = [f"{len(self.new_files)} new input file(s)"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (already in {self.parent.ref})")
        if self.carried:
            parts.append(f"{len(self.carried)} carried from {self.parent.ref} (not among the inputs any more)")
        if self.change is not None and self.change.kind == "decisions":
            parts.append(f"re-deciding {self.parent.ref}: {self.change.describe()}")
        return f"--incremental over {self.parent.ref}: " + ", ".join(parts)

    def fall_back(self, why: str) -> None:
        """Switch to a full run (``why`` says why); refuse when inputs the parent covered are missing."""
        if self.carried:
            raise UsageError(
                f"cannot run {self.name} incrementally ({why}), and a full run would lose the rows of "
                f"{len(self.carried)} input(s) that {self.parent.ref if self.parent else 'the parent'} covers but "
                f"this run does not read ({', '.join(self.carried[:3])}{' ...' if len(self.carried) > 3 else ''}); "
                "put them back among the inputs, or run without --incremental for a version of these inputs only")
        self.mode, self.reason = "full", why

    def parent_run(self) -> ParentRun:
        """The parent's files (fetched and hash-checked) and what the summary should say about this run."""
        assert self.parent is not None and self.change is not None
        v = self.parent
        m = v.manifest
        files = ParentFiles(ref=v.ref, steps=m.get("steps", []), counts=m.get("counts", {}))
        for kind in ("files", "dropped_files", "rejected_files", "dedup_state"):
            for entry, path in zip(m[kind], v.local_files(kind)):
                files.add(kind, path, entry.get("step"), entry["path"].rsplit("/", 1)[-1])
        record = m["incremental"]
        covered = list(record["inputs"])
        covered += [{"relpath": f.relpath, "path": f.path, "fingerprint": f"xxh3-128:{self.fingerprints[f.path]}",
                     "bytes": f.size} for f in self.new_files]
        info = {
            "mode": "incremental",
            "parent": v.ref,
            "parent_commit": m["commit"],
            "recipe_change": self.change.kind,
            "rule_steps": self.change.rule_steps,
            "inputs_new": [f.relpath for f in self.new_files],
            "inputs_skipped": self.skipped,
            "inputs_carried": self.carried,
            "notes": self.notes,
            "covered_inputs": covered,
        }
        words = m.get("word_table")
        table = v.catalog._fetch_verified(words, v.ref) if words and words.get("splitter") == splitter_fingerprint() else None
        return ParentRun(files, m["commit"], record["next_chunk"], self.change.rule_steps, info, table)


def latest_run(catalog: Catalog, name: str) -> tuple[Version, list[str]]:
    """The latest version of ``name`` made by a run, and the later ones that only add columns (training
    signals written back): a run builds on the rows, dropped rows and stored state of a run, and a full run
    of the recipe would not have those columns either."""
    latest = catalog.get(name)  # the latest, refused when damaged
    found = {v.number: v for v in catalog.versions(name)}
    damaged = catalog.damaged(name)
    skipped = []
    for number in sorted(set(found) | set(damaged), reverse=True):
        if number in damaged:  # never build on an older run past a damaged one
            raise CorruptManifest(damaged[number])
        if not is_columns_version(found[number].manifest):
            return found[number], skipped
        skipped.append(found[number].ref)
    return latest, skipped


def plan_run(catalog: Catalog, name: str, recipe: CompiledRecipe) -> Plan:
    """Decide how ``--incremental`` runs ``recipe`` into ``name`` (see the module docstring)."""
    input_path, _ = require_paths(recipe)
    if not catalog.versions(name):
        return Plan(name, "full", f"the catalog has no version of {name!r} yet")
    parent, columns_only = latest_run(catalog, name)
    record = parent.manifest.get("incremental")
    if not record or record.get("state_format") != STATE_FORMAT or not record.get("recipe"):
        return Plan(name, "full", f"{parent.ref} stores no signatures to build on (made before incremental runs, "
                                  "or without a compiled recipe)", parent)
    plan = Plan(name, "incremental", "", parent)
    if columns_only:
        plan.notes.append(f"building on {parent.ref}, the latest version made by a run: {', '.join(columns_only)} only "
                          "add(s) columns to a version, which a run of the recipe does not write")
    files = resolve_inputs(input_path, recipe.spec.input.format, recipe.base_dir)
    plan.fingerprints = {f.path: f.fingerprint() for f in files}
    covered = record["inputs"]
    seen: dict[str, list[str]] = {}  # fingerprint -> the covered names with those bytes
    for i in covered:
        seen.setdefault(_hex(i["fingerprint"]), []).append(i["relpath"])
    by_rel = {i["relpath"]: i for i in covered}
    names = {f.relpath for f in files}
    matched: dict[str, str] = {}  # a skipped input -> the covered input it is
    changed = []
    for f in files:
        olds = seen.get(plan.fingerprints[f.path], [])
        gone = [o for o in olds if o not in names]
        if f.relpath in olds:  # the same file
            matched[f.relpath] = f.relpath
            plan.skipped.append(f.relpath)
        elif f.relpath in by_rel:  # a covered name with other bytes
            changed.append(f.relpath)
        elif gone:  # renamed since: its old name is gone
            matched[f.relpath] = gone[0]
            plan.skipped.append(f.relpath)
            plan.notes.append(f"{f.relpath} has the bytes of {gone[0]}, already in {parent.ref}: skipped (renamed)")
        else:  # new, or a copy of a file that is still there: read, as a full run would
            plan.new_files.append(f)
    present = set(plan.fingerprints.values())
    plan.carried = [i["relpath"] for i in covered if _hex(i["fingerprint"]) not in present and i["relpath"] not in names]
    superseded = _superseded(plan.carried, input_path)
    if superseded:  # not carried: a newer version of the same dataset replaced (rewrote) those files
        plan.carried = [r for r in plan.carried if r not in superseded]
    where = {r: k for k, r in enumerate(by_rel)}
    expected = sorted(plan.skipped, key=lambda r: where[matched[r]]) + [f.relpath for f in plan.new_files]
    new_names = {f.relpath for f in plan.new_files}
    reordered = [f.relpath for f in files if f.relpath in matched or f.relpath in new_names] != expected
    plan.change = compare(record["recipe"], recipe)
    twice = sorted(r for r, n in Counter(f.relpath for f in files).items() if n > 1)
    reason = (_why_full(plan, recipe, changed) or _why_superseded(superseded, names)
              or (f"several inputs are named {twice[:3]} (in different input folders): an input is known by its "
                  "name, so these cannot be told apart" if twice else None)
              or (_why_reordered(plan) if reordered else None))
    if reason:
        plan.fall_back(reason)
        return plan
    if not plan.new_files and plan.change.kind == "same":
        plan.mode, plan.reason = "up_to_date", f"{parent.ref} covers every input and the recipe is unchanged"
    return plan


_CATALOG_FILE = re.compile(r"^(?P<name>[^/@]+)@(?P<version>\d+)/")  # how catalog:// inputs are named


def _superseded(carried: list[str], input_path: str | list[str]) -> list[str]:
    """Covered files of a catalog version NAME@V that are gone while the run reads ``catalog://NAME`` again:
    the newer version rewrote them (re-deciding rewrites chunks), so their rows are not the parent's to keep.
    (Only when the recipe reads that dataset: a local folder may be named like ``dump@2024``.)"""
    specs = [input_path] if isinstance(input_path, str) else list(input_path)
    reading = {str(s).removeprefix("catalog://").split("@", 1)[0] for s in specs if str(s).startswith("catalog://")}
    return [r for r in carried if (m := _CATALOG_FILE.match(r)) and m["name"] in reading]


def _why_reordered(plan: Plan) -> str:
    assert plan.parent is not None
    early = [f.relpath for f in plan.new_files if f.relpath < max(plan.skipped, default="")]
    what = (f"new input(s) {early[:3]} sort before inputs of {plan.parent.ref}" if early else
            f"inputs of {plan.parent.ref} are in another order now (renamed?)")
    return (f"{what}: a full run over the inputs in their order keeps other first occurrences (and writes its rows "
            "in that order) than building on the parent would")


def _why_superseded(superseded: list[str], names: set[str]) -> str | None:
    if not superseded:
        return None
    old = sorted({r.split("/", 1)[0] for r in superseded})
    new = sorted({n.split("/", 1)[0] for n in names if (m := _CATALOG_FILE.match(n)) and
                  any(o.split("@")[0] == m["name"] for o in old)})
    return (f"the input {', '.join(new)} replaced {len(superseded)} file(s) of {', '.join(old)} that the parent read "
            "(rewritten, not added to): their rows cannot be taken out of the parent's decisions")


def _why_full(plan: Plan, recipe: CompiledRecipe, changed: list[str]) -> str | None:
    assert plan.parent is not None and plan.change is not None
    ref = plan.parent.ref
    if recipe.spec.output.format != "parquet":
        return f"incremental runs write Parquet (this recipe writes {recipe.spec.output.format})"
    if plan.change.kind == "measuring":
        return plan.change.describe()
    no_state = [s.name for s in recipe.steps if s.is_global and not stores_state(s)]
    if no_state:
        return f"step(s) {no_state} rewrite documents by a global decision, which cannot be made again from stored state"
    if changed:
        return (f"input(s) {changed[:3]} changed since {ref} (same name, other bytes): their old rows cannot be "
                "taken out of the parent's decisions")
    if plan.change.rule_steps and not recipe.spec.output.keep_signals:
        return f"re-deciding needs the signals of the kept rows, and {ref} was written with output.keep_signals: false"
    return None


class IncrementalRun:
    """``run --into NAME --incremental``: plans (:func:`plan_run`), then runs on the chosen engine, building on
    NAME's latest version, or in full when that cannot give a full run's output (saying why through ``say``).

    ``run()`` returns the executor's result; when nothing is new, a result whose ``extra["up_to_date"]`` names
    the version that already covers everything (nothing is written).
    """

    def __init__(self, catalog: Catalog, name: str, recipe: CompiledRecipe, options: RunOptions,
                 engine: str = "local", say: Callable[[str], None] | None = None) -> None:
        self.catalog, self.name, self.recipe, self.options, self.engine = catalog, name, recipe, options, engine
        self.say = say or (lambda _m: None)
        self.plan: Plan | None = None

    def _executor(self, options: RunOptions) -> LocalExecutor:
        base: type[LocalExecutor] = LocalExecutor
        if self.engine == "ray":
            from gristmill.engine.ray_engine import RayExecutor

            base = RayExecutor
        elif self.engine != "local":
            raise UsageError(f"unknown engine {self.engine!r}: local or ray")
        assert self.plan is not None
        if self.plan.mode != "incremental":
            return base(self.recipe, options)
        cls = IncrementalExecutor if base is LocalExecutor else type(f"Incremental{base.__name__}", (IncrementalExecutor, base), {})
        return cls(self.recipe, options, self.plan.parent_run(), self.plan.new_files, self.plan.fingerprints)

    def run(self, progress: Callable[[str, int, int], None] | None = None) -> RunResult:
        self.plan = plan = plan_run(self.catalog, self.name, self.recipe)
        self.say(plan.message())
        for note in plan.notes:
            self.say(f"note: {note}")
        if plan.mode == "up_to_date":
            assert plan.parent is not None
            return RunResult({}, Path(self.recipe.spec.output.path or "."), extra={"up_to_date": plan.parent.ref})
        try:
            result = self._executor(self.options).run(progress=progress)
        except NotRedecidable as exc:
            plan.fall_back(str(exc))
            self.say(f"--incremental: running in full: {exc}")
            # the output folder holds only what the attempt just wrote: start it afresh
            result = self._executor(replace(self.options, overwrite=True)).run(progress=progress)
        if plan.mode == "full" and not result.extra.get("already_complete"):
            result.summary["incremental"] = note_full_run(result.output, plan)
        result.extra["plan"] = plan
        return result


def note_full_run(output: str | Path, plan: Plan) -> dict[str, Any]:
    """Record in a full run's summary that it was asked to be incremental, and why it was not."""
    layout = Layout(output)
    summary = json.loads(layout.summary.read_text())
    summary["incremental"] = {"mode": "full", "reason": plan.reason, "parent": plan.parent.ref if plan.parent else None}
    write_json(layout.summary, summary)
    return summary["incremental"]


def extend_manifest(catalog: Catalog, manifest: dict[str, Any], layout: Layout, summary: dict[str, Any],
                    recipe: CompiledRecipe | None, base: str) -> None:
    """Add a version's ``dedup_state`` files and its ``incremental`` record to its manifest (at commit)."""
    entries: list[dict] = []
    if layout.dedup_state_dir.is_dir():
        for step_dir in sorted(p for p in layout.dedup_state_dir.iterdir() if p.is_dir()):
            uploaded = catalog._upload(sorted(step_dir.glob("*.pq")), f"{base}/_dedup_state/{step_dir.name}")
            entries += [{**e, "step": step_dir.name} for e in uploaded]
    manifest["dedup_state"] = entries
    if layout.word_table.is_file() and (splitter := header_fingerprint(layout.word_table)):
        [table] = catalog._upload([layout.word_table], f"{base}/_word_table")
        manifest["word_table"] = {**table, "splitter": splitter}  # warm word caches for the next run
    run = summary.get("incremental") or {}
    record: dict[str, Any] = {
        "state_format": STATE_FORMAT,
        "mode": run.get("mode", "full"),
        "recipe": stored_form(recipe.canonical()) if recipe is not None else None,
    }
    if record["mode"] == "incremental":
        latest = latest_run(catalog, manifest["dataset"])[0].ref
        if latest != run["parent"]:  # another writer committed meanwhile: this child would hide its rows
            raise GristmillError(f"{latest} was committed while this run built on {run['parent']}: run the same "
                                 "command again with --overwrite to build on it (this run's output is not registered)")
        record.update({k: run[k] for k in ("parent", "recipe_change", "rule_steps", "inputs_new", "inputs_skipped",
                                           "inputs_carried", "parent_rows_changed", "redecided_steps")})
        record["inputs"] = run["covered_inputs"]
        record["next_chunk"] = run["next_chunk"]
        edge = {"kind": "version", "ref": run["parent"]}
        manifest["parents"] = [edge] + [p for p in manifest["parents"] if p != edge]
    else:
        if run.get("reason"):
            record["reason"] = run["reason"]
            record["parent"] = run.get("parent")
        record["inputs"] = [{k: i[k] for k in ("relpath", "path", "fingerprint", "bytes")} for i in summary["inputs"]]
        record["next_chunk"] = summary["chunks"]
    manifest["incremental"] = record
