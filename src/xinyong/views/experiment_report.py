"""The HTML report of an experiment folder: effects with their intervals, one panel per
metric, the design, and the sensitivity indices of a Morris or Sobol design. One file, offline.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from xinyong.views.figures import title_layout, wrap
from xinyong.views.report import figures_html, html_page

__all__ = ["effect_figures", "experiment_figures", "index_figures", "write_experiment_report"]

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    # Below the axis title (up to two lines), the legend, at the picture's foot.
    "margin": {"l": 160, "r": 20, "t": 50, "b": 100},
    "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
    "xaxis": {"exponentformat": "none"},  # 0.0005, not 500μ
}


def _heading(metric: str, what: str) -> tuple[str, str | None]:
    """A panel's title on one line (a long metric path by its last part) and, for a long
    metric path, the whole path as the subtitle."""
    if len(f"{metric}: {what}") <= 42 or "." not in metric:
        return f"{metric}: {what}", None
    return f"{metric.rsplit('.', 1)[-1]}: {what}", wrap(metric, 70)


_MAX_ARMS = 60  # arms in an effect panel; a large sampled design shows its indices instead


def _effect_figure(metric: str, rows: pd.DataFrame, baseline: str) -> tuple[str, go.Figure]:
    arms = rows["arm"].tolist()
    paired = go.Scatter(
        x=rows["mean_diff"],
        y=arms,
        mode="markers",
        name="paired by seed (95 %)",
        marker={"color": "#1f4e79", "size": 9},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": rows["hi"] - rows["mean_diff"],
            "arrayminus": rows["mean_diff"] - rows["lo"],
            "thickness": 2.5,
        },
    )
    unpaired = go.Scatter(
        x=rows["mean_diff"],
        y=arms,
        mode="markers",
        name="as if unpaired (95 %)",
        # A short grey dash: the legend's sign for the light interval (at the mean, under the
        # dark one's dot).
        marker={
            "symbol": "line-ew",
            "size": 14,
            "color": "#bbb",
            "line": {"color": "#bbb", "width": 2},
        },
        error_x={
            "type": "data",
            "symmetric": False,
            "color": "#bbb",
            "thickness": 1,
            "array": rows["unpaired_hi"] - rows["mean_diff"],
            "arrayminus": rows["mean_diff"] - rows["unpaired_lo"],
        },
    )
    fig = go.Figure([unpaired, paired])
    title = f"{metric}: difference from {baseline}"
    heading, subtitle = _heading(metric, f"difference from {baseline}")
    top = 50 + (28 if subtitle else 0)
    fig.update_layout(
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": top}},
        title=title_layout(heading, subtitle),
        height=max(260, top + 150 + 30 * len(arms)),
        xaxis_title=wrap(f"{metric} (arm − {baseline})", 60),
    )
    fig.add_vline(x=0, line_color="#888", line_dash="dot")
    return title, fig


def _index_figure(metric: str, rows: pd.DataFrame, kind: str) -> tuple[str, go.Figure]:
    factors = rows["name"].tolist()
    if kind == "morris":
        traces = [
            go.Bar(
                x=rows["mu_star"],
                y=factors,
                orientation="h",
                name="μ*",
                error_x={"type": "data", "array": rows["mu_star_conf"]},
            ),
            go.Bar(x=rows["sigma"], y=factors, orientation="h", name="σ"),
        ]
    else:
        traces = [
            go.Bar(
                x=rows["S1"],
                y=factors,
                orientation="h",
                name="S1 (first order)",
                error_x={"type": "data", "array": rows["S1_conf"]},
            ),
            go.Bar(
                x=rows["ST"],
                y=factors,
                orientation="h",
                name="ST (total)",
                error_x={"type": "data", "array": rows["ST_conf"]},
            ),
        ]
    fig = go.Figure(traces)
    what = f"{'Morris' if kind == 'morris' else 'Sobol'} indices"
    title = f"{metric}: {what}"
    heading, subtitle = _heading(metric, what)
    top = 50 + (28 if subtitle else 0)
    fig.update_layout(
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": top}},
        title=title_layout(heading, subtitle),
        barmode="group",
        height=max(260, top + 150 + 40 * len(factors)),
        xaxis_title="in the metric's unit, per sweep of a factor's range"
        if kind == "morris"
        else "share of the metric's variance",
    )
    return title, fig


def index_figures(indices: pd.DataFrame, kind: str) -> list[tuple[str, go.Figure]]:
    """A Morris or Sobol design's indices, one panel per metric."""
    return [_index_figure(m, g, kind) for m, g in indices.groupby("metric", sort=False)]


def effect_figures(effects: pd.DataFrame, baseline: str) -> list[tuple[str, go.Figure]]:
    """Each metric's effects against the baseline with their intervals, one panel each."""
    return [_effect_figure(m, g, baseline) for m, g in effects.groupby("metric", sort=False)]


def experiment_figures(
    effects: pd.DataFrame, sensitivity: pd.DataFrame | None, baseline: str, kind: str, arms: int
) -> list[tuple[str, go.Figure]]:
    """The report's plots of an experiment: the indices (a Morris or Sobol design), then the
    effects (unless there are too many arms to read)."""
    out = index_figures(sensitivity, kind) if sensitivity is not None else []
    return out + (effect_figures(effects, baseline) if arms <= _MAX_ARMS else [])


def _table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.6g}" if math.isfinite(v) else "∞" if v > 0 else "—"  # —: undefined
        return html.escape(json.dumps(v) if isinstance(v, (list, dict)) else str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_experiment_report(folder: Path, out: Path | None = None) -> Path:
    """Write ``folder/report.html`` (or ``out``) for an experiment folder."""
    folder = Path(folder)
    record = json.loads((folder / "design.json").read_text(encoding="utf-8"))
    effects = pd.read_csv(folder / "effects.csv")
    runs = pd.read_parquet(folder / "runs.parquet")
    baseline, kind = record["baseline"], record["kind"]
    title = f"xinyong experiment — {record['scenario']}, {kind}"
    sensitivity = folder / "sensitivity.csv"
    size = (
        f"{len(runs)} runs of '{html.escape(record['scenario'])}', "
        f"{record['citizens']:,} synthetic citizens, {record['days']} days"
    )
    if sensitivity.is_file():  # the points of a sampled design are not arms to compare
        intro = (
            f"<p class=note>{'Morris' if kind == 'morris' else 'Sobol'} sensitivity "
            f"analysis: {len(record['arms']) - 1} points of the design and the scenario as it "
            f"is, × {len(record['seeds'])} seeds ({size}). Each point's metric is its "
            f"mean over the seeds; the indices and their 95 % bootstrap intervals are "
            f"SALib's.</p>"
        )
    else:
        intro = (
            f"<p class=note>{len(record['arms'])} arms × {len(record['seeds'])} seeds "
            f"({size}). Every arm of a seed runs on that seed: arms are paired on common "
            f"random numbers. Intervals are 95 %: dark, paired by seed (Student's t on the "
            f"differences); light, as if the runs were independent (Welch). Baseline: "
            f"<b>{html.escape(baseline)}</b>.</p>"
        )
    body = intro
    indices = pd.read_csv(sensitivity) if sensitivity.is_file() else None
    if indices is not None:
        body += (
            "<h2>Sensitivity indices</h2>"
            + figures_html(index_figures(indices, kind), "index")
            + _table(indices.drop(columns="factor"))
        )
    else:
        if len(record["arms"]) <= _MAX_ARMS:
            body += "<h2>Effects against the baseline</h2>" + figures_html(
                effect_figures(effects, baseline), "effect"
            )
        body += "<h2>Effects, in figures</h2>" + _table(effects)
    means = runs.groupby("arm", sort=False)[record["metrics"]].mean().reset_index()
    body += "<h2>Mean of each metric by arm</h2>" + _table(means)
    design = pd.DataFrame([{"arm": a["name"], **a["values"]} for a in record["arms"]])
    body += "<h2>The design</h2>" + _table(design)
    path = Path(out) if out else folder / "report.html"
    path.write_text(html_page(title, body), encoding="utf-8")
    return path
