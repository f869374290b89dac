"""What every dashboard page shares: the style, the common script, the page shell
(:func:`_page`), the routes' documented errors, and the plotly.js route every page loads.

The common script keeps the API key the visitor types in (in the browser's local storage) and
asks the service's JSON routes with it; its ``whoami()`` asks ``/api/me``, which the city page's
module adds.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

import html
import json
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse

from xinyong.views.report import plotly_js_path

# The underscored names are the pages' own, shared by the modules of this package.
__all__ = ["add_plotly_js"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text}
    for code, text in (
        (401, "no or unknown API key"),
        (403, "the key's role may not do this"),
        (404, "no such citizen or run"),
        (409, "a stored run cannot be read"),
        (422, "a parameter is wrong; the detail names it"),
    )
}

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #222; }
nav { background: #1f2d3d; padding: .6em 1.2em; display: flex; gap: 1.2em; align-items: center; }
nav a { color: #fff; text-decoration: none; font-weight: 600; }
nav input { margin-left: auto; padding: .3em; width: 14em; }
main { max-width: 1150px; margin: 0 auto; padding: 1em 1.5em 3em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1em;
        align-items: start; }
.figure { border: 1px solid #eee; min-height: 260px; }
.warning { background: #fff3cd; border-left: 4px solid #b35900; padding: .6em 1em; }
.stat { display: inline-block; background: #f4f6f8; border-radius: 6px; padding: .4em .8em;
        margin: 0 .5em .5em 0; max-width: 16em; vertical-align: top; }
.stat small { color: #555; }
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
    """A page: the shell (style, navigation, key box) around ``body``, then the common script
    and ``script``."""
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f" — xinyong</title><link rel=icon href='data:,'><style>{_STYLE}</style>"
        f"<script src='/static/plotly.min.js'></script></head><body><nav>"
        f"<a href='/'>City</a><a href='/citizen'>Citizen</a>"
        f"<a href='/notices-feed'>Notices</a><a href='/compare'>Compare</a>"
        f"<input id=key type=password placeholder='API key' aria-label='API key'></nav>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main>"
        f"<script>{_COMMON_JS}{script}</script></body></html>"
    )


def _figures_json(figures: list) -> list[dict[str, Any]]:
    """Titled Plotly figures as the JSON the pages' ``plot()`` draws."""
    return [json.loads(fig.to_json()) for _, fig in figures]


def add_plotly_js(app: FastAPI) -> None:
    """Add the route that serves plotly.js from the installed plotly package (offline)."""

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="text/javascript")
