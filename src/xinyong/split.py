"""Split runs: one city simulated as blocks of citizens, with the same results as one piece.

Every random draw is addressed by (seed, stream, day, citizen), so a block draws exactly what the
whole city draws for its citizens. What crosses blocks is exchanged at the day's boundary in a
deterministic order: an event attributed to a citizen of another block (a misattribution) is
handed to that block before scoring. Blocks follow neighbourhood boundaries, so households,
collectors' beats and neighbourhoods never straddle two blocks.

This module runs the blocks one after another in one process; the same two calls per day,
:meth:`City.observe` and :meth:`City.judge`, are what workers on other cores or machines run.
"""

from __future__ import annotations

import numpy as np

from xinyong.city import Block, City
from xinyong.population import generate_population
from xinyong.scenario import Scenario
from xinyong.sensors import Events
from xinyong.streams import Streams

__all__ = ["SplitCity", "blocks"]


def blocks(scenario: Scenario, seed: int, count: int) -> list[Block]:
    """Cut a city into ``count`` blocks of about equal size, at neighbourhood boundaries."""
    n = scenario.citizens
    cuts = np.linspace(0, n, count + 1).round().astype(np.int64)
    orgs = 0
    if scenario.population is not None:
        pop = generate_population(scenario.population, n, Streams(seed))
        orgs = pop.organisations
        # Move each cut to the first citizen of the neighbourhood it falls in.
        starts = np.flatnonzero(np.r_[True, pop.neighbourhood[1:] != pop.neighbourhood[:-1]])
        cuts[1:-1] = starts[np.searchsorted(starts, cuts[1:-1], side="right") - 1]
    org_cuts = np.linspace(0, orgs, count + 1).round().astype(np.int64)
    return [Block(int(cuts[i]), int(cuts[i + 1]), int(org_cuts[i]), int(org_cuts[i + 1]))
            for i in range(count)]


class SplitCity:
    """A city simulated as blocks that exchange the events crossing them each day.

    Args:
        scenario: the city.
        seed: the seed.
        count: how many blocks.
    """

    def __init__(self, scenario: Scenario, seed: int, count: int) -> None:
        self.blocks = blocks(scenario, seed, count)
        self.cities = [City(scenario, seed, None, block=b) for b in self.blocks]
        self._bounds = {"citizen": np.array([b.lo for b in self.blocks[1:]]),
                        "company": np.array([b.org_lo for b in self.blocks[1:]])}
        self.days = scenario.days

    @property
    def day(self) -> int:
        return self.cities[0].day

    def step(self) -> None:
        """One day: every block observes, events go to their subjects' blocks, blocks judge."""
        observed = [city.observe() for city in self.cities]
        inboxes: list[dict[str, list[Events]]] = [{} for _ in self.cities]
        for events in observed:  # in block order, so every block receives in the same order
            for kind, e in events.items():
                owner = np.searchsorted(self._bounds[kind], e.subject, side="right")
                for j in range(len(self.cities)):
                    inboxes[j].setdefault(kind, []).append(e.where(owner == j))
        for city, inbox in zip(self.cities, inboxes, strict=True):
            city.judge({kind: Events.concat(parts) for kind, parts in inbox.items()})

    def run(self) -> None:
        """Simulate every remaining day."""
        while self.day < self.days:
            self.step()
        for city in self.cities:
            for op in city.operators:
                op.standing.finish(city.day - 1)
                op.counterfactual.finish(city.day - 1)
            city._second_core.shutdown()
