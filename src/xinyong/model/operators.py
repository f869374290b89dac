"""Operators: the cities, ministries and payment providers that run schemes at once [C5].

Each operator compiles its scheme to arrays over the scenario's behaviours, receives the events
its own sensors record plus those the sharing platform passes to it, has them assessed [D6],
and keeps a real and a counterfactual standing of the subjects it scores.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np

from xinyong.model.lists import ListBook, ListChanges
from xinyong.model.sensors import Events
from xinyong.model.standing import ListingChanges, Standing
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Operator, Scenario

__all__ = ["Judgement", "OperatorState", "Scored", "routing"]


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one day did to an operator's standing and lists (real or counterfactual)."""

    listing: ListingChanges
    lists: ListChanges

    def toggled(self) -> np.ndarray:
        """Subjects whose scheme listing or blacklisting flipped."""
        return np.concatenate([self.listing.toggled(), self.lists.toggled()])


@dataclass(frozen=True, slots=True)
class Scored:
    """An operator's day between scoring and lists: the real standing's changes, the events
    its lists read, and the counterfactual's day (on the second core)."""

    listing: ListingChanges
    subject: np.ndarray
    k: np.ndarray
    counterfactual: Future[Judgement]


def routing(scenario: Scenario) -> np.ndarray:
    """Which operator receives which behaviour's records: (operators x behaviours) booleans.

    An operator receives what its own sensors record, and what the sharing platform passes on
    from operators that receive it, following the rules until nothing changes.
    """
    operators = scenario.all_operators()
    names = [op.name for op in operators]
    sensor_of = [b.sensor for b in scenario.behaviours]
    receives = np.array(
        [[op.reads is None or s in op.reads for s in sensor_of] for op in operators], dtype=bool
    ).reshape(len(operators), -1)
    index = {b.name: i for i, b in enumerate(scenario.behaviours)}
    changed = True
    while changed:
        changed = False
        for rule in scenario.sharing:
            src, dst = names.index(rule.from_), names.index(rule.to)
            passed = receives[src].copy()
            if rule.behaviours is not None:
                allowed = np.zeros_like(passed)
                allowed[[index[b] for b in rule.behaviours]] = True
                passed &= allowed
            if (passed & ~receives[dst]).any():
                receives[dst] |= passed
                changed = True
    return receives


class OperatorState:
    """One operator during a run.

    Args:
        index: the operator's index in the scenario.
        operator: its definition.
        scenario: the scenario (for behaviour indices).
        receives: per behaviour, whether records of it reach this operator.
        population: the number of subjects of the scheme's kind.
        days: the horizon.
        scratch: scratch columns for the real standing.
        cf_scratch: scratch columns for the counterfactual (scored on another thread).
        streams: the run's random streams (for assessment).
        covered: per subject, whether the scheme scores it (e.g. residents aged 18+).
        start: per subject starting scores, where they depend on income.
        total: the number of subjects of this kind in the whole city (default
            ``population``), which assessment draws are addressed by.
        base: the city-wide id of subject 0 here (a block's first subject).
        weight: each subject's rate of violations against the average (its conduct factor
            over the factor's mean), for lists that start with a stock.
    """

    def __init__(
        self,
        *,
        index: int,
        operator: Operator,
        scenario: Scenario,
        receives: np.ndarray,
        population: int,
        days: int,
        scratch: Scratch,
        cf_scratch: Scratch,
        streams: Streams,
        covered: np.ndarray | None = None,
        start: np.ndarray | None = None,
        total: int | None = None,
        base: int | None = None,
        weight: np.ndarray | None = None,
    ) -> None:
        self.index = index
        self.name = operator.name
        self.scheme = operator.scheme
        self.subject = operator.scheme.subject
        self.districts = operator.districts  # a city's operator in a nation, else None
        self.n = population
        self.total = population if total is None else total
        self.streams = streams
        self.assessment = operator.assessment
        behaviours = {b.name: i for i, b in enumerate(scenario.behaviours)}
        k = len(scenario.behaviours)
        self.points = np.zeros(k, dtype=np.int64)
        self.severe = np.zeros(k, dtype=bool)
        for rule in operator.scheme.points:
            self.points[behaviours[rule.behaviour]] = rule.points
            self.severe[behaviours[rule.behaviour]] = rule.severe
        grades = operator.scheme.grade_names()
        self.cap_grade = np.full(k, -1, dtype=np.int64)
        self.cap_days = np.zeros(k, dtype=np.int64)
        for o in operator.scheme.overrides:
            self.cap_grade[behaviours[o.behaviour]] = grades.index(o.grade)
            self.cap_days[behaviours[o.behaviour]] = o.days
        self._takes = receives & (self.points != 0)
        self._takes_everything = bool(self._takes.all()) and covered is None
        self.covered = covered
        self.start = start  # each subject's starting score, None: the scheme's start for all
        self.standing = Standing(operator.scheme, population, days, scratch, start, covered)
        self.counterfactual = Standing(
            operator.scheme, population, days, cf_scratch, start, covered
        )
        base = 0 if base is None else base
        self.lists = ListBook(
            operator.scheme.lists,
            behaviours,
            population,
            days,
            scratch,
            covered,
            streams,
            f"lists/{self.name}",
            base,
        )
        self.cf_lists = ListBook(
            operator.scheme.lists,
            behaviours,
            population,
            days,
            cf_scratch,
            covered,
            streams,
            f"lists/{self.name}",
            base,
        )
        if weight is not None and any(lst.opening_share for lst in operator.scheme.lists):
            weight = weight if covered is None else np.where(covered, weight, 0.0)
            self.lists.open(weight)  # the same stock, real and error-free: it is no error
            self.cf_lists.open(weight)
        self.counted = 0
        self.dismissed = 0
        self._covered_aggregates()

    def retune(
        self, day: int, operator: Operator, scenario: Scenario, receives: np.ndarray
    ) -> None:
        """Take the scheme's points, the review and the lists' terms in force from a dated
        change's day (see :mod:`xinyong.scenario.timeline` for what may change). Scores,
        grades and who is listed stay as they are; the new rules apply to what comes."""
        behaviours = {b.name: i for i, b in enumerate(scenario.behaviours)}
        self.scheme = operator.scheme
        self.assessment = operator.assessment
        self.points[:] = 0
        self.severe[:] = False
        for rule in operator.scheme.points:
            self.points[behaviours[rule.behaviour]] = rule.points
            self.severe[behaviours[rule.behaviour]] = rule.severe
        self._takes = receives & (self.points != 0)
        self._takes_everything = bool(self._takes.all()) and self.covered is None
        for book in (self.lists, self.cf_lists):
            book.retune(operator.scheme.lists, behaviours)
            book.redraw_obligations(day)

    def takes(self, k: np.ndarray, who: np.ndarray) -> np.ndarray:
        """Whether this operator counts behaviour ``k`` of subject ``who`` (local ids): it
        receives it, gives it points, and covers the subject."""
        out = self._takes[k]
        if self.covered is not None:
            out = out & self.covered[who]
        return out

    def count_before(self, who: np.ndarray, k: np.ndarray) -> None:
        """Count events from before day 0 (a warm start's listing judgments) into both
        standings' scores, clamped to the scale; the running aggregates follow."""
        for standing in (self.standing, self.counterfactual):
            score = standing.score.astype(np.int64)
            np.add.at(score, who, self.points[k])
            standing.score[:] = np.clip(score, standing.floor, standing.ceiling)
        self.recount(0)

    def _covered_aggregates(self) -> None:
        # Subjects the scheme does not cover never move: their share of the aggregates is fixed.
        covered = self.covered
        self.covered_total = self.n if covered is None else int(covered.sum())
        uncovered = np.flatnonzero(~covered) if covered is not None else np.empty(0, np.int64)
        self._uncovered_grades = np.bincount(
            self.standing.grades(uncovered), minlength=len(self.standing.grade_names)
        )
        self._uncovered_sum = int(self.standing.score[uncovered].sum(dtype=np.int64))

    def recount(self, day: int) -> None:
        """Rebuild the running aggregates from the columns as of ``day`` (after the blocks of a
        split run are folded together)."""
        for standing in (self.standing, self.counterfactual):
            standing.score_sum = int(standing.score.sum(dtype=np.int64))
            standing.grade_counts = np.bincount(
                standing.grades(day=day), minlength=len(standing.grade_names)
            )
            standing.ever_listed_count = int(standing.ever_listed.sum())
        self._covered_aggregates()

    def grade_counts(self) -> np.ndarray:
        """How many covered subjects hold each grade now."""
        return self.standing.grade_counts - self._uncovered_grades

    def score_sum(self) -> int:
        """Sum of the covered subjects' scores now."""
        return int(self.standing.score_sum - self._uncovered_sum)

    def mean_score(self) -> float:
        """Mean score of the covered subjects now."""
        return self.score_sum() / self.covered_total if self.covered_total else 0.0

    def keep(self, events: Events) -> np.ndarray | None:
        """Which events this operator scores: received, given points, about covered subjects
        (None: all of them)."""
        if self._takes_everything:
            return None
        keep = self._takes[events.behaviour]
        if self.covered is not None:
            keep &= self.covered[events.subject]
        return keep

    def unscored(self, events: Events) -> np.ndarray | None:
        """Which events this operator would score but that a sensor misattributed to a subject
        it does not cover (a child, a resident of another city): the real score loses them,
        while the error-free one credits them to their actor, so the ledger keeps them, not
        counted (None: the scheme covers every subject).

        Args:
            events: the day's events about this block's subjects, local ids.
        """
        if self.covered is None:
            return None
        return self._takes[events.behaviour] & ~self.covered[events.subject] & events.misattributed

    def assess(self, day: int, events: Events) -> np.ndarray:
        """Which events the authority dismisses on review (a boolean per event); the events
        name subjects and actors by their city-wide ids, which the review draws are addressed
        by."""
        a = self.assessment
        if a is None or len(events) == 0:
            return np.zeros(len(events), dtype=bool)
        # Address each event by who did what; a false report (actor -1 - neighbourhood) by the
        # neighbourhood whose collector filed it, which files at most one a day.
        k = len(self.points)
        address = np.where(
            events.actor >= 0,
            events.actor * k + events.behaviour,
            (self.total - 1 - events.actor) * k + events.behaviour,
        )
        reviewed = self.streams.uniform(f"assess/{self.name}/review", day, address) < a.review
        verdict = self.streams.uniform(f"assess/{self.name}/verdict", day, address)
        wrong = ~events.correct()
        return reviewed & np.where(wrong, verdict < a.catch, verdict < a.wrongly_dismiss)

    def score(
        self, day: int, events: Events, dismissed: np.ndarray, done: Events, second_core: Executor
    ) -> Scored:
        """Score the day's events into the real standing, and start the counterfactual's day
        (scores and lists) on the second core; :meth:`update_lists` finishes the real day.

        The counterfactual is what the operator would hold with perfect sensors and review:
        every event it would receive, attributed to whoever really did it, fabricated reports
        left out, and no review mistakes (nothing true dismissed, nothing wrong to dismiss).

        Args:
            day: the day.
            events: the events attributed to this block's subjects, local ids.
            dismissed: which of ``events`` the review dismissed.
            done: the events this block's own subjects really did (actor ≥ 0), local ids,
                wherever the sensors attributed them.
            second_core: where the counterfactual is scored.
        """
        actor, k = done.actor, done.behaviour
        if not self._takes_everything:
            keep = self._takes[k]
            if self.covered is not None:
                keep &= self.covered[actor]
            keep = np.flatnonzero(keep)
            actor, k = actor[keep], k[keep]
        counterfactual = second_core.submit(
            self._judge,
            self.counterfactual,
            self.cf_lists,
            day,
            actor,
            k,
            self.points[k],
            self.severe[k],
        )
        points, severe = self.points[events.behaviour], self.severe[events.behaviour]
        subject, k = events.subject, events.behaviour
        n_dismissed = int(dismissed.sum())
        if n_dismissed:
            counted = np.flatnonzero(~dismissed)
            subject, k, points, severe = (
                subject[counted],
                k[counted],
                points[counted],
                severe[counted],
            )
        changes = self.standing.apply(day, subject, points, severe, self._caps(subject, k))
        self.counted += len(events) - n_dismissed
        self.dismissed += n_dismissed
        return Scored(changes, subject, k, counterfactual)

    def update_lists(self, day: int, scored: Scored) -> Judgement:
        """The day's lists after :meth:`score` (the counterfactual's whole day is
        ``scored.counterfactual``, on the second core)."""
        changes = ListChanges()
        if self.lists:
            changes = self.lists.update(
                day,
                scored.subject,
                scored.k,
                self.standing.score,
                self.standing.listed,
                scored.listing.toggled(),
            )
        return Judgement(scored.listing, changes)

    def _judge(
        self,
        standing: Standing,
        lists: ListBook,
        day: int,
        subject: np.ndarray,
        k: np.ndarray,
        points: np.ndarray,
        severe: np.ndarray,
    ) -> Judgement:
        """Steps 3-4 for one stream of events: the score and listing, then the lists."""
        changes = standing.apply(day, subject, points, severe, self._caps(subject, k))
        list_changes = ListChanges()
        if lists:
            list_changes = lists.update(
                day, subject, k, standing.score, standing.listed, changes.toggled()
            )
        return Judgement(changes, list_changes)

    def listed_any(self, subjects: np.ndarray) -> np.ndarray:
        """Whether each subject is on this operator's scheme listing or any of its blacklists."""
        if not self.lists:
            return self.standing.listed[subjects]
        return self.standing.listed[subjects] | self.lists.black_any[subjects]

    def _caps(
        self, subject: np.ndarray, k: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if not self.standing.capped:
            return None
        capped = self.cap_grade[k] >= 0
        return subject[capped], self.cap_grade[k][capped], self.cap_days[k][capped]
