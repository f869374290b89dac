"""A validation as a figure: each checked figure's mean and 95 % interval over seeds against
the range it must fall in, scaled to the published value so that figures of any size share one
axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:
    from xinyong.studies.validate import Validation

__all__ = ["validation_figure"]

_COLOURS = {"pass": "#1a7f37", "FAIL": "#cf222e"}
_INCONCLUSIVE = "#9a6700"


def validation_figure(result: Validation) -> go.Figure:
    """One row per check: the accepted range as a grey bar, the simulated interval as a line
    and its mean as a dot, coloured by verdict; every value divided by the published one (the
    published value is 1), or as is where the published value is words."""
    rows = result.rows.iloc[::-1]  # the first check at the top
    fig = go.Figure()
    names, y = [], []
    for i, r in enumerate(rows.itertuples()):
        scale = r.published if isinstance(r.published, int | float) and r.published else 1.0
        name = f"{r.pattern}"
        names.append(name)
        y.append(i)
        colour = _COLOURS.get(r.verdict, _INCONCLUSIVE)
        fig.add_shape(
            type="rect",
            x0=r.low / scale,
            x1=r.high / scale,
            y0=i - 0.3,
            y1=i + 0.3,
            fillcolor="rgba(0,0,0,0.08)",
            line_width=0,
        )
        fig.add_trace(
            go.Scatter(
                x=[r.lo / scale, r.hi / scale],
                y=[i, i],
                mode="lines",
                line={"color": colour, "width": 3},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[r.mean / scale],
                y=[i],
                mode="markers",
                marker={"color": colour, "size": 9},
                showlegend=False,
                hovertemplate=(
                    f"{name}<br>published {r.published}<br>simulated {r.mean:.4g} "
                    f"({r.lo:.4g} to {r.hi:.4g})<br>{r.verdict}<extra></extra>"
                ),
            )
        )
    for label, colour in (
        ("pass", _COLOURS["pass"]),
        ("inconclusive", _INCONCLUSIVE),
        ("fail", _COLOURS["FAIL"]),
    ):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"color": colour, "size": 9},
                name=label,
            )
        )
    fig.add_vline(x=1.0, line={"color": "#57606a", "dash": "dot", "width": 1})
    fig.update_layout(
        title={
            "text": f"{result.scenario} against {result.against}: simulated / published "
            f"(mean and 95 % interval over {len(result.seeds)} seeds; grey: accepted range)",
            "x": 0,
            "xanchor": "left",
        },
        xaxis={"title": "simulated ÷ published (1 = the published value)", "zeroline": False},
        yaxis={"tickvals": y, "ticktext": names, "automargin": True},
        height=max(320, 34 * len(names) + 140),
        margin={"l": 20, "r": 20, "t": 70, "b": 60},
        legend={"orientation": "h", "y": -0.12 - 6 / max(len(names), 1) * 0.01, "x": 0},
        plot_bgcolor="white",
    )
    return fig
