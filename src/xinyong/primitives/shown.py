"""How the floors below the views show themselves, as the views say: a notebook's HTML, a
run's or an experiment's plots (``run.plot(NAME)``), and a simulation's progress bar.

A run, an explanation and a gate's decision show as short HTML in a notebook, and
``simulate(progress=True)`` shows a bar; both are the views' work (:mod:`xinyong.views.notebook`,
:mod:`xinyong.views.progress`). The model and the records never import the views: their classes
inherit :class:`Shown`, and the views register how each shows when :mod:`xinyong` is imported
(:func:`xinyong.views.register`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["Bar", "Shown", "days_bar", "plots", "register_bar", "register_html", "register_plots"]

#: A progress bar over days: ``bar(description, total, twin=...)`` is a context yielding the
#: callback called with the number of days done (``twin``: a twin city is run after the last).
Bar = Callable[..., AbstractContextManager[Callable[[int], None]]]

_html: dict[type, Callable[[Any], str]] = {}
_plots: dict[type, Callable[[Any, str | None], Any]] = {}
_bar: list[Bar] = []  # the one registered, if any


def register_html(kind: type, render: Callable[[Any], str]) -> None:
    """Show the objects of class ``kind`` (and its subclasses) in a notebook as ``render``
    writes them."""
    _html[kind] = render


def register_plots(kind: type, figures: Callable[[Any, str | None], Any]) -> None:
    """Give the objects of class ``kind`` their report's plots: ``figures(obj, name)`` is the
    plot whose title starts with ``name``, or (None) all of them."""
    _plots[kind] = figures


def plots(shown: Any, name: str | None = None) -> Any:
    """The report's plots of ``shown`` (a run, an experiment), as its views registered them.

    Raises:
        LookupError: none are registered for its class (import xinyong: its views do it).
    """
    for kind in type(shown).__mro__:
        figures = _plots.get(kind)
        if figures is not None:
            return figures(shown, name)
    raise LookupError(
        f"no plots are registered for {type(shown).__name__}: import xinyong, whose views "
        f"register them"
    )


def register_bar(bar: Bar) -> None:
    """Show a simulation's progress with ``bar`` (it replaces any bar registered before)."""
    _bar[:] = [bar]


def days_bar(
    description: str, total: int, twin: bool = True
) -> AbstractContextManager[Callable[[int], None]]:
    """The registered progress bar over ``total`` days (``twin``: the run has a twin city to
    run after its last day, which the bar then says).

    Raises:
        LookupError: no bar is registered (the views register one when xinyong is imported).
    """
    if not _bar:
        raise LookupError("no progress bar is registered: import xinyong, whose views register it")
    return _bar[0](description, total, twin=twin)


class Shown:
    """A class whose objects show in a notebook as the HTML its views registered."""

    __slots__ = ()

    def _repr_html_(self) -> str | None:
        """The registered HTML; None (the notebook shows ``repr``) where none is."""
        for kind in type(self).__mro__:
            render = _html.get(kind)
            if render is not None:
                return render(self)
        return None
