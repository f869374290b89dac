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
from plotly.colors import qualitative, sample_colorscale

from xinyong.views.describe import odd

__all__ = ["PALETTE", "RunData", "city_figures", "compare_figures", "grade_colours",
           "histogram", "named_by_differences", "run_data", "side_names"]

#: 24 distinguishable colours, so that 13 to 17 series never share one.
PALETTE: list[str] = list(qualitative.Dark24)

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 360, "colorway": PALETTE,
                           "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
                           "legend": {"orientation": "h", "y": -0.25}}

AGE_BANDS = ((0, 18, "under 18"), (18, 30, "18-29"), (30, 45, "30-44"), (45, 60, "45-59"),
             (60, 200, "60 and over"))


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
        harmful: behaviour -> whether the scheme punishes it (for the chilling plot).
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
    scenario: Any = None  # the run's Scenario, to name two runs by what differs between them


def histogram(scores: np.ndarray, width: int = 10,
              counterfactual: np.ndarray | None = None) -> pd.DataFrame:
    """Counts of scores (and of error-free scores) in bins of ``width`` points."""
    bins = (scores // width) * width
    values, counts = np.unique(bins, return_counts=True)
    frame = pd.DataFrame({"bin": values, "count": counts})
    if counterfactual is not None:
        cf = pd.Series((counterfactual // width) * width).value_counts()
        frame = frame.merge(pd.DataFrame({"bin": cf.index, "counterfactual": cf.to_numpy()}),
                            on="bin", how="outer").fillna(0).sort_values("bin")
    return frame


def grade_colours(grades: list[str]) -> dict[str, str]:
    """One colour per grade in grade order, best (green) to worst (red)."""
    if len(grades) == 1:
        return {grades[0]: "#1a9850"}
    steps = [i / (len(grades) - 1) for i in range(len(grades))]
    return dict(zip(grades, sample_colorscale("RdYlGn_r", steps), strict=True))


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
            "WHERE operator = ? AND covered GROUP BY 1", [index])
        cf = run.query(
            "SELECT (counterfactual_score // 10) * 10 AS bin, count(*) AS counterfactual "
            "FROM standings WHERE operator = ? AND covered GROUP BY 1", [index])
        hist[op.name] = real.merge(cf, on="bin", how="outer").fillna(0).sort_values("bin")
    tables = set(run.query("SELECT table_name FROM duckdb_tables()")["table_name"])
    lists = run.query("SELECT * FROM daily_lists") if "daily_lists" in tables else None
    behaviours = run.query("SELECT * FROM daily_behaviours") if "daily_behaviours" in tables \
        else None
    scheme = run.operators[0].scheme
    listed_by: dict[str, pd.DataFrame] = {}
    if run.scenario.population is not None and "population" in tables:
        bands = list(run.scenario.population.income_bands)
        ages = " ".join(f"WHEN p.age < {hi} THEN '{label}'" for _, hi, label in AGE_BANDS)
        for label, expr in (("age", f"CASE {ages} END"), ("district", "p.district"),
                            ("income band", "p.income_band")):
            frame = run.query(
                f"SELECT {expr} AS grp, avg(s.listed::INT) AS listed, "
                f"avg(s.counterfactual_listed::INT) AS counterfactual, count(*) AS n "
                f"FROM standings s JOIN population p ON p.citizen = s.subject "
                f"WHERE s.operator = 0 AND s.covered GROUP BY 1 ORDER BY 1")
            if label == "income band":
                frame["grp"] = [bands[int(i)] for i in frame["grp"]]
            elif label == "age":
                order = {lab: i for i, (_, _, lab) in enumerate(AGE_BANDS)}
                frame = frame.sort_values("grp", key=lambda c: c.map(order))
            else:
                frame["grp"] = [f"district {int(d)}" for d in frame["grp"]]
            listed_by[label] = frame
    return RunData(f"{run.summary['scenario']} (seed {run.summary['seed']})", run.summary,
                   run.daily, hist, lists, [(g.grade, g.min) for g in scheme.grades],
                   scheme.listed_grade, harmful_behaviours(run.scenario), behaviours,
                   listed_by, odd(run.scenario), scenario=run.scenario)


def harmful_behaviours(scenario: Any) -> dict[str, bool]:
    """Behaviour -> True for what the system is meant to deter, False for what it rewards."""
    return {b.name: scenario.is_harmful(b) for b in scenario.behaviours}


def named_by_differences(a: RunData, b: RunData, most: int = 3) -> tuple[RunData, RunData]:
    """Two runs renamed by what differs between them: the fields their scenarios set apart
    (overrides, edits), the seed, or the scenario itself; not 'scenario (seed)' twice."""
    from dataclasses import replace

    from xinyong.studies.overrides import differences

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
    bars = [t for t in traces if isinstance(t, go.Bar)]
    if bars:  # counts start at zero, and all-zero bars (day 0) do not show -1 to 1
        axis = fig.update_xaxes if bars[0].orientation == "h" else fig.update_yaxes
        values = [v for t in bars for v in (t.x if t.orientation == "h" else t.y)
                  if t.x is not None and t.y is not None]
        if values and not any(values) and layout.get("yaxis_type") != "log":
            axis(range=[0, 1])
        elif layout.get("yaxis_type") != "log":
            axis(rangemode="tozero")
    return title, fig


def _days_axis(d: pd.DataFrame, s: dict[str, Any]) -> dict[str, Any]:
    """A day axis that makes sense even before the first day (never -1 to 1)."""
    last = int(d["day"].max()) if len(d) else 0
    return {"xaxis_title": "day", "xaxis_range": [0, max(last, 1)],
            "yaxis_rangemode": "tozero"}


def _score_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    out = []
    colours = grade_colours([g for g, _ in data.grades])
    for op, h in data.histograms.items():
        traces = [go.Bar(x=h["bin"] + 5, y=h["count"], width=10, name="scores",
                         marker_color="#2c7fb8", opacity=0.75)]  # a bar spans its 10 points
        if "counterfactual" in h:
            traces.append(go.Scatter(x=h["bin"] + 5, y=h["counterfactual"],
                                     name="error-free scores",
                                     mode="lines", line={"shape": "hvh", "color": "#e6550d",
                                                         "width": 2}))
        title, fig = _figure(f"Scores and error-free scores — {op}", traces, barmode="overlay",
                             xaxis_title="score (points)", yaxis_title="subjects",
                             yaxis_type="log")
        if op == next(iter(data.histograms)):  # the first scheme's grade bands
            for grade, least in data.grades:
                fig.add_vline(x=least, line_dash="dot", line_color=colours[grade],
                              annotation_text=grade, annotation_position="top",
                              annotation_font_size=10)
        out.append((title, fig))
    return out


def _grade_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    shares = [c for c in d.columns if c.startswith("share_")]
    order = [g for g, _ in data.grades] + [data.listed_grade]
    shares.sort(key=lambda c: order.index(c[6:]) if c[6:] in order else len(order))
    colours = grade_colours([c[6:] for c in shares])
    if shares:
        out.append(_figure("Grade shares over time (log scale: small grades show)", [
            go.Scatter(x=d["day"], y=d[c].where(d[c] > 0), name=c[6:], mode="lines",
                       line={"color": colours[c[6:]]}) for c in shares],
            yaxis_type="log", yaxis_title="share of those covered", yaxis_tickformat=".2~%",
            **{k: v for k, v in _days_axis(d, s).items() if k != "yaxis_rangemode"}))
    matrix = s.get("grade_matrix")
    if matrix:
        real = [g for g in order if g in matrix] + [g for g in matrix if g not in order]
        cols = sorted({g for row in matrix.values() for g in row},
                      key=lambda g: order.index(g) if g in order else len(order))
        z = [[matrix[r].get(c, 0) for c in cols] for r in real]
        out.append(_figure("Real grade against error-free grade (citizens)", [go.Heatmap(
            z=np.log10(np.asarray(z, dtype=float) + 1), x=cols, y=real, text=z,
            texttemplate="%{text:,}", colorscale="Blues", showscale=False,
            hovertemplate="real %{y}, error-free %{x}: %{text:,}<extra></extra>")],
            xaxis_title="error-free grade", yaxis_title="real grade",
            yaxis_autorange="reversed", xaxis_type="category", yaxis_type="category"))
    return out


def _list_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    traces = []
    if "counterfactual_listed" in d:
        traces.append(go.Scatter(x=d["day"], y=d["counterfactual_listed"],
                                 name="listed without errors", line={"dash": "dash",
                                                                     "color": "#888"}))
    if "listed" in d:  # drawn last, on top, and thicker: it never hides under the other
        traces.append(go.Scatter(x=d["day"], y=d["listed"], name="listed",
                                 line={"width": 3, "color": "#c0392b"}))
    if "wrongly_listed" in d:
        traces.append(go.Scatter(x=d["day"], y=d["wrongly_listed"], name="wrongly listed",
                                 line={"color": "#8e44ad"}))
    out.append(_figure("Listed over time", traces, yaxis_title="citizens",
                       **_days_axis(d, s)))
    dl = data.daily_lists
    if dl is not None and len(dl):
        groups = list(dl.groupby(["operator", "list"]))
        out.append(_figure("List members over time", [
            go.Scatter(x=g["day"], y=g["members"], name=f"{op}: {name}")
            for (op, name), g in groups], yaxis_title="members", **_days_axis(dl, s)))
        if "wrongly_listed" in dl:
            out.append(_figure("Wrongly listed on each list over time", [
                go.Scatter(x=g["day"], y=g["wrongly_listed"], name=f"{op}: {name}")
                for (op, name), g in groups], yaxis_title="members the error-free system "
                "would not list", **_days_axis(dl, s)))
    for label, frame in data.listed_by.items():
        out.append(_figure(f"Who is listed, by {label}", [
            go.Bar(x=frame["grp"], y=frame["listed"], name="listed", marker_color="#c0392b"),
            go.Bar(x=frame["grp"], y=frame["counterfactual"], name="listed without errors",
                   marker_color="#888")], barmode="group", yaxis_tickformat=".2~%",
            yaxis_title="share of the group", xaxis_title=label, xaxis_type="category"))
    return out


def _service_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    if s.get("gate_decisions"):
        services = sorted(s["gate_decisions"], key=lambda v: sum(s["gate_decisions"][v].values()))
        actions = {"deny": "#c0392b", "restrict": "#e67e22", "priority": "#2980b9",
                   "discount": "#27ae60", "waive": "#16a085"}
        out.append(_figure("Sanctions and rewards at the point of service", [
            go.Bar(y=services, x=[s["gate_decisions"][v].get(a, 0) for v in services], name=a,
                   orientation="h", marker_color=colour) for a, colour in actions.items()],
            barmode="stack", xaxis_title="gate decisions", height=max(360, 22 * len(services)
                                                                       + 120),
            margin={"l": 170, "r": 20, "t": 110, "b": 50},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}))
        denied = [c for c in d.columns if c.startswith("denied_")]
        if denied:
            out.append(_figure("Gate denials over time", [
                go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("denied_"))
                for c in denied], yaxis_title="denials a day", **_days_axis(d, s)))
    harms = {"wrongly listed now": s.get("wrongly_listed", 0)}
    if "children_affected" in s:
        harms["children affected"] = s["children_affected"]
    for op, figures in s.get("operators", {}).items():
        for name, lst in figures.get("lists", {}).items():
            harms[f"wrongly on {op}: {name}"] = lst["wrongly_listed"]
    out.append(_figure("Harms to citizens", [go.Bar(x=list(harms), y=list(harms.values()),
                                                    marker_color="#8e44ad")],
                       yaxis_title="citizens", xaxis_tickangle=-30))
    if "wrongly_denied" in s:
        out.append(_figure("Refusals at the point of service", [go.Bar(
            x=["all denials", "wrongful refusals"],
            y=[s.get("gate_denials", 0), s["wrongly_denied"]],
            marker_color=["#c0392b", "#8e44ad"])], yaxis_title="refusals"))
    return out


def chilling_rows(data: RunData) -> pd.DataFrame | None:
    """Each behaviour's change against the city without consequences, with a 95 % interval.

    Uses the summary's ``chilling_detail`` when the run has one; otherwise the interval is the
    Poisson one of the ratio of the two counts (log ratio ± 1.96 √(1/a + 1/b)).
    """
    detail = data.summary.get("chilling_detail")
    if detail:
        rows = [{"behaviour": k, "change": v.get("change", v.get("ratio", 1) - 1),
                 "lo": v.get("lo", np.nan), "hi": v.get("hi", np.nan)}
                for k, v in detail.items() if isinstance(v, dict)]
        frame = pd.DataFrame(rows)
    elif data.daily_behaviours is not None and "occurred_without_consequences" in \
            data.daily_behaviours:
        sums = data.daily_behaviours.groupby("behaviour")[
            ["occurred", "occurred_without_consequences"]].sum()
        sums = sums[sums["occurred_without_consequences"] > 0]
        a = sums["occurred"].to_numpy(float)
        b = sums["occurred_without_consequences"].to_numpy(float)
        ratio = np.where(a > 0, a, 0.5) / b
        se = np.sqrt(1 / np.maximum(a, 0.5) + 1 / b)
        frame = pd.DataFrame({"behaviour": sums.index, "change": a / b - 1,
                              "lo": ratio * np.exp(-1.96 * se) - 1,
                              "hi": ratio * np.exp(1.96 * se) - 1})
    elif data.summary.get("chilling"):
        frame = pd.DataFrame({"behaviour": list(data.summary["chilling"]),
                              "change": list(data.summary["chilling"].values())})
        frame["lo"] = frame["hi"] = np.nan
    else:
        return None
    return frame.sort_values("change").reset_index(drop=True) if len(frame) else None


CHILLING_TITLE = "Chilling effect, against the city without consequences"


def chilling_figure(data: RunData) -> tuple[str, go.Figure] | None:
    """The chilling effect: harmful behaviours deterred (intended) against rewarded ones
    chilled (unintended), each with its 95 % interval, and what the counts cover (which
    behaviours, whose, over which days); a note in place of the plot when there is nothing to
    show yet, or when the scenario keeps no twin to compare with (None for a stored run of
    a scenario with sanctions or responses but no twin: one stored before twins were kept)."""
    rows = chilling_rows(data)
    if rows is None:
        note = _chilling_missing(data)
        return None if note is None else _note_figure(CHILLING_TITLE, note)
    traces = []
    for harmful, label, colour in ((True, "punished behaviour (deterrence, intended)",
                                    "#2c7fb8"),
                                   (False, "rewarded or neutral behaviour (chilling, "
                                           "unintended)", "#d95f0e")):
        part = rows[[data.harmful.get(b, False) == harmful for b in rows["behaviour"]]]
        if len(part):
            traces.append(go.Scatter(
                x=part["change"], y=part["behaviour"], mode="markers", name=label,
                marker={"color": colour, "size": 9},
                error_x={"type": "data", "symmetric": False,
                         "array": (part["hi"] - part["change"]).tolist(),
                         "arrayminus": (part["change"] - part["lo"]).tolist()}))
    height, margin = max(420, 22 * len(rows) + 260), {"l": 170, "r": 20, "t": 115, "b": 135}
    below = 75 / (height - margin["t"] - margin["b"])  # the legend clears ticks and title
    title, fig = _figure(CHILLING_TITLE, traces, height=height, xaxis_tickformat="+.0%",
                         xaxis_title="change in how often it happens (95% interval)",
                         margin=margin, yaxis_type="category",
                         legend={"orientation": "h", "y": -below, "yanchor": "top", "x": 0})
    fig.add_vline(x=0, line_color="#444")
    fig.update_layout(title={"text": title, "subtitle": {  # what the counts cover
        "text": _chilling_counts(data, len(rows)), "font": {"size": 11, "color": "#555"}}})
    return title, fig


def _chilling_counts(data: RunData, behaviours: int) -> str:
    """What the chilling plot counts, in words: which behaviours, whose, which days."""
    s = data.summary
    days = int(s.get("days", 0))
    whose = f"{int(s['citizens']):,} citizens" if "citizens" in s else "citizens"
    if data.scenario is not None and any(b.subject == "company"
                                         for b in data.scenario.behaviours):
        organisations = s.get("population", {}).get("organisations")
        whose += f" and {organisations:,} organisations" if organisations else \
            " and organisations"
    span = "day 0" if days == 1 else f"days 0–{days - 1}"
    return (f"Occurrences of {behaviours} behaviours by all {whose},<br>{span}, against "
            f"a twin city (same seed) where nothing acts on people<br>(behaviours never done "
            f"in the twin left out). Bars: exact 95% interval.")


def _chilling_missing(data: RunData) -> str | None:
    """Why there is no chilling plot, for the note in its place; None: no note."""
    s = data.summary
    if "chilling" in s or "chilling_detail" in s:  # a twin, with nothing done yet
        if not s.get("days"):
            return ("Day 0: nothing has been done yet.<br>Advance the city to compare what "
                    "people do<br>with what they would do with nothing acting on them.")
        return "No behaviour has happened yet, with or without consequences."
    scenario = data.scenario
    if scenario is not None and scenario.consequences is None and scenario.response is None:
        return (f"Not measured: scenario '{scenario.name}' has no sanctions or responses,<br>"
                f"so no twin city without consequences is run to compare with.")
    return None


def _note_figure(title: str, note: str) -> tuple[str, go.Figure]:
    """A plot's place with a note instead of empty axes (at day 0, say)."""
    fig = go.Figure()
    fig.update_layout(title=title, **{**_LAYOUT, "height": 260},
                      xaxis={"visible": False}, yaxis={"visible": False})
    fig.add_annotation(text=note, xref="paper", yref="paper", x=0.5, y=0.5,
                       showarrow=False, font={"size": 14, "color": "#555"})
    return title, fig


def city_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    """Every plot of one run, in reading order."""
    d, s = data.daily, data.summary
    out = _score_figures(data) + _grade_figures(data) + _list_figures(data)
    sensors = [c for c in d.columns if c.startswith("recorded_")]
    out.append(_figure("Events recorded by sensor", [
        go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("recorded_"), stackgroup="s")
        for c in sensors], yaxis_title="events a day", **_days_axis(d, s)))
    out += _service_figures(data)
    chill = chilling_figure(data)
    if chill is not None:
        out.append(chill)
    return out


_COUNTS = (("listed", "Listed", "citizens"), ("wrongly_listed", "Wrongly listed", "citizens"),
           ("recorded", "Events recorded", "events a day"),
           ("misattributed", "Events misattributed", "events a day"))


def compare_figures(a: RunData, b: RunData) -> list[tuple[str, go.Figure]]:
    """B − A for each daily series, with a 95 % band of chance variation around zero.

    For counts the band is Poisson's (± 1.96 √(A + B)); for the mean score, a running state,
    it is ± 1.96 √t times the standard deviation of the difference's day-to-day change.
    """
    name_a, name_b = side_names(a, b)
    out = []
    for column, label, unit in (("mean_score", "Mean score", "points"), *_COUNTS):
        if column not in a.daily or column not in b.daily:
            continue
        both = a.daily[["day", column]].merge(b.daily[["day", column]], on="day",
                                              suffixes=("_a", "_b"))
        diff = both[f"{column}_b"] - both[f"{column}_a"]
        if column == "mean_score":  # a running state: its chance drift grows like √days
            step = float(diff.diff().std()) if len(diff) > 2 else 0.0
            half = 1.96 * step * np.sqrt(np.arange(1, len(both) + 1))
        else:
            half = 1.96 * np.sqrt(both[f"{column}_a"] + both[f"{column}_b"]).to_numpy()
        day = both["day"].tolist()
        out.append(_figure(f"{label}: B − A", [
            go.Scatter(x=day + day[::-1], y=list(half) + list(-half[::-1]), fill="toself",
                       fillcolor="rgba(120,120,120,0.2)", line={"width": 0},
                       name="95% band of chance", hoverinfo="skip"),
            go.Scatter(x=day, y=diff, name="B − A", line={"color": "#c0392b"})],
            yaxis_title=f"{unit}, B − A", xaxis_title="day",
            annotations=[{"text": f"{name_b} minus {name_a}", "xref": "paper",
                          "yref": "paper", "x": 0, "y": 1.06, "showarrow": False,
                          "font": {"size": 11}}]))
    return out


def is_share(key: str) -> bool:
    """Whether a flattened summary key holds a fraction (shown as a percentage)."""
    return key.endswith("_share") or "_share." in key or key.startswith("grade_shares.") \
        or ".grade_shares." in key


def format_value(key: str, value: Any) -> str:
    """A summary figure as a reader wants it: shares as percentages, counts with commas."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float) and is_share(key):
        return f"{value:.3%}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_difference(key: str, a: Any, b: Any) -> str:
    """B − A in the figure's own unit (percentage points for shares); empty if not numbers."""
    numbers = (int, float)
    if not isinstance(a, numbers) or not isinstance(b, numbers) or isinstance(a, bool) \
            or isinstance(b, bool):
        return ""
    d = b - a
    if d == 0:
        return "0"
    if is_share(key):
        return f"{d * 100:+.3f}\u00a0pp"  # no break inside the figure
    if isinstance(d, int):
        return f"{d:+,}"
    return f"{d:+.4g}"


def summary_rows(a: dict[str, Any], b: dict[str, Any] | None = None
                 ) -> list[tuple[str, Any, Any, bool]]:
    """Flat (figure, A, B, differs) rows of one or two summaries.

    Two values differ when they differ as shown (equal-looking values are never highlighted);
    the seed and the wall time are not compared, and what the figures count (``about``) is
    left out.
    """
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
        if b is not None and key.startswith("about."):
            continue  # what a figure counts is said once, in the run's own report
        va, vb = fa.get(key), fb.get(key)
        differs = False
        if b is not None and key not in ("wall_seconds", "seed") and \
                not key.startswith("about."):
            differs = format_value(key, va) != format_value(key, vb)
        rows.append((key, va, vb, differs))
    return rows
