"""The loop's report: ``report.html`` (self-contained: the plot is an inline PNG), ``curves.png``, and a short
text summary for the terminal."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any


def plot_curves(result: dict[str, Any]) -> bytes:
    """PNG: average, worst-domain and per-domain held-out loss over tokens, both rounds on each panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = list(result["curves"])
    domains = list(result["comparison"]["domains"])
    panels = ["average", "worst domain", *domains]
    cols = 3
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        for run, style in zip(runs, ("-", "-", "--"), strict=False):
            curve = result["curves"][run]
            if panel == "average":
                ys = [r["avg"] for r in curve]
            elif panel == "worst domain":
                ys = [r["worst"] for r in curve]
            else:
                ys = [r["heldout"][panel] for r in curve]
            ax.plot([r["tokens"] for r in curve], ys, style, label=run)
        ax.set_title(panel, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.supxlabel("tokens")
    fig.supylabel("held-out loss (round 1's held-out documents)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _f(x: Any, fmt: str = ".4f") -> str:
    return "-" if x is None else format(x, fmt)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The comparison as a markdown table a person can paste, then the verdict and costs."""
    c, runs = result["comparison"], list(result["curves"])
    r1, r2 = runs[:2]
    ctl = c.get("control")
    extra_h = f" {runs[2]} (unrefined data) | {r2} - control |" if ctl else ""
    lines = [f"| held-out loss at {c['tokens']:,} tokens | {r1} | {r2} | {r2} - {r1} |{extra_h}",
             "|---|---|---|---|" + ("---|---|" if ctl else "")]

    def row(name: str, a: float, b: float, d: float, cv: float | None, a_dom: str = "", b_dom: str = "",
            c_dom: str = "") -> str:
        line = f"| {name} | {a:.4f}{a_dom} | {b:.4f}{b_dom} | {d:+.4f} |"
        return line + (f" {cv:.4f}{c_dom} | {b - cv:+.4f} |" if cv is not None else "")

    lines.append(row("average", c["avg"]["r1"], c["avg"]["r2"], c["avg"]["delta"], ctl["avg"] if ctl else None))
    lines.append(row("worst domain", c["worst"]["r1"], c["worst"]["r2"], c["worst"]["delta"],
                     ctl["worst"] if ctl else None, f" ({c['worst']['r1_domain']})", f" ({c['worst']['r2_domain']})",
                     f" ({ctl['worst_domain']})" if ctl else ""))
    lines += [row(d, v["r1"], v["r2"], v["delta"], ctl["domains"][d] if ctl else None) for d, v in c["domains"].items()]
    reach = c["tokens_to_reach_r1_final_avg"]
    lines.append("")
    lines.append(result["verdict"])
    if reach is not None:
        lines.append(f"{r2} reached {r1}'s final average after {reach:,.0f} tokens ({c['reach_ratio']:.2f}x); with "
                     f"scoring ({c['score_seconds']:.0f} s = {c['score_tokens_equivalent']:,.0f} tokens of {r1}'s "
                     f"training time) {c['reach_ratio_with_scoring']:.2f}x")
    else:
        lines.append(f"{r2} did not reach {r1}'s final average ({c['avg']['r1']:.4f}) within {c['tokens']:,} tokens "
                     f"(scoring cost {c['score_seconds']:.0f} s = {c['score_tokens_equivalent']:,.0f} tokens of "
                     f"{r1}'s training time)")
    ref = result["refined"]
    v = result["versions"]
    lines.append(f"versions: {v['prepared']} -> {v['signals']} (+ train.{r1}.* columns) -> {v['refined']} "
                 f"({ref['dropped']:,} of {ref['rows_before']:,} documents dropped, {ref['dropped_share']:.1%}); "
                 f"held-out: {result['heldout']['heldout_docs']:,} documents, none trained on by {r2}")
    lines.append("wall time: " + ", ".join(f"{p} {t['seconds']:.0f} s" + (" (reused)" if t.get("reused") else "")
                                           for p, t in result["phases"].items()))
    return lines


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(out: Path, result: dict[str, Any]) -> dict[str, Path]:
    png = plot_curves(result)
    (out / "curves.png").write_bytes(png)
    c, runs = result["comparison"], list(result["curves"])
    r1, r2 = runs[:2]
    parts = [f"<h1>gristmill loop: {html.escape(result['spec']['name'])}</h1>",
             f"<p><b>{html.escape(result['verdict'])}</b></p>",
             "<pre>" + html.escape("\n".join(summary_lines(result))) + "</pre>",
             f'<img alt="held-out curves" src="data:image/png;base64,{base64.b64encode(png).decode()}">',
             "<h2>Held-out set</h2>",
             f"<p>Both rounds evaluate on {result['heldout']['heldout_docs']:,} documents held out of {r1} "
             f"({result['heldout']['eval_tokens_per_domain']:,} tokens per domain, windows of "
             f"{result['heldout']['seq_len']} tokens); {result['heldout']['excluded_from_round2']:,} of them were in "
             f"the refined version and were left out of {r2}'s training; overlap 0.</p>"]
    mix = result["mixtures"]
    doms = list(c["domains"])
    learnt = mix["r1_learnt"].get("average") or mix["r1_learnt"].get("final") or {}
    parts += ["<h2>Mixtures</h2>", _table(
        ["domain", f"{r1} learnt ({mix['r1_learnt'].get('policy', '')})", f"{r2} start", f"{r2} final"],
        [[d, _f(learnt.get(d), ".3f"), _f((mix["r2_start"] or {}).get(d), ".3f"),
          _f((mix["r2_final"] or {}).get(d), ".3f")] for d in doms])]
    parts.append("<h2>Documents the refinement removed</h2>")
    rows = []
    for dom, d in result["removed"].items():
        rows.append([dom, f"{d['removed']:,} of {d['docs']:,} ({d['removed_share']:.1%})",
                     _f(d["mean_removed"]["excess_loss"]), _f(d["mean_kept"]["excess_loss"]),
                     _f(d["mean_removed"]["loss"]), _f(d["mean_kept"]["loss"])])
    parts.append(_table(["domain", "removed", "excess loss (removed)", "excess loss (kept)", "loss (removed)",
                         "loss (kept)"], rows))
    sample = [[dom, s["id"], _f(s["loss"]), _f(s["excess_loss"]), _f(s["draws"], "d") if s["draws"] is not None
               else "-", s["text"]] for dom, d in result["removed"].items() for s in d["sample"]]
    parts.append(_table(["domain", "id", "loss", "excess loss", "draws", "text (start)"], sample))
    parts.append("<h2>Versions and lineage</h2><pre>" + html.escape(_json(
        {"versions": result["versions"], "lineage": result["lineage"]})) + "</pre>")
    parts.append("<h2>Wall time per phase</h2>" + _table(
        ["phase", "seconds", "reused"], [[p, f"{t['seconds']:.1f}", "yes" if t.get("reused") else ""]
                                         for p, t in result["phases"].items()]))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;vertical-align:top}img{max-width:100%}")
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>gristmill loop</title><style>{style}</style>" \
           f"</head><body>{''.join(parts)}</body></html>\n"
    (out / "report.html").write_text(page, encoding="utf-8")
    return {"report": out / "report.html", "plot": out / "curves.png", "json": out / "loop.json"}


def _json(x: Any) -> str:
    import json

    return json.dumps(x, indent=2, default=str)
