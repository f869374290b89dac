"""Blacklists and red lists [L1-L4]: who is on which list, since when, until when, and why.

An operator's scheme may keep lists besides its scheme listing (the ``listing`` rule of the
reference city). A blacklist takes subjects for specific violations, with a term set by the
violation and extended by repeats, or for a low score after escalation: warned first, then
counselled by officials, and only then listed [000]. Credit repair removes a subject early once
the repair period has passed and the score has recovered. A red list holds the subjects whose
score reaches its minimum while they are on no blacklist.

A debtor's listing also ends early once the obligation is met (SPC Provisions 2017): a modelled
process, each listing drawing the day its obligation is met from a keyed stream, so the real and
the error-free book draw the same day for the same listing. Terms are capped (``max_term_days``:
a listing takes 2-5 years to clear [003]), and a list may start with a stock (``opening_share``),
drawn at set-up from the steady state of its own process. Where only some listings carry a term
(``termed_share``: the SPC's 2017 terms are for obstruction and deceit; a debtor able to pay who
refuses stays listed until the obligation is met), each new listing draws whether it does, keyed
by subject and day; an untermed listing's ``until`` is :data:`UNTIL_MET`.

Like the standing, a book only looks at the subjects touched today — those with events, and
those whose term, repair period or escalation step falls due — so a day costs O(events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xinyong.primitives.calendar import Calendar
from xinyong.primitives.codes import LIST_CHANGES, UNTIL_MET, ListChange
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import ListSpec

__all__ = ["LIST_CHANGES", "UNTIL_MET", "ListBook", "ListChanges"]

#: Changes to a list, as logged in the ``list_changes`` table (codes in
#: :mod:`xinyong.primitives.codes`).
(WARNED, COUNSELLED, LISTED, EXTENDED, EXPIRED, REPAIRED, ENTERED, LEFT, PERFORMED, OPENED) = (
    ListChange  # every code, in code order
)
#: Changes that put a subject on a list, and that take it off.
JOINS, LEAVES = (LISTED, ENTERED, OPENED), (EXPIRED, REPAIRED, LEFT, PERFORMED)
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

    def __init__(self, spec: ListSpec, behaviour_index: dict[str, int], n: int, days: int) -> None:
        self.black = spec.kind == "black"
        self.configure(spec, behaviour_index)
        self.member = np.zeros(n, dtype=bool)
        self.ever = np.zeros(n, dtype=bool)  # ever on the list (the record's "ever listed")
        self.since = np.full(n, -1, dtype=np.int32)
        self.until = np.full(n, -1, dtype=np.int32)
        self.repeats = np.zeros(n, dtype=np.int16)
        self.repairs = spec.repair_min_score is not None
        self.repair_from = np.zeros(n if self.repairs else 0, dtype=np.int32)
        self.met_on = np.zeros(n if self.met_rate > 0 else 0, dtype=np.int32)
        # Running totals since day 0 (the opening stock not counted): subjects put on the
        # list, those put on it for the first time, and those removed once their obligation
        # was met. The record's cumulative figures are read from them.
        self.joined = self.first_joined = self.performed = 0
        self.opened = 0  # members at the start (an opening stock or a warm start)
        self.escalation = spec.escalation
        self.stage = np.zeros(n if spec.escalation else 0, dtype=np.int8)
        self.stage_since = np.zeros(n if spec.escalation else 0, dtype=np.int32)
        self.checks = Calendar(days)

    def configure(self, spec: ListSpec, behaviour_index: dict[str, int]) -> None:
        """The list's rules as arrays over behaviours (at set-up, and from a dated change's
        day): each violation's term, shortest wait before repair and serious share; the
        longest term; the daily rate at which obligations are met."""
        self.spec = spec
        k = len(behaviour_index)
        self.term = np.zeros(k, dtype=np.int64)  # 0: not a violation
        self.wait = np.full(
            k, -1 if spec.repair_after_days is None else spec.repair_after_days, dtype=np.int64
        )  # shortest wait before repair, by violation
        for b in spec.behaviours:
            self.term[behaviour_index[b]] = spec.terms.get(b, spec.term_days)
        # The share of each violation's events serious enough to list (1: all of them).
        self.serious = np.ones(k)
        for b, share in spec.serious_share.items():
            self.serious[behaviour_index[b]] = share
        for tier in spec.tiers:
            for b in tier.behaviours:
                self.term[behaviour_index[b]] = tier.max_days
                self.wait[behaviour_index[b]] = tier.min_days
        self.max_term = spec.max_term_days or UNTIL_MET
        self.termed = spec.termed_share  # the share of new listings that carry a term
        self.met_rate = 1.0 - np.exp(-(spec.obligation_met_per_year or 0.0) / 365.0)  # a day

    def start(
        self, who: np.ndarray, day: int, term: np.ndarray | int, wait: np.ndarray | int
    ) -> None:
        """Put subjects on the list from ``day``, for ``term`` days, repairable after
        ``wait``."""
        self.member[who] = True
        self.joined += who.size
        self.first_joined += int((~self.ever[who]).sum())
        self.ever[who] = True
        self.since[who] = day
        self.until[who] = np.where(
            np.asarray(term) >= UNTIL_MET, UNTIL_MET, day + np.minimum(term, self.max_term)
        )
        self.repeats[who] = 0
        if self.repairs:
            self.repair_from[who] = day + wait

    def extend(self, who: np.ndarray, day: int) -> None:
        """A repeat violation: the term runs on by the extension, within the longest term."""
        ext = self.spec.repeat_extension_days
        until = self.until[who]
        longest = self.since[who].astype(np.int64) + self.max_term
        self.until[who] = np.where(
            until >= UNTIL_MET,  # no term: none to extend
            until,
            np.minimum(np.maximum(until, day) + ext, longest),
        )
        self.repeats[who] += 1


class ListBook:
    """Every list of one operator, under one stream of events (real or counterfactual).

    Args:
        specs: the scheme's lists.
        behaviour_index: scenario index of each behaviour name.
        population: the number of subjects.
        days: the horizon.
        scratch: scratch columns over subjects.
        covered: which subjects the scheme scores (default all).
        streams: the run's random streams, for the days obligations are met and the opening
            stock (needed only by lists that have them).
        stream: the name this book's draws are addressed under (the operator's); the real and
            the counterfactual book share it, so the same listing draws the same day.
        base: the city-wide id of subject 0 here (a block's first), which draws are
            addressed by.
    """

    def __init__(
        self,
        specs: list[ListSpec],
        behaviour_index: dict[str, int],
        population: int,
        days: int,
        scratch: Scratch,
        covered: np.ndarray | None = None,
        streams: Streams | None = None,
        stream: str = "lists",
        base: int = 0,
    ) -> None:
        self.lists = [_List(s, behaviour_index, population, days) for s in specs]
        self.names = [s.name for s in specs]
        self.n = population
        self._scratch = scratch
        self._covered = covered
        self.black_any = np.zeros(population if self.lists else 0, dtype=bool)
        self._streams = streams or Streams(0)
        self._stream = stream
        self._base = base
        self._opening = ListChanges()  # reported with day 0's changes
        self._rate_changed: list[_List] = []  # lists whose obligations are drawn again

    def open(self, weight: np.ndarray) -> None:
        """Start every list that has an opening stock at it, from its steady state.

        A subject is on the list at day 0 with probability ``opening_share × weight`` (weight:
        the subject's rate of violations against the average, 0 for those not covered), since a
        day drawn from the ages of listings that are still running: truncated exponential over
        the term when obligations are met at a rate, uniform otherwise.
        """
        for i, lst in enumerate(self.lists):
            share = lst.spec.opening_share
            if not share or not lst.black:
                continue
            name = f"{self._stream}/{lst.spec.name}"
            ids = np.arange(self.n) + self._base
            on = self._streams.uniform(f"{name}/opening", SETUP, ids) < share * weight
            who = np.flatnonzero(on)
            term = float(lst.spec.term_days)
            rate = -np.log1p(-lst.met_rate) if lst.met_rate > 0 else 0.0  # a day
            v = self._streams.uniform(f"{name}/opening/age", SETUP, who + self._base)
            age = v * term if rate == 0 else -np.log1p(-v * -np.expm1(-rate * term)) / rate
            since = -np.minimum(np.floor(age), term - 1).astype(np.int64)
            lst.start(who, 0, lst.spec.term_days, lst.spec.repair_after_days or 0)
            lst.joined -= who.size  # the opening stock joined before the run: no flow of it
            lst.first_joined -= who.size
            lst.opened += who.size
            lst.since[who] = since
            termed = self._termed(f"{name}/opening", SETUP, lst, who)
            lst.until[who] = np.where(termed, since + lst.spec.term_days, UNTIL_MET)
            if lst.repairs:
                lst.repair_from[who] = since + (lst.spec.repair_after_days or 0)
            if lst.met_rate > 0:  # memoryless: the wait from day 0 is drawn afresh
                lst.met_on[who] = self._met_wait(f"{name}/opening", SETUP, who, lst.met_rate)
            self._schedule(lst, who)
            self._opening.add(i, OPENED, who, black=True)
        if self._opening.entries:
            self._update_black_any(self._opening.toggled())

    def open_members(
        self,
        i: int,
        who: np.ndarray,
        since: np.ndarray,
        k: np.ndarray,
        stream: str,
        termed: np.ndarray | None = None,
    ) -> None:
        """Put subjects on list ``i`` before day 0 (a warm start: :mod:`xinyong.model.opening`),
        each listed on its day ``since`` (negative) for violation ``k``'s term (none where
        ``termed`` is False: until the obligation is met); the day each meets its obligation is
        drawn from ``stream`` (memoryless: afresh from day 0). They are reported with day 0's
        changes, as the opening stock, and are not counted as joining."""
        lst = self.lists[i]
        lst.start(who, 0, lst.term[k], lst.wait[k])
        lst.joined -= who.size  # they joined before the run: no flow of it
        lst.first_joined -= who.size
        lst.opened += who.size
        lst.since[who] = since
        lst.until[who] = since + np.minimum(lst.term[k], lst.max_term)
        if termed is not None:
            lst.until[who[~termed]] = UNTIL_MET
        if lst.repairs:
            lst.repair_from[who] = since + np.maximum(lst.wait[k], 0)
        if lst.met_rate > 0:
            lst.met_on[who] = self._met_wait(stream, SETUP, who, lst.met_rate)
        self._schedule(lst, who)
        self._opening.add(i, OPENED, who, black=lst.black)
        self._update_black_any(who)

    def _termed(self, stream: str, day: int, lst: _List, who: np.ndarray) -> np.ndarray:
        """Which of the subjects listed on ``day`` carry the list's term (``termed_share``),
        keyed by subject and day (the real and the error-free book draw alike)."""
        if lst.termed >= 1.0:
            return np.ones(who.size, dtype=bool)
        return self._streams.uniform(f"{stream}/termed", day, who + self._base) < lst.termed

    def _terms(self, lst: _List, day: int, who: np.ndarray, term: np.ndarray | int) -> np.ndarray:
        """The terms of new listings: ``term``, or none (:data:`UNTIL_MET`) for those drawn
        untermed."""
        termed = self._termed(f"{self._stream}/{lst.spec.name}", day, lst, who)
        return np.where(termed, term, UNTIL_MET)

    def _met_wait(self, stream: str, day: int, who: np.ndarray, rate: float) -> np.ndarray:
        """Days from ``day`` until the obligation is met: geometric, at least one."""
        u = self._streams.uniform(f"{stream}/obligation", day, who + self._base)
        return np.maximum(np.ceil(np.log(u) / np.log1p(-rate)), 1).astype(np.int64) + max(day, 0)

    def __bool__(self) -> bool:
        return bool(self.lists)

    def update(
        self,
        day: int,
        subjects: np.ndarray,
        behaviours: np.ndarray,
        score: np.ndarray,
        scheme_listed: np.ndarray,
        also: np.ndarray,
    ) -> ListChanges:
        """Apply one day: violations, escalation, terms and repair, then red lists.

        Args:
            day: the day.
            subjects, behaviours: the day's counted events (subject, scenario behaviour index).
            score: every subject's score after today's scoring.
            scheme_listed: every subject's scheme listing (it keeps them off red lists).
            also: other subjects to look at today (those whose scheme listing changed).
        """
        changes = ListChanges()
        if self._opening.entries:  # the opening stock, reported with day 0's changes
            changes, self._opening = self._opening, ListChanges()
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
                self._red(
                    i,
                    lst,
                    day,
                    np.concatenate([touched, black_toggled]),
                    score,
                    scheme_listed,
                    changes,
                )
        return changes

    def _violations(
        self,
        i: int,
        lst: _List,
        day: int,
        subjects: np.ndarray,
        behaviours: np.ndarray,
        changes: ListChanges,
    ) -> None:
        term = lst.term[behaviours]
        hit = term > 0
        if not hit.any():
            return
        if lst.spec.serious_share:  # only the serious cases list directly (keyed by the act)
            share = lst.serious[behaviours]
            some = hit & (share < 1.0)
            if some.any():
                k_all = lst.term.size
                address = (subjects[some] + self._base) * k_all + behaviours[some]
                u = self._streams.uniform(f"{self._stream}/{lst.spec.name}/serious", day, address)
                hit[np.flatnonzero(some)[u >= share[some]]] = False
            if not hit.any():
                return
        who, term, k = subjects[hit], term[hit], behaviours[hit]
        order = np.lexsort((-term, who))  # per subject, the longest term first
        who, term, k = who[order], term[order], k[order]
        first = np.r_[True, who[1:] != who[:-1]]
        who, term, k = who[first], term[first], k[first]
        again = lst.member[who]
        new = who[~again]
        lst.start(new, day, self._terms(lst, day, new, term[~again]), lst.wait[k[~again]])
        old = who[again]
        lst.extend(old, day)
        if lst.met_rate > 0:  # a new obligation: met on its own drawn day, after any older one
            met = self._met_wait(f"{self._stream}/{lst.spec.name}", day, who, lst.met_rate)
            lst.met_on[who] = np.where(again, np.maximum(lst.met_on[who], met), met)
        if lst.escalation is not None:
            lst.stage[who] = 0
        self._schedule(lst, who)
        changes.add(i, LISTED, new, black=True)
        changes.add(i, EXTENDED, old)

    def _schedule(self, lst: _List, who: np.ndarray) -> None:
        """Look at members again when their term ends, when repair becomes possible, and when
        their obligation is met."""
        lst.checks.add(lst.until[who], who)
        if lst.repairs:
            lst.checks.add(lst.repair_from[who], who)
        if lst.met_rate > 0:
            lst.checks.add(lst.met_on[who], who)

    def _escalate_and_release(
        self,
        i: int,
        lst: _List,
        day: int,
        touched: np.ndarray,
        score: np.ndarray,
        changes: ListChanges,
    ) -> None:
        cand = self._scratch.distinct(np.concatenate([touched, lst.checks.pop(day)]))
        if cand.size == 0:
            return
        member = lst.member[cand]
        listed_today = member.copy()  # a member listed today (a start read for members only)
        on = np.flatnonzero(member)
        listed_today[on] = lst.since[cand[on]] == day
        esc = lst.escalation
        if esc is not None:
            below = (score[cand] < esc.below) & ~member
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
            term = self._terms(lst, day, to_list, lst.spec.term_days)
            lst.start(to_list, day, term, lst.spec.repair_after_days or 0)
            self._schedule(lst, to_list)
            changes.add(i, LISTED, to_list, black=True)
            listed_today |= self._scratch.member(cand, to_list)
        # Members not listed today may leave: only their terms are read (a few of cand).
        who = cand[np.flatnonzero(lst.member[cand] & ~listed_today)]
        expired = day >= lst.until[who]
        performed = np.zeros_like(expired)
        if lst.met_rate > 0:
            performed = ~expired & (day >= lst.met_on[who])
        repaired = np.zeros_like(expired)
        if lst.repairs:
            assert lst.spec.repair_min_score is not None
            repaired = (
                ~expired
                & ~performed
                & (day >= lst.repair_from[who])
                & (score[who] >= lst.spec.repair_min_score)
            )
        lst.performed += int(performed.sum())
        for change, mask in ((EXPIRED, expired), (PERFORMED, performed), (REPAIRED, repaired)):
            gone = who[mask]
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

    def _red(
        self,
        i: int,
        lst: _List,
        day: int,
        cand: np.ndarray,
        score: np.ndarray,
        scheme_listed: np.ndarray,
        changes: ListChanges,
    ) -> None:
        cand = self._scratch.distinct(cand)
        if day == 0:  # everyone may start on a red list (a start above its minimum)
            cand = np.arange(self.n) if self._covered is None else np.flatnonzero(self._covered)
        assert lst.spec.min_score is not None
        should = (score[cand] >= lst.spec.min_score) & ~self.black_any[cand] & ~scheme_listed[cand]
        entered, left = cand[should & ~lst.member[cand]], cand[~should & lst.member[cand]]
        lst.member[entered] = True
        lst.since[entered] = day
        lst.member[left] = False
        changes.add(i, ENTERED, entered)
        changes.add(i, LEFT, left)

    def retune(self, specs: list[ListSpec], behaviour_index: dict[str, int]) -> None:
        """Take the lists' rules in force from a dated change's day: new listings and
        extensions take the new terms; members listed before keep theirs. A changed rate of
        meeting obligations draws each member's day again from ``day`` (memoryless), from
        the stream ``<list>/obligation/changed``."""
        for lst, spec in zip(self.lists, specs, strict=True):
            rate = lst.met_rate
            lst.configure(spec, behaviour_index)
            if lst.met_rate != rate:
                self._rate_changed.append(lst)

    def redraw_obligations(self, day: int) -> None:
        """Draw again, from ``day``, the day each member meets its obligation, for the lists
        whose rate :meth:`retune` changed."""
        for lst in self._rate_changed:
            if lst.met_on.size == 0:
                lst.met_on = np.zeros(self.n, dtype=np.int32)
            who = np.flatnonzero(lst.member)
            if lst.met_rate > 0 and who.size:
                name = f"{self._stream}/{lst.spec.name}/changed"
                lst.met_on[who] = self._met_wait(name, day - 1, who, lst.met_rate)
                lst.checks.add(lst.met_on[who], who)
            elif who.size:
                lst.met_on[who] = np.iinfo(np.int32).max
        self._rate_changed = []

    def members(self, name: str) -> np.ndarray:
        """The ids on a list now."""
        return np.flatnonzero(self.lists[self.names.index(name)].member)
