"""The city page (``/``): the city's plots and headline figures, and for an admin, advancing
the city and starting a new one; with its JSON routes ``/api/me``, ``/api/scenarios`` and
``/api/figures``.

``/api/me`` (who the key belongs to) serves every page's ``whoami()``; it is added here, after
the city page, so that the routes keep their order.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

import html
import json
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from xinyong.scenario import builtin_scenarios
from xinyong.service.api import SLOW_THREADS, Pool
from xinyong.service.auth import Who
from xinyong.service.live import LiveCity
from xinyong.service.roles import may, permit
from xinyong.views.figures import city_figures
from xinyong.views.headline import headline
from xinyong.views.pages.common import _ERRORS, _figures_json, _page
from xinyong.views.run_data import RunData, city_data

__all__ = ["add_city"]

#: The page's HTML, inside ``<main>`` under its title.
_BODY = (
    "<p class=note>Every plot is drawn from the city's aggregates. "
    "All citizens are synthetic. Type an analyst or admin key above.</p>"
    "<div id=admin class=admin hidden><b>Admin:</b> advance "
    "<input id=days type=number min=1 max=3650 value=30 style='width:5em' "
    "aria-label='days to advance'> days <button id=advance>Advance</button> "
    "<progress id=progress max=1 value=0 hidden></progress> "
    "<span id=advance-status></span><br><b>New live city:</b> "
    "<select id=scenario aria-label=scenario></select> citizens "
    "<input id=citizens type=number min=1 style='width:7em'> days "
    "<input id=scenario-days type=number min=1 max=3650 style='width:5em'> "
    "seed <input id=seed type=number min=0 value=0 style='width:4em'> "
    "<br><label>overrides (--set), one PATH=VALUE a line "
    "<textarea id=overrides rows=2 cols=48 aria-label=overrides "
    "placeholder='sensors.camera.misidentify=0.05'></textarea></label> "
    "<button id=start>Start</button> <span id=start-status></span></div>"
    "<p id=status></p><div id=stats></div><div id=plots class=grid></div>"
)

#: The page's script, after the common one.
_SCRIPT = """
load('/api/figures', r => {
  say('status', 'Day ' + r.day + ' of ' + r.scenario + '.', true);
  document.getElementById('stats').innerHTML = r.headline;
  plot(document.getElementById('plots'), r.figures);
});
whoami().then(async who => {
  if (who.role !== 'admin') return;
  document.getElementById('admin').hidden = false;
  const names = await api('/api/scenarios').catch(() => ({scenarios: []}));
  document.getElementById('scenario').innerHTML =
    names.scenarios.map(n => `<option>${esc(n)}</option>`).join('');
});
const sleep = ms => new Promise(r => setTimeout(r, ms));
document.getElementById('advance').onclick = async () => {
  const days = Number(document.getElementById('days').value);
  const bar = document.getElementById('progress');
  const button = document.getElementById('advance');
  button.disabled = true; bar.hidden = false; bar.max = days; bar.value = 0;
  say('advance-status', 'Advancing ' + days + ' days…', true);
  try {
    let r = await api('/advance', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                   body: JSON.stringify({days})});
    const job = r.job ?? r.id;
    while (job !== undefined && !['done', 'finished', 'failed', 'error'].includes(r.status)) {
      await sleep(500);  // a background job (POST answers its id): poll until it is done
      r = await api('/advance/' + encodeURIComponent(job));
      const done = r.done ?? r.days_done ?? r.completed;
      if (done !== undefined) { bar.value = done; }
      say('advance-status', 'Advancing: ' + (done ?? '…') + ' of ' + days + ' days' +
          (r.day !== undefined ? ', day ' + r.day : '') + '.', true);
    }
    if (r.status === 'failed' || r.status === 'error') throw new Error(r.error || r.detail ||
                                                                       'the advance failed');
    bar.value = days;
    say('advance-status', 'Now day ' + (r.day ?? '?') + '. Reloading…', true);
    location.reload();
  } catch (e) { say('advance-status', e.message, false); }
  finally { button.disabled = false; }
};
document.getElementById('start').onclick = async () => {
  const body = {scenario: document.getElementById('scenario').value,
                seed: Number(document.getElementById('seed').value || 0)};
  const citizens = document.getElementById('citizens').value;
  const days = document.getElementById('scenario-days').value;
  if (citizens) body.citizens = Number(citizens);
  if (days) body.days = Number(days);
  const set = document.getElementById('overrides').value.split(/\\r?\\n/).map(l => l.trim())
    .filter(l => l);
  if (set.length) body.set = set;
  say('start-status', 'Starting ' + body.scenario + '…', true);
  try {
    const r = await api('/scenario', {method: 'POST', headers:
      {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    say('start-status', 'Started ' + r.scenario + ' at day ' + r.day + '. Reloading…', true);
    location.reload();
  } catch (e) { say('start-status', e.message, false); }
};
"""


def _live_data(live: LiveCity) -> RunData:
    """The aggregates the city's plots are drawn from, read from the live city."""
    return city_data(live.city, f"{live.scenario.name} (live, day {live.day})")


def add_city(app: FastAPI, live: LiveCity) -> None:
    """Add the city page and its JSON routes (``/api/me`` among them) to the service's app."""

    @app.get("/", include_in_schema=False)
    def city_page() -> HTMLResponse:
        return _page("The city", _BODY, _SCRIPT)

    @app.get("/api/me", tags=["dashboard"], responses=_ERRORS)
    def me(identity: Who) -> dict[str, Any]:
        """The caller's role (and citizen, for a citizen key): what the pages may offer."""
        return {
            "role": identity.role,
            "citizen": identity.citizen,
            "may_appeal": may(identity, "file_appeal"),
        }

    @app.get("/api/scenarios", tags=["dashboard"], responses=_ERRORS)
    def scenarios(identity: Who) -> dict[str, Any]:
        """The built-in scenarios a new live city can start from."""
        permit(identity, "load")
        return {"scenarios": sorted(builtin_scenarios())}

    slow = Pool(SLOW_THREADS)  # the plots cost a pass over every citizen: not on readers'

    @app.get("/api/figures", tags=["dashboard"], responses=_ERRORS)
    async def figures(identity: Who) -> Response:
        """The city's plots (aggregates only) and headline figures, as of the last
        completed day (computed once a day)."""
        permit(identity, "figures")
        body = await slow.run(live.once_a_day, "figures", lambda: _figures_body(live))
        return Response(body, media_type="application/json")


def _figures_body(live: LiveCity) -> bytes:
    """The figures route's answer, encoded (the city's arrays held still by the caller)."""
    data = _live_data(live)
    figs = _figures_json(city_figures(data))
    stats = "".join(
        f"<span class=stat><b>{html.escape(figure)}</b><br>"
        f"<small>{html.escape(what)}</small></span>"
        for figure, what in headline(data.summary)
    )
    return json.dumps(
        {"day": live.day, "scenario": live.scenario.name, "figures": figs, "headline": stats}
    ).encode()
