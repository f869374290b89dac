"""Blacklists and red lists [L1-L4]: who is on which list, since when, until when, and why.

An operator's scheme may keep lists besides its scheme listing (the ``listing`` rule of the
reference city). A blacklist takes subjects for specific violations, with a term set by the
violation and extended by repeats, or for a low score after escalation: warned first, then
counselled by officials, and only then listed [000]. Credit repair removes a subject early once
the repair period has passed and the score has recovered. A red list holds the subjects whose
score reaches its minimum while they are on no blacklist.

Like the standing, a book only looks at the subjects touched today — those with events, and
those whose term, repair period or escalation step falls due — so a day costs O(events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xinyong.calendar import Calendar
from xinyong.scenario import ListSpec
from xinyong.scratch import Scratch

__all__ = ["LIST_CHANGES", "ListBook", "ListChanges"]

#: Changes to a list, as logged in the ``list_changes`` table.
LIST_CHANGES = {0: "warned", 1: "counselled", 2: "listed", 3: "extended", 4: "expired",
                5: "repaired", 6: "entered", 7: "left"}
WARNED, COUNSELLED, LISTED, EXTENDED, EXPIRED, REPAIRED, ENTERED, LEFT = range(8)
_EMPTY = np.empty(0, dtype=np.int64)


@dataclass
class ListChanges:
    """The day's changes to a book: (list index, change code, subjects) triples."""

    entries: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    black_toggled: list[np.ndarray] = field(default_factory=list)

    def add(self, lst: int, change: int, who: np.ndarray, black: bool = False) -> None:
        if who.size:
            self.entries.append((lst, change, who))
            if black:
                self.black_toggled.append(who)

    def toggled(self) -> np.ndarray:
        """Subjects who joined or left a blacklist today."""
        return np.concatenate(self.black_toggled) if self.black_toggled else _EMPTY


class _List:
    """The columns of one list."""

    def __init__(self, spec: ListSpec, behaviour_index: dict[str, int], n: int, days: int
                 ) -> None:
        self.spec = spec
        self.black = spec.kind == "black"
        self.member = np.zeros(n, dtype=bool)
        self.since = np.full(n, -1, dtype=np.int32)
        self.until = np.full(n, -1, dtype=np.int32)
        self.repeats = np.zeros(n, dtype=np.int16)
        self.term = np.zeros(len(behaviour_index), dtype=np.int64)  # 0: not a violation
        for b in spec.behaviours:
            self.term[behaviour_index[b]] = spec.terms.get(b, spec.term_days)
        self.escalation = spec.escalation
        self.stage = np.zeros(n if spec.escalation else 0, dtype=np.int8)
        self.stage_since = np.zeros(n if spec.escalation else 0, dtype=np.int32)
        self.checks = Calendar(days)


class ListBook:
    """Every list of one operator, under one stream of events (real or counterfactual).

    Args:
        specs: the scheme's lists.
        behaviour_index: scenario index of each behaviour name.
        population: the number of subjects.
        days: the horizon.
        scratch: scratch columns over subjects.
        covered: which subjects the scheme scores (default all).
    """

    def __init__(self, specs: list[ListSpec], behaviour_index: dict[str, int], population: int,
                 days: int, scratch: Scratch, covered: np.ndarray | None = None) -> None:
        self.lists = [_List(s, behaviour_index, population, days) for s in specs]
        self.names = [s.name for s in specs]
        self.n = population
        self._scratch = scratch
        self._covered = covered
        self.black_any = np.zeros(population if self.lists else 0, dtype=bool)

    def __bool__(self) -> bool:
        return bool(self.lists)

    def update(self, day: int, subjects: np.ndarray, behaviours: np.ndarray,
               score: np.ndarray, scheme_listed: np.ndarray, also: np.ndarray) -> ListChanges:
        """Apply one day: violations, escalation, terms and repair, then red lists.

        Args:
            day: the day.
            subjects, behaviours: the day's counted events (subject, scenario behaviour index).
            score: every subject's score after today's scoring.
            scheme_listed: every subject's scheme listing (it keeps them off red lists).
            also: other subjects to look at today (those whose scheme listing changed).
        """
        changes = ListChanges()
        touched = self._scratch.distinct(np.concatenate([subjects, also]))
        for i, lst in enumerate(self.lists):
            if lst.black:
                self._violations(i, lst, day, subjects, behaviours, changes)
                self._escalate_and_release(i, lst, day, touched, score, changes)
        black_toggled = changes.toggled()
        if black_toggled.size:
            self._update_black_any(black_toggled)
        for i, lst in enumerate(self.lists):
            if not lst.black:
                self._red(i, lst, day, np.concatenate([touched, black_toggled]), score,
                          scheme_listed, changes)
        return changes

    def _violations(self, i: int, lst: _List, day: int, subjects: np.ndarray,
                    behaviours: np.ndarray, changes: ListChanges) -> None:
        term = lst.term[behaviours]
        hit = term > 0
        if not hit.any():
            return
        who, term = subjects[hit], term[hit]
        order = np.lexsort((-term, who))  # per subject, the longest term first
        who, term = who[order], term[order]
        first = np.r_[True, who[1:] != who[:-1]]
        who, term = who[first], term[first]
        again = lst.member[who]
        new, new_term = who[~again], term[~again]
        lst.member[new] = True
        lst.since[new] = day
        lst.until[new] = day + new_term
        lst.repeats[new] = 0
        old = who[again]
        lst.until[old] = np.maximum(lst.until[old], day) + lst.spec.repeat_extension_days
        lst.repeats[old] += 1
        if lst.escalation is not None:
            lst.stage[who] = 0
        self._schedule(lst, who)
        changes.add(i, LISTED, new, black=True)
        changes.add(i, EXTENDED, old)

    def _schedule(self, lst: _List, who: np.ndarray) -> None:
        """Look at members again when their term ends and when repair becomes possible."""
        lst.checks.add(lst.until[who], who)
        if lst.spec.repair_after_days is not None:
            lst.checks.add(lst.since[who] + lst.spec.repair_after_days, who)

    def _escalate_and_release(self, i: int, lst: _List, day: int, touched: np.ndarray,
                              score: np.ndarray, changes: ListChanges) -> None:
        cand = self._scratch.distinct(np.concatenate([touched, lst.checks.pop(day)]))
        if cand.size == 0:
            return
        s = score[cand]
        listed_today = lst.member[cand] & (lst.since[cand] == day)
        esc = lst.escalation
        if esc is not None:
            member = lst.member[cand]
            below = (s < esc.below) & ~member
            stage = lst.stage[cand]
            lst.stage[cand[(stage > 0) & ~below]] = 0  # recovered: the escalation stops
            warn = below & (stage == 0)
            self._step(lst, cand[warn], day, 1, esc.counsel_after_days)
            changes.add(i, WARNED, cand[warn])
            stage = lst.stage[cand]
            elapsed = day - lst.stage_since[cand]
            counsel = below & (stage == 1) & (elapsed >= esc.counsel_after_days)
            self._step(lst, cand[counsel], day, 2, esc.list_after_days)
            changes.add(i, COUNSELLED, cand[counsel])
            stage = lst.stage[cand]
            elapsed = day - lst.stage_since[cand]
            to_list = cand[below & (stage == 2) & (elapsed >= esc.list_after_days)]
            lst.stage[to_list] = 0
            lst.member[to_list] = True
            lst.since[to_list] = day
            lst.until[to_list] = day + lst.spec.term_days
            lst.repeats[to_list] = 0
            self._schedule(lst, to_list)
            changes.add(i, LISTED, to_list, black=True)
            listed_today |= self._scratch.member(cand, to_list)
        member = lst.member[cand] & ~listed_today
        expired = member & (day >= lst.until[cand])
        repaired = np.zeros_like(expired)
        spec = lst.spec
        if spec.repair_after_days is not None and spec.repair_min_score is not None:
            repaired = (member & ~expired & (day - lst.since[cand] >= spec.repair_after_days)
                        & (s >= spec.repair_min_score))
        for change, mask in ((EXPIRED, expired), (REPAIRED, repaired)):
            gone = cand[mask]
            lst.member[gone] = False
            changes.add(i, change, gone, black=True)

    @staticmethod
    def _step(lst: _List, who: np.ndarray, day: int, stage: int, wait: int) -> None:
        lst.stage[who] = stage
        lst.stage_since[who] = day
        lst.checks.add(np.full(who.size, day + max(wait, 1)), who)

    def _update_black_any(self, who: np.ndarray) -> None:
        now = np.zeros(who.size, dtype=bool)
        for lst in self.lists:
            if lst.black:
                now |= lst.member[who]
        self.black_any[who] = now

    def _red(self, i: int, lst: _List, day: int, cand: np.ndarray, score: np.ndarray,
             scheme_listed: np.ndarray, changes: ListChanges) -> None:
        cand = self._scratch.distinct(cand)
        if day == 0:  # everyone may start on a red list (a start above its minimum)
            cand = np.arange(self.n) if self._covered is None else np.flatnonzero(self._covered)
        assert lst.spec.min_score is not None
        should = (score[cand] >= lst.spec.min_score) & ~self.black_any[cand] \
            & ~scheme_listed[cand]
        entered, left = cand[should & ~lst.member[cand]], cand[~should & lst.member[cand]]
        lst.member[entered] = True
        lst.since[entered] = day
        lst.member[left] = False
        changes.add(i, ENTERED, entered)
        changes.add(i, LEFT, left)

    def lift(self, subject: int, behaviour: int, day: int) -> bool:
        """Take a subject off the blacklists that one violation of ``day`` put it on (an upheld
        appeal). Returns whether it left any."""
        left = False
        for lst in self.lists:
            if lst.black and lst.term[behaviour] > 0 and lst.member[subject] \
                    and lst.since[subject] == day:
                lst.member[subject] = False
                left = True
        if left:
            self._update_black_any(np.array([subject]))
        return left

    def members(self, name: str) -> np.ndarray:
        """The ids on a list now."""
        return np.flatnonzero(self.lists[self.names.index(name)].member)
