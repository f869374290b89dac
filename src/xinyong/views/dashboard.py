"""The web dashboard served by ``xinyong serve`` at ``/``: city, citizen, notices, compare.

Pages are plain HTML with a little JavaScript; they ask the service's JSON routes for data with
the API key the visitor types in (kept in the browser's local storage), so the service's role
rules apply to the pages too. Plots come from aggregates only, and plotly.js is served from
the installed plotly package: the dashboard works offline.

Each page lives in a module of its own with its routes (:mod:`xinyong.views.pages`);
:func:`add_dashboard` adds them in turn.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from xinyong.service.live import LiveCity
from xinyong.views.pages.citizen import add_citizen
from xinyong.views.pages.city import add_city
from xinyong.views.pages.common import add_plotly_js
from xinyong.views.pages.compare import add_compare
from xinyong.views.pages.notices import add_notices

__all__ = ["add_dashboard"]


def add_dashboard(app: FastAPI, live: LiveCity, runs_root: Path | None) -> None:
    """Add the pages and the JSON routes they use to the service's app.

    Args:
        app: the service's app.
        live: the city the pages show.
        runs_root: the folder of stored runs the compare page offers; None: none.
    """
    add_plotly_js(app)
    add_city(app, live)
    add_citizen(app, live)
    add_notices(app, live)
    add_compare(app, runs_root)
