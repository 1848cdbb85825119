"""The data–model loop as one command (``gristmill loop``): prepare, train, score, write back, refine, train
again, compare. See :mod:`gristmill.loop.runner` and docs/train.md, "The loop"."""

from gristmill.loop.spec import LoopSpec, load_spec

__all__ = ["LoopSpec", "load_spec", "run_loop"]


def run_loop(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - re-exported lazily (the runner imports torch)
    from gristmill.loop.runner import run_loop as run

    return run(*args, **kwargs)
