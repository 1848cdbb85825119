"""Terminal rendering of run summaries and progress (rich, on stderr so stdout stays machine-readable)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


def make_console(stderr: bool) -> Console:
    """A console that keeps tables readable in logs: 140 columns when not writing to a terminal."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=140)


err = make_console(stderr=True)


class RunProgress:
    """One line per stage: documents so far and documents per second.

    Redrawn when a chunk reports (at most ten times a second), not by a refresh thread: the executor forks
    its workers, which is only safe while no other thread runs (engine/forked.py)."""

    def __init__(self, enabled: bool = True) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[bold]{task.fields[docs]:,}[/] docs"),
            TextColumn("{task.fields[rate]:,.0f} docs/s"),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
            transient=False,
            auto_refresh=False,
        )
        self.tasks: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        self.drawn = 0.0

    def __enter__(self) -> RunProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, label: str, docs: int, _bytes: int) -> None:
        if label not in self.tasks:
            self.tasks[label] = self.progress.add_task(label, total=None, docs=0, rate=0.0)
            self.started[label] = time.perf_counter()
        now = time.perf_counter()
        elapsed = max(now - self.started[label], 1e-6)
        self.progress.update(self.tasks[label], docs=docs, rate=docs / elapsed)
        if now - self.drawn >= 0.1:
            self.progress.refresh()
            self.drawn = now


def print_summary(summary: dict[str, Any], console: Console = err) -> None:
    bal = summary["balance"]
    mark = "[green]✓ holds[/]" if bal["holds"] else "[red]✗ DOES NOT HOLD[/]"
    console.print(
        f"[bold]{summary['recipe']['name']}[/] → {summary['output']['folder']}  "
        f"({summary['wall_seconds']:.2f} s, {summary['workers']} workers, {summary['chunks']} chunks"
        f"{', resumed' if summary.get('resumed') else ''})"
    )
    t = Table(title=None, show_header=True, header_style="bold")
    for col in ("input", "kept", "dropped", "rejected"):
        t.add_column(col, justify="right")
    t.add_column("input = kept + dropped + rejected")
    t.add_row(
        f"{summary['input']:,}", f"{summary['kept']:,}", f"{summary['dropped']['total']:,}",
        f"{summary['rejected']['total']:,}", f"{bal['detail']}  {mark}",
    )
    console.print(t)
    s = Table(show_header=True, header_style="bold", title="steps")
    for col, just in (("step", "left"), ("op", "left"), ("in", "right"), ("out", "right"), ("dropped by rule", "left"), ("seconds", "right")):
        s.add_column(col, justify=just)  # type: ignore[arg-type]
    for st in summary["steps"]:
        drops = "\n".join(f"{r}={n:,}" for r, n in st["dropped"].items()) or "-"
        s.add_row(st["name"], st["op"], f"{st['in']:,}", f"{st['out']:,}", drops, f"{st['seconds']:.3f}")
    console.print(s)
    if summary["rejected"]["total"]:
        r = Table(show_header=True, header_style="bold", title="rejected input (see rejected/*.parquet)")
        r.add_column("kind")
        r.add_column("rows", justify="right")
        for kind, n in summary["rejected"]["by_kind"].items():
            r.add_row(kind, f"{n:,}")
        console.print(r)
