"""A self-contained HTML report per run (or for two runs side by side) that opens offline.

Plotly's JavaScript comes from the installed plotly package, gzipped and inlined (the browser
unpacks it with ``DecompressionStream``), so the file needs no network and stays small; the plots
are drawn from aggregates only.
"""

from __future__ import annotations

import base64
import gzip
import html
from functools import cache
from importlib import resources
from pathlib import Path

import plotly.graph_objects as go

from xinyong.views.describe import markdown_html
from xinyong.views.figures import city_figures, compare_figures
from xinyong.views.headline import headline, seed_warning
from xinyong.views.run_data import RunData, side_names
from xinyong.views.summary_table import format_difference, format_value, summary_rows

__all__ = ["figures_html", "html_page", "plotly_js_path", "write_report"]

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 0 1.5em 3em; color: #222; }
h1 { margin-top: 1em; } .note { color: #555; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
td, th { border-bottom: 1px solid #ddd; padding: .25em .8em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
tr.differs td { background: #fff3cd; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1em;
        align-items: start; }
.figure { border: 1px solid #eee; min-height: 260px; }
.stats { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.stat { background: #f4f6f8; border-radius: 6px; padding: .6em 1em; max-width: 16em; }
.stat b { font-size: 1.15em; } .stat small { color: #555; }
.warning { background: #fff3cd; border-left: 4px solid #b35900; padding: .6em 1em; }
summary { cursor: pointer; margin: 1.5em 0 .5em; }
.odd td { text-align: left; vertical-align: top; font-size: 13px; }
"""

_LOADER = """
async function loadPlotly() {
  const b64 = document.getElementById('plotly-gz').textContent.trim();
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const code = await new Response(stream).text();
  const script = document.createElement('script');
  script.textContent = code;
  document.head.appendChild(script);
}
loadPlotly().then(() => {
  for (const el of document.querySelectorAll('.figure')) {
    const spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
    Plotly.newPlot(el, spec.data, spec.layout, {responsive: true, displaylogo: false});
  }
  document.body.dataset.plotted = 'yes';
});
"""


def plotly_js_path() -> Path:
    """plotly.js as installed with the plotly package (served by the dashboard)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


@cache
def _plotly_gz_b64() -> str:
    return base64.b64encode(gzip.compress(plotly_js_path().read_bytes(), 9)).decode()


def _table(
    rows: list[tuple[str, object, object, bool]], names: tuple[str, str] | None = None
) -> str:
    """The summary as a table: one value column, or A, B and B − A for a comparison."""

    def cell(k: str, v: object) -> str:
        return f"<td>{html.escape(format_value(k, v))}</td>"

    if names is None:
        head = "<tr><th>figure</th><th>value</th></tr>"
        body = "".join(f"<tr><td>{html.escape(k)}</td>{cell(k, a)}</tr>" for k, a, _, _ in rows)
    else:
        head = (
            f"<tr><th>figure</th><th>{html.escape(names[0])}</th>"
            f"<th>{html.escape(names[1])}</th><th>B − A</th></tr>"
        )
        body = "".join(
            f"<tr{' class=differs' if differs else ''}><td>{html.escape(k)}</td>{cell(k, a)}"
            f"{cell(k, b)}<td>{html.escape(format_difference(k, a, b))}</td></tr>"
            for k, a, b, differs in rows
        )
    return f"<table>{head}{body}</table>"


def _headline(s: dict) -> str:
    cells = "".join(
        f"<div class=stat><b>{html.escape(figure)}</b><br><small>{html.escape(what)}</small></div>"
        for figure, what in headline(s)
    )
    return f"<div class=stats>{cells}</div>"


def _timeline(s: dict) -> str:
    """The rules' dated changes, as a table (nothing for a run without any)."""
    rows = s.get("timeline") or []
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{r['day']}</td><td>{html.escape(r['date'] or '')}</td>"
        f"<td>{html.escape(r['what'])}</td><td>"
        + html.escape("; ".join(f"{k} = {v}" for k, v in r["set"].items()))
        + f"</td><td>{html.escape(r['source'] or 'assumption')}</td></tr>"
        for r in rows
    )
    return (
        "<h2>Timeline: the rules' dated changes</h2><p class=note>Each in force from the start "
        "of its day.</p><table class=odd><tr><th>day</th><th>date</th><th>what</th>"
        f"<th>set</th><th>source</th></tr>{body}</table>"
    )


def figures_html(figures: list[tuple[str, go.Figure]], prefix: str = "fig") -> str:
    """Plots as a grid, each drawn from its JSON spec once plotly.js is unpacked."""
    parts = []
    for i, (_, fig) in enumerate(figures):
        spec = fig.to_json().replace("</", "<\\/")
        parts.append(
            f'<script type="application/json" id="{prefix}-{i}">{spec}</script>'
            f'<div class="figure" data-spec="{prefix}-{i}"></div>'
        )
    return f'<div class="grid">{"".join(parts)}</div>'


def _description(data: RunData) -> str:
    if not data.description:
        return ""
    return (
        "<details id=odd><summary><h2 style='display:inline'>Model description (ODD)"
        "</h2></summary><div class=odd>" + markdown_html(data.description) + "</div></details>"
    )


def write_report(path: Path, a: RunData, b: RunData | None = None) -> Path:
    """Write the report of one run, or the comparison of two, to ``path``."""
    if b is None:
        title = f"xinyong — {a.name}"
        intro = (
            f"<p class=note>{a.summary['citizens']:,} synthetic citizens, "
            f"{a.summary['days']} days. Every figure is drawn from the run's store; "
            f"nothing here is about a real person.</p>"
        )
        body = (
            intro
            + _headline(a.summary)
            + _timeline(a.summary)
            + "<h2>Plots</h2>"
            + figures_html(city_figures(a))
            + "<details><summary><h2 style='display:inline'>"
            "Every figure</h2></summary>"
            + _table(summary_rows(a.summary))
            + "</details>"
            + _description(a)
        )
    else:
        names = side_names(a, b)
        title = f"xinyong — {names[0]} against {names[1]}"
        rows = summary_rows(a.summary, b.summary)
        changed = sum(r[3] for r in rows)
        warning = seed_warning(a.summary, b.summary)
        intro = (
            (f"<p class=warning id=seeds>{html.escape(warning)}</p>" if warning else "")
            + f"<p class=note>{html.escape(names[0])}. {html.escape(names[1])}. "
            f"{changed} figures differ (highlighted); B − A is in the figure's unit, "
            f"percentage points (pp) for shares.</p>"
        )
        body = (
            intro
            + "<h2>Summaries side by side</h2>"
            + _table(rows, names)
            + "<h2>Differences, day by day</h2>"
            + figures_html(compare_figures(a, b), "both")
            + f"<h2>{html.escape(names[0])}</h2>"
            + figures_html(city_figures(a), "a")
            + f"<h2>{html.escape(names[1])}</h2>"
            + figures_html(city_figures(b), "b")
        )
    path = Path(path)
    path.write_text(html_page(title, body), encoding="utf-8")
    return path


def html_page(title: str, body: str) -> str:
    """A whole offline page: the body, the style, and plotly.js inlined for its figures."""
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}"
        f'<script id="plotly-gz" type="application/octet-stream">{_plotly_gz_b64()}'
        f"</script><script>{_LOADER}</script></body></html>"
    )
