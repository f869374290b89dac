"""xinyong: the social credit system as publicly reported, run on synthetic cities.

The main entry points, for notebooks and scripts:

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=10_000, days=365, seed=1)
    >>> run.summary["listed_share"]          # doctest: +SKIP
    >>> run.daily.plot(x="day", y="mean_score")  # doctest: +SKIP
    >>> print(run.explain(42))               # doctest: +SKIP

Every population is synthetic; xinyong reads no data about real people.
"""

from xinyong.experiments import Experiment, experiment
from xinyong.run import Run, RunError, UnknownCitizenError, open_run, simulate
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario

__all__ = [
    "Experiment",
    "Run",
    "RunError",
    "Scenario",
    "ScenarioError",
    "UnknownCitizenError",
    "builtin_scenarios",
    "experiment",
    "load_scenario",
    "open_run",
    "simulate",
]
__version__ = "0.1.0"
