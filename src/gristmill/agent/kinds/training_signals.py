"""Training signals: goals over what the last trained model measured on each document.

"drop what the last model found noisy or unlearnable", "remove the 10% of documents with the highest excess
loss", "keep documents with excess loss below 2.5", "prefer documents the model found easy" (with a token
budget), "mix the way the last run learnt". The data carries the signals as ``train.<run>.<signal>``
columns, written back into a catalog version by ``gristmill train``; the kind reads them from the profile,
takes the latest run when there are several (the one whose columns come last: a version lists the columns
added to it after its parent's), and refuses clearly when there are none.

What it builds:

- a share ("the 10% with the highest ..."): a ``signal_percentile`` step (a global step, exact shares),
  per domain when asked, and by default for "noisy / unlearnable" (domains differ in loss scale);
- a threshold ("excess loss below 2.5"): a ``filter`` step with the rule;
- a preference ("prefer what the model found easy"): ``budget_sample`` weighted by ``exp(-loss)``; the
  token budget of the goal sets its share (the ``token_budget`` kind trims it);
- "mix the way the last run learnt" is a training request, not a data step: prepare looks the run's output
  folder up in the catalog (the lineage of the version that received the run's signals), reads the mixture
  it learnt, and records in the plan (log and report) the train-config lines that use it
  (``policy: {name: static, weights_from: RUN_DIR}``, or ``policy.init_weights_from`` to start from it).

Rules read the columns with ``field('train.r1.loss')``: the dry run reads a JSONL sample, whose columns are
not known before it is read (a recipe over a Parquet or catalog input may also write the bare name).
Each check recomputes its property from the sample rows, without the operator: the expected drop set by
sorting each group's values, the threshold on every kept document, the mixture's domains against the data's.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import NUM, negated_before, parse_number, vocabulary
from gristmill.agent.plan import PlanStep, Unsupported
from gristmill.agent.profile import DOMAIN_FIELDS
from gristmill.agent.requirement import Requirement, Span
from gristmill.engine.layout import SIDE_TABLE_EXT, Layout

_V = vocabulary("training_signals")
TRAIN_COLUMN = re.compile(r"^train\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)$")


def _words(key: str, bounded: bool = True) -> re.Pattern[str]:
    alts = "|".join(_V[key])
    return re.compile(rf"\b(?:{alts})\b" if bounded else rf"(?:{alts})")


MODEL, FOUND = _words("model"), _words("found")
HARD_ALONE, HARD_WITH_MODEL = _words("hard_alone"), _words("hard_with_model")
SIGNALS = {name: re.compile(rf"\b(?:{'|'.join(alts)})\b") for name, alts in _V["signals"].items()}
TOP, BOTTOM, PER_DOMAIN = _words("top"), _words("bottom"), _words("per_domain")
MIXTURE, MIXTURE_START = _words("mixture", False), _words("mixture_start", False)
PREFER, EASY = _words("prefer", False), _words("easy")
_CMP = {"<": _V["below"], ">": _V["above"]}
THRESHOLD = re.compile(r"\s*(?:is\s+|are\s+|was\s+|of\s+)?(?:(" + "|".join(_CMP["<"]) + r")|(" + "|".join(_CMP[">"])
                       + rf"))\s*(-\s*)?{NUM}")
SHARE = re.compile(rf"\b{NUM}\s*(?:%|percent\b|per\s*cent\b)")
DEFAULT_SHARE = float(_V["default_share"])


def signal_runs(columns: Iterable[str]) -> dict[str, list[str]]:
    """``train.<run>.<signal>`` columns as run -> signals, runs in the order their first column appears."""
    runs: dict[str, list[str]] = {}
    for c in columns:
        m = TRAIN_COLUMN.match(c)
        if m:
            runs.setdefault(m.group(1), []).append(m.group(2))
    return runs


def latest_run(columns: Iterable[str], what: str) -> tuple[str, dict[str, list[str]]]:
    """The run whose signals to use (the latest), or :class:`Unsupported` naming what the data has."""
    cols = list(columns)
    runs = signal_runs(cols)
    if not runs:
        raise Unsupported(f"{what}: the input carries no training signals (no train.<run>.<signal> column; it has "
                          f"{sorted(cols)[:20]}); train a model on a catalog version and write its signals back "
                          "first (docs/train.md), then prepare that version")
    return list(runs)[-1], runs


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _compound(low: str, start: int) -> bool:
    """Whether the signal word at ``start`` ends a hyphenated compound whose first word is not a ranking
    ("weight-loss" is a topic; "high-loss" and "low-perplexity" still rank documents)."""
    m = re.search(r"([a-z]+)-$", low[:start])
    return m is not None and not (TOP.fullmatch(m.group(1)) or BOTTOM.fullmatch(m.group(1)))


def _said_of_a_model(low: str, end: int) -> bool:
    """A signal word counts as a training signal only with what makes it one in the same clause: a model or
    run, what it found hard or easy, a share, a ranking word or a threshold right after the word."""
    return any(p.search(low) for p in (MODEL, HARD_ALONE, HARD_WITH_MODEL, PREFER, SHARE, TOP, BOTTOM)) \
        or THRESHOLD.match(low, end) is not None


@register
class TrainingSignals(RequirementKind):
    name = "training_signals"
    description = "drop, keep or prefer documents by what the last trained model measured on them; reuse its mixture"
    rank, order = 15, 0.5  # parsed before quality ("noisy"), run first: shares are of the input as measured
    query = "percentile rank of a training signal per domain drop top share"
    families = frozenset({"select"})
    drives = ("signal_percentile", "filter", "budget_sample")

    # -- parse ----------------------------------------------------------------------------------------------
    def parse(self, goal: GoalText) -> list[Requirement]:
        out = []
        for clause in goal.clauses:
            low = goal.low[clause.start : clause.end]
            found = self._mixture(low) or self._signal(low)
            if found is None:
                continue
            params, text, pieces, assumption = found
            start, end = clause.start + min(s for s, _ in pieces), clause.start + max(e for _, e in pieces)
            out.append(self.requirement(params, text, goal.text[start:end], assumption, span=(start, end)))
            # the phrase is this requirement's: later kinds must not read "noisy" as heuristic quality or
            # "10%" as a retention target (same length, so positions stay those of the goal)
            goal.low = goal.low[:start] + " " * (end - start) + goal.low[end:]
        return out

    def _mixture(self, low: str) -> tuple[dict, str, list[Span], str | None] | None:
        m = MIXTURE.search(low)
        if not m:
            return None
        pieces = [m.span()] + [x.span() for x in (MODEL.search(low), MIXTURE_START.search(low)) if x]
        start = MIXTURE_START.search(low) is not None
        text = ("start the next run from the mixture the last run learnt" if start
                else "train the next run on the mixture the last run learnt")
        return {"action": "mixture", "start": start}, text, pieces, None

    def _signal(self, low: str) -> tuple[dict, str, list[Span], str | None] | None:
        pieces: list[Span] = []
        signal = None
        for name, pat in SIGNALS.items():
            m = pat.search(low)
            if m and m.group(0).startswith("perplexit") and not MODEL.search(low):
                continue  # perplexity alone is a reference language model's (not supported), not the last run's
            if m and _compound(low, m.start()):
                continue  # "weight-loss pills", "hair-loss": a word of a topic, not a model's loss
            if m and not _said_of_a_model(low, m.end()):
                continue  # "documents about hair loss": no ranking, threshold, share or model says it is one
            if m:
                signal = name
                pieces.append(m.span())
                break
        model = MODEL.search(low)
        hard = HARD_ALONE.search(low) or (HARD_WITH_MODEL.search(low) if model else None)
        prefer = PREFER.search(low)
        easy = EASY.search(low)
        if signal is None and hard is None and not (prefer and easy and model):
            return None
        for x in (model, hard, FOUND.search(low) if model else None, PER_DOMAIN.search(low)):
            if x:
                pieces.append(x.span())
        per_domain = True if PER_DOMAIN.search(low) else None
        assumption = None
        if prefer and (easy or signal):
            pieces += [prefer.span()] + ([easy.span()] if easy else [])
            side = None if easy else (TOP.search(low) or BOTTOM.search(low))
            end = "high" if side is not None and TOP.fullmatch(side.group(0)) else "low"
            if side is not None:
                pieces.append(side.span())
            params = {"action": "prefer", "signal": signal or "loss", "end": end}
            return params, f"prefer documents with {end} {params['signal']} (weighted sample to the token budget)", \
                pieces, "weight exp(-signal) for low, exp(signal) for high"
        if signal is not None:
            t = THRESHOLD.match(low, pieces[0][1])
            if t:
                pieces.append(t.span())
                value = parse_number(t.group(4)) * (-1 if t.group(3) else 1)
                said = t.group(1) or t.group(2)
                op = ("<" if t.group(1) else ">") + ("=" if re.match(r"at\s|no\s|[<>]=", said) else "")
                keep = not negated_before(low, pieces[0][0])
                words = "keep" if keep else "drop"
                return ({"action": "threshold", "signal": signal, "cmp": op, "value": value, "keep": keep},
                        f"{words} documents whose {signal} {op} {value:g}", pieces, None)
        share_m = SHARE.search(low)
        share = parse_number(share_m.group(1)) / 100 if share_m else DEFAULT_SHARE
        if share_m:
            pieces.append(share_m.span())
        else:
            assumption = f"the {DEFAULT_SHARE:.0%} of documents the model found hardest"
        top, bottom = TOP.search(low), BOTTOM.search(low)
        for x in (top, bottom):
            if x:
                pieces.append(x.span())
        if bottom and not top:
            end = "bottom"
        elif top or hard:
            end = "top"
        else:
            end = "top"
            assumption = (assumption + "; " if assumption else "") + "the highest values (what the model found hardest)"
        if share_m and not negated_before(low, share_m.start()) and re.search(r"\b(?:keep|retain|only)\b", low[: share_m.start()]):
            share, end = 1 - share, "bottom" if end == "top" else "top"  # "keep the 90% with the lowest loss"
        if not 0 < share < 1:
            return None
        params = {"action": "drop_share", "signal": signal, "share": round(share, 6), "end": end, "per_domain": per_domain}
        what = signal or "loss (excess loss when measured)"
        where = " within each domain" if per_domain else ""
        side = "highest" if end == "top" else "lowest"
        return params, f"drop the {share:.0%} of documents with the {side} {what}{where}", pieces, assumption

    # -- build ----------------------------------------------------------------------------------------------
    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        columns = list(ctx.profile.fields)
        run, runs = latest_run(columns, req.text)
        p = req.params
        note = f"training signals of run {run!r}" + (f" (the latest of {list(runs)})" if len(runs) > 1 else "")
        if p["action"] == "mixture":
            mixture = resolve_mixture(run)
            flag = "init_weights_from" if p["start"] else "weights_from"
            policy = (f"policy: {{name: <your policy>, init_weights_from: {mixture.run}}}" if p["start"]
                      else f"policy: {{name: static, weights_from: {mixture.run}}}")
            weights = ", ".join(f"{d} {w:.3f}" for d, w in sorted(mixture.weights.items()))
            ctx.plan.notes.append(f"training: put `{policy}` in the next train config (policy.{flag}: the mixture run "
                                  f"{run!r} learnt, read from its {mixture.source}: {weights}); the recipe leaves the "
                                  "data as it is")
            return []
        column = self.column(req, runs[run], run)
        field = f"field({column!r})"
        if p["action"] == "threshold":
            rule = f"{field} {p['cmp']} {p['value']!r}"
            if not p["keep"]:
                rule = f"not {rule}"
            return [self.step("filter", {}, {f"{p['signal']}_{'keep' if p['keep'] else 'drop'}": rule},
                              f"{req.text}: {note}", name=self.step_name(req))]
        if p["action"] == "prefer":
            if not any("max" in r.params for r in ctx.goal.of("token_budget")):
                raise Unsupported(f"{req.text}: preferring documents means sampling to a size; add a token budget to "
                                  "the goal (e.g. 'at most 2M tokens')")
            weight = f"exp(-{field})" if p["end"] == "low" else f"exp({field})"
            step = self.step("budget_sample", {"fraction": 1.0, "weight": weight}, None,
                             f"{req.text}: weight {weight} ({note}); the token budget sets the share",
                             name=self.step_name(req))
            step.order = 14  # a budget is the last cut, after every filter (the token_budget kind's place)
            return [step]
        group = self.group_field(req, ctx)
        p["by"] = group  # what the check groups by
        params: dict[str, Any] = {"of": field, "by": group, f"drop_{p['end']}": p["share"]}
        why = f"{req.text}: {note}, {column}" + (f", ranked within each {group}" if group else ", over the whole input")
        return [self.step("signal_percentile", params, None, why, name=self.step_name(req))]

    def column(self, req: Requirement, signals: list[str], run: str) -> str:
        sig = req.params.get("signal") or ("excess_loss" if "excess_loss" in signals else "loss")
        if sig not in signals:
            raise Unsupported(f"{req.text}: run {run!r} wrote no {sig} (its signals: {signals})"
                              + ("; excess loss needs a reference model when scoring" if sig == "excess_loss" else ""))
        return f"train.{run}.{sig}"

    def group_field(self, req: Requirement, ctx: PlanContext) -> str | None:
        per_domain = req.params.get("per_domain")
        field = ctx.profile.domain_field
        if per_domain and not field:
            raise Unsupported(f"{req.text}: per domain needs a domain field (domain, category, ...); the input has "
                              f"{sorted(ctx.profile.fields)[:20]}")
        if per_domain is None and req.params.get("signal") is None and field:
            ctx.goal.assumptions.append(f"'{req.source}': ranked within each {field} (domains differ in loss scale)")
            return field
        return field if per_domain else None

    @staticmethod
    def step_name(req: Requirement) -> str:
        p = req.params
        sig = p.get("signal")
        if p["action"] == "threshold":
            return f"{'keep' if p['keep'] else 'drop'}_by_{sig}"
        if p["action"] == "prefer":
            return f"prefer_{p['end']}_{sig}"
        if p.get("signal") is None:
            return "drop_hardest"
        return f"drop_{'high' if p['end'] == 'top' else 'low'}_{sig}"

    # -- check ----------------------------------------------------------------------------------------------
    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        rows = dry.input_rows
        columns = list(dict.fromkeys(k for r in rows[:500] for k in r))
        try:
            run, runs = latest_run(columns, req.text)
        except Unsupported as exc:
            return self.result(req, False, str(exc))
        p = req.params
        if p["action"] == "mixture":
            return self._check_mixture(req, run, rows)
        column = self.column(req, runs[run], run)
        reaching = self._reaching(dry, rows, self.step_name(req))
        values = {r.get("id"): r.get(column) for r in reaching}
        defined = {i: v for i, v in values.items() if _finite(v)}
        kept = set(dry.kept.column("id").to_pylist()) if dry.kept.num_rows else set()
        if not defined:
            return self.result(req, False, f"none of the {len(reaching)} sampled documents has a value of {column}",
                               {"column": column, "defined": 0})
        dropped = _dropped_ids(dry, self.step_name(req))
        if p["action"] == "threshold":
            return self._check_threshold(req, column, values, kept, dropped)
        if p["action"] == "prefer":
            kept_vals = [v for i, v in defined.items() if i in kept]
            if len(kept) >= len(values) or not kept_vals:
                return self.result(req, True, "the token budget cut nothing yet: every document is kept", {"column": column})
            mean_all, mean_kept = sum(defined.values()) / len(defined), sum(kept_vals) / len(kept_vals)
            better = mean_kept < mean_all if p["end"] == "low" else mean_kept > mean_all
            return self.result(req, better, f"mean {column} {mean_kept:.4g} over the kept documents vs {mean_all:.4g} "
                               "over the sample", {"column": column, "mean_kept": mean_kept, "mean_all": mean_all})
        by = p.get("by")
        groups = {r.get("id"): str(r.get(by)) if by else "" for r in reaching}
        expected = expected_drops(defined, groups, p["share"], p["end"])
        wrong_kept = expected & kept
        extra = dropped - expected
        missing = expected - dropped
        ok = not wrong_kept and not extra and not missing and bool(expected)
        per = defaultdict(lambda: [0, 0])
        for i in defined:
            per[groups[i]][1] += 1
            per[groups[i]][0] += i in expected
        shares = ", ".join(f"{g or 'all'} {d}/{n}" for g, (d, n) in sorted(per.items()))
        evidence = (f"{column}: recomputed the {'highest' if p['end'] == 'top' else 'lowest'} {p['share']:.0%} of each "
                    f"{'group (' + by + ')' if by else 'sample'} by sorting: {len(expected)} documents ({shares}); "
                    f"dropped by the step {len(dropped)}, expected but kept {len(wrong_kept)}, dropped but not expected "
                    f"{len(extra)}")
        return self.result(req, ok, evidence, {"column": column, "expected": len(expected), "dropped": len(dropped),
                                               "violations": len(wrong_kept) + len(extra) + len(missing)})

    def _check_threshold(self, req: Requirement, column: str, values: dict, kept: set, dropped: set) -> Check:
        p = req.params
        cmp = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[p["cmp"]]

        def passes(v: Any) -> bool:
            hit = _finite(v) and cmp(v, p["value"])
            return hit if p["keep"] else not hit

        bad_kept = [i for i in kept if i in values and not passes(values[i])]
        should_drop = {i for i, v in values.items() if not passes(v)}
        ok = not bad_kept and should_drop == dropped
        return self.result(req, ok, f"{len(kept)} kept documents: {len(bad_kept)} break {column} {p['cmp']} {p['value']:g}; "
                           f"{len(should_drop)} should be dropped, the step dropped {len(dropped)}",
                           {"column": column, "violations": len(bad_kept) + len(should_drop ^ dropped)})

    def _check_mixture(self, req: Requirement, run: str, rows: list[dict]) -> Check:
        try:
            mixture = resolve_mixture(run)
        except Unsupported as exc:
            return self.result(req, False, str(exc))
        field = next((f for f in DOMAIN_FIELDS if any(f in r for r in rows[:50])), None)
        seen = {str(r.get(field)) for r in rows} if field else set()
        unknown = sorted(seen - set(mixture.weights))
        ok = bool(field) and not unknown
        return self.result(req, ok, f"run {run!r} learnt weights for {sorted(mixture.weights)} ({mixture.source}); the data's "
                           f"{field or 'domain field (none)'} values {sorted(seen)}" + (f"; not in the mixture: {unknown}" if unknown else ""),
                           {"run_dir": mixture.run, "weights": mixture.weights})

    @staticmethod
    def _reaching(dry: DryRun, rows: list[dict], step: str) -> list[dict]:
        """The sample rows that reached ``step``: all but those dropped by a step before it."""
        before = set()
        for s in dry.summary.get("steps", []):
            if s.get("name") == step:
                break
            before.add(s.get("name"))
        gone = set()
        for f in sorted(Layout(dry.out_dir).dropped_dir.glob("*" + SIDE_TABLE_EXT)):
            t = pq.read_table(f, columns=["id", "step"])
            gone |= {i for i, s in zip(t["id"].to_pylist(), t["step"].to_pylist()) if s in before}
        return [r for r in rows if r.get("id") not in gone]

    # -- repair ---------------------------------------------------------------------------------------------
    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        """Excess loss chosen for "noisy / unlearnable" but unmeasured on the data: use the loss instead."""
        p = req.params
        if p["action"] != "drop_share" or p.get("signal") is not None or check.measured.get("defined") != 0:
            return
        column = check.measured.get("column", "")
        if not column.endswith(".excess_loss"):
            return
        old = self.step_name(req)
        p["signal"] = "loss"
        loss = column.rsplit(".", 1)[0] + ".loss"
        for s in ctx.plan.steps:
            if s.requirement == self.name and s.name == old:
                s.params["of"] = f"field({loss!r})"
                s.name = self.step_name(req)
                s.why += f"; repair: {column} has no value on the sample (no reference model), ranked by {loss}"
        ctx.actions.append(f"ranked by {loss}: {column} is undefined on every sampled document")


def expected_drops(values: dict[Any, float], groups: dict[Any, str], share: float, end: str) -> set:
    """The ids a share cut drops, by the definition of ``signal_percentile``: a document goes when fewer than
    ``share × n`` documents of its group lie strictly beyond it (above for the top, below for the bottom)."""
    by: dict[str, list[tuple[float, Any]]] = defaultdict(list)
    for i, v in values.items():
        by[groups.get(i, "")].append((v, i))
    out = set()
    for items in by.values():
        ordered = sorted(v for v, _ in items)
        n = len(ordered)
        for v, i in items:
            beyond = n - bisect_right(ordered, v) if end == "top" else bisect_left(ordered, v)
            if beyond < share * n - 1e-9:
                out.add(i)
    return out


def _dropped_ids(dry: DryRun, step: str) -> set:
    out: set = set()
    for f in sorted(Layout(dry.out_dir).dropped_dir.glob("*" + SIDE_TABLE_EXT)):
        t = pq.read_table(f, columns=["id", "step"])
        out |= {i for i, s in zip(t["id"].to_pylist(), t["step"].to_pylist()) if s == step}
    return out


def resolve_mixture(run: str) -> Any:
    """The mixture run ``run`` learnt, its output folder found in the catalog (the lineage of the version its
    signals were written into); :class:`Unsupported` when no version records it or the folder holds none."""
    from gristmill.catalog.core import Catalog
    from gristmill.errors import GristmillError
    from gristmill.train.run_mixture import read_run_mixture

    folder = None
    try:
        cat = Catalog()
        if not cat.store.is_local or Path(cat.store.root).exists():
            found = []
            for name in cat.datasets():
                for v in cat.versions(name):
                    lineage = v.manifest.get("lineage") or {}
                    if lineage.get("kind") == "run" and lineage.get("run") == run and lineage.get("run_dir"):
                        found.append((v.manifest.get("created", ""), v.number, lineage["run_dir"]))
            folder = max(found)[2] if found else None
    except GristmillError:
        folder = None
    if folder is None:
        raise Unsupported(f"the data carries run {run!r}'s signals, but no catalog version records where that run's "
                          "output folder is; set policy.weights_from (or init_weights_from) to it in the train config")
    try:
        return read_run_mixture(folder, f"run {run!r}")
    except GristmillError as exc:
        raise Unsupported(str(exc)) from None
