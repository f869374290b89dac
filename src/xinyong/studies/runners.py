"""Where an experiment's runs go: this process, local worker processes, or Ray.

Each run is one task: an arm's scenario (the design's base with the arm's overrides) on one
seed, given to a runner, which returns the run's summary. Local workers are forked from a
fresh server that has imported xinyong once, end at once on Ctrl-C, and end when the driver
dies, so a killed experiment leaves no worker behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from xinyong.scenario import Scenario
from xinyong.scenario.overrides import apply
from xinyong.studies.design import Plan

__all__ = [
    "Progress",
    "Runner",
    "in_processes",
    "on_ray",
    "simulate_summary",
    "simulate_summary_one_core",
]

_WATCH_SECONDS = 0.5  # how often a worker checks that its driver is alive

#: A runner simulates one arm on one seed and returns the run's summary. It is given the arm's
#: scenario (overrides applied), the seed, and the overrides (for the record).
Runner = Callable[[Scenario, int, dict[str, Any]], dict[str, Any]]
Progress = Callable[[int, int], None]


def simulate_summary(scenario: Scenario, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """The default runner: simulate in memory and keep the summary (overrides recorded)."""
    from xinyong.records.simulation import simulate

    with simulate(scenario, seed=seed, set=overrides) as run:  # the same values again
        return run.summary


def simulate_summary_one_core(
    scenario: Scenario, seed: int, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The default runner where runs share the cores: the counterfactual scored inline."""
    from xinyong.records.simulation import simulate

    with simulate(scenario, seed=seed, set=overrides, threads=False) as run:
        return run.summary


def _task(
    runner: Runner, scenario: dict[str, Any], seed: int, overrides: dict[str, Any]
) -> dict[str, Any]:
    return runner(apply(Scenario.model_validate(scenario), overrides), seed, overrides)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_start(driver: int) -> None:
    """In a worker process: Ctrl-C ends it at once and silently (the driver reports it), and
    so does the driver's death (a killed experiment leaves no worker behind)."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    parent = os.getppid()  # the driver, or the fork server it started

    def watch() -> None:
        while os.getppid() == parent and _alive(driver):
            time.sleep(_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fresh server that has imported xinyong once (no copies of this
    process's threads or stores, and no import per worker); spawned where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["xinyong.studies.runners"])
    return context


def in_processes(
    runner: Runner, jobs: list[tuple[str, int]], p: Plan, workers: int
) -> Iterator[tuple[str, int, dict]]:
    """Run ``jobs`` (arm, seed) here (one worker) or on ``workers`` local processes; yields
    (arm, seed, summary) as each finishes."""
    base = p.base.model_dump(by_alias=True)
    if workers <= 1:
        for arm, seed in jobs:
            yield arm, seed, _task(runner, base, seed, p.arms[arm])
        return
    context = _context()
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
    )
    try:
        pending = {
            pool.submit(_task, runner, base, seed, p.arms[arm]): (arm, seed) for arm, seed in jobs
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                arm, seed = pending.pop(future)
                yield arm, seed, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def on_ray(
    runner: Runner, jobs: list[tuple[str, int]], p: Plan, address: str
) -> Iterator[tuple[str, int, dict]]:
    """Run ``jobs`` (arm, seed) as Ray tasks on the cluster at ``address`` (``local``: one of
    this machine's own); yields (arm, seed, summary) as each finishes."""
    from xinyong.engine.workers import require_ray

    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=None if address == "local" else address,
            logging_level="ERROR",
            log_to_driver=False,
        )
    try:
        base = ray.put(p.base.model_dump(by_alias=True))
        remote = ray.remote(num_cpus=1)(_task)
        pending = {
            remote.remote(runner, base, seed, p.arms[arm]): (arm, seed) for arm, seed in jobs
        }
        while pending:
            finished, _ = ray.wait(list(pending), num_returns=1)
            for ref in finished:
                arm, seed = pending.pop(ref)
                yield arm, seed, ray.get(ref)
    finally:
        if started:
            ray.shutdown()
