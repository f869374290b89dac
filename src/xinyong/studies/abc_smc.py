"""ABC-SMC over a scenario's runs: the simulator, the distance, and a sampler with a budget.

Approximate Bayesian computation by sequential Monte Carlo (pyabc: Klinger, Rickert &
Hasenauer, Bioinformatics 2018) is the field's standard for fitting agent-based models, and
serves here because a run gives counts, not a likelihood. Each generation draws parameters
from the last one's particles (a multivariate normal kernel, in the coordinates the priors are
uniform in), runs the scenario once per draw on a sampled population, and keeps a draw when
its figures lie within ``epsilon`` of the published ones; epsilon falls to the median distance
of the generation before.

What this module adds to pyabc:

- **The simulator** (:class:`Simulator`): a parameter draw becomes overrides by path, one city
  run in this process without a store, and the run's counterpart of each observation, scaled
  to the country (:mod:`xinyong.records.counterparts`).
- **The distance** (:class:`LogDistance`): the root mean square of log(simulated / published)
  over the fitted observations, so that every figure counts by how many times it is off
  (half a count is added to the simulated side, so that a run that counts none is far, not
  infinitely far).
- **A sampler with addresses and a deadline** (:class:`BudgetSampler`): the j-th draw of
  generation t is made from the random stream (seed, t, j), and each run's seed is addressed
  by its parameters, so a fit is the same on one worker or many, locally or on Ray; the first
  n accepted draws in that order make the generation. It stops at the deadline, mid-generation
  if need be (that generation is dropped: the fit is the last whole one), and reports each
  run as it ends.

Workers are local processes (:func:`xinyong.studies.runners.process_pool`) or Ray tasks; pyabc
keeps every generation in its SQLite database, so a fit stopped at any point resumes from its
last whole generation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np

from xinyong.scenario import Scenario
from xinyong.scenario.published import Observation
from xinyong.studies.calibration import CalibrationSpec

__all__ = [
    "BudgetSampler",
    "InlineExecutor",
    "LogDistance",
    "RayExecutor",
    "Simulator",
    "Status",
    "job_seed",
    "run_at",
]

PYABC_MISSING = (
    "xinyong calibrate needs pyabc: pip install 'xinyong[calibrate]' (or pip install pyabc)"
)

try:
    import pyabc
except ImportError:  # an optional extra: the caller says how to install it
    raise ImportError(PYABC_MISSING) from None

# pyabc's own log lines are replaced by xinyong's progress.
for _name in ("ABC", "pyabc", "History", "Epsilon", "Distance", "Acceptor", "Sampler"):
    logging.getLogger(_name).setLevel(logging.WARNING)


# ---- the simulator -----------------------------------------------------------------------------

#: Scenarios already validated in this process, by their key (a worker runs many particles).
_SCENARIOS: dict[str, Scenario] = {}


@dataclass(frozen=True)
class Simulator:
    """One particle's run: parameters in, the record's figures out.

    Attributes:
        scenario: the scenario's data (sizes set), as ``model_dump(by_alias=True)`` gives it.
        spec: the calibration, its paths in full.
        observations: the observations the scenario can meet, in the order of ``keys``.
        origin: where the record's running totals start.
        seed: the fit's seed (each run's seed is addressed from it and the parameters).
    """

    scenario: dict[str, Any]
    spec: CalibrationSpec
    observations: tuple[Observation, ...]
    origin: Any
    seed: int
    key: str = field(default="")

    @property
    def keys(self) -> list[str]:
        """Each observation's key in a run's figures: ``o0``, ``o1``, ..."""
        return [f"o{i}" for i in range(len(self.observations))]

    def base(self) -> Scenario:
        """The scenario, validated once per process."""
        token = (
            self.key
            or hashlib.sha1(
                json.dumps(self.scenario, sort_keys=True, default=str).encode()
            ).hexdigest()
        )
        if token not in _SCENARIOS:
            _SCENARIOS[token] = Scenario.model_validate(self.scenario)
        return _SCENARIOS[token]

    def values(self, coordinates: dict[str, float]) -> dict[str, float]:
        """Parameter values from the coordinates their priors are uniform in."""
        return {p.name: p.value(float(coordinates[p.name])) for p in self.spec.parameters}

    def run(self, values: dict[str, float], seed: int) -> dict[str, float]:
        """The figures of one run with these parameter values: key → simulated value, scaled
        to the country (NaN where the run cannot say)."""
        from xinyong.engine.city import City
        from xinyong.records.counterparts import series_of
        from xinyong.scenario.overrides import apply

        base = self.base()
        scenario = apply(base, self.spec.overrides(base, values), source="a calibration draw")
        city = City(scenario, seed, None, threads=False)
        city.run()
        series = series_of(scenario, city.tally(), city.day)
        out = {}
        for key, o in zip(self.keys, self.observations, strict=True):
            simulated = series.counterpart(o, self.origin).simulated
            out[key] = math.nan if simulated is None else float(simulated)
        return out

    def run_seed(self, values: dict[str, float]) -> int:
        """A run's seed, addressed by the fit's seed and the parameter values: the same draw
        gives the same run, wherever it is simulated."""
        text = json.dumps([self.seed, sorted(values.items())], default=repr)
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1

    def __call__(self, coordinates: dict[str, float]) -> dict[str, float]:
        """pyabc's model: a draw (in prior coordinates) → the run's figures."""
        values = self.values(coordinates)
        return self.run(values, self.run_seed(values))


@dataclass(frozen=True)
class LogDistance:
    """The root mean square of ln(simulated / published) over the fitted observations.

    Attributes:
        fitted: the keys of the observations fitted (the others are held out).
        half: half a count in each observation's scaled units (people per citizen / 2).
    """

    fitted: tuple[str, ...]
    half: float

    def misses(self, x: dict[str, float], x0: dict[str, float]) -> np.ndarray:
        """ln(simulated / published) of each fitted observation."""
        sim = np.array([x[k] for k in self.fitted], dtype=float)
        pub = np.array([x0[k] for k in self.fitted], dtype=float)
        return np.log((np.nan_to_num(sim, nan=0.0) + self.half) / pub)

    def __call__(self, x: dict[str, float], x0: dict[str, float]) -> float:
        return float(np.sqrt(np.mean(self.misses(x, x0) ** 2)))


def run_at(simulator: Simulator, values: dict[str, float], seed: int) -> dict[str, float]:
    """In a worker: one run at given parameter values and seed (a predictive run)."""
    return simulator.run(values, seed)


# ---- executors -----------------------------------------------------------------------------


class InlineExecutor(Executor):
    """Runs each task at once, in this process (one worker)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever waits on it, as a pool would
            future.set_exception(exc)
        return future


class RayExecutor(Executor):
    """Tasks on a Ray cluster (``address``; ``local``: a Ray of this machine's own), one core
    each."""

    def __init__(self, address: str) -> None:
        from xinyong.engine.workers import require_ray

        self._ray = require_ray()
        self._started = not self._ray.is_initialized()
        if self._started:
            self._ray.init(
                address=None if address == "local" else address,
                logging_level="ERROR",
                log_to_driver=False,
            )
        self._remote: dict[Any, Any] = {}

    @property
    def cores(self) -> int:
        """The cluster's cores."""
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_cpus=1)(fn)
        ref = self._remote[fn].remote(*args, **kwargs)
        return ref.future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._started:
            self._ray.shutdown()


# ---- the sampler -------------------------------------------------------------------------------


@dataclass
class Status:
    """Where a fit stands, after each run.

    Attributes:
        generation: the generation being sampled (0: from the prior).
        epsilon: its acceptance threshold (inf: every draw is accepted).
        runs: runs finished in this generation; accepted: of which accepted.
        population: the particles a generation keeps.
        total_runs: runs finished in this fit, over every generation (resumed ones included).
        seconds: seconds since the fit (or its resumption) started.
        last: the last finished generation's epsilon and acceptance, if any.
    """

    generation: int = 0
    epsilon: float = math.inf
    runs: int = 0
    accepted: int = 0
    population: int = 0
    total_runs: int = 0
    seconds: float = 0.0
    run_seconds: list[float] = field(default_factory=list)


def _one(payload: bytes, seed: int) -> tuple[Any, float]:
    """In a worker: one draw of a generation from its addressed stream, and its run."""
    simulate_one = cloudpickle.loads(payload)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    start = time.perf_counter()
    particle = simulate_one()
    return particle, time.perf_counter() - start


def job_seed(seed: int, generation: int, job: int) -> int:
    """The seed of the ``job``-th draw of a generation: an address, not a sequence."""
    text = f"{seed}/abc/{generation}/{job}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


class BudgetSampler(pyabc.sampler.Sampler):
    """Draws j = 0, 1, 2, ... of generation t, each from its addressed stream, on ``slots``
    workers at once; the generation is the first n accepted in that order. Stops when
    ``stop_at()`` (a ``time.monotonic()`` deadline) has passed: the generation is then not
    ok, and pyabc ends the fit with the last whole one.

    Args:
        executor: where runs go (local processes, Ray, or inline).
        slots: runs at once.
        seed: the fit's seed, the root of every draw's address.
        stop_at: the deadline, read again before each submission.
        status: updated after each run, and handed to ``report``.
        report: called after each finished run (progress), or None.
        keep: a folder to keep each finished run in (by generation and draw), so that a
            resumed fit takes the runs of a generation cut short instead of running them
            again (they are the same draws: the generation before is the same).
        max_runs: stop once this many runs are made (a budget in runs, beside the deadline).
    """

    def _kept(self, t: int, job: int) -> Any:
        """A run of draw ``job`` of generation ``t`` kept before, or None."""
        if self.keep is None:
            return None
        path = self.keep / f"t{t}-{job}.pkl"
        return cloudpickle.loads(path.read_bytes()) if path.is_file() else None

    def _keep(self, t: int, job: int, particle: Any) -> None:
        if self.keep is not None:
            self.keep.mkdir(parents=True, exist_ok=True)
            temporary = self.keep / f".t{t}-{job}.pkl"
            temporary.write_bytes(cloudpickle.dumps(particle))
            temporary.replace(self.keep / f"t{t}-{job}.pkl")  # whole, or not there

    def __init__(
        self,
        executor: Executor,
        slots: int,
        seed: int,
        stop_at: Callable[[], float],
        status: Status,
        report: Callable[[Status], None] | None = None,
        keep: Path | None = None,
        max_runs: int | None = None,
    ) -> None:
        super().__init__()
        self.executor, self.slots, self.seed = executor, slots, seed
        self.stop_at, self.status, self.report = stop_at, status, report
        self.stopped = False  # the deadline ended the fit
        self.keep: Path | None = keep
        self.max_runs = max_runs
        self._orphans: set[Future] = set()  # runs of a past generation still going

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        payload = cloudpickle.dumps(simulate_one)
        st = self.status
        st.generation, st.runs, st.accepted, st.population = t, 0, 0, n
        if ana_vars is not None:
            st.epsilon = float(ana_vars.eps(t))
        running: dict[Future, int] = {}
        done: dict[int, Any] = {}
        next_job = 0
        while True:
            self._orphans = {f for f in self._orphans if not f.done()}
            accepted = sorted(j for j, p in done.items() if p.accepted)
            enough = len(accepted) >= n
            if enough and all(j > accepted[n - 1] for j in running.values()):
                self._orphans |= set(running)  # later draws than the n-th: not needed
                break
            spent = self.max_runs is not None and st.total_runs >= self.max_runs
            if not enough and (time.monotonic() >= self.stop_at() or spent or next_job >= max_eval):
                self.stopped = next_job < max_eval
                for f in running:
                    f.cancel()
                self._orphans |= set(running)
                self.nr_evaluations_ = len(done)
                sample = self._create_empty_sample()
                sample.ok = False
                return sample
            while not enough and len(running) + len(self._orphans) < self.slots:
                if self.max_runs is not None and st.total_runs + len(running) >= self.max_runs:
                    break
                kept = self._kept(t, next_job)
                if kept is not None:  # run before an interruption: the same draw, the same run
                    done[next_job] = kept
                    st.runs += 1
                    st.accepted += int(kept.accepted)
                    next_job += 1
                    accepted = sorted(j for j, p in done.items() if p.accepted)
                    enough = len(accepted) >= n
                    continue
                fut = self.executor.submit(_one, payload, job_seed(self.seed, t, next_job))
                running[fut] = next_job
                next_job += 1
            if enough and all(j > accepted[n - 1] for j in running.values()):
                continue
            finished, _ = wait(
                set(running) | self._orphans, timeout=1.0, return_when=FIRST_COMPLETED
            )
            for fut in finished:
                if fut in running:
                    job = running.pop(fut)
                    particle, seconds = fut.result()
                    done[job] = particle
                    self._keep(t, job, particle)
                    st.runs += 1
                    st.total_runs += 1
                    st.accepted += int(particle.accepted)
                    st.run_seconds.append(seconds)
            if self.report is not None:
                self.report(st)
        last = sorted(j for j, p in done.items() if p.accepted)[n - 1]
        sample = self._create_empty_sample()
        for job in sorted(done):
            if job > last:
                break
            sample.append(done[job])
        self.nr_evaluations_ = last + 1
        return sample
