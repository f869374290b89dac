"""Progress of a simulation, shown where the user is: a bar in the terminal, or in a notebook.

``days_bar`` is a context manager yielding the callback :func:`xinyong.simulate` calls after
each day. When the last day is done the bar says what is still happening (the store is written
and, for a city where anything acts on people, the twin city without consequences is run for
the chilling effect), so a bar at 365/365 is never silent.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["FINISHING", "days_bar", "in_notebook"]

FINISHING = (
    "finishing: writing the store and running the twin city without consequences "
    "(for the chilling effect)"
)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a terminal bar would not redraw)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def days_bar(
    description: str, total: int, console: Console | None = None, transient: bool = False
) -> Iterator[Callable[[int], None]]:
    """A progress bar over ``total`` days, with the time remaining.

    Args:
        description: what is simulated, e.g. "reference: 10,000 citizens" (plain text).
        total: days to simulate.
        console: the terminal console (default: a new one on stderr); ignored in a notebook.
        transient: remove the bar when done (terminal only).

    Yields:
        The callback to pass as ``progress=``: it takes the number of days done.
    """
    if in_notebook():
        with _notebook_bar(description, total) as update:
            yield update
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True), transient=transient) as bar:
        task = bar.add_task(escape(description), total=total)

        def update(day: int) -> None:
            bar.update(task, completed=day)
            if day >= total:
                bar.update(task, description=escape(f"{description} — {FINISHING}"))
                bar.refresh()  # now, not at the next tick: the finishing may take a while

        yield update
        bar.update(task, description=escape(f"{description} — done"))


@contextmanager
def _notebook_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    from IPython.display import HTML, display

    started = time.perf_counter()

    def render(day: int) -> HTML:
        elapsed = time.perf_counter() - started
        left = f", about {elapsed / day * (total - day):.0f} s left" if 0 < day < total else ""
        word = f" — {FINISHING}" if day >= total else ""
        return HTML(
            f"<div class=xinyong-progress><b>{html.escape(description)}</b> "
            f"<progress value={day} max={total} style='width:40%'></progress> "
            f"{day}/{total} days, {elapsed:.0f} s{left}{html.escape(word)}</div>"
        )

    handle = display(render(0), display_id=True)
    last = [0.0]

    def update(day: int) -> None:
        now = time.perf_counter()
        if day >= total or now - last[0] > 0.2:  # a redraw at most five times a second
            last[0] = now
            handle.update(render(day))

    yield update
    elapsed = time.perf_counter() - started
    handle.update(
        HTML(
            f"<div class=xinyong-progress><b>{html.escape(description)}</b>: "
            f"{total} days in {elapsed:.1f} s</div>"
        )
    )
