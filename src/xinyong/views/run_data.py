"""What a run's plots are drawn from: :class:`RunData`, the aggregates of a stored run or of
the live city (never per-citizen arrays), and how two runs are named apart on a comparison.

:func:`run_data` reads a stored run's aggregates; :func:`histogram` bins scores the way a stored
run's are binned, for the live city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xinyong.engine.tally import summarize
from xinyong.records import tables
from xinyong.views.describe import odd
from xinyong.views.record_plot import record_series

__all__ = [
    "AGE_BANDS",
    "RunData",
    "behaviour_kinds",
    "city_data",
    "harmful_behaviours",
    "histogram",
    "named_by_differences",
    "run_data",
    "side_names",
]

AGE_BANDS = (
    (0, 18, "under 18"),
    (18, 30, "18-29"),
    (30, 45, "30-44"),
    (45, 60, "45-59"),
    (60, 200, "60 and over"),
)


@dataclass
class RunData:
    """The aggregates a run's plots are drawn from.

    Attributes:
        name: how the run is named on its plots.
        summary: the run's summary.
        daily: the daily series.
        histograms: per operator, score counts in 10-point bins: ``bin``, ``count`` and, where
            known, ``counterfactual`` (the error-free scores).
        daily_lists: each list's members and wrongly listed members, day by day.
        grades: the first scheme's grades, best first, with the least score of each.
        listed_grade: the first scheme's listed grade.
        lists_by_score: whether the first scheme lists by score (it has a listing rule):
            without one, no one ever holds its listed grade, and only its lists list people.
        harmful: behaviour -> whether the scheme punishes it.
        kinds: behaviour -> its group on the chilling plot (:func:`behaviour_kinds`).
        daily_behaviours: occurrences per day and behaviour, with and without consequences.
        listed_by: attribute (age, district, income band) -> listed share of each group.
    """

    name: str
    summary: dict[str, Any]
    daily: pd.DataFrame
    histograms: dict[str, pd.DataFrame] = field(default_factory=dict)
    daily_lists: pd.DataFrame | None = None
    grades: list[tuple[str, int]] = field(default_factory=list)
    listed_grade: str = "listed"
    harmful: dict[str, bool] = field(default_factory=dict)
    daily_behaviours: pd.DataFrame | None = None
    listed_by: dict[str, pd.DataFrame] = field(default_factory=dict)
    description: str = ""  # the model description (ODD, Markdown)
    kinds: dict[str, str] = field(default_factory=dict)
    scenario: Any = None  # the run's Scenario, to name two runs by what differs between them
    record_series: dict[str, pd.DataFrame] = field(default_factory=dict)  # against the record
    lists_by_score: bool = True


def histogram(
    scores: np.ndarray, width: int = 10, counterfactual: np.ndarray | None = None
) -> pd.DataFrame:
    """Counts of scores (and of error-free scores) in bins of ``width`` points."""
    bins = (scores // width) * width
    values, counts = np.unique(bins, return_counts=True)
    frame = pd.DataFrame({"bin": values, "count": counts})
    if counterfactual is not None:
        cf = pd.Series((counterfactual // width) * width).value_counts()
        frame = (
            frame.merge(
                pd.DataFrame({"bin": cf.index, "counterfactual": cf.to_numpy()}),
                on="bin",
                how="outer",
            )
            .fillna(0)
            .sort_values("bin")
        )
    return frame


def side_names(a: RunData, b: RunData) -> tuple[str, str]:
    """Names for two runs that tell them apart: what differs between their scenarios
    (overrides, edits, sizes) and their seeds; "first" and "second" if nothing does."""
    na, nb = (r.name for r in named_by_differences(a, b))
    if na == nb:
        na, nb = f"{na} (first)", f"{nb} (second)"
    return f"A: {na}", f"B: {nb}"


def run_data(run: Any) -> RunData:
    """Aggregates of a stored run (a :class:`xinyong.Run`)."""
    hist = {}
    for index, op in enumerate(run.operators):
        real = run.query(
            "SELECT (score // 10) * 10 AS bin, count(*) AS count FROM standings "
            "WHERE operator = ? AND covered GROUP BY 1",
            [index],
        )
        cf = run.query(
            "SELECT (counterfactual_score // 10) * 10 AS bin, count(*) AS counterfactual "
            "FROM standings WHERE operator = ? AND covered GROUP BY 1",
            [index],
        )
        hist[op.name] = real.merge(cf, on="bin", how="outer").fillna(0).sort_values("bin")
    tables = set(run.query("SELECT table_name FROM duckdb_tables()")["table_name"])
    lists = run.query("SELECT * FROM daily_lists") if "daily_lists" in tables else None
    behaviours = (
        run.query("SELECT * FROM daily_behaviours") if "daily_behaviours" in tables else None
    )
    scheme = run.operators[0].scheme
    services = run.query("SELECT * FROM daily_services") if "daily_services" in tables else None
    series = record_series(
        run.scenario,
        lists,
        services,
        int(run.summary.get("population", {}).get("companies", 0)),
        int(run.summary["days"]),
    )
    listed_by: dict[str, pd.DataFrame] = {}
    if run.scenario.population is not None and "population" in tables:
        bands = list(run.scenario.population.income_bands)
        ages = " ".join(f"WHEN p.age < {hi} THEN '{label}'" for _, hi, label in AGE_BANDS)
        for label, expr in (
            ("age", f"CASE {ages} END"),
            ("district", "p.district"),
            ("income band", "p.income_band"),
        ):
            frame = run.query(
                f"SELECT {expr} AS grp, avg(s.listed::INT) AS listed, "
                f"avg(s.counterfactual_listed::INT) AS counterfactual, count(*) AS n "
                f"FROM standings s JOIN population p ON p.citizen = s.subject "
                f"WHERE s.operator = 0 AND s.covered GROUP BY 1 ORDER BY 1"
            )
            if label == "income band":
                frame["grp"] = [bands[int(i)] for i in frame["grp"]]
            elif label == "age":
                order = {lab: i for i, (_, _, lab) in enumerate(AGE_BANDS)}
                frame = frame.sort_values("grp", key=lambda c: c.map(order))
            else:
                frame["grp"] = [str(int(d)) for d in frame["grp"]]  # the axis says "district"
            listed_by[label] = frame
    return RunData(
        f"{run.summary['scenario']} (seed {run.summary['seed']})",
        run.summary,
        run.daily,
        hist,
        lists,
        [(g.grade, g.min) for g in scheme.grades],
        scheme.listed_grade,
        harmful_behaviours(run.scenario),
        behaviours,
        listed_by,
        odd(run.scenario),
        scenario=run.scenario,
        lists_by_score=scheme.listing is not None,
        record_series=series,
        kinds=behaviour_kinds(run.scenario),
    )


def city_data(city: Any, name: str) -> RunData:
    """Aggregates of a city as it stands (an engine :class:`~xinyong.engine.city.City`, live
    or stepped from Python), its columns not being written meanwhile: the plots of a run so
    far. With a behaviour-only twin kept beside it (the live city's), the summary has the
    chilling effect with its intervals, as a stored run's has."""

    def scores(standing: Any, covered: np.ndarray | None) -> np.ndarray:
        return standing.score[covered] if covered is not None else standing.score

    hist = {
        op.name: histogram(
            scores(op.standing, op.covered), 10, scores(op.counterfactual, op.covered)
        )
        for op in city.operators
    }
    tally = city.tally()
    scheme = city.scenario.all_operators()[0].scheme
    return RunData(
        name,
        summarize(city.scenario, city.seed, city.day, tally),
        tables.daily(tally),
        hist,
        tables.daily_lists(tally),
        [(g.grade, g.min) for g in scheme.grades],
        scheme.listed_grade,
        harmful_behaviours(city.scenario),
        scenario=city.scenario,
        lists_by_score=scheme.listing is not None,
        kinds=behaviour_kinds(city.scenario),
    )


def harmful_behaviours(scenario: Any) -> dict[str, bool]:
    """Behaviour -> True for what the system is meant to deter, False for what it rewards."""
    return {b.name: scenario.is_harmful(b) for b in scenario.behaviours}


def behaviour_kinds(scenario: Any) -> dict[str, str]:
    """Behaviour -> what a change in it means on the chilling plot: ``expression`` (speech
    and protest, tagged so in the scenario: a fall is speech chilled), ``penalised`` (a fall
    is deterrence), ``rewarded`` (a rise is encouragement) or ``ignored`` (no scheme gives
    it points or lists for it: a change is a side effect)."""
    schemes = [op.scheme for op in scenario.all_operators()]
    scored = {rule.behaviour for scheme in schemes for rule in scheme.points if rule.points}
    scored |= {b for scheme in schemes for lst in scheme.lists for b in lst.behaviours}
    out = {}
    for b in scenario.behaviours:
        if b.expression:
            out[b.name] = "expression"
        elif b.name not in scored:
            out[b.name] = "ignored"
        else:
            out[b.name] = "penalised" if scenario.is_harmful(b) else "rewarded"
    return out


def named_by_differences(a: RunData, b: RunData, most: int = 3) -> tuple[RunData, RunData]:
    """Two runs renamed by what differs between them: the fields their scenarios set apart
    (overrides, edits), the seed, or the scenario itself; not 'scenario (seed)' twice."""
    from dataclasses import replace

    from xinyong.scenario.overrides import differences

    parts: tuple[list[str], list[str]] = ([], [])
    sa, sb = a.summary.get("scenario"), b.summary.get("scenario")
    diffs = (
        {}
        if a.scenario is None or b.scenario is None
        else {k: v for k, v in differences(a.scenario, b.scenario).items() if k != "name"}
    )
    if sa != sb and (len(diffs) > most or not diffs):
        parts = ([str(sa)], [str(sb)])
    else:
        for path, (va, vb) in list(diffs.items())[:most]:
            parts[0].append(f"{path} = {va}")
            parts[1].append(f"{path} = {vb}")
        if len(diffs) > most:
            parts[0].append(f"+{len(diffs) - most} more")
            parts[1].append(f"+{len(diffs) - most} more")
    if a.summary.get("seed") != b.summary.get("seed"):
        parts[0].append(f"seed {a.summary.get('seed')}")
        parts[1].append(f"seed {b.summary.get('seed')}")
    if not parts[0]:
        return a, b
    return (replace(a, name=", ".join(parts[0])), replace(b, name=", ".join(parts[1])))
