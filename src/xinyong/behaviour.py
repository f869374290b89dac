"""Behaviour: who does what each day.

Each citizen ``i`` does behaviour ``k`` on a day with probability ``p_k * c_i`` (negative points)
or ``p_k / c_i`` (positive points), scaled by the listed response while listed, capped at 1.
While that probability stays the same, the days between occurrences are geometric, so instead
of a coin per citizen, behaviour and day we keep, for every (citizen, behaviour) pair, the day
of its next occurrence, drawn by inversion from one uniform. A pair is drawn again only when it
occurs or when the citizen's probability changes (listed or released); by memorylessness this
is exactly the daily coin-flip process, at a cost proportional to the events.

Pairs are packed as ``citizen * K + behaviour``. The draw for a pair made at the end of day
``t`` uses the stream ``behaviour/<name>`` at day ``t`` and address ``citizen``.
"""

from __future__ import annotations

import numpy as np

from xinyong.calendar import Calendar
from xinyong.scenario import Scenario
from xinyong.scratch import Scratch
from xinyong.streams import SETUP, Streams

__all__ = ["Behaviours"]


class Behaviours:
    """The schedule of every citizen's next occurrence of every behaviour.

    Args:
        scenario: the city's behaviours and listed response.
        conduct: each citizen's conduct factor (1 = average; higher does more harm, less good).
        streams: the run's random streams.
        scratch: scratch columns over citizens, shared with the other phases of the day.
    """

    def __init__(self, scenario: Scenario, conduct: np.ndarray, streams: Streams,
                 scratch: Scratch) -> None:
        self.names = [b.name for b in scenario.behaviours]
        self.k = len(self.names)
        self.n = conduct.size
        self.days = scenario.days
        self.streams = streams
        self._scratch = scratch
        self._stream_names = [f"behaviour/{name}" for name in self.names]
        self.p = np.array([b.p for b in scenario.behaviours], dtype=np.float64)
        # Flat lookup tables, so a pair's rate is two gathers and no branches:
        # conduct factor by (citizen, sign): c for penalised behaviours, 1/c for rewarded ones;
        # multiplier by (listed, behaviour): 1 when not listed, the listed response when listed.
        self._positive = np.array([b.points > 0 for b in scenario.behaviours], dtype=np.int64)
        self._conduct_factor = np.column_stack([conduct, 1.0 / conduct]).ravel()
        response = scenario.listed_response
        listed_factor = np.where(self._positive == 1, response.positive, response.negative)
        self._listed_factor = np.concatenate([np.ones(self.k), listed_factor])
        # Day of each pair's next occurrence; "never" is any day at or past the horizon.
        dtype = np.int16 if self.days < np.iinfo(np.int16).max else np.int32
        self._never = np.iinfo(dtype).max
        self.next_day = np.full(self.n * self.k, self._never, dtype=dtype)
        self.calendar = Calendar(self.days)
        self._redrawn = np.zeros(self.n, dtype=bool)  # ever drawn again on a listing change
        citizens = np.arange(self.n, dtype=np.int64)
        conduct_factor = self._conduct_factor.reshape(self.n, 2)
        for k in range(self.k):  # one behaviour at a time keeps set-up memory small
            # Nobody is listed yet: the rate is p_k times c or 1/c.
            rate = np.minimum(self.p[k] * conduct_factor[:, self._positive[k]], 1.0)
            u = self.streams.uniform(self._stream_names[k], SETUP, citizens)
            self._file(SETUP, citizens * self.k + k, u, rate)

    def rates(self, pairs: np.ndarray, listed: np.ndarray) -> np.ndarray:
        """Daily probability of each packed (citizen, behaviour) pair, given who is listed."""
        citizen = pairs // self.k
        k = pairs - citizen * self.k
        rate = self.p[k]
        rate *= self._conduct_factor[2 * citizen + self._positive[k]]
        rate *= self._listed_factor[listed[citizen] * self.k + k]
        return np.minimum(rate, 1.0, out=rate)

    def _schedule(self, drawn_on: int, pairs: np.ndarray, listed: np.ndarray) -> None:
        """Draw the next occurrence (on or after ``drawn_on + 1``) of each pair and file it."""
        citizen = pairs // self.k
        keys = self.streams.keys(self._stream_names, drawn_on)
        u = Streams.uniform_keyed(keys[pairs - citizen * self.k], citizen)
        self._file(drawn_on, pairs, u, self.rates(pairs, listed))

    def _file(self, drawn_on: int, pairs: np.ndarray, u: np.ndarray, rate: np.ndarray) -> None:
        """Turn uniforms into next-occurrence days by inversion, and file them."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # Days to wait W with P(W >= w) = (1 - rate)^w; rate 1 waits 0, rate 0 never comes.
            wait = np.floor(np.log(u) / np.log1p(-rate))
        wait[rate >= 1.0] = 0.0
        when = (drawn_on + 1) + wait
        when = np.where(when < self.days, when, self._never).astype(self.next_day.dtype)
        self.next_day[pairs] = when
        self.calendar.add(when, pairs)

    def occurrences(self, day: int) -> np.ndarray:
        """The packed pairs that occur on ``day``, each once, in a deterministic order.

        A stale entry (one whose pair was drawn again since) is skipped. A pair drawn again
        because its citizen's listing changed can, after several such draws, come back to a day
        it was filed under before; only such citizens' pairs are checked for repeats.
        """
        due = self.calendar.pop(day)
        due = due[self.next_day[due] == day]
        suspect = self._redrawn[due // self.k]
        if suspect.any():
            due = np.concatenate([due[~suspect], np.unique(due[suspect])])
        return due

    def reschedule(self, day: int, occurred: np.ndarray, changed: np.ndarray,
                   listed: np.ndarray) -> None:
        """Draw new next occurrences after ``day`` for the pairs that occurred and for every
        behaviour of the citizens whose listing changed (their probabilities did)."""
        if changed.size:
            self._redrawn[changed] = True
            occurred = occurred[~self._scratch.member(occurred // self.k, changed)]
            every = (changed[:, None] * self.k + np.arange(self.k)).ravel()
            occurred = np.concatenate([occurred, every])
        if occurred.size:
            self._schedule(day, occurred, listed)
