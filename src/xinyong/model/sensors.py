"""Sensors: which occurrences are recorded, and against whom.

Cameras, collectors, banks and courts are not identification systems here: each is a detection
probability and a misidentification probability over synthetic subjects [D1-D5]. Cameras may
cover districts unevenly, and a collector sees only the neighbourhood it watches. A detected
occurrence becomes an event; a misidentified event is attributed to another subject of the same
kind drawn uniformly from all the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, Sensor

__all__ = ["Events", "Placement", "Sensors"]


@dataclass(frozen=True, slots=True)
class Events:
    """The events recorded on one day, one entry per event.

    Attributes:
        actor: who did it (-1 for a false report: nobody did it).
        subject: whom it is attributed to (the actor, unless misattributed or false).
        behaviour: behaviour index in the scenario.
        misattributed: whether subject differs from actor because of a sensor error.
        fabricated: whether the event is a false report (a collector behind its quota).
        submitted: whether the event was submitted from outside (the live city's API);
            None when none was.
    """

    actor: np.ndarray
    subject: np.ndarray
    behaviour: np.ndarray
    misattributed: np.ndarray
    fabricated: np.ndarray
    submitted: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.actor.size)

    def where(self, mask: np.ndarray) -> Events:
        """The events selected by a boolean mask."""
        at = np.flatnonzero(mask)  # then gathers: a mask indexing each column is 5x slower
        return Events(
            self.actor[at],
            self.subject[at],
            self.behaviour[at],
            self.misattributed[at],
            self.fabricated[at],
            None if self.submitted is None else self.submitted[at],
        )

    def local(self, base: int) -> Events:
        """The same events with ids counted from ``base`` (a block's first subject); a false
        report's actor code (negative) is kept. Only a correct event's actor is then sure to
        be one of the block's own."""
        if base == 0:
            return self
        return Events(
            np.where(self.actor >= 0, self.actor - base, self.actor),
            self.subject - base,
            self.behaviour,
            self.misattributed,
            self.fabricated,
            self.submitted,
        )

    def correct(self) -> np.ndarray:
        """Which events name the subject who really did it."""
        return ~(self.misattributed | self.fabricated)

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        """One day's events from several sources, in the order given."""
        if len(parts) == 1:
            return parts[0]
        actor, subject, behaviour, misattributed, fabricated = (
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("actor", "subject", "behaviour", "misattributed", "fabricated")
        )
        submitted = None
        if any(p.submitted is not None for p in parts):
            submitted = np.concatenate(
                [
                    np.zeros(len(p), dtype=bool) if p.submitted is None else p.submitted
                    for p in parts
                ]
            )
        return Events(actor, subject, behaviour, misattributed, fabricated, submitted)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where citizens live, for sensors whose coverage depends on place.

    Attributes:
        district: each citizen's district.
        neighbourhood: each citizen's neighbourhood.
        watched: per collector sensor, whether a collector watches each neighbourhood.
    """

    district: np.ndarray
    neighbourhood: np.ndarray
    watched: dict[str, np.ndarray]


class Sensors:
    """The sensors observing one kind of subject's behaviours.

    Args:
        behaviours: the behaviours of this kind of subject, in local order.
        behaviour_index: each behaviour's index in the scenario (stored in events).
        sensors: every sensor of the scenario, by name, in scenario order.
        population: the number of subjects in the whole city (misattribution picks among
            them).
        streams: the run's random streams.
        placement: where the observed subjects live, for district coverage and collectors.
        base: the id of the first observed subject (a block's); pairs count from it.
    """

    def __init__(
        self,
        behaviours: list[Behaviour],
        behaviour_index: list[int],
        sensors: dict[str, Sensor],
        population: int,
        streams: Streams,
        placement: Placement | None = None,
        base: int = 0,
    ) -> None:
        self.names = list(sensors)
        self.n = population
        self.base = base
        self.streams = streams
        self.k = len(behaviours)
        self._global = np.array(behaviour_index, dtype=np.int16)
        self.sensor_of = np.array([self.names.index(b.sensor) for b in behaviours], dtype=np.int16)
        self.detect = np.array([sensors[b.sensor].detect for b in behaviours])
        self.misidentify = np.array([sensors[b.sensor].misidentify for b in behaviours])
        self._streams = {
            step: [f"{step}/{b.name}" for b in behaviours]
            for step in ("detect", "misidentify", "attribute")
        }
        # Where coverage varies: a (behaviour x district) detection factor, and which
        # behaviours are seen only in watched neighbourhoods.
        self._placement = placement
        self._by_district = None
        self._watchers: list[tuple[np.ndarray, np.ndarray]] = []
        if placement is not None:
            # Every district the coverage lists name, or that a subject here lives in.
            districts = max(
                [int(placement.district.max()) + 1 if placement.district.size else 1]
                + [len(s.coverage) for s in sensors.values() if s.coverage]
            )
            self._by_district = np.array(
                [sensors[b.sensor].coverage or [1.0] * districts for b in behaviours]
            )
            for name, watched in placement.watched.items():
                mine = np.array([b.sensor == name for b in behaviours], dtype=bool)
                if mine.any():
                    self._watchers.append((mine, watched))

    def count(self, pairs: np.ndarray, into: np.ndarray) -> None:
        """Add the number of packed ``subject * K + behaviour`` pairs of each behaviour to
        ``into``, a count per scenario behaviour."""
        into[self._global] += np.bincount(pairs % self.k, minlength=self.k)

    def _uniform(self, step: str, day: int, k: np.ndarray, subject: np.ndarray) -> np.ndarray:
        keys = self.streams.keys(self._streams[step], day)
        return Streams.uniform_at(keys, k, subject)

    def observe(self, day: int, pairs: np.ndarray) -> Events:
        """Record the occurrences of ``day``, given as packed ``subject * K + behaviour`` pairs
        (subjects counted from ``base``); the events name subjects by their city-wide ids."""
        here = pairs // self.k
        k = pairs - here * self.k
        chance = self.detect[k]
        if self._placement is not None and self._by_district is not None:
            chance = chance * self._by_district[k, self._placement.district[here]]
            for mine, watched in self._watchers:  # collectors see only their neighbourhoods
                unseen = mine[k] & ~watched[self._placement.neighbourhood[here]]
                chance[unseen] = 0.0
        actor = here + self.base
        keys = self.streams.keys(self._streams["detect"], day)
        detected = Streams.below(keys, k, actor, chance)
        actor, k = actor[detected], k[detected]
        wrong = self._uniform("misidentify", day, k, actor) < self.misidentify[k]
        wrong &= self.n > 1  # nobody else to blame in a city of one
        subject = actor.copy()
        if wrong.any():
            others = self.n - 1
            u = self._uniform("attribute", day, k[wrong], actor[wrong])
            offset = 1 + np.minimum((u * others).astype(np.int64), others - 1)
            subject[wrong] = (actor[wrong] + offset) % self.n
        return Events(actor, subject, self._global[k], wrong, np.zeros(actor.size, dtype=bool))


def withdrawn_mask(events: Events, keys: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Which of a day's recorded events were withdrawn on appeal.

    Args:
        events: the day's recorded events, in the order the ledger stores them.
        keys: one ``(subject, actor, behaviour, nth)`` per withdrawn event: the ``nth`` (from
            0) of the day's events with that subject, actor and behaviour.
    """
    mask = np.zeros(len(events), dtype=bool)
    for subject, actor, behaviour, nth in keys:
        same = np.flatnonzero(
            (events.subject == subject) & (events.actor == actor) & (events.behaviour == behaviour)
        )
        if nth < same.size:
            mask[same[nth]] = True
    return mask
