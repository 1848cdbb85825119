"""`gristmill prepare`: the click command the main CLI registers (``main.add_command(prepare_command)``).

Exit codes follow DESIGN.md: 0 verified (and run), 2 bad usage or a self-contradictory goal, 1 a goal the
data cannot meet or a runtime failure — always with the reason on stderr, never an empty output.
"""

from __future__ import annotations

import sys

import click


@click.command("prepare")
@click.argument("input_path", metavar="INPUT")
@click.option("--goal", required=True, help="What the data should become, in plain language.")
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--llm", default=None, help="LLM planner: http://host:port/v1#model (key from $GRISTMILL_LLM_API_KEY) or llama-cpp:PATH.gguf.")
@click.option("--no-fallback", is_flag=True, help="With --llm: fail (exit 1, with the reason) when the LLM yields no plan, instead of using the built-in planner.")
@click.option("--plan-only", is_flag=True, help="Plan and verify on the sample; write recipe and report, do not run.")
@click.option("--recipe-out", type=click.Path(dir_okay=False), default=None, help="Where to write the recipe [default: OUTPUT/.gristmill/prepare/recipe.yaml].")
@click.option("--sample", "sample", type=click.IntRange(10, 1_000_000), default=2000, show_default=True, help="Documents in the planning sample.")
@click.option("--max-rounds", type=click.IntRange(1, 20), default=3, show_default=True, help="Dry-run/verify/repair rounds.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None, help="Worker processes for the full run.")
@click.option("--accept-partial", is_flag=True, help="Run what was understood even when part of the goal was not (it is listed).")
@click.option("--catalog", "catalog_root", default=None,
              help="Catalog root for a catalog:// INPUT [default: $GRISTMILL_HOME or ~/.gristmill].")
def prepare_command(input_path: str, goal: str, output: str, llm: str | None, no_fallback: bool, plan_only: bool,
                    recipe_out: str | None, sample: int, max_rounds: int, workers: int | None, accept_partial: bool,
                    catalog_root: str | None) -> None:
    """Turn GOAL into a verified recipe for INPUT, then run it into OUTPUT (unless --plan-only)."""
    from gristmill.agent.prepare import NoLLMPlan, prepare
    from gristmill.catalog.core import use_root
    from gristmill.errors import GristmillError, UsageError

    def log(msg: str) -> None:
        click.echo(msg, err=True)

    try:
        with use_root(catalog_root):
            result = prepare(input_path, goal, output, llm=llm, plan_only=plan_only, recipe_out=recipe_out,
                             sample=sample, max_rounds=max_rounds, workers=workers,
                             accept_partial=accept_partial, fallback=not no_fallback, log=log)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (GristmillError, OSError) as exc:
        click.echo(f"failed: {exc}" if isinstance(exc, (OSError, NoLLMPlan)) else f"cannot meet the goal: {exc}", err=True)
        sys.exit(1)
    for c in result.checks:
        click.echo(c.line())
    click.echo(f"recipe: {result.recipe_path}")
