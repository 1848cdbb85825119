"""The prepare loop: profile -> requirements -> plan -> compile -> dry run -> verify -> repair -> write -> run.

Peers stop when the generated pipeline exits cleanly; here a plan is accepted only when every requirement
holds *on the data* the dry run produced. What cannot be met is explained and fails (non-zero exit), never
an empty or silently wrong output.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gristmill.agent.goal import Goal, parse_goal
from gristmill.agent.kinds import RepairContext, get_kind
from gristmill.agent.kinds.quality import relax
from gristmill.agent.planner import NotUnderstood, Plan, Unsupported, build_plan
from gristmill.agent.profile import Profile, est_tokens, profile_sample
from gristmill.agent.report import recipe_yaml, write_reports
from gristmill.agent.sampling import Sample, draw_sample, write_sample
from gristmill.agent.verify import Check, DryRun, read_kept, verify
from gristmill.engine.layout import SIDE_DIR, Layout
from gristmill.errors import GristmillError, RecipeError, UsageError
from gristmill.ops.plugins import load_operator_plugins, operators_dir

Log = Callable[[str], None]


class GoalError(UsageError):
    """The goal contradicts itself or names something the input lacks (exit 2)."""


class Unsatisfiable(GristmillError):
    """The data cannot meet the goal: said with evidence (exit 1)."""


class NoLLMPlan(GristmillError):
    """``--llm`` with ``--no-fallback``: the LLM yielded no usable plan, and the built-in planner was not asked (exit 1)."""


@dataclass
class PrepareResult:
    goal: Goal
    profile: Profile
    plan: Plan
    recipe: dict[str, Any]
    checks: list[Check]
    history: list[dict[str, Any]]
    recipe_path: Path | None
    report_paths: dict[str, Path]
    summary: dict[str, Any] | None = None  # of the full run
    dry_summary: dict[str, Any] = field(default_factory=dict)
    planner: str = "built-in"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks if c.hard)


def feasibility(goal: Goal, profile: Profile) -> None:
    """Fail early, with the profile as evidence, on goals the sample shows cannot be met."""
    if goal.problems:
        raise GoalError("the goal contradicts itself: " + "; ".join(goal.problems))
    n = profile.docs
    if n == 0:
        raise Unsatisfiable(f"the input has no readable documents ({profile.scanned} records scanned, {profile.unreadable} unreadable)")
    for r in goal.of("language"):
        if "keep" in r.params and profile.languages:
            share = profile.language_share(r.params["keep"] + (["no"] if "nb" in r.params["keep"] else []))
            if share * n < 1:
                top = ", ".join(f"{k} {v / n:.0%}" for k, v in list(profile.languages.items())[:4])
                raise Unsatisfiable(f"'{r.text}': none of the {n} sampled documents is in {r.params['keep']} "
                                    f"(languages found: {top}); the output would be empty")
    lengths = goal.of("length")
    rets = [r for r in goal.of("retention") if r.params["unit"] == "docs"]
    if lengths and rets:
        conds = []
        for r in lengths:
            col = {"words": "length.words", "chars": "length.chars", "tokens": "length.chars"}.get(r.params["unit"])
            if not col:
                continue
            mult = 4 if r.params["unit"] == "tokens" else 1
            if "min" in r.params:
                conds.append(f"{col} >= {r.params['min'] * mult}")
            if "max" in r.params:
                conds.append(f"{col} <= {r.params['max'] * mult}")
        if conds:
            share = profile.share_where(" and ".join(conds))
            target = max(r.params["min"] for r in rets)
            if share < target:
                raise Unsatisfiable(f"contradictory goal: the length bounds ({'; '.join(r.text for r in lengths)}) keep only "
                                    f"{share:.1%} of sampled documents, but the goal asks to keep ≥ {target:.0%}")


def dry_run(recipe: dict[str, Any], sample_file: Path, out: Path, rows: list[dict[str, Any]]) -> DryRun:
    from gristmill.engine.local import LocalExecutor, RunOptions
    from gristmill.recipe.compile import compile_recipe

    compiled = compile_recipe(copy.deepcopy(recipe), input_override=str(sample_file), output_override=str(out))
    result = LocalExecutor(compiled, RunOptions(workers=1, progress=False, overwrite=True)).run()
    return DryRun(input_rows=rows, kept=read_kept(out), summary=result.summary, out_dir=out)


def repair(plan: Plan, checks: list[Check], goal: Goal, profile: Profile) -> tuple[Plan, list[str]] | None:
    """One round of repairs for the failed checks, each by its requirement's kind; None when nothing more
    can be tried. Quality is relaxed at most once a round, whichever checks ask for it."""
    new = copy.deepcopy(plan)
    failed = [c for c in checks if not c.passed and c.hard]
    actions = unbind_llm_steps(new, failed)
    if actions:  # the failed checks judged the model's choices: the kinds' repairs start from their own steps
        return new, actions
    relaxed: list[bool] = []

    def relax_once() -> bool:
        if not relaxed:
            relaxed.append(relax(ctx))
        return relaxed[0]

    ctx = RepairContext(new, profile, goal, relax_once)
    if any(c.kind == "nonempty" for c in failed):
        relax_once()
    for c in failed:
        if c.req is not None:
            get_kind(c.req.kind).repair(c.req, c, ctx)
    if not ctx.actions:
        return None
    return new, ctx.actions


def unbind_llm_steps(plan: Plan, failed: list[Check]) -> list[str]:
    """In an LLM plan, give a failed requirement the steps its kind proposed: in place of the operators the
    model chose and parametrised itself for it, or added where the model's choice left it no step of its own
    (it named a step another requirement already has). When the output came out empty or short of a
    retention target, every requirement the model served with its own parameters gets its kind's steps back
    (any of them may drop too much). What was done, a line a requirement; nothing for a built-in plan.

    A small model takes a searched operator with parameters that empty the sample (``gopher_quality`` for a
    length bound), or answers "near duplicates" with the exact-dedup step it already chose; the kinds'
    repairs only move the parameters of the kinds' own steps.
    """
    if not plan.proposed:
        return []
    whole = any(c.kind == "nonempty" or (c.req is not None and get_kind(c.req.kind).target) for c in failed)
    broken = [(c.req.kind, c.req.text) for c in failed if c.req is not None]
    if whole:
        broken += [st.serves for st in plan.steps if st.serves is not None]

    actions = []
    for key in dict.fromkeys(k for k in broken if k in plan.proposed):
        own = [st for st in plan.steps if st.serves == key]
        rest = [st for st in plan.steps if st.serves != key]
        added = [p for p in plan.proposed[key] if not any(p.same(x) for x in rest)]
        if not own and not added:
            continue
        plan.steps = rest + copy.deepcopy(added)
        was = "; ".join(f"{st.op} {st.params or ''}".strip() for st in own) or "no step of its own"
        put = ", ".join(p.op + (f" {p.params}" if p.params else "") for p in added) or "none (already in the plan)"
        actions.append(f"'{key[1]}': the LLM's choice ({was}) replaced by the step(s) its requirement kind proposed: {put}")
    return actions


def ordered_recipe(plan: Plan, name: str, goal_text: str, input_path: str | None, output: str | None) -> dict[str, Any]:
    return plan.recipe(name, goal_text, input_path, output)


def not_understood_message(goal: Goal) -> str:
    lines = [f"  - {c.text!r} (characters {c.start}-{c.end}): {c.detail}" for c in goal.not_understood]
    return ("part of the goal was not understood, so nothing was run:\n" + "\n".join(lines)
            + "\nreword it, or pass --accept-partial to run what was understood")


def prepare(
    input_path: str,
    goal: str,
    output: str | Path,
    *,
    llm: str | None = None,
    plan_only: bool = False,
    recipe_out: str | Path | None = None,
    sample: int = 2000,
    max_rounds: int = 3,
    workers: int | None = None,
    accept_partial: bool = False,
    fallback: bool = True,
    log: Log = print,
) -> PrepareResult:
    """Plan, verify and (unless ``plan_only``) run a recipe for ``goal`` on ``input_path`` into ``output``.

    With ``llm`` and ``fallback=False`` a failed LLM planner is an error (:class:`NoLLMPlan`) instead of a
    plan from the built-in planner: what measures the LLM planner alone.
    """
    if not fallback and not llm:
        raise UsageError("--no-fallback needs --llm: without an LLM there is nothing to fall back from")
    load_operator_plugins()
    out = Path(output)
    g = parse_goal(goal)
    log("requirements:")
    for i, r in enumerate(g.requirements, 1):
        log(f"  {i}. {r}" + (f"  (goal characters {r.span[0]}-{r.span[1]})" if r.span else ""))
    if g.not_understood:
        if not accept_partial:
            raise GoalError(not_understood_message(g))
        for c in g.not_understood:
            log(f"not understood (accepted as partial): {c.text!r}: {c.detail}")
    smp = draw_sample(input_path, sample)
    if smp.rejects.total:
        saved = "every one is" if smp.rejects.total <= smp.rejects.keep else f"the first {smp.rejects.keep:,} are"
        log(f"sample: {smp.rejects.line()} ({saved} written beside the plan report, sample_rejected.pq)")
    prof = profile_sample(smp)
    log(f"profiled {prof.docs} sampled documents: format {prof.format}, languages {dict(list(prof.languages.items())[:4])}, "
        f"exact dups {prof.exact_dup_rate:.1%}, near-dup docs {prof.near_dup_rate:.1%}")
    try:
        feasibility(g, prof)
    except GristmillError:
        if not out.exists() or _only_ours(out):  # where a failed plan leaves its report
            smp.rejects.save(Layout(out).prepare_dir / "sample_rejected.pq")
        raise
    planner_name = "built-in"
    plan: Plan | None = None
    work = Path(tempfile.mkdtemp(prefix="gristmill-prepare-"))
    try:
        if llm:
            from gristmill.agent.llm import llm_plan

            texts = [r.get("text") if isinstance(r.get("text"), str) else "" for r in smp.rows]
            plan, msg = llm_plan(llm, g, prof, log=log, sample_texts=texts, operators_dir=work / "operators",
                                 accept_partial=accept_partial)
            if plan is None and not fallback:
                raise NoLLMPlan(f"the LLM planner yielded no plan ({msg}); --no-fallback, so the built-in planner was not asked")
            if plan is None:
                log(f"LLM planner failed ({msg}); falling back to the built-in planner")
            else:
                planner_name = f"llm ({msg})"
                fmt = g.first("output_format")
                if fmt:
                    plan.output_format = fmt.params["format"]
        if plan is None:
            plan = build_plan(g, prof, accept_partial=accept_partial)
    except NotUnderstood as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise GoalError(f"part of the goal was not understood, so nothing was run: {exc}\n"
                        "reword it, or pass --accept-partial to run what was understood") from None
    except Unsupported as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise Unsatisfiable(f"cannot plan this goal: {exc}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    for n in plan.notes:
        log(f"note: {n}")
    total_tokens = None
    total_docs = None
    if smp.scanned and prof.docs:
        # extrapolate from the sample to the input (exact when the sample is the whole input)
        total_tokens = int(prof.tokens_total * (smp.scanned - smp.unreadable) / prof.docs)
        total_docs = smp.scanned - smp.unreadable
    history: list[dict[str, Any]] = []
    try:
        sample_file = write_sample(smp, work / "sample.jsonl")
        checks: list[Check] = []
        dry: DryRun | None = None
        recipe: dict[str, Any] = {}
        for rnd in range(1, max(1, max_rounds) + 1):
            recipe = ordered_recipe(plan, "prepared", goal, input_path, None)
            try:
                dry = dry_run(recipe, sample_file, work / f"dry{rnd}", smp.rows)
            except RecipeError as exc:
                raise GristmillError("the planner produced an invalid recipe (a bug): " + "; ".join(exc.problems)) from None
            checks = verify(g, dry, total_tokens, total_docs)
            log(f"round {rnd}: " + ", ".join(f"{c.kind} {'ok' if c.passed else 'FAIL'}" for c in checks))
            entry: dict[str, Any] = {"round": rnd, "checks": [c.line() for c in checks]}
            history.append(entry)
            if all(c.passed for c in checks if c.hard):
                break
            if rnd == max_rounds:
                break
            fixed = repair(plan, checks, g, prof)
            if fixed is None:
                break
            plan, actions = fixed
            entry["repairs"] = actions
            for a in actions:
                log(f"  repair: {a}")
        assert dry is not None
        docs_ret, tok_ret = dry.retention()
        examples = []
        samples_file = Layout(dry.out_dir).samples
        if samples_file.exists():
            seen: dict[str, int] = {}
            for line in samples_file.read_text(encoding="utf-8").splitlines():
                ex = json.loads(line)
                if seen.get(ex["step"], 0) < 3:
                    seen[ex["step"]] = seen.get(ex["step"], 0) + 1
                    examples.append(ex)
        ok = all(c.passed for c in checks if c.hard)
        failed = [c for c in checks if not c.passed and c.hard]
        error = None
        if not ok:
            error = f"after {len(history)} round(s) these requirements still fail on the sample:\n" + "\n".join(
                f"- {c.requirement}: {c.evidence}" for c in failed)
        ctx = {
            "goal": goal, "input": input_path, "planner": planner_name, "rounds": len(history),
            "status": "verified" if ok else "FAILED", "requirements": [str(r) for r in g.requirements],
            "assumptions": g.assumptions, "notes": plan.notes,
            "clauses": [c.line() for c in g.clauses], "profile": prof.to_dict(), "recipe": recipe,
            "history": history, "retention_docs": docs_ret, "retention_tokens": tok_ret, "summary": dry.summary,
            "dropped_examples": examples, "error": error, "sample_rejected": smp.rejects.to_dict(),
        }
        header = [f"gristmill prepare: {goal}", f"planner: {planner_name}; verified on {prof.docs} sampled documents "
                  f"in {len(history)} round(s): {'all requirements pass' if ok else 'SOME REQUIREMENTS FAIL'}",
                  f"predicted retention: {docs_ret:.1%} of documents, {tok_ret:.1%} of tokens"]
        header += [f"assumption: {a}" for a in g.assumptions]
        text = recipe_yaml(recipe, header)
        result = PrepareResult(g, prof, plan, recipe, checks, history, None, {}, None, dry.summary, planner_name)
        if not ok:
            reports = _write_reports(Layout(out).prepare_dir if not out.exists() or _only_ours(out) else work / "report", ctx, smp)
            raise Unsatisfiable(error + f"\n(plan report: {reports['markdown']})")
        summary = None
        if not plan_only:
            if out.exists() and _only_ours(out):  # the plan reports of an earlier, failed prepare
                shutil.rmtree(Layout(out).prepare_dir, ignore_errors=True)
            from gristmill.engine.local import LocalExecutor, RunOptions
            from gristmill.recipe.compile import compile_recipe

            compiled = compile_recipe(copy.deepcopy(recipe), input_override=input_path, output_override=str(out))
            summary = LocalExecutor(compiled, RunOptions(workers=workers, progress=False, overwrite=False)).run().summary
            ctx["full_run"] = {"input": summary["input"], "kept": summary["kept"], "dropped": summary["dropped"]["total"],
                               "rejected": summary["rejected"]["total"]}
            log(f"full run: {summary['input']} in, {summary['kept']} kept, {summary['dropped']['total']} dropped, "
                f"{summary['rejected']['total']} rejected")
        recipe_path = Path(recipe_out) if recipe_out else Layout(out).prepare_dir / "recipe.yaml"
        recipe_path.parent.mkdir(parents=True, exist_ok=True)
        recipe_path.write_text(text, encoding="utf-8")
        if plan.generated:
            from gristmill.agent.sandbox import copy_operators

            copy_operators(work / "operators", operators_dir(recipe_path), plan.generated)
            log(f"generated operators {plan.generated} saved in {operators_dir(recipe_path)}")
        result.recipe_path = recipe_path
        result.report_paths = _write_reports(Layout(out).prepare_dir, ctx, smp)
        result.summary = summary
        log(f"recipe: {recipe_path}; report: {result.report_paths['markdown']}")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_reports(folder: Path, ctx: dict[str, Any], smp: Sample) -> dict[str, Path]:
    """The plan reports, and the sample's rejected records beside them (when there are any)."""
    paths = write_reports(folder, ctx)
    saved = smp.rejects.save(folder / "sample_rejected.pq")
    if saved is not None:
        paths["sample_rejected"] = saved
    return paths


def _only_ours(folder: Path) -> bool:
    """A folder that holds nothing but gristmill's side folder (reports of an earlier prepare, say)."""
    return all(p.name == SIDE_DIR for p in folder.iterdir())


def estimate_tokens(rows: list[dict[str, Any]]) -> int:
    return sum(est_tokens(r.get("text") or "") for r in rows)
