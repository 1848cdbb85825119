"""``gristmill loop``: prepare → train round 1 → score → write back → refine → train round 2 → compare.

Each phase is a method of :class:`Loop`, run in that order by :meth:`Loop.run`; each prints what it does, records
its wall time and its result in ``OUT/loop_state.json`` (:mod:`gristmill.loop.state`), and is reused on a rerun
when nothing it depends on changed and what it made still exists (catalog versions with their content hash,
finished runs, scored signals). The versions are ``NAME@a`` (prepared), ``NAME@b`` (``a`` plus round 1's
``train.<r1>.*`` columns) and ``NAME@c`` (refined from ``b``).

The comparison is fair by construction: round 2 evaluates on round 1's held-out shard set (``data.heldout``),
whose documents the shard build leaves out of round 2's training (:func:`gristmill.train.source.heldout_ids`),
with the same evaluation windows, seed, model and token budget; :mod:`gristmill.loop.compare` checks it again.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gristmill.errors import UsageError
from gristmill.loop.spec import LoopSpec
from gristmill.loop.state import LoopState, phase_key

PHASES = ("prepare", "train_r1", "score", "writeback", "refine", "train_r2", "train_control", "compare")
Log = Callable[[str], None]


def _fingerprint(path: str) -> list[Any]:
    """What identifies an input without reading it: each matching file's path, size and mtime."""
    import glob

    files = sorted(glob.glob(path)) or [path]
    out = []
    for f in files:
        p = Path(f)
        if p.is_dir():
            out += [[str(q), q.stat().st_size, q.stat().st_mtime_ns] for q in sorted(p.rglob("*")) if q.is_file()]
        elif p.exists():
            out.append([str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns])
    return out


class Loop:
    def __init__(self, spec: LoopSpec, log: Log = print, fresh: bool = False,
                 after_phase: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.spec, self.log, self.after_phase = spec, log, after_phase
        self.out = Path(spec.output)
        if fresh:
            (self.out / "loop_state.json").unlink(missing_ok=True)
        self.state = LoopState(self.out)
        self.results: dict[str, dict[str, Any]] = {}
        self.times: dict[str, dict[str, Any]] = {}
        self.r1_dir, self.r2_dir = self.out / spec.runs[0], self.out / spec.runs[1]

    # --- driver ---------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Every phase in order; returns the comparison (also in ``OUT/loop.json``)."""
        from gristmill.catalog.core import use_root

        self._preflight()
        self.out.mkdir(parents=True, exist_ok=True)
        with use_root(self.spec.catalog):
            for i, phase in enumerate(PHASES, 1):
                self._phase(i, phase)
                if self.after_phase is not None:
                    self.after_phase(phase, self.results[phase])
        return self.results["compare"]

    def _preflight(self) -> None:
        """What can be checked before anything runs: the files the spec names, the training config with its
        overrides (a typo in a --set key fails here, not after the prepare phase)."""
        from gristmill.io.inputs import resolve_inputs
        from gristmill.train.config import load_config

        s = self.spec
        for path in (s.recipe, s.refine.recipe, s.train.config):
            _read(path)
        load_config(s.train.config, list(s.train.set))
        if "://" not in s.input:  # a wrong path fails here, before the output folder is made
            resolve_inputs(s.input)

    def _phase(self, i: int, phase: str) -> None:
        key = phase_key(phase, self._settings(phase), [self.results[p] for p in PHASES[: PHASES.index(phase)]])
        rec = self.state.done(phase, key)
        if rec is not None and phase != "compare" and self._still_there(phase, rec["result"]):
            self.results[phase] = rec["result"]
            self.times[phase] = {"seconds": rec["seconds"], "reused": True}
            self.log(f"\n== {i}/{len(PHASES)} {phase}: reused (finished in {rec['seconds']:.1f} s before; "
                     f"{self._describe(phase, rec['result'])})")
            return
        self.log(f"\n== {i}/{len(PHASES)} {phase}")
        t0 = time.perf_counter()
        result = getattr(self, f"_{phase}")()
        seconds = time.perf_counter() - t0
        self.results[phase] = result
        self.times[phase] = {"seconds": seconds, "reused": False}
        if phase != "compare":
            self.state.record(phase, key, result, seconds)
        self.log(f"-- {phase}: {seconds:.1f} s; {self._describe(phase, result)}")

    def _settings(self, phase: str) -> Any:
        s = self.spec
        if phase == "prepare":
            return [s.input, s.goal, _read(s.recipe), s.name, s.catalog,
                    None if s.input.startswith("catalog://") else _fingerprint(s.input)]
        if phase == "train_r1":
            return [s.train.model_dump(), _read(s.train.config), s.seed, s.runs[0], s.score.reference == "init"]
        if phase in ("train_r2", "train_control"):  # turning the control on or off does not redo round 2
            return [s.train.model_dump(), _read(s.train.config), s.seed, s.runs,
                    s.round2.model_dump(exclude={"control"} if phase == "train_r2" else None)]
        if phase == "score":
            return [s.score.model_dump(exclude={"threads", "docs_per_batch"})]
        if phase == "refine":
            return [s.refine.model_dump(), _read(s.refine.recipe)]
        return [s.name]

    def _still_there(self, phase: str, result: dict[str, Any]) -> bool:
        from gristmill.catalog.core import Catalog
        from gristmill.errors import GristmillError

        try:
            if result.get("skipped"):
                return True
            if "ref" in result:
                return Catalog(self.spec.catalog).get(result["ref"]).content_hash == result["content_hash"]
            if "run_dir" in result:
                run = Path(result["run_dir"])
                return (run / "mixture.json").is_file() and (run / "model" / "config.json").is_file()
            if phase == "score":
                from gristmill.train.signals import RunOutput

                meta = Path(result["path"]).with_suffix(".json")
                return meta.is_file() and json.loads(meta.read_text())["checkpoint_hash"] == \
                    RunOutput.open(self.r1_dir).checkpoint_hash()
        except (GristmillError, OSError, KeyError, json.JSONDecodeError):
            return False
        return False

    @staticmethod
    def _describe(phase: str, r: dict[str, Any]) -> str:
        if r.get("skipped"):
            return "skipped (round2.control is off)"
        if "ref" in r:
            extra = f", {r['dropped']:,} dropped ({r['dropped_share']:.1%})" if "dropped" in r else ""
            return f"{r['ref']} ({r['rows']:,} documents{extra})"
        if "run_dir" in r:
            f = r["final"]
            return f"{r['run_dir']}: held-out avg {f['avg']:.4f}, worst {f['worst']:.4f} ({f['worst_domain']}) at {f['tokens']:,} tokens"
        if phase == "compare":
            return ", ".join(r.get("files", {}).values())
        if phase == "score":
            return (f"{r['docs_scored']:,} documents, {r['tokens']:,} tokens in {r['seconds']:.1f} s "
                    f"({r['tokens_per_s']:,.0f} tokens/s) -> {r['path']}")
        return ""

    # --- phases ---------------------------------------------------------------------------------------
    def _catalog(self) -> Any:
        from gristmill.catalog.core import Catalog

        return Catalog(self.spec.catalog)

    def _version_result(self, version: Any, **extra: Any) -> dict[str, Any]:
        return {"ref": version.ref, "content_hash": version.content_hash, "rows": int(version.manifest["rows"]), **extra}

    def _prepare(self) -> dict[str, Any]:
        s = self.spec
        if s.input.startswith("catalog://"):
            return self._version_result(self._catalog().get(s.input))
        folder = self.out / "prepared"
        shutil.rmtree(folder, ignore_errors=True)
        if s.goal is not None:
            from gristmill.agent.prepare import prepare

            self.log(f"goal: {s.goal!r}")
            res = prepare(s.input, s.goal, folder, workers=s.workers, log=lambda m: self.log(f"  {m}"))
            recipe_path = res.recipe_path
        else:
            recipe_path = Path(s.recipe)
            self._run_recipe(recipe_path, s.input, folder)
        return self._commit(folder, recipe_path)

    def _run_recipe(self, recipe: Path, input_path: str, folder: Path) -> None:
        from gristmill.engine.local import LocalExecutor, RunOptions
        from gristmill.recipe.compile import load_recipe

        compiled = load_recipe(recipe, input_path, str(folder))
        if compiled.spec.output.format != "parquet":
            raise UsageError(f"{recipe}: output.format must be parquet (a catalog version is Parquet)")
        summary = LocalExecutor(compiled, RunOptions(workers=self.spec.workers, progress=False, overwrite=True)).run().summary
        self.log(f"  {recipe.name}: {summary['input']:,} in, {summary['kept']:,} kept, "
                 f"{summary['dropped']['total']:,} dropped, {summary['rejected']['total']:,} rejected")

    def _commit(self, folder: Path, recipe_path: Path, name: str | None = None) -> dict[str, Any]:
        from gristmill.recipe.compile import load_recipe

        version = self._catalog().commit_run(name or self.spec.name, folder, recipe_path.read_text(encoding="utf-8"),
                                             load_recipe(recipe_path))
        self.log(f"  registered {version.ref} ({version.manifest['rows']:,} documents)")
        return self._version_result(version)

    def _train_config(self, round_: int) -> Any:
        from gristmill.train.config import load_config

        s = self.spec
        name = s.runs[round_ - 1] if round_ < 3 else f"{s.runs[1]}-control"
        sets = [*s.train.set, "data.text=null", f"run.name={name}", f"seed={s.seed}", "log.plot=false"]
        if s.catalog:
            sets.append(f"data.catalog={Path(s.catalog).resolve() if '://' not in s.catalog else s.catalog}")
        if s.train.tokens:
            sets.append(f"train.max_tokens={s.train.tokens}")
        policy = s.train.policy
        if round_ == 1:
            sets += [f"data.train=catalog://{self.results['prepare']['ref']}", "signals.doc_losses=true"]
            if s.score.reference == "init":
                sets.append("signals.save_init=true")
        else:
            src = json.loads((self.r1_dir / "source.json").read_text())
            data = self.results["refine" if round_ == 2 else "prepare"]["ref"]  # the control: unrefined data
            sets += [f"data.train=catalog://{data}",
                     f"data.heldout={Path(src['shards']) / 'heldout'}",
                     f"data.tokenizer={(self.r1_dir / 'model' / 'tokenizer.json').resolve()}"]
            policy = s.round2.policy or policy
            if s.round2.init_weights_from:
                sets.append(f"policy.init_weights_from={self.r1_dir.resolve()}")
        if policy:
            sets.append(f"policy.name={policy}")
        return load_config(s.train.config, sets, output=str(self.out / name))

    def _train(self, round_: int) -> dict[str, Any]:
        from transformers.utils import logging as hf_logging

        from gristmill.train.loop import train

        hf_logging.disable_progress_bar()  # a bar per saved model would garble the loop's log
        cfg = self._train_config(round_)
        self.log(f"  {cfg.output}: {cfg.data.train}, policy {cfg.policy.name}, {cfg.train.max_tokens:,} tokens"
                 + (f", held-out {cfg.data.heldout}" if cfg.data.heldout else ""))
        t0 = time.perf_counter()
        last = train(cfg)
        seconds = time.perf_counter() - t0
        return {"run_dir": str(Path(cfg.output).resolve()), "final": last, "train_seconds": seconds,
                "tokens_per_s": last["tokens"] / seconds if seconds else None}

    def _train_r1(self) -> dict[str, Any]:
        return self._train(1)

    def _train_r2(self) -> dict[str, Any]:
        return self._train(2)

    def _train_control(self) -> dict[str, Any]:
        """Round 2's settings on version 1: with it, the report tells the refinement's part from the mixture's."""
        if not self.spec.round2.control:
            return {"skipped": True}
        return self._train(3)

    def _score(self) -> dict[str, Any]:
        import torch

        from gristmill.train.score import score_run

        sc = self.spec.score
        v1 = self.results["prepare"]
        self.log(f"  scoring {v1['rows']:,} documents of {v1['ref']} with {self.r1_dir}/model and the reference "
                 f"{sc.reference!r} (two forward passes per token; batches of {sc.docs_per_batch} documents)")
        if sc.threads:
            torch.set_num_threads(sc.threads)
        r = score_run(self.r1_dir, reference=sc.reference, catalog=self.spec.catalog, batch_size=sc.batch_size,
                      device=sc.device, docs_per_batch=sc.docs_per_batch)
        keep = ("path", "version", "rows", "docs_scored", "tokens", "seconds", "docs_per_s", "tokens_per_s",
                "reference", "per_domain", "measured", "checkpoint_hash")
        return {k: v for k, v in r.to_json().items() if k in keep}

    def _writeback(self) -> dict[str, Any]:
        from gristmill.train.writeback import write_back

        v = write_back(self.r1_dir, catalog=self.spec.catalog)
        added = [c for s in v.manifest["side_files"] if s["file"] == 0 for c in s["columns"]]
        self.log(f"  registered {v.ref}: {', '.join(added)}")
        return self._version_result(v, columns=added, lineage=v.manifest.get("lineage"))

    def _refine(self) -> dict[str, Any]:
        s, r = self.spec, self.spec.refine
        source = f"catalog://{self.results['writeback']['ref']}"
        folder = self.out / "refined"
        shutil.rmtree(folder, ignore_errors=True)
        goal = r.agent_goal()
        if goal is not None:
            from gristmill.agent.prepare import prepare

            self.log(f"  goal: {goal!r} over {source}")
            res = prepare(source, goal, folder, workers=s.workers, log=lambda m: self.log(f"  {m}"))
            recipe_path, how = res.recipe_path, {"goal": goal}
        elif r.keep is not None:
            import yaml

            recipe_path = self.out / "refine.yaml"
            recipe_path.write_text(yaml.safe_dump({"name": "refine", "input": {"path": source},
                                                   "steps": [{"op": "filter", "keep": r.keep}],
                                                   "output": {"path": str(folder)}}, sort_keys=False))
            self._run_recipe(recipe_path, source, folder)
            how = {"keep": r.keep}
        else:
            recipe_path, how = Path(r.recipe), {"recipe": str(r.recipe)}
            self._run_recipe(recipe_path, source, folder)
        result = self._commit(folder, recipe_path, self.results["writeback"]["ref"].split("@")[0])  # same dataset
        before = self.results["writeback"]["rows"]
        dropped = before - result["rows"]
        return {**result, **how, "from": self.results["writeback"]["ref"], "dropped": dropped,
                "dropped_share": dropped / before if before else 0.0}

    def _compare(self) -> dict[str, Any]:
        from gristmill.loop.compare import compare_rounds
        from gristmill.loop.report import write_report

        result = compare_rounds(self.spec, self.results, self.times, self._catalog())
        paths = write_report(self.out, result)
        result["files"] = {k: str(v) for k, v in paths.items()}
        (self.out / "loop.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        return result


def _read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def run_loop(spec: LoopSpec, log: Log = print, fresh: bool = False,
             after_phase: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run (or resume) the loop ``spec`` describes; returns what ``OUT/loop.json`` holds. ``after_phase(name,
    result)`` is called after each phase (the demo prints a version's lineage there)."""
    return Loop(spec, log, fresh, after_phase).run()
