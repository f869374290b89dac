"""Explaining a score: how one citizen's standing came to be, event by event.

``explain`` is a query, not a story: it reads the citizen's events from the ledger, replays
them with the day-end clamp, and reads the citizen's listing history. The replayed score is
checked against the stored one, so an explanation that does not add up cannot be shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from rich.console import Group, JustifyMethod
from rich.table import Table
from rich.text import Text

from xinyong.primitives.codes import (
    FLAG_COLUMNS,
    NOT_COUNTED,
    UNTIL_MET,
    ListChange,
    ListingChange,
)
from xinyong.primitives.shown import Shown
from xinyong.records.differences import CAUSES, account
from xinyong.scenario import Operator, Scenario, Scheme, ScoreScale
from xinyong.scenario.timeline import timeline_rows

__all__ = ["Explanation", "event_notes", "explain_subject"]

# The stored labels of the changes explanations read (codes in :mod:`xinyong.primitives.codes`).
_LISTED, _RELEASED = ListingChange.LISTED.label, ListingChange.RELEASED.label
#: List changes that put a subject on a list, and those an event causes.
_JOINED = (ListChange.LISTED.label, ListChange.OPENING_STOCK.label)
#: List changes that put a subject on a list or take it off (the rest change a term).
_ON = (*_JOINED, ListChange.ENTERED.label)
_OFF = tuple(
    c.label
    for c in (ListChange.EXPIRED, ListChange.REPAIRED, ListChange.LEFT, ListChange.OBLIGATION_MET)
)
_BY_EVENT = (ListChange.LISTED.label, ListChange.EXTENDED.label)
#: The cause in words of a list change no event caused.
_CAUSES = {
    ListChange.OPENING_STOCK.label: "on the list when the run began",
    ListChange.OBLIGATION_MET.label: "removed early: the obligation was met",
    ListChange.EXPIRED.label: "the term ran out",
    ListChange.REPAIRED.label: "credit repair: the minimum period passed and the score recovered",
}
#: The ``ledger`` view's columns of the flags that keep a row from counting.
_NOT_COUNTED = [column for flag, column in FLAG_COLUMNS.items() if flag & NOT_COUNTED]


def _not_counted(events: pd.DataFrame) -> pd.Series:
    """Per ledger row (with the ``ledger`` view's flag columns), whether it did not count
    (a run stored before a flag existed has no column for it)."""
    return events[[c for c in _NOT_COUNTED if c in events]].any(axis=1)


@dataclass(frozen=True)
class Explanation(Shown):
    """How one citizen's score, grade and listing came to be.

    Attributes:
        citizen: the citizen's id.
        scenario: the run's scenario.
        days: days simulated.
        score, grade, listed, listing_day: the citizen's standing after the last day.
        counterfactual_score, counterfactual_grade, counterfactual_listed: the standing the
            system would hold without sensor errors.
        events: the events attributed to the citizen in day order, with ``score`` (the score at
            the end of that day) and ``not_counted`` (points lost to the floor or ceiling that day).
        blamed_on_others: events the citizen did that were attributed to someone else.
        listings: the citizen's scheme listing history (real and counterfactual).
        grades: the grade after each day on which the score, listing or a grade cap changed,
            with the cap in force (``capped_by``).
        list_history: every change to the operator's blacklists and red lists for the
            citizen (real and error-free), with its ``cause`` and whether a real entry was
            ``wrongful`` (the error-free system made no such entry that day).
        memberships: the lists the citizen is on now, with since, until, repeats and whether
            the error-free system would list it too.
        covered: whether the scheme scores the citizen at all (its age, its city).
        differences: why the score differs from the error-free score: one row per cause
            (:data:`xinyong.records.differences.CAUSES`) that moved it, with ``points``
            (score − error-free score) and ``events``; they add up to the difference, but
            for ``unaccounted`` points.
        unaccounted: points of the difference the ledger does not account for (0; only a
            run stored before every cause was kept has any).
    """

    citizen: int
    scenario: Scenario
    operator: Operator
    start: int
    days: int
    score: int
    grade: str
    listed: bool
    listing_day: int | None
    counterfactual_score: int
    counterfactual_grade: str
    counterfactual_listed: bool
    events: pd.DataFrame
    blamed_on_others: pd.DataFrame
    listings: pd.DataFrame
    grades: pd.DataFrame
    name: str | None = None
    others: tuple[Explanation, ...] = ()
    list_history: pd.DataFrame | None = None
    memberships: pd.DataFrame | None = None
    covered: bool = True
    differences: pd.DataFrame | None = None
    unaccounted: int = 0

    @property
    def scheme(self) -> Scheme:
        """The scheme this explanation is about."""
        return self.operator.scheme

    @property
    def replayed_score(self) -> int:
        """The score rebuilt from the events alone (equals ``score``)."""
        return int(self.events["score"].iloc[-1]) if len(self.events) else self.start

    def to_dict(self) -> dict:
        """Everything in the explanation as plain JSON-ready values."""

        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records"))

        return {
            "citizen": self.citizen,
            "name": self.name,
            "operator": self.operator.name,
            "scheme": self.scheme.name,
            "scenario": self.scenario.name,
            "days": self.days,
            "score": self.score,
            "grade": self.grade,
            "covered": self.covered,
            "listed": self.listed,
            "listing_day": self.listing_day,
            "blacklists": self.blacklists(),
            "red_lists": [r.list for r in self._members() if r.kind != "black"],
            "counterfactual": {
                "score": self.counterfactual_score,
                "grade": self.counterfactual_grade,
                "listed": self.counterfactual_listed,
                "blacklists": self.blacklists(error_free=True),
            },
            "differences": {
                r.cause: {"points": int(r.points), "events": int(r.events)}
                for r in self._differences().itertuples()
            },
            "unaccounted": self.unaccounted,
            "events": records(self.events),
            "blamed_on_others": records(self.blamed_on_others),
            "listings": records(self.listings),
            "grades": records(self.grades),
            "list_history": records(self.list_history) if self.list_history is not None else [],
            "memberships": records(self.memberships) if self.memberships is not None else [],
            "others": [o.to_dict() for o in self.others],
            "timeline": timeline_rows(self.scenario),
        }

    def blacklists(self, error_free: bool = False) -> list[str]:
        """The blacklists the subject is on now (``error_free``: would be on without errors).

        Being on one is being listed, as the gates at the point of service say it, whether
        or not the scheme's own listing (its grade, say D) holds the subject too."""
        if not error_free:
            return [r.list for r in self._members() if r.kind == "black"]
        if self.list_history is None:
            return []
        black = {lst.name for lst in self.scheme.lists if lst.kind == "black"}
        on: dict[str, bool] = {}
        for r in self.list_history[self.list_history["counterfactual"]].itertuples():
            if r.change in _ON or r.change in _OFF:
                on[r.list] = r.change in _ON
        return sorted(name for name, member in on.items() if member and name in black)

    def _status(self, error_free: bool) -> str:
        """Listed or not, as the gates say it: on the scheme's own listing (its grade, say D)
        or on any of its blacklists."""
        if self.scheme.listing is None and not self.scheme.lists:
            return "no lists under this scheme"
        listing = self.counterfactual_listed if error_free else self.listed
        since = {} if error_free else {r.list: r.since for r in self._members()}
        lists = [
            name + (f" since day {since[name]}" if name in since else "")
            for name in self.blacklists(error_free)
        ]
        own = f"with grade {self.scheme.listed_grade}"
        if listing and not error_free:
            own += f" since day {self.listing_day}"
        if listing and lists:
            return f"listed {own}, and on {', '.join(lists)}"
        if listing:
            return f"listed {own}"
        if lists:
            return f"listed on {', '.join(lists)} (not {own})"
        return "not listed"

    def _headline(self) -> str:
        kind = "Citizen" if self.scheme.subject == "citizen" else "Organisation"
        who = f"{kind} {self.citizen}" + (f" ({self.name})" if self.name else "")
        under = (
            f" under '{self.operator.name}' ({self.scheme.name})"
            if len(self.scenario.all_operators()) > 1
            else ""
        )
        if not self.covered:
            return (
                f"{who} of '{self.scenario.name}'{under} after {self.days} days: not scored "
                f"by this scheme (it covers {self._coverage()}); score {self.score} as it "
                f"started."
            )
        red = [r.list for r in self._members() if r.kind != "black"]
        rewards = f" On the red list {', '.join(red)}." if red else ""
        return (
            f"{who} of '{self.scenario.name}'{under} after {self.days} days: "
            f"score {self.score}, grade {self.grade}, {self._status(False)}.{rewards}\n"
            f"Without errors: score {self.counterfactual_score}, grade "
            f"{self.counterfactual_grade}, {self._status(True)}."
        )

    def _coverage(self) -> str:
        age = getattr(self.scheme, "covers_min_age", None)
        parts = [f"ages {age} and over"] if age else []
        if self.operator.districts is not None:
            parts.append("its own city's residents")
        return " and ".join(parts) or "other subjects"

    def _differences(self) -> pd.DataFrame:
        if self.differences is None:
            return pd.DataFrame(columns=["cause", "points", "events"])
        return self.differences

    def _difference_lines(self) -> list[str]:
        """Why the score differs from the error-free score, point by point."""
        if not self.covered:
            return []
        gap = self.score - self.counterfactual_score
        rows = self._differences()
        if not gap and not len(rows) and not self.unaccounted:
            return [f"Score and error-free score agree: {self.score}."]
        who = "this citizen" if self.scheme.subject == "citizen" else "this organisation"
        lines = [
            f"Score {self.score} against {self.counterfactual_score} without errors: "
            f"{gap:+d} points, every one accounted for:"
        ]
        for r in rows.itertuples():
            n = f" ({r.events} event{'s' if r.events != 1 else ''})" if r.cause != "bounds" else ""
            lines.append(f"  {r.points:+d}  {CAUSES[r.cause].format(who=who)}{n}")
        if self.unaccounted:
            lines.append(
                f"  {self.unaccounted:+d}  not in the ledger: this run was stored by an older "
                f"xinyong that did not keep events misattributed to people no scheme scores; "
                f"simulate it again to see them"
            )
        return lines

    def _notes(self) -> list[str]:
        notes = []
        wrong = self.events[self.events["misattributed"] | self.events["fabricated"]]
        if len(wrong):
            notes.append(
                f"* {len(wrong)} event(s) were recorded against this citizen by mistake "
                f"({int(wrong['points'].sum()):+d} points); the actor is shown, or "
                f"'false report' where nobody did it."
            )
        dismissed = self.events[self.events["dismissed"]]
        if len(dismissed):
            notes.append(f"{len(dismissed)} event(s) were dismissed on review and did not count.")
        for r in self.blamed_on_others.itertuples():
            notes.append(
                f"day {r.day}: {r.behaviour} ({r.points:+d}, {r.sensor}) done by this citizen, "
                f"recorded against citizen {r.subject}: {_elsewhere(r)}"
            )
        return notes

    def _listing_lines(self) -> list[str]:
        lines = []
        cf_days = {
            int(r.day)
            for r in self.listings.itertuples()
            if r.counterfactual and r.change != _RELEASED
        }
        for row in self.listings.itertuples():
            which = "error-free: " if row.counterfactual else ""
            why = f" ({row.reason})" if isinstance(row.reason, str) else ""
            mark = (
                "* wrongful: "
                if not row.counterfactual and row.change == _LISTED and int(row.day) not in cf_days
                else ""
            )
            lines.append(
                f"day {row.day}: {mark}{which}grade {self.scheme.listed_grade} {row.change}{why}"
            )
        listing = self.scheme.listing
        if self.listed and listing and listing.at_floor and self.score == self.scheme.score.floor:
            lines.append("at the floor: listed again every day it stays there")
        if self.list_history is not None:
            for row in self.list_history.itertuples():
                which = "error-free: " if row.counterfactual else ""
                mark = "* wrongful: " if row.wrongful else ""
                cause = f" ({row.cause})" if row.cause else ""
                lines.append(f"day {row.day}: {mark}{which}{row.list} {row.change}{cause}")
        for row in self._members():
            term = f" until day {row.until}" if row.kind == "black" and row.until >= 0 else ""
            if row.kind == "black" and row.until >= UNTIL_MET:
                term = " until the obligation is met"
            repeats = f", extended {row.repeats} time(s)" if row.repeats else ""
            wrong = (
                ""
                if row.counterfactual_member
                else " * wrongly: the error-free system would not list this citizen"
            )
            lines.append(f"now on {row.list} since day {row.since}{term}{repeats}{wrong}")
        return lines

    def _members(self) -> list[Any]:
        return list(self.memberships.itertuples()) if self.memberships is not None else []

    def _note(self, row: Any) -> str:
        note = event_notes(row)
        if row.not_counted:
            note.append(f"{row.not_counted:+d} not counted (bounds)")
        return "; ".join(note)

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.scheme.subject} {self.citizen} under "
            f"'{self.operator.name}': score {self.score}, grade {self.grade}, "
            f"{len(self.events)} events; print() it for the ledger>"
        )

    def __str__(self) -> str:
        out = [self._text()]
        out += [f"\n{other._text()}" for other in self.others]
        timeline = self._timeline_lines()
        if timeline:
            out += ["", *timeline]
        return "\n".join(out)

    def _timeline_lines(self) -> list[str]:
        """The run's dated rule changes: every score above was kept under the rules in force
        on its day."""
        rows = timeline_rows(self.scenario)
        if not rows:
            return []
        out = ["The rules changed during the run (each from the start of its day):"]
        for r in rows:
            when = f"day {r['day']}" + (f" ({r['date']})" if r["date"] else "")
            paths = ", ".join(f"{k} = {v}" for k, v in r["set"].items())
            out.append(f"  {when}: {r['what'] or 'changed'} [{paths}]")
        return out

    def _text(self) -> str:
        s = self.scheme.score
        out = [
            self._headline(),
            f"Starts at {self.start} points; scores stay within "
            f"[{s.floor}, {s.ceiling}], clamped at the end of each day.",
            "",
        ]
        out.append(f"{'day':>5}  {'behaviour':<26}{'sensor':<11}{'points':>7}{'score':>7}  note")
        for row in self.events.itertuples():
            out.append(
                f"{row.day:>5}  {row.behaviour:<26}{row.sensor:<11}{row.points:>+7d}"
                f"{row.score:>7}  {self._note(row)}"
            )
        if not len(self.events):
            out.append("       (no events recorded against this citizen)")
        out += ["", *self._notes(), *self._difference_lines()]
        lines = self._listing_lines()
        out += ["Lists:", *(f"  {line}" for line in lines or ["never listed"])]
        out.append(f"Grades: start {self._start_grade()}" + self._grade_history())
        return "\n".join(out)

    def _grade_history(self) -> str:
        steps = [
            f"day {r.day} {r.grade}" + (f" (capped by {r.capped_by})" if r.capped_by else "")
            for r in self.grades.itertuples()
        ]
        return "".join(f" → {step}" for step in steps)

    def _start_grade(self) -> str:
        return _grade_of(self.scheme, self.start, False)

    def __rich__(self) -> Group:
        timeline = self._timeline_lines()
        return Group(
            self._rich(),
            *(other._rich() for other in self.others),
            *([Text("\n".join(timeline))] if timeline else []),
        )

    def _rich(self) -> Group:
        kind = "citizen" if self.scheme.subject == "citizen" else "organisation"
        title = f"Ledger of {kind} {self.citizen}"
        if len(self.scenario.all_operators()) > 1:
            title += f" — {self.operator.name} ({self.scheme.name})"
        table = Table(title=Text(title), show_lines=False)
        for name, justify in (
            ("day", "right"),
            ("behaviour", "left"),
            ("sensor", "left"),
            ("points", "right"),
            ("score", "right"),
            ("note", "left"),
        ):
            table.add_column(name, justify=cast(JustifyMethod, justify))
        for row in self.events.itertuples():
            colour = "dim" if row.dismissed else ("green" if row.points > 0 else "red")
            wrong = row.misattributed or row.fabricated
            table.add_row(
                str(row.day),
                Text(row.behaviour),
                Text(row.sensor),
                Text(f"{row.points:+d}", style=colour),
                str(row.score),
                Text(self._note(row), style="bold yellow" if wrong else ""),
            )
        lines = self._listing_lines()
        return Group(
            Text(self._headline(), style="bold"),
            table,
            *(Text(n) for n in self._notes()),
            *(Text(n) for n in self._difference_lines()),
            Text(
                "Lists:" + ("".join(f"\n  {line}" for line in lines) if lines else " never listed")
            ),
            Text(f"Grades: start {self._start_grade()}" + self._grade_history()),
        )


def event_notes(row: Any) -> list[str]:
    """What is special about one ledger row, in words (empty for a plain recorded event)."""
    notes = []
    if row.fabricated:
        notes.append("* false report: nobody did it")
    elif row.misattributed:
        notes.append(f"* misattributed: done by citizen {row.actor}")
    if row.submitted:
        notes.append("submitted through the API")
    if row.dismissed:
        mistake = (
            " (by mistake: the citizen did it)" if not (row.misattributed or row.fabricated) else ""
        )
        notes.append(f"dismissed on review{mistake}: not counted")
    if getattr(row, "unscored", False):
        notes.append("not counted: the scheme does not score this citizen")
    if row.reversed:
        notes.append("reversed on appeal: not counted")
    return notes


def _elsewhere(row: Any) -> str:
    """What became of an event a subject did that was recorded against another."""
    if getattr(row, "unscored", False):
        return "not counted there (the scheme does not score them); lost to this score"
    if row.dismissed:
        return "dismissed there on review; lost to this score"
    if row.reversed:
        return "reversed there on appeal"
    return "counted there instead of here"


def _grade_of(scheme: Scheme, score: int, listed: bool) -> str:
    if listed:
        return scheme.listed_grade
    return next(g.grade for g in scheme.grades if score >= g.min)


def explain_subject(
    scenario: Scenario,
    operator: Operator,
    days: int,
    citizen: int,
    start: int,
    standing: dict,
    events: pd.DataFrame,
    done_by: pd.DataFrame,
    listings: pd.DataFrame,
    name: str | None = None,
    list_history: pd.DataFrame | None = None,
    memberships: pd.DataFrame | None = None,
    covered: bool = True,
) -> Explanation:
    """Assemble an explanation from the stored rows of one subject under one operator.

    Args:
        scenario: the run's scenario.
        operator: the operator whose score is explained.
        days: days simulated.
        citizen: the subject (a citizen, or an organisation for a company scheme).
        start: the subject's starting score.
        standing: the subject's row of the ``standings`` table.
        events: the operator's ``events`` rows whose subject it is.
        done_by: the operator's ``events`` rows whose actor it is.
        listings: the operator's ``listings`` rows of the subject.
        name: the subject's synthetic name, if it has one.
        list_history: the operator's ``list_changes`` rows of the subject.
        memberships: the operator's ``memberships`` rows of the subject.
        covered: whether the scheme scores the subject.

    Raises:
        RuntimeError: if the ledger does not add up to the stored score (a corrupted store).
    """
    scale = operator.scheme.score
    events = events.sort_values(["day", "behaviour"], kind="stable").reset_index(drop=True)
    score, scores, lost = start, [], []
    for _, day_events in events.groupby("day", sort=True):
        counted = ~_not_counted(day_events)
        total = int(day_events["points"][counted].sum())
        new = min(max(score + total, scale.floor), scale.ceiling)
        scores += [new] * len(day_events)
        lost += [0] * (len(day_events) - 1) + [total - (new - score)]
        score = new
    events = events.assign(
        score=np.array(scores, dtype=np.int64), not_counted=np.array(lost, dtype=np.int64)
    )
    if score != standing["score"]:
        raise RuntimeError(
            f"citizen {citizen}: the ledger replays to {score} but the store holds "
            f"{standing['score']}; the run's store is damaged — simulate it again."
        )

    differences, unaccounted = _account(scale, citizen, start, standing, events, done_by)
    grades = _grade_history(operator.scheme, start, events, listings)
    grades = grades[grades["day"] < days].reset_index(drop=True)  # a cap may end after the run
    blamed = done_by[done_by["subject"] != citizen].reset_index(drop=True)
    return Explanation(
        citizen=citizen,
        scenario=scenario,
        operator=operator,
        start=start,
        days=days,
        name=name,
        score=int(standing["score"]),
        grade=str(standing["grade"]),
        listed=bool(standing["listed"]),
        listing_day=int(standing["listing_day"]) if standing["listed"] else None,
        counterfactual_score=int(standing["counterfactual_score"]),
        counterfactual_grade=str(standing["counterfactual_grade"]),
        counterfactual_listed=bool(standing["counterfactual_listed"]),
        events=events,
        blamed_on_others=blamed,
        listings=listings.reset_index(drop=True),
        grades=grades,
        list_history=None
        if list_history is None
        else _annotate(operator.scheme, list_history, events),
        memberships=memberships,
        covered=covered,
        differences=differences if covered else differences.iloc[0:0],
        unaccounted=unaccounted if covered else 0,
    )


def _account(
    scale: ScoreScale,
    subject: int,
    start: int,
    standing: dict,
    events: pd.DataFrame,
    done_by: pd.DataFrame,
) -> tuple[pd.DataFrame, int]:
    """Why one subject's score differs from its error-free score: the causes that moved it
    (:func:`xinyong.records.differences.account`, over its rows alone), and the points the
    ledger does not account for."""
    rows = pd.concat([events, done_by[done_by["subject"] != subject]], ignore_index=True)
    ids = np.concatenate([[subject], rows["subject"].to_numpy(), rows["actor"].to_numpy()])
    size = int(ids.max()) + 1
    row = account(scale, rows, size, np.full(size, start, dtype=np.int64)).iloc[subject]
    causes = [
        {
            "cause": cause,
            "points": int(row[cause]),
            "events": int(row.get(f"{cause}_events", 0)),
        }
        for cause in CAUSES
        if row[cause] or row.get(f"{cause}_events", 0)
    ]
    frame = pd.DataFrame(causes, columns=["cause", "points", "events"])
    return frame, int(row["counterfactual_score"]) - int(standing["counterfactual_score"])


def _grade_history(
    scheme: Scheme, start: int, events: pd.DataFrame, listings: pd.DataFrame
) -> pd.DataFrame:
    """The grade after each day the score, the real listing or a grade cap changed."""
    names = scheme.grade_names()
    counted = events[~_not_counted(events)]
    caps = [
        (int(r.day), int(r.day) + o.days, names.index(o.grade), r.behaviour)
        for r in counted.itertuples()
        for o in scheme.overrides
        if o.behaviour == r.behaviour
    ]
    real = listings[~listings["counterfactual"]]
    change_days = sorted(set(events["day"]) | set(real["day"]) | {c[1] for c in caps})
    end_score = events.groupby("day")["score"].last() if len(events) else pd.Series(dtype=int)
    listed_on = {int(r.day): r.change != _RELEASED for r in real.itertuples()}
    history, s, is_listed = [], start, False
    last: tuple[str, str | None] = (_grade_of(scheme, start, False), None)
    for day in change_days:
        s = int(end_score.get(day, s))
        is_listed = listed_on.get(int(day), is_listed)
        grade, cap = _grade_of(scheme, s, is_listed), None
        active = [c for c in caps if c[0] <= day < c[1]]
        if active and not is_listed:
            worst = max(active, key=lambda c: c[2])
            if worst[2] > names.index(grade):
                grade, cap = names[worst[2]], f"{worst[3]} on day {worst[0]}"
        if (grade, cap) != last:
            history.append({"day": int(day), "score": s, "grade": grade, "capped_by": cap})
        last = (grade, cap)
    return pd.DataFrame(history, columns=["day", "score", "grade", "capped_by"])


def _annotate(scheme: Scheme, history: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Each list change with its cause in words, and whether a real entry was wrongful."""
    specs = {lst.name: lst for lst in scheme.lists}
    entries = {
        (int(r.day), r.list)
        for r in history.itertuples()
        if r.counterfactual and r.change in _JOINED
    }
    causes, wrongful = [], []
    for r in history.itertuples():
        spec, day = specs.get(r.list), int(r.day)
        cause = ""
        if r.change in _BY_EVENT and spec is not None:
            today = events[(events["day"] == day) & events["behaviour"].isin(spec.behaviours)]
            if r.counterfactual:
                cause = "what the citizen really did that day"
            elif len(today):
                cause = "; ".join(_cause(e) for e in today.itertuples())
            elif spec.escalation is not None:
                cause = f"score below {spec.escalation.below} after a warning and counselling"
        else:
            cause = _CAUSES.get(r.change, "")
        causes.append(cause)
        wrongful.append(
            bool(not r.counterfactual and r.change in _JOINED and (day, r.list) not in entries)
        )
    return history.assign(cause=causes, wrongful=wrongful).reset_index(drop=True)


def _cause(event: Any) -> str:
    text = f"{event.behaviour} recorded by {event.sensor}"
    notes = event_notes(event)
    return text + (f" [{'; '.join(notes)}]" if notes else "")
