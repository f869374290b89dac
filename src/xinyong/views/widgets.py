"""Sliders in a notebook: ``xinyong.widgets.explore(city)``.

    >>> import xinyong
    >>> city = xinyong.City("rongcheng", citizens=20_000, seed=1)   # doctest: +SKIP
    >>> xinyong.widgets.explore(city)                                # doctest: +SKIP

A slider for each of the scenario's levers (and each path given), a step / run / pause
control, the headline figures and the report's plots, redrawn as the days pass: the
:class:`~xinyong.views.explore.Explorer`'s notebook face (ipywidgets, the optional extra
``xinyong[notebook]``). Every move of a slider is a change of the run's timeline from the open
day; ``city.save(DIR)`` keeps the run.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

from xinyong.records.stepped import City
from xinyong.scenario.change import Lever
from xinyong.views.explore import Explorer

__all__ = ["explore"]

#: Seconds between two redraws of the plots while days run (a redraw sends every figure).
REDRAW_EVERY = 1.0


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            "xinyong.widgets needs ipywidgets: pip install 'xinyong[notebook]' "
            "(or run `xinyong explore SCENARIO` for the same view in a browser)"
        ) from None
    return ipywidgets


def explore(city: City, levers: Sequence[str | Lever] = (), days: int = 30) -> Any:
    """The city on sliders, in a notebook.

    Args:
        city: the city to drive (``xinyong.City``).
        levers: paths (as ``--set`` names them) to put on sliders beside the scenario's own
            levers.
        days: the days the run button runs at first.

    Returns:
        An ipywidgets box: ``.explorer`` (the city and its controls), ``.sliders`` (path →
        slider), ``.step_button``, ``.run_button``, ``.pause_button``, ``.days``, ``.status``
        and ``.plots``.

    Raises:
        ImportError: ipywidgets is not installed (the message says how to install it).
        ScenarioError: a path given is not a lever.
    """
    w = _ipywidgets()
    explorer = Explorer(city, levers)
    box = w.VBox()
    box.explorer = explorer
    box.sliders = {}
    wide = {"description_width": "22em"}
    for row in explorer.lever_rows():
        whole = all(float(x).is_integer() for x in (row["min"], row["max"], row["step"]))
        kind = w.IntSlider if whole and isinstance(row["value"], int) else w.FloatSlider
        slider = kind(
            value=row["value"],
            min=row["min"],
            max=row["max"],
            step=row["step"],
            description=row["what"],
            continuous_update=False,  # a change when the slider is let go, not on every pixel
            style=wide,
            layout=w.Layout(width="46em"),
        )
        if kind is w.FloatSlider:
            slider.readout_format = ".3g"
        box.sliders[row["path"]] = slider
    box.step_button = w.Button(description="Step a day", icon="step-forward")
    box.run_button = w.Button(description="Run", icon="play")
    box.pause_button = w.Button(description="Pause", icon="pause")
    box.days = w.BoundedIntText(
        value=days, min=1, max=max(city.days, 1), description="days", layout=w.Layout(width="12em")
    )
    box.status = w.HTML()
    box.plots = w.Output()
    drawn = {"version": -1, "at": 0.0}

    def show(message: str = "") -> None:
        state = explorer.state()
        figures = "".join(
            f"<tr><td>{html.escape(h['what'])}</td><td>{_number(h['value'])}</td></tr>"
            for h in state["headline"]
        )
        error = message or state["error"] or ""
        box.status.value = (
            f"<b>{html.escape(state['scenario'])}</b>, {state['citizens']:,} citizens, seed "
            f"{state['seed']}: day <b>{state['day']}</b> of {state['days']}"
            f"{' (running)' if state['running'] else ''}; "
            f"{len(state['timeline'])} change(s) in the timeline"
            + (f"<br><span style='color:#b00020'>{html.escape(error)}</span>" if error else "")
            + f"<table>{figures}</table>"
        )

    def redraw(force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - drawn["at"] < REDRAW_EVERY:
            return
        version, figures = explorer.figures()
        if version == drawn["version"]:
            return
        drawn.update(version=version, at=now)
        box.plots.outputs = ()  # thread-safe: the days' thread redraws too
        for _, figure in figures:
            box.plots.append_display_data(figure)

    def on_day() -> None:
        show()
        redraw(force=not explorer.running)

    def moved(change: dict[str, Any]) -> None:
        path = next(p for p, s in box.sliders.items() if s is change["owner"])
        try:
            explorer.move(path, change["new"])
        except Exception as exc:  # a refused value: said beside the controls
            show(str(exc))

    def act(what: Any) -> Any:
        def clicked(_: Any) -> None:
            try:
                what()
            except Exception as exc:  # past the horizon, already running: said, not raised
                show(str(exc))

        return clicked

    for slider in box.sliders.values():
        slider.observe(moved, names="value")
    box.step_button.on_click(act(explorer.step))
    box.run_button.on_click(act(lambda: explorer.run(box.days.value)))
    box.pause_button.on_click(act(explorer.pause))

    explorer.on_day = on_day
    box.children = [
        w.HTML(
            "<b>Levers</b> (each move is a change of the run's timeline from the open day; "
            "all citizens are synthetic)"
        ),
        *box.sliders.values(),
        w.HBox([box.step_button, box.days, box.run_button, box.pause_button]),
        box.status,
        box.plots,
    ]
    show()
    redraw(force=True)
    return box


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else html.escape(str(value))
