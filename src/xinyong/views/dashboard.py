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

from xinyong.model.consequences import NOTICE_KINDS, NoticeKind
from xinyong.model.population import citizen_name
from xinyong.records import tables
from xinyong.records.run import RunError, open_run
from xinyong.records.tally import summarize
from xinyong.scenario import builtin_scenarios
from xinyong.service.auth import Who
from xinyong.service.live import LiveCity
from xinyong.service.roles import may, permit
from xinyong.views.figures import city_figures, compare_figures
from xinyong.views.report import plotly_js_path
from xinyong.views.run_data import RunData, harmful_behaviours, histogram, run_data, side_names
from xinyong.views.summary_table import format_difference, format_value, summary_rows

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
.note { color: #555; } .wrongful { color: #b00020; }
.notice { border-left: 4px solid #c0392b; padding: .2em .8em; margin: .2em 0; }
details.group { margin: .4em 0; } details.group summary { font-weight: 600; cursor: pointer; }
.admin { background: #f4f6f8; border-radius: 6px; padding: .6em 1em; margin: .8em 0; }
.filters label { margin-right: 1em; }
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
let me = null;  // who the key belongs to: {role, citizen}
async function whoami() {
  if (me === null) me = await api('/api/me').catch(() => ({role: null}));
  return me;
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
    def scores(standing: Any, covered: np.ndarray | None) -> np.ndarray:
        return standing.score[covered] if covered is not None else standing.score

    hist = {op.name: histogram(scores(op.standing, op.covered), 10,
                               scores(op.counterfactual, op.covered))
            for op in city.operators}
    tally = city.tally()
    scheme = live.scenario.all_operators()[0].scheme
    # The tally carries the twin's occurrences too (the city keeps its behaviour-only twin),
    # so the summary has the chilling effect with its intervals, as a stored run's has.
    return RunData(f"{live.scenario.name} (live, day {live.day})",
                   summarize(city.scenario, city.seed, city.day, tally), tables.daily(tally),
                   hist, tables.daily_lists(tally), [(g.grade, g.min) for g in scheme.grades],
                   scheme.listed_grade, harmful_behaviours(live.scenario),
                   scenario=live.scenario)


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
                     "<p id=status></p><div id=stats></div><div id=plots class=grid></div>", """
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
""")

    @app.get("/api/me", tags=["dashboard"], responses=_ERRORS)
    def me(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """The caller's role (and citizen, for a citizen key): what the pages may offer."""
        return {"role": identity.role, "citizen": identity.citizen,
                "may_appeal": may(identity, "file_appeal")}

    @app.get("/api/scenarios", tags=["dashboard"], responses=_ERRORS)
    def scenarios(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """The built-in scenarios a new live city can start from."""
        permit(identity, "load")
        return {"scenarios": sorted(builtin_scenarios())}

    @app.get("/api/figures", tags=["dashboard"], responses=_ERRORS)
    def figures(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """The city's plots (aggregates only) and headline figures."""
        permit(identity, "figures")
        with live.reading():
            data = _live_data(live)
            figs = _figures_json(city_figures(data))
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
        permit(identity, "search")
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
        permit(identity, "gates", citizen)
        live.check_citizen(citizen)
        out = []
        for service in live.services:
            d = live.gate(service, citizen)
            out.append({"service": service, "action": d.action, "text": d.text})
        return {"decisions": out}

    @app.get("/notices-feed", include_in_schema=False)
    def notices_page() -> HTMLResponse:
        return _page("Notices", "<p class=note>What the city shows: billboards at crossings, "
                     "screens, the published list, posters. About synthetic citizens only. "
                     "Grouped by day and kind; a name opens the citizen's record.</p>"
                     "<div class=filters><label>kind <select id=kind><option value=''>any"
                     "</option></select></label><label>list <select id=list><option "
                     "value=''>any</option></select></label><label>from day <input id=from "
                     "type=number min=0 style='width:5em'></label><label>to day <input id=to "
                     "type=number min=0 style='width:5em'></label></div><p id=status></p>"
                     "<div id=feed></div>", """
const option = (v, text) => `<option value="${esc(v)}">${esc(text)}</option>`;
api('/api/notice-filters').then(f => {
  document.getElementById('kind').innerHTML += f.kinds.map(k =>
    option(k, k.replaceAll('_', ' '))).join('');
  document.getElementById('list').innerHTML += f.lists.map(l => option(l, l)).join('');
  show();
}).catch(e => { say('status', e.message, false); document.body.dataset.ready = 'yes'; });
for (const id of ['kind', 'list']) document.getElementById(id).onchange = show;
for (const id of ['from', 'to']) document.getElementById(id).oninput = show;
let asked = 0;  // only the latest question's answer is drawn
async function show() {
  const mine = ++asked;
  document.body.dataset.ready = 'no';
  const query = new URLSearchParams({limit: '1000'});
  for (const [id, name] of [['kind', 'kind'], ['list', 'list'], ['from', 'from_day'],
                            ['to', 'to_day']]) {
    const v = document.getElementById(id).value;
    if (v !== '') query.set(name, v);
  }
  try {
    const r = await api('/api/notices?' + query);
    if (mine !== asked) return;
    draw(r.notices);
    say('status', r.notices.length < r.total ? `The latest ${r.notices.length} of ${r.total}` +
        ' notices that match.' : r.total + ' notices match.', true);
  } catch (e) { if (mine === asked) say('status', e.message, false); }
  finally { if (mine === asked) document.body.dataset.ready = 'yes'; }
}
function draw(shown) {
  const groups = new Map();
  for (const n of shown) {
    const key = n.day + '|' + n.kind + '|' + (n.list || '');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(n);
  }
  let first = true;
  document.getElementById('feed').innerHTML = [...groups.values()].map(g => {
    const open = first ? ' open' : ''; first = false;
    const list = g[0].list ? ` — list ${esc(g[0].list)}` : '';
    return `<details class=group${open}><summary>Day ${g[0].day}: ` +
      `${esc(g[0].kind.replaceAll('_', ' '))}${list} (${g.length})</summary>` + g.map(n =>
      `<div class=notice>${esc(n.text).replace(esc(n.name),
        `<a href="/citizen#${n.citizen}">${esc(n.name)}</a>`)}</div>`).join('') + '</details>';
  }).join('') || '<p>No notices match.</p>';
}
""")

    @app.get("/api/notice-filters", tags=["dashboard"], responses=_ERRORS)
    def notice_filters(identity: Who) -> dict[str, Any]:  # type: ignore[valid-type]
        """What the notices feed can be filtered by: the kinds of notice the city's rules
        write, and the lists a notice can be caused by."""
        permit(identity, "notices")
        rules = live.scenario.consequences.notices if live.scenario.consequences else []
        written = {rule.kind for rule in rules}
        return {"kinds": [k for k in NOTICE_KINDS if k in written], "lists": live.notice_lists}

    @app.get("/api/notices", tags=["dashboard"], responses=_ERRORS)
    def notices_feed(identity: Who,  # type: ignore[valid-type]
                     limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                     kind: Annotated[NoticeKind | None, Query()] = None,
                     on_list: Annotated[str | None, Query(alias="list", max_length=200)] = None,
                     from_day: Annotated[int | None, Query(ge=0)] = None,
                     to_day: Annotated[int | None, Query(ge=0)] = None) -> dict[str, Any]:
        """The latest notices that match (a kind, the list that caused them, a range of days,
        each if given), with the synthetic name of each citizen, for the feed page; and how
        many match in all."""
        permit(identity, "notices")
        total, found = live.notice_feed(limit, kind, on_list, from_day, to_day)
        return {"total": total,
                "notices": [{**n, "name": citizen_name(n["citizen"])} for n in found]}

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
      `<th>${esc(r.names[0])}</th><th>${esc(r.names[1])}</th><th>B − A</th></tr>` +
      r.rows.map(x => `<tr${x.differs ? ' class=differs' : ''}>` +
      `<td>${esc(x.key)}</td><td>${esc(x.a_text)}</td><td>${esc(x.b_text)}</td>` +
      `<td>${esc(x.difference)}</td></tr>`).join('') + '</table>';
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
        permit(identity, "runs")
        return {"runs": _runs()}

    @app.get("/api/compare", tags=["dashboard"], responses=_ERRORS)
    def compare(identity: Who, a: str = Query(max_length=200),  # type: ignore[valid-type]
                b: str = Query(max_length=200)) -> dict[str, Any]:
        """Two stored runs: summaries side by side and their series on the same axes."""
        permit(identity, "runs")
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
            da, db = (run_data(r) for r in opened)
        finally:
            for r in opened:
                r.close()
        rows = summary_rows(da.summary, db.summary)
        name_a, name_b = side_names(da, db)
        return {"rows": [{"key": k, "a": va, "b": vb, "differs": d,
                          "a_text": format_value(k, va), "b_text": format_value(k, vb),
                          "difference": format_difference(k, va, vb)}
                         for k, va, vb, d in rows],
                "names": [name_a, name_b], "differ": sum(r[3] for r in rows),
                "figures": _figures_json(compare_figures(da, db))}
