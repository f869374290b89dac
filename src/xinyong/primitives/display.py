"""Views registered from above: how a lower floor's objects show in a notebook.

A run, an explanation, a gate decision and an experiment show as HTML in a notebook, a run
and an experiment give their report's plots (``run.plot(NAME)``, ``experiment.plot()``), and
a simulation shows a progress bar; all of that is the views' (the top floor). A lower floor
asks this registry for the view registered under a name, so the model and the records never
import the views; :mod:`xinyong.views.notebook` registers them, and ``import xinyong``
imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register", "view"]

_VIEWS: dict[str, Callable[..., Any]] = {}


def register(name: str, shown_by: Callable[..., Any]) -> None:
    """Register the view called ``name`` (``"run_html"``, ``"run_figures"``, ...)."""
    _VIEWS[name] = shown_by


def view(name: str) -> Callable[..., Any]:
    """The view registered under ``name``.

    Raises:
        LookupError: none is (the views were not imported: ``import xinyong`` does it).
    """
    try:
        return _VIEWS[name]
    except KeyError:
        raise LookupError(
            f"no view '{name}' is registered: import xinyong (which registers the notebook "
            f"views) before showing xinyong objects"
        ) from None
