"""Load YAML while remembering the line of every key, so errors can point into the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gristmill.errors import RecipeError

Path_ = tuple[str | int, ...]


MAX_NODES = 100_000
"""Most values a recipe may expand to: YAML aliases can make a few lines expand exponentially (billion laughs)."""
MAX_DEPTH = 64


class _Budget:
    """Counts the values built from the YAML tree, so that an alias bomb is refused before it grows."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.nodes = 0

    def spend(self, node: yaml.Node, depth: int) -> None:
        self.nodes += 1
        where = f"{self.filename}:{node.start_mark.line + 1}"
        if self.nodes > MAX_NODES:
            raise RecipeError([f"{where}: the recipe expands to more than {MAX_NODES:,} values "
                               "(YAML aliases repeating aliases?); a recipe is far smaller"])
        if depth > MAX_DEPTH:
            raise RecipeError([f"{where}: the recipe nests deeper than {MAX_DEPTH} levels"])


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], budget: _Budget) -> Any:
    budget.spend(node, len(path))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = k.value
            lines[path + (key,)] = k.start_mark.line + 1
            out[key] = _walk(v, path + (key,), lines, budget)
            lines[path + (key,)] = k.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, path + (i,), lines, budget) for i, v in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load_yaml_with_lines(text: str, filename: str = "<recipe>") -> tuple[Any, dict[Path_, int]]:
    """Parse YAML; return the data and a map from key path (e.g. ('steps', 2, 'params')) to line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        raise RecipeError([f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}"]) from None
    except RecursionError:
        raise RecipeError([f"{filename}: the recipe nests deeper than {MAX_DEPTH} levels"]) from None
    if node is None:
        return {}, {}
    lines: dict[Path_, int] = {}
    return _walk(node, (), lines, _Budget(filename)), lines


def read_recipe_file(path: str | Path) -> tuple[dict, dict[Path_, int]]:
    p = Path(path)
    if not p.is_file():
        raise RecipeError([f"{path}: recipe file not found"])
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RecipeError([f"{path}:{line}: the recipe is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                           "save it as UTF-8"]) from None
    data, lines = load_yaml_with_lines(text, str(path))
    if not isinstance(data, dict):
        raise RecipeError([f"{path}:1: a recipe is a mapping with input, steps and output"])
    return data, lines


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of ``path`` or of its nearest ancestor present in the file."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
