"""A warm start: a city that starts in the middle of its lists' lives, in a state its own
process could have reached.

A scenario with ``warm_start = true`` (the steady cities, rongcheng and nation: the year 2018 of
a system running since 2013) opens each blacklist that lists for specific violations at the
steady state of its own process, subject by subject, and gives each opening listing the event
that made it:

- a subject's listing events come at the daily rate ``r_k`` of each of the list's violations
  ``k`` (the behaviour's rate for this subject, times its sensor's detection and the share
  serious enough to list); a listing lasts its term ``T_k`` unless the obligation is met first
  (daily rate ``m``). Looking back from day 0, the last listing event is ``A`` days ago with
  ``A`` exponential at rate ``r = sum r_k``, and the subject is still listed if ``A < T_k`` and the
  obligation was not met in the meantime: probability ``sum_k r_k (1 - exp(-(r + m) T_k)) /
  (r + m)``; given that, ``A`` is exponential at rate ``r + m`` truncated to ``[0, T_k)``
  (repeats and extensions are left out: they are rare at these rates); where only a share
  ``f`` of listings carry a term (``termed_share``), a listing without one lasts until the
  obligation is met: each violation is two ways to be listed, with rates ``f r_k`` (term
  ``T_k``) and ``(1 - f) r_k`` (no term: ``T`` infinite);
- each opening member's listing event is written to the ledger on its day (before day 0), and
  counts, from the start, under every scheme that receives that behaviour and covers the
  subject: the judgment that lists a debtor also costs its points where it is counted.

Draws are keyed by subject on day ``SETUP``, stream ``opening/<operator>/<list>``, so a block of
a split run draws what the whole city draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xinyong.model.sensors import Events
from xinyong.primitives.streams import SETUP, Streams

if TYPE_CHECKING:
    from xinyong.model.behaviour import Behaviours
    from xinyong.model.operators import OperatorState
    from xinyong.model.sensors import Sensors

__all__ = ["Trace", "termed_share_holding", "warm_start"]


@dataclass(frozen=True)
class Trace:
    """The events that made the opening listings, as one operator received them.

    Attributes:
        operator: the operator's index.
        day: each event's day (before day 0).
        events: the events (true ones: the actor is the subject).
        points: each event's points under the operator's scheme.
    """

    operator: int
    day: np.ndarray
    events: Events
    points: np.ndarray


def warm_start(
    operators: list[OperatorState],
    kind: str,
    behaviours: Behaviours,
    sensors: Sensors,
    behaviour_index: list[int],
    streams: Streams,
    base: int,
) -> list[Trace]:
    """Open every violation-triggered blacklist of the operators of one kind of subject at its
    steady state, count each opening listing's event under every scheme that receives it, and
    return those events for the ledger.

    Args:
        operators: every operator of the city (those of other kinds are passed over).
        kind: the kind of subject (``citizen`` or ``company``).
        behaviours: that kind's behaviour schedule (its rates at day 0).
        sensors: that kind's sensors (their detection rates).
        behaviour_index: each of the kind's behaviours' index in the scenario.
        streams: the run's random streams.
        base: the city-wide id of subject 0 here.
    """
    mine = [op for op in operators if op.subject == kind]
    local = {g: i for i, g in enumerate(behaviour_index)}
    n = behaviours.n
    subjects = np.arange(n, dtype=np.int64)
    nobody = np.zeros(n, dtype=bool)
    traces: list[Trace] = []
    opened_subject, opened_k, opened_day = [], [], []
    for op in mine:
        for i, lst in enumerate(op.lists.lists):
            triggers = [int(k) for k in np.flatnonzero(lst.term > 0) if int(k) in local]
            if not lst.black or not triggers:
                continue
            rates = np.stack(
                [
                    behaviours.rates(subjects, np.full(n, local[k]), nobody)
                    * sensors.detect[local[k]]
                    * lst.serious[k]
                    for k in triggers
                ]
            )  # (violations x subjects): listing events a day
            if op.covered is not None:
                rates *= op.covered
            term = np.array([min(int(lst.term[k]), lst.max_term) for k in triggers], dtype=float)
            kinds = np.array(triggers, dtype=np.int64)
            termed = np.ones(len(triggers), dtype=bool)
            if lst.termed < 1.0:  # listed with the term, and without one
                f = lst.termed
                rates = np.concatenate([rates * f, rates * (1.0 - f)])
                term = np.concatenate([term, np.full(len(triggers), np.inf)])
                kinds, termed = np.tile(kinds, 2), np.repeat([True, False], len(triggers))
            met = -np.log1p(-lst.met_rate) if lst.met_rate > 0 else 0.0
            total = rates.sum(axis=0) + met
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                held = rates * -np.expm1(-np.outer(term, total)) / total  # per violation
            held = np.nan_to_num(held)
            chance = held.sum(axis=0)
            name = f"opening/{op.name}/{lst.spec.name}"
            ids = subjects + base
            who = np.flatnonzero(streams.uniform(name, SETUP, ids) < chance)
            if who.size == 0:
                continue
            # Which violation listed each: in proportion to its share of the chance.
            cut = np.cumsum(held[:, who], axis=0) / chance[who]
            pick = (streams.uniform(f"{name}/violation", SETUP, who + base) > cut).sum(axis=0)
            pick = np.minimum(pick, len(kinds) - 1)
            k = kinds[pick]
            t, rate = term[pick], total[who]
            v = streams.uniform(f"{name}/age", SETUP, who + base)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                age = np.where(rate > 0, -np.log1p(v * np.expm1(-rate * t)) / rate, v * t)
            since = -(np.minimum(np.floor(age), t - 1).astype(np.int64) + 1)
            has_term = None if termed.all() else termed[pick]
            for book in (op.lists, op.cf_lists):  # the same stock: it is no error
                book.open_members(i, who, since, k, f"{name}/obligation", has_term)
            opened_subject.append(who)
            opened_k.append(k)
            opened_day.append(since)
    if not opened_subject:
        return traces
    who, k, day = (np.concatenate(a) for a in (opened_subject, opened_k, opened_day))
    for op in mine:  # the listing judgment counts wherever it is received and covered
        takes = op.takes(k, who)
        if not takes.any():
            continue
        at = np.flatnonzero(takes)
        events = Events(
            who[at] + base,
            who[at] + base,
            k[at].astype(np.int16),
            np.zeros(at.size, dtype=bool),
            np.zeros(at.size, dtype=bool),
        )
        op.count_before(who[at], k[at])
        traces.append(Trace(op.index, day[at], events, op.points[k[at]]))
    return traces


def termed_share_holding(stock_per_inflow: float, met_per_year: float, term_years: float) -> float:
    """The share of listings that carry a term with which a list that holds still holds
    ``stock_per_inflow`` years of its inflow: the steady state above, with one violation.

    A listing without a term lasts until the obligation is met (rate ``m``: ``1/m`` years on
    average); one with a term ``T`` lasts ``(1 - exp(-m T)) / m``. A share ``f`` of termed
    listings holds ``R = (1 - f exp(-m T)) / m`` years of inflow, so ``f = (1 - m R) exp(m T)``
    (repeats and extensions left out, as above).

    >>> round(termed_share_holding(2.0, 0.25, 2.0), 4)
    0.8244

    Raises:
        ValueError: no share in [0, 1] holds that stock (it needs listings longer than the
            obligation allows, or shorter than the term).
    """
    m, r, t = met_per_year, stock_per_inflow, term_years
    f = (1.0 - m * r) * float(np.exp(m * t))
    if not 0.0 <= f <= 1.0:
        raise ValueError(
            f"no termed share holds {r:g} years of inflow at {m:g} a year meeting their "
            f"obligation and a term of {t:g} years (it would be {f:.3g})"
        )
    return f
