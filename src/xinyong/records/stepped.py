"""A city you drive from Python: step it, look at it, change a rule, go on, and keep the run.

    >>> import xinyong
    >>> city = xinyong.City("reference", citizens=2_000, days=60, seed=1)
    >>> city.run(days=30).day
    30
    >>> city.set("sensors.camera.misidentify", 0.05)   # from day 30 on, in the timeline
    >>> city.step().day
    30
    >>> city.citizen(42).explanation.score              # doctest: +SKIP
    >>> run = city.save("my-run")                       # doctest: +SKIP

The city is the engine's (:class:`xinyong.engine.city.City`), day by day through the one loop
(:func:`~xinyong.engine.driver.drive`), its ledger written as it goes to a store in memory. A
change from Python is a dated change: it goes into the scenario's timeline with its day
(:meth:`xinyong.engine.city.City.change`), so the run saved is the one a scenario with that
timeline simulates. :meth:`City.save` writes a run folder with the records' own writers
(:func:`~xinyong.records.simulation.store_whole` and
:func:`~xinyong.records.simulation.write_summary`): a city stepped for N days with no
changes saves exactly what ``simulate(days=N)`` writes.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from xinyong.engine.city import City as EngineCity
from xinyong.engine.driver import drive
from xinyong.engine.twin import keep_twin
from xinyong.model.gates import Decision
from xinyong.primitives.day import DayResult
from xinyong.primitives.shown import Shown, days_bar
from xinyong.records.explain import Explanation
from xinyong.records.run import STORE_FILE, Run, RunError
from xinyong.records.simulation import (
    CLAIM_FILE,
    _remove_run,
    _resolve,
    claim_output_folder,
    store_whole,
    write_summary,
)
from xinyong.records.store import RunStore
from xinyong.records.tables import daily_tables, subject_tables
from xinyong.scenario import Scenario, load_scenario
from xinyong.scenario.overrides import normalise as normalise_overrides

__all__ = ["Citizen", "City"]


@dataclasses.dataclass(frozen=True)
class Citizen(Shown):
    """One citizen as the city stands after its last completed day.

    Attributes:
        citizen: the citizen's id.
        day: days simulated so far.
        explanation: score, grade and lists under the first citizen scheme, event by event
            (``.others``: every other scheme's), as ``xinyong explain`` gives them.
        gates: what each service says to the citizen today (empty without consequences).
    """

    citizen: int
    day: int
    explanation: Explanation
    gates: tuple[Decision, ...]

    @property
    def score(self) -> int:
        """The score under the first citizen scheme."""
        return self.explanation.score

    @property
    def grade(self) -> str:
        """The grade under the first citizen scheme."""
        return self.explanation.grade

    def __str__(self) -> str:
        lines = [str(self.explanation)]
        lines += [f"  {decision}" for decision in self.gates]
        return "\n".join(lines)


class City:
    """A simulated city driven from Python, a day at a time.

    Args:
        scenario: a built-in scenario name, a scenario file, or a :class:`Scenario`.
        citizens: population size (default: the scenario's).
        days: the horizon, the most days the city can run (default: the scenario's).
        seed: the seed of every random stream; the same seed gives the same city.
        set: overrides from day 0, path → value, as ``simulate(set=...)``.
        threads: score the counterfactual on a second core (the same results).
        twin: keep the behaviour-only twin a day on with every day, for the chilling effect
            in :meth:`figures` and the plots as the days pass (the twin a saved run needs
            anyway, run along instead of at the end); False: the twin runs when the city is
            saved. The same results either way.

    Raises:
        ScenarioError: the scenario, a size or an override cannot be used.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = "reference",
        *,
        citizens: int | None = None,
        days: int | None = None,
        seed: int = 0,
        set: Mapping[str, Any] | None = None,
        threads: bool = True,
        twin: bool = True,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed = {seed!r}: a seed must be a non-negative integer")
        base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.overrides = normalise_overrides(base, set or {})
        chosen = _resolve(base, citizens, days, self.overrides)
        self.seed = seed
        self.threads = threads
        self._store = RunStore.create(None, chosen, seed)  # the ledger, as the days write it
        self._city = EngineCity(chosen, seed, self._store, threads=threads)
        if twin:  # none for a city where nothing acts on people: it would be the city
            keep_twin(self._city)
        self._seen: tuple[int, int, Run] | None = None  # (day, changes, the records as of then)

    def __repr__(self) -> str:
        s = self.scenario
        return (
            f"<City '{s.name}' seed={self.seed}: {s.citizens:,} citizens, day {self.day} of "
            f"{s.days}, {len(s.timeline)} timeline change(s)>"
        )

    @property
    def day(self) -> int:
        """The open day: the days simulated so far (0 before the first)."""
        return self._city.day

    @property
    def days(self) -> int:
        """The horizon: the most days this city can run."""
        return self._city.days

    @property
    def scenario(self) -> Scenario:
        """The scenario, with every change made so far in its timeline."""
        return self._city.scenario

    @property
    def engine(self) -> EngineCity:
        """The engine's city (its columns, operators and books), for reading."""
        return self._city

    # -- driving ---------------------------------------------------------------------------

    def step(self) -> DayResult:
        """Simulate the open day, and return what it did.

        Raises:
            RunError: the city has run all its days.
        """
        self._check_room(1)
        results: list[DayResult] = []
        drive([self._city], self.day + 1, after_day=lambda _, r: results.extend(r))
        return results[0]

    def run(
        self,
        days: int | None = None,
        progress: Callable[[int], None] | bool | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> City:
        """Simulate ``days`` more days (default: every day left).

        Args:
            days: how many days.
            progress: called with the open day after each day; True shows a bar.
            stop: asked before each day; True stops there (a pause button).

        Raises:
            RunError: fewer than ``days`` days are left.
        """
        days = self.days - self.day if days is None else days
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise RunError(f"days = {days!r}: give a whole number of days, 0 or more")
        self._check_room(days)
        until = self.day + days
        if progress is True:
            with days_bar(f"{self.scenario.name}: day {self.day}", days) as bar:
                start = self.day
                drive([self._city], until, progress=lambda d: bar(d - start), stop=stop)
        else:
            drive([self._city], until, progress=progress or None, stop=stop)
        return self

    def _check_room(self, days: int) -> None:
        if self.day + days > self.days:
            raise RunError(
                f"the city is at day {self.day} of its {self.days}: {days} more day(s) would "
                f"pass its horizon; make it with days= a larger number "
                f"(xinyong.City(..., days={self.day + days}))"
            )

    def set(
        self,
        path: str | Mapping[str, Any],
        value: Any = None,
        what: str = "",
        source: str | None = None,
    ) -> None:
        """From the open day on, set ``path`` (as ``--set``) to ``value``: the change goes into
        the run's timeline with its day, and acts as a dated change of the scenario would.

        Args:
            path: a field a running city can change, e.g. ``sensors.camera.misidentify``;
                or a mapping of paths to values, set together as one change.
            value: its new value.
            what: what the change is, in words (default: ``set from Python``).
            source: where the change comes from (a citation, or ``assumption``).

        Raises:
            ScenarioError: a path names nothing, names a field fixed for a run, or a value
                is refused; nothing is changed.
        """
        changes = dict(path) if isinstance(path, Mapping) else {path: value}
        self._city.change(changes, what=what, source=source)

    # -- what it says ----------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """The summary figures of the days so far, as a run's summary (with the chilling
        effect if the city keeps its twin)."""
        return self._city.summary()

    def records(self) -> Run:
        """The city's records as of its last completed day, as a run: its daily series,
        listings, ledger, explanations and gates (kept until the next day or change; the
        chilling effect only if the city keeps its twin)."""
        key = (self.day, len(self.scenario.timeline))
        if self._seen is not None and self._seen[:2] == key:
            return self._seen[2]
        finished = self._finished()
        tally = finished.tally()
        self._store.finish({**daily_tables(finished.scenario, tally), **subject_tables(finished)})
        summary = finished.summary()
        run = Run(self._store, summary, None)
        self._seen = (*key, run)
        return run

    def citizen(self, citizen: int) -> Citizen:
        """One citizen after the last completed day: score, grades and lists with every
        event's reason (``explain``), and what each service says to them (``gate``).

        Raises:
            UnknownCitizenError: no such citizen (the message gives the range).
        """
        run = self.records()
        explanation = run.explain(citizen)
        consequences = self.scenario.consequences
        services = [s.name for s in consequences.services] if consequences is not None else []
        gates = tuple(run.gate(service, citizen) for service in services)
        return Citizen(citizen, self.day, explanation, gates)

    # -- keeping it ------------------------------------------------------------------------

    def save(self, out: str | Path) -> Run:
        """Write the days so far as a run folder every command reads (``xinyong report``,
        ``explain``, ``gate``, ``compare``), with the behaviour-only twin's occurrences: the
        run ``simulate`` writes for this scenario and timeline over this many days.

        Raises:
            RunError: ``out`` exists and is not empty, or no day has been simulated.
        """
        if self.day == 0:
            raise RunError("the city has not run a day yet: step() or run(days=N) first")
        started = time.perf_counter()
        folder = Path(out)
        created = claim_output_folder(folder)
        try:
            chosen = self.scenario.with_sizes(days=self.day)
            store = RunStore.create(folder / STORE_FILE, chosen, self.seed)
            if self.overrides:
                store.set_info(overrides=json.dumps(self.overrides))
            self._copy_ledger(store)
            finished = self._finished()
            tally = finished.tally()
            tables = subject_tables(finished)
            del finished
            store_whole(chosen, self.seed, store, tally, tables, self.threads)
            summary = write_summary(chosen, self.seed, store, folder, tally, started)
        except BaseException:
            _remove_run(folder, created)
            raise
        finally:
            (folder / CLAIM_FILE).unlink(missing_ok=True)
        return Run(store, summary, folder)

    def _finished(self) -> EngineCity:
        """A copy of the city with its run closed as a finished run's is (lazy listing days
        written down), the ledger so far flushed to the store; the city itself goes on."""
        if self._city.ledger is not None:
            self._city.ledger.flush()
        copy: EngineCity = pickle.loads(pickle.dumps(self._city, pickle.HIGHEST_PROTOCOL))
        copy.finish()
        return copy

    def _copy_ledger(self, store: RunStore) -> None:
        """The ledger so far, in the order it was written, into ``store``."""
        assert self._city.ledger is not None
        self._city.ledger.flush()
        rows = self._store.con.sql("SELECT * FROM ledger_rows").to_arrow_reader(1 << 20)
        store.con.register("_ledger", rows)
        try:
            store.con.execute("INSERT INTO ledger_rows SELECT * FROM _ledger")
        finally:
            store.con.unregister("_ledger")

    def close(self) -> None:
        """Stop the city's threads and close its store in memory."""
        if self._city.ledger is not None:
            self._city.ledger.close()
            self._city.ledger = None
        self._store.close()
