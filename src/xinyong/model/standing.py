"""Standing: each subject's score, grade and listing under one scheme, kept from its events.

These are steps 3 (scoring) and 4 (listing) of the day. Each operator keeps two standings: the
real one, from every counted event, and the counterfactual one, from every event attributed to
whoever really did it (no false reports, no review mistakes), which says what the system would
hold with perfect sensors and review.

Rules (reference scenario):
- the score moves by the day's points and is clamped to [floor, ceiling];
- a severe event, or (``at_floor``) a score at the floor, lists the citizen that day; a listed
  citizen's term starts again;
- otherwise a listed citizen is released once ``day - listing_day >= min_days`` and its score is
  at least ``release_min_score``.

A scheme may cap the grade for a while after some behaviours (drunk driving: automatic C), and
a scheme without a listing rule never lists.

A citizen who sits at the floor is listed again every day. Rather than touch them all daily,
their listing day is kept lazily: while at the floor it is "today", and it is written down as
the last day at the floor when the score leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xinyong.primitives.calendar import Calendar
from xinyong.primitives.codes import ListingReason
from xinyong.primitives.scratch import Scratch
from xinyong.scenario import Scheme

__all__ = ["ListingChanges", "Standing"]

_SEVERE, _FLOOR = ListingReason.SEVERE_EVENT, ListingReason.SCORE_AT_FLOOR
# The touched citizens' score, listed flag, cap grade and cap end (None without caps).
_Local = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


@dataclass(frozen=True, slots=True)
class ListingChanges:
    """What changed on the lists on one day.

    Attributes:
        listed: citizens listed that day who were not listed before.
        relisted: listed citizens whose term started again (a severe event, or reaching the floor).
        reason_listed: a :class:`~xinyong.primitives.codes.ListingReason` code per entry of
            ``listed``.
        reason_relisted: a :class:`~xinyong.primitives.codes.ListingReason` code per entry of
            ``relisted``.
        released: citizens released that day.
    """

    listed: np.ndarray
    relisted: np.ndarray
    reason_listed: np.ndarray
    reason_relisted: np.ndarray
    released: np.ndarray

    def toggled(self) -> np.ndarray:
        """Citizens whose listed flag flipped (their behaviour changes from tomorrow)."""
        return np.concatenate([self.listed, self.released])


class Standing:
    """Scores, grades and listings of every subject under one scheme and one stream of events.

    Args:
        scheme: the score scale, grades, listing rule and grade caps.
        population: the number of subjects.
        days: the run's horizon.
        scratch: scratch columns over subjects, shared with the other phases of the day.
        start: each subject's starting score (on the scale: :mod:`xinyong.model.start`), if it
            differs from the scheme's start.
        covered: which subjects the scheme scores (default all); the others never change.
    """

    def __init__(
        self,
        scheme: Scheme,
        population: int,
        days: int,
        scratch: Scratch,
        start: np.ndarray | None = None,
        covered: np.ndarray | None = None,
    ) -> None:
        scale, rule = scheme.score, scheme.listing
        self.n = population
        self._scratch = scratch
        self._covered = covered
        self.start, self.floor, self.ceiling = scale.start, scale.floor, scale.ceiling
        self.lists = rule is not None
        self.at_floor = rule.at_floor if rule else False
        self.min_days = rule.min_days if rule else 0
        self.release_min_score = rule.release_min_score if rule else scale.ceiling
        self.grade_names = scheme.grade_names()
        self._listed_index = len(self.grade_names) - 1
        # Grade index for every possible score, so grading is one gather.
        every_score = np.arange(scale.floor, scale.ceiling + 1)
        ascending_mins = np.array([g.min for g in reversed(scheme.grades)])
        last = len(scheme.grades) - 1
        self._grade_of_score = (
            last - (np.searchsorted(ascending_mins, every_score, side="right") - 1)
        ).astype(np.int8)
        dtype = _score_dtype(scale.floor, scale.ceiling)
        self.score: np.ndarray  # points, per subject
        if start is None:
            self.score = np.full(population, scale.start, dtype=dtype)
        else:
            self.score = start.astype(dtype)  # on the scale already (xinyong.model.start)
        self.listed = np.zeros(population, dtype=bool)
        day_dtype = np.int16 if days < np.iinfo(np.int16).max else np.int32
        self.listing_day: np.ndarray = np.full(population, -1, dtype=day_dtype)
        # The earliest release day after a listing on day d is d + max(min_days, 1):
        # a subject listed today is not released today.
        self._wait = max(self.min_days, 1)
        self._release_checks = Calendar(days)
        # Grade caps (only for schemes with overrides): the worst-allowed grade and until when.
        self.capped = bool(scheme.overrides)
        self.cap_grade = np.zeros(population if self.capped else 0, dtype=np.int8)
        self.cap_until = np.zeros(population if self.capped else 0, dtype=np.int32)
        self._cap_ends = Calendar(days)
        # Running aggregates for the daily series, kept up to date in O(events).
        self.score_sum = int(self.score.sum(dtype=np.int64))
        self.ever_listed_count = 0
        self.grade_counts = np.bincount(self.grades(), minlength=len(self.grade_names))
        self.day = 0  # the day the standing was last scored (grade caps end by day)

    def grades_now(self, subjects: np.ndarray) -> np.ndarray:
        """Grade index of the given subjects on the day the standing was last scored (what
        gates read during that day)."""
        return self.grades(subjects, self.day)

    def grades(self, subjects: np.ndarray | None = None, day: int = 0) -> np.ndarray:
        """Grade index (into ``grade_names``) of the given subjects, or of everyone, on ``day``."""
        sel = slice(None) if subjects is None else subjects
        return self._grade(
            self.score[sel],
            self.listed[sel],
            self.cap_grade[sel] if self.capped else None,
            self.cap_until[sel] if self.capped else None,
            day,
        )

    def _grade(
        self,
        score: np.ndarray,
        listed: np.ndarray,
        cap_grade: np.ndarray | None,
        cap_until: np.ndarray | None,
        day: int,
    ) -> np.ndarray:
        grade = self._grade_of_score[score - self.floor]
        if cap_grade is not None and cap_until is not None:
            active = cap_until > day
            grade[active] = np.maximum(grade[active], cap_grade[active])
        grade[listed] = self._listed_index
        return grade

    def apply(
        self,
        day: int,
        subjects: np.ndarray,
        points: np.ndarray,
        severe: np.ndarray,
        caps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> ListingChanges:
        """Score one day's events and update the lists.

        Every array below is local to the day's touched citizens (those with events, and those
        whose minimum term ends today): scores and listing flags are read once, scores written
        back once; listing flags and days are written only where they change, and a listing
        day is read only for a citizen who could be released.

        Args:
            day: the day.
            subjects: the citizen each event is attributed to.
            points: each event's points.
            severe: whether each event is severe.
            caps: grade caps from today's events, as (subjects, grade index, days).

        Returns:
            The day's changes to the lists.
        """
        self.day = day
        touched, local = self._touched(day, subjects, caps)
        score0, listed0 = self.score[touched], self.listed[touched]
        cap_grade0 = cap_until0 = cap_grade = cap_until = None
        if self.capped:
            cap_grade0, cap_until0 = self.cap_grade[touched], self.cap_until[touched]
            cap_grade, cap_until = cap_grade0.copy(), cap_until0.copy()
            if caps is not None and caps[0].size:
                self._set_caps(day, touched, cap_grade, cap_until, *caps)

        # Step 3: scoring, clamped at the end of the day.
        day_points = np.bincount(local, weights=points, minlength=touched.size)
        score = np.clip(score0 + day_points.astype(np.int64), self.floor, self.ceiling).astype(
            score0.dtype
        )

        # Step 4: listing, by a severe event today or (at_floor) a score at the floor.
        to_list = np.zeros(touched.size, dtype=bool)
        if self.lists:
            to_list[local[severe]] = True
        is_severe = to_list.copy()
        restarted = listed0 & is_severe
        if self.at_floor:
            at_floor, was_at_floor = score == self.floor, score0 == self.floor
            # Citizens leaving the floor were relisted every day until yesterday.
            leaving = touched[was_at_floor & ~at_floor & listed0]
            self.listing_day[leaving] = day - 1
            if self._wait > 1 and leaving.size:  # else their release is weighed today
                self._release_checks.add_all(day - 1 + self._wait, leaving)
            to_list |= at_floor
            restarted |= listed0 & at_floor & ~was_at_floor
        newly = to_list & ~listed0
        listed = listed0 | to_list
        listed_now = touched[to_list]
        self.ever_listed_count += int((self.listing_day[listed_now] < 0).sum())  # first time
        self.listing_day[listed_now] = day
        self._release_checks.add_all(day + self._wait, listed_now)

        # Release: the score has recovered (and it is not at the floor) and the term has run.
        free = listed & ~to_list & (score >= self.release_min_score)
        if self.at_floor:
            free &= score != self.floor
        could = np.flatnonzero(free)
        free[could] = day - self.listing_day[touched[could]] >= self.min_days
        listed[free] = False

        self.score[touched] = score
        self.listed[touched[newly]] = True
        self.listed[touched[free]] = False
        if self.capped:
            assert cap_grade is not None and cap_until is not None  # set above when capped
            self.cap_grade[touched], self.cap_until[touched] = cap_grade, cap_until

        self._count(
            day, (score0, listed0, cap_grade0, cap_until0), (score, listed, cap_grade, cap_until)
        )
        reason = np.where(is_severe, _SEVERE, _FLOOR).astype(np.int8)
        return ListingChanges(
            listed=touched[newly],
            relisted=touched[restarted],
            reason_listed=reason[newly],
            reason_relisted=reason[restarted],
            released=touched[free],
        )

    def _count(self, day: int, before: _Local, after: _Local) -> None:
        """Keep the daily series' aggregates up to date in O(touched): the touched citizens'
        (score, listed, cap grade, cap end) before and after the day."""
        size = len(self.grade_names)
        self.grade_counts += np.bincount(self._grade(*after, day), minlength=size) - np.bincount(
            self._grade(*before, day - 1), minlength=size
        )
        self.score_sum += delta_sum(after[0], before[0])

    def _touched(
        self, day: int, subjects: np.ndarray, caps: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The day's touched citizens (with events, due for a release check, or whose grade
        cap starts or ends), and where each event's subject stands among them."""
        if day == 0 and self.at_floor and self.start == self.floor:
            # Everyone starts at the floor: all are listed on day 0, with or without events.
            due = np.arange(self.n) if self._covered is None else np.flatnonzero(self._covered)
        else:
            due = self._release_checks.pop(day)
        parts = [subjects, due]
        if self.capped:
            parts += [self._cap_ends.pop(day)] + ([caps[0]] if caps is not None else [])
        touched, local = self._scratch.local(np.concatenate(parts))
        return touched, local[: subjects.size]

    @property
    def ever_listed(self) -> np.ndarray:
        """Whether each subject has ever been listed: it has a listing day (kept after a
        release or a lifted listing), so no column of its own is needed."""
        return self.listing_day >= 0

    def _set_caps(
        self,
        day: int,
        touched: np.ndarray,
        cap_grade: np.ndarray,
        cap_until: np.ndarray,
        who: np.ndarray,
        grade: np.ndarray,
        days: np.ndarray,
    ) -> None:
        """Apply today's grade caps to the local arrays over ``touched``.

        A new cap joins any running one: the worse grade and the later end stand.
        """
        local = self._scratch.positions(touched, who)
        expired = cap_until <= day
        cap_grade[expired], cap_until[expired] = 0, 0  # grade index 0 caps nothing
        np.maximum.at(cap_grade, local, grade.astype(cap_grade.dtype))
        np.maximum.at(cap_until, local, (day + days).astype(cap_until.dtype))
        self._cap_ends.add(cap_until[local], touched[local])

    def finish(self, last_day: int) -> None:
        """Write down the lazy listing day of citizens still at the floor."""
        if self.at_floor:
            at_floor = self.listed & (self.score == self.floor)
            self.listing_day[at_floor] = last_day


def _score_dtype(floor: int, ceiling: int) -> type:
    """The smallest integer type that holds every score (most scales fit in two bytes)."""
    info = np.iinfo(np.int16)
    return np.int16 if info.min <= floor and ceiling <= info.max else np.int32


def delta_sum(new: np.ndarray, old: np.ndarray) -> int:
    """Sum of ``new - old`` without overflow in small integer types."""
    return int(new.sum(dtype=np.int64) - old.sum(dtype=np.int64))
