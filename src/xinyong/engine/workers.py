"""Split runs on Ray: each block of citizens on its own worker, on this machine or a cluster.

Each worker holds one :class:`xinyong.engine.split.BlockRun`, and the driver sends it the same calls
per day as :class:`xinyong.engine.split.SplitCity` makes in one process — observe, then judge the
events handed to its block — so the results are bit-identical whatever the number of workers.
Each worker writes its block's part of the run's Parquet dataset, in parallel, and hands back
only its tally (counts that add up); the driver never gathers per-citizen columns. A worker
that dies fails the run with a message naming the day; nothing is marked complete.

Ray is an optional extra: ``pip install 'xinyong[ray]'``.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xinyong.engine.cluster import connect, deal
from xinyong.engine.split import BlockRecords, BlockRun, blocks, sum_tallies
from xinyong.engine.tally import Tally
from xinyong.primitives.sealed import is_sealed
from xinyong.scenario import Scenario

__all__ = ["BlockWorker", "WorkerError", "latest_checkpoint", "require_ray", "run_on_ray"]


_AHEAD = 4  # days the driver lets the workers run ahead of what it has seen finish
_CHECKPOINT = re.compile(r"day-(\d+)-block-(\d+)\.pkl")  # a block's checkpoint file


class WorkerError(RuntimeError):
    """A worker of a split run failed; the run is incomplete."""


class BlockWorker:
    """A :class:`BlockRun` on a Ray worker, called through one typed method per remote method.

    Each method has the name and arguments of the :class:`BlockRun` method it calls (a test
    holds them together), so renaming one breaks here and in that test, not silently in a
    string. A day's call returns one reference per block, to what it hands that block (the
    block's own place: ``{}``), so each block's next call can take its part without waiting
    for the driver.

    Args:
        actor: the Ray actor holding the block.
        workers: how many blocks the run has.
    """

    def __init__(self, actor: Any, workers: int) -> None:
        self.actor, self.workers = actor, workers

    def _per_block(self, refs: Any) -> list[Any]:
        return [refs] if self.workers == 1 else list(refs)

    def observe(self) -> list[Any]:
        """References to :meth:`BlockRun.observe`'s parts, one per block."""
        return self._per_block(self.actor.observe.options(num_returns=self.workers).remote())

    def judge_then_observe(self, checkpoint: str | None, *incoming: Any) -> list[Any]:
        """References to :meth:`BlockRun.judge_then_observe`'s parts, one per block;
        ``incoming`` may hold references, which Ray resolves on the worker."""
        return self._per_block(
            self.actor.judge_then_observe.options(num_returns=self.workers).remote(
                checkpoint, *incoming
            )
        )

    def finish(self) -> Any:
        """A reference to the block's :class:`Tally` (:meth:`BlockRun.finish`)."""
        return self.actor.finish.remote()


def latest_checkpoint(folder: Path | None, workers: int) -> int | None:
    """The day of a run folder's latest whole checkpoint for this many workers, if any: every
    block's file of that day there and sealed whole (so a checkpoint torn by a crash, or
    damaged on disk since, is passed over for the one before, which gives the same run)."""
    if folder is None or not (folder / "blocks").is_dir():
        return None
    found: dict[int, set[int]] = {}
    for path in (folder / "blocks").glob("day-*-block-*.pkl"):
        match = _CHECKPOINT.fullmatch(path.name)
        if match:
            found.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
    for day in sorted(found, reverse=True):
        if found[day] == set(range(workers)) and all(
            is_sealed(folder / "blocks" / f"day-{day}-block-{i}.pkl") for i in range(workers)
        ):
            return day
    return None


def require_ray() -> Any:
    """The ray module, or :class:`WorkerError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise WorkerError(
            "--workers needs Ray, an optional extra: pip install 'xinyong[ray]' "
            "(or run with --blocks N in one process: the same results)"
        ) from None
    return ray


def run_on_ray(
    scenario: Scenario,
    seed: int,
    workers: int,
    records: Callable[[int], BlockRecords] | None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
    folder: Path | None = None,
    checkpoint_every: int = 0,
) -> Tally:
    """Simulate a city as ``workers`` blocks on Ray; returns the whole city's tally.

    Args:
        scenario: the city.
        seed: the seed.
        workers: how many blocks, one per worker.
        records: each block's records, by its index (None: no output); on a cluster, they
            write to a folder every machine sees at the same path.
        address: an existing Ray cluster, ``HOST:PORT`` or ``auto`` (default: start a Ray
            of the run's own on this machine); see :func:`xinyong.engine.cluster.connect`.
        progress: called with the number of days done after each day.
        folder: the run folder, where blocks keep their checkpoints (so a failed run can be
            resumed); None keeps none.
        checkpoint_every: checkpoint every this many days (0: never); a folder's latest
            complete checkpoint is where a run resumes.

    Raises:
        WorkerError: Ray is missing, or a worker died (the message names the day).
        ClusterError: the cluster at ``address`` cannot be joined.
    """
    ray = require_ray()
    connect(ray, address)
    cut = blocks(scenario, seed, workers)
    remote = ray.remote(num_cpus=0)(BlockRun)  # blocks share the cores; none reserves one
    # Paths travel to workers, which may run elsewhere and in another folder.
    base = folder.absolute() / "blocks" if folder is not None else None
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    start = latest_checkpoint(folder, workers)
    day = start or 0
    saved = [
        str(base / f"day-{start}-block-{i}.pkl") if start and base else None for i in range(workers)
    ]
    run_id = uuid.uuid4().hex[:8]  # named, so an operator (or a test) can find a block
    scenario_json = scenario.model_dump_json(by_alias=True)
    places = deal(ray, workers)  # the nodes in turn
    actors = [
        BlockWorker(
            remote.options(
                name=f"xinyong-{run_id}-block-{i}", scheduling_strategy=places[i]
            ).remote(
                scenario_json,
                seed,
                cut,
                i,
                records(i) if records is not None else None,
                saved[i],
                threads=False,
            ),
            workers,
        )
        for i in range(workers)
    ]

    try:
        tallies = _run_days(
            ray, actors, scenario.days, day, base, checkpoint_every, progress, folder
        )
    finally:
        for a in actors:
            ray.kill(a.actor)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)  # finished: no resume needed
    return sum_tallies(tallies)


def _run_days(
    ray: Any,
    actors: list[BlockWorker],
    days: int,
    day: int,
    base: Path | None,
    checkpoint_every: int,
    progress: Callable[[int], None] | None,
    folder: Path | None,
) -> list[Tally]:
    """Drive the blocks from ``day`` to the end of the run; returns each block's tally.

    The days are pipelined: block j's call for a day takes, as arguments, references to what
    every other block handed it the day before, so Ray starts it as soon as they are ready,
    without a round trip through this driver, which only follows a few days behind (to report
    progress, mark checkpoints complete and notice a dead worker).

    Args:
        ray: the ray module.
        actors: one per block, in block order.
        days: the run's length.
        day: the day the blocks start from (0, or a resumed checkpoint's day).
        base: the folder of the blocks' checkpoints (None: keep none).
        checkpoint_every: checkpoint every this many days (0: never).
        progress: called with the number of days done after each day.
        folder: the run folder, to say whether a failed run can be resumed.

    Raises:
        WorkerError: a worker died (the message names the day).
    """
    workers = len(actors)
    pending: deque[tuple[int, bool, list[Any]]] = deque()
    done = day
    try:
        outgoing = [a.observe() for a in actors]
        while done < days:
            if day < days and len(pending) < _AHEAD:
                due = bool(
                    base
                    and checkpoint_every
                    and (day + 1) % checkpoint_every == 0
                    and day + 1 < days
                )
                outgoing = _judge_day(actors, outgoing, day, base if due else None)
                day += 1
                pending.append((day, due, [outgoing[j][j] for j in range(workers)]))
                continue
            finished, due, marks = pending.popleft()
            ray.get(marks)  # raises here if a worker died
            done = finished
            if due and base:  # every block has written its state: the checkpoint is complete
                _mark_checkpoint(base, done, workers)
            if progress:
                progress(done)
        return ray.get([a.finish() for a in actors])
    except ray.exceptions.RayError as exc:
        raise _worker_failed(exc, done + 1, folder, workers) from None


def _judge_day(
    actors: list[BlockWorker], outgoing: list[list[Any]], day: int, base: Path | None
) -> list[list[Any]]:
    """Each block's call for the day after ``day``: judge, then observe.

    Args:
        actors: one per block, in block order.
        outgoing: per block, the references to what it handed each block the day before.
        day: the days done before this call.
        base: where the blocks checkpoint after this day (None: no checkpoint this day).

    Returns:
        Per block, the references to what it hands each block for the next day.
    """
    workers = len(actors)
    return [
        a.judge_then_observe(
            str(base / f"day-{day + 1}-block-{j}.pkl") if base else None,
            *[None if i == j else outgoing[i][j] for i in range(workers)],
        )
        for j, a in enumerate(actors)
    ]


def _mark_checkpoint(base: Path, day: int, workers: int) -> None:
    """Mark the blocks' checkpoint of ``day`` complete, the one :func:`latest_checkpoint`
    finds, by replacing the marker in one step."""
    (base / "LATEST.tmp").write_text(f"{day} {workers}\n")
    os.replace(base / "LATEST.tmp", base / "LATEST")


def _worker_failed(exc: Exception, day: int, folder: Path | None, workers: int) -> WorkerError:
    """The error that fails a run when a worker fails on ``day``, saying how to go on."""
    # The days in flight fail with it; this error says it once, not Ray for each of them.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    again = (
        "resume it from its last checkpoint: the same command with --resume"
        if latest_checkpoint(folder, workers)
        else "run it again"
    )
    said = str(exc).splitlines()[0].rstrip(".")
    return WorkerError(
        f"a worker of the split run failed on day {day}: "
        f"{type(exc).__name__}: {said}. The run is "
        f"incomplete and was not saved as finished; {again}."
    )
