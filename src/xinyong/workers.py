"""Split runs on Ray: each block of citizens on its own worker, on this machine or a cluster.

The driver sends each worker the same two calls per day as :class:`xinyong.split.SplitCity`
makes in one process — observe, then judge the events handed to its block — so the results are
bit-identical whatever the number of workers. Each worker writes its block's ledger to a DuckDB
file of its own, in parallel; the driver copies them into the run's store at the end. A worker
that dies fails the run with a message naming it and the day; nothing is marked complete.

Ray is an optional extra: ``pip install 'xinyong[ray]'``.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xinyong.city import Block, City
from xinyong.scenario import Scenario
from xinyong.sensors import Events
from xinyong.split import blocks, merge, route
from xinyong.store import RunStore

__all__ = ["WorkerError", "latest_checkpoint", "run_on_ray"]


class WorkerError(RuntimeError):
    """A worker of a split run failed; the run is incomplete."""


class BlockWorker:
    """One block of a city, on a Ray worker."""

    def __init__(self, scenario_json: str, seed: int, blocks_: list[Block], index: int,
                 ledger: str | None, checkpoint: str | None = None) -> None:
        scenario = Scenario.model_validate_json(scenario_json)
        if checkpoint is None:
            store = RunStore.create(Path(ledger), scenario, seed) if ledger else None
            self.city = City(scenario, seed, store, block=blocks_[index])
        else:  # resume: the city as it was at the checkpoint, its ledger cut back to match
            from ray import cloudpickle

            self.city = cloudpickle.loads(Path(checkpoint).read_bytes())
            if ledger:
                store = RunStore(Path(ledger))
                store.con.execute("DELETE FROM ledger_rows WHERE day >= ?", [self.city.day])
                self.city.attach(store)
        self.blocks, self.index = blocks_, index
        self._own: dict[str, Events] = {}

    def checkpoint(self, path: str) -> int:
        """Write the block as it stands (between two days), its ledger flushed first."""
        if self.city.ledger is not None:
            self.city.ledger.flush()
        tmp = Path(path + ".tmp")
        from ray import cloudpickle  # pickles the lambdas of a gate status too

        tmp.write_bytes(cloudpickle.dumps(self.city))
        os.replace(tmp, path)
        return self.city.day

    def observe(self) -> list[dict[str, Events]]:
        """Observe the open day; keep the events about this block's own subjects and return,
        per block, those about its subjects (few: misattributions across blocks)."""
        outgoing = route([self.city.observe()], self.blocks)
        self._own = outgoing[self.index]
        return outgoing

    def judge_then_observe(self, incoming: list[dict[str, Events]],
                           checkpoint: str | None = None) -> list[dict[str, Events]] | None:
        """Finish today with the events handed to this block (``incoming[i]`` from block ``i``;
        its own are kept here, not sent round), checkpoint if asked, and observe tomorrow: one
        round trip a day; None after the last day."""
        parts = [self._own if i == self.index else events for i, events in enumerate(incoming)]
        self.city.judge({kind: Events.concat([p[kind] for p in parts]) for kind in self._own})
        if checkpoint:
            self.checkpoint(checkpoint)
        return self.observe() if self.city.day < self.city.days else None

    def finish(self) -> City:
        """Close the block and hand it back for folding (its executor cannot travel)."""
        self.city.finish()
        if self.city.store is not None:
            self.city.store.close()
        self.city.store = self.city.ledger = None
        self.city._second_core = None  # type: ignore[assignment]
        return self.city


def latest_checkpoint(folder: Path | None, workers: int) -> int | None:
    """The day of a run folder's latest complete checkpoint for this many workers, if any."""
    if folder is None:
        return None
    marker = folder / "blocks" / "LATEST"
    if not marker.exists():
        return None
    day, count = (int(x) for x in marker.read_text().split())
    return day if count == workers else None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise WorkerError("--workers needs Ray, an optional extra: pip install 'xinyong[ray]' "
                          "(or run with --blocks N in one process: the same results)") from None
    return ray


def run_on_ray(scenario: Scenario, seed: int, workers: int, store: RunStore | None,
               address: str | None = None, progress: Callable[[int], None] | None = None,
               folder: Path | None = None, checkpoint_every: int = 0) -> City:
    """Simulate a city as ``workers`` blocks on Ray; returns the whole city, folded together.

    Args:
        scenario: the city.
        seed: the seed.
        workers: how many blocks, one per worker.
        store: the run's store; the blocks' ledgers are copied into it.
        address: an existing Ray cluster (default: start one on this machine).
        progress: called with the number of days done after each day.
        folder: the run folder; blocks keep their ledgers and checkpoints under it (so a
            failed run can be resumed), or in a temporary folder when None.
        checkpoint_every: checkpoint every this many days (0: never); a folder's latest
            complete checkpoint is where a run resumes.

    Raises:
        WorkerError: Ray is missing, or a worker died (the message names it and the day).
    """
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    cut = blocks(scenario, seed, workers)
    remote = ray.remote(num_cpus=0)(BlockWorker)  # blocks share the cores; none reserves one
    with tempfile.TemporaryDirectory(prefix="xinyong-blocks-") as tmp:
        base = folder / "blocks" if folder is not None else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        ledgers = [str(base / f"block-{i}.duckdb") if store is not None else None
                   for i in range(workers)]
        start = latest_checkpoint(folder, workers) if folder is not None else None
        day = start or 0
        saved = [str(base / f"day-{start}-block-{i}.pkl") if start else None
                 for i in range(workers)]
        run_id = uuid.uuid4().hex[:8]  # named, so an operator (or a test) can find a block
        actors = [remote.options(name=f"xinyong-{run_id}-block-{i}").remote(
                      scenario.model_dump_json(by_alias=True), seed, cut, i, ledger, saved[i])
                  for i, ledger in enumerate(ledgers)]
        empty: dict[str, Events] = {}
        try:
            outgoing = ray.get([a.observe.remote() for a in actors])
            while day < scenario.days:
                due = checkpoint_every and (day + 1) % checkpoint_every == 0 \
                    and day + 1 < scenario.days
                # Block j gets, from each other block i, the events i recorded about j's
                # subjects, in block order; its own stay where they are.
                outgoing = ray.get([
                    a.judge_then_observe.remote(
                        [empty if i == j else outgoing[i][j] for i in range(workers)],
                        str(base / f"day-{day + 1}-block-{j}.pkl") if due else None)
                    for j, a in enumerate(actors)])
                day += 1
                if due:  # every block has written its state: this checkpoint is complete
                    (base / "LATEST.tmp").write_text(f"{day} {workers}\n")
                    os.replace(base / "LATEST.tmp", base / "LATEST")
                if progress:
                    progress(day)
            cities = ray.get([a.finish.remote() for a in actors])
        except ray.exceptions.RayError as exc:
            again = ("resume it from its last checkpoint (xinyong simulate --resume DIR)"
                     if folder is not None and latest_checkpoint(folder, workers)
                     else "run it again")
            raise WorkerError(f"a worker of the split run failed on day {day}: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0]}. The run is "
                              f"incomplete and was not saved as finished; {again}.") from None
        finally:
            for a in actors:
                ray.kill(a)
        if store is not None:
            for i, ledger in enumerate(ledgers):
                store.con.execute(f"ATTACH '{ledger}' AS block{i} (READ_ONLY)")
                store.con.execute(f"INSERT INTO ledger_rows SELECT * FROM block{i}.ledger_rows")
                store.con.execute(f"DETACH block{i}")
        if folder is not None:
            shutil.rmtree(base, ignore_errors=True)  # finished: ledgers copied, no resume needed
    # Arrays that come out of Ray's object store are read-only: fold into a copy of the first.
    cities[0] = copy.deepcopy(cities[0])
    return merge(cities, cut)
