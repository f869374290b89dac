"""How runs, explanations, gate decisions and experiments show in a notebook: short HTML,
never a wall, and the reports' plots as Plotly figures.

The HTML of a :class:`~xinyong.Run`, an :class:`~xinyong.records.explain.Explanation` and a
:class:`~xinyong.model.gates.Decision` in a notebook, and the report's plots of a run or an
experiment (``run.plot(NAME)``, ``experiment.plot()``); :func:`xinyong.views.register`
registers them. Each HTML shows the headline first and at most :data:`MAX_ROWS` rows of a
table, saying how many more there are.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xinyong.model.gates import Decision
    from xinyong.records.explain import Explanation
    from xinyong.records.run import Run
    from xinyong.records.stepped import Citizen
    from xinyong.studies.experiments import Experiment

__all__ = [
    "MAX_ROWS",
    "Plots",
    "citizen_html",
    "decision_html",
    "experiment_figures",
    "explanation_html",
    "run_figures",
    "run_html",
]

MAX_ROWS = 30
_ACTION_COLOURS = {"deny": "#b00020", "restrict": "#b35900", "allow": "#222"}


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th style='text-align:left'>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{_e(c)}</td>" for c in row) + "</tr>"
        for row in rows[:MAX_ROWS]
    )
    more = f"<p><i>… and {len(rows) - MAX_ROWS:,} more rows</i></p>" if len(rows) > MAX_ROWS else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def run_html(run: Run) -> str:
    """A run: what was simulated, its headline figures, and what to try next."""
    s = run.summary
    where = f"at <code>{_e(run.path)}</code>" if run.path else "in memory"
    about = s.get("about", {})
    rows = [
        [
            key.replace("_", " "),
            f"{s[key]:.2%}"
            if key.endswith("_share")
            else (f"{s[key]:,.1f}" if isinstance(s[key], float) else f"{s[key]:,}"),
            about.get(key, ""),
        ]
        for key in (
            "mean_score",
            "listed_share",
            "wrongly_listed",
            "wrongly_graded",
            "blacklisted_share",
            "events_recorded",
            "events_misattributed",
            "gate_denials",
            "wrongly_denied",
            "children_affected",
        )
        if key in s
    ]
    return (
        f"<div><b>Run '{_e(s['scenario'])}'</b>, seed {s['seed']}: {s['citizens']:,} "
        f"synthetic citizens, {s['days']} days, {where}."
        + _table(["figure", "value", "what it counts"], rows)
        + "<p style='color:#555'>Next: <code>run.explain(citizen)</code>, "
        "<code>run.daily</code>, <code>run.gate(service, citizen)</code>, "
        "<code>run.query(sql)</code>.</p></div>"
    )


def explanation_html(explanation: Explanation) -> str:
    """An explanation: the headline, the ledger (events in day order), lists and grades."""
    parts = []
    for e in (explanation, *explanation.others):
        headline = "<br>".join(_e(line) for line in e._headline().splitlines())
        rows = [
            [r.day, r.behaviour, r.sensor, f"{r.points:+d}", r.score, e._note(r)]
            for r in e.events.itertuples()
        ]
        ledger = (
            _table(["day", "behaviour", "sensor", "points", "score", "note"], rows)
            if rows
            else "<p>No events recorded against this citizen.</p>"
        )
        notes = "".join(f"<p>{_e(n)}</p>" for n in e._notes())
        lists = e._listing_lines()
        listed = (
            "<p><b>Lists:</b> never listed</p>"
            if not lists
            else "<p><b>Lists:</b></p><ul>" + "".join(f"<li>{_e(x)}</li>" for x in lists) + "</ul>"
        )
        grades = f"<p><b>Grades:</b> start {_e(e._start_grade())}{_e(e._grade_history())}</p>"
        parts.append(f"<div><p><b>{headline}</b></p>{ledger}{notes}{listed}{grades}</div>")
    return "<hr>".join(parts)


def decision_html(decision: Decision) -> str:
    """A gate's answer: the action, coloured, and the reason in words."""
    colour = _ACTION_COLOURS.get(decision.action, "#1b7f3b")
    return (
        f"<div><b style='color:{colour}'>{_e(decision.label.upper())}</b> at "
        f"<i>{_e(decision.service)}</i> for citizen {decision.citizen}: "
        f"{_e(decision.text)}</div>"
    )


class Plots(dict):
    """A run's or an experiment's plots by title: shown in a notebook one after another, each
    a Plotly figure (``plots["Listed over time"]``)."""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for figure in self.values():
            display(figure)

    def __repr__(self) -> str:
        return f"<{len(self)} plots: {', '.join(self)}; plots[title] is one>"


def _chosen(figures: list[tuple[str, Any]], name: str | None) -> Any:
    """The plot whose title starts with ``name`` (any case), or every plot."""
    if name is None:
        return Plots(figures)
    wanted = name.strip().lower()
    for title, figure in figures:
        if title.lower().startswith(wanted):
            return figure
    raise KeyError(
        f"no plot's title starts with {name!r}; the plots: " + "; ".join(t for t, _ in figures)
    )


def run_figures(run: Run, name: str | None = None) -> Any:
    """``run.plot(name)``: the report's plots of a run (:func:`.figures.city_figures`)."""
    from xinyong.views.figures import city_figures
    from xinyong.views.run_data import run_data

    return _chosen(city_figures(run_data(run)), name)


def experiment_figures(experiment: Experiment, name: str | None = None) -> Any:
    """``experiment.plot(name)``: the report's plots of an experiment."""
    from xinyong.views.experiment_report import experiment_figures as figures

    plan = experiment.plan
    return _chosen(
        figures(
            experiment.effects,
            experiment.sensitivity,
            plan.baseline,
            experiment.design.kind(),
            len(plan.arms),
        ),
        name,
    )


def citizen_html(citizen: Citizen) -> str:
    """A citizen of a stepped city: the explanation, then what every service says."""
    gates = "".join(decision_html(d) for d in citizen.gates)
    return (
        f"<div><p>After day {citizen.day}:</p>{explanation_html(citizen.explanation)}"
        f"{'<p><b>What the services say:</b></p>' + gates if gates else ''}</div>"
    )
