"""Information collectors: residents paid to log their neighbours' deeds, with quotas [000, 003].

A collector watches one neighbourhood. Its true reports come through its sensor like any other
observation (:mod:`xinyong.model.sensors` sees only watched neighbourhoods). What this module
adds is the quota: each collector is expected to file ``quota`` reports per period, and one
that is behind the pace files false reports — an event nobody did, against a resident of its
neighbourhood — at a higher daily rate. False reports are marked ``fabricated`` in the ledger,
with actor ``-1 - neighbourhood`` (no citizen did it; that neighbourhood's collector filed it),
and never reach the counterfactual.
"""

from __future__ import annotations

import numpy as np

from xinyong.model.sensors import Events
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import Collectors as CollectorSpec

__all__ = ["CollectorNetwork"]


class CollectorNetwork:
    """The collectors behind one collector sensor.

    Args:
        sensor: the sensor's name (for stream names).
        spec: coverage, quota and false-report rates.
        neighbourhood: each citizen's neighbourhood.
        behaviours: scenario indices of the penalised citizen behaviours this sensor observes
            (what a false report can claim).
        streams: the run's random streams.
        base: the city-wide id of the first citizen in ``neighbourhood`` (a block's).
    """

    def __init__(
        self,
        sensor: str,
        spec: CollectorSpec,
        neighbourhood: np.ndarray,
        behaviours: list[int],
        streams: Streams,
        base: int = 0,
    ) -> None:
        self.sensor = sensor
        self.spec = spec
        self.streams = streams
        self._behaviours = np.array(behaviours, dtype=np.int16)
        self._neighbourhood = neighbourhood
        self.base = base
        areas = int(neighbourhood.max()) + 1 if neighbourhood.size else 0
        ids = np.arange(areas)
        self.watched = streams.uniform(f"collectors/{sensor}/watched", SETUP, ids) < spec.coverage
        mine = np.zeros(areas, dtype=bool)
        mine[np.unique(neighbourhood)] = True
        self._beats = np.flatnonzero(self.watched & mine)
        # Residents grouped by neighbourhood, to pick the target of a false report.
        self._residents = np.argsort(neighbourhood, kind="stable").astype(np.int32)
        self._first = np.searchsorted(neighbourhood[self._residents], ids)
        self._size = np.bincount(neighbourhood, minlength=areas)
        self.filed = np.zeros(areas, dtype=np.int64)  # reports this period, per neighbourhood
        self.false_reports = 0

    def credit(self, events: Events, sensor_of_behaviour: np.ndarray, sensor: int) -> None:
        """Count today's true reports of this sensor toward each collector's quota."""
        mine = (sensor_of_behaviour[events.behaviour] == sensor) & ~events.fabricated
        if mine.any():
            self.filed += np.bincount(
                self._neighbourhood[events.actor[mine] - self.base], minlength=self.filed.size
            )

    def fabricate(self, day: int) -> Events:
        """Today's false reports (call after :meth:`credit`, before the period rolls over)."""
        spec, beats = self.spec, self._beats
        period_day = day % spec.period_days
        expected = spec.quota * (period_day + 1) / spec.period_days
        behind = self.filed[beats] < expected
        rate = np.where(behind, spec.behind_false_report_rate, spec.false_report_rate)
        u = self.streams.uniform(f"collectors/{self.sensor}/false-report", day, beats)
        file = beats[(u < rate) & (self._size[beats] > 0)]
        if self._behaviours.size == 0:
            file = file[:0]
        self.filed[file] += 1
        self.false_reports += file.size
        if period_day == spec.period_days - 1:
            self.filed[:] = 0  # a new period starts tomorrow
        if file.size == 0:
            return _no_events()
        pick = self.streams.index(
            f"collectors/{self.sensor}/claim", day, file, self._behaviours.size
        )
        u = self.streams.uniform(f"collectors/{self.sensor}/target", day, file)
        whom = np.minimum((u * self._size[file]).astype(np.int64), self._size[file] - 1)
        subject = self._residents[self._first[file] + whom] + self.base
        n = file.size
        return Events(
            -1 - file.astype(np.int64),
            subject.astype(np.int64),
            self._behaviours[pick],
            np.zeros(n, dtype=bool),
            np.ones(n, dtype=bool),
        )


def _no_events() -> Events:
    empty = np.empty(0, dtype=np.int64)
    return Events(
        empty, empty, np.empty(0, dtype=np.int16), np.empty(0, dtype=bool), np.empty(0, dtype=bool)
    )
