"""The city: one simulated day after another, in the order the scheme runs.

Each day reads top to bottom as the phases of the reference rules:

    behaviour → observation → ledger → scoring and listing → counterfactual → response

State is columns of NumPy arrays, and each phase costs O(events of the day).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from xinyong.behaviour import Behaviours
from xinyong.ledger import LedgerWriter
from xinyong.population import conduct_factors
from xinyong.scenario import Scenario
from xinyong.scratch import Scratch
from xinyong.sensors import Events, Sensors
from xinyong.standing import REASONS, ListingChanges, Standing
from xinyong.store import RunStore
from xinyong.streams import Streams

__all__ = ["CHANGES", "City"]

#: Kinds of change to a list, as logged.
CHANGES = {0: "listed", 1: "relisted", 2: "released"}
_LISTED, _RELISTED, _RELEASED = 0, 1, 2


class City:
    """A simulated city under one scenario and seed.

    Args:
        scenario: the rules and sizes.
        seed: the seed of every random stream.
        store: where the ledger, lists and series are written.
    """

    def __init__(self, scenario: Scenario, seed: int, store: RunStore) -> None:
        self.scenario = scenario
        self.seed = seed
        self.store = store
        self.n = scenario.citizens
        self.day = 0
        self.streams = Streams(seed)
        self.scratch = Scratch(self.n)
        self.conduct = conduct_factors(scenario, self.streams)
        self.behaviours = Behaviours(scenario, self.conduct, self.streams, self.scratch)
        self.sensors = Sensors(scenario, self.n, self.streams)
        self.standing = Standing(scenario, self.n, self.scratch)
        # The counterfactual is scored on a second core, so it has scratch columns of its own.
        self.counterfactual = Standing(scenario, self.n, Scratch(self.n))
        self._second_core = ThreadPoolExecutor(max_workers=1, thread_name_prefix="counterfactual")
        self.points = np.array([b.points for b in scenario.behaviours], dtype=np.int64)
        self.severe = np.array([b.severe for b in scenario.behaviours], dtype=bool)
        self.ledger = LedgerWriter(store, self.points, self.sensors.sensor_of)
        self.totals = {"occurred": 0, "recorded": 0, "misattributed": 0}
        self.wrongly_listed = 0
        self._daily: list[dict[str, Any]] = []
        self._listings: list[tuple[int, bool, int, np.ndarray, np.ndarray]] = []

    def step(self) -> None:
        """Simulate one day."""
        day = self.day
        occurred = self.behaviours.occurrences(day)  # 1. behaviour
        events = self.sensors.observe(day, occurred)  # 2. observation
        self.ledger.append(day, events)
        points, severe = self.points[events.behaviour], self.severe[events.behaviour]
        right = ~events.misattributed  # 5. counterfactual: correctly attributed events only,
        counterfactual = self._second_core.submit(  # scored alongside the real standing
            self.counterfactual.apply, day, events.actor[right], points[right], severe[right])
        changes = self.standing.apply(day, events.subject, points, severe)  # 3-4. score, list
        cf_changes = counterfactual.result()
        # Listed citizens behave differently from tomorrow.
        self.behaviours.reschedule(day, occurred, changes.toggled(), self.standing.listed)
        self._count(day, occurred, events, changes, cf_changes)
        self.day += 1

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Simulate every remaining day, calling ``progress(day)`` after each."""
        while self.day < self.scenario.days:
            self.step()
            if progress:
                progress(self.day)
        self.standing.finish(self.day - 1)
        self.counterfactual.finish(self.day - 1)
        self.ledger.close()
        self._second_core.shutdown()

    def _count(self, day: int, occurred: np.ndarray, events: Events, changes: ListingChanges,
               cf_changes: ListingChanges) -> None:
        """Keep the totals, the wrongly listed count, the listings log and the daily row."""
        n_mis = int(events.misattributed.sum())
        self.totals["occurred"] += occurred.size
        self.totals["recorded"] += len(events)
        self.totals["misattributed"] += n_mis
        self._update_wrongly_listed(changes.toggled(), cf_changes.toggled())
        for cf, ch in ((False, changes), (True, cf_changes)):
            self._log_listings(day, cf, ch)

        real = self.standing
        row: dict[str, Any] = {
            "day": day,
            "mean_score": real.score_sum / self.n,
            "listed": int(real.grade_counts[-1]),
            "ever_listed": real.ever_listed_count,
            "wrongly_listed": self.wrongly_listed,
            "counterfactual_listed": int(self.counterfactual.grade_counts[-1]),
            "occurred": int(occurred.size),
            "recorded": len(events),
            "misattributed": n_mis,
        }
        for name, count in zip(real.grade_names, real.grade_counts, strict=True):
            row[f"share_{name}"] = count / self.n
        by_sensor = np.bincount(self.sensors.sensor_of[events.behaviour],
                                minlength=len(self.sensors.names))
        for name, count in zip(self.sensors.names, by_sensor, strict=True):
            row[f"recorded_{name}"] = int(count)
        self._daily.append(row)

    def _update_wrongly_listed(self, real_flip: np.ndarray, cf_flip: np.ndarray) -> None:
        """Citizens listed now whose counterfactual is not, updated from today's flips only."""
        if real_flip.size == 0 and cf_flip.size == 0:
            return
        who = self.scratch.distinct(np.concatenate([real_flip, cf_flip]))
        listed, cf_listed = self.standing.listed[who], self.counterfactual.listed[who]
        was_listed = listed ^ self.scratch.member(who, real_flip)
        was_cf_listed = cf_listed ^ self.scratch.member(who, cf_flip)
        before = was_listed & ~was_cf_listed
        self.wrongly_listed += int((listed & ~cf_listed).sum()) - int(before.sum())

    def _log_listings(self, day: int, counterfactual: bool, ch: ListingChanges) -> None:
        for change, who, reason in ((_LISTED, ch.listed, ch.reason_listed),
                                    (_RELISTED, ch.relisted, ch.reason_relisted),
                                    (_RELEASED, ch.released, np.zeros(ch.released.size, np.int8))):
            if who.size:
                self._listings.append((day, counterfactual, change, who, reason))

    def daily(self) -> pd.DataFrame:
        """The daily series so far, one row a day."""
        return pd.DataFrame(self._daily)

    def listings(self) -> pd.DataFrame:
        """Every change to the lists so far: day, citizen, counterfactual, change, reason."""
        parts = self._listings
        changes = np.array([*list(CHANGES.values()), "?"])
        reasons = np.array([None, *REASONS.values()], dtype=object)
        return pd.DataFrame({
            "day": np.concatenate([np.full(p[3].size, p[0], np.int32) for p in parts]
                                  or [np.empty(0, np.int32)]),
            "citizen": np.concatenate([p[3] for p in parts] or [np.empty(0)]).astype(np.int32),
            "counterfactual": np.concatenate([np.full(p[3].size, p[1]) for p in parts]
                                             or [np.empty(0, bool)]),
            "change": changes[np.concatenate([np.full(p[3].size, p[2], np.int8) for p in parts]
                                             or [np.empty(0, np.int8)])],
            "reason": reasons[np.concatenate([p[4] for p in parts]
                                             or [np.empty(0, np.int8)])],
        })

    def citizens(self) -> pd.DataFrame:
        """Each citizen's standing now, real and counterfactual."""
        real, cf = self.standing, self.counterfactual
        names = np.array(real.grade_names)
        return pd.DataFrame({
            "citizen": np.arange(self.n, dtype=np.int32),
            "conduct": self.conduct,
            "score": real.score,
            "grade": pd.Categorical(names[real.grades()], categories=real.grade_names),
            "listed": real.listed,
            "listing_day": real.listing_day,
            "ever_listed": real.ever_listed,
            "counterfactual_score": cf.score,
            "counterfactual_grade": pd.Categorical(names[cf.grades()],
                                                   categories=real.grade_names),
            "counterfactual_listed": cf.listed,
        })

    def summary(self) -> dict[str, Any]:
        """The spec's summary figures for the days simulated so far."""
        real, n = self.standing, self.n
        wrongly = int((real.listed & ~self.counterfactual.listed).sum())
        return {
            "scenario": self.scenario.name,
            "citizens": n,
            "days": self.day,
            "seed": self.seed,
            "mean_score": real.score_sum / n,
            "grade_shares": {g: int(c) / n for g, c in zip(real.grade_names, real.grade_counts,
                                                           strict=True)},
            "listed_share": int(real.listed.sum()) / n,
            "ever_listed_share": int(real.ever_listed.sum()) / n,
            "events_occurred": self.totals["occurred"],
            "events_recorded": self.totals["recorded"],
            "events_misattributed": self.totals["misattributed"],
            "wrongly_listed": wrongly,
            "counterfactual_listed_share": int(self.counterfactual.listed.sum()) / n,
        }
