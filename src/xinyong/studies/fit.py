"""``xinyong calibrate``: a scenario's assumed values fitted to a published record.

:func:`calibrate` fits the parameters a calibration names (:mod:`xinyong.studies.calibration`)
by ABC-SMC (:mod:`xinyong.studies.abc_smc`) on a sampled population, then runs the fitted
model again at draws from the posterior (the posterior predictive) to show what it says of
every observation, the fitted ones and those held out. It returns a :class:`Fit`:

- :meth:`Fit.table`: each parameter's posterior median and 95 % interval, and whether the
  record identifies it: **identified** when the posterior's 95 % interval is less than half
  as wide as the prior's (:data:`IDENTIFIED_WIDTH`), both read in the coordinate the prior is
  uniform in (the logarithm for a log-uniform prior). A parameter the record says nothing
  about keeps (about) its prior's width; two that trade off against each other (a ridge) are
  each reported not identified, though the pair is;
- :meth:`Fit.observations`: each observation, published and predicted (median and 95 %
  interval over the predictive runs), fitted or held out;
- :meth:`Fit.fitted_pack`: the fitted values as a pack of overrides
  (:mod:`xinyong.scenario.fitted`);
- :meth:`Fit.plot`: the fit as a Plotly figure.

With ``out``, the folder holds ``abc.db`` (pyabc's database: every generation, so that
``resume`` continues the fit), ``calibration.json`` (what was fitted, to what, how),
``runs/`` (every run of the fit, by generation and draw, so that a resumed fit does not run
again those of a generation cut short), ``posterior.csv``, ``observations.csv``,
``generations.csv``, ``predictive.csv``,
``fitted.toml``, ``fit.html`` and, where kaleido is installed, ``fit.png``.

The budget (``hours``) covers everything: the fit stops early enough to leave the predictive
runs their time (estimated from the runs so far), and those stop at the budget's end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xinyong.primitives.shown import plots
from xinyong.scenario import Scenario, load_scenario
from xinyong.scenario.fitted import FittedPack, FittedValue
from xinyong.scenario.overrides import get
from xinyong.scenario.published import Observation, Record, load_record
from xinyong.studies.calibration import (
    CalibrationError,
    CalibrationSpec,
    builtin_calibrations,
    load_calibration,
    parse_param,
)

__all__ = ["IDENTIFIED_WIDTH", "Fit", "calibrate"]

#: A parameter is identified when its posterior's 95 % interval is narrower than this share of
#: its prior's (in the prior's uniform coordinate): the record has at least halved it.
IDENTIFIED_WIDTH = 0.5
#: Share of a prior's range at either end where a posterior median is "at the edge": the
#: record may want a value beyond the prior.
EDGE = 0.05
#: Files of a fit's folder.
DB_FILE, SPEC_FILE, RUNS_FOLDER = "abc.db", "calibration.json", "runs"


@dataclass
class Fit:
    """A finished (or budget-ended) fit.

    Attributes:
        scenario: the scenario fitted, at the fit's size.
        spec: the calibration, its paths in full.
        record_name: the record's file name.
        observations_met: (key, observation, fitted?) for each observation the run meets.
        particles: the last generation's particles, in prior coordinates, and ``weight``.
        generations: per generation: ``t``, ``epsilon``, ``runs``, ``acceptance``.
        predictive: one row per predictive run: the parameter values and each key's figure.
        runs: runs made by this call (the fit's and the predictive ones).
        seconds: this call's wall time.
        ended: why the fit stopped (``budget``, ``epsilon``, ``generations``, ``acceptance``).
        command: the command that made it, for the record.
        seed: the fit's seed.
    """

    scenario: Scenario
    spec: CalibrationSpec
    record_name: str
    observations_met: list[tuple[str, Observation, bool]]
    particles: pd.DataFrame
    generations: pd.DataFrame
    predictive: pd.DataFrame
    runs: int
    seconds: float
    ended: str
    command: str
    seed: int
    date: dt.date = field(default_factory=dt.date.today)

    def __repr__(self) -> str:
        t = int(self.generations["t"].max()) if len(self.generations) else -1
        return (
            f"<Fit of '{self.scenario.name}' to {self.record_name}: "
            f"{len(self.spec.parameters)} parameters, {t + 1} generations, "
            f"{int(self.generations['runs'].sum()) if len(self.generations) else 0} runs>"
        )

    # -- the posterior -------------------------------------------------------------------------

    def table(self) -> pd.DataFrame:
        """Each parameter: prior, posterior median and 95 % interval, the interval's width
        against the prior's, and whether the record identifies it."""
        rows = []
        w = self.particles["weight"].to_numpy()
        for p in self.spec.parameters:
            u = self.particles[p.name].to_numpy()
            lo, mid, hi = _weighted_quantiles(u, w, (0.025, 0.5, 0.975))
            a, b = p.bounds
            ratio = (hi - lo) / (0.95 * (b - a))
            note = ""
            if mid < a + EDGE * (b - a):
                note = "at its prior's lower end: the record may want less"
            elif mid > b - EDGE * (b - a):
                note = "at its prior's upper end: the record may want more"
            rows.append(
                {
                    "parameter": p.name,
                    "paths": ", ".join(p.paths),
                    "prior": p.prior_text(),
                    "median": p.value(mid),
                    "low": p.value(lo),
                    "high": p.value(hi),
                    "width_vs_prior": ratio,
                    "identified": bool(ratio < IDENTIFIED_WIDTH),
                    "note": note,
                }
            )
        return pd.DataFrame(rows)

    def values(self) -> dict[str, float]:
        """Each parameter's posterior median."""
        table = self.table()
        return dict(zip(table["parameter"], table["median"], strict=True))

    # -- the observations ------------------------------------------------------------------------

    def observations(self) -> pd.DataFrame:
        """Each observation the run meets: published; the posterior predictive median and
        95 % interval (over the predictive runs; NaN without them); simulated over published;
        fitted or held out."""
        rows = []
        for key, o, fitted in self.observations_met:
            col = self.predictive[key].dropna() if key in self.predictive else pd.Series([])
            q = np.quantile(col, (0.025, 0.5, 0.975)) if len(col) else (math.nan,) * 3
            rows.append(
                {
                    "key": key,
                    "observation": o.label,
                    "quantity": o.quantity,
                    "kind": o.kind,
                    "from": o.from_.isoformat() if o.from_ else None,
                    "date": o.date.isoformat(),
                    "scope": o.scope,
                    "role": "fitted" if fitted else "held out",
                    "published": o.value,
                    "predicted": q[1],
                    "predicted_low": q[0],
                    "predicted_high": q[2],
                    "ratio": q[1] / o.value,
                    "within_a_third": bool(abs(q[1] / o.value - 1) <= 1 / 3) if len(col) else None,
                    "runs": len(col),
                    "source": o.source,
                }
            )
        return pd.DataFrame(rows)

    # -- outputs ---------------------------------------------------------------------------------

    def fitted_pack(self, name: str | None = None) -> FittedPack:
        """The fitted values, path by path, as a pack of overrides with their intervals."""
        name = name or f"fitted-{self.scenario.name}"
        cite = (
            f"fitted to {self.record_name} by xinyong calibrate {self.scenario.name} "
            f"(ABC-SMC, {self.date.isoformat()}; {name}.toml)"
        )
        values = []
        for row in self.table().itertuples():
            p = next(q for q in self.spec.parameters if q.name == row.parameter)
            for path in p.paths:
                times = float(get(self.scenario, path)) if p.scale else 1.0
                values.append(
                    FittedValue(
                        path=path,
                        value=_round(row.median * times),
                        low=_round(row.low * times),
                        high=_round(row.high * times),
                        parameter=p.name,
                        identified=row.identified,
                        source=cite,
                    )
                )
        return FittedPack(
            name=name,
            about=f"{self.scenario.name}'s assumed values fitted to {self.record_name}",
            scenario=self.scenario.name,
            record=self.record_name,
            date=self.date,
            command=self.command,
            source=cite,
            values=values,
        )

    def plot(self) -> Any:
        """The fit as a Plotly figure: each observation, published against its predictive
        interval (fitted and held-out apart), and each parameter's posterior against its
        prior (drawn by the views: :func:`xinyong.views.fit_figure.fit_plot`)."""
        return plots(self)

    def marginals(self) -> dict[str, dict[str, Any]]:
        """Each parameter's weighted particles, in the coordinate its prior is uniform in,
        with the prior's bounds: what the figure draws as the posterior against the prior."""
        return {
            p.name: {
                "coordinates": self.particles[p.name].to_numpy(),
                "weights": self.particles["weight"].to_numpy(),
                "bounds": p.bounds,
                "log": p.log,
                "scale": p.scale,
            }
            for p in self.spec.parameters
        }

    def title(self) -> str:
        """What the fit's figure is of: scenario, record, population and date."""
        return (
            f"{self.scenario.name} fitted to {self.record_name} ({self.scenario.citizens:,} "
            f"citizens, {self.date.isoformat()})"
        )

    def write(self, folder: Path) -> list[Path]:
        """Write the fit's tables, pack and plot into ``folder``; returns the files."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (
            ("posterior.csv", self.table()),
            ("observations.csv", self.observations()),
            ("generations.csv", self.generations),
            ("predictive.csv", self.predictive),
        ):
            frame.to_csv(folder / name, index=False)
            written.append(folder / name)
        (folder / "fitted.toml").write_text(self.fitted_pack().to_toml(), encoding="utf-8")
        written.append(folder / "fitted.toml")
        figure = self.plot()
        figure.write_html(folder / "fit.html", include_plotlyjs=True, full_html=True)
        written.append(folder / "fit.html")
        try:  # a PNG beside it where kaleido (plotly's optional image export) can draw one
            import kaleido  # noqa: F401

            figure.write_image(folder / "fit.png", scale=1)
            written.append(folder / "fit.png")
        except Exception:  # no kaleido, or no browser for it: the HTML is the plot
            pass
        return written


def _round(value: float) -> float:
    """Four significant digits: a fitted value is no more precise than that."""
    return float(f"{value:.4g}")


def _weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, qs: Iterable[float]
) -> tuple[float, ...]:
    """Quantiles of weighted particles (the midpoints of each particle's weight)."""
    order = np.argsort(values)
    v, w = values[order], weights[order] / weights.sum()
    cum = np.cumsum(w) - w / 2
    return tuple(float(np.interp(q, cum, v)) for q in qs)


# ---- running a fit -------------------------------------------------------------------------


def _spec_for(
    scenario: Scenario,
    params: str | Path | CalibrationSpec | None,
    param: Iterable[str],
    log: bool,
) -> CalibrationSpec:
    """The calibration: a file, the scenario's built-in one, and ``--param`` texts."""
    extra = [parse_param(text, log) for text in param]
    if isinstance(params, CalibrationSpec):
        spec: CalibrationSpec | None = params
    elif params is not None:
        spec = load_calibration(params)
    elif not extra and scenario.name in builtin_calibrations():
        spec = load_calibration(scenario.name)
    else:
        spec = None
    if spec is None:
        if not extra:
            raise CalibrationError(
                f"nothing to fit in '{scenario.name}': name parameters with --param "
                "PATH=LOW:HIGH or a calibration file with --params FILE (built-in: "
                f"{', '.join(sorted(builtin_calibrations())) or 'none'})"
            )
        return CalibrationSpec(parameters=extra)
    return spec.with_parameters(extra) if extra else spec


def _met(
    scenario: Scenario, record: Record, spec: CalibrationSpec
) -> list[tuple[str, Observation, bool]]:
    """The observations a run of the scenario meets: (key, observation, fitted?)."""
    from xinyong.records.counterparts import Series, counterparts

    try:
        empty = Series(scenario, [], {}, 0, scenario.days)
    except ValueError as exc:
        raise CalibrationError(str(exc)) from None
    met = [c.observation for c in counterparts(empty, record) if c.simulated is not None]
    out = [(f"o{i}", o, not spec.held_out(o)) for i, o in enumerate(met)]
    if not any(fitted for _, _, fitted in out):
        raise CalibrationError(
            f"no observation of the record is left to fit ({len(met)} met, all held out): "
            "hold fewer out"
        )
    return out


def _what(scenario: Scenario, spec: CalibrationSpec, met: list, seed: int, population: int) -> dict:
    """What a fit is of: a resumed fit must be of the same."""
    return {
        "scenario": scenario.model_dump(mode="json", by_alias=True),
        "spec": spec.model_dump(mode="json"),
        "observations": [[k, o.model_dump(mode="json", by_alias=True), f] for k, o, f in met],
        "seed": seed,
        "population": population,
    }


def _executor(workers: int, ray_address: str | None) -> tuple[Any, int]:
    """Where runs go, and how many at once."""
    from xinyong.studies.abc_smc import InlineExecutor, RayExecutor
    from xinyong.studies.runners import process_pool

    if ray_address is not None:
        ray = RayExecutor(ray_address)
        return ray, ray.cores
    if workers <= 1:
        return InlineExecutor(), 1
    return process_pool(workers), workers


def calibrate(
    scenario: str | Path | Scenario = "history",
    params: str | Path | CalibrationSpec | None = None,
    *,
    param: Iterable[str] = (),
    log: bool = False,
    record: str | Path = "record",
    citizens: int | None = 20_000,
    days: int | None = None,
    seed: int = 0,
    population: int = 20,
    generations: int | None = None,
    predictive: int = 16,
    hours: float = 1.0,
    max_runs: int | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    allow_sourced: bool = False,
    progress: Callable[[Any], None] | None = None,
    command: str | None = None,
) -> Fit:
    """Fit a scenario's assumed values to a published record by ABC-SMC.

    Args:
        scenario: a built-in scenario name, a scenario file, or a :class:`Scenario`; it must
            have a ``start`` date and a ``[record]`` table.
        params: a calibration file, or a :class:`CalibrationSpec` (default: the scenario's
            built-in calibration, when there is one and no ``param`` is given).
        param: more parameters, as ``PATH=LOW:HIGH`` or ``PATH=LOW:HIGH:log``.
        log: every ``param`` prior log-uniform.
        record: a record file, or ``"record"`` for the one xinyong ships.
        citizens: the sampled population of every run (None: the scenario's).
        days: days of every run (None: the scenario's).
        seed: the root of every draw's address: the same seed gives the same fit, on one
            worker or many.
        population: particles a generation keeps (20: what an hour on two cores affords a
            history fit, at 10 to 40 s a run).
        generations: stop after this many generations (None: the budget or epsilon decides).
        predictive: runs at posterior draws, after the fit, for the predictive intervals.
        hours: the wall-time budget of the whole call.
        max_runs: a budget in runs of the fit, beside the hours (None: none).
        workers: local processes (default: the machine's cores); ignored with Ray.
        ray_address: run on Ray instead: a cluster's address, or ``local``.
        out: a folder to write the fit to (needed to resume).
        resume: continue the fit in ``out`` from its last whole generation.
        allow_sourced: fit paths whose value has a published source too.
        progress: called with a :class:`~xinyong.studies.abc_smc.Status` after each run.
        command: the command line, recorded in the fitted pack (default: the call).

    Returns:
        The fit.

    Raises:
        CalibrationError: a calibration that cannot run, or a budget that ended before the
            first generation, saying what to change.
        ScenarioError: the scenario or the record cannot be used.
        ImportError: pyabc is not installed (saying how to install it).
    """
    import pyabc

    from xinyong.studies.abc_smc import BudgetSampler, LogDistance, Simulator, Status

    started = time.monotonic()
    if hours <= 0:
        raise CalibrationError(f"hours = {hours}: give a budget above 0, e.g. --hours 1")
    if population < 2:
        raise CalibrationError(f"population = {population}: a generation needs 2 particles or more")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base = base.with_sizes(citizens=citizens, days=days)
    spec = _spec_for(base, params, param, log).checked(base, allow_sourced)
    rec = load_record(record)
    record_name = "record.toml" if str(record) == "record" else Path(record).name
    met = _met(base, rec, spec)
    what = _what(base, spec, met, seed, population)
    folder = Path(out) if out is not None else None
    db = _prepare_folder(folder, what, resume)
    resuming = bool(resume and db.exists())
    simulator = Simulator(
        scenario=base.model_dump(by_alias=True),
        spec=spec,
        observations=tuple(o for _, o, _ in met),
        origin=rec.start,
        seed=seed,
        key=hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest(),
    )
    scale = (base.record.country if base.record else 1.0) / base.citizens
    fitted = tuple(k for k, _, f in met if f)
    distance = LogDistance(fitted=fitted, half=0.5 * scale)
    published = {k: o.value for k, o, _ in met}
    # Below this epsilon the distance is mostly the runs' own sampling noise: a count of c
    # has a relative spread of about 1/sqrt(c).
    floor = float(np.sqrt(np.mean([scale / published[k] for k in fitted])))

    executor, slots = _executor(workers or os.cpu_count() or 1, ray_address)
    status = Status()
    budget = hours * 3600.0

    def reserve() -> float:  # time the predictive runs will need
        if not status.run_seconds or predictive <= 0:
            return 0.0
        per_run = float(np.mean(status.run_seconds[-50:]))
        return 1.2 * per_run * math.ceil(predictive / slots)

    sampler = BudgetSampler(
        executor,
        slots,
        seed,
        stop_at=lambda: started + budget - reserve(),
        status=status,
        report=(lambda s: progress(_progress(s, started))) if progress else None,
        keep=folder / RUNS_FOLDER if folder is not None else None,
        max_runs=max_runs,
    )
    prior = pyabc.Distribution(
        **{
            p.name: pyabc.RV("uniform", p.bounds[0], p.bounds[1] - p.bounds[0])
            for p in spec.parameters
        }
    )
    np.random.seed(seed % 2**32)  # pyabc's own draws between generations
    abc = pyabc.ABCSMC(
        simulator,
        prior,
        distance,
        population_size=population,
        sampler=sampler,
        eps=pyabc.epsilon.QuantileEpsilon(initial_epsilon=np.inf, alpha=0.5),
        transitions=pyabc.transition.MultivariateNormalTransition(),
    )
    url = f"sqlite:///{db}"
    try:
        if resuming:
            abc.load(url, 1)
            if abc.history.max_t >= 0:
                # The next generation starts from the last one's distances (their median), as
                # every later generation does; at infinity, it re-ran its population with
                # nothing rejected (the resumed generation's epsilon read "inf"). A fit cut
                # before its first generation ended starts that generation again, at infinity.
                abc.eps = pyabc.epsilon.QuantileEpsilon(initial_epsilon="from_sample", alpha=0.5)
        else:
            abc.new(url, published)
        with np.errstate(invalid="ignore"):  # pyabc compares epsilon ∞ with ∞ at first
            history = abc.run(minimum_epsilon=floor, max_nr_populations=generations or np.inf)
        if history.max_t < 0:
            per_run = np.mean(status.run_seconds) if status.run_seconds else math.nan
            raise CalibrationError(
                f"the budget ({hours:g} hours{f', {max_runs} runs' if max_runs else ''}) "
                "ended before the first generation "
                f"({status.runs} of {population} runs, {per_run:.0f} s each): give more --hours, "
                "fewer --citizens or a smaller --population"
                + (f"; --resume continues from {folder}" if folder else "")
            )
        particles, weights = history.get_distribution(t=history.max_t)
        particles = particles.reset_index(drop=True)
        particles["weight"] = weights
        gens = history.get_all_populations()
        gens = gens[gens["t"] >= 0].rename(columns={"samples": "runs"})
        gens = gens.assign(acceptance=population / gens["runs"])[
            ["t", "epsilon", "runs", "acceptance"]
        ]
        ended = _ended(sampler, history, floor, generations)
        predicted = _predictive(
            simulator, particles, predictive, executor, slots, seed, started + budget, status
        )
        if progress:
            progress(_progress(status, started))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    fit = Fit(
        scenario=base,
        spec=spec,
        record_name=record_name,
        observations_met=met,
        particles=particles,
        generations=gens.reset_index(drop=True),
        predictive=predicted,
        runs=status.total_runs,
        seconds=time.monotonic() - started,
        ended=ended,
        command=command or _call_text(base.name, params, param, citizens, hours),
        seed=seed,
    )
    if folder is not None:
        fit.write(folder)
    return fit


def _prepare_folder(folder: Path | None, what: dict, resume: bool) -> Path:
    """The database file of a fit: in ``folder`` (checked for a fit of the same kind when
    resuming, refused when it holds another's), or a temporary one."""
    if folder is None:
        if resume:
            raise CalibrationError("resume continues a fit written to a folder: give --out DIR")
        import tempfile

        return Path(tempfile.mkdtemp(prefix="xinyong-fit-")) / DB_FILE
    spec_file, db = folder / SPEC_FILE, folder / DB_FILE
    if resume:
        if not spec_file.is_file() or not db.is_file():
            raise CalibrationError(
                f"no fit to resume in '{folder}' (no {SPEC_FILE} and {DB_FILE}): start it "
                "without --resume"
            )
        before = json.loads(spec_file.read_text(encoding="utf-8"))
        for part in ("scenario", "spec", "observations", "seed", "population"):
            if before.get(part) != what[part]:
                raise CalibrationError(
                    f"the fit in '{folder}' has another {part}: resume it with the options it "
                    "was started with, or start a new fit in another --out"
                )
        return db
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CalibrationError(
            f"'{folder}' is not empty: add --resume to continue the fit in it, or choose "
            "another --out"
        )
    folder.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(json.dumps(what, indent=1, default=str), encoding="utf-8")
    return db


def _ended(sampler: Any, history: Any, floor: float, generations: int | None) -> str:
    if sampler.stopped:
        return "budget"
    eps = history.get_all_populations()["epsilon"].iloc[-1]
    if eps <= floor:
        return "epsilon"
    return "generations" if generations else "acceptance"


def _predictive(
    simulator: Any,
    particles: pd.DataFrame,
    n: int,
    executor: Any,
    slots: int,
    seed: int,
    deadline: float,
    status: Any,
) -> pd.DataFrame:
    """Runs at ``n`` draws from the posterior (each with its addressed seed), as many as the
    deadline allows."""
    from xinyong.studies.abc_smc import job_seed, run_at

    names = [p.name for p in simulator.spec.parameters]
    if n <= 0:
        return pd.DataFrame(columns=["draw", *names, *simulator.keys])
    rng = np.random.default_rng([seed, 17])  # the predictive draws' own stream
    w = particles["weight"].to_numpy()
    picks = rng.choice(len(particles), size=n, p=w / w.sum())
    jobs = []
    for i, row in enumerate(picks):
        values = simulator.values({k: particles.at[row, k] for k in names})
        jobs.append((i, values, job_seed(seed, -1, i)))
    rows: list[dict[str, Any]] = []
    queue = list(jobs)
    running: dict[Any, tuple[int, dict[str, float]]] = {}
    while queue or running:
        while queue and len(running) < slots and time.monotonic() < deadline:
            i, values, s = queue.pop(0)
            running[executor.submit(run_at, simulator, values, s)] = (i, values)
        if not running:
            break
        timeout = max(0.0, deadline - time.monotonic())
        finished, _ = wait(set(running), timeout=min(timeout, 5.0), return_when=FIRST_COMPLETED)
        for fut in finished:
            i, values = running.pop(fut)
            rows.append({"draw": i, **values, **fut.result()})
            status.total_runs += 1
        if time.monotonic() >= deadline and not finished:
            for fut in running:
                fut.cancel()
            break
    return pd.DataFrame(rows, columns=["draw", *names, *simulator.keys]).sort_values("draw")


def _progress(status: Any, started: float) -> Any:
    status.seconds = time.monotonic() - started
    return status


def _call_text(
    scenario: str, params: Any, param: Iterable[str], citizens: int | None, hours: float
) -> str:
    parts = ["xinyong calibrate", scenario]
    if params is not None and not isinstance(params, CalibrationSpec):
        parts.append(f"--params {params}")
    parts += [f"--param {p}" for p in param]
    if citizens is not None:
        parts.append(f"--citizens {citizens}")
    parts.append(f"--hours {hours:g}")
    return " ".join(parts)
