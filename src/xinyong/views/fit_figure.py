"""The plot of a fit (``xinyong calibrate``): the record against the fitted model, and each
parameter's posterior against its prior.

The top panel reads every observation as one ratio: the fitted model's posterior predictive
median over the published value, with its 95 % interval over the predictive runs, on a log
scale where 1 is the published value and the band is "within a third". Observations the fit
used and those held out are marked apart. Below, one panel per parameter: the posterior's
density (weighted particles of the last generation) against the prior's, both per unit of the
coordinate the prior is uniform in (log10 for a log-uniform prior, drawn on a log axis).

It takes plain tables; :func:`fit_plot` reads them from a fit (registered for ``Fit.plot``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from xinyong.studies.fit import Fit

__all__ = ["fit_figure", "fit_plot"]

_COLOURS = {"fitted": "#1f77b4", "held out": "#d62728"}
_SYMBOLS = {"fitted": "circle", "held out": "diamond-open"}
_COLUMNS = 4
_SHORT = {
    "subjects ever listed": "ever listed",
    "listed subjects who met their obligations": "met obligations",
    "listed subjects who paid their debts, taxes or fines": "paid (all lists)",
    "plane ticket purchases blocked": "plane blocks",
    "high-speed train ticket purchases blocked": "train blocks",
    "air passenger trips": "air trips",
    "high-speed rail passenger trips": "rail trips",
    "enterprises added to blacklists": "enterprises listed",
    "enterprises": "enterprises",
}


def _label(row: Any) -> str:
    name = _SHORT.get(row.quantity, row.quantity)
    start = row["from"]
    when = f"{start}→{row.date}" if isinstance(start, str) else row.date
    return f"{name}, {when}"


def fit_figure(
    observations: pd.DataFrame,
    posterior: pd.DataFrame,
    marginals: dict[str, dict[str, Any]],
    title: str,
) -> go.Figure:
    """The fit's figure.

    Args:
        observations: one row per observation (``Fit.observations()``): quantity, date,
            from, role, published, predicted, predicted_low, predicted_high, runs.
        posterior: one row per parameter (``Fit.table()``): parameter, median, low, high,
            identified.
        marginals: per parameter: ``coordinates`` and ``weights`` of the particles,
            ``bounds`` of the prior (in its coordinate), ``log``, ``scale``.
        title: the figure's title.
    """
    rows_below = math.ceil(len(marginals) / _COLUMNS)
    specs: list[list[Any]] = [[{"colspan": _COLUMNS}, *[None] * (_COLUMNS - 1)]]
    specs += [[{} for _ in range(_COLUMNS)] for _ in range(rows_below)]
    titles = [
        "Posterior predictive ÷ published, each observation (median and 95 % interval over "
        f"{int(observations['runs'].max()) if len(observations) else 0} runs at posterior draws)"
    ]
    by_name = {r.parameter: r for r in posterior.itertuples()}
    for name in marginals:
        r = by_name[name]
        verdict = "identified" if r.identified else "NOT identified"
        titles.append(f"{name}<br>{r.median:.3g} [{r.low:.3g}, {r.high:.3g}] · {verdict}")
    fig = make_subplots(
        rows=1 + rows_below,
        cols=_COLUMNS,
        specs=specs,
        subplot_titles=titles,
        row_heights=[0.46, *[0.54 / max(rows_below, 1)] * rows_below],
        vertical_spacing=0.5 / (1 + rows_below),
    )
    _observations(fig, observations)
    for i, (name, m) in enumerate(marginals.items()):
        _marginal(fig, name, m, by_name[name], row=2 + i // _COLUMNS, col=1 + i % _COLUMNS)
    fig.update_layout(
        title={"text": title, "x": 0.01, "y": 0.995, "yanchor": "top"},
        height=600 + 340 * rows_below,
        width=1150,  # fits a 1,200 px window with its scroll bar
        template="plotly_white",
        legend={"orientation": "h", "x": 0.0, "y": 0.97, "yanchor": "top", "yref": "container"},
        margin={"t": 150, "b": 40},
    )
    fig.update_annotations(font_size=11)
    return fig


def _observations(fig: go.Figure, obs: pd.DataFrame) -> None:
    labels = [_label(r) for _, r in obs.iterrows()]
    band = {"mode": "lines", "hoverinfo": "skip", "showlegend": False, "x": labels}
    fig.add_trace(go.Scatter(y=[4 / 3] * len(labels), line={"width": 0}, **band), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            y=[2 / 3] * len(labels),
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(44,160,44,0.15)",
            **band,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(y=[1.0] * len(labels), line={"color": "#2ca02c", "width": 1}, **band),
        row=1,
        col=1,
    )
    for role in ("fitted", "held out"):
        part = obs[obs["role"] == role]
        if part.empty:
            continue
        x = [labels[i] for i in part.index]
        ratio = part["predicted"] / part["published"]
        lo = part["predicted_low"] / part["published"]
        hi = part["predicted_high"] / part["published"]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=ratio,
                mode="markers",
                name=f"{role} observations"
                + (" (used by the fit)" if role == "fitted" else " (not used by the fit)"),
                marker={
                    "color": _COLOURS[role],
                    "symbol": _SYMBOLS[role],
                    "size": 10,
                    "line": {"width": 2, "color": _COLOURS[role]},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": hi - ratio,
                    "arrayminus": ratio - lo,
                },
                customdata=np.stack(
                    [
                        part["published"],
                        part["predicted"],
                        part["predicted_low"],
                        part["predicted_high"],
                    ],
                    axis=1,
                ),
                hovertemplate="%{x}<br>published %{customdata[0]:.3s}<br>predicted "
                "%{customdata[1]:.3s} [%{customdata[2]:.3s}, %{customdata[3]:.3s}]<br>ratio "
                "%{y:.2f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            name="within a third of the published value",
            marker={"symbol": "square", "size": 12, "color": "rgba(44,160,44,0.25)"},
        ),
        row=1,
        col=1,
    )
    fig.update_yaxes(type="log", title_text="predicted ÷ published (log)", row=1, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=labels, tickangle=-35, row=1, col=1)


def _marginal(fig: go.Figure, name: str, m: dict[str, Any], r: Any, row: int, col: int) -> None:
    a, b = m["bounds"]
    u, w = np.asarray(m["coordinates"], float), np.asarray(m["weights"], float)
    grid = np.linspace(a, b, 200)
    density = _density(u, w / w.sum(), grid)
    x = 10.0**grid if m["log"] else grid
    first = row == 2 and col == 1
    fig.add_trace(
        go.Scatter(
            x=x,
            y=density,
            mode="lines",
            line={"color": "#1f77b4"},
            fill="tozeroy",
            name="posterior (last generation; weighted kernel density)",
            showlegend=first,
            legendgroup="posterior",
            hovertemplate=f"{name} %{{x:.3g}}<br>density %{{y:.3g}}<extra></extra>",
        ),
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=10.0**u if m["log"] else u,
            y=np.zeros_like(u),
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 9, "color": "#1f77b4"},
            name="particles",
            showlegend=first,
            legendgroup="particles",
            hoverinfo="skip",
        ),
        row=row,
        col=col,
    )
    ends = [10.0**a, 10.0**b] if m["log"] else [a, b]
    fig.add_trace(
        go.Scatter(
            x=ends,
            y=[1 / (b - a)] * 2,
            mode="lines",
            line={"dash": "dash", "color": "#7f7f7f"},
            name="prior",
            showlegend=first,
            legendgroup="prior",
            hoverinfo="skip",
        ),
        row=row,
        col=col,
    )
    fig.add_vline(
        x=r.median, line={"color": "#1f77b4", "width": 1, "dash": "dot"}, row=row, col=col
    )
    unit = "× current value" if m["scale"] else "value"
    fig.update_xaxes(
        type="log" if m["log"] else "linear",
        title_text=unit + (" (log)" if m["log"] else ""),
        title_font_size=10,
        row=row,
        col=col,
    )
    fig.update_yaxes(
        title_text="density per log10" if m["log"] else "density",
        title_font_size=10,
        row=row,
        col=col,
    )


def _density(u: np.ndarray, w: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A weighted Gaussian kernel density of particles on ``grid`` (Scott's bandwidth over
    the effective sample size), reflected at the prior's ends so that it integrates to 1 over
    the prior's range."""
    a, b = grid[0], grid[-1]
    ess = 1.0 / float(np.sum(w**2))
    mean = float(np.sum(w * u))
    sd = math.sqrt(max(float(np.sum(w * (u - mean) ** 2)), 1e-12))
    h = max(1.06 * sd * ess ** (-1 / 5), (b - a) / 200)
    out = np.zeros_like(grid)
    for centre in (u, 2 * a - u, 2 * b - u):
        z = (grid[:, None] - centre[None, :]) / h
        out += (np.exp(-0.5 * z**2) * w[None, :]).sum(axis=1) / (h * math.sqrt(2 * math.pi))
    return out


def fit_plot(fit: Fit) -> go.Figure:
    """The figure of a calibration's fit (registered for :meth:`Fit.plot`)."""
    return fit_figure(fit.observations(), fit.table(), fit.marginals(), fit.title())
