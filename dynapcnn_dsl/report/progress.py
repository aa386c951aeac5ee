"""Progress bars on standard error while `simulate` and `evaluate` run: drawn on a terminal
only (transient: gone when the run ends), nothing anywhere else. Each returns the bar (to start
and stop around the run), or None, and the callback the run reports its progress through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO


def _on_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def simulation_progress(stream: TextIO) -> tuple[Any, Callable[[int, int], None] | None]:
    """`simulate`'s bar: the callback takes (events done, events in all)."""
    if not _on_terminal(stream):
        return None, None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(transient=True, console=Console(file=stream))
    task = bar.add_task("simulating", total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def evaluation_progress(stream: TextIO, total: int) -> tuple[Any, Callable[[], None] | None]:
    """`evaluate`'s bar over `total` recordings: the callback counts one more done."""
    if not _on_terminal(stream):
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                   TimeRemainingColumn(), transient=True, console=Console(file=stream))
    task = bar.add_task("evaluating", total=total)
    return bar, lambda: bar.advance(task)
