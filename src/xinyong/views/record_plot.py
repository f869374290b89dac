"""A run against the published record, as plots.

A run from the record's origin (the history scenario) draws each running total the record
publishes as a line over the calendar, scaled to the country, with the 95 % band of the run's
own count (Poisson), and the published figures as points on it: a reader sees at a glance
where the model meets the record and where it misses. A run that starts later (a steady year)
has no running totals: its flows and rates are drawn as simulated against published, one row
each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from xinyong.records.counterparts import Series, poisson_interval
from xinyong.scenario.published import QUANTITIES, load_record

__all__ = ["record_figures", "record_series"]

_SIM, _PUBLISHED = "#0969da", "#cf222e"


def record_series(
    scenario: Any,
    daily_lists: pd.DataFrame | None,
    daily_services: pd.DataFrame | None,
    companies: int,
    days: int,
) -> dict[str, pd.DataFrame]:
    """Per cumulative quantity of the record, the run's running total by date, scaled to the
    country, with its 95 % Poisson band (``date``, ``simulated``, ``lo``, ``hi``); empty for a
    scenario without a ``[record]`` table or one that starts after the record's origin."""
    record = load_record("record")
    if scenario is None or scenario.record is None or scenario.start is None:
        return {}
    if scenario.start > record.start:
        return {}
    rows = daily_lists.to_dict("records") if daily_lists is not None else []
    services: dict[str, np.ndarray] = {}
    if daily_services is not None and scenario.consequences is not None:
        names = [s.name for s in scenario.consequences.services]
        for column in ("used", "denied"):
            wide = daily_services.pivot(index="day", columns="service", values=column)
            services[column] = wide.reindex(columns=names).fillna(0).to_numpy(np.int64)
    series = Series(scenario, rows, services, companies, days)
    out = {}
    first = series.day(record.start)
    dates = [scenario.start + dt.timedelta(days=d) for d in range(days)]
    for o in record.observations:
        if o.kind != "cumulative" or o.quantity in out:
            continue
        running = series.running(o)
        if running is None:
            continue
        count = running - (running[first - 1] if first > 0 else 0)
        lo, hi = zip(*(poisson_interval(int(c)) for c in count[::7]), strict=True)
        week = np.arange(0, days, 7)
        out[o.quantity] = pd.DataFrame(
            {
                "date": dates,
                "simulated": count * series.scale,
                "lo": np.interp(np.arange(days), week, np.array(lo)) * series.scale,
                "hi": np.interp(np.arange(days), week, np.array(hi)) * series.scale,
            }
        )
    return out


def record_figures(
    series: dict[str, pd.DataFrame], summary: dict[str, Any]
) -> list[tuple[str, go.Figure]]:
    """The run against the record: one panel per running total (a history run), or one panel
    of flows and rates (a steady year); none for a run without record rows."""
    rows = summary.get("record") or []
    if not rows:
        return []
    if series:
        return [_running_total(q, frame, rows, summary) for q, frame in series.items()]
    return [_flows(rows, summary)]


def _millions(x: float) -> str:
    return f"{x / 1e6:,.2f} M"


def _running_total(
    quantity: str, frame: pd.DataFrame, rows: list[dict[str, Any]], summary: dict[str, Any]
) -> tuple[str, go.Figure]:
    published = [r for r in rows if r["quantity"] == quantity and r["kind"] == "cumulative"]
    title = f"{quantity[:1].upper() + quantity[1:]}: running total"
    fig = go.Figure(
        [
            go.Scatter(
                x=list(frame["date"]) + list(frame["date"][::-1]),
                y=list(frame["hi"]) + list(frame["lo"][::-1]),
                fill="toself",
                fillcolor="rgba(9,105,218,0.15)",
                line={"width": 0},
                hoverinfo="skip",
                name="95 % band (the run's own count)",
            ),
            go.Scatter(
                x=frame["date"],
                y=frame["simulated"],
                line={"color": _SIM, "width": 2},
                name=f"simulated (seed {summary.get('seed')}), scaled to the country",
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.3s}<extra>simulated</extra>",
            ),
            go.Scatter(
                x=[dt.date.fromisoformat(r["date"]) for r in published],
                y=[r["published"] for r in published],
                mode="markers",
                marker={"color": _PUBLISHED, "size": 10, "symbol": "diamond"},
                name="published",
                customdata=[r["source"] for r in published],
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.3s}<br>%{customdata}<extra>published</extra>",
            ),
        ]
    )
    unit = "purchases" if QUANTITIES[quantity].counts == "denied" else "subjects"
    fig.update_layout(
        title={
            "text": f"{title}<br><sub>since the list began (October 2013), scaled to the whole "
            "country</sub>",
            "x": 0,
            "xref": "paper",
            "xanchor": "left",
            "font": {"size": 15},
        },
        xaxis={"title": "date"},
        yaxis={"title": f"{unit}, whole country", "rangemode": "tozero", "automargin": True},
        legend={"orientation": "h", "y": -0.25, "x": 0},
        margin={"l": 70, "r": 20, "t": 70, "b": 110},
        height=440,
        plot_bgcolor="white",
    )
    return title, fig


def _flows(rows: list[dict[str, Any]], summary: dict[str, Any]) -> tuple[str, go.Figure]:
    covered = [r for r in rows if r["simulated"] is not None]
    names = [_label(r) for r in covered][::-1]
    ratio = [r["simulated"] / r["published"] for r in covered][::-1]
    lo = [(r["simulated_lo"] or 0) / r["published"] for r in covered][::-1]
    hi = [(r["simulated_hi"] or 0) / r["published"] for r in covered][::-1]
    title = "The year against the published record: simulated ÷ published"
    fig = go.Figure(
        [
            go.Scatter(
                x=ratio,
                y=names,
                mode="markers",
                marker={"color": _SIM, "size": 9},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - r for h, r in zip(hi, ratio, strict=True)],
                    "arrayminus": [r - low for low, r in zip(lo, ratio, strict=True)],
                },
                name="simulated (95 % band of the run's own count)",
            )
        ]
    )
    fig.add_vrect(x0=2 / 3, x1=4 / 3, fillcolor="rgba(0,0,0,0.06)", line_width=0)
    fig.add_vline(x=1, line={"color": _PUBLISHED, "dash": "dot"})
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        xaxis={
            "title": "simulated ÷ published (1: the published value; grey: within a third)",
            "rangemode": "tozero",
        },
        yaxis={"automargin": True},
        height=max(300, 40 * len(names) + 150),
        margin={"l": 20, "r": 20, "t": 50, "b": 60},
        showlegend=False,
        plot_bgcolor="white",
    )
    return title, fig


def _label(row: dict[str, Any]) -> str:
    when = f"{row['from']} to {row['date']}" if row["from"] else row["date"]
    return f"{row['quantity']} ({row['kind']}, {when})"
