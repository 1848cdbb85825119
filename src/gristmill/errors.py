"""Errors a user can act on. Each names where the problem is and what would be valid."""

from __future__ import annotations


class GristmillError(Exception):
    """A runtime failure the user can act on (exit code 1)."""


class UsageError(GristmillError):
    """Bad usage or an invalid recipe (exit code 2)."""


class RecipeError(UsageError):
    """One or more problems in a recipe, each with its location (file:line and a path such as steps[2])."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
