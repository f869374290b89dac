"""The classroom's pages (``xinyong serve --classroom N``): the student's, made for a phone,
and the teacher's.

A join link carries its key in the fragment (``#key=...``), which the browser never sends to
the server: the page keeps it in the tab's session storage and asks the service's JSON routes
with it, so the access matrix applies to the pages as to any client. A student's page asks
only for its own citizen; the service would refuse any other.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

__all__ = ["add_classroom_pages"]

_STYLE = """
body { font: 16px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
header { background: #1f2d3d; color: #fff; padding: .7em 1em; }
header b { font-size: 1.1em; } main { padding: .6em .8em 3em; max-width: 1100px; margin: auto; }
section { background: #fff; border-radius: 8px; padding: .6em .9em; margin: .7em 0;
          box-shadow: 0 1px 2px #0002; }
h2 { font-size: 1.05em; margin: .2em 0 .5em; } select, button, input { font-size: 1em; }
select { max-width: 100%; } button { padding: .4em .9em; }
.big { font-size: 2.2em; font-weight: 700; } .grade { font-size: 1.4em; font-weight: 600; }
.deny, .error { color: #b00020; } .allow, .ok { color: #1b7f3b; } .note { color: #555; }
.event { border-top: 1px solid #eee; padding: .35em 0; font-size: .95em; }
.event .pts { font-weight: 700; float: right; } .notice { border-left: 4px solid #c0392b;
  padding: .2em .6em; margin: .3em 0; font-size: .95em; }
table { border-collapse: collapse; font-size: .95em; } td, th { border-bottom: 1px solid #ddd;
  padding: .25em .6em; text-align: left; } .grid { display: flex; flex-wrap: wrap; gap: 1em; }
"""

_COMMON = """
const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.hash.slice(1));
if (params.get('key')) {
  sessionStorage.setItem('xinyong-class-key', params.get('key'));
  if (params.get('citizen')) sessionStorage.setItem('xinyong-class-citizen', params.get('citizen'));
  history.replaceState(null, '', location.pathname);  // the key leaves the address bar
}
const KEY = sessionStorage.getItem('xinyong-class-key') || '';
async function api(path, body) {
  const options = {headers: {'X-API-Key': KEY}};
  if (body !== undefined) {
    options.method = 'POST'; options.body = JSON.stringify(body);
    options.headers['Content-Type'] = 'application/json';
  }
  const reply = await fetch(path, options);
  const out = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(typeof out.detail === 'string' ? out.detail
                                 : JSON.stringify(out.detail || reply.statusText));
  return out;
}
function esc(s) { const d = document.createElement('div'); d.textContent = s ?? '';
                  return d.innerHTML; }
function say(id, text, ok) { const el = $(id); el.textContent = text;
                             el.className = ok ? 'ok' : 'error'; }
function pct(x) { return x === null || x === undefined ? '' : (100 * x).toFixed(1) + ' %'; }
"""

_STUDENT = """
const CITIZEN = Number(sessionStorage.getItem('xinyong-class-citizen'));
let today = null;
async function load() {
  try {
    const [me, rec, gates] = await Promise.all([api('/classroom/seat/' + CITIZEN),
      api('/citizens/' + CITIZEN),
      api('/api/gates/' + CITIZEN).catch(() => ({decisions: []}))]);  // no services: none
    today = me.choosing_for;
    $('who').textContent = `Seat ${me.seat}: ${rec.name || 'citizen ' + CITIZEN}`;
    $('day').textContent = `Day ${me.day}`;
    document.body.dataset.citizen = CITIZEN; document.body.dataset.day = me.day;
    const pick = $('behaviour');
    if (!pick.options.length) pick.innerHTML = me.choices.map(c =>
      `<option value="${esc(c.behaviour)}">${esc(c.behaviour.replaceAll('_', ' '))}` +
      `${c.points ? ' (' + (c.points > 0 ? '+' : '') + c.points + ')' : ''}</option>`).join('');
    $('do').disabled = me.chosen !== null;
    $('chosen').textContent = me.chosen === null ? `Choose for day ${today}.`
      : `Day ${today}: ${me.chosen.replaceAll('_', ' ')}. Wait for the teacher to advance the day.`;
    const op = rec.operators[0];
    $('score').textContent = op.score; $('grade').textContent = 'grade ' + op.grade;
    $('listed').textContent = op.listed ? `Listed since day ${op.listing_day}.` : 'Not listed.';
    $('lists').innerHTML = op.lists.map(l => `<div class=deny>On the ${esc(l.list)} ` +
      `since day ${l.since}${l.until !== null ? ', until day ' + l.until : ''}</div>`).join('');
    const events = op.ledger.slice().reverse().slice(0, 30);
    $('events').innerHTML = events.length ? events.map(e => `<div class=event>
      <span class=pts>${e.points > 0 ? '+' : ''}${e.points}</span>
      Day ${e.day}: ${esc(e.behaviour.replaceAll('_', ' '))}, recorded by ${esc(e.sensor)}
      <div class=note>${e.notes.map(esc).join(' ')}</div>
      ${e.counted ? `<button class=appeal data-event="${esc(e.event)}">Appeal</button>` : ''}
      </div>`).join('') : '<p class=note>No events yet.</p>';
    for (const b of document.querySelectorAll('button.appeal')) b.onclick = () => appeal(b);
    const first = ['rail', 'air', 'bank_loan', 'school', 'university'];  // the ones asked of most
    const rank = d => first.includes(d.service) ? first.indexOf(d.service) : first.length;
    gates.decisions.sort((a, b) => rank(a) - rank(b));
    $('gates').innerHTML = gates.decisions.map(d => `<div><b>${esc(d.service)}</b>: ` +
      `<span class=${d.action === 'allow' ? 'allow' : 'deny'}>${esc(d.text)}</span></div>`)
      .join('') || '<p class=note>No services check this city.</p>';
    $('notices').innerHTML = me.notices.map(n => `<div class=notice>Day ${n.day}: ` +
      `${esc(n.text)}</div>`).join('') || '<p class=note>No notices about you.</p>';
    document.body.dataset.ready = 'yes';
  } catch (e) { say('status', e.message, false); document.body.dataset.ready = 'yes'; }
}
async function appeal(button) {
  try {
    const r = await api('/appeals', {citizen: CITIZEN, event: button.dataset.event,
                                     reason: 'appealed from the classroom'});
    button.replaceWith(Object.assign(document.createElement('span'),
      {className: 'ok appealed', textContent: `Appeal ${r.appeal} filed.`}));
  } catch (e) { say('status', e.message, false); }
}
$('do').onclick = async () => {
  try { await api(`/classroom/seat/${CITIZEN}/act`, {behaviour: $('behaviour').value});
        say('status', '', true); }
  catch (e) { say('status', e.message, false); }
  await load();
};
$('refresh').onclick = load;
load();
setInterval(load, 15000);
"""

_STUDENT_BODY = """
<header><b id=who>…</b> · <span id=day></span> <button id=refresh>Refresh</button></header>
<main><p id=status></p>
<section><h2>What does your citizen do today?</h2><select id=behaviour
  aria-label=behaviour></select> <button id=do>Do it</button><p id=chosen class=note></p>
</section>
<section><h2>Your score</h2><span id=score class=big></span> <span id=grade
  class=grade></span><p id=listed></p><div id=lists></div></section>
<section><h2>Why: every event and its reason</h2><div id=events></div></section>
<section><h2>What the services say</h2><div id=gates></div></section>
<section><h2>Notices about you</h2><div id=notices></div></section></main>
"""

_TEACHER = """
async function load() {
  try {
    const c = await api('/classroom');
    $('day').textContent = `Day ${c.day}`; document.body.dataset.day = c.day;
    const row = (name, g) => `<tr><td>${name}</td><td>${g.citizens}</td>` +
      `<td>${g.mean_score === null ? '' : g.mean_score.toFixed(1)}</td>` +
      `<td>${pct(g.listed_share)}</td><td>${g.listed}</td></tr>`;
    $('compare').innerHTML = '<tr><th></th><th>citizens</th><th>mean score</th>' +
      '<th>listed</th><th>listed (count)</th></tr>' + row('the class', c.class) +
      row('the synthetic rest', c.rest);
    $('chilling').innerHTML = c.chilling.map(r =>
      `<li>${esc(r.behaviour.replaceAll('_', ' '))}: ${esc(r.text)}</li>`).join('')
      || '<li>Not measured yet (no twin, or too few events).</li>';
    $('seats').innerHTML = '<tr><th>seat</th><th>citizen</th><th>score</th><th>grade</th>' +
      '<th>listed</th><th>choices</th><th>appeals</th></tr>' + c.seats.map(s =>
      `<tr><td>${s.seat}</td><td>${s.citizen}</td><td>${s.score}</td><td>${esc(s.grade)}</td>` +
      `<td>${s.listed ? 'yes' : ''}</td><td>${s.actions}</td><td>${s.appeals}</td></tr>`).join('');
    $('appeals').innerHTML = c.appeals.filter(a => a.status === 'filed').map(a =>
      `<div>Appeal ${a.appeal} (seat ${a.seat}, event ${esc(a.event)}) <button
        data-appeal=${a.appeal} data-uphold=true>Uphold</button> <button
        data-appeal=${a.appeal} data-uphold=false>Reject</button></div>`).join('')
      || '<p class=note>No appeals waiting.</p>';
    for (const b of document.querySelectorAll('#appeals button')) b.onclick = () =>
      decide(Number(b.dataset.appeal), b.dataset.uphold === 'true');
    $('timeline').innerHTML = c.timeline.map(t => `<li>day ${t.day}: ${esc(t.what)} ` +
      `(${esc(JSON.stringify(t.set))})</li>`).join('') || '<li>no changes yet</li>';
    document.body.dataset.ready = 'yes';
  } catch (e) { say('status', e.message, false); }
}
async function decide(appeal, uphold) {
  try { await api(`/appeals/${appeal}/decision`, {uphold}); say('status', 'Decided.', true); }
  catch (e) { say('status', e.message, false); }
  await load();
}
$('advance').onclick = async () => {
  $('advance').disabled = true;
  try { const r = await api('/advance', {days: 1, wait: true});
        say('status', `Now day ${r.day}.`, true); }
  catch (e) { say('status', e.message, false); }
  $('advance').disabled = false; await load();
};
$('change').onclick = async () => {
  let value = $('value').value;
  try { value = JSON.parse(value); } catch (e) { /* a bare string */ }
  try { const r = await api('/classroom/policy', {set: {[$('path').value]: value},
                                                  what: $('what').value});
        say('status', `From day ${r.day}: ${r.what}.`, true); }
  catch (e) { say('status', e.message, false); }
  await load();
};
$('end').onclick = async () => {
  try {
    const r = await api('/classroom/report');
    const table = (title, counts) => `<h3>${title}</h3><table>` + Object.entries(counts)
      .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('') + '</table>';
    $('report').innerHTML = `<p><b id=report-actions>${r.actions}</b> choices by ` +
      `${r.students} students over ${r.days} days; appeals: ` +
      `${esc(JSON.stringify(r.appeals))}.</p>` + table('Choices by behaviour',
      r.actions_by_behaviour) + table('Choices by day', r.actions_by_day) +
      table('Choices by seat', r.actions_by_seat);
    document.body.dataset.report = r.actions;
  } catch (e) { say('status', e.message, false); }
};
load();
setInterval(load, 10000);
"""

_TEACHER_BODY = """
<header><b>The teacher</b> · <span id=day></span></header>
<main><p id=status></p>
<section><h2>Time</h2><button id=advance>Advance a day</button>
  <span class=note>The students' choices count on the day advanced.</span></section>
<section><h2>Change a policy from today on (into the timeline)</h2>
  <input id=path size=34 value='sensors.camera.misidentify' aria-label=path>
  = <input id=value size=6 value='0.05' aria-label=value>
  <input id=what size=30 value='cameras misidentify 5 %' aria-label='in words'>
  <button id=change>Change</button></section>
<section><h2>The class against the synthetic city that fills the rest</h2>
  <table id=compare></table><p><b>Chilling effect</b>: how much more or less often the whole
  city does each behaviour than its twin where nothing acts on people (95 % interval;
  counts with and without):</p><ul id=chilling class=note></ul></section>
<section><h2>Appeals</h2><div id=appeals></div></section>
<section><h2>Seats</h2><table id=seats></table></section>
<section><h2>The timeline</h2><ul id=timeline></ul></section>
<section><h2>End of the lesson</h2><button id=end>End with a report</button>
  <div id=report></div></section></main>
"""


def _page(title: str, body: str, script: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} — xinyong</title><link rel=icon href='data:,'>"
        f"<style>{_STYLE}</style></head><body>{body}"
        f"<script>{_COMMON}{script}</script></body></html>"
    )


def add_classroom_pages(app: FastAPI) -> None:
    """Add the student's and the teacher's pages (their data comes from the JSON routes)."""

    @app.get("/classroom/student", include_in_schema=False)
    def student_page() -> HTMLResponse:
        return _page("Your citizen", _STUDENT_BODY, _STUDENT)

    @app.get("/classroom/teacher", include_in_schema=False)
    def teacher_page() -> HTMLResponse:
        return _page("The class", _TEACHER_BODY, _TEACHER)
