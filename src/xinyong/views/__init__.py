"""What people see: the CLI, figures, the HTML report, the dashboard, the model description,
notebooks.

The floors below never import the views: :func:`register` tells them how their objects show
(:mod:`xinyong.primitives.shown`), and :mod:`xinyong` calls it when it is imported.
"""

from __future__ import annotations

__all__ = ["register"]


def register() -> None:
    """Register the notebook HTML of runs, explanations, gate decisions and validations, the
    report's plots of runs and experiments (``run.plot(NAME)``, ``experiment.plot()``), the
    figures of validations and fits (``plot()``), and the progress bar
    ``simulate(progress=True)`` shows."""
    from xinyong.model.gates import Decision
    from xinyong.primitives.shown import register_bar, register_html, register_plots
    from xinyong.records.explain import Explanation
    from xinyong.records.run import Run
    from xinyong.records.stepped import Citizen
    from xinyong.studies.experiments import Experiment
    from xinyong.studies.fit import Fit
    from xinyong.studies.validate import Validation
    from xinyong.views.fit_figure import fit_plot
    from xinyong.views.notebook import (
        citizen_html,
        decision_html,
        experiment_figures,
        explanation_html,
        run_figures,
        run_html,
    )
    from xinyong.views.progress import days_bar
    from xinyong.views.validation_plot import validation_figure

    register_html(Run, run_html)
    register_html(Explanation, explanation_html)
    register_html(Decision, decision_html)
    register_plots(Run, run_figures)
    register_plots(Experiment, experiment_figures)
    register_html(Citizen, citizen_html)
    register_bar(days_bar)
    register_plots(Validation, lambda v, _name: validation_figure(v))
    register_plots(Fit, lambda f, _name: fit_plot(f))
    register_html(Validation, lambda v: str(validation_figure(v)._repr_html_()))
