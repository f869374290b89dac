"""The explorer: a city driven a day at a time, its levers on sliders, its plots redrawn as the
days pass. One :class:`Explorer` holds the city and its controls; the notebook's widgets
(:mod:`xinyong.views.widgets`) and the page ``xinyong explore`` serves
(:mod:`xinyong.views.pages.explore`) are two faces of it.

A lever is a path a running city can change (:class:`~xinyong.scenario.change.Lever`): the
scenario's own ``levers``, or any ``--set`` path given, its range guessed from its value. Every
move of a slider is :meth:`xinyong.City.set`: a change of the run's timeline from the open day,
so the run the explorer leaves is one ``simulate`` can repeat.

Days run on a thread of their own, a day at a time, so a pause (or a slider) acts between two
days; one lock orders the days, the moves and the readers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

from xinyong.records.run import RunError
from xinyong.records.stepped import City
from xinyong.scenario import Scenario, ScenarioError
from xinyong.scenario.change import Lever
from xinyong.scenario.overrides import get, normalise
from xinyong.scenario.timeline import in_force, lever_problems, timeline_rows
from xinyong.views.figures import city_figures
from xinyong.views.run_data import city_data

__all__ = ["Explorer", "lever_for"]

#: The headline figures the explorer shows beside the plots (summary keys, in words).
HEADLINE = (
    ("mean_score", "mean score (first scheme)"),
    ("listed_share", "listed (share of citizens)"),
    ("wrongly_listed", "wrongly listed (citizens)"),
    ("blacklisted", "blacklisted (citizens)"),
    ("events_recorded", "events recorded"),
    ("events_misattributed", "events misattributed"),
    ("gate_denials", "refused at a service"),
)


def lever_for(scenario: Scenario, path: str) -> Lever:
    """A lever for ``path`` (as ``--set`` names it), its range guessed from the value now: a
    share (a number in [0, 1]) goes from 0 to 1; any other number from 0 to twice its size
    (either side of 0: points go below). An assumption for teaching, which a scenario's own
    ``levers`` replace.

    Raises:
        ScenarioError: the path names nothing, names a field fixed for a run, or holds no
            number.
    """
    probe = Lever(path=path, min=0, max=1)  # the path checked as a scenario's lever is
    problems = lever_problems(scenario.model_copy(update={"levers": [probe]}))
    if problems:
        raise ScenarioError(f"lever '{path}': {problems[0][2]}")
    now = get(scenario, next(iter(normalise(scenario, {path: 0}))))
    if isinstance(now, float) and 0.0 <= now <= 1.0:
        lever = Lever(path=path, min=0.0, max=1.0, step=0.01)
    else:
        reach = max(abs(now) * 2, 1)
        low, high = (-reach, 0) if now < 0 else (0, reach)
        lever = Lever(path=path, min=low, max=high, step=1 if isinstance(now, int) else None)
    return lever


class Explorer:
    """A city, its levers and its controls, for a notebook's widgets or a page.

    Args:
        city: the city to drive.
        levers: extra paths (as ``--set`` names them) or levers, beside the scenario's own.
        on_day: called (on the days' thread) after each day and each move.

    Raises:
        ScenarioError: a path given is not a lever.
    """

    def __init__(
        self,
        city: City,
        levers: Sequence[str | Lever] = (),
        on_day: Callable[[], None] | None = None,
    ) -> None:
        self.city = city
        chosen = list(city.scenario.levers)
        for lever in levers:
            if isinstance(lever, str):
                lever = lever_for(city.scenario, lever)
            chosen = [c for c in chosen if c.path != lever.path] + [lever]
        self.levers = chosen
        self.on_day = on_day
        self.lock = threading.RLock()  # the days, the moves and the readers, one at a time
        self._stop = threading.Event()
        self._days: threading.Thread | None = None
        self._active = False  # days running (False before the thread's last call back)
        self.error: str | None = None  # what stopped the last run, in words
        self.version = 0  # moves on with every day and change: a page redraws when it does
        self._drawn: tuple[int, list[tuple[str, go.Figure]]] | None = None
        self._summary: tuple[int, dict[str, Any]] | None = None

    # -- the controls -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether days are being simulated."""
        return self._active

    def move(self, path: str, value: float) -> None:
        """Set a lever from the open day on (a change of the run's timeline).

        Raises:
            ScenarioError: not a lever, or a value outside its range or refused.
        """
        lever = next((lv for lv in self.levers if lv.path == path), None)
        if lever is None:
            raise ScenarioError(
                f"'{path}' is not a lever here: choose one of "
                f"{', '.join(lv.path for lv in self.levers) or '(none)'}"
            )
        if not min(lever.min, self.value(lever)) <= value <= max(lever.max, self.value(lever)):
            raise ScenarioError(f"{path} = {value}: the lever goes from {lever.min} to {lever.max}")
        if isinstance(get(self.city.scenario, path), int) and float(value).is_integer():
            value = int(value)
        with self.lock:
            if value == self.value(lever):
                return
            self.city.set(path, value, what=f"{lever.what or path}: {value} (explorer)")
            self._moved()

    def step(self) -> None:
        """Simulate the open day (refused while days are running).

        Raises:
            RunError: days are running, or the city is at its horizon.
        """
        if self.running:
            raise RunError("days are running: pause first, then step")
        with self.lock:
            self.city.step()
            self._moved()

    def run(self, days: int) -> None:
        """Simulate ``days`` days on a thread of their own, a day at a time, until done or
        paused (:meth:`pause`).

        Raises:
            RunError: days are running already, or fewer than ``days`` are left.
        """
        if self.running:
            raise RunError("days are running already: pause them first")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise RunError(f"days = {days!r}: give a whole number of days, 1 or more")
        left = self.city.days - self.city.day
        if days > left:
            raise RunError(
                f"the city is at day {self.city.day} of its {self.city.days}: {left} day(s) "
                f"are left; run fewer, or start the city with more days (--days)"
            )
        self._stop.clear()
        self.error = None
        self._active = True
        self._days = threading.Thread(target=self._run, args=(days,), name="explorer-days")
        self._days.start()

    def _run(self, days: int) -> None:
        try:
            for _ in range(days):
                if self._stop.is_set():
                    break
                with self.lock:
                    self.city.step()
                    self._moved()
        except (RunError, ScenarioError) as exc:
            self.error = str(exc)
        finally:
            self._active = False
            if self.on_day is not None:  # the last word: the days have stopped
                self.on_day()

    def pause(self) -> None:
        """Stop the days after the one being simulated."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the days running have run (or were paused)."""
        if self._days is not None:
            self._days.join(timeout)

    def _moved(self) -> None:
        self.version += 1
        if self.on_day is not None:
            self.on_day()

    # -- what it shows ----------------------------------------------------------------------

    def value(self, lever: Lever) -> Any:
        """A lever's value in force on the open day."""
        return get(in_force(self.city.scenario, self.city.day), lever.path)

    def lever_rows(self) -> list[dict[str, Any]]:
        """Each lever: path, words, range, step and value now."""
        rows = []
        with self.lock:
            for lv in self.levers:
                value = self.value(lv)  # the timeline may have taken it past the range
                rows.append(
                    {
                        "path": lv.path,
                        "what": lv.what or lv.path,
                        "min": min(lv.min, value),
                        "max": max(lv.max, value),
                        "step": lv.step or (lv.max - lv.min) / 100,
                        "value": value,
                    }
                )
        return rows

    def figures(self) -> tuple[int, list[tuple[str, go.Figure]]]:
        """The report's plots of the days so far, and the version they show (drawn once a
        version)."""
        with self.lock:
            if self._drawn is None or self._drawn[0] != self.version:
                engine = self.city.engine
                name = f"{self.city.scenario.name} (seed {self.city.seed}, day {engine.day})"
                self._drawn = (self.version, city_figures(city_data(engine, name)))
            return self._drawn

    def state(self) -> dict[str, Any]:
        """What the controls show: the day, whether days run, the levers, the timeline so far
        and the headline figures (the summary's, named)."""
        with self.lock:
            if self._summary is None or self._summary[0] != self.version:
                self._summary = (self.version, self.city.figures())
            summary = self._summary[1]
            scenario = self.city.scenario
            return {
                "scenario": scenario.name,
                "citizens": scenario.citizens,
                "seed": self.city.seed,
                "day": self.city.day,
                "days": self.city.days,
                "running": self.running,
                "version": self.version,
                "error": self.error,
                "levers": self.lever_rows(),
                "timeline": timeline_rows(scenario),
                "headline": [
                    {"key": key, "what": what, "value": summary.get(key)}
                    for key, what in HEADLINE
                    if key in summary
                ],
            }
