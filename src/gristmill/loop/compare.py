"""Round 2 against round 1, on one fixed held-out set, at equal tokens.

Both rounds evaluate on round 1's held-out shards (the same windows: same shards, ``train.seq_len`` and
``train.eval_tokens``); this module checks it again before comparing (no held-out document among round 2's
training documents, the same evaluation settings) and refuses to compare otherwise. It reports the final
average and worst-domain held-out loss and each domain's, the tokens round 2 needed to reach round 1's final
average (linear between evaluations) with the cost of scoring in seconds and in round-1 training tokens of the
same wall time, the mixtures, and a sample per domain of the documents the refinement removed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from gristmill.errors import GristmillError

SAMPLE_PER_DOMAIN = 3
SNIPPET_CHARS = 240


def read_curve(run_dir: Path) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
    return [{k: r[k] for k in ("tokens", "avg", "worst", "worst_domain", "heldout", "weights")} for r in rows]


def tokens_to_reach(curve: list[dict[str, Any]], target: float) -> float | None:
    """Tokens at which ``curve``'s average held-out loss first reaches ``target`` (linear between evaluations)."""
    prev = None
    for row in curve:
        if row["avg"] <= target:
            if prev is None or prev["avg"] == row["avg"]:
                return float(row["tokens"])
            frac = (prev["avg"] - target) / (prev["avg"] - row["avg"])
            return float(prev["tokens"] + frac * (row["tokens"] - prev["tokens"]))
        prev = row
    return None


def check_same_heldout(r1: Path, r2: Path) -> dict[str, Any]:
    """Both rounds evaluated on the same documents and windows, none of them trained on by round 2."""
    from gristmill.shards import read_doc_map
    from gristmill.train.config import load_config
    from gristmill.train.source import heldout_ids

    src1 = json.loads((r1 / "source.json").read_text())
    src2 = json.loads((r2 / "source.json").read_text())
    held = (Path(src1["shards"]) / "heldout").resolve()
    if src2.get("heldout") is None or Path(src2["heldout"]).resolve() != held:
        raise GristmillError(f"round 2 ({r2}) did not evaluate on round 1's held-out set {held} "
                             f"(it used {src2.get('heldout') or 'its own split'}): the rounds are not comparable")
    c1, c2 = load_config(r1 / "config.yaml"), load_config(r2 / "config.yaml")
    for key in ("seq_len", "eval_tokens"):
        if getattr(c1.train, key) != getattr(c2.train, key):
            raise GristmillError(f"train.{key} differs between the rounds: their evaluation windows differ")
    ids = heldout_ids(held)
    trained: set[str] = set()
    for dom in sorted((Path(src2["shards"]) / "train").iterdir()):
        table = read_doc_map(dom) if dom.is_dir() else None
        if table is not None:
            trained.update(str(x) for x in table.column("id").to_pylist())
    overlap = ids & trained
    if overlap:
        raise GristmillError(f"{len(overlap)} held-out documents (e.g. {sorted(overlap)[0]!r}) are among round 2's "
                             "training documents: the comparison would not be fair")
    import hashlib

    return {"heldout": str(held), "heldout_docs": len(ids), "round2_train_docs": len(trained), "overlap": 0,
            "heldout_ids_hash": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16],
            "excluded_from_round2": src2.get("excluded", 0), "seq_len": c1.train.seq_len,
            "eval_tokens_per_domain": c1.train.eval_tokens}


def removed_sample(catalog: Any, before: str, after: str, run: str, seed: int = 0,
                   domain_field: str = "domain", text_field: str = "text") -> dict[str, Any]:
    """Per domain: how many documents the refinement removed, their mean signals against the kept ones', and a
    sample of them with their signal values."""
    from gristmill.catalog.columns import iter_version

    v2, v3 = catalog.get(before), catalog.get(after)
    id_field = v2.manifest.get("id_field") or "id"
    kept: set[str] = set()
    for _, t in iter_version(v3, [id_field]):
        kept.update(str(x) for x in t.column(id_field).to_pylist())
    cols = [f"train.{run}.{s}" for s in ("loss", "excess_loss", "draws")]
    per: dict[str, dict[str, Any]] = {}
    for _, t in iter_version(v2, [id_field, domain_field, text_field, *cols]):
        for rec in t.to_pylist():
            d = per.setdefault(str(rec.get(domain_field)), {"docs": 0, "removed": [], "kept_vals": []})
            d["docs"] += 1
            vals = {c.rsplit(".", 1)[1]: rec.get(c) for c in cols}
            if str(rec[id_field]) in kept:
                d["kept_vals"].append(vals)
            else:
                d["removed"].append({"id": str(rec[id_field]), **vals,
                                     "text": (rec.get(text_field) or "")[:SNIPPET_CHARS]})
    rng = random.Random(seed)
    out = {}
    for dom, d in sorted(per.items()):
        removed = d["removed"]
        sample = sorted(rng.sample(removed, min(SAMPLE_PER_DOMAIN, len(removed))),
                        key=lambda r: -(r["excess_loss"] if r["excess_loss"] is not None else -np.inf))
        out[dom] = {"docs": d["docs"], "removed": len(removed), "removed_share": len(removed) / d["docs"],
                    "mean_removed": _means(removed), "mean_kept": _means(d["kept_vals"]), "sample": sample}
    return out


def _means(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for s in ("loss", "excess_loss", "draws"):
        vals = [r[s] for r in rows if r.get(s) is not None and np.isfinite(r[s])]
        out[s] = float(np.mean(vals)) if vals else None
    return out


def _mixture(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "mixture.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def compare_rounds(spec: Any, results: dict[str, dict[str, Any]], times: dict[str, dict[str, Any]],
                   catalog: Any) -> dict[str, Any]:
    r1, r2 = Path(results["train_r1"]["run_dir"]), Path(results["train_r2"]["run_dir"])
    src1 = json.loads((r1 / "source.json").read_text())
    fair = check_same_heldout(r1, r2)
    c1, c2 = read_curve(r1), read_curve(r2)
    f1, f2 = c1[-1], c2[-1]
    if f1["tokens"] != f2["tokens"]:
        raise GristmillError(f"the rounds ended at different token counts ({f1['tokens']:,} and {f2['tokens']:,}); "
                             "compare them at equal tokens (train.tokens)")
    domains = list(f1["heldout"])
    reach = tokens_to_reach(c2, f1["avg"])
    score = results["score"]
    speeds = [r["tokens_per_s"] for r in (json.loads(x) for x in (r1 / "metrics.jsonl").read_text().splitlines()
                                          if x.strip()) if r.get("tokens_per_s")]
    r1_speed = float(np.mean(speeds)) if speeds else (results["train_r1"].get("tokens_per_s") or 0.0)
    score_tokens_eq = score["seconds"] * r1_speed
    table = {
        "tokens": f1["tokens"],
        "avg": {"r1": f1["avg"], "r2": f2["avg"], "delta": f2["avg"] - f1["avg"]},
        "worst": {"r1": f1["worst"], "r1_domain": f1["worst_domain"], "r2": f2["worst"],
                  "r2_domain": f2["worst_domain"], "delta": f2["worst"] - f1["worst"]},
        "domains": {d: {"r1": f1["heldout"][d], "r2": f2["heldout"][d], "delta": f2["heldout"][d] - f1["heldout"][d]}
                    for d in domains},
        "tokens_to_reach_r1_final_avg": reach,
        "reach_ratio": reach / f1["tokens"] if reach is not None else None,
        "score_seconds": score["seconds"],
        "score_tokens_equivalent": score_tokens_eq,
        "r1_train_tokens_per_s": r1_speed,
        "reach_ratio_with_scoring": (reach + score_tokens_eq) / f1["tokens"] if reach is not None else None,
    }
    control = None
    if results.get("train_control") and not results["train_control"].get("skipped"):
        rc = Path(results["train_control"]["run_dir"])
        check_same_heldout(r1, rc)
        cc = read_curve(rc)
        fc = cc[-1]
        control = {"run_dir": str(rc), "curve": cc, "avg": fc["avg"], "worst": fc["worst"],
                   "worst_domain": fc["worst_domain"], "domains": {d: fc["heldout"][d] for d in domains},
                   "refinement_delta": {"avg": f2["avg"] - fc["avg"], "worst": f2["worst"] - fc["worst"]},
                   "rest_delta": {"avg": fc["avg"] - f1["avg"], "worst": fc["worst"] - f1["worst"]}}
        table["control"] = {k: control[k] for k in ("avg", "worst", "worst_domain", "domains", "refinement_delta",
                                                     "rest_delta")}
    better_avg, better_worst = f2["avg"] < f1["avg"], f2["worst"] < f1["worst"]
    if better_avg and better_worst:
        verdict = (f"round 2 is ahead at equal tokens: average {f2['avg']:.4f} vs {f1['avg']:.4f}, worst domain "
                   f"{f2['worst']:.4f} vs {f1['worst']:.4f}")
    elif better_avg or better_worst:
        verdict = (f"mixed: round 2's average {f2['avg']:.4f} vs {f1['avg']:.4f}, worst domain {f2['worst']:.4f} vs "
                   f"{f1['worst']:.4f} (one better, one not)")
    else:
        verdict = (f"round 2 is NOT ahead at this size: average {f2['avg']:.4f} vs {f1['avg']:.4f}, worst domain "
                   f"{f2['worst']:.4f} vs {f1['worst']:.4f}")
    if control is not None:
        rd, od = control["refinement_delta"], control["rest_delta"]
        verdict += (f". Of that, the refinement alone (round 2 against the same settings on the unrefined version) "
                    f"{rd['avg']:+.4f} average, {rd['worst']:+.4f} worst; the rest (mixture start, fixed held-out) "
                    f"{od['avg']:+.4f} average, {od['worst']:+.4f} worst")
    r1_mix, r2_mix = _mixture(r1), _mixture(r2)
    wb, ref = results["writeback"], results["refine"]
    return {
        "spec": spec.model_dump(),
        "versions": {"prepared": results["prepare"]["ref"], "signals": wb["ref"], "refined": ref["ref"]},
        "lineage": {v: {"parents": catalog.get(v).manifest.get("parents"),
                        "recipe": (catalog.get(v).manifest.get("recipe") or {}).get("name")}
                    for v in (results["prepare"]["ref"], wb["ref"], ref["ref"])}
        | {wb["ref"]: {"parents": catalog.get(wb["ref"]).manifest.get("parents"), "run": wb.get("lineage")},
           ref["ref"]: {"parents": catalog.get(ref["ref"]).manifest.get("parents"), "from": ref["from"],
                        **{k: ref[k] for k in ("goal", "keep", "recipe") if k in ref}}},
        "runs": {spec.runs[0]: str(r1), spec.runs[1]: str(r2)},
        "heldout": fair,
        "curves": {spec.runs[0]: c1, spec.runs[1]: c2,
                   **({f"{spec.runs[1]}-control": control["curve"]} if control is not None else {})},
        "mixtures": {"r1_learnt": r1_mix, "r2_start": c2[0]["weights"], "r2_final": r2_mix.get("final")},
        "refined": {"dropped": ref["dropped"], "dropped_share": ref["dropped_share"], "rows_before": wb["rows"],
                    "rows_after": ref["rows"]},
        "removed": removed_sample(catalog, wb["ref"], ref["ref"], spec.runs[0], spec.seed, src1["domain_field"],
                                  src1["text_field"]),
        "scoring": {k: score[k] for k in ("docs_scored", "tokens", "seconds", "tokens_per_s", "reference")},
        "comparison": table,
        "verdict": verdict,
        "phases": times,
        "wall_seconds": sum(t["seconds"] for t in times.values()),
    }
