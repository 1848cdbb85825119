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


@click.command("train")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--output", "-o", default=None, help="Output folder (overrides the config's `output`).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a dotted config key.")
@click.option("--check", is_flag=True, help="Validate the config, data, model and policy; do not train.")
@click.option("--catalog", "catalog_root", default=None,
              help="Catalog root for catalog:// data [default: $GRISTMILL_HOME or ~/.gristmill].")
def train_command(config: str, output: str | None, overrides: tuple[str, ...], check: bool,
                  catalog_root: str | None) -> None:
    """Train a causal LM on token shards with a data policy (mixing, selection or reweighting)."""
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
