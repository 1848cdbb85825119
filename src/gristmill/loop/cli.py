"""``gristmill loop [SPEC] [--input ...] [--goal ...] ...``: the whole data–model loop, resumable."""

from __future__ import annotations

import sys

import click

from gristmill.errors import GristmillError, UsageError


@click.command("loop")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--input", "input_", default=None, help="Data to prepare, or catalog://NAME@V to start from a version.")
@click.option("--goal", default=None, help="Prepare the input with the agent for this goal.")
@click.option("--recipe", default=None, help="Prepare the input with this recipe instead.")
@click.option("--name", default=None, help="Catalog dataset the versions are registered under [default: loop].")
@click.option("--catalog", default=None, help="Catalog root [default: $GRISTMILL_HOME or ~/.gristmill].")
@click.option("--output", "-o", default=None, help="Output folder: rounds, report.html, loop.json [default: out/loop].")
@click.option("--config", default=None, help="Training config of both rounds [default: a bundled tiny GPT-2, as examples/train/tiny.yaml].")
@click.option("--tokens", type=float, default=None, help="Each round's token budget (the rounds compare at equal tokens).")
@click.option("--policy", default=None, help="Round 1's data policy (and round 2's, starting from round 1's mixture).")
@click.option("--reference", default=None, help="Scoring reference: init, a run's output folder or a local HF model.")
@click.option("--drop-share", type=float, default=None,
              help="Refine: drop this share of each domain the last model found noisy or unlearnable (the agent).")
@click.option("--refine-goal", default=None, help="Refine: the agent's goal over version 2.")
@click.option("--keep", default=None, help="Refine: a rule over version 2, e.g. \"field('train.r1.excess_loss') < -1\".")
@click.option("--refine-recipe", default=None, help="Refine: a recipe run over version 2.")
@click.option("--no-init-weights", is_flag=True, help="Round 2 starts from its policy's own mixture, not round 1's.")
@click.option("--control", is_flag=True,
              help="Also train round 2's settings on the unrefined version: the refinement's own effect.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Training config override (both rounds).")
@click.option("--workers", type=click.IntRange(1, 1024), default=None, help="Recipe worker processes.")
@click.option("--fresh", is_flag=True, help="Redo every phase instead of reusing finished ones.")
def loop_command(spec: str | None, input_: str | None, goal: str | None, recipe: str | None, name: str | None,
                 catalog: str | None, output: str | None, config: str | None, tokens: float | None,
                 policy: str | None, reference: str | None, drop_share: float | None, refine_goal: str | None,
                 keep: str | None, refine_recipe: str | None, no_init_weights: bool, control: bool, sets: tuple[str, ...],
                 workers: int | None, fresh: bool) -> None:
    """Prepare → train round 1 → score → write back → refine → train round 2 → compare (docs/train.md, "The loop").

    Writes OUT/report.html and OUT/loop.json; a rerun reuses the phases that finished."""
    from gristmill.loop.spec import load_spec
    from gristmill.train import missing_train_extra, require_train_extra

    refine = {k: v for k, v in (("drop_share", drop_share), ("goal", refine_goal), ("keep", keep),
                                ("recipe", refine_recipe)) if v is not None}
    overrides = {"input": input_, "goal": goal, "recipe": recipe, "name": name, "catalog": catalog, "output": output,
                 "train.config": config, "train.tokens": int(tokens) if tokens is not None else None, "train.policy": policy,
                 "score.reference": reference, "refine": refine or None, "workers": workers,
                 "round2.init_weights_from": False if no_init_weights else None,
                 "round2.control": True if control else None}
    try:
        require_train_extra()
        loop_spec = load_spec(spec, overrides)
        if sets:
            loop_spec.train.set = [*loop_spec.train.set, *sets]
        from gristmill.loop.report import summary_lines
        from gristmill.loop.runner import run_loop

        result = run_loop(loop_spec, log=lambda m: click.echo(m), fresh=fresh)
    except GristmillError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2 if isinstance(e, UsageError) else 1)
    except ImportError as e:
        message = missing_train_extra(e)
        if message is None:
            raise
        click.echo(f"error: {message}", err=True)
        sys.exit(2)
    click.echo("")
    for line in summary_lines(result):
        click.echo(line)
    click.echo(f"\nreport: {result['files']['report']}  data: {result['files']['json']}")
