"""The citizen page (``/citizen``): search by synthetic name or id, a citizen's record with
its score over time, what each service says today, and appeals; with its JSON routes
``/api/search`` and ``/api/gates/{citizen}``.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from xinyong.model.population import citizen_name
from xinyong.service.auth import Who
from xinyong.service.live import LiveCity
from xinyong.service.roles import permit
from xinyong.views.pages.common import _ERRORS, _page

__all__ = ["add_citizen"]

#: The page's HTML, inside ``<main>`` under its title.
_BODY = """
<p class=note>Search by synthetic name or by id. A citizen key sees only its own record.</p>
<input id=q placeholder='name or id' aria-label='search'> <button id=go>Search</button>
<div id=results class=results></div><p id=status></p><div id=record></div>"""

#: The page's script, after the common one.
_SCRIPT = """
document.getElementById('go').onclick = async () => {
  try {
    const r = await api('/api/search?q=' + encodeURIComponent(document.getElementById('q').value));
    document.getElementById('results').innerHTML = r.matches.map(m =>
      `<a href="#" data-id="${m.citizen}">${esc(m.name)} (${m.citizen})</a>`).join('') ||
      '<p>No match.</p>';
    for (const a of document.querySelectorAll('#results a'))
      a.onclick = e => { e.preventDefault(); show(a.dataset.id); };
  } catch (e) { say('status', e.message, false); }
};
async function show(id) {
  try {
    const who = await whoami();
    const mayAppeal = who.may_appeal && (who.role !== 'citizen' || who.citizen === Number(id));
    const rec = await api('/citizens/' + id);
    const gates = await api('/api/gates/' + id).catch(e => ({decisions: [], error: e.message}));
    let out = `<h2>${esc(rec.name || 'Citizen ' + id)}</h2><p>${esc(rec.identity || '')}</p>`;
    out += '<div id=timeline class=grid></div>';
    for (const op of rec.operators) {
      out += `<h3>${esc(op.operator)} (${esc(op.scheme)}): score ${op.score}, grade ` +
             `${esc(op.grade)}${op.listed ? ', listed since day ' + op.listing_day : ''}</h3>`;
      if (op.grade_capped_until !== null)
        out += `<p>Grade capped until day ${op.grade_capped_until} (a grade cap).</p>`;
      out += `<p>Without errors: score ${op.counterfactual_score}` +
             `${op.counterfactual_listed ? ', listed' : ''}.</p>`;
      out += op.lists.map(l => `<p>On list <b>${esc(l.list)}</b> since day ${l.since}` +
             (l.until !== null ? ', until day ' + l.until : '') +
             (l.repeats ? `, extended ${l.repeats} time(s)` : '') +
             (l.error_free ? '' : ' <b class=wrongful>wrongly: the error-free system would ' +
              'not list this citizen</b>') + '</p>').join('');
      out += op.error_free_lists.map(name => `<p class=wrongful>Missing from <b>${esc(name)}` +
             '</b>: the error-free system would list this citizen.</p>').join('');
      out += '<table class=ledger><tr><th>day</th><th>behaviour</th><th>sensor</th>' +
             '<th>points</th><th>why</th><th></th></tr>' + op.ledger.map(e =>
        `<tr><td>${e.day}</td><td>${esc(e.behaviour)}</td><td>${esc(e.sensor)}</td>` +
        `<td>${e.points > 0 ? '+' : ''}${e.points}</td><td>${esc(e.notes.join('; ') ||
        'recorded by ' + e.sensor)}</td><td>${mayAppeal ? `<button data-event="${e.event}">` +
        'appeal</button>' : ''}</td></tr>`).join('') + '</table>';
    }
    out += '<h3>What each service says today</h3><table>' + gates.decisions.map(d =>
      `<tr><td>${esc(d.service)}</td><td>${esc(d.action)}</td><td>${esc(d.text)}</td></tr>`
    ).join('') + '</table>' + (gates.error ? `<p class=error>${esc(gates.error)}</p>` : '');
    out += '<p id=appeal-status></p>';
    document.getElementById('record').innerHTML = out;
    plot(document.getElementById('timeline'), rec.operators.filter(
      op => op.ledger.length).map(op => timelineFigure(op, rec.day)));
    for (const b of document.querySelectorAll('button[data-event]'))
      b.onclick = () => appeal(id, b.dataset.event);
    document.body.dataset.ready = 'yes';
  } catch (e) { say('status', e.message, false); }
}
function timeline(op, keep, today) {  // the score after each kept event, up to today
  const events = op.ledger.filter(keep);
  let s = op.start; const xs = [0], ys = [s];
  for (const e of events) {
    s = Math.min(Math.max(s + e.points, op.floor), op.ceiling); xs.push(e.day + 1); ys.push(s); }
  if (today > xs[xs.length - 1]) { xs.push(today); ys.push(s); }
  return {xs, ys};
}
function timelineFigure(op, today) {
  const real = timeline(op, e => e.counted, today);
  // error-free: only the events this citizen really did (not misattributed, not false reports)
  const own = timeline(op, e => e.counted && !e.notes.some(n => /done by|false report/.test(n)),
                       today);
  const data = [
    {x: real.xs, y: real.ys, mode: 'lines', line: {shape: 'hv', width: 3, color: '#2c7fb8'},
     name: 'score'},
    {x: own.xs, y: own.ys, mode: 'lines', line: {shape: 'hv', dash: 'dash', color: '#e6550d'},
     name: 'error-free (own events only)'},
    {x: [real.xs[real.xs.length - 1]], y: [op.counterfactual_score], mode: 'markers',
     marker: {symbol: 'diamond', size: 10, color: '#e6550d'}, name: 'error-free score today'}];
  const listed = [];
  if (op.listed && op.listing_day !== null) listed.push({day: op.listing_day, what: 'listed'});
  for (const l of op.lists) listed.push({day: l.since, what: 'on ' + l.list});
  // A label reads away from the nearer edge, so that none is cut off at the plot's side.
  if (listed.length) data.push({x: listed.map(l => l.day), y: listed.map(() => op.floor),
    text: listed.map(l => l.what), mode: 'markers+text', cliponaxis: false,
    textposition: listed.map(l => l.day > today / 2 ? 'top left' : 'top right'),
    marker: {symbol: 'triangle-up', size: 12, color: '#c0392b'}, name: 'listing'});
  const height = 400, margin = {l: 60, r: 20, t: 50, b: 125};  // room for a 2-row legend
  return {data, layout: {title: {text: 'Score over time — ' + op.operator}, height, margin,
    xaxis: {title: {text: 'day'}, rangemode: 'tozero'}, yaxis: {title: {text: 'score (points)'}},
    // below the day axis's title (62 px under the plot), whatever the plot's height
    legend: {orientation: 'h', yanchor: 'top', y: -62 / (height - margin.t - margin.b)}}};
}
if (location.hash.length > 1) show(location.hash.slice(1));
async function appeal(id, event) {
  try {
    const a = await api('/appeals', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({citizen: Number(id), event: event, reason: 'filed from the page'})});
    say('appeal-status', 'Appeal ' + a.appeal + ' filed: ' + a.status + '.', true);
  } catch (e) { say('appeal-status', 'Appeal refused: ' + e.message, false); }
}
"""


def add_citizen(app: FastAPI, live: LiveCity) -> None:
    """Add the citizen page and its JSON routes to the service's app."""
    names: list[np.ndarray] = []

    @app.get("/citizen", include_in_schema=False)
    def citizen_page() -> HTMLResponse:
        return _page("A citizen", _BODY, _SCRIPT)

    @app.get("/api/search", tags=["dashboard"], responses=_ERRORS)
    def search(
        identity: Who,
        q: str = Query(min_length=1, max_length=80),
    ) -> dict[str, Any]:
        """Citizens by synthetic name (any part) or id; at most 20."""
        if identity.role == "citizen":
            mine = identity.citizen
            assert mine is not None  # a citizen's key names its citizen (service/auth.py)
            text = q.strip()
            found = (
                [mine] if text == str(mine) or text.lower() in citizen_name(mine).lower() else []
            )
            return {"matches": [{"citizen": c, "name": citizen_name(c)} for c in found]}
        permit(identity, "search")
        text = q.strip()
        if text.isascii() and text.isdigit():
            c = int(text)
            found = [c] if c < live.scenario.citizens else []
        else:
            if not names:  # built once: names are computed from ids, never stored
                names.append(
                    np.array(
                        [citizen_name(i).lower() for i in range(live.scenario.citizens)],
                        dtype=object,
                    )
                )
            hits = np.flatnonzero(
                pd.Series(names[0]).str.contains(q.strip().lower(), regex=False).to_numpy()
            )
            found = hits[:20].tolist()
        return {"matches": [{"citizen": c, "name": citizen_name(c)} for c in found]}

    @app.get("/api/gates/{citizen}", tags=["dashboard"], responses=_ERRORS)
    def all_gates(
        citizen: Annotated[int, PathParam(ge=0, le=2**31 - 1)], identity: Who
    ) -> dict[str, Any]:
        """What every service would say to a citizen today."""
        permit(identity, "gates", citizen)
        live.check_citizen(citizen)
        out = []
        for service in live.services:
            d = live.gate(service, citizen)
            out.append({"service": service, "action": d.label, "text": d.text})
        return {"decisions": out}
