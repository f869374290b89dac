"""The compare page (``/compare``): two stored runs side by side, their differences
highlighted and their series' differences plotted; with its JSON routes ``/api/runs`` and
``/api/compare``.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from xinyong.records.run import RunError, open_run
from xinyong.service.auth import Who
from xinyong.service.roles import permit
from xinyong.views.figures import compare_figures
from xinyong.views.headline import seed_warning
from xinyong.views.pages.common import _ERRORS, _figures_json, _page
from xinyong.views.run_data import run_data, side_names
from xinyong.views.summary_table import format_difference, format_value, summary_rows

__all__ = ["add_compare"]

#: The page's HTML, inside ``<main>`` under its title.
_BODY = (
    "<p class=note>Two stored runs side by side, their "
    "differences highlighted.</p><label>A <select id=a></select></label> "
    "<label>B <select id=b></select></label> <button id=go>Compare</button>"
    "<p id=warning class=warning hidden></p><p id=status></p><div id=table></div>"
    "<div id=plots class=grid></div>"
)

#: The page's script, after the common one.
_SCRIPT = """
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
    const warning = document.getElementById('warning');
    warning.hidden = !r.warning; warning.textContent = r.warning || '';
    plot(document.getElementById('plots'), r.figures);
    say('status', r.differ + ' figures differ.', true);
  } catch (e) { say('status', e.message, false); }
};
"""


def add_compare(app: FastAPI, runs_root: Path | None) -> None:
    """Add the compare page and its JSON routes to the service's app.

    Args:
        app: the service's app.
        runs_root: the folder of stored runs that can be compared; None: none can.
    """

    @app.get("/compare", include_in_schema=False)
    def compare_page() -> HTMLResponse:
        return _page("Compare two runs", _BODY, _SCRIPT)

    def _runs() -> list[str]:
        if runs_root is None or not runs_root.is_dir():
            return []
        return sorted(p.name for p in runs_root.iterdir() if (p / "summary.json").exists())

    @app.get("/api/runs", tags=["dashboard"], responses=_ERRORS)
    def runs(identity: Who) -> dict[str, Any]:
        """The stored runs that can be compared (folders under the server's runs root)."""
        permit(identity, "runs")
        return {"runs": _runs()}

    @app.get("/api/compare", tags=["dashboard"], responses=_ERRORS)
    def compare(
        identity: Who,
        a: str = Query(max_length=200),
        b: str = Query(max_length=200),
    ) -> dict[str, Any]:
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
        return {
            "rows": [
                {
                    "key": k,
                    "a": va,
                    "b": vb,
                    "differs": d,
                    "a_text": format_value(k, va),
                    "b_text": format_value(k, vb),
                    "difference": format_difference(k, va, vb),
                }
                for k, va, vb, d in rows
            ],
            "names": [name_a, name_b],
            "differ": sum(r[3] for r in rows),
            "warning": seed_warning(da.summary, db.summary),
            "figures": _figures_json(compare_figures(da, db)),
        }
