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

import re
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

# RunData and side_names are what the plots read; the rest is re-exported, for those who
# import it from here.
from xinyong.views.headline import grades_apart
from xinyong.views.record_plot import record_figures
from xinyong.views.run_data import RunData, named_by_differences, run_data, side_names
from xinyong.views.summary_table import format_difference, format_value, summary_rows

__all__ = [
    "CHILLING_GROUPS",
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
    "title_layout",
    "wrap",
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
#: Where a title sits: at the top of the picture, whatever the margin below it holds.
_TITLE: dict[str, Any] = {"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 12}}
#: Category slots a bar chart's axis always has room for: a chart of one or two bars keeps
#: narrow bars instead of one stretched across the plot.
_MIN_SLOTS = 8
#: Bins a histogram's axis always spans, for the same reason (a new city's scores sit in one).
_MIN_BINS = 15


def grade_colours(grades: list[str]) -> dict[str, str]:
    """One colour per grade in grade order, best (green) to worst (red), with the scale's pale
    middle left out so that no two grades look alike."""
    if len(grades) == 1:
        return {grades[0]: "#1a9850"}
    # Positions on RdYlGn_r from 0 (dark green) to 1 (dark red), skipping (0.38, 0.62).
    steps = [i / (len(grades) - 1) for i in range(len(grades))]
    spots = [0.76 * t if t < 0.5 else 0.24 + 0.76 * t for t in steps]
    return dict(zip(grades, sample_colorscale("RdYlGn_r", spots), strict=True))


def wrap(text: str, width: int = 42) -> str:
    """A title or label broken into lines of at most ``width`` characters, at spaces or
    after the dots of a long metric path, joined by ``<br>`` (42 characters of a title fit
    the narrowest plot, 440 px across)."""
    lines = [""]
    for word in text.split():
        for n, piece in enumerate(p for p in re.split(r"(?<=\.)", word) if p):
            glue = " " if n == 0 and lines[-1] else ""
            if not lines[-1] or len(lines[-1]) + len(glue) + len(piece) <= width:
                lines[-1] += glue + piece
            else:
                lines.append(piece)
    return "<br>".join(lines)


def title_layout(text: str, subtitle: str | None = None) -> dict[str, Any]:
    """A title at the top of the picture, with an optional grey subtitle under it."""
    out = {**_TITLE, "text": text}
    if subtitle:
        out["subtitle"] = {"text": subtitle, "font": {"size": 11, "color": "#555"}}
    return out


def _listed(values: Any) -> list[Any]:
    """A trace's coordinates as a list (none: empty)."""
    return [] if values is None else list(values)


def _values(trace: Any, axis: str) -> list[float]:
    values = getattr(trace, axis, None)
    if values is None:
        return []
    return [float(v) for v in values if isinstance(v, (int, float, np.integer, np.floating))]


def _figure(
    title: str,
    traces: list[go.BaseTraceType],
    subtitle: str | None = None,
    counts: str | None = None,
    **layout: Any,
) -> tuple[str, go.Figure]:
    """A titled figure in the house layout.

    Args:
        title: what it shows (also the key it is found by).
        traces: its traces.
        subtitle: what it counts, in grey under the title.
        counts: the axis ("x" or "y") that counts whole things (citizens, refusals): its
            ticks are whole numbers.
        **layout: Plotly layout, over the house's.
    """
    fig = go.Figure(traces)
    top = 50 + (28 if subtitle else 0) + 14 * (subtitle or "").count("<br>")
    margin = {**_LAYOUT["margin"], "t": top, **layout.pop("margin", {})}
    names = [t.name for t in traces if t.name and t.showlegend is not False]
    if len(names) > 1 and "legend" not in layout:  # below the axis title, whatever the rows
        rows = -(-sum(7 * len(n) + 45 for n in names) // 440)  # at the narrowest, 440 px
        extra = 22 * rows
        height = layout.pop("height", _LAYOUT["height"]) + extra
        margin["b"] = margin["b"] + 10 + extra
        below = (margin["b"] - extra - 4) / (height - margin["t"] - margin["b"])
        layout.update(height=height, legend={"orientation": "h", "y": -below, "yanchor": "top"})
    fig.update_layout(
        **{**_LAYOUT, **layout, "margin": margin}, title=title_layout(title, subtitle)
    )
    if fig.layout.yaxis.ticklabelstandoff is None:  # the axes' first ticks do not touch
        fig.update_yaxes(ticklabelstandoff=4)
        fig.update_xaxes(ticklabelstandoff=2)
    bars = [t for t in traces if isinstance(t, go.Bar)]
    if bars:  # counts start at zero, and all-zero bars (day 0) do not show -1 to 1
        across = bars[0].orientation == "h"
        axis = fig.update_xaxes if across else fig.update_yaxes
        values = [v for t in bars for v in _values(t, "x" if across else "y")]
        log = layout.get("xaxis_type" if across else "yaxis_type") == "log"
        if values and not any(values) and not log:
            axis(range=[0, 1])
        elif not log:
            axis(rangemode="tozero")
        names = [c for t in bars for c in _listed(t.y if across else t.x)]
        named = all(isinstance(c, str) for c in names)  # a category axis, not numbers
        categories = len(set(names)) if named else 0
        if 0 < categories < _MIN_SLOTS and layout.get("barmode") != "group" and not across:
            fig.update_xaxes(range=[-0.5, _MIN_SLOTS - 0.5])  # (bars across: by the height)
    if counts is not None:
        most = max((abs(v) for t in traces for v in _values(t, counts)), default=0)
        if most < 6:  # Plotly would tick a small count at 0.2, 0.4...
            (fig.update_xaxes if counts == "x" else fig.update_yaxes)(dtick=1, tick0=0)
    return title, fig


def _days_axis(d: pd.DataFrame, s: dict[str, Any]) -> dict[str, Any]:
    """A day axis that makes sense even before the first day (never -1 to 1), with whole
    days on its ticks."""
    last = int(d["day"].max()) if len(d) else 0
    out: dict[str, Any] = {
        "xaxis_title": "day",
        "xaxis_range": [0, max(last, 1)],
        "yaxis_rangemode": "tozero",
    }
    if last <= 10:  # Plotly would tick day 0.2, 0.4...; and a first day's points show whole
        out.update(xaxis_dtick=1, xaxis_tick0=0, xaxis_range=[-0.5, max(last, 1) + 0.5])
    return out


def _mode(d: pd.DataFrame) -> str:
    """Lines, with markers while a series has too few days to draw a line."""
    return "lines+markers" if len(d) <= 2 else "lines"


def _who(data: RunData, operator: str) -> str:
    """Whom an operator's scheme scores, in the plural: citizens or organisations."""
    scenario = data.scenario
    if scenario is not None:
        for op in scenario.all_operators():
            if op.name == operator and op.scheme.subject == "company":
                return "organisations"
    return "citizens"


def _steps(bins: np.ndarray, counts: np.ndarray, width: int) -> tuple[list, list]:
    """A histogram's outline over its non-empty bins: a flat step across each whole bin,
    joined to the next only where that bin is not empty (None breaks the line), so that no
    line crosses a bin with nothing in it."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for b, c in zip(bins.tolist(), counts.tolist(), strict=True):
        if c <= 0:
            if xs and xs[-1] is not None:
                xs.append(None)
                ys.append(None)
            continue
        xs += [b, b + width]
        ys += [c, c]
    return xs, ys


def _band_labels(fig: go.Figure, grades: list[tuple[str, int]], colours: dict[str, str]) -> int:
    """Each grade's band edge as a dotted line with its label above the plot; labels that
    would touch are raised a row (at the narrowest plot, 440 px across). Returns the rows."""
    lows = [least for _, least in grades]
    xs = fig.data[0].x if len(fig.data) else []
    span = max([*lows, *(x for x in xs if x is not None)], default=1) - min(
        [*lows, *(x for x in xs if x is not None)], default=0
    )
    per_point = 440 / max(span, 1)  # px per point of score
    ends: list[float] = []  # per row, the right edge (px) of its last label
    for grade, least in sorted(grades, key=lambda g: g[1]):
        half = 3.5 * len(grade) + 3  # px: about 7 px a character at 10 px type
        x = least * per_point
        row = next((i for i, end in enumerate(ends) if x - half > end + 2), len(ends))
        if row == len(ends):
            ends.append(x + half)
        ends[row] = x + half
        fig.add_vline(x=least, line_dash="dot", line_color=colours[grade])
        fig.add_annotation(
            x=least,
            xref="x",
            yref="paper",
            y=1,
            yanchor="bottom",
            yshift=2 + 14 * row,
            text=grade,
            showarrow=False,
            font={"size": 10, "color": "#333"},
        )
    return len(ends)


def _score_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    out = []
    colours = grade_colours([g for g, _ in data.grades])
    width = 10  # points a bin spans (run_data and histogram bin so)
    for op, h in data.histograms.items():
        h = h[h[[c for c in ("count", "counterfactual") if c in h]].sum(axis=1) > 0]
        bins = (
            np.arange(int(h["bin"].min()), int(h["bin"].max()) + width, width)
            if len(h)
            else np.empty(0, dtype=np.int64)
        )
        h = h.set_index("bin").reindex(bins, fill_value=0)  # every bin, empty ones at 0
        counts = h["count"].to_numpy()
        traces: list[go.BaseTraceType] = [
            go.Bar(
                x=bins + width / 2,
                y=np.where(counts > 0, counts, None),  # an empty bin has no bar (log axis)
                width=width,
                name="scores",
                marker_color="#2c7fb8",
                opacity=0.75,
            )
        ]  # a bar spans its 10 points
        if "counterfactual" in h:
            xs, ys = _steps(bins, h["counterfactual"].to_numpy(), width)
            traces.append(
                go.Scatter(
                    x=xs,
                    y=ys,
                    name="error-free scores",
                    mode="lines",
                    line={"color": "#e6550d", "width": 2},
                )
            )
        who = _who(data, op)
        title, fig = _figure(
            f"Scores and error-free scores — {op}",
            traces,
            subtitle=f"{who} in 10-point bins; an empty bin has no bar and no line",
            barmode="overlay",
            xaxis_title="score (points)",
            yaxis_title=f"{who} (log scale)",
            yaxis_type="log",
        )
        if 0 < h.to_numpy().max() < 100:  # Plotly labels every unit of a short log axis
            fig.update_yaxes(dtick="D2")
        if op == next(iter(data.histograms)) and data.grades:  # the first scheme's bands
            rows = _band_labels(fig, data.grades, colours)
            fig.update_layout(margin_t=fig.layout.margin.t + 14 * rows + 4)
        elif len(bins) and len(bins) < _MIN_BINS:  # a few bins: no bar stretched across
            middle, half = (bins[0] + bins[-1] + width) / 2, _MIN_BINS * width / 2
            fig.update_xaxes(range=[middle - half, middle + half])
        out.append((title, fig))
    return out


def _grade_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    d, s, out = data.daily, data.summary, []
    shares = [c for c in d.columns if c.startswith("share_")]
    if not data.lists_by_score:  # a grade no one can hold: no line, no legend entry
        shares = [c for c in shares if c[6:] != data.listed_grade]
    order = [g for g, _ in data.grades] + [data.listed_grade]
    shares.sort(key=lambda c: order.index(c[6:]) if c[6:] in order else len(order))
    colours = grade_colours([c[6:] for c in shares])
    if len(shares) > 1:  # one grade held by everyone, always: nothing to plot
        held = d[shares].to_numpy(dtype=float)
        least = held[held > 0].min() if (held > 0).any() else 1.0
        out.append(
            _figure(
                "Grade shares over time (log scale: small grades show)",
                [
                    go.Scatter(
                        x=d["day"],
                        y=d[c].where(d[c] > 0),
                        name=c[6:],
                        mode=_mode(d),
                        line={"color": colours[c[6:]]},
                    )
                    for c in shares
                ],
                subtitle="a grade with no one in it on a day has no point there",
                yaxis_type="log",
                yaxis_title="share of those covered",
                yaxis_tickformat="~%",  # never "0%": a log axis has no zero
                # a share is at most 100 %: the axis never goes above it
                yaxis_range=[np.floor(np.log10(least)) - 0.05, 0.05],
                **{k: v for k, v in _days_axis(d, s).items() if k != "yaxis_rangemode"},
            )
        )
    matrix = s.get("grade_matrix")
    if matrix and grades_apart(s):
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


def _listed_figure(data: RunData) -> tuple[str, go.Figure]:
    """Citizens with the first scheme's listed grade, with and without errors, day by day."""
    d, s = data.daily, data.summary
    traces = []
    mode = _mode(d)
    if "counterfactual_listed" in d:
        traces.append(
            go.Scatter(
                x=d["day"],
                y=d["counterfactual_listed"],
                name="listed without errors",
                mode=mode,
                line={"dash": "dash", "color": "#888"},
            )
        )
    if "listed" in d:  # drawn last, on top, and thicker: it never hides under the other
        traces.append(
            go.Scatter(
                x=d["day"],
                y=d["listed"],
                name="listed",
                mode=mode,
                line={"width": 3, "color": "#c0392b"},
            )
        )
    if "wrongly_listed" in d:
        traces.append(
            go.Scatter(
                x=d["day"],
                y=d["wrongly_listed"],
                name="wrongly listed",
                mode=mode,
                line={"color": "#8e44ad"},
            )
        )
    return _figure(
        "Listed over time",
        traces,
        subtitle=f"citizens with the first scheme's listed grade ({data.listed_grade})",
        counts="y",
        yaxis_title="citizens",
        **_days_axis(d, s),
    )


def _list_figures(data: RunData) -> list[tuple[str, go.Figure]]:
    s, out = data.summary, []
    if data.lists_by_score:  # else no one holds the listed grade: the lists' figures say it
        out.append(_listed_figure(data))
    dl = data.daily_lists
    if dl is not None and len(dl):
        groups = list(dl.groupby(["operator", "list"]))
        mode = _mode(dl[["day"]].drop_duplicates())
        out.append(
            _figure(
                "List members over time",
                [
                    go.Scatter(x=g["day"], y=g["members"], name=f"{op}: {name}", mode=mode)
                    for (op, name), g in groups
                ],
                counts="y",
                yaxis_title="members",
                **_days_axis(dl, s),
            )
        )
        if "wrongly_listed" in dl:
            out.append(
                _figure(
                    "Wrongly listed on each list over time",
                    [
                        go.Scatter(
                            x=g["day"], y=g["wrongly_listed"], name=f"{op}: {name}", mode=mode
                        )
                        for (op, name), g in groups
                    ],
                    subtitle="members the error-free system would not list"
                    + ("" if dl["wrongly_listed"].any() else ": none, on any list, on any day"),
                    counts="y",
                    yaxis_title="members",
                    **_days_axis(dl, s),
                )
            )
    for label, frame in data.listed_by.items():
        if not (frame["listed"].any() or frame["counterfactual"].any()):
            continue  # nobody is listed by grade here (the lists list): a plot of nothing
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
                subtitle=f"share of each group listed with grade {data.listed_grade}",
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
            "waive": "#9b59b6",  # rewards purple, green, blue; sanctions orange, red
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
                subtitle="decisions over the run by service (allowed uses left out)",
                barmode="stack",
                counts="x",
                xaxis_title="gate decisions",
                height=max(360, 22 * len(services) + 170),
                margin={"l": 170, "r": 20, "t": 120, "b": 50},
                legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
            )
        )
        denied = [c for c in d.columns if c.startswith("denied_")]
        if denied:
            out.append(
                _figure(
                    "Gate denials over time",
                    [
                        go.Scatter(
                            x=d["day"], y=d[c], name=c.removeprefix("denied_"), mode=_mode(d)
                        )
                        for c in denied
                    ],
                    counts="y",
                    yaxis_title="denials a day",
                    **_days_axis(d, s),
                )
            )
    harms = _harms(data)
    out.append(
        _figure(
            "Harms to citizens",
            [
                go.Bar(
                    y=list(harms),
                    x=list(harms.values()),
                    orientation="h",
                    marker_color="#8e44ad",
                    text=[f"{v:,}" for v in harms.values()],
                    textposition="outside",
                    cliponaxis=False,
                )
            ],
            subtitle="citizens now, over the whole run's population",
            counts="x",
            xaxis_title="citizens",
            margin={"l": 230},
            height=max(260, 140 + 36 * len(harms)),  # bars a readable thickness, never more
            yaxis_autorange="reversed",  # in reading order, top down
        )
    )
    if "wrongly_denied" in s:
        refusals = {"all refusals": s.get("gate_denials", 0), "wrongful": s["wrongly_denied"]}
        out.append(
            _figure(
                "Refusals at the point of service",
                [
                    go.Bar(
                        y=list(refusals),
                        x=list(refusals.values()),
                        orientation="h",
                        marker_color=["#c0392b", "#8e44ad"],
                        text=[f"{v:,}" for v in refusals.values()],
                        textposition="outside",
                        cliponaxis=False,
                    )
                ],
                subtitle="over the run; wrongful: the error-free system would have allowed it",
                counts="x",
                xaxis_title="refusals",
                margin={"l": 110},
                height=260,
                yaxis_autorange="reversed",
            )
        )
    return out


def _harms(data: RunData) -> dict[str, int]:
    """What the system did to citizens by mistake, and to children for their parents: places
    on a blacklist the error-free system would not give (a reward list's places are no harm)."""
    s = data.summary
    harms = {"wrongly blacklisted now": s.get("wrongly_blacklisted", s.get("wrongly_listed", 0))}
    if "children_affected" in s:
        harms["children refused for a parent"] = s["children_affected"]
    for op, figures in s.get("operators", {}).items():
        for name, lst in figures.get("lists", {}).items():
            if lst.get("kind", "black") == "black":
                harms[f"wrongly on {op}: {name}"] = lst["wrongly_listed"]
    return {k: int(v) for k, v in harms.items()}


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

#: The chilling plot's groups of behaviour, top to bottom: what each is, what a change in it
#: means, and its colour.
CHILLING_GROUPS: dict[str, tuple[str, str]] = {
    "expression": ("expression and protest: a fall is speech chilled", "#c0392b"),
    "penalised": ("penalised: a fall is deterrence", "#2c7fb8"),
    "rewarded": ("rewarded: a rise is encouragement", "#1a9850"),
    "ignored": ("behaviour the system ignores: a change is a side effect", "#7f7f7f"),
}


def chilling_figure(data: RunData) -> tuple[str, go.Figure] | None:
    """The chilling effect, each behaviour's change with its 95 % interval, in four groups
    that say what a change in them means (:data:`CHILLING_GROUPS`: expression and protest,
    penalised, rewarded, and behaviour no scheme scores), and what the counts cover (which
    behaviours, whose, over which days); a note in place of the plot when there is nothing to
    show yet, or when the scenario keeps no twin to compare with (None for a stored run of
    a scenario with sanctions or responses but no twin: one stored before twins were kept)."""
    rows = chilling_rows(data)
    if rows is None:
        note = _chilling_missing(data)
        return None if note is None else _note_figure(CHILLING_TITLE, note)
    groups = list(CHILLING_GROUPS)
    rows["group"] = [data.kinds.get(b, _kind_of(data, b)) for b in rows["behaviour"]]
    rows = rows.sort_values(
        ["group", "change"], key=lambda c: c.map(groups.index) if c.name == "group" else c
    )
    traces = []
    for group, (label, colour) in CHILLING_GROUPS.items():
        part = rows[rows["group"] == group]
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
    # Title, three lines of subtitle, then the legend (a group a row) just above the panel.
    margin = {"l": 170, "r": 20, "t": 100 + 20 * len(traces), "b": 60}
    height = max(420, 22 * len(rows) + margin["t"] + margin["b"])
    title, fig = _figure(
        CHILLING_TITLE,
        traces,
        subtitle=_chilling_counts(data, len(rows)),
        height=height,
        xaxis_tickformat="+.0%",
        xaxis_title="change in how often it happens (95% interval)",
        margin=margin,
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": rows["behaviour"].tolist()[::-1],  # the first group on top
        },
        legend={"orientation": "v", "y": 1, "yanchor": "bottom", "x": 0, "xanchor": "left"},
    )
    fig.add_vline(x=0, line_color="#444")
    return title, fig


def _kind_of(data: RunData, behaviour: str) -> str:
    """A behaviour's chilling group when the data names none: penalised or rewarded."""
    return "penalised" if data.harmful.get(behaviour, False) else "rewarded"


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
        title=title_layout(title),
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
                go.Scatter(
                    x=d["day"],
                    y=d[c],
                    name=c.removeprefix("recorded_"),
                    stackgroup="s",
                    mode=_mode(d),
                )
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
                    go.Scatter(
                        x=day, y=diff, name="B − A", mode=_mode(both), line={"color": "#c0392b"}
                    ),
                ],
                subtitle=f"{wrap(name_b, 70)}<br>minus {wrap(name_a, 64)}",
                counts=None if column == "mean_score" else "y",
                yaxis_exponentformat="power",  # 5×10⁻⁵, not 50μ points
                yaxis_title=f"{unit}, B − A",
                **{k: v for k, v in _days_axis(both, {}).items() if k != "yaxis_rangemode"},
            )
        )
    return out
