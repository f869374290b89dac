"""What people see: the CLI, figures, the HTML report, the dashboard, the model description,
notebooks.

The floors below never import the views: :func:`register` tells them how their objects show
(:mod:`xinyong.primitives.shown`), and :mod:`xinyong` calls it when it is imported.
"""

from __future__ import annotations

__all__ = ["register"]


def register() -> None:
    """Register the notebook HTML of runs, explanations, gate decisions and validations, the
    figures ``plot()`` returns, and the progress bar ``simulate(progress=True)`` shows."""
    from xinyong.model.gates import Decision
    from xinyong.primitives.shown import register_bar, register_figure, register_html
    from xinyong.records.explain import Explanation
    from xinyong.records.run import Run
    from xinyong.records.stepped import Citizen
    from xinyong.studies.fit import Fit
    from xinyong.studies.validate import Validation
    from xinyong.views.fit_figure import fit_plot
    from xinyong.views.notebook import citizen_html, decision_html, explanation_html, run_html
    from xinyong.views.progress import days_bar
    from xinyong.views.validation_plot import validation_figure

    register_html(Run, run_html)
    register_html(Explanation, explanation_html)
    register_html(Decision, decision_html)
    register_html(Citizen, citizen_html)
    register_bar(days_bar)
    register_figure(Validation, validation_figure)
    register_figure(Fit, fit_plot)
    register_html(Validation, lambda v: str(validation_figure(v)._repr_html_()))
