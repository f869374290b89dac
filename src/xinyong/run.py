"""Runs: simulate a scenario, keep what happened, and open it again later.

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=2_000, days=30, seed=1)
    >>> sorted(run.summary)[:3]
    ['citizens', 'counterfactual_listed_share', 'days']
    >>> run.explain(0).citizen
    0

A run with ``out=DIR`` is a folder: ``run.duckdb`` (the store) and ``summary.json``, written
last, so a folder without it is a run that did not finish.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from xinyong.city import City
from xinyong.explain import Explanation, explain_subject
from xinyong.ledger import Ledger
from xinyong.population import citizen_name, credit_code
from xinyong.scenario import Scenario, load_scenario
from xinyong.store import RunStore

__all__ = ["Run", "RunError", "UnknownCitizenError", "check_output_folder", "open_run",
           "simulate"]

STORE_FILE = "run.duckdb"
SUMMARY_FILE = "summary.json"


class RunError(Exception):
    """A run folder that cannot be written or read, with what to do about it."""


class UnknownCitizenError(KeyError):
    """A citizen id that is not in the run."""

    def __str__(self) -> str:
        return str(self.args[0])


class Run:
    """A simulated city: its summary, daily series, ledger and explanations.

    Do not build one directly: use :func:`simulate` or :func:`open_run`.
    """

    def __init__(self, store: RunStore, summary: dict[str, Any], path: Path | None) -> None:
        self._store = store
        self.summary = summary
        self.path = path
        self.scenario: Scenario = store.scenario()
        self.ledger = Ledger(store, self.scenario)
        self.operators = self.scenario.all_operators()

    def __repr__(self) -> str:
        where = f" at '{self.path}'" if self.path else " (in memory)"
        s = self.summary
        return (f"<Run '{s['scenario']}' seed={s['seed']}: {s['citizens']:,} citizens, "
                f"{s['days']} days{where}>")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def daily(self) -> pd.DataFrame:
        """The daily series: one row a day (mean score, grade shares, listed, events...)."""
        return self._store.query("SELECT * FROM daily ORDER BY day")

    @property
    def daily_operators(self) -> pd.DataFrame:
        """Every operator's daily series: one row per day, operator and grade."""
        return self._store.query("SELECT * FROM daily_operators ORDER BY day, operator, grade")

    @property
    def listings(self) -> pd.DataFrame:
        """Every change to the lists: day, operator, subject, counterfactual, change, reason.

        ``citizen`` repeats ``subject`` for the first operator's citizens, for convenience.
        """
        return self._store.query(
            "SELECT l.day, o.name AS operator, l.subject, l.subject AS citizen, "
            "l.counterfactual, l.change, l.reason FROM listings l JOIN operators o "
            "USING (operator) ORDER BY l.day, l.operator, l.subject, l.counterfactual")

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the run's tables (see :mod:`xinyong.store`)."""
        return self._store.query(sql, params)

    def _check(self, subject: int, kind: str = "citizen") -> int:
        if kind == "citizen":
            n, what = self.scenario.citizens, "citizens"
        else:
            n = int(self._store.con.execute("SELECT count(*) FROM organisations").fetchone()[0]) \
                if self.scenario.population else 0
            what = "organisations"
        if not isinstance(subject, int) or isinstance(subject, bool) or not 0 <= subject < n:
            raise UnknownCitizenError(
                f"{kind} {subject!r} is not in this run: {what} are numbered 0 to {n - 1}")
        return subject

    def citizen(self, citizen: int) -> dict[str, Any]:
        """One citizen's attributes and standing under the first operator."""
        self._check(citizen)
        row = self._store.query("SELECT * FROM citizens WHERE citizen = ?", [citizen])
        return row.iloc[0].to_dict()

    def explain(self, citizen: int) -> Explanation:
        """How one citizen's scores, grades and listings came to be, event by event.

        The explanation is for the first citizen scheme; ``.others`` holds one for every other
        operator that scores citizens.
        """
        return self._explain(self._check(citizen), "citizen")

    def explain_company(self, organisation: int) -> Explanation:
        """How one company's (or government body's) corporate scores came to be."""
        return self._explain(self._check(organisation, "company"), "company")

    def _explain(self, subject: int, kind: str) -> Explanation:
        name = None
        if self.scenario.population is not None:
            name = citizen_name(subject) if kind == "citizen" else credit_code(subject)
        parts = []
        for index, op in enumerate(self.operators):
            if op.scheme.subject != kind:
                continue
            standing = self._store.query(
                "SELECT * FROM standings WHERE operator = ? AND subject = ?",
                [index, subject]).iloc[0].to_dict()
            starts = self.ledger.starting_scores(op.name)
            start = int(starts[subject]) if starts is not None else op.scheme.score.start
            parts.append(explain_subject(
                self.scenario, op, self.summary["days"], subject, start, standing,
                events=self.ledger.events(subject, op.name),
                done_by=self.ledger.done_by(subject, op.name),
                listings=self._store.query(
                    "SELECT day, change, reason, counterfactual FROM listings "
                    "WHERE operator = ? AND subject = ? ORDER BY day, counterfactual",
                    [index, subject]),
                name=name))
        if not parts:
            raise UnknownCitizenError(f"no operator in this run scores {kind}s")
        return dataclasses.replace(parts[0], others=tuple(parts[1:]))

    def close(self) -> None:
        """Close the store."""
        self._store.close()


def _resolve(scenario: str | Path | Scenario, citizens: int | None, days: int | None
             ) -> Scenario:
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return s.with_sizes(citizens=citizens, days=days)


def check_output_folder(out: Path) -> None:
    """Raise :class:`RunError` unless ``out`` is missing or an empty folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"output folder '{out}' already exists and is not empty; choose another "
                       f"--out, or delete it first")


def simulate(scenario: str | Path | Scenario = "reference", *, citizens: int | None = None,
             days: int | None = None, seed: int = 0, out: str | Path | None = None,
             progress: Callable[[int], None] | None = None) -> Run:
    """Simulate a city and keep everything it recorded.

    Args:
        scenario: a built-in scenario name, a scenario file, or a :class:`Scenario`.
        citizens: population size (default: the scenario's).
        days: days to simulate (default: the scenario's).
        seed: the seed of every random stream; the same seed gives the same run.
        out: a folder to write ``run.duckdb`` and ``summary.json`` to; in memory if None.
        progress: called with the number of days done after each day.

    Returns:
        The finished run.

    Raises:
        ScenarioError: the scenario cannot be used.
        RunError: the output folder exists and is not empty.
    """
    if seed < 0:
        raise ValueError(f"seed = {seed}: a seed must be a non-negative integer")
    chosen = _resolve(scenario, citizens, days)
    folder = Path(out) if out is not None else None
    if folder is not None:
        check_output_folder(folder)
        folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store = RunStore.create(folder / STORE_FILE if folder else None, chosen, seed)
    city = City(chosen, seed, store)
    city.run(progress)
    store.finish({
        "daily": city.daily(), "daily_operators": city.daily_operators(),
        "listings": city.listings(), "list_changes": city.list_changes(),
        "memberships": city.memberships(), "standings": city.standings(),
        "population": city.population_table(), "organisations": city.organisations_table(),
    })
    summary = city.summary()
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    store.set_info(status="complete", summary=json.dumps(summary))
    store.con.execute("CHECKPOINT")
    if folder is not None:
        tmp = folder / (SUMMARY_FILE + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, folder / SUMMARY_FILE)  # atomic: the summary's presence means complete
    return Run(store, summary, folder)


def open_run(path: str | Path) -> Run:
    """Open a run folder written by :func:`simulate` (read-only).

    Raises:
        RunError: the folder is missing, is not a run, or holds a run that did not finish.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RunError(f"no run at '{folder}': the folder does not exist")
    db = folder / STORE_FILE
    if not db.is_file():
        raise RunError(f"'{folder}' is not a xinyong run: it has no {STORE_FILE}")
    summary_file = folder / SUMMARY_FILE
    if not summary_file.is_file():
        raise RunError(f"the run in '{folder}' did not finish (no {SUMMARY_FILE}): it was "
                       f"interrupted. Delete the folder and simulate again.")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        store = RunStore(db, read_only=True)
    except (json.JSONDecodeError, duckdb.Error) as exc:
        raise RunError(f"cannot read the run in '{folder}': {exc}. The files are damaged; "
                       f"delete the folder and simulate again.") from None
    return Run(store, summary, folder)
