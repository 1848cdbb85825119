"""``gristmill train CONFIG [--output DIR] [--set KEY=VALUE ...]`` and ``doremi`` (the classic three-run form).

The lead registers :data:`train_command` in the main CLI; ``python -m gristmill.train`` runs it standalone.
Exit codes: 0 success, 2 bad usage or configuration (message says what and where), 1 runtime failure.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from gristmill.errors import GristmillError, UsageError
from gristmill.train import missing_train_extra, require_train_extra


def _fail(e: Exception) -> None:
    click.echo(f"error: {e}", err=True)
    sys.exit(2 if isinstance(e, UsageError) else 1)


@contextlib.contextmanager
def _explained_errors() -> Iterator[None]:
    """Exit with one line for what a user can act on: a bad config (2), a missing train extra (2), a failure (1)."""
    try:
        yield
    except GristmillError as e:
        _fail(e)
    except ImportError as e:
        message = missing_train_extra(e)
        if message is None:
            raise
        _fail(UsageError(message))


class _TrainGroup(click.Group):
    """``gristmill train CONFIG ...`` trains (the stable contract); ``gristmill train score|writeback ...`` work
    on a finished run. Anything that is not a subcommand's name goes to the default, ``fit``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["fit", *args]
        return super().parse_args(ctx, args)


@click.group("train", cls=_TrainGroup, invoke_without_command=False)
def train_command() -> None:
    """Train a causal LM with a data policy: `gristmill train CONFIG [--output DIR] [--set KEY=VALUE ...]`.

    Then `gristmill train score RUN_DIR` scores every document of the catalog version it trained on, and
    `gristmill train writeback RUN_DIR` commits the signals as a new version (docs/train.md)."""


@train_command.command("fit")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--output", "-o", default=None, help="Output folder (overrides the config's `output`).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a dotted config key.")
@click.option("--check", is_flag=True, help="Validate the config, data, model and policy; do not train.")
@click.option("--catalog", "catalog_root", default=None,
              help="Catalog root for catalog:// data [default: data.catalog, $GRISTMILL_HOME or ~/.gristmill].")
def fit_command(config: str, output: str | None, overrides: tuple[str, ...], check: bool,
                catalog_root: str | None) -> None:
    """Train a causal LM on token shards or a catalog version with a data policy (the default command)."""
    from gristmill.catalog.core import use_root

    with _explained_errors(), use_root(catalog_root):
        require_train_extra()
        from gristmill.train.config import load_config
        from gristmill.train.loop import prepare, train

        cfg = load_config(config, list(overrides), output=output)
        if check:
            data, _, policy = prepare(cfg)
            click.echo(f"ok: {len(data.domains)} domains, policy {policy.name}, weights {policy.weights_dict()}")
            return
        train(cfg)


@train_command.command("score")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--version", default=None, help="catalog://NAME@V to score [default: the version the run trained on].")
@click.option("--reference", default=None,
              help="Reference model: 'init' (the run's step-0 weights), a run's output or a local HF model folder.")
@click.option("--catalog", "catalog_root", default=None, help="Catalog root [default: the run's, $GRISTMILL_HOME].")
@click.option("--output", "-o", default=None, help="Signals file [default: RUN_DIR/signals.parquet].")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=32, show_default=True,
              help="Pieces of train.seq_len tokens per forward pass.")
@click.option("--docs-per-batch", type=click.IntRange(1, 1 << 20), default=512, show_default=True,
              help="Documents read, tokenized and written at a time (bounds memory).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--threads", type=click.IntRange(0, 256), default=0, help="torch CPU threads (0: torch's default).")
@click.option("--force", is_flag=True, help="Score a version the run did not train on (losses only).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def score_command(run_dir: str, version: str | None, reference: str | None, catalog_root: str | None,
                  output: str | None, batch_size: int, docs_per_batch: int, device: str, threads: int, force: bool,
                  as_json: bool) -> None:
    """Score every document of the run's catalog version: train.<run>.loss, ref_loss, excess_loss, draws, ..."""
    import json

    with _explained_errors():
        require_train_extra()
        import torch

        from gristmill.train.score import score_run

        if threads:
            torch.set_num_threads(threads)
        r = score_run(run_dir, version=version, reference=reference, catalog=catalog_root, output=output,
                      batch_size=batch_size, device=device, force=force, docs_per_batch=docs_per_batch)
        if as_json:
            click.echo(json.dumps(r.to_json(), indent=2))
            return
        click.echo(f"scored {r.docs_scored:,} of {r.rows:,} documents of {r.version} ({r.tokens:,} tokens) in "
                   f"{r.seconds:.1f} s: {r.docs_per_s:,.0f} docs/s, {r.tokens_per_s:,.0f} tokens/s -> {r.path}")
        for dom, d in r.per_domain.items():
            ex = f", excess {d['excess_loss']:.3f}" if d["excess_loss"] is not None else ""
            loss = f"{d['loss']:.3f}" if d["loss"] is not None else "-"
            click.echo(f"  {dom}: {d['docs']:,} docs, loss {loss}{ex}")


@train_command.command("writeback")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--signals", default=None, help="Signals file from `train score` [default: RUN_DIR/signals.parquet].")
@click.option("--catalog", "catalog_root", default=None, help="Catalog root [default: the run's, $GRISTMILL_HOME].")
@click.option("--tag", "tags", multiple=True, help="Tag the new version (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the new version's ref and lineage as JSON.")
def writeback_command(run_dir: str, signals: str | None, catalog_root: str | None, tags: tuple[str, ...],
                      as_json: bool) -> None:
    """Commit the run's signals as the next version of the dataset (added columns only; text not rewritten)."""
    import json

    with _explained_errors():
        from gristmill.train.writeback import write_back

        v = write_back(run_dir, signals=signals, catalog=catalog_root, tags=list(tags))
        added = [s["columns"] for s in v.manifest["side_files"] if s["file"] == 0][-1]
        if as_json:
            click.echo(json.dumps({"ref": v.ref, "columns": added, "lineage": v.manifest["lineage"]}, indent=2))
            return
        click.echo(f"registered {v.ref}: {', '.join(added)} (lineage: run {v.manifest['lineage']['run']} on "
                   f"{v.manifest['lineage']['version']})")


@click.command("doremi")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--output", "-o", default=None, help="Output folder; holds reference/, proxy/ and main/.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a dotted config key.")
@click.option("--proxy-tokens", type=int, default=None, help="Token budget of the reference and proxy runs.")
def doremi_command(config: str, output: str | None, overrides: tuple[str, ...], proxy_tokens: int | None) -> None:
    """Classic DoReMi: reference run (uniform) → proxy run (online DoReMi) → main run on the averaged weights."""
    with _explained_errors():
        require_train_extra()
        from gristmill.train.config import load_config
        from gristmill.train.doremi import run_doremi

        cfg = load_config(config, list(overrides), output=output)
        weights = run_doremi(cfg, proxy_tokens=proxy_tokens)
        click.echo("doremi weights: " + ", ".join(f"{d}={w:.3f}" for d, w in weights.items()))


@click.group("gristmill-train")
def main() -> None:
    """Standalone entry point (``python -m gristmill.train``)."""


main.add_command(train_command)
main.add_command(doremi_command)
