"""The one loop that drives cities through their days.

A whole run, a split run's blocks in one process, the live city and the behaviour-only twin
all go through :func:`drive`: each day, every city runs the phases before the hand-over
(:meth:`City.observe`), the events about subjects of another block are handed to it
(:func:`xinyong.split.route`), and every city finishes its day (:meth:`City.judge`). Hooks
carry what differs: progress, the live city's locks and snapshots, a stop request. A whole run
is a split run of one block: with one city the hand-over is empty and costs nothing.

Ray workers run the same two halves of the day (:class:`xinyong.split.BlockRun`), pipelined
a few days ahead of the driver (:func:`xinyong.workers.run_on_ray`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xinyong.city import Block, City
    from xinyong.day import DayResult

__all__ = ["drive"]


def drive(cities: Sequence[City], until: int, *, blocks: list[Block] | None = None,
          progress: Callable[[int], None] | None = None,
          before_day: Callable[[int], None] | None = None,
          after_day: Callable[[int, list[DayResult]], None] | None = None,
          guard: Callable[[], AbstractContextManager[object]] | None = None,
          stop: Callable[[], bool] | None = None) -> int:
    """Simulate ``cities`` (the blocks of one city, in block order) up to open day ``until``.

    Args:
        cities: one city, or every block of a split city (all at the same day).
        until: the open day to stop at (at most the cities' horizon).
        blocks: the blocks the cities simulate (required with more than one city).
        progress: called with the number of days done after each day.
        before_day: called with the open day before it is simulated.
        after_day: called with the day done and each city's :class:`DayResult`.
        guard: a context manager each day is simulated under (the live city's locks).
        stop: asked before each day; True stops the loop there.

    Returns:
        The open day where the loop stopped.
    """
    from xinyong.split import route

    if len(cities) > 1 and blocks is None:
        raise ValueError("give the blocks of a split city: events are handed over by block")
    day = cities[0].day
    while day < min(until, cities[0].days):
        if stop is not None and stop():
            break
        if before_day is not None:
            before_day(day)
        with guard() if guard is not None else nullcontext():
            observed = [city.observe() for city in cities]
            if len(cities) == 1:
                inboxes = [observed[0].events]
            else:
                assert blocks is not None
                inboxes = route([today.events for today in observed], blocks)
            results = [city.judge(events, today)
                       for city, events, today in zip(cities, inboxes, observed, strict=True)]
        day += 1
        if after_day is not None:
            after_day(day - 1, results)
        if progress is not None:
            progress(day)
    return day
