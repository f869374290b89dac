"""The explorer as a page, for classrooms without Jupyter: ``xinyong explore SCENARIO``.

The same view as the notebook's ``xinyong.widgets.explore`` (one
:class:`~xinyong.views.explore.Explorer` behind both): a slider for each lever, a step / run /
pause control, the headline figures, the timeline so far and the report's plots, redrawn as
the days pass. plotly.js is served from the installed plotly package: the page works offline.
It has no keys: it is served on loopback by default, for one machine's users.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

import html
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from xinyong.records.run import RunError
from xinyong.scenario import ScenarioError
from xinyong.views.explore import Explorer
from xinyong.views.pages.common import _STYLE, _figures_json, add_plotly_js

__all__ = ["explore_app"]

_SCRIPT = """
const $ = id => document.getElementById(id);
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function fmt(x) {
  if (typeof x === 'number' && !Number.isInteger(x)) return String(Number(x.toPrecision(4)));
  return x === null || x === undefined ? '' : x.toLocaleString();
}
async function call(path, body) {
  const reply = await fetch(path, body === undefined ? {} : {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const out = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(typeof out.detail === 'string' ? out.detail
                                 : JSON.stringify(out.detail || reply.statusText));
  return out;
}
function say(text, ok) { const el = $('message'); el.textContent = text;
                         el.className = ok ? 'ok' : 'error'; }
let drawn = -1, built = false;
function build(levers) {
  $('levers').innerHTML = '';
  for (const lv of levers) {
    const row = document.createElement('div'); row.className = 'lever';
    row.innerHTML = `<label>${esc(lv.what)}<br><input type=range min=${lv.min} max=${lv.max}
      step=${lv.step} value=${lv.value} data-path="${esc(lv.path)}"
      aria-label="${esc(lv.what)}"></label> <output>${fmt(lv.value)}</output>`;
    const input = row.querySelector('input'), out = row.querySelector('output');
    input.oninput = () => { out.textContent = fmt(Number(input.value)); };
    input.onchange = () => act('/api/set', {path: lv.path, value: Number(input.value)});
    $('levers').appendChild(row);
  }
  built = true;
}
function show(s) {
  if (!built) build(s.levers);
  for (const lv of s.levers) {
    const input = document.querySelector(`input[data-path="${CSS.escape(lv.path)}"]`);
    if (input && document.activeElement !== input) {
      input.value = lv.value;
      input.parentElement.nextElementSibling.textContent = fmt(lv.value);
    }
  }
  $('day').textContent = s.day; $('days-total').textContent = s.days;
  $('running').textContent = s.running ? ' (running)' : '';
  $('headline').innerHTML = s.headline.map(h =>
    `<tr><td>${esc(h.what)}</td><td>${fmt(h.value)}</td></tr>`).join('');
  $('timeline').innerHTML = s.timeline.length ? s.timeline.map(t =>
    `<li>day ${t.day}: ${esc(t.what)}</li>`).join('') : '<li>no changes yet</li>';
  if (s.error) say(s.error, false);
  $('step').disabled = s.running; $('run').disabled = s.running; $('pause').disabled = !s.running;
}
async function redraw(version) {
  if (version === drawn) return;
  const r = await call('/api/figures');
  const box = $('plots');
  r.figures.forEach((f, i) => {
    let div = box.children[i];
    if (!div) { div = document.createElement('div'); div.className = 'figure';
                box.appendChild(div); }
    Plotly.react(div, f.data, f.layout, {responsive: true, displaylogo: false});
  });
  drawn = r.version; document.body.dataset.drawn = r.version;
}
async function refresh() {
  try {
    const s = await call('/api/state'); show(s); await redraw(s.version);
    // marked once the plots show this state too
    Object.assign(document.body.dataset, {day: s.day, running: s.running, ready: 'yes'});
    return s;
  } catch (e) { say(e.message, false); }
}
async function act(path, body) {
  try { await call(path, body); say('', true); } catch (e) { say(e.message, false); }
  await refresh();
}
$('step').onclick = () => act('/api/step', {});
$('run').onclick = () => act('/api/run', {days: Number($('days').value)});
$('pause').onclick = () => act('/api/pause', {});
(async function poll() {
  const s = await refresh();
  setTimeout(poll, s && s.running ? 700 : 2000);
})();
"""

_PAGE_STYLE = """
.lever { display: flex; align-items: center; gap: .6em; margin: .3em 0; }
.lever input[type=range] { width: 22em; } .lever label { min-width: 26em; }
.controls { margin: .8em 0; display: flex; gap: .6em; align-items: center; flex-wrap: wrap; }
"""


class Move(BaseModel):
    """A lever moved to a value."""

    path: str = Field(description="the lever's path, as --set names it")
    value: float


class Days(BaseModel):
    """How many days to run."""

    days: int = Field(ge=1, le=36_500)


def _page(explorer: Explorer) -> str:
    s = explorer.city.scenario
    title = f"Explore {s.name}"
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} — xinyong</title><link rel=icon href='data:,'>"
        f"<style>{_STYLE}{_PAGE_STYLE}</style><script src='/static/plotly.min.js'></script>"
        f"</head><body><main><h1>{html.escape(title)}</h1>"
        f"<p class=note>{s.citizens:,} synthetic citizens, seed {explorer.city.seed}. Each "
        f"move of a lever is a change of the run's timeline from the open day.</p>"
        f"<div id=levers></div><div class=controls><button id=step>Step a day</button>"
        f"<label>days <input id=days type=number min=1 value=30 style='width:5em'></label>"
        f"<button id=run>Run</button><button id=pause disabled>Pause</button>"
        f"<span>Day <b id=day>0</b> of <span id=days-total></span><span id=running></span>"
        f"</span></div><p id=message></p><table id=headline></table>"
        f"<details><summary>The timeline so far</summary><ul id=timeline></ul></details>"
        f"<div id=plots class=grid></div></main><script>{_SCRIPT}</script></body></html>"
    )


def explore_app(explorer: Explorer) -> FastAPI:
    """The explorer's page and the JSON routes it calls."""
    app = FastAPI(title="xinyong explore", docs_url=None, redoc_url=None)
    add_plotly_js(app)

    def refused(exc: Exception) -> HTTPException:
        code = 422 if isinstance(exc, ScenarioError) else 409
        return HTTPException(code, str(exc).splitlines()[0])

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_page(explorer))

    @app.get("/api/state")
    def state() -> dict[str, Any]:
        """The day, whether days run, the levers, the timeline and the headline figures."""
        return explorer.state()

    @app.get("/api/figures")
    def figures() -> dict[str, Any]:
        """The report's plots of the days so far, and the version they show."""
        version, drawn = explorer.figures()
        return {"version": version, "figures": _figures_json(drawn)}

    @app.post("/api/set")
    def move(body: Move) -> dict[str, Any]:
        """Move a lever: a change of the run's timeline from the open day."""
        try:
            explorer.move(body.path, body.value)
        except ScenarioError as exc:
            raise refused(exc) from None
        return {"day": explorer.city.day}

    @app.post("/api/step")
    def step() -> dict[str, Any]:
        """Simulate the open day."""
        try:
            explorer.step()
        except RunError as exc:
            raise refused(exc) from None
        return {"day": explorer.city.day}

    @app.post("/api/run")
    def run(body: Days) -> dict[str, Any]:
        """Simulate days on a thread of their own, until done or paused."""
        try:
            explorer.run(body.days)
        except RunError as exc:
            raise refused(exc) from None
        return {"day": explorer.city.day, "running": True}

    @app.post("/api/pause")
    def pause() -> dict[str, Any]:
        """Stop the days after the one being simulated."""
        explorer.pause()
        return {"day": explorer.city.day}

    return app
