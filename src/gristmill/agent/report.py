"""Write what the agent decided: the recipe (YAML, a comment per step saying why) and a plan report."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import yaml


def recipe_yaml(recipe: dict[str, Any], header: list[str]) -> str:
    """YAML with a ``# why`` comment above each step; the same text loads back to the same recipe."""
    out = [f"# {h}" for h in header]
    top = {k: v for k, v in recipe.items() if k != "steps"}
    body = yaml.safe_dump({k: top[k] for k in ("name", "description", "input") if k in top}, sort_keys=False, allow_unicode=True, width=110)
    out.append(body.rstrip())
    out.append("steps:")
    for st in recipe["steps"]:
        why = st.get("why", "")
        for line in _wrap(why, 104):
            out.append(f"  # {line}")
        dumped = yaml.safe_dump([st], sort_keys=False, allow_unicode=True, width=110).rstrip()
        out.extend("  " + line for line in dumped.splitlines())
    rest = {k: top[k] for k in top if k not in ("name", "description", "input")}
    out.append(yaml.safe_dump(rest, sort_keys=False, allow_unicode=True, width=110).rstrip())
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return lines


def markdown_report(ctx: dict[str, Any]) -> str:
    L: list[str] = [f"# Plan report: {ctx['goal']}", ""]
    L += [f"- input: `{ctx['input']}`; sample: {ctx['profile']['docs']} documents (of {ctx['profile']['scanned']} scanned, "
          f"{ctx['profile']['unreadable']} unreadable)", f"- planner: {ctx['planner']}; repair rounds used: {ctx['rounds'] - 1}",
          f"- status: **{ctx['status']}**", ""]
    L += ["## Requirements (how the goal was understood)", ""]
    L += [f"{i}. {r}" for i, r in enumerate(ctx["requirements"], 1)]
    if ctx.get("clauses"):
        L += ["", "Clauses of the goal (each ends in one place):", *[f"- {c}" for c in ctx["clauses"]]]
    if ctx.get("assumptions"):
        L += ["", "Assumptions:", *[f"- {a}" for a in ctx["assumptions"]]]
    if ctx.get("notes"):
        L += ["", "Notes:", *[f"- {a}" for a in ctx["notes"]]]
    p = ctx["profile"]
    L += ["", "## Profile of the sample", "",
          f"- format: {p['format']} (conversations: {p['chat_share']:.0%}); fields: {', '.join(p['fields'])}",
          f"- domains ({p['domain_field']}): {p['domains']}" if p["domain_field"] else "- domains: no domain field",
          f"- languages: {dict(list(p['languages'].items())[:8])}",
          f"- words per document: p5 {p['words'].get('p5')}, median {p['words'].get('p50')}, p95 {p['words'].get('p95')}",
          f"- exact-duplicate rate {p['exact_dup_rate']:.1%}, documents in a near-dup pair (J >= 0.8) {p['near_dup_rate']:.1%}",
          f"- documents with PII: {p['pii_docs']}", ""]
    L += ["## Plan", "", "| # | step | operator | why |", "|---|---|---|---|"]
    for i, s in enumerate(ctx["recipe"]["steps"], 1):
        L.append(f"| {i} | {s.get('name', s['op'])} | {s['op']} | {s.get('why', '').replace('|', '/')} |")
    for rnd in ctx["history"]:
        L += ["", f"## Round {rnd['round']}: checks on the dry run", ""]
        L += [f"- {c}" for c in rnd["checks"]]
        if rnd.get("repairs"):
            L += ["", "Repairs:", *[f"- {a}" for a in rnd["repairs"]]]
    L += ["", "## Predicted retention", "", f"- documents: {ctx['retention_docs']:.1%}", f"- tokens: {ctx['retention_tokens']:.1%} (tokens ≈ characters / 4)"]
    L += ["", "| step | in | out | dropped by rule |", "|---|---|---|---|"]
    for s in ctx["summary"].get("steps", []):
        L.append(f"| {s['name']} | {s['in']} | {s['out']} | {json.dumps(s['dropped'])} |")
    if ctx.get("dropped_examples"):
        L += ["", "## Examples of dropped documents", ""]
        for ex in ctx["dropped_examples"]:
            snippet = " ".join(str(ex.get("text", "")).split())[:160]
            L.append(f"- **{ex['step']} / {ex['rule']}** `{ex['id']}`: {snippet}")
    if ctx.get("error"):
        L += ["", "## Why the goal cannot be met", "", ctx["error"]]
    return "\n".join(L) + "\n"


def html_report(markdown: str) -> str:
    """A dependency-free HTML rendering: headings, lists and tables from the Markdown above."""
    out = ["<!doctype html><meta charset='utf-8'><title>gristmill plan report</title>",
           "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
           "table{border-collapse:collapse}li{margin:2px 0}</style>"]
    in_table = in_list = False
    for line in markdown.splitlines():
        esc = html.escape(line)
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith(("- ", "1", "2", "3", "4", "5", "6", "7", "8", "9")) and (line.startswith("- ") or ". " in line[:4]):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{html.escape(line.split(' ', 1)[1])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            lvl = len(line) - len(line.lstrip("#"))
            out.append(f"<h{lvl}>{html.escape(line[lvl:].strip())}</h{lvl}>")
        elif line.strip():
            out.append(f"<p>{esc}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out) + "\n"


def write_reports(folder: Path, ctx: dict[str, Any]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md = markdown_report(ctx)
    paths = {"markdown": folder / "plan_report.md", "html": folder / "plan_report.html", "json": folder / "plan.json"}
    paths["markdown"].write_text(md, encoding="utf-8")
    paths["html"].write_text(html_report(md), encoding="utf-8")
    paths["json"].write_text(json.dumps({k: v for k, v in ctx.items() if k != "summary"}, indent=2, default=str), encoding="utf-8")
    return paths
