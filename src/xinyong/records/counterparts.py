"""A run's counterpart of each figure of a published record, at its date, scaled to the country.

The run's days are dated from the scenario's ``start``; its ``[record]`` table says which lists
and services the record's quantities read and how many people the run stands for (counts are
scaled by that over the run's citizens). Each observation is read as its kind says:

- ``cumulative``: the running total from the record's origin to the date. A run that starts
  after the origin cannot give it: two cumulative figures of the same quantity inside the run
  give the flow between them instead (:func:`window`);
- ``flow``: the count from ``from`` to the date, both days included;
- ``rate``: the count in the 365 days that end on the date;
- ``stock``: the count on the date.

An observation the run does not cover is returned with its reason, never as a number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from xinyong.scenario import Scenario
from xinyong.scenario.published import (
    QUANTITIES,
    Observation,
    Record,
    RecordSpec,
    role_of,
    subjects_of,
)

__all__ = [
    "Counterpart",
    "Series",
    "counterparts",
    "poisson_interval",
    "record_rows",
    "series_of",
    "window",
]


@dataclass(frozen=True)
class Counterpart:
    """One observation and what the run says of it.

    Attributes:
        observation: the published figure (derived flows say so in their source).
        simulated: the run's figure, scaled to the country; None when the run cannot say.
        count: the count in the run itself (before scaling), for its sampling interval.
        scale: people the run stands for, per citizen simulated.
        why: why there is no figure, when there is none.
    """

    observation: Observation
    simulated: float | None
    count: int | None = None
    scale: float = 1.0
    why: str = ""

    def row(self) -> dict[str, Any]:
        """As a summary row."""
        o = self.observation
        lo, hi = poisson_interval(self.count) if self.count is not None else (None, None)
        return {
            "quantity": o.quantity,
            "kind": o.kind,
            "from": o.from_.isoformat() if o.from_ else None,
            "date": o.date.isoformat(),
            "scope": o.scope,
            "published": o.value,
            "simulated": self.simulated,
            "simulated_lo": None if lo is None else lo * self.scale,
            "simulated_hi": None if hi is None else hi * self.scale,
            "count": self.count,
            "source": o.source,
            "why": self.why,
        }


def poisson_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) interval for a Poisson mean, given one ``count``: the sampling
    uncertainty of a count at the run's size. Half the chi-squared quantiles, ``chi2.ppf(q,
    2c) / 2``, are the gamma quantiles ``gammaincinv(c, q)``, the same numbers (scipy's chi2
    computes its quantile so): read from ``scipy.special``, a third of ``scipy.stats``'
    import (about a second of a run's process)."""
    from scipy.special import gammaincinv

    alpha = 1.0 - level
    lo = 0.0 if count == 0 else float(gammaincinv(count, alpha / 2))
    hi = float(gammaincinv(count + 1, 1 - alpha / 2))
    return lo, hi


class Series:
    """A run's daily counts, as the record's quantities read them.

    Args:
        scenario: the run's scenario (its ``start``, ``[record]``, lists and services).
        daily_lists: one row per day and list with running totals (``joined``,
            ``first_joined``, ``performed``), as in the tally or the ``daily_lists`` table.
        service_daily: per day and service, uses (``used``) and refusals (``denied``).
        companies: how many companies the run has.
        days: the days run.
    """

    def __init__(
        self,
        scenario: Scenario,
        daily_lists: list[dict[str, Any]],
        service_daily: dict[str, np.ndarray],
        companies: int,
        days: int,
    ) -> None:
        if scenario.record is None or scenario.start is None:
            raise ValueError(
                f"scenario '{scenario.name}' does not say how it meets a published record: "
                "give it a start date and a [record] table"
            )
        self.scenario, self.spec = scenario, scenario.record
        self.start, self.days = scenario.start, days
        self.scale = self.spec.country / scenario.citizens
        self.companies = companies
        self._lists = daily_lists
        self._services = service_daily
        self._kind = {op.name: op.scheme.subject for op in scenario.all_operators()}

    def day(self, date: dt.date) -> int:
        """The run's day of a date (0: the start)."""
        return (date - self.start).days

    def lists(self, role: str, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
        """The (operator, list) pairs a role names, of the given kinds of subject."""
        spec: RecordSpec = self.spec
        if role == "debtor list":
            named = [tuple(name.split(":", 1)) for name in spec.debtor_lists]
        else:
            operators = spec.national_operators or sorted(
                {name.split(":", 1)[0] for name in spec.debtor_lists}
            )
            named = [
                (op.name, lst.name)
                for op in self.scenario.all_operators()
                if op.name in operators
                for lst in op.scheme.lists
                if lst.kind == "black"
            ]
        return [(op, lst) for op, lst in named if self._kind.get(op) in kinds]

    def running(self, observation: Observation) -> np.ndarray | None:
        """The running total of an observation's count, day by day (day 0's included), or
        None for a stock."""
        q = QUANTITIES[observation.quantity]
        role = role_of(observation)
        if q.counts in ("used", "denied"):
            service = self.spec.services.get(str(role))
            names = [s.name for s in self.scenario.consequences.services]  # type: ignore[union-attr]
            if service is None or service not in names or q.counts not in self._services:
                return np.zeros(self.days, dtype=np.int64)
            return np.cumsum(self._services[q.counts][:, names.index(service)])
        if q.counts == "subjects":
            return None
        column = "first_joined" if q.first else q.counts
        wanted = set(self.lists(str(role), subjects_of(observation)))
        total = np.zeros(self.days, dtype=np.int64)
        for row in self._lists:
            if (row["operator"], row["list"]) in wanted and row["day"] < self.days:
                total[row["day"]] += row[column]
        return total

    def counterpart(self, observation: Observation, origin: dt.date) -> Counterpart:
        """What the run says of one observation (``origin``: where running totals start)."""
        o, last = observation, self.days - 1
        end = self.day(o.date)
        if end < 0 or end > last:
            return Counterpart(o, None, why="its date is outside the run")
        if QUANTITIES[o.quantity].counts == "subjects":
            return Counterpart(o, self.companies * self.scale, self.companies, self.scale)
        running = self.running(o)
        assert running is not None
        if o.kind == "cumulative":
            first = self.day(origin)
            if first < 0:
                return Counterpart(
                    o, None, why=f"the run starts after its running total began ({origin})"
                )
            begin = first
        elif o.kind == "flow":
            assert o.from_ is not None
            begin = self.day(o.from_)
        elif o.kind == "rate":
            begin = end - 364
        else:  # a stock of a list or a service: no such quantity yet
            return Counterpart(o, None, why="the run keeps no stock of it")
        if begin < 0:
            return Counterpart(o, None, why="its period begins before the run")
        count = int(running[end] - (running[begin - 1] if begin > 0 else 0))
        return Counterpart(o, count * self.scale, count, self.scale)


def window(record: Record, start: dt.date, end: dt.date) -> list[Observation]:
    """The record's observations a run from ``start`` to ``end`` (both included) can meet:
    each that lies inside it, and, for a run that starts after the record's origin, the flow
    between the earliest and the latest cumulative figure of each quantity and scope inside
    it (the day before the start counts as inside: a running total on that date is where the
    run's count begins)."""
    out: list[Observation] = []
    late = start > record.start
    groups: dict[tuple[str, tuple[str, ...], str | None], list[Observation]] = {}
    for o in record.observations:
        first = o.from_ or o.date
        if o.kind == "cumulative" and late:
            if start - dt.timedelta(days=1) <= o.date <= end:  # same count, whatever the words
                groups.setdefault((o.quantity, subjects_of(o), role_of(o)), []).append(o)
            continue
        if o.kind == "rate":
            first = o.date - dt.timedelta(days=364)
        if start <= first and o.date <= end:
            out.append(o)
    for pair in groups.values():
        pair.sort(key=lambda o: o.date)
        a, b = pair[0], pair[-1]
        if a.date == b.date or b.value <= a.value:
            continue
        out.append(
            Observation(
                quantity=a.quantity,
                kind="flow",
                **{"from": a.date + dt.timedelta(days=1)},
                date=b.date,
                value=b.value - a.value,
                scope=a.scope,
                source=f"{b.source}, less {a.source} (difference of two running totals)",
            )
        )
    return out


def counterparts(series: Series, record: Record) -> list[Counterpart]:
    """What the run says of each observation of the record it can meet, in the record's
    order (derived flows last)."""
    end = series.start + dt.timedelta(days=series.days - 1)
    return [series.counterpart(o, record.start) for o in window(record, series.start, end)]


def series_of(scenario: Scenario, tally: Any, days: int) -> Series:
    """A run's series from its tally (a whole city's, or the sum of its blocks')."""
    companies = int(tally.counts.get("population", {}).get("companies", 0))
    return Series(scenario, tally.daily_lists, tally.service_daily, companies, days)


def record_rows(scenario: Scenario, tally: Any, days: int, record: Record) -> list[dict[str, Any]]:
    """The summary's rows of a record: each observation the run can meet, published and
    simulated (scaled, with the run's own 95 % sampling interval)."""
    return [c.row() for c in counterparts(series_of(scenario, tally, days), record)]
