"""``gristmill catalog ...``: list, show, log, diff, lineage, trace, tag, export, rm and gc dataset versions."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gristmill.errors import GristmillError, UsageError

catalog_option = click.option("--catalog", "root", default=None, envvar="GRISTMILL_HOME",
                              help="Catalog root: a folder or s3://bucket/prefix [default: ~/.gristmill].")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _open(root: str | None):
    from gristmill.catalog.core import Catalog

    return Catalog(root)


def _emit(obj: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(obj, indent=2, default=str) if as_json else text)


def _guard(fn):
    """Errors a user can act on become a message and an exit code, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except (GristmillError, OSError) as exc:
            click.echo(f"failed: {exc}", err=True)
            sys.exit(1)

    return wrapper


def _brief(m: dict) -> dict:
    return {k: m[k] for k in ("dataset", "version", "rows", "created", "commit")} | {"recipe_hash": m["recipe"]["hash"]}


@click.group("catalog")
def catalog_group() -> None:
    """Dataset versions with lineage (see docs/catalog.md)."""


@catalog_group.command("list")
@catalog_option
@json_option
@_guard
def list_cmd(root: str | None, as_json: bool) -> None:
    """Datasets with their latest version."""
    cat = _open(root)
    rows = []
    for n in cat.datasets():
        try:
            rows.append(_brief(cat.get(n).manifest))
        except GristmillError as exc:  # one damaged or emptied dataset does not hide the others
            rows.append({"dataset": n, "error": str(exc)})
    _emit(rows, as_json, "\n".join(f"{r['dataset']}: {r['error']}" if "error" in r else
                                   f"{r['dataset']}@{r['version']}  {r['rows']:,} rows  {r['created']}" for r in rows)
          or f"({'no' if cat.missing else 'empty'} catalog at {cat.store.url('')})")  # a mistyped --catalog shows


@catalog_group.command("show")
@click.argument("ref")
@catalog_option
@json_option
@_guard
def show_cmd(ref: str, root: str | None, as_json: bool) -> None:
    """One version's record: files, schema, recipe, parents, counts, tags."""
    cat = _open(root)
    v = cat.get(ref)
    m = dict(v.manifest, tags=sorted(t for t, n in cat.tags(v.name).items() if n == v.number),
             urls=[cat.store.url(f["path"]) for f in v.manifest["files"]])
    text = (f"{v.ref}: {m['rows']:,} rows in {len(m['files'])} files, created {m['created']}\n"
            f"recipe {m['recipe']['name']} {m['recipe']['hash'][:16]}; tags: {', '.join(m['tags']) or '-'}\n"
            f"counts: {m['counts']['input']} in = {m['counts']['kept']} kept + {m['counts']['dropped']['total']} "
            f"dropped + {m['counts']['rejected']['total']} rejected\n"
            "files:\n" + "\n".join(f"  {u}" for u in m["urls"]))
    _emit(m, as_json, text)


@catalog_group.command("log")
@click.argument("name")
@catalog_option
@json_option
@_guard
def log_cmd(name: str, root: str | None, as_json: bool) -> None:
    """Every version of NAME, newest first."""
    cat = _open(root)
    cat.get(name)
    tags = cat.tags(name)
    rows = [dict(_brief(v.manifest), tags=sorted(t for t, n in tags.items() if n == v.number))
            for v in reversed(cat.versions(name))]
    _emit(rows, as_json, "\n".join(f"{r['dataset']}@{r['version']}  {r['rows']:,} rows  {r['created']}  "
                                   f"{' '.join(r['tags'])}" for r in rows))


@catalog_group.command("diff")
@click.argument("a")
@click.argument("b")
@catalog_option
@json_option
@_guard
def diff_cmd(a: str, b: str, root: str | None, as_json: bool) -> None:
    """What differs between two versions: rows, schema, recipe, inputs."""
    cat = _open(root)
    ma, mb = cat.get(a).manifest, cat.get(b).manifest
    cols_a, cols_b = {f["name"] for f in ma["schema"]}, {f["name"] for f in mb["schema"]}
    inputs = lambda m: {p.get("fingerprint") or p.get("ref") for p in m["parents"]}  # noqa: E731
    d = {"rows": [ma["rows"], mb["rows"]], "columns_added": sorted(cols_b - cols_a),
         "columns_removed": sorted(cols_a - cols_b), "recipe_changed": ma["recipe"]["hash"] != mb["recipe"]["hash"],
         "parents_added": sorted(inputs(mb) - inputs(ma)), "parents_removed": sorted(inputs(ma) - inputs(mb))}
    _emit(d, as_json, "\n".join(f"{k}: {v}" for k, v in d.items()))


@catalog_group.command("lineage")
@click.argument("ref")
@catalog_option
@json_option
@_guard
def lineage_cmd(ref: str, root: str | None, as_json: bool) -> None:
    """The tree of parents of a version, down to the raw input files."""
    cat = _open(root)

    def walk(r: str) -> dict:
        v = cat.get(r)
        parents = [walk(p["ref"]) if p["kind"] == "version" else p for p in v.manifest["parents"]]
        return {"ref": v.ref, "recipe": v.manifest["recipe"]["hash"], "parents": parents}

    tree = walk(ref)

    def lines(node: dict, depth: int) -> list[str]:
        if "ref" in node:
            out = [f"{'  ' * depth}{node['ref']} (recipe {node['recipe'][:12]})"]
            for p in node["parents"]:
                out += lines(p, depth + 1)
            return out
        return [f"{'  ' * depth}{node.get('path') or node.get('kind')} ({node.get('fingerprint') or '-'})"]

    _emit(tree, as_json, "\n".join(lines(tree, 0)))


@catalog_group.command("tag")
@click.argument("ref")
@click.argument("tag")
@catalog_option
@json_option
@_guard
def tag_cmd(ref: str, tag: str, root: str | None, as_json: bool) -> None:
    """Tag a version (a tag moves when given again)."""
    v = _open(root).tag(ref, tag)
    _emit({"ref": v.ref, "tag": tag}, as_json, f"{v.ref} tagged {tag}")


@catalog_group.command("export")
@click.argument("ref")
@click.option("--output", required=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl"]), default="parquet", show_default=True)
@catalog_option
@json_option
@_guard
def export_cmd(ref: str, output: str, fmt: str, root: str | None, as_json: bool) -> None:
    """Write a version's rows to a plain folder."""
    files = _open(root).export(ref, output, fmt)
    _emit({"files": [str(f) for f in files]}, as_json, f"wrote {len(files)} files to {output}")


@catalog_group.command("trace")
@click.argument("ref")
@click.argument("doc_id")
@catalog_option
@json_option
@_guard
def trace_cmd(ref: str, doc_id: str, root: str | None, as_json: bool) -> None:
    """Where document DOC_ID of REF came from: source file and line/row through every parent version, the
    steps it passed with their signals, and the step and rule that dropped it."""
    from gristmill.catalog.trace import render, trace

    node = trace(_open(root), ref, doc_id)
    _emit(node, as_json, "\n".join(render(node)))


@catalog_group.command("rm")
@click.argument("refs", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@catalog_option
@json_option
@_guard
def rm_cmd(refs: tuple[str, ...], dry_run: bool, root: str | None, as_json: bool) -> None:
    """Remove versions (NAME@V ...) and the files only they use. Refused for a tagged version or a parent of
    a version that stays; a removed version's number is never reused."""
    from gristmill.catalog.gc import rm

    report = rm(_open(root), list(refs), dry_run=dry_run)
    _emit(report, as_json, _gc_text(report))


@catalog_group.command("gc")
@click.argument("names", nargs=-1)
@click.option("--keep-last", type=click.IntRange(1), default=None,
              help="Also remove all but the newest N versions of NAMES (default: every dataset); tagged versions "
                   "and parents of versions that stay are kept.")
@click.option("--min-age", default="1h", show_default=True,
              help="Leave unreferenced files younger than this (a commit may be writing them): 0, 90s, 30m, 1h, 7d.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@catalog_option
@json_option
@_guard
def gc_cmd(names: tuple[str, ...], keep_last: int | None, min_age: str, dry_run: bool, root: str | None,
           as_json: bool) -> None:
    """Remove data no version references (a killed commit's leftovers, removed versions' files), and with
    --keep-last, old versions."""
    from gristmill.catalog.gc import gc, parse_duration

    if names and keep_last is None:
        raise click.UsageError("NAMES select the datasets --keep-last applies to; give --keep-last N")
    report = gc(_open(root), list(names), keep_last, parse_duration(min_age), dry_run)
    _emit(report, as_json, _gc_text(report))


def _gc_text(r: dict) -> str:
    verb = "would remove" if r["dry_run"] else "removed"
    lines = [f"{verb} {len(r['versions_removed'])} version(s): {', '.join(r['versions_removed']) or '-'}"]
    lines += [f"kept {x['ref']}: {x['reason']}" for x in r.get("versions_refused", [])]
    lines.append(f"{verb} {r.get('files_removed', 0)} file(s), {r.get('bytes_removed', 0):,} bytes")
    lines += [f"  {f['folder']}: {f['files']} file(s), {f['bytes']:,} bytes" for f in r.get("folders", [])]
    for y in r.get("young", []):
        lines.append(f"left {y['folder']}: unreferenced but only {y['age_s']:.0f} s old (a commit may be writing "
                     f"it; --min-age 0 removes it)")
    return "\n".join(lines)
