"""The plots of a run, from aggregates only (never per-citizen arrays), for reports and pages.

Each function takes what a stored run or the live city can give cheaply — the summary, the
daily series, score histograms — and returns Plotly figures with titles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = ["RunData", "city_figures", "compare_figures", "histogram", "named_by_differences",
           "run_data"]

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 340,
                           "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
                           "legend": {"orientation": "h", "y": -0.2}}


@dataclass
class RunData:
    """The aggregates a run's plots are drawn from."""

    name: str
    summary: dict[str, Any]
    daily: pd.DataFrame
    histograms: dict[str, pd.DataFrame] = field(default_factory=dict)  # operator -> bin, count
    daily_lists: pd.DataFrame | None = None
    scenario: Any = None  # the run's Scenario, to name two runs by what differs between them


def histogram(scores: np.ndarray, width: int = 10) -> pd.DataFrame:
    """Counts of scores in bins of ``width`` points."""
    bins = (scores // width) * width
    values, counts = np.unique(bins, return_counts=True)
    return pd.DataFrame({"bin": values, "count": counts})


def run_data(run: Any) -> RunData:
    """Aggregates of a stored run (a :class:`xinyong.Run`)."""
    hist = {}
    for index, op in enumerate(run.operators):
        hist[op.name] = run.query(
            "SELECT (score // 10) * 10 AS bin, count(*) AS count FROM standings "
            "WHERE operator = ? AND covered GROUP BY 1 ORDER BY 1", [index])
    tables = set(run.query("SELECT table_name FROM duckdb_tables()")["table_name"])
    lists = run.query("SELECT * FROM daily_lists") if "daily_lists" in tables else None
    name = f"{run.summary['scenario']} (seed {run.summary['seed']})"
    return RunData(name, run.summary, run.daily, hist, lists, run.scenario)


def named_by_differences(a: RunData, b: RunData, most: int = 3) -> tuple[RunData, RunData]:
    """Two runs renamed by what differs between them: the fields their scenarios set apart
    (overrides, edits), the seed, or the scenario itself; not 'scenario (seed)' twice."""
    from dataclasses import replace

    from xinyong.overrides import differences

    parts: tuple[list[str], list[str]] = ([], [])
    sa, sb = a.summary.get("scenario"), b.summary.get("scenario")
    diffs = {} if a.scenario is None or b.scenario is None else {
        k: v for k, v in differences(a.scenario, b.scenario).items() if k != "name"}
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


def _figure(title: str, traces: list[go.BaseTraceType], **layout: Any) -> tuple[str, go.Figure]:
    fig = go.Figure(traces)
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return title, fig


def city_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    """Every plot of one run, in reading order."""
    d, s = data.daily, data.summary
    out = []
    for op, h in data.histograms.items():
        out.append(_figure(f"Score distribution — {op}", [go.Bar(x=h["bin"], y=h["count"],
                                                                   name=op)],
                           xaxis_title="score (points)", yaxis_title="subjects"))
    shares = [c for c in d.columns if c.startswith("share_")]
    if shares:
        out.append(_figure("Grade shares over time", [
            go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("share_"), stackgroup="g")
            for c in shares], xaxis_title="day", yaxis_title="share", yaxis_tickformat=".0%"))
    listed = [c for c in ("listed", "counterfactual_listed", "wrongly_listed") if c in d]
    out.append(_figure("Listed over time", [go.Scatter(x=d["day"], y=d[c],
                                                       name=c.replace("_", " "))
                                            for c in listed],
                       xaxis_title="day", yaxis_title="citizens"))
    sensors = [c for c in d.columns if c.startswith("recorded_")]
    out.append(_figure("Events recorded by sensor", [
        go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("recorded_"), stackgroup="s")
        for c in sensors], xaxis_title="day", yaxis_title="events a day"))
    if data.daily_lists is not None and len(data.daily_lists):
        dl = data.daily_lists
        out.append(_figure("List members over time", [
            go.Scatter(x=g["day"], y=g["members"], name=f"{op}: {name}")
            for (op, name), g in dl.groupby(["operator", "list"])],
            xaxis_title="day", yaxis_title="members"))
    if s.get("gate_decisions"):
        services = list(s["gate_decisions"])
        actions = ["deny", "restrict", "priority", "discount", "waive"]
        out.append(_figure("Sanctions and rewards at the point of service", [
            go.Bar(x=services, y=[s["gate_decisions"][v].get(a, 0) for v in services], name=a)
            for a in actions], barmode="stack", yaxis_title="gate decisions"))
        denied = [c for c in d.columns if c.startswith("denied_")]
        if denied:
            out.append(_figure("Gate denials over time", [
                go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("denied_"))
                for c in denied], xaxis_title="day", yaxis_title="denials a day"))
    harms = {"wrongly listed now": s.get("wrongly_listed", 0)}
    if "wrongly_denied" in s:
        harms["wrongful refusals"] = s["wrongly_denied"]
    if "children_affected" in s:
        harms["children affected"] = s["children_affected"]
    for op, figures in s.get("operators", {}).items():
        for name, lst in figures.get("lists", {}).items():
            harms[f"wrongly on {op}: {name}"] = lst["wrongly_listed"]
    out.append(_figure("Harms", [go.Bar(x=list(harms), y=list(harms.values()))],
                       yaxis_title="citizens (or refusals)"))
    if s.get("chilling"):
        chill = dict(sorted(s["chilling"].items(), key=lambda kv: kv[1]))
        detail = s.get("chilling_detail", {})
        bars = {"error_x": {"type": "data", "symmetric": False, "color": "#555",
                            "array": [detail[k]["hi"] - v for k, v in chill.items()],
                            "arrayminus": [v - detail[k]["lo"] for k, v in chill.items()]},
                "hovertext": [f"{detail[k]['with']:,} vs {detail[k]['without']:,} events"
                              for k in chill]} if all(k in detail for k in chill) else {}
        out.append(_figure("Chilling effect (against the city without consequences; 95 %)",
                           [go.Bar(x=list(chill.values()), y=list(chill), orientation="h",
                                   marker_color=["#c0392b" if v < 0 else "#27ae60"
                                                 for v in chill.values()], **bars)],
                           height=max(340, 16 * len(chill)), xaxis_tickformat="+.0%",
                           xaxis_range=_chilling_range(chill, detail)))
    return out


def _chilling_range(chill: dict[str, float], detail: dict[str, dict]) -> list[float] | None:
    """An axis for the changes and their intervals, cut at -100 % and +100 %: a rare
    behaviour's interval can reach thousands of percent and would hide the rest."""
    ends = [v for k, c in chill.items() for v in (c, detail.get(k, {}).get("lo", c),
                                                  detail.get(k, {}).get("hi", c))]
    if not ends or (min(ends) >= -1.0 and max(ends) <= 1.0):
        return None
    return [max(-1.05, min(ends) - 0.05), min(1.05, max(ends) + 0.05)]


def compare_figures(a: RunData, b: RunData) -> list[tuple[str, go.Figure]]:
    """The series of two runs on the same axes (A solid, B dashed)."""
    out = []
    for column, label in (("mean_score", "Mean score"), ("listed", "Listed"),
                          ("wrongly_listed", "Wrongly listed"), ("recorded", "Events recorded"),
                          ("misattributed", "Events misattributed")):
        if column in a.daily and column in b.daily:
            out.append(_figure(f"{label}: A against B", [
                go.Scatter(x=a.daily["day"], y=a.daily[column], name=f"A {a.name}"),
                go.Scatter(x=b.daily["day"], y=b.daily[column], name=f"B {b.name}",
                           line={"dash": "dash"})], xaxis_title="day"))
    return out


def summary_rows(a: dict[str, Any], b: dict[str, Any] | None = None
                 ) -> list[tuple[str, Any, Any, bool]]:
    """Flat (figure, A, B, differs) rows of one or two summaries."""
    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    fa, fb = flat(a), flat(b or {})
    rows = []
    for key in list(fa) + [k for k in fb if k not in fa]:
        va, vb = fa.get(key), fb.get(key)
        differs = False
        if b is not None and key not in ("wall_seconds", "seed"):
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
                differs = abs(va - vb) > 1e-9 * max(1.0, abs(va), abs(vb))
            else:
                differs = va != vb
        rows.append((key, va, vb, differs))
    return rows
