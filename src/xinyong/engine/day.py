"""One simulated day: its phases in order, the data they hand each other, what the day leaves.

A city's day is a plan of phases that run top to bottom, each a method of the city reading
and writing a :class:`Today`:

    behaviour → observation ‖ assessment → ledger → scoring → lists → consequences → response
    → rescheduling

``‖`` marks the hand-over: a split run gives each block the events about its subjects (a
misattribution may name a citizen of another block) before assessment. A behaviour-only twin
runs a shorter plan (behaviour, rescheduling). Parts run beside the phases, on the second core:
tomorrow's draws for the pairs that occurred, begun as soon as behaviour has run and filed in
rescheduling; each operator's error-free counterfactual, begun in scoring and awaited at the
day's end (where the day is counted, and the gates' refusals checked against it); and the next
use of each of the day's service uses, begun once the gates have checked them and filed in
rescheduling. :class:`PhaseClock` times each phase when asked (``xinyong simulate
--profile``), and costs nothing when not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xinyong.model.operators import Judgement, OperatorState, Scored
    from xinyong.model.sensors import Events

__all__ = ["HANDOVER", "PHASES", "Acted", "DayResult", "PhaseClock", "Timed", "Today"]

#: The phases of a day, in the order they run.
PHASES = ("behaviour", "observation", "assessment", "ledger", "scoring", "lists",
          "consequences", "response", "rescheduling")
#: The first phase after a split run's hand-over of events between blocks.
HANDOVER = PHASES.index("assessment")
#: Timed parts that run on another thread, beside the day (their names end so).
BESIDE = ("(second core)", "(writer thread)")


@dataclass(frozen=True, slots=True)
class DayResult:
    """What one day did, over the city's own subjects (a block's, in a split run).

    Attributes:
        day: the day.
        occurred: behaviours done (every kind of subject).
        recorded: events recorded about own subjects, false reports included.
        misattributed: recorded events credited to someone who did not do them.
        fabricated: false reports filed by collectors.
        listed: subjects who joined a scheme listing or a list, summed over operators.
        left: subjects who left one, summed over operators.
        refused: citizens refused at a gate.
        responded: citizens whose behaviour was drawn again after a response.
    """

    day: int
    occurred: int
    recorded: int
    misattributed: int
    fabricated: int
    listed: int
    left: int
    refused: int
    responded: int


@dataclass(frozen=True, slots=True)
class Acted:
    """What the day's consequences leave for the response: the citizens whose listings
    flipped, those who joined or left a blacklist, and those a gate refused."""

    toggled: list[np.ndarray]
    flipped: np.ndarray
    refused: np.ndarray


@dataclass(slots=True)
class Kept:
    """One operator's events today: those it scores (``mine``: city-wide ids; ``ours``: this
    city's column numbers), which its review dismissed, which were withdrawn on appeal."""

    mine: Events
    ours: Events
    dismissed: np.ndarray
    withdrawn: np.ndarray | None


@dataclass(slots=True)
class Today:
    """The open day's working data, handed from phase to phase (and from block to block)."""

    day: int
    events: dict[str, Events] = field(default_factory=dict)  # recorded, by kind of subject
    done: dict[str, Events] = field(default_factory=dict)  # really done by own actors
    local: dict[str, Events] = field(default_factory=dict)  # events, in own column numbers
    gone: dict[str, np.ndarray | None] = field(default_factory=dict)  # withdrawn on appeal
    dismissed_any: np.ndarray | None = None  # per citizen event: some review dismissed it
    kept: list[Kept] = field(default_factory=list)  # per operator
    scored: list[Scored] = field(default_factory=list)  # per operator
    real: list[Judgement] = field(default_factory=list)  # per operator, after its lists
    # Per operator, real and error-free, once the day is counted (City._count).
    judged: list[tuple[OperatorState, Judgement, Judgement]] = field(default_factory=list)
    acted: Acted | None = None
    listed: int = 0  # subjects who joined a listing or a list, over operators
    left: int = 0  # subjects who left one
    refused: int = 0
    responded: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    result: DayResult | None = None
    handled: dict[str, int] = field(default_factory=dict)  # per phase, what it worked on


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

    def phase(self, name: str, fn: Callable[[Today], None], today: Today) -> None:
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
        rows = [{"part": name, "seconds": round(s, 3), "calls": self.calls[name],
                 "events": self.events[name], "share": round(s / wall, 4) if wall else 0.0,
                 "beside": name.endswith(BESIDE)}
                for name, s in self.seconds.items()]
        rest = wall - sum(s for name, s in self.seconds.items() if not name.endswith(BESIDE))
        rows.append({"part": "other (not timed)", "seconds": round(rest, 3), "calls": 0,
                     "events": 0, "share": round(rest / wall, 4) if wall else 0.0,
                     "beside": False})
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
