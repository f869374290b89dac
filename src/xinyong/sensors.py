"""Sensors: which occurrences are recorded, and against whom.

Cameras, collectors, banks and courts are not identification systems here: each is a detection
probability and a misidentification probability over synthetic citizens. A detected occurrence
becomes an event; a misidentified event is attributed to another citizen drawn uniformly from
all the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xinyong.scenario import Scenario
from xinyong.streams import Streams

__all__ = ["Events", "Sensors"]


@dataclass(frozen=True, slots=True)
class Events:
    """The events recorded on one day, one entry per event.

    Attributes:
        actor: who did it.
        subject: whom it is attributed to (the actor, unless misattributed).
        behaviour: behaviour index in the scenario.
        misattributed: whether subject differs from actor because of a sensor error.
    """

    actor: np.ndarray
    subject: np.ndarray
    behaviour: np.ndarray
    misattributed: np.ndarray

    def __len__(self) -> int:
        return int(self.actor.size)

    def where(self, mask: np.ndarray) -> Events:
        """The events selected by a boolean mask."""
        return Events(self.actor[mask], self.subject[mask], self.behaviour[mask],
                      self.misattributed[mask])


class Sensors:
    """Every behaviour's sensor, as its detection and misidentification probabilities.

    Args:
        scenario: the city's sensors and which behaviour each observes.
        population: the number of citizens (misattribution picks among them).
        streams: the run's random streams.
    """

    def __init__(self, scenario: Scenario, population: int, streams: Streams) -> None:
        self.names = list(scenario.sensors)
        self.n = population
        self.streams = streams
        behaviours = scenario.behaviours
        self.k = len(behaviours)
        self.sensor_of = np.array([self.names.index(b.sensor) for b in behaviours],
                                  dtype=np.int16)
        self.detect = np.array([scenario.sensors[b.sensor].detect for b in behaviours])
        self.misidentify = np.array([scenario.sensors[b.sensor].misidentify for b in behaviours])
        self._streams = {
            step: [f"{step}/{b.name}" for b in behaviours]
            for step in ("detect", "misidentify", "attribute")
        }

    def _uniform(self, step: str, day: int, k: np.ndarray, citizen: np.ndarray) -> np.ndarray:
        keys = self.streams.keys(self._streams[step], day)
        return Streams.uniform_keyed(keys[k], citizen)

    def observe(self, day: int, pairs: np.ndarray) -> Events:
        """Record the occurrences of ``day``, given as packed ``citizen * K + behaviour`` pairs."""
        actor = pairs // self.k
        k = pairs - actor * self.k
        detected = self._uniform("detect", day, k, actor) < self.detect[k]
        actor, k = actor[detected], k[detected]
        wrong = self._uniform("misidentify", day, k, actor) < self.misidentify[k]
        wrong &= self.n > 1  # nobody else to blame in a city of one
        subject = actor.copy()
        if wrong.any():
            others = self.n - 1
            u = self._uniform("attribute", day, k[wrong], actor[wrong])
            offset = 1 + np.minimum((u * others).astype(np.int64), others - 1)
            subject[wrong] = (actor[wrong] + offset) % self.n
        return Events(actor, subject, k.astype(np.int16), wrong)
