"""Experiments: every arm of a design on every seed, in parallel, resumable, with the effects.

    >>> import xinyong
    >>> exp = xinyong.experiment({                                    # doctest: +SKIP
    ...     "scenario": "reference", "citizens": 50_000, "days": 365, "seeds": 10,
    ...     "metrics": ["wrongly_listed", "mean_score"],
    ...     "arms": [{"name": "1pc"},
    ...              {"name": "5pc", "set": {"sensors.camera.misidentify": 0.05}}]},
    ...     workers=2)
    >>> exp.effects                                                    # doctest: +SKIP

Every arm of a seed runs on that seed, so arms are paired on common random numbers. Runs go
to local processes (``workers``) or to Ray (``ray_address``); each finished run is written at
once and atomically to ``OUT/runs/<arm>-seed<k>.json`` with its whole summary, so an
interrupted experiment, run again, skips what finished and recomputes nothing — a metric added
to the design later is read from the stored summaries. What an experiment folder holds:

    design.json         the design, and every arm's overrides
    runs/               one file per finished run
    runs.parquet, .csv  one row per run: arm, seed, one column per factor, one per metric
    effects.csv         per arm and metric: mean_diff, lo, hi, unpaired_lo, unpaired_hi,
                        variance_reduction (see :mod:`xinyong.studies.effects`)
    sensitivity.csv     Morris or Sobol indices per metric and factor (those designs only)
    experiment.duckdb   views runs, effects (and sensitivity) over the Parquet files
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from xinyong.primitives.shown import plots
from xinyong.studies.design import (
    SENSITIVITY,
    Design,
    DesignError,
    Plan,
    load_design,
    plan,
    safe_name,
    short_names,
)
from xinyong.studies.effects import paired_effect
from xinyong.studies.runners import (
    Progress,
    Runner,
    in_processes,
    on_ray,
    simulate_summary,
    simulate_summary_one_core,
)

__all__ = [
    "Experiment",
    "MetricError",
    "experiment",
    "metric_value",
    "open_experiment",
    "simulate_summary",
]

RUNS = "runs"
DESIGN_FILE = "design.json"
EFFECT_COLUMNS = [
    "arm",
    "metric",
    "mean_diff",
    "lo",
    "hi",
    "unpaired_lo",
    "unpaired_hi",
    "variance_reduction",
]


class MetricError(DesignError):
    """A metric the runs' summaries do not have, with the keys they do have."""


# ---- metrics ---------------------------------------------------------------------------------


def _numeric_keys(summary: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in summary.items():
        if isinstance(v, Mapping):
            out += _numeric_keys(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(f"{prefix}{k}")
    return out


def metric_value(summary: Mapping[str, Any], metric: str) -> float:
    """A summary's figure by dotted path (``operators.city.lists.blacklist.members_share``).

    Raises:
        MetricError: the path names nothing in the summary, or names a table.
    """
    node: Any = summary
    for part in metric.split("."):
        if not isinstance(node, Mapping) or part not in node:
            keys = _numeric_keys(summary)
            close = difflib.get_close_matches(metric, keys, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise MetricError(
                f"metric '{metric}' is not in the runs' summary{hint} "
                f"(its figures: {', '.join(keys)})"
            )
        node = node[part]
    if isinstance(node, Mapping):
        raise MetricError(
            f"metric '{metric}' is a table; name one of its figures: "
            f"{', '.join(f'{metric}.{k}' for k in _numeric_keys(node))}"
        )
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise MetricError(f"metric '{metric}' is {node!r}, not a number")
    return float(node)


def _metric_or_nan(summary: Mapping[str, Any], metric: str) -> float:
    try:
        return metric_value(summary, metric)
    except MetricError:
        return float("nan")  # e.g. the chilling effect of a behaviour this run never saw


# ---- the folder ------------------------------------------------------------------------------


def _run_file(folder: Path, arm: str, seed: int) -> Path:
    return folder / RUNS / f"{safe_name(arm)}-seed{seed}.json"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a run file is whole or absent


def _same(a: Any, b: Any) -> bool:
    return json.loads(json.dumps(a, sort_keys=True)) == json.loads(json.dumps(b, sort_keys=True))


def _finished(folder: Path, p: Plan, seeds: list[int]) -> dict[tuple[str, int], dict]:
    """The runs already in the folder that this plan can reuse, checked against it."""
    done: dict[tuple[str, int], dict] = {}
    for stale in (folder / RUNS).glob(".*.tmp"):
        stale.unlink()  # a write cut short; its run is done again
    fingerprint = p.fingerprint()
    for arm, overrides in p.arms.items():
        for seed in seeds:
            path = _run_file(folder, arm, seed)
            if not path.exists():
                continue
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("base") != fingerprint or not _same(record.get("set"), overrides):
                raise DesignError(
                    f"'{path}' was run with other settings than arm '{arm}' now has (another "
                    f"scenario, size or overrides): use another --out, or delete that file (or "
                    f"the folder's runs/) to run it again"
                )
            done[(arm, seed)] = record
    return done


# ---- results ---------------------------------------------------------------------------------


@dataclass
class Experiment:
    """A finished experiment: its runs, the effects of its arms, its sensitivity indices.

    Attributes:
        plan: the checked design, every arm's overrides.
        runs: one row per run: arm, seed, one column per factor, one per metric.
        effects: per arm (against the baseline) and metric: mean_diff, the paired interval
            lo-hi, the unpaired one, and the variance-reduction factor of pairing.
        sensitivity: per metric and factor, Morris or Sobol indices (those designs), else None.
        summaries: every run's whole summary, by (arm, seed).
        path: the experiment's folder, if it was written to one.
        ran: runs done by this call (the others were found finished in the folder).
    """

    plan: Plan
    runs: pd.DataFrame
    effects: pd.DataFrame
    sensitivity: pd.DataFrame | None
    summaries: dict[tuple[str, int], dict[str, Any]] = field(repr=False)
    path: Path | None = None
    ran: int = 0

    @property
    def design(self) -> Design:
        """The design."""
        return self.plan.design

    def __repr__(self) -> str:
        d = self.plan.design
        where = f" at '{self.path}'" if self.path else ""
        return (
            f"<Experiment {d.kind()} on '{self.plan.base.name}': {len(self.plan.arms)} "
            f"arms × {len(d.seed_list())} seeds, {len(d.metrics)} metrics{where}>"
        )

    def query(self, sql: str) -> pd.DataFrame:
        """SQL over the tables ``runs``, ``effects`` (and ``sensitivity``)."""
        con = duckdb.connect()
        con.register("runs", self.runs)
        con.register("effects", self.effects)
        if self.sensitivity is not None:
            con.register("sensitivity", self.sensitivity)
        return con.execute(sql).df()

    def plot(self, metric: str | None = None) -> Any:
        """The report's plots of this experiment, as Plotly figures (shown inline in a
        notebook): each metric's effects against the baseline with their intervals, and the
        sensitivity indices of a Morris or Sobol design.

        Args:
            metric: the start of a plot's title (a metric's name); None: every plot.

        Raises:
            KeyError: no plot's title starts with ``metric`` (the message lists them).
        """
        return plots(self, metric)

    def _repr_html_(self) -> str:
        from html import escape

        head = escape(repr(self))
        table = self.effects.to_html(index=False, float_format=lambda v: f"{v:.6g}")
        return (
            f"<p><b>{head}</b></p><p>Effects against '{escape(self.plan.baseline)}' "
            f"(95 % intervals, paired by seed):</p>{table}"
        )


def _tables(
    p: Plan, seeds: list[int], done: Mapping[tuple[str, int], dict]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    d = p.design
    rows = []
    for seed in seeds:
        for arm in p.arms:
            summary = done[(arm, seed)]["summary"]
            rows.append(
                {
                    "arm": arm,
                    "seed": seed,
                    **p.values[arm],
                    **{m: _metric_or_nan(summary, m) for m in d.metrics},
                }
            )
    runs = pd.DataFrame(rows, columns=["arm", "seed", *p.factors, *d.metrics])
    by = runs.set_index(["arm", "seed"])
    effects = []
    for arm in p.arms:
        if arm == p.baseline:
            continue
        for m in d.metrics:
            e = paired_effect(
                by.loc[arm, m].loc[seeds].to_numpy(), by.loc[p.baseline, m].loc[seeds].to_numpy()
            )
            effects.append({"arm": arm, "metric": m, **e.as_dict()})
    effects_df = pd.DataFrame(effects, columns=EFFECT_COLUMNS)
    sensitivity = None
    if d.kind() in SENSITIVITY and p.sample is not None:
        from xinyong.studies.sensitivity import analyze

        points = [a for a in p.arms if a != "baseline"]
        parts = []
        for m in d.metrics:
            y = runs[runs.arm.isin(points)].groupby("arm", sort=False)[m].mean()
            indices = analyze(
                d.kind(), p.problem(), p.sample, y.loc[points].to_numpy(), d.levels, d.sample_seed
            )
            parts.append(indices.assign(metric=m, name=short_names(d.factors)))
        sensitivity = pd.concat(parts, ignore_index=True)
        first = ["metric", "factor", "name"]
        sensitivity = sensitivity[[*first, *[c for c in sensitivity if c not in first]]]
    return runs, effects_df, sensitivity


def _write_tables(folder: Path, exp: Experiment) -> None:
    exp.runs.to_parquet(folder / "runs.parquet", index=False)
    exp.runs.to_csv(folder / "runs.csv", index=False)
    exp.effects.to_parquet(folder / "effects.parquet", index=False)
    exp.effects.to_csv(folder / "effects.csv", index=False)
    views = {"runs": "runs.parquet", "effects": "effects.parquet"}
    if exp.sensitivity is not None:
        exp.sensitivity.to_parquet(folder / "sensitivity.parquet", index=False)
        exp.sensitivity.to_csv(folder / "sensitivity.csv", index=False)
        views["sensitivity"] = "sensitivity.parquet"
    db = folder / "experiment.duckdb"
    tmp = folder / ".experiment.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        escaped = str(folder.resolve()).replace("'", "''")
        con.execute(f"SET file_search_path = '{escaped}'")
        for view, file in views.items():  # relative: the folder can move; open it from inside
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{file}')")
    finally:
        con.close()
    os.replace(tmp, db)


def _design_record(p: Plan, original: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "design": dict(original),
        "kind": p.design.kind(),
        "scenario": p.base.name,
        "citizens": p.base.citizens,
        "days": p.base.days,
        "seeds": p.design.seed_list(),
        "metrics": p.design.metrics,
        "baseline": p.baseline,
        "factors": p.factors,
        "arms": [{"name": a, "set": o, "values": p.values[a]} for a, o in p.arms.items()],
    }


def experiment(
    design: str | Path | Mapping[str, Any],
    *,
    out: str | Path | None = None,
    workers: int = 1,
    ray_address: str | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> Experiment:
    """Run a design: every arm on every seed, paired, and compute the effects.

    Args:
        design: a design file (TOML) or the same as a dict (see :mod:`xinyong.studies.design`).
        out: a folder for the runs and tables; a rerun on the same folder skips the runs that
            finished. None keeps everything in memory.
        workers: local processes to run in parallel (1 runs in this process).
        ray_address: run on Ray instead: a cluster's address, or ``"local"`` for a Ray on
            this machine.
        runner: what one run is (default: :func:`simulate_summary`); a top-level function of
            (the arm's scenario, seed, its overrides) returning a summary dict, for tests and
            other models.
        progress: called with (runs finished, runs in all) as runs finish.

    Returns:
        The experiment, its tables also written to ``out``.

    Raises:
        DesignError: the design cannot be run (nothing has run), or a metric is not in the
            summaries (found after the first run; the runs done are kept).
    """
    d, where = load_design(design)
    p = plan(d, where)
    seeds = d.seed_list()
    if runner is None:  # one run alone uses a second core; runs side by side use one each
        parallel = ray_address is not None or workers > 1
        runner = simulate_summary_one_core if parallel else simulate_summary
    folder = Path(out) if out is not None else None
    done: dict[tuple[str, int], dict] = {}
    if folder is not None:
        if (
            folder.exists()
            and not (folder / DESIGN_FILE).exists()
            and (not folder.is_dir() or any(folder.iterdir()))
        ):
            raise DesignError(
                f"'{folder}' is not empty and holds no experiment (no "
                f"{DESIGN_FILE}); choose another --out"
            )
        (folder / RUNS).mkdir(parents=True, exist_ok=True)
        done = _finished(folder, p, seeds)
        original = (
            dict(design) if isinstance(design, Mapping) else {"file": str(Path(design).resolve())}
        )
        _write_atomic(
            folder / DESIGN_FILE,
            json.dumps(_design_record(p, original), indent=1, default=str) + "\n",
        )
    total = len(p.arms) * len(seeds)
    jobs = [(arm, seed) for seed in seeds for arm in p.arms if (arm, seed) not in done]
    if progress:
        progress(len(done), total)
    checked = False
    if done:
        for m in d.metrics:
            metric_value(next(iter(done.values()))["summary"], m)
        checked = True
    results = (
        on_ray(runner, jobs, p, ray_address)
        if ray_address
        else in_processes(runner, jobs, p, workers)
    )
    ran, fingerprint = 0, p.fingerprint()
    try:
        for arm, seed, summary in results:
            record = {
                "arm": arm,
                "seed": seed,
                "set": p.arms[arm],
                "base": fingerprint,
                "summary": summary,
            }
            if folder is not None:
                _write_atomic(_run_file(folder, arm, seed), json.dumps(record, default=str) + "\n")
            done[(arm, seed)] = record
            ran += 1
            if progress:
                progress(len(done), total)
            if not checked:
                for m in d.metrics:
                    metric_value(summary, m)  # a typo stops the experiment after one run
                checked = True
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    runs, effects, sensitivity = _tables(p, seeds, done)
    summaries = {k: v["summary"] for k, v in done.items()}
    exp = Experiment(p, runs, effects, sensitivity, summaries, folder, ran)
    if folder is not None:
        _write_tables(folder, exp)
    return exp


def open_experiment(path: str | Path) -> dict[str, Any] | None:
    """An experiment folder's design record, or None if the folder holds no experiment."""
    file = Path(path) / DESIGN_FILE
    if not file.is_file() or not (Path(path) / "effects.csv").is_file():
        return None
    return json.loads(file.read_text(encoding="utf-8"))
