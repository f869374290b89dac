"""Progress of a simulation, shown where the user is: a bar in the terminal, or in a notebook.

``days_bar`` is a context manager yielding the callback :func:`xinyong.simulate` calls after
each day. The bar says which time is which (``0:00:23 elapsed, 0:00:04 left``). When the last
day is done it says, on a line of its own (so no terminal width cuts it), what is still
happening: the store is written and, for a city where anything acts on people, the twin city
without consequences is run for the chilling effect. A bar at 365/365 is never silent.
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
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

__all__ = ["FINISHING", "FINISHING_STORE", "days_bar", "in_notebook"]

#: What a run does after its last day, when something acts on people (it has a twin city) ...
FINISHING = (
    "finishing: writing the store and running the twin city without consequences "
    "(for the chilling effect)"
)
#: ... and when nothing does.
FINISHING_STORE = "finishing: writing the store"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a terminal bar would not redraw)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


#: The widest the days and times get (a year, with hours left).
_DAYS = "365/365 days, 0:00:00 elapsed, 0:00:00 left"


class _DaysColumn(ProgressColumn):
    """Days done, and which time is which: ``120/365 days, 0:00:23 elapsed, 0:00:48 left``."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True))
        self._elapsed, self._left = TimeElapsedColumn(), TimeRemainingColumn()

    def render(self, task: Task) -> Text:
        elapsed = self._elapsed.render(task).plain
        left = self._left.render(task).plain
        return Text(
            f"{int(task.completed)}/{int(task.total or 0)} days, {elapsed} elapsed, {left} left"
        )


@contextmanager
def days_bar(
    description: str,
    total: int,
    console: Console | None = None,
    transient: bool = False,
    twin: bool = True,
) -> Iterator[Callable[[int], None]]:
    """A progress bar over ``total`` days, with the time elapsed and the time left.

    Args:
        description: what is simulated, e.g. "reference: 10,000 citizens" (plain text).
        total: days to simulate.
        console: the terminal console (default: a new one on stderr); ignored in a notebook.
        transient: remove the bar when done (terminal only).
        twin: the run has a twin city to run after its last day (something acts on people).

    Yields:
        The callback to pass as ``progress=``: it takes the number of days done.
    """
    finishing = FINISHING if twin else FINISHING_STORE
    if in_notebook():
        with _notebook_bar(description, total, finishing) as update:
            yield update
        return
    console = console or Console(stderr=True)
    columns = (
        # The description gives way first: the days and times are never cut.
        TextColumn(
            "[bold]{task.description}",
            table_column=Column(no_wrap=True, max_width=max(10, console.width - len(_DAYS) - 8)),
        ),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5)),
        _DaysColumn(),
    )
    with Progress(*columns, console=console, transient=transient, expand=True) as bar:
        task = bar.add_task(escape(description), total=total)
        said = [False]

        def update(day: int) -> None:
            bar.update(task, completed=day)
            if day >= total and not said[0]:
                said[0] = True
                # A line of its own, above the bar: wrapped, never cut at the terminal's width.
                bar.console.print(escape(f"{description}: {finishing}"), highlight=False)
                bar.update(task, description=escape(f"{description} — finishing"))
                bar.refresh()  # now, not at the next tick: the finishing may take a while

        yield update
        bar.update(task, description=escape(f"{description} — done"))


@contextmanager
def _notebook_bar(description: str, total: int, finishing: str) -> Iterator[Callable[[int], None]]:
    from IPython.display import HTML, display

    started = time.perf_counter()

    def render(day: int) -> HTML:
        elapsed = time.perf_counter() - started
        left = f", about {elapsed / day * (total - day):.0f} s left" if 0 < day < total else ""
        word = f" — {finishing}" if day >= total else ""
        return HTML(
            f"<div class=xinyong-progress><b>{html.escape(description)}</b> "
            f"<progress value={day} max={total} style='width:40%'></progress> "
            f"{day}/{total} days, {elapsed:.0f} s elapsed{left}{html.escape(word)}</div>"
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
