"""``gristmill catalog ...``: list, show, log, diff, lineage, tag and export dataset versions."""

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
    rows = [_brief(cat.get(n).manifest) for n in cat.datasets()]
    _emit(rows, as_json, "\n".join(f"{r['dataset']}@{r['version']}  {r['rows']:,} rows  {r['created']}" for r in rows)
          or "(empty catalog)")


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
        return [f"{'  ' * depth}{node['path']} ({node['fingerprint']})"]

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
