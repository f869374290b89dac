"""A scenario's timeline: dated changes to its rules, each from its day on.

A change names the day it takes effect (``day``, counted from the run's first day, or ``date``,
a calendar date when the scenario has a ``start``) and what it sets, with the paths of
``--set`` (:mod:`xinyong.scenario.overrides`)::

    [[timeline]]
    date = "2015-07-22"
    what = "all seats on G-series trains restricted"
    set = { "consequences.services.rail.checked_share" = 0.7 }
    source = "SPC Provisions on Restricting High Consumption (2015)"

A change acts from the start of its day: what subjects do that day, what is recorded and how
it counts all follow the new rules; nothing before it moves. Only the rules a running city can
change are allowed (:data:`CHANGEABLE`): rates, detection, points, list terms, review, the
services and the joint table. The population, the sizes and who runs which scheme are fixed
for a run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from xinyong.scenario.change import Change
from xinyong.scenario.city import Scenario
from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.paths import get, normalise, set_paths

#: What checks a whole scenario: :func:`xinyong.scenario.loading.validate_scenario`.
Validate = Callable[[dict[str, Any], str], Scenario]

__all__ = [
    "CHANGEABLE",
    "Change",
    "behaviour_timeline",
    "changeable",
    "changes_by_day",
    "day_of",
    "in_force",
    "timeline_problems",
    "timeline_rows",
]


#: The paths a change may set (canonical, as :func:`xinyong.scenario.overrides.normalise`
#: writes them), as patterns; ``*`` is one name.
CHANGEABLE = (
    "sensors.*.detect",
    "sensors.*.misidentify",
    "sensors.*.coverage",
    "behaviours.*.p",
    "behaviours.*.points",
    "listed_response.negative",
    "listed_response.positive",
    "operators.*.scheme.points.*.points",
    "operators.*.scheme.lists.*.term_days",
    "operators.*.scheme.lists.*.terms",
    "operators.*.scheme.lists.*.terms.*",
    "operators.*.scheme.lists.*.repeat_extension_days",
    "operators.*.scheme.lists.*.max_term_days",
    "operators.*.scheme.lists.*.obligation_met_per_year",
    "operators.*.scheme.lists.*.termed_share",
    "operators.*.scheme.lists.*.serious_share",
    "operators.*.scheme.lists.*.serious_share.*",
    "operators.*.assessment.*",
    "consequences.services.*.uses_per_year",
    "consequences.services.*.checked_share",
    "consequences.services.*.after_refusal",
    "consequences.rules",
    "consequences.rules.*.*",
)
_MAY = (
    "a change may set sensors' detect, misidentify and coverage; behaviours' p and points; "
    "the listed response; schemes' points; lists' terms, longest terms, extensions, serious "
    "shares, termed shares and rates of meeting obligations; review; services' uses_per_year, "
    "checked_share and after_refusal; and the joint table's rules"
)
_PATTERNS = [re.compile("^" + re.escape(p).replace(r"\*", r"[^.]+") + "$") for p in CHANGEABLE]


def changeable(path: str) -> bool:
    """Whether a running city can change the field at ``path`` (a canonical path)."""
    return any(p.match(path) for p in _PATTERNS)


def day_of(change: Change, start: dt.date | None) -> int:
    """The day a change takes effect, counted from the run's first day.

    Raises:
        ValueError: a change given by date in a scenario without a ``start``, or dated before
            it.
    """
    if change.day is not None:
        return change.day
    assert change.date is not None
    if start is None:
        raise ValueError(
            'a change given by date needs the scenario\'s start date: add start = "YYYY-MM-DD"'
        )
    if change.date < start:
        raise ValueError(f"dated before the scenario's start ({start.isoformat()})")
    return (change.date - start).days


def changes_by_day(scenario: Scenario) -> dict[int, dict[str, Any]]:
    """The timeline's changes merged by day (a later entry wins for the same path), in day
    order."""
    out: dict[int, dict[str, Any]] = {}
    for change in scenario.timeline:
        out.setdefault(day_of(change, scenario.start), {}).update(change.set)
    return dict(sorted(out.items()))


def in_force(scenario: Scenario, day: int) -> Scenario:
    """The scenario as its rules stand on ``day``: every change up to that day applied (the
    timeline itself kept, so the result still knows what comes later). The timeline was
    checked when the scenario was (:func:`timeline_problems`)."""
    changes: dict[str, Any] = {}
    for on, sets in changes_by_day(scenario).items():
        if on <= day:
            changes.update(sets)
    if not changes:
        return scenario
    data = set_paths(scenario.model_dump(by_alias=True), changes)
    return Scenario.model_validate(data)


def timeline_problems(scenario: Scenario, validate: Validate) -> list[tuple[str, Any, str]]:
    """Every change checked: its day, each path (it names a field a running city can change)
    and each value (the scenario with every change so far applied is valid); as (field,
    value, reason) problems; ``validate`` checks a whole scenario's data."""

    problems: list[tuple[str, Any, str]] = []
    bare = scenario.model_copy(update={"timeline": []})
    so_far: dict[str, Any] = {}
    order = []
    for i, change in enumerate(scenario.timeline):
        try:
            order.append((day_of(change, scenario.start), i, change))
        except ValueError as exc:
            what = "date" if change.date is not None else "day"
            problems.append((f"timeline[{i}].{what}", change.date or change.day, str(exc)))
    for _, i, change in sorted(order, key=lambda t: (t[0], t[1])):
        sets: dict[str, Any] = {}
        for path, value in change.set.items():
            where = f"timeline[{i}].set.'{path}'"
            try:
                canonical = next(iter(normalise(bare, {path: value})))
            except ScenarioError as exc:
                problems.append((where, value, str(exc)))
                continue
            if not changeable(canonical):
                problems.append((where, value, f"'{canonical}' is fixed for a run; {_MAY}"))
                continue
            sets[canonical] = value
        if len(sets) < len(change.set):
            continue
        try:  # a change's paths act together: a term and its longest term, say
            validate(set_paths(bare.model_dump(by_alias=True), {**so_far, **sets}), scenario.name)
        except ScenarioError as exc:
            reason = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
            problems.append((f"timeline[{i}].set", change.set, reason))
            continue
        so_far.update(sets)
    return problems


def behaviour_timeline(scenario: Scenario) -> list[Change]:
    """The timeline's changes to what people do (behaviours' rates) alone: what a city where
    nothing acts on people (the chilling effect's twin) follows."""

    bare = scenario.model_copy(update={"timeline": []})
    out = []
    for change in scenario.timeline:
        kept = {
            path: value
            for path, value in change.set.items()
            if _RATE.match(next(iter(normalise(bare, {path: value}))))
        }
        if kept:
            out.append(change.model_copy(update={"set": kept}))
    return out


_RATE = re.compile(r"^behaviours\.[^.]+\.p$")


def timeline_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """The timeline as rows in day order: day, date (if the scenario has a start), what
    changed, the paths set and the source."""
    rows = []
    for change in sorted(scenario.timeline, key=lambda c: day_of(c, scenario.start)):
        day = day_of(change, scenario.start)
        date = scenario.start + dt.timedelta(days=day) if scenario.start else None
        rows.append(
            {
                "day": day,
                "date": date.isoformat() if date else None,
                "what": change.what,
                "set": dict(change.set),
                "source": change.source,
            }
        )
    return rows


def lever_problems(scenario: Scenario) -> list[tuple[str, Any, str]]:
    """Every lever checked: its path names a field a running city can change, holding a
    number; as (field, value, reason) problems. (A value outside the lever's range is no
    problem: the timeline may take it there, and the slider's range widens to show it.)"""
    problems: list[tuple[str, Any, str]] = []
    for i, lever in enumerate(scenario.levers):
        where = f"levers[{i}].path"
        try:
            canonical = next(iter(normalise(scenario, {lever.path: lever.min})))
        except ScenarioError as exc:
            problems.append((where, lever.path, str(exc)))
            continue
        if not changeable(canonical):
            problems.append((where, lever.path, f"'{canonical}' is fixed for a run; {_MAY}"))
            continue
        now = get(scenario, canonical)
        if isinstance(now, bool) or not isinstance(now, int | float):
            problems.append((where, lever.path, f"a lever moves a number, and this is {now!r}"))
    return problems
