"""One simulated day: its phases in order, the data they hand each other, what the day leaves.

A city's day is a plan of phases that run top to bottom, each a method of the city reading
and writing a :class:`Today`:

    timeline → behaviour → observation ‖ assessment → ledger → scoring → lists → consequences
    → response → rescheduling → end

``‖`` marks the hand-over: a split run gives each block the events about its subjects (a
misattribution may name a citizen of another block) before assessment. The plan
(:class:`Plan`) is the list of the city's phase methods themselves, and prints as above
(``print(city.plan())``). A behaviour-only twin runs a shorter plan (timeline, behaviour,
rescheduling, end). The timeline applies the scenario's dated changes on their day, before
anything happens that day.

Parts run beside the phases, on the second core: tomorrow's draws for the pairs that
occurred, begun as soon as behaviour has run and filed in rescheduling; each operator's
error-free counterfactual, begun in scoring and awaited at the day's end (the ``end`` phase,
where the day is counted and the gates' refusals checked against it); and the next use of
each of the day's service uses, begun once the gates have checked them and filed in
rescheduling. A :class:`~xinyong.primitives.clock.PhaseClock` times each phase when asked
(``xinyong simulate --profile``), and costs nothing when not. What a day leaves
(:class:`~xinyong.primitives.day.DayResult`) is on the ground floor, with the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from xinyong.primitives.day import Acted, DayResult

if TYPE_CHECKING:
    from xinyong.model.operators import Judgement, OperatorState, Scored
    from xinyong.model.sensors import Events

__all__ = ["Kept", "Phase", "Plan", "Today", "phase_name"]

#: One phase of the day: a method of the city that reads and writes the open day.
Phase = Callable[["Today"], None]


def phase_name(phase: Phase) -> str:
    """A phase's name, as ``--profile`` and the plan print it: its method's, without the
    underscore (``City._scoring`` is ``scoring``)."""
    return getattr(phase, "__name__", repr(phase)).strip("_")


@dataclass(frozen=True)
class Plan:
    """A day's phases in the order they run, the methods themselves, cut where a split run
    hands events over: ``before`` runs on the events the city's own subjects caused, ``after``
    on the events about its own subjects, wherever they came from.

    ``str(plan)`` reads as the day does: ``behaviour → observation ‖ assessment → …``.
    """

    before: tuple[Phase, ...]
    after: tuple[Phase, ...]

    def __iter__(self) -> Iterator[Phase]:
        return iter(self.before + self.after)

    def names(self) -> list[str]:
        """The phases' names, in order."""
        return [phase_name(p) for p in self]

    def __str__(self) -> str:
        return " ‖ ".join(
            " → ".join(phase_name(p) for p in part) for part in (self.before, self.after) if part
        )


@dataclass(slots=True)
class Kept:
    """One operator's events today: those it scores (``mine``: city-wide ids; ``ours``: this
    city's column numbers), which its review dismissed, which were withdrawn on appeal, and
    those misattributed to subjects it does not score (``unscored``, city-wide ids: ledgered,
    not counted)."""

    mine: Events
    ours: Events
    dismissed: np.ndarray
    withdrawn: np.ndarray | None
    unscored: Events | None = None


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
