"""Split runs: one city simulated as blocks of citizens, with the same results as one piece.

Every random draw is addressed by (seed, stream, day, citizen), so a block draws exactly what the
whole city draws for its citizens. What crosses blocks is exchanged at the day's boundary in a
deterministic order: an event attributed to a citizen of another block (a misattribution) is
handed to that block before scoring. Blocks follow neighbourhood boundaries, so households,
collectors' beats and neighbourhoods never straddle two blocks.

A block writes its own part of the run's Parquet dataset and hands back only its tally:
counts that add up (:mod:`xinyong.engine.tally`), never its per-citizen columns. :class:`SplitCity`
runs the blocks one after another in one process; :mod:`xinyong.engine.workers` runs the same
:class:`BlockRun` objects on Ray workers, on other cores or machines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from xinyong.engine.city import City
from xinyong.engine.driver import drive, route
from xinyong.engine.parts import Block
from xinyong.engine.tally import Tally
from xinyong.engine.twin import twin_occurrences
from xinyong.model.population import generate_population
from xinyong.model.sensors import Events
from xinyong.primitives.sealed import read_sealed, write_sealed
from xinyong.primitives.streams import Streams
from xinyong.scenario import Scenario

__all__ = ["BlockRecords", "BlockRun", "SplitCity", "blocks", "route", "sum_tallies"]


class BlockRecords(Protocol):
    """Where a block writes what it leaves: its part of the run's dataset
    (:class:`xinyong.records.dataset.BlockDataset`, which the run hands it)."""

    def resume(self, day: int) -> None:
        """Drop what the block wrote from ``day`` on (it resumes there)."""
        ...

    def ledger(self, city: City) -> Callable[[dict[str, np.ndarray]], None]:
        """The sink of the block's ledger writer."""
        ...

    def close(self) -> None:
        """Close the ledger's open files."""
        ...

    def write(self, city: City, tally: Tally) -> None:
        """Close the ledger and write the block's tables, at its end."""
        ...


def blocks(scenario: Scenario, seed: int, count: int) -> list[Block]:
    """Cut a city into ``count`` blocks of about equal size, at neighbourhood boundaries; each
    organisation goes to the block of its legal representative."""
    n = scenario.citizens
    cuts = np.linspace(0, n, count + 1).round().astype(np.int64)
    org_cuts = np.zeros(count + 1, dtype=np.int64)
    if scenario.population is not None:
        pop = generate_population(scenario.population, n, Streams(seed))
        # Move each cut to the first citizen of the neighbourhood it falls in.
        starts = np.flatnonzero(np.r_[True, pop.neighbourhood[1:] != pop.neighbourhood[:-1]])
        cuts[1:-1] = starts[np.searchsorted(starts, cuts[1:-1], side="right") - 1]
        # Organisations go with their legal representatives (they are numbered in that order).
        org_cuts = np.searchsorted(pop.org_legal_rep, cuts).astype(np.int64)
    return [
        Block(int(cuts[i]), int(cuts[i + 1]), int(org_cuts[i]), int(org_cuts[i + 1]))
        for i in range(count)
    ]


class BlockRun:
    """One block of a split run: its city, the events it hands to other blocks, and what it
    leaves behind. The same object runs in this process (:class:`SplitCity`) or as a Ray
    actor on another core or machine (:mod:`xinyong.engine.workers`).

    Args:
        scenario: the city (a JSON string, as it travels to a worker, or a Scenario).
        seed: the seed.
        blocks_: every block of the run.
        index: which one this is.
        records: where the block writes its part of the run's dataset (None: no output).
        checkpoint: a checkpoint file to resume from (None: start at day 0).
        threads: score the counterfactual on a second thread (in one process, where blocks
            take turns); a worker on Ray uses its one core alone.
    """

    def __init__(
        self,
        scenario: Scenario | str,
        seed: int,
        blocks_: list[Block],
        index: int,
        records: BlockRecords | None,
        checkpoint: str | None = None,
        threads: bool = True,
    ) -> None:
        if isinstance(scenario, str):
            scenario = Scenario.model_validate_json(scenario)
        self.scenario, self.seed = scenario, seed
        self.blocks, self.index = blocks_, index
        self.records = records
        if checkpoint is None:
            self.city = City(scenario, seed, None, block=blocks_[index], threads=threads)
        else:  # resume: the city as it was at the checkpoint, its ledger cut back to match
            with read_sealed(Path(checkpoint)) as f:
                self.city = _unpickle(f.read())  # the seal after the pickle is not read
            if records is not None:
                records.resume(self.city.day)
        if records is not None:
            self.city.write_ledger(records.ledger(self.city))
        self._own: dict[str, Events] = {}

    def checkpoint(self, path: str) -> int:
        """Write the block as it stands (between two days), its ledger files closed first."""
        if self.city.ledger is not None:
            self.city.ledger.flush()
        if self.records is not None:
            self.records.close()
        data = _pickle(self.city)
        write_sealed(Path(path), lambda f: f.write(data))  # whole, or refused on resume
        return self.city.day

    def observe(self) -> tuple[dict[str, Events], ...]:
        """Observe the open day and return, per block, the events about its subjects (few:
        misattributions across blocks); those about this block's own stay here (``{}``)."""
        outgoing = route([self.city.observe().events], self.blocks)
        self._own = outgoing[self.index]
        outgoing[self.index] = {}
        return tuple(outgoing)

    def judge_then_observe(
        self, checkpoint: str | None, *incoming: dict[str, Events] | None
    ) -> tuple[dict[str, Events], ...]:
        """Finish today with the events handed to this block (``incoming[i]`` from block
        ``i``; its own place is ignored), checkpoint if asked, and observe tomorrow; after the
        last day, every part is empty."""
        parts = [
            self._own if i == self.index else events or {} for i, events in enumerate(incoming)
        ]
        self.city.judge({kind: Events.concat([p[kind] for p in parts]) for kind in self._own})
        if checkpoint:
            self.checkpoint(checkpoint)
        outgoing = (
            self.observe() if self.city.day < self.city.days else tuple({} for _ in self.blocks)
        )
        return outgoing

    def finish(self) -> Tally:
        """Close the block: write its tables to the dataset, run its behaviour-only twin if
        the chilling effect is measured, and return its tally (counts only, never columns)."""
        city = self.city
        city.finish()
        tally = city.tally()
        if self.records is not None:
            self.records.write(city, tally)
        clock = city.clock
        del self.city  # its columns are no longer needed
        args = (self.scenario, self.seed, self.blocks[self.index])
        tally.twin_daily = (
            twin_occurrences(*args)
            if clock is None
            else clock.time("twin (behaviour only)", twin_occurrences, *args)
        )
        return tally


def _pickle(city: City) -> bytes:
    try:  # Ray's cloudpickle also takes the lambdas of a gate status; plain pickle may not
        from ray import cloudpickle
    except ImportError:
        import pickle

        return pickle.dumps(city)
    return cloudpickle.dumps(city)


def _unpickle(data: bytes) -> City:
    import pickle

    city = pickle.loads(data)
    if getattr(city, "layout", 0) != City.LAYOUT:
        raise ValueError(
            "the checkpoint was written by another version of xinyong (an older "
            "layout of a city's state): run the city again without --resume"
        )
    return city


class SplitCity:
    """A city simulated as blocks that exchange the events crossing them each day, in this
    process: what :mod:`xinyong.engine.workers` spreads over Ray workers, with the same results.

    Args:
        scenario: the city.
        seed: the seed.
        count: how many blocks.
        records: each block's records, by its index (None: no output).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        count: int,
        records: Callable[[int], BlockRecords] | None = None,
    ) -> None:
        self.blocks = blocks(scenario, seed, count)
        self.runs = [
            BlockRun(scenario, seed, self.blocks, i, records(i) if records is not None else None)
            for i in range(count)
        ]
        self.days = scenario.days
        self.day = 0

    def run(self, progress: Callable[[int], None] | None = None) -> Tally:
        """Simulate every remaining day; returns the whole city's tally, the blocks' added."""
        self.day = drive(
            [r.city for r in self.runs], self.days, blocks=self.blocks, progress=progress
        )
        return sum_tallies([r.finish() for r in self.runs])


def sum_tallies(tallies: list[Tally]) -> Tally:
    """The blocks' tallies added up, in block order."""
    total = tallies[0]
    for t in tallies[1:]:
        total = total + t
    return total
