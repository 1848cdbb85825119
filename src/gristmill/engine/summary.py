"""Merge per-chunk figures into the run summary, check that no row was lost, and flag mass rejects.

A *mass reject* is one reason rejecting more than half of the rows of an input file of at least two rows
(or more than half of all input rows): almost always a wrong setting (a ``text_field`` that no row has, the
wrong format) rather than bad data, so the command line exits 1 on it, after writing the summary.
"""

from __future__ import annotations

import time
from typing import Any

from gristmill import __version__
from gristmill.engine.layout import Layout
from gristmill.engine.stages import Stage
from gristmill.recipe.compile import CompiledRecipe

MASS_REJECT_SHARE = 0.5  # more than this share of a file's rows, rejected for one reason
MASS_REJECT_MIN_ROWS = 2  # a one-row file rejected whole (an empty file, say) is an ordinary reject


def mass_rejects(per_file: dict[str, dict[str, int]], by_file_kind: dict[str, dict[str, int]],
                 total_rows: int, by_kind: dict[str, int]) -> list[dict[str, Any]]:
    """The (file, reason) pairs, and run-wide reasons, that reject more than MASS_REJECT_SHARE of the rows."""
    found = []
    for rel, kinds in sorted(by_file_kind.items()):
        rows = per_file.get(rel, {}).get("records", 0)
        for kind, n in sorted(kinds.items()):
            if rows >= MASS_REJECT_MIN_ROWS and n > MASS_REJECT_SHARE * rows:
                found.append({"file": rel, "reason": kind, "rejected": n, "of": rows})
    flagged = {f["reason"] for f in found}
    for kind, n in sorted(by_kind.items()):
        if kind not in flagged and total_rows >= MASS_REJECT_MIN_ROWS and n > MASS_REJECT_SHARE * total_rows:
            found.append({"file": None, "reason": kind, "rejected": n, "of": total_rows})
    return found


def _add(into: dict[str, Any], other: dict[str, Any]) -> None:
    for k, v in other.items():
        if isinstance(v, dict):
            _add(into.setdefault(k, {}), v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            into[k] = into.get(k, 0) + v


def build_summary(
    *,
    recipe: CompiledRecipe,
    stages: list[Stage],
    chunk_ids: list[int],
    markers: dict[tuple[int, int], dict[str, Any]],
    inputs: list[dict],
    decide_seconds: dict[str, float],
    wall_seconds: float,
    workers: int,
    layout: Layout,
    run_key: str,
    resumed: bool,
    schema_report: dict[str, dict[str, Any]] | None = None,
    skipped_outputs: list[str] | None = None,
) -> dict[str, Any]:
    steps: dict[str, dict[str, Any]] = {
        s.name: {"op": s.op.name, "in": 0, "out": 0, "dropped": {}, "seconds": 0.0} for s in recipe.steps
    }
    rejected: dict[str, int] = {}
    records = blank = kept = 0
    samples: dict[str, list[dict]] = {}
    coerced: set[str] = set()
    as_text: dict[str, int] = {}
    per_file: dict[str, dict[str, int]] = {}
    by_file_kind: dict[str, dict[str, int]] = {}
    limit = recipe.spec.output.dropped_samples
    final = stages[-1].index
    for cid in chunk_ids:
        for st in stages:
            m = markers[(st.index, cid)]
            for name, figures in m["steps"].items():
                _add(steps[name], {k: v for k, v in figures.items() if k != "op"})
            _add(rejected, m["rejected"])
            _add(as_text, m.get("numbers_written_as_text", {}))  # the JSONL writer's NaN/Infinity
            for s in m.get("samples", []):
                bucket = samples.setdefault(f"{s['step']}:{s['rule']}", [])
                if len(bucket) < limit:
                    bucket.append(s)
            if st.index == 0:
                records += m["records"]
                blank += m.get("blank_lines", 0)
                coerced.update(m.get("coerced_fields", []))
                _add(as_text, m.get("numbers_as_text", {}))
                pf = per_file.setdefault(m["file"], {"records": 0, "rejected": 0})
                pf["records"] += m["records"]
                pf["rejected"] += sum(m["rejected"].values())
                _add(by_file_kind.setdefault(m["file"], {}), m["rejected"])
            if st.index == final:
                kept += m["rows_out"]
    for name, secs in decide_seconds.items():
        steps[name]["seconds"] += secs
    dropped_by_step = {name: dict(s["dropped"]) for name, s in steps.items() if s["dropped"]}
    dropped_total = sum(sum(d.values()) for d in dropped_by_step.values())
    rejected_total = sum(rejected.values())
    balanced = records == kept + dropped_total + rejected_total
    out_files = [p.name for p in layout.kept_files()]
    side = layout.side.name
    summary: dict[str, Any] = {
        "gristmill_version": __version__,
        "recipe": {"name": recipe.spec.name, "hash": recipe.content_hash(), "source": recipe.source},
        "run_key": run_key,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "inputs": [
            {"path": f["path"], "relpath": f["relpath"], "format": f["format"], "compression": f["compression"],
             "bytes": f["size"], "fingerprint": f"xxh3-128:{f['fingerprint']}", **per_file.get(f["relpath"], {})}
            for f in inputs
        ],
        "input": records,
        "kept": kept,
        "dropped": {"total": dropped_total, "by_step": dropped_by_step},
        "rejected": {"total": rejected_total, "by_kind": dict(sorted(rejected.items()))},
        "balance": {
            "equation": "input = kept + dropped + rejected",
            "holds": balanced,
            "detail": f"{records} = {kept} + {dropped_total} + {rejected_total}",
        },
        "blank_lines_skipped": blank,
        "steps": [{"name": n, **{k: (round(v, 4) if k == "seconds" else v) for k, v in s.items()}} for n, s in steps.items()],
        "chunks": len(chunk_ids),
        "workers": workers,
        "resumed": resumed,
        "wall_seconds": round(wall_seconds, 3),
        "docs_per_second": round(records / wall_seconds, 1) if wall_seconds > 0 else None,
        "output": {
            "folder": str(layout.out),
            "format": recipe.spec.output.format,
            "files": out_files,
            "summary": f"{side}/{layout.summary.name}",
            "rejected": f"{side}/{layout.rejected_dir.name}/*{layout.rejected(0, 0).suffix}",
            "dropped": f"{side}/{layout.dropped_dir.name}/*{layout.dropped(0, 0).suffix}",
            "dropped_samples": f"{side}/{layout.samples.name}" if samples else None,
        },
        "mass_rejects": mass_rejects(per_file, by_file_kind, records, rejected),
    }
    if skipped_outputs:
        summary["inputs_skipped"] = {"gristmill_output_folders": list(skipped_outputs)}
    if coerced:
        summary["coerced_fields"] = sorted(coerced)
    if as_text:  # integers beyond 64 bits, NaN, Infinity: kept as their JSON text, never rounded or nulled
        summary["numbers_kept_as_text"] = dict(sorted(as_text.items()))
    if schema_report:  # inputs disagreed on a field's type; the output parts were given one schema
        summary["schema_conflicts"] = {name: r["types"] for name, r in schema_report.items()}
        summary["schema_unified"] = {name: r["unified"] for name, r in schema_report.items()}
    summary["_samples"] = [s for bucket in samples.values() for s in bucket]
    return summary
