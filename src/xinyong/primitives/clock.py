"""The phase clock: seconds, calls and events of each timed part of a run (``xinyong simulate
--profile``); an executor whose tasks count their time on it, and one that runs them at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Protocol, TypeVar

__all__ = ["BESIDE", "Inline", "PhaseClock", "Timed"]

#: Timed parts that run on another thread, beside the day (their names end so).
BESIDE = ("(second core)", "(writer thread)")


class Handled(Protocol):
    """What a phase works on: it says how much it handled, by phase name."""

    handled: dict[str, int]


D = TypeVar("D", bound=Handled)


class PhaseClock:
    """Seconds, calls and events of each phase of the day, and of the rest of a run's wall
    time (set-up, the counterfactual on the second core, the ledger, the twin, the summary).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.events: dict[str, int] = {}

    def add(self, name: str, seconds: float, events: int = 0) -> None:
        """Count one call of ``name`` that took ``seconds`` and handled ``events``."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1
        self.events[name] = self.events.get(name, 0) + events

    def phase(self, name: str, fn: Callable[[D], None], today: D) -> None:
        """Run one phase of the day and count its time and what it handled."""
        t = time.perf_counter()
        fn(today)
        self.add(name, time.perf_counter() - t, today.handled.get(name, 0))

    def time(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` and count its time under ``name``."""
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.add(name, time.perf_counter() - t)

    def rows(self, wall: float) -> list[dict[str, Any]]:
        """One row per timed part, in the order first timed, with its share of the ``wall``
        seconds, then what no part accounts for. Parts on another thread (``beside``: the
        second core, the ledger's writer) overlap the day and are not added to the rest."""
        rows = [
            {
                "part": name,
                "seconds": round(s, 3),
                "calls": self.calls[name],
                "events": self.events[name],
                "share": round(s / wall, 4) if wall else 0.0,
                "beside": name.endswith(BESIDE),
            }
            for name, s in self.seconds.items()
        ]
        rest = wall - sum(s for name, s in self.seconds.items() if not name.endswith(BESIDE))
        rows.append(
            {
                "part": "other (not timed)",
                "seconds": round(rest, 3),
                "calls": 0,
                "events": 0,
                "share": round(rest / wall, 4) if wall else 0.0,
                "beside": False,
            }
        )
        return rows


class Timed(Executor):
    """An executor whose tasks count their time on a clock (the second core's counterfactual,
    the ledger's writer thread): time spent beside the day, not in it."""

    def __init__(self, inner: Executor, clock: PhaseClock, name: str) -> None:
        self.inner, self.clock, self.name = inner, clock, name

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.inner.submit(self.clock.time, self.name, lambda: fn(*args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait, cancel_futures=cancel_futures)


class Inline(Executor):
    """An executor that runs each task at once, in the calling thread: what a worker of a
    split run that has one core to itself uses instead of a second thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future
