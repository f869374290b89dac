"""The one loop that drives cities through their days.

A whole run, a split run's blocks in one process, the live city and the behaviour-only twin
all go through :func:`drive`: each day, every city runs the phases before the hand-over
(:meth:`City.observe`), the events about subjects of another block are handed to it
(:func:`route`), and every city finishes its day (:meth:`City.judge`). Hooks
carry what differs: progress, the live city's locks and snapshots, a stop request. A whole run
is a split run of one block: with one city the hand-over is empty and costs nothing.

Ray workers run the same two halves of the day (:class:`xinyong.engine.split.BlockRun`), pipelined
a few days ahead of the driver (:func:`xinyong.engine.workers.run_on_ray`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

import numpy as np

from xinyong.model.sensors import Events

if TYPE_CHECKING:
    from xinyong.engine.city import City
    from xinyong.engine.parts import Block
    from xinyong.primitives.day import DayResult

__all__ = ["drive", "route"]


def drive(
    cities: Sequence[City] | Callable[[], Sequence[City]],
    until: int,
    *,
    blocks: list[Block] | None = None,
    progress: Callable[[int], None] | None = None,
    before_day: Callable[[City], None] | None = None,
    after_day: Callable[[City, list[DayResult]], None] | None = None,
    guard: Callable[[], AbstractContextManager[object]] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Simulate ``cities`` (the blocks of one city, in block order) up to open day ``until``.

    Args:
        cities: one city, or every block of a split city (all at the same day); or a function
            giving them, asked each day under ``guard`` (a live city is replaced when an
            appeal re-simulates it).
        until: the open day to stop at (at most the cities' horizon).
        blocks: the blocks the cities simulate (required with more than one city).
        progress: called with the number of days done after each day.
        before_day: called with the first city before its open day is simulated.
        after_day: called, still under ``guard``, with the first city (its day closed) and
            each city's :class:`DayResult`.
        guard: a context manager each day is simulated under (the live city's locks).
        stop: asked before each day; True stops the loop there.

    Returns:
        The open day where the loop stopped.
    """

    def now() -> Sequence[City]:
        return cities() if callable(cities) else cities

    day = now()[0].day
    while day < until:
        if stop is not None and stop():
            break
        with guard() if guard is not None else nullcontext():
            today = now()
            if today[0].day >= min(until, today[0].days):
                break
            if len(today) > 1 and blocks is None:
                raise ValueError("give the blocks of a split city: events are handed over by block")
            if before_day is not None:
                before_day(today[0])
            observed = [city.observe() for city in today]
            if len(today) == 1:
                inboxes = [observed[0].events]
            else:
                assert blocks is not None
                inboxes = route([t.events for t in observed], blocks)
            results = [
                city.judge(events, t)
                for city, events, t in zip(today, inboxes, observed, strict=True)
            ]
            if after_day is not None:
                after_day(today[0], results)
            day = today[0].day
        if progress is not None:
            progress(day)
    return day


def route(observed: list[dict[str, Events]], blocks_: list[Block]) -> list[dict[str, Events]]:
    """Hand every observed event to the block that owns its subject.

    Blocks' events are taken in block order, so every block receives them in the same order
    however the blocks are spread over workers.
    """
    bounds = {
        "citizen": np.array([b.lo for b in blocks_[1:]]),
        "company": np.array([b.org_lo for b in blocks_[1:]]),
    }
    inboxes: list[dict[str, list[Events]]] = [{} for _ in blocks_]
    for events in observed:
        for kind, e in events.items():
            owner = np.searchsorted(bounds[kind], e.subject, side="right")
            for j in range(len(blocks_)):
                inboxes[j].setdefault(kind, []).append(e.where(owner == j))
    return [{kind: Events.concat(parts) for kind, parts in inbox.items()} for inbox in inboxes]
