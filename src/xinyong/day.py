"""One simulated day: its phases in order, the data they hand each other, what the day leaves.

A city's day is a plan of phases that run top to bottom, each a method of the city reading
and writing a :class:`Today`:

    behaviour → observation ‖ assessment → ledger → scoring → lists → consequences → response
    → rescheduling

``‖`` marks the hand-over: a split run gives each block the events about its subjects (a
misattribution may name a citizen of another block) before assessment. A behaviour-only twin
runs a shorter plan (behaviour, rescheduling). :class:`PhaseClock` times each phase when asked
(``xinyong simulate --profile``), and costs nothing when not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xinyong.consequences import Acted
    from xinyong.operators import Judgement, OperatorState, Scored
    from xinyong.sensors import Events

__all__ = ["HANDOVER", "PHASES", "DayResult", "PhaseClock", "Today"]

#: The phases of a day, in the order they run.
PHASES = ("behaviour", "observation", "assessment", "ledger", "scoring", "lists",
          "consequences", "response", "rescheduling")
#: The first phase after a split run's hand-over of events between blocks.
HANDOVER = PHASES.index("assessment")


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
    judged: list[tuple[OperatorState, Judgement, Judgement]] = field(default_factory=list)
    acted: Acted | None = None
    refused: int = 0
    responded: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    result: DayResult | None = None


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

    def time(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` and count its time under ``name``."""
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.add(name, time.perf_counter() - t)

    def rows(self, wall: float | None = None) -> list[dict[str, Any]]:
        """One row per timed part, in the order first timed, with its share of ``wall``."""
        total = wall if wall else sum(self.seconds.values()) or 1.0
        return [{"part": name, "seconds": round(s, 3), "calls": self.calls[name],
                 "events": self.events[name], "share": round(s / total, 4)}
                for name, s in self.seconds.items()]
