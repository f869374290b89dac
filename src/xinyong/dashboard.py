"""The web dashboard served by ``xinyong serve`` at ``/``: city, citizen, notices, compare.

Pages are plain HTML with a little JavaScript; they ask the service's JSON routes for data with
the API key the visitor types in (kept in the browser's local storage), so the service's role
rules apply to the pages too. Plots come from aggregates only, and plotly.js is served from
the installed plotly package: the dashboard works offline.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

import html
import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

from xinyong import tables
from xinyong.auth import Who, allow
from xinyong.figures import (
    RunData,
    city_figures,
    compare_figures,
    histogram,
    named_by_differences,
    run_data,
    summary_rows,
)
from xinyong.live import LiveCity
from xinyong.population import citizen_name
from xinyong.report import plotly_js_path
from xinyong.run import RunError, open_run
from xinyong.tally import summarize

__all__ = ["add_dashboard"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text} for code, text in (
        (401, "no or unknown API key"), (403, "the key's role may not do this"),
        (404, "no such citizen or run"), (409, "a stored run cannot be read"),
        (422, "a parameter is wrong; the detail names it"))}

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #222; }
nav { background: #1f2d3d; padding: .6em 1.2em; display: flex; gap: 1.2em; align-items: center; }
nav a { color: #fff; text-decoration: none; font-weight: 600; }
nav input { margin-left: auto; padding: .3em; width: 14em; }
main { max-width: 1150px; margin: 0 auto; padding: 1em 1.5em 3em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1em; }
.figure { border: 1px solid #eee; min-height: 340px; }
table { border-collapse: collapse; font-size: 14px; margin: .5em 0 1em; }
td, th { border-bottom: 1px solid #ddd; padding: .25em .7em; text-align: left; }
tr.differs td { background: #fff3cd; font-weight: 600; }
.error { color: #b00020; font-weight: 600; } .ok { color: #1b7f3b; font-weight: 600; }
.note { color: #555; }
.notice { border-left: 4px solid #c0392b; padding: .3em .8em; margin: .4em 0; }
button { padding: .3em .8em; } .results a { display: block; padding: .2em 0; }
"""

_COMMON_JS = """
const keyBox = document.getElementById('key');
keyBox.value = localStorage.getItem('xinyong-key') || '';
keyBox.addEventListener('change', () => { localStorage.setItem('xinyong-key', keyBox.value);
                                          location.reload(); });
async function api(path, options = {}) {
  if (!keyBox.value) throw new Error('Type an API key in the box at the top right.');
  const headers = Object.assign({'X-API-Key': keyBox.value}, options.headers || {});
  const reply = await fetch(path, Object.assign({}, options, {headers}));
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(typeof body.detail === 'string' ? body.detail
                                  : JSON.stringify(body.detail || reply.statusText));
  return body;
}
function load(path, render) {  // fetch a page's data, draw it, and mark the page ready
  api(path).then(render).catch(e => say('status', e.message, false))
    .finally(() => { document.body.dataset.ready = 'yes'; });
}
function say(id, text, ok) {
  const el = document.getElementById(id);
  el.textContent = text; el.className = ok ? 'ok' : 'error';
}
function plot(container, figures) {
  container.innerHTML = '';
  for (const f of figures) {
    const div = document.createElement('div'); div.className = 'figure';
    container.appendChild(div);
    Plotly.newPlot(div, f.data, f.layout, {responsive: true, displaylogo: false});
  }
}
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function fmt(x) { return typeof x === 'number' && !Number.isInteger(x) ? x.toPrecision(6)
                         : (x === null ? '' : String(x)); }
"""


def _page(title: str, body: str, script: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f" — xinyong</title><link rel=icon href='data:,'><style>{_STYLE}</style>"
        f"<script src='/static/plotly.min.js'></script></head><body><nav>"
        f"<a href='/'>City</a><a href='/citizen'>Citizen</a>"
        f"<a href='/notices-feed'>Notices</a><a href='/compare'>Compare</a>"
        f"<input id=key type=password placeholder='API key' aria-label='API key'></nav>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main>"
        f"<script>{_COMMON_JS}{script}</script></body></html>")


def _figures_json(figures: list) -> list[dict[str, Any]]:
    return [json.loads(fig.to_json()) for _, fig in figures]


def _live_data(live: LiveCity) -> RunData:
    city = live.city
    hist = {op.name: histogram(op.standing.score[op.covered] if op.covered is not None
                               else op.standing.score) for op in city.operators}
    tally = city.tally()
    return RunData(f"{live.scenario.name} (live, day {live.day})",
                   summarize(city.scenario, city.seed, city.day, tally), tables.daily(tally),
                   hist, tables.daily_lists(tally))


def add_dashboard(app: FastAPI, live: LiveCity, runs_root: Path | None) -> None:
    """Add the pages and the JSON routes they use to the service's app."""
    names: list[np.ndarray] = []

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="text/javascript")

    @app.get("/", include_in_schema=False)
    def city_page() -> HTMLResponse:
        return _page("The city", "<p class=note>Every plot is drawn from the city's aggregates. "
                     "All citizens are synthetic. Type an analyst or admin key above.</p>"
                     "<p id=status></p><div id=stats></div><div id=plots class=grid></div>", """
load('/api/figures', r => {
  say('status', 'Day ' + r.day + ' of ' + r.scenario + '.', true);
  document.getElementById('stats').innerHTML = r.headline;
  plot(document.getElementById('plots'), r.figures);
});
""")

    @app.get("/api/figures", tags=["dashboard"], responses=_ERRORS)
    def figures(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """The city's plots (aggregates only) and headline figures."""
        allow(identity, "analyst", "admin")
        with live.lock:
            data = _live_data(live)
            figs = _figures_json(city_figures(data)) if len(data.daily) else []
        s = data.summary
        headline = "".join(f"<span class=stat><b>{v}</b> {k}</span> &nbsp; " for k, v in (
            ("mean score", f"{s['mean_score']:.1f}"), ("listed", f"{s['listed_share']:.2%}"),
            ("wrongly listed", s["wrongly_listed"]), ("gate denials", s.get("gate_denials", 0)),
            ("children affected", s.get("children_affected", 0))))
        return {"day": live.day, "scenario": live.scenario.name, "figures": figs,
                "headline": headline}

    @app.get("/citizen", include_in_schema=False)
    def citizen_page() -> HTMLResponse:
        return _page("A citizen", """
<p class=note>Search by synthetic name or by id. A citizen key sees only its own record.</p>
<input id=q placeholder='name or id' aria-label='search'> <button id=go>Search</button>
<div id=results class=results></div><p id=status></p><div id=record></div>""", """
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
    const rec = await api('/citizens/' + id);
    const gates = await api('/api/gates/' + id).catch(e => ({decisions: [], error: e.message}));
    let out = `<h2>${esc(rec.name || 'Citizen ' + id)}</h2><p>${esc(rec.identity || '')}</p>`;
    out += '<div id=timeline class=grid></div>';
    for (const op of rec.operators) {
      out += `<h3>${esc(op.operator)} (${esc(op.scheme)}): score ${op.score}, grade ` +
             `${esc(op.grade)}${op.listed ? ', listed since day ' + op.listing_day : ''}</h3>`;
      out += op.lists.map(l => `<p>On list <b>${esc(l.list)}</b> since day ${l.since}` +
             (l.until !== null ? ', until day ' + l.until : '') + '</p>').join('');
      out += '<table class=ledger><tr><th>day</th><th>behaviour</th><th>sensor</th>' +
             '<th>points</th><th>why</th><th></th></tr>' + op.ledger.map(e =>
        `<tr><td>${e.day}</td><td>${esc(e.behaviour)}</td><td>${esc(e.sensor)}</td>` +
        `<td>${e.points > 0 ? '+' : ''}${e.points}</td><td>${esc(e.notes.join('; ') ||
        'recorded by ' + e.sensor)}</td><td><button data-event="${e.event}">appeal` +
        '</button></td></tr>').join('') + '</table>';
    }
    out += '<h3>What each service says today</h3><table>' + gates.decisions.map(d =>
      `<tr><td>${esc(d.service)}</td><td>${esc(d.action)}</td><td>${esc(d.text)}</td></tr>`
    ).join('') + '</table>' + (gates.error ? `<p class=error>${esc(gates.error)}</p>` : '');
    out += '<p id=appeal-status></p>';
    document.getElementById('record').innerHTML = out;
    plot(document.getElementById('timeline'), rec.operators.filter(
      op => op.ledger.some(e => e.counted)).map(op => ({
      data: [{x: [0].concat(op.ledger.filter(e => e.counted).map(e => e.day + 1)),
              y: timeline(op), mode: 'lines', line: {shape: 'hv'}, name: op.operator}],
      layout: {title: {text: 'Score over time — ' + op.operator}, height: 300,
               margin: {l: 50, r: 20, t: 50, b: 40}}})));
    for (const b of document.querySelectorAll('button[data-event]'))
      b.onclick = () => appeal(id, b.dataset.event);
    document.body.dataset.ready = 'yes';
  } catch (e) { say('status', e.message, false); }
}
function timeline(op) {
  let s = op.start, ys = [s];
  for (const e of op.ledger.filter(e => e.counted)) {
    s = Math.min(Math.max(s + e.points, op.floor), op.ceiling); ys.push(s); }
  return ys;
}
async function appeal(id, event) {
  try {
    const a = await api('/appeals', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({citizen: Number(id), event: event, reason: 'filed from the page'})});
    say('appeal-status', 'Appeal ' + a.appeal + ' filed: ' + a.status + '.', true);
  } catch (e) { say('appeal-status', 'Appeal refused: ' + e.message, false); }
}
""")

    @app.get("/api/search", tags=["dashboard"], responses=_ERRORS)
    def search(identity: Who,  # type: ignore[valid-type]
               q: str = Query(min_length=1, max_length=80)) -> dict[str, Any]:
        """Citizens by synthetic name (any part) or id; at most 20."""
        if identity.role == "citizen":
            mine = identity.citizen
            text = q.strip()
            found = [mine] if text == str(mine) or text.lower() in citizen_name(mine).lower() \
                else []
            return {"matches": [{"citizen": c, "name": citizen_name(c)} for c in found]}
        allow(identity, "analyst", "admin")
        text = q.strip()
        if text.isascii() and text.isdigit():
            c = int(text)
            found = [c] if c < live.scenario.citizens else []
        else:
            if not names:  # built once: names are computed from ids, never stored
                names.append(np.array([citizen_name(i).lower()
                                       for i in range(live.scenario.citizens)], dtype=object))
            hits = np.flatnonzero(pd.Series(names[0]).str.contains(q.strip().lower(),
                                                                   regex=False).to_numpy())
            found = hits[:20].tolist()
        return {"matches": [{"citizen": c, "name": citizen_name(c)} for c in found]}

    @app.get("/api/gates/{citizen}", tags=["dashboard"], responses=_ERRORS)
    def all_gates(citizen: Annotated[int, PathParam(ge=0, le=2**31 - 1)],
                  identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """What every service would say to a citizen today."""
        if identity.role == "citizen":
            if identity.citizen != citizen:
                raise HTTPException(403, "a citizen key reads only its own record")
        else:
            allow(identity, "analyst", "admin")
        live.check_citizen(citizen)
        out = []
        for service in live.services:
            d = live.gate(service, citizen)
            out.append({"service": service, "action": d.action, "text": d.text})
        return {"decisions": out}

    @app.get("/notices-feed", include_in_schema=False)
    def notices_page() -> HTMLResponse:
        return _page("Notices", "<p class=note>What the city shows: billboards at crossings, "
                     "screens, the published list, posters. About synthetic citizens only."
                     "</p><p id=status></p><div id=feed></div>", """
load('/notices?limit=100', r => {
  document.getElementById('feed').innerHTML = r.map(n =>
    `<div class=notice><b>${esc(n.kind.replace('_', ' '))}</b> — ${esc(n.text)}</div>`
  ).join('') || '<p>No notices yet.</p>';
});
""")

    @app.get("/compare", include_in_schema=False)
    def compare_page() -> HTMLResponse:
        return _page("Compare two runs", "<p class=note>Two stored runs side by side, their "
                     "differences highlighted.</p><label>A <select id=a></select></label> "
                     "<label>B <select id=b></select></label> <button id=go>Compare</button>"
                     "<p id=status></p><div id=table></div><div id=plots class=grid></div>", """
load('/api/runs', r => {
  for (const id of ['a', 'b']) document.getElementById(id).innerHTML =
    r.runs.map(n => `<option>${esc(n)}</option>`).join('');
  if (r.runs.length > 1) document.getElementById('b').selectedIndex = 1;
});
document.getElementById('go').onclick = async () => {
  try {
    const a = document.getElementById('a').value, b = document.getElementById('b').value;
    const r = await api('/api/compare?a=' + encodeURIComponent(a) + '&b=' + encodeURIComponent(b));
    document.getElementById('table').innerHTML = '<table><tr><th>figure</th>' +
      `<th>A: ${esc(r.names[0])}</th><th>B: ${esc(r.names[1])}</th></tr>` +
      r.rows.map(x => `<tr${x.differs ? ' class=differs' : ''}>` +
      `<td>${esc(x.key)}</td><td>${esc(fmt(x.a))}</td><td>${esc(fmt(x.b))}</td></tr>`
      ).join('') + '</table>';
    plot(document.getElementById('plots'), r.figures);
    say('status', r.differ + ' figures differ.', true);
  } catch (e) { say('status', e.message, false); }
};
""")

    def _runs() -> list[str]:
        if runs_root is None or not runs_root.is_dir():
            return []
        return sorted(p.name for p in runs_root.iterdir() if (p / "summary.json").exists())

    @app.get("/api/runs", tags=["dashboard"], responses=_ERRORS)
    def runs(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """The stored runs that can be compared (folders under the server's runs root)."""
        allow(identity, "analyst", "admin")
        return {"runs": _runs()}

    @app.get("/api/compare", tags=["dashboard"], responses=_ERRORS)
    def compare(identity: Who, a: str = Query(max_length=200),  # type: ignore[valid-type]
                b: str = Query(max_length=200)) -> dict[str, Any]:
        """Two stored runs: summaries side by side and their series on the same axes."""
        allow(identity, "analyst", "admin")
        known = _runs()
        for name in (a, b):
            if name not in known:
                raise HTTPException(404, f"no stored run '{name}'; runs: {', '.join(known)}")
        assert runs_root is not None
        try:
            opened = [open_run(runs_root / a), open_run(runs_root / b)]
        except RunError as exc:
            raise HTTPException(409, str(exc)) from None
        try:
            da, db = named_by_differences(*(run_data(r) for r in opened))
        finally:
            for r in opened:
                r.close()
        rows = summary_rows(da.summary, db.summary)
        return {"rows": [{"key": k, "a": va, "b": vb, "differs": d} for k, va, vb, d in rows],
                "differ": sum(r[3] for r in rows), "names": [da.name, db.name],
                "figures": _figures_json(compare_figures(da, db))}
