"""The notices page (``/notices-feed``): what the city shows about its citizens, filtered by
kind, list and days and grouped by day and kind; with its JSON routes ``/api/notice-filters``
and ``/api/notices``.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse

from xinyong.model.consequences import NOTICE_KINDS, NoticeKind
from xinyong.model.population import citizen_name
from xinyong.service.auth import Who
from xinyong.service.live import LiveCity
from xinyong.service.roles import permit
from xinyong.views.pages.common import _ERRORS, _page

__all__ = ["add_notices"]

#: The page's HTML, inside ``<main>`` under its title.
_BODY = (
    "<p class=note>What the city shows: billboards at crossings, "
    "screens, the published list, posters. About synthetic citizens only. "
    "Grouped by day and kind; a name opens the citizen's record.</p>"
    "<div class=filters><label>kind <select id=kind><option value=''>any"
    "</option></select></label><label>list <select id=list><option "
    "value=''>any</option></select></label><label>from day <input id=from "
    "type=number min=0 style='width:5em'></label><label>to day <input id=to "
    "type=number min=0 style='width:5em'></label></div><p id=status></p>"
    "<div id=feed></div>"
)

#: The page's script, after the common one.
_SCRIPT = """
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
"""


def add_notices(app: FastAPI, live: LiveCity) -> None:
    """Add the notices page and its JSON routes to the service's app."""

    @app.get("/notices-feed", include_in_schema=False)
    def notices_page() -> HTMLResponse:
        return _page("Notices", _BODY, _SCRIPT)

    @app.get("/api/notice-filters", tags=["dashboard"], responses=_ERRORS)
    def notice_filters(identity: Who) -> dict[str, Any]:
        """What the notices feed can be filtered by: the kinds of notice the city's rules
        write, and the lists a notice can be caused by."""
        permit(identity, "notices")
        rules = live.scenario.consequences.notices if live.scenario.consequences else []
        written = {rule.kind for rule in rules}
        return {"kinds": [k for k in NOTICE_KINDS if k in written], "lists": live.notice_lists}

    @app.get("/api/notices", tags=["dashboard"], responses=_ERRORS)
    def notices_feed(
        identity: Who,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        kind: Annotated[NoticeKind | None, Query()] = None,
        on_list: Annotated[str | None, Query(alias="list", max_length=200)] = None,
        from_day: Annotated[int | None, Query(ge=0)] = None,
        to_day: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """The latest notices that match (a kind, the list that caused them, a range of days,
        each if given), with the synthetic name of each citizen, for the feed page; and how
        many match in all."""
        permit(identity, "notices")
        total, found = live.notice_feed(limit, kind, on_list, from_day, to_day)
        return {
            "total": total,
            "notices": [{**n, "name": citizen_name(n["citizen"])} for n in found],
        }
