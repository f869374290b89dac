"""The ``xinyong`` command line: a thin layer over the Python API.

This package builds :data:`app` and registers each command on it here, in the order
``xinyong --help`` lists them; the modules that hold the commands leave ``app`` alone:

- :mod:`~xinyong.views.cli.running`: ``simulate``, ``validate``, and the tables a run prints
  (its summary, what it set and changed, its profile);
- :mod:`~xinyong.views.cli.reading`: ``explain``, ``gate``, ``notices``, ``summary``,
  ``scenarios``, ``describe``;
- :mod:`~xinyong.views.cli.serving`: ``serve``, and :func:`served_app`, the API with the
  dashboard on it; ``explore``, a city on sliders as a page;
- :mod:`~xinyong.views.cli.studying`: ``experiment`` and ``report``;
- :mod:`~xinyong.views.cli.calibrating`: ``calibrate``;
- :mod:`~xinyong.views.cli.common`: what they all share: the consoles, :func:`_safe` (no user
  text goes through Rich markup unescaped), :func:`_fail`, the checks of output files and
  folders.

``python -m xinyong.views.cli`` runs it (:mod:`~xinyong.views.cli.__main__`).
"""

from __future__ import annotations

import atexit
import gc
from typing import Annotated

import typer

from xinyong import __version__
from xinyong.views.cli import calibrating, reading, running, serving, studying
from xinyong.views.cli.serving import served_app

__all__ = ["app", "served_app"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: '[default: ...]' and "xinyong[ray]" survive
)


def _version(shown: bool) -> None:
    if shown:
        print(f"xinyong {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """xinyong: the social credit system as publicly reported, run on synthetic cities."""
    # A command's process ends when it does, and the system takes its memory back at once:
    # the collector need not walk every object left (numba's, the city's) on the way out,
    # several times over, which took 0.6-1.1 s of a reference city-year's process.
    atexit.register(gc.freeze)


app.command("simulate")(running.simulate_command)
app.command("validate")(running.validate_command)
app.command("explain")(reading.explain_command)
app.command("gate")(reading.gate_command)
app.command("notices")(reading.notices_command)
app.command("serve")(serving.serve_command)
app.command("explore")(serving.explore_command)
app.command("report")(studying.report_command)
app.command("describe")(reading.describe_command)
app.command("experiment")(studying.experiment_command)
app.command("calibrate")(calibrating.calibrate_command)
app.command("scenarios")(reading.scenarios_command)
app.command("summary")(reading.summary_command)
