"""The plots of a run, from aggregates only (never per-citizen arrays), for reports and pages.

Each function takes what a stored run or the live city can give cheaply — the summary, the
daily series, score histograms (a :class:`~xinyong.views.run_data.RunData`) — and returns Plotly
figures with titles: a run's plots (:func:`city_figures`, with the chilling effect among them),
and two runs' differences (:func:`compare_figures`).

What a figure reads lives in :mod:`xinyong.views.run_data` and the summary table's formatting in
:mod:`xinyong.views.summary_table`; the names of theirs that were first imported from here are
still importable from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

# RunData and side_names are what the plots read; the rest is re-exported, for those who
# import it from here.
from xinyong.views.record_plot import record_figures
from xinyong.views.run_data import RunData, named_by_differences, run_data, side_names
from xinyong.views.summary_table import format_difference, format_value, summary_rows

__all__ = [
    "PALETTE",
    "RunData",
    "city_figures",
    "compare_figures",
    "format_difference",
    "format_value",
    "grade_colours",
    "named_by_differences",
    "run_data",
    "side_names",
    "summary_rows",
]

#: 24 distinguishable colours, so that 13 to 17 series never share one.
PALETTE: list[str] = list(qualitative.Dark24)

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 360,
    "colorway": PALETTE,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "y": -0.25},
}


def grade_colours(grades: list[str]) -> dict[str, str]:
    """One colour per grade in grade order, best (green) to worst (red)."""
    if len(grades) == 1:
        return {grades[0]: "#1a9850"}
    steps = [i / (len(grades) - 1) for i in range(len(grades))]
    return dict(zip(grades, sample_colorscale("RdYlGn_r", steps), strict=True))


def _figure(title: str, traces: list[go.BaseTraceType], **layout: Any) -> tuple[str, go.Figure]:
    fig = go.Figure(traces)
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    bars = [t for t in traces if isinstance(t, go.Bar)]
    if bars:  # counts start at zero, and all-zero bars (day 0) do not show -1 to 1
        axis = fig.update_xaxes if bars[0].orientation == "h" else fig.update_yaxes
        values = [
            v
            for t in bars
            for v in (t.x if t.orientation == "h" else t.y)
            if t.x is not None and t.y is not None
        ]
        if values and not any(values) and layout.get("yaxis_type") != "log":
            axis(range=[0, 1])
        elif layout.get("yaxis_type") != "log":
            axis(rangemode="tozero")
    return title, fig


def _days_axis(d: pd.DataFrame, s: dict[str, Any]) -> dict[str, Any]:
    """A day axis that makes sense even before the first day (never -1 to 1)."""
    last = int(d["day"].max()) if len(d) else 0
    return {"xaxis_title": "day", "xaxis_range": [0, max(last, 1)], "yaxis_rangemode": "tozero"}


def _score_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    out = []
    colours = grade_colours([g for g, _ in data.grades])
    for op, h in data.histograms.items():
        traces = [
            go.Bar(
                x=h["bin"] + 5,
                y=h["count"],
                width=10,
                name="scores",
                marker_color="#2c7fb8",
                opacity=0.75,
            )
        ]  # a bar spans its 10 points
        if "counterfactual" in h:
            traces.append(
                go.Scatter(
                    x=h["bin"] + 5,
                    y=h["counterfactual"],
                    name="error-free scores",
                    mode="lines",
                    line={"shape": "hvh", "color": "#e6550d", "width": 2},
                )
            )
        title, fig = _figure(
            f"Scores and error-free scores — {op}",
            traces,
            barmode="overlay",
            xaxis_title="score (points)",
            yaxis_title="subjects",
            yaxis_type="log",
        )
        if op == next(iter(data.histograms)):  # the first scheme's grade bands
            for grade, least in data.grades:
                fig.add_vline(
                    x=least,
                    line_dash="dot",
                    line_color=colours[grade],
                    annotation_text=grade,
                    annotation_position="top",
                    annotation_font_size=10,
                )
        out.append((title, fig))
    return out


def _grade_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    shares = [c for c in d.columns if c.startswith("share_")]
    order = [g for g, _ in data.grades] + [data.listed_grade]
    shares.sort(key=lambda c: order.index(c[6:]) if c[6:] in order else len(order))
    colours = grade_colours([c[6:] for c in shares])
    if shares:
        out.append(
            _figure(
                "Grade shares over time (log scale: small grades show)",
                [
                    go.Scatter(
                        x=d["day"],
                        y=d[c].where(d[c] > 0),
                        name=c[6:],
                        mode="lines",
                        line={"color": colours[c[6:]]},
                    )
                    for c in shares
                ],
                yaxis_type="log",
                yaxis_title="share of those covered",
                yaxis_tickformat=".2~%",
                **{k: v for k, v in _days_axis(d, s).items() if k != "yaxis_rangemode"},
            )
        )
    matrix = s.get("grade_matrix")
    if matrix:
        real = [g for g in order if g in matrix] + [g for g in matrix if g not in order]
        cols = sorted(
            {g for row in matrix.values() for g in row},
            key=lambda g: order.index(g) if g in order else len(order),
        )
        z = [[matrix[r].get(c, 0) for c in cols] for r in real]
        out.append(
            _figure(
                "Real grade against error-free grade (citizens)",
                [
                    go.Heatmap(
                        z=np.log10(np.asarray(z, dtype=float) + 1),
                        x=cols,
                        y=real,
                        text=z,
                        texttemplate="%{text:,}",
                        colorscale="Blues",
                        showscale=False,
                        hovertemplate="real %{y}, error-free %{x}: %{text:,}<extra></extra>",
                    )
                ],
                xaxis_title="error-free grade",
                yaxis_title="real grade",
                yaxis_autorange="reversed",
                xaxis_type="category",
                yaxis_type="category",
            )
        )
    return out


def _list_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    traces = []
    if "counterfactual_listed" in d:
        traces.append(
            go.Scatter(
                x=d["day"],
                y=d["counterfactual_listed"],
                name="listed without errors",
                line={"dash": "dash", "color": "#888"},
            )
        )
    if "listed" in d:  # drawn last, on top, and thicker: it never hides under the other
        traces.append(
            go.Scatter(
                x=d["day"], y=d["listed"], name="listed", line={"width": 3, "color": "#c0392b"}
            )
        )
    if "wrongly_listed" in d:
        traces.append(
            go.Scatter(
                x=d["day"], y=d["wrongly_listed"], name="wrongly listed", line={"color": "#8e44ad"}
            )
        )
    out.append(_figure("Listed over time", traces, yaxis_title="citizens", **_days_axis(d, s)))
    dl = data.daily_lists
    if dl is not None and len(dl):
        groups = list(dl.groupby(["operator", "list"]))
        out.append(
            _figure(
                "List members over time",
                [
                    go.Scatter(x=g["day"], y=g["members"], name=f"{op}: {name}")
                    for (op, name), g in groups
                ],
                yaxis_title="members",
                **_days_axis(dl, s),
            )
        )
        if "wrongly_listed" in dl:
            out.append(
                _figure(
                    "Wrongly listed on each list over time",
                    [
                        go.Scatter(x=g["day"], y=g["wrongly_listed"], name=f"{op}: {name}")
                        for (op, name), g in groups
                    ],
                    yaxis_title="members the error-free system would not list",
                    **_days_axis(dl, s),
                )
            )
    for label, frame in data.listed_by.items():
        out.append(
            _figure(
                f"Who is listed, by {label}",
                [
                    go.Bar(
                        x=frame["grp"], y=frame["listed"], name="listed", marker_color="#c0392b"
                    ),
                    go.Bar(
                        x=frame["grp"],
                        y=frame["counterfactual"],
                        name="listed without errors",
                        marker_color="#888",
                    ),
                ],
                barmode="group",
                yaxis_tickformat=".2~%",
                yaxis_title="share of the group",
                xaxis_title=label,
                xaxis_type="category",
            )
        )
    return out


def _service_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    if s.get("gate_decisions"):
        services = sorted(s["gate_decisions"], key=lambda v: sum(s["gate_decisions"][v].values()))
        actions = {
            "deny": "#c0392b",
            "restrict": "#e67e22",
            "priority": "#2980b9",
            "discount": "#27ae60",
            "waive": "#16a085",
        }
        out.append(
            _figure(
                "Sanctions and rewards at the point of service",
                [
                    go.Bar(
                        y=services,
                        x=[s["gate_decisions"][v].get(a, 0) for v in services],
                        name=a,
                        orientation="h",
                        marker_color=colour,
                    )
                    for a, colour in actions.items()
                ],
                barmode="stack",
                xaxis_title="gate decisions",
                height=max(360, 22 * len(services) + 120),
                margin={"l": 170, "r": 20, "t": 110, "b": 50},
                legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            )
        )
        denied = [c for c in d.columns if c.startswith("denied_")]
        if denied:
            out.append(
                _figure(
                    "Gate denials over time",
                    [
                        go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("denied_"))
                        for c in denied
                    ],
                    yaxis_title="denials a day",
                    **_days_axis(d, s),
                )
            )
    harms = {"wrongly listed now": s.get("wrongly_listed", 0)}
    if "children_affected" in s:
        harms["children affected"] = s["children_affected"]
    for op, figures in s.get("operators", {}).items():
        for name, lst in figures.get("lists", {}).items():
            harms[f"wrongly on {op}: {name}"] = lst["wrongly_listed"]
    out.append(
        _figure(
            "Harms to citizens",
            [go.Bar(x=list(harms), y=list(harms.values()), marker_color="#8e44ad")],
            yaxis_title="citizens",
            xaxis_tickangle=-30,
        )
    )
    if "wrongly_denied" in s:
        out.append(
            _figure(
                "Refusals at the point of service",
                [
                    go.Bar(
                        x=["all denials", "wrongful refusals"],
                        y=[s.get("gate_denials", 0), s["wrongly_denied"]],
                        marker_color=["#c0392b", "#8e44ad"],
                    )
                ],
                yaxis_title="refusals",
            )
        )
    return out


def chilling_rows(data: RunData) -> pd.DataFrame | None:
    """Each behaviour's change against the city without consequences, with a 95 % interval.

    Uses the summary's ``chilling_detail`` when the run has one; otherwise the interval is the
    Poisson one of the ratio of the two counts (log ratio ± 1.96 √(1/a + 1/b)).
    """
    detail = data.summary.get("chilling_detail")
    if detail:
        rows = [
            {
                "behaviour": k,
                "change": v.get("change", v.get("ratio", 1) - 1),
                "lo": v.get("lo", np.nan),
                "hi": v.get("hi", np.nan),
            }
            for k, v in detail.items()
            if isinstance(v, dict)
        ]
        frame = pd.DataFrame(rows)
    elif (
        data.daily_behaviours is not None
        and "occurred_without_consequences" in data.daily_behaviours
    ):
        sums = data.daily_behaviours.groupby("behaviour")[
            ["occurred", "occurred_without_consequences"]
        ].sum()
        sums = sums[sums["occurred_without_consequences"] > 0]
        a = sums["occurred"].to_numpy(float)
        b = sums["occurred_without_consequences"].to_numpy(float)
        ratio = np.where(a > 0, a, 0.5) / b
        se = np.sqrt(1 / np.maximum(a, 0.5) + 1 / b)
        frame = pd.DataFrame(
            {
                "behaviour": sums.index,
                "change": a / b - 1,
                "lo": ratio * np.exp(-1.96 * se) - 1,
                "hi": ratio * np.exp(1.96 * se) - 1,
            }
        )
    elif data.summary.get("chilling"):
        frame = pd.DataFrame(
            {
                "behaviour": list(data.summary["chilling"]),
                "change": list(data.summary["chilling"].values()),
            }
        )
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
    for harmful, label, colour in (
        (True, "punished behaviour (deterrence, intended)", "#2c7fb8"),
        (False, "rewarded or neutral behaviour (chilling, unintended)", "#d95f0e"),
    ):
        part = rows[[data.harmful.get(b, False) == harmful for b in rows["behaviour"]]]
        if len(part):
            traces.append(
                go.Scatter(
                    x=part["change"],
                    y=part["behaviour"],
                    mode="markers",
                    name=label,
                    marker={"color": colour, "size": 9},
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": (part["hi"] - part["change"]).tolist(),
                        "arrayminus": (part["change"] - part["lo"]).tolist(),
                    },
                )
            )
    height, margin = max(420, 22 * len(rows) + 260), {"l": 170, "r": 20, "t": 115, "b": 135}
    below = 75 / (height - margin["t"] - margin["b"])  # the legend clears ticks and title
    title, fig = _figure(
        CHILLING_TITLE,
        traces,
        height=height,
        xaxis_tickformat="+.0%",
        xaxis_title="change in how often it happens (95% interval)",
        margin=margin,
        yaxis_type="category",
        legend={"orientation": "h", "y": -below, "yanchor": "top", "x": 0},
    )
    fig.add_vline(x=0, line_color="#444")
    fig.update_layout(
        title={
            "text": title,
            "subtitle": {  # what the counts cover
                "text": _chilling_counts(data, len(rows)),
                "font": {"size": 11, "color": "#555"},
            },
        }
    )
    return title, fig


def _chilling_counts(data: RunData, behaviours: int) -> str:
    """What the chilling plot counts, in words: which behaviours, whose, which days."""
    s = data.summary
    days = int(s.get("days", 0))
    whose = f"{int(s['citizens']):,} citizens" if "citizens" in s else "citizens"
    if data.scenario is not None and any(b.subject == "company" for b in data.scenario.behaviours):
        organisations = s.get("population", {}).get("organisations")
        whose += f" and {organisations:,} organisations" if organisations else " and organisations"
    span = "day 0" if days == 1 else f"days 0–{days - 1}"
    return (
        f"Occurrences of {behaviours} behaviours by all {whose},<br>{span}, against "
        f"a twin city (same seed) where nothing acts on people<br>(behaviours never done "
        f"in the twin left out). Bars: exact 95% interval."
    )


def _chilling_missing(data: RunData) -> str | None:
    """Why there is no chilling plot, for the note in its place; None: no note."""
    s = data.summary
    if "chilling" in s or "chilling_detail" in s:  # a twin, with nothing done yet
        if not s.get("days"):
            return (
                "Day 0: nothing has been done yet.<br>Advance the city to compare what "
                "people do<br>with what they would do with nothing acting on them."
            )
        return "No behaviour has happened yet, with or without consequences."
    scenario = data.scenario
    if scenario is not None and scenario.consequences is None and scenario.response is None:
        return (
            f"Not measured: scenario '{scenario.name}' has no sanctions or responses,<br>"
            f"so no twin city without consequences is run to compare with."
        )
    return None


def _note_figure(title: str, note: str) -> tuple[str, go.Figure]:
    """A plot's place with a note instead of empty axes (at day 0, say)."""
    fig = go.Figure()
    fig.update_layout(
        title=title,
        **{**_LAYOUT, "height": 260},
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    fig.add_annotation(
        text=note,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": "#555"},
    )
    return title, fig


def city_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    """Every plot of one run, in reading order."""
    d, s = data.daily, data.summary
    out = _score_figures(data) + _grade_figures(data) + _list_figures(data)
    sensors = [c for c in d.columns if c.startswith("recorded_")]
    out.append(
        _figure(
            "Events recorded by sensor",
            [
                go.Scatter(x=d["day"], y=d[c], name=c.removeprefix("recorded_"), stackgroup="s")
                for c in sensors
            ],
            yaxis_title="events a day",
            **_days_axis(d, s),
        )
    )
    out += _service_figures(data)
    chill = chilling_figure(data)
    if chill is not None:
        out.append(chill)
    return out + record_figures(data.record_series, data.summary)


_COUNTS = (
    ("listed", "Listed", "citizens"),
    ("wrongly_listed", "Wrongly listed", "citizens"),
    ("recorded", "Events recorded", "events a day"),
    ("misattributed", "Events misattributed", "events a day"),
)


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
        both = a.daily[["day", column]].merge(
            b.daily[["day", column]], on="day", suffixes=("_a", "_b")
        )
        diff = both[f"{column}_b"] - both[f"{column}_a"]
        if column == "mean_score":  # a running state: its chance drift grows like √days
            step = float(diff.diff().std()) if len(diff) > 2 else 0.0
            half = 1.96 * step * np.sqrt(np.arange(1, len(both) + 1))
        else:
            half = 1.96 * np.sqrt(both[f"{column}_a"] + both[f"{column}_b"]).to_numpy()
        day = both["day"].tolist()
        out.append(
            _figure(
                f"{label}: B − A",
                [
                    go.Scatter(
                        x=day + day[::-1],
                        y=list(half) + list(-half[::-1]),
                        fill="toself",
                        fillcolor="rgba(120,120,120,0.2)",
                        line={"width": 0},
                        name="95% band of chance",
                        hoverinfo="skip",
                    ),
                    go.Scatter(x=day, y=diff, name="B − A", line={"color": "#c0392b"}),
                ],
                yaxis_title=f"{unit}, B − A",
                xaxis_title="day",
                annotations=[
                    {
                        "text": f"{name_b} minus {name_a}",
                        "xref": "paper",
                        "yref": "paper",
                        "x": 0,
                        "y": 1.06,
                        "showarrow": False,
                        "font": {"size": 11},
                    }
                ],
            )
        )
    return out
