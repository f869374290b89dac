"""xinyong: the social credit system as publicly reported, run on synthetic cities.

The main entry points, for notebooks and scripts:

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=10_000, days=365, seed=1,
    ...                        progress=True)   # doctest: +SKIP
    >>> run                                      # doctest: +SKIP
    >>> run.summary["listed_share"]              # doctest: +SKIP
    >>> run.daily[["day", "mean_score", "listed"]].tail()   # doctest: +SKIP
    >>> run.explain(42)                          # doctest: +SKIP
    >>> fit = xinyong.calibrate("history", hours=1)  # doctest: +SKIP
    >>> fit.table(); fit.plot()                      # doctest: +SKIP
    >>> city = xinyong.City("rongcheng", citizens=50_000, seed=1)  # doctest: +SKIP
    >>> city.run(days=100); city.set("sensors.camera.misidentify", 0.05)  # doctest: +SKIP
    >>> city.step(); city.citizen(42); city.save("my-run")  # doctest: +SKIP
    >>> xinyong.widgets.explore(city)   # sliders, step / run / pause  # doctest: +SKIP

In a notebook a run, an explanation and a gate decision show as short HTML, and
``run.plot("scores")`` (or ``run.plot()`` for all of them) and ``experiment.plot()`` show the
report's Plotly figures inline (plotly is installed with xinyong; matplotlib is not needed).

Every population is synthetic; xinyong reads no data about real people.
"""

from importlib.metadata import PackageNotFoundError, version

from xinyong.records.run import Run, RunError, UnknownCitizenError, open_run
from xinyong.records.simulation import simulate
from xinyong.records.stepped import City
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from xinyong.studies.experiments import Experiment, experiment
from xinyong.studies.fit import Fit, calibrate
from xinyong.views import register as _register_views

_register_views()  # how runs, explanations and decisions show, their plots, the progress bar

__all__ = [
    "City",
    "Experiment",
    "Fit",
    "Run",
    "RunError",
    "Scenario",
    "ScenarioError",
    "UnknownCitizenError",
    "builtin_scenarios",
    "calibrate",
    "experiment",
    "load_scenario",
    "open_run",
    "simulate",
]
try:  # one version, pyproject.toml's, read from the installed package's metadata
    __version__ = version("xinyong")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> object:
    """``xinyong.widgets`` (the notebook's sliders) loads when first asked for: it brings
    plotly and ipywidgets, which a script that simulates does not need."""
    if name == "widgets":
        from xinyong.views import widgets

        return widgets
    raise AttributeError(f"module 'xinyong' has no attribute {name!r}")
