"""Behaviour: who does what each day.

Each subject ``i`` (a citizen, or a company) does behaviour ``k`` on a day with probability
``p_k * c_i`` (penalised) or ``p_k / c_i`` (rewarded), scaled by the listed response while
listed, capped at 1.
While that probability stays the same, the days between occurrences are geometric, so instead
of a coin per citizen, behaviour and day we file every (citizen, behaviour) pair in a calendar
under the day of its next occurrence, drawn by inversion from one uniform. A pair is drawn again
only when it occurs or when the citizen's probability changes (listed or released); by
memorylessness this is exactly the daily coin-flip process, at a cost proportional to the
events.

Pairs are packed as ``citizen * K + behaviour``. The draw for a pair made at the end of day
``t`` uses the stream ``behaviour/<name>`` at day ``t`` and address ``citizen``. Each filing
in the calendar remembers the day it was drawn on; when a citizen's pairs are all drawn again,
the day is noted for the citizen (two bytes), and an entry drawn before it is stale. So no
per-pair column is kept: a citizen costs the pairs due within the horizon, four bytes each.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

import numpy as np

from xinyong.primitives import compiled
from xinyong.primitives.calendar import Calendar
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import Behaviour, ListedResponse

__all__ = ["Behaviours", "Filing"]

Filing = tuple[np.ndarray, np.ndarray]  # pairs sorted by day, and how many fall on each day


class Behaviours:
    """The schedule of every subject's next occurrence of every behaviour it can do.

    Args:
        behaviours: the behaviours of one kind of subject (citizens, or companies).
        harmful: per behaviour, whether it is penalised (rate times c) or rewarded (over c).
        response: the multipliers while listed.
        days: the horizon.
        conduct: each subject's conduct factor (1 = average; higher does more harm, less good).
        streams: the run's random streams.
        scratch: scratch columns over subjects, shared with the other phases of the day.
        ages: each citizen's age, where behaviours have age limits.
        responses: each subject's response factor on day 0 [E3], if citizens respond.
        base: the city-wide id of subject 0 (a block's first), which draws are addressed by.
        scales: per behaviour index, a fixed per-subject multiplier on its rate (the share of
            their dissent citizens dare express, :mod:`xinyong.model.dissent`).
        where: where half of the first draws are made (the second core; default here).
        listed_factors: per behaviour, the multiplier while "listed" (default: the listed
            response by sign); or a table with a row per state of the ``listed`` column (an
            integer column, row 0 all ones), each state's multiplier per behaviour: service
            uses pass how often a citizen asks again after refusals at the services they
            remember (:mod:`xinyong.model.services`).
        initial: each subject's row of ``listed_factors`` at set-up, for the first draws
            (None: row 0 for all): the refusals an opening stock remembers.
    """

    def __init__(
        self,
        behaviours: list[Behaviour],
        harmful: list[bool],
        response: ListedResponse,
        days: int,
        conduct: np.ndarray,
        streams: Streams,
        scratch: Scratch,
        ages: np.ndarray | None = None,
        responses: np.ndarray | None = None,
        base: int = 0,
        scales: dict[int, np.ndarray] | None = None,
        where: Executor | None = None,
        listed_factors: np.ndarray | None = None,
        initial: np.ndarray | None = None,
    ) -> None:
        self.names = [b.name for b in behaviours]
        self.k = len(self.names)
        self.n = conduct.size
        self.days = days
        self.streams = streams
        self._scratch = scratch
        self._ahead: tuple[int, np.ndarray, Future[Filing]] | None = None  # draw_ahead's
        self._stream_names = [f"behaviour/{name}" for name in self.names]
        self.p = np.array([b.p for b in behaviours], dtype=np.float64)
        # Flat lookup tables, so a pair's rate is two gathers and no branches:
        # conduct factor by (subject, sign): c for penalised behaviours, 1/c for rewarded ones;
        # multiplier by (listed state, behaviour): 1 when not listed (state 0), the listed
        # response when listed.
        self._positive = np.array([not h for h in harmful], dtype=np.int64)
        self._conduct = conduct
        self._listed_factor = self._factor_table(response, listed_factors)
        # Whether a listing changes any rate (if not, a listing redraws nothing, so a city
        # whose behaviour ignores the lists draws exactly what a city without lists draws).
        self.listing_matters = bool((self._listed_factor[self.k :] != 1.0).any())
        # Service uses and the like: the same rate for every subject able to do it, for ever.
        # Then a pair that occurs is rescheduled from its behaviour's rate alone.
        self._constant = (
            not self.listing_matters
            and responses is None
            and not scales
            and bool(np.all(conduct == 1.0))
        )
        with np.errstate(divide="ignore"):
            self._log_q = np.log1p(-np.minimum(self.p, 1.0))
        # Age limits (a child does not fall into bank arrears): rate 0 outside them.
        limited = ages is not None and any(b.min_age > 0 or b.max_age < 200 for b in behaviours)
        self._ages = ages if limited else None
        self._min_age = np.array([b.min_age for b in behaviours])
        self._max_age = np.array([b.max_age for b in behaviours])
        # Every pair due within the horizon, filed under its day, with the day it was drawn on.
        pairs_fit = self.n * self.k < np.iinfo(np.int32).max
        self.calendar = Calendar(self.days, np.int32 if pairs_fit else np.int64)
        # The last day each subject's pairs were all drawn again (SETUP - 1: never).
        day_dtype = np.int16 if self.days < np.iinfo(np.int16).max else np.int32
        self._redrawn_on = np.full(self.n, SETUP - 1, dtype=day_dtype)
        self._last_redraw = SETUP - 1
        # Response to the system [E3]: a per-subject multiplier on penalised behaviours (and
        # its inverse on rewarded ones); None when citizens do not respond.
        self.response = responses
        self.base = base
        self._scales = scales or {}
        self._initial = initial
        self._kernel_rates = self._rates_for_kernels()
        # Every pair's first draw, a behaviour at a time here (which keeps set-up memory
        # small), and the next one beside it on ``where``; filed in behaviour order.
        for k in range(0, self.k, 2):
            beside = where.submit(self._first, k + 1) if where and k + 1 < self.k else None
            self.calendar.file(*self._first(k), tag=SETUP)
            if k + 1 < self.k:
                self.calendar.file(*(beside.result() if beside else self._first(k + 1)), tag=SETUP)

    def _factor_table(
        self, response: ListedResponse, listed_factors: np.ndarray | None
    ) -> np.ndarray:
        """The multiplier by (listed state, behaviour), flat (``state * k + behaviour``): a
        row of ones for state 0, then the listed response by sign, or the factors given (a
        row for state 1, or the whole table)."""
        if listed_factors is None:
            row = np.where(self._positive == 1, response.positive, response.negative)
            return np.concatenate([np.ones(self.k), row])
        table = np.asarray(listed_factors, dtype=np.float64)
        if table.ndim == 1 and table.size == self.k:
            return np.concatenate([np.ones(self.k), table])
        if table.ndim != 2 or table.shape[1] != self.k or not (table[0] == 1.0).all():
            raise ValueError(
                f"listed_factors: a factor per behaviour ({self.k}), or a table of a row per "
                f"state by {self.k} behaviours whose first row (state 0) is all ones"
            )
        return table.ravel().copy()

    def _rates_for_kernels(self) -> compiled.Rates:
        """The rates' parts as the compiled kernels read them (views of the columns here)."""
        none = np.empty(0, dtype=np.float64)
        scaled = sorted(self._scales)
        return compiled.Rates(
            p=self.p,
            positive=self._positive,
            listed_factor=self._listed_factor,
            conduct=np.asarray(self._conduct, dtype=np.float64),
            ages=none if self._ages is None else self._ages,
            min_age=self._min_age,
            max_age=self._max_age,
            response=none if self.response is None else self.response,
            scale_k=np.array(scaled, dtype=np.int64),
            scales=tuple(self._scales[k] for k in scaled) or (none,),
        )

    def _first(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Behaviour ``k``'s first draw for every subject, sorted for the calendar: nobody is
        listed yet (but in its ``initial`` state, where given), so the rate is p_k times c or
        1/c (and the fixed factors)."""
        conduct = self._conduct
        factor = 1.0 / conduct if self._positive[k] else conduct
        rate = np.minimum(self.p[k] * factor, 1.0)
        if self._ages is not None:
            ages = self._ages
            rate *= (ages >= self._min_age[k]) & (ages <= self._max_age[k])
        if self.response is not None:
            factor = self.response
            rate = np.minimum(rate * (1.0 / factor if self._positive[k] else factor), 1.0)
        if k in self._scales:
            rate = rate * self._scales[k]
        if self._initial is not None:  # some subjects start in a state of their own
            rate = np.minimum(rate * self._listed_factor[self._initial * self.k + k], 1.0)
        subjects = np.arange(self.n, dtype=np.int64)
        key = self.streams.key(self._stream_names[k], SETUP)
        wait = _wait_days(key, None, subjects + self.base, rate)
        return self.calendar.sort(*self._due(SETUP, subjects * self.k + k, wait))

    def retune(
        self,
        day: int,
        behaviours: list[Behaviour],
        response: ListedResponse,
        listed: np.ndarray,
        listed_factors: np.ndarray | None = None,
    ) -> bool:
        """Take the rates and listed responses in force from ``day`` (a dated change, before
        the day's behaviour); returns whether any changed.

        If any did, every pair is drawn again as at set-up, a behaviour at a time, from the
        stream ``behaviour/<name>/changed`` at ``day``, and may occur from ``day`` on: by
        memorylessness this is the daily coin-flip process under the new rates. Draws made
        before are stale from then on. A change that moves no rate draws nothing.
        """
        p = np.array([b.p for b in behaviours], dtype=np.float64)
        factor = self._factor_table(response, listed_factors)
        if np.array_equal(p, self.p) and np.array_equal(factor, self._listed_factor):
            return False
        self.p = p
        with np.errstate(divide="ignore"):
            self._log_q = np.log1p(-np.minimum(self.p, 1.0))
        self._listed_factor = factor
        self.listing_matters = bool((factor[self.k :] != 1.0).any())
        self._constant = self._constant and not self.listing_matters
        self._kernel_rates = self._rates_for_kernels()  # views of the new p and table
        subjects = np.arange(self.n, dtype=np.int64)
        self._redrawn_on[:] = day
        self._last_redraw = day
        for k in range(self.k):
            rate = self.rates(subjects, np.full(self.n, k), listed)
            u = self.streams.uniform(f"{self._stream_names[k]}/changed", day, subjects + self.base)
            due, pairs = self._due(day - 1, subjects * self.k + k, _inverted(u, rate))
            self.calendar.add(due, pairs, tag=day)
        return True

    def rates(self, subject: np.ndarray, k: np.ndarray, listed: np.ndarray) -> np.ndarray:
        """Daily probability of behaviour ``k`` for ``subject``, given who is listed; the two
        broadcast together (pairs: equal lengths; every behaviour of some subjects: a column
        of subjects against every behaviour), and each subject's columns are read once."""
        c = self._conduct[subject]
        rate = self.p[k] * np.where(self._positive[k] == 1, 1.0 / c, c)
        rate *= self._listed_factor[listed[subject].astype(np.int64) * self.k + k]
        if self._ages is not None:
            age = self._ages[subject]
            rate *= (age >= self._min_age[k]) & (age <= self._max_age[k])
        if self.response is not None:
            factor = self.response[subject]
            rate *= np.where(self._positive[k] == 1, 1.0 / factor, factor)
        for scaled, scale in self._scales.items():
            here = k == scaled  # along the last axis of rate
            rate[..., here] *= scale[np.broadcast_to(subject, rate.shape)[..., here]]
        return np.minimum(rate, 1.0, out=rate)

    def _waits(self, drawn_on: int, pairs: np.ndarray, listed: np.ndarray) -> np.ndarray:
        """Days each pair waits for its next occurrence (after ``drawn_on``), drawn by
        inversion from its uniform at the pair's rate: NumPy's, which the compiled
        :meth:`next_filing` draws bit for bit."""
        citizen = pairs // self.k
        k = pairs - citizen * self.k
        keys = self.streams.keys(self._stream_names, drawn_on)
        if self._constant:  # a pair that occurs has its behaviour's one rate: no lookups
            return _wait_days(keys, k, citizen + self.base, self.p[k], self._log_q[k])
        return _wait_days(keys, k, citizen + self.base, self.rates(citizen, k, listed))

    def _due(
        self, drawn_on: int, pairs: np.ndarray, wait: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The day each pair next occurs and the pair, for those within the horizon."""
        soon = np.flatnonzero(wait < self.days - 1 - drawn_on)  # the others: never
        return ((drawn_on + 1) + wait[soon]).astype(np.int32), pairs[soon]

    def occurrences(self, day: int) -> np.ndarray:
        """The packed pairs that occur on ``day``, each once, in a deterministic order.

        An entry drawn before its subject's pairs were all drawn again is stale, and skipped.
        """
        pairs, sizes, tags = self.calendar.pop_filings(day)
        if tags.size and tags.min() < self._last_redraw:  # some may be stale
            if compiled.ON:  # one pass, without the per-entry days
                return compiled.fresh(pairs, sizes, tags, self._redrawn_on, self.k)
            drawn_on = np.repeat(tags, sizes)
            pairs = pairs[np.flatnonzero(self._redrawn_on[pairs // self.k] <= drawn_on)]
        return pairs.astype(np.int64, copy=False)

    def draw_ahead(
        self, day: int, occurred: np.ndarray, listed: np.ndarray, where: Executor
    ) -> None:
        """Start drawing, on ``where`` (the second core), the next occurrence of the pairs
        that occurred on ``day`` (sorted for the calendar, as :meth:`next_filing`), while the
        rest of the day runs; :meth:`reschedule` files them. A pair's draw reads its subject's
        rate, which the day changes only for the subjects it redraws whole (listed, released,
        or responding), whose drawn-ahead pairs are dropped: so the result is the draw made at
        the day's end. Call :meth:`drawn` before anything writes a rate the draws read
        (``listed``, the response factors)."""
        self._ahead = (day, occurred, where.submit(self.next_filing, day, occurred, listed))

    def drawn(self) -> None:
        """Wait for the draws started by :meth:`draw_ahead`, if any."""
        if self._ahead is not None:
            self._ahead[2].result()

    def next_filing(self, day: int, pairs: np.ndarray, listed: np.ndarray) -> Filing:
        """The next occurrence after ``day`` of ``pairs`` (those that occurred, or every pair
        of some subjects), drawn and sorted for the calendar: the pairs due within the
        horizon, day by day in their given order, and how many fall on each day. It changes
        nothing, so it may run on another thread; :meth:`file_next` files it. The compiled
        kernel draws, inverts and sorts in two passes; NumPy as :meth:`_waits` and the
        calendar's sort, bit for bit."""
        if compiled.ON:
            keys = self.streams.keys(self._stream_names, day)
            return compiled.filing(
                keys,
                pairs,
                self.k,
                self.base,
                listed,
                self._kernel_rates,
                self._log_q,
                self._constant,
                day,
                self.days,
                self.calendar.dtype,
            )
        return self.calendar.sort(*self._due(day, pairs, self._waits(day, pairs, listed)))

    def file_next(self, day: int, filing: Filing) -> None:
        """File what :meth:`next_filing` drew after ``day``."""
        self.calendar.file(*filing, tag=day)

    def reschedule(
        self, day: int, occurred: np.ndarray, changed: np.ndarray, listed: np.ndarray
    ) -> None:
        """Draw new next occurrences after ``day`` for the pairs that occurred and for every
        behaviour of the subjects whose probabilities changed (listing, or response).

        The pairs that occurred are filed first, without those of the subjects drawn again,
        then every pair of those subjects: each day's entries in the order one filing of the
        two together, sorted stably by day, would give."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == day and ahead[1] is occurred:
            filing = ahead[2].result()
        else:
            filing = self.next_filing(day, occurred, listed)
        if changed.size:
            changed = self._scratch.distinct(changed)
            self._redrawn_on[changed] = day
            self._last_redraw = day
            filing = self._without(filing, changed)
        self.file_next(day, filing)
        if changed.size:
            every = (changed[:, None] * self.k + np.arange(self.k)).ravel()
            self.file_next(day, self.next_filing(day, every, listed))

    def _without(self, filing: Filing, subjects: np.ndarray) -> Filing:
        """A filing without the pairs of ``subjects`` (distinct), still sorted by day."""
        ids, counts = filing
        keep = ~self._scratch.member(ids // self.k, subjects)
        if keep.all():
            return filing
        kept_before = np.concatenate([[0], np.cumsum(keep)])  # kept among the first j
        ends = kept_before[np.cumsum(counts)]
        return ids[np.flatnonzero(keep)], np.diff(ends, prepend=0)

    def __getstate__(self) -> dict[str, object]:
        """A schedule travels without draws in flight (there are none between days)."""
        state = self.__dict__.copy()
        state["_ahead"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state.setdefault("_ahead", None)  # a snapshot from before draws were made ahead
        self.__dict__.update(state)


def _wait_days(
    keys: np.ndarray | np.uint64,
    k: np.ndarray | None,
    ids: np.ndarray,
    rate: np.ndarray,
    log_q: np.ndarray | None = None,
) -> np.ndarray:
    """Days each pair waits, from the keyed uniform of (``keys[k[j]]``, ``ids[j]``) (``k``
    None: the one key) at daily probability ``rate[j]``: compiled, or NumPy's, bit for bit."""
    if compiled.ON:
        return compiled.waits(keys, k, ids, rate, log_q)
    u = Streams.uniform_keyed(keys if k is None else np.asarray(keys)[k], ids)
    return _inverted(u, rate, log_q)


def _inverted(u: np.ndarray, rate: np.ndarray, log_q: np.ndarray | None = None) -> np.ndarray:
    """Days to wait W with P(W >= w) = (1 - rate)^w, from uniforms ``u``: rate 1 waits 0, rate
    0 never comes (an infinite wait)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wait = np.floor(np.log(u) / (np.log1p(-rate) if log_q is None else log_q))
    wait[rate >= 1.0] = 0.0
    return wait
