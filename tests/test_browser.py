"""The dashboard in a real browser: Playwright driving Debian's chromium (``make test`` installs
it) against a ``xinyong serve`` process. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Server, _free_port, consequence_city, wait_until_up
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

import xinyong

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ANALYST, ADMIN = {"X-API-Key": "ana"}, {"X-API-Key": "adm"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("dashboard")
    scenario = tmp / "city.json"
    scenario.write_text(consequence_city(citizens=3000, days=120).model_dump_json(by_alias=True))
    runs = tmp / "runs"
    for name, file in (("errors-on", scenario), ("reference", "reference")):
        xinyong.simulate(file, citizens=2000, days=40, seed=1, out=runs / name).close()
    s = Server(tmp / "live", scenario, "--runs", str(runs))
    httpx.post(f"{s.url}/advance", json={"days": 60, "wait": True}, headers=ADMIN, timeout=120)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


class Visit:
    """A page with a key typed in, collecting console errors."""

    def __init__(self, browser: Browser, server: Server, key: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1200, "height": 1500})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = server.url
        self.page.goto(f"{self.url}/citizen")
        self.page.evaluate(f"localStorage.setItem('xinyong-key', '{key}')")

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.url}{path}")
        if path != "/citizen":  # the other pages fetch their data as they load
            self.page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_every_page_loads_without_errors_and_plots_render(browser: Browser, server: Server) -> None:
    visit = Visit(browser, server, "ana")
    page = visit.open("/")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert page.locator("#plots .figure").count() >= 6
    assert "Day 60" in page.inner_text("#status")
    assert _unreadable(page) == {}
    visit.shot("city")
    page = visit.open("/notices-feed")
    assert page.locator(".notice").count() > 0
    assert "SYN-" in page.inner_text("#feed")
    visit.shot("notices")
    page = visit.open("/compare")
    page.click("#go")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert page.locator("tr.differs").count() > 0
    header = page.locator("#table th").all_inner_texts()
    assert header[-1] == "B − A" and header[1] != header[2]  # sides named apart
    assert page.locator("#plots .gtitle", has_text="B − A").count() >= 3
    assert page.locator("#warning").is_hidden()  # both runs are seed 1
    assert _unreadable(page) == {}
    visit.shot("compare")
    visit.open("/citizen")
    visit.shot("citizen-empty")
    assert visit.errors == []


def _citizen_with_events(server: Server) -> tuple[int, str]:
    """A citizen among 0-49 (who have keys) with events in the city's ledger."""
    for c in range(50):
        record = httpx.get(f"{server.url}/citizens/{c}", headers=ANALYST).json()
        for op in record["operators"]:
            if op["ledger"]:
                return c, record["name"]
    raise AssertionError("no citizen among 0-49 has events")


def test_citizen_search_shows_the_reasons(browser: Browser, server: Server) -> None:
    citizen, name = _citizen_with_events(server)
    visit = Visit(browser, server, "ana")
    page = visit.open("/citizen")
    page.fill("#q", name.split(" ⟨")[0])
    page.click("#go")
    page.locator("#results a", has_text=f"({citizen})").first.click()
    page.wait_for_selector("table.ledger td", timeout=15_000)
    text = page.inner_text("#record")
    assert name in text and "What each service says today" in text
    assert "recorded by" in text  # every point has its reason
    page.wait_for_selector("#timeline .main-svg", timeout=15_000)
    timeline = page.locator("#timeline .figure").first
    assert _texts(timeline.locator(".g-xtitle")) == ["day"]
    assert _texts(timeline.locator(".g-ytitle")) == ["score (points)"]
    assert "error-free (own events only)" in _texts(timeline.locator(".legendtext"))
    visit.shot("citizen")
    assert visit.errors == []


def test_an_appeal_goes_through_for_its_citizen_and_not_for_others(
    browser: Browser, server: Server
) -> None:
    citizen, _ = _citizen_with_events(server)
    own = Visit(browser, server, f"c{citizen}")
    page = own.open("/citizen")
    page.fill("#q", str(citizen))
    page.click("#go")
    page.locator("#results a").first.click()
    page.wait_for_selector("button[data-event]", timeout=15_000)
    page.locator("button[data-event]").first.click()
    page.wait_for_selector("#appeal-status.ok", timeout=15_000)
    assert "filed" in page.inner_text("#appeal-status")
    own.shot("appeal-filed")

    reader = Visit(browser, server, "ana")  # an analyst reads the record, with no appeal button
    page = reader.open("/citizen")
    page.fill("#q", str(citizen))
    page.click("#go")
    page.locator("#results a").first.click()
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
    assert page.locator("table.ledger tr").count() > 1
    assert page.locator("button[data-event]").count() == 0

    other = Visit(browser, server, "adm")  # an admin may appeal, so sees the buttons...
    page = other.open("/citizen")
    page.fill("#q", str(citizen))
    page.click("#go")
    page.locator("#results a").first.click()
    page.wait_for_selector("button[data-event]", timeout=15_000)
    page.evaluate("localStorage.setItem('xinyong-key', 'rail')")  # ...a service key may not
    page.evaluate("keyBox.value = 'rail'")
    page.locator("button[data-event]").first.click()
    page.wait_for_selector("#appeal-status.error", timeout=15_000)
    assert "Appeal refused" in page.inner_text("#appeal-status")
    other.shot("appeal-refused")


# A newcomer's first hour (issue 16): every page and report section, checked for what its fix
# requires, with screenshots in test-artifacts/.


def _offline(page: Page) -> None:
    """Abort every request that leaves this machine."""
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("http://127.0.0.1", "file://", "data:"))
            else route.abort()
        ),
    )


def test_api_docs_load_with_the_network_blocked(browser: Browser, server: Server) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1500})
    _offline(page)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 10
    assert "xinyong live city" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "docs-offline.png"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xinyong.views.figures import run_data
    from xinyong.views.report import write_report

    out = tmp_path_factory.mktemp("report") / "city"
    with xinyong.simulate(consequence_city(citizens=1500, days=365), seed=2, out=out) as run:
        return write_report(out / "report.html", run_data(run))


def _figure(page: Page, title: str):
    return page.locator(".figure", has=page.locator(".gtitle", has_text=title)).first


def _texts(locator) -> list[str]:
    """The text of SVG elements (which have no inner text)."""
    return locator.evaluate_all("els => els.map(e => e.textContent)")


def _boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


# Every plot reads at a glance (issue 25): no text over other text, nothing cut off at the
# picture's edge, no bar stretched across the plot, whole days and counts on their ticks, no
# "0" on a log axis. One round trip per plot; the problems come back as words.
_PROBLEMS = """el => {
  const out = [], svg = el.querySelector('.main-svg');
  if (!svg) return ['no plot drawn'];
  const frame = svg.getBoundingClientRect(), box = e => e.getBoundingClientRect();
  if (Math.abs(frame.height - el._fullLayout.height) > 2)  // stretched to its grid row
    out.push('picture stretched to ' + Math.round(frame.height) + ' px');
  const text = e => e.textContent.trim();
  const texts = [...el.querySelectorAll('.gtitle, .gtitle-subtitle, .g-xtitle text, ' +
      '.g-ytitle text, .legendtext, .xtick text, .ytick text, .annotation-text')]
    .filter(t => text(t) && box(t).width > 0);
  for (const t of texts) {  // cut off at the picture's edge
    const b = box(t);
    if (b.left < frame.left - 1 || b.right > frame.right + 1 || b.top < frame.top - 1 ||
        b.bottom > frame.bottom + 1) out.push('cut off: ' + text(t));
  }
  const touch = (a, b) => a.left + 1 < b.right && b.left + 1 < a.right &&
                          a.top + 1 < b.bottom && b.top + 1 < a.bottom;
  for (let i = 0; i < texts.length; i++)  // text over text
    for (let j = i + 1; j < texts.length; j++)
      if (touch(box(texts[i]), box(texts[j])))
        out.push('overlap: ' + text(texts[i]) + ' / ' + text(texts[j]));
  const bars = (el._fullData || []).filter(t => t.type === 'bar');
  el.querySelectorAll('.barlayer .trace').forEach((g, i) => {  // one bar stretched
    const across = bars[i] && bars[i].orientation === 'h';
    g.querySelectorAll('.point path').forEach(p => {
      const b = box(p);
      if (across ? b.height > 80 : b.width > 150)
        out.push('stretched bar: ' + Math.round(across ? b.height : b.width) + ' px');
    });
  });
  const number = t => Number(t.replace(/,/g, '').replace('\u2212', '-').replace(/k$/, 'e3')
                                .replace(/M$/, 'e6').replace(/%$/, ''));
  for (const [name, ticks] of [['xaxis', '.xtick text'], ['yaxis', '.ytick text']]) {
    const axis = el._fullLayout[name];
    if (!axis) continue;
    const labels = [...el.querySelectorAll(ticks)].map(text).filter(t => t);
    const title = (axis.title && axis.title.text) || '';
    if (axis.type === 'log' && labels.some(t => number(t) === 0))
      out.push('a "0" tick on a log axis: ' + title);
    if (axis.type === 'linear' && /^(day|citizens|members|refusals|gate decisions|denials|events)/
        .test(title) && labels.some(t => !Number.isInteger(number(t))))
      out.push('fractional ticks on "' + title + '": ' + labels.join(' '));
  }
  return out;
}"""


def _unreadable(page: Page, where: str = ".figure") -> dict[str, list[str]]:
    """Every plot on the page whose layout has a problem (by its title), with the problems."""
    out = {}
    for figure in page.locator(where).all():
        problems = figure.evaluate(_PROBLEMS)
        if problems:
            title = _texts(figure.locator(".gtitle"))
            out[title[0] if title else "(untitled)"] = problems
    return out


def test_report_sections_at_day_365(browser: Browser, report: Path) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    _offline(page)
    page.goto(report.as_uri())
    page.wait_for_selector("body[data-plotted=yes]", timeout=60_000)
    scores = _figure(page, "Scores and error-free scores")
    assert _texts(scores.locator(".legendtext")) == ["scores", "error-free scores"]
    assert (
        "AAA" in _texts(scores.locator(".annotation-text"))
        or scores.locator(".annotation-text").count() >= 3
    )  # the grade bands are labelled
    sensors = _figure(page, "Events recorded by sensor")
    colours = sensors.evaluate("el => el._fullData.map(t => t.line.color)")  # as drawn
    assert sensors.locator(".legendtext").count() == len(colours)
    assert len(colours) >= 5 and len(set(colours)) == len(colours)  # no colour twice
    sanctions = _figure(page, "Sanctions and rewards")
    legend = sanctions.locator(".legend").bounding_box()
    for tick in sanctions.locator(".ytick text").all():
        assert not _boxes_overlap(legend, tick.bounding_box())
    assert sanctions.locator(".ytick text").first.bounding_box()["x"] >= 0  # not cut off
    chill = _figure(page, "Chilling effect")
    assert set(_texts(chill.locator(".legendtext"))) == {
        "penalised: a fall is deterrence",
        "rewarded: a rise is encouragement",
    }
    assert "95% interval" in " ".join(_texts(chill.locator(".g-xtitle")))
    for title in (
        "Real grade against error-free grade",
        "Wrongly listed on each list",
        "Who is listed, by income band",
        "Harms to citizens",
    ):
        assert _figure(page, title).count() == 1, title
    assert _unreadable(page) == {}
    page.screenshot(path=str(ARTIFACTS / "report-365.png"), full_page=True)
    page.click("#odd summary")
    assert "Design concepts" in page.inner_text("#odd")
    page.locator("#odd").screenshot(path=str(ARTIFACTS / "report-odd.png"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("fresh")
    scenario = tmp / "city.json"
    scenario.write_text(consequence_city(citizens=800, days=30).model_dump_json(by_alias=True))
    s = Server(tmp / "live", scenario)
    yield s
    s.stop()


def test_day_zero_city_and_the_admin_advance_button(browser: Browser, fresh: Server) -> None:
    analyst = Visit(browser, fresh, "ana")
    page = analyst.open("/")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert "Day 0" in page.inner_text("#status")
    listed = _figure(page, "Listed over time")
    ticks = _texts(listed.locator(".xtick text"))
    assert ticks and not any(t.startswith(("−", "-")) for t in ticks)  # never -1 to 1
    harms = _texts(_figure(page, "Harms to citizens").locator(".ytick text"))
    assert harms and not any(t.startswith(("−", "-")) for t in harms)
    chill = _figure(page, "Chilling effect")  # a note in its place, not empty axes
    assert "Day 0: nothing has been done yet." in " ".join(
        _texts(chill.locator(".annotation-text"))
    )
    assert chill.locator(".xtick, .ytick, .legendtext").count() == 0
    assert page.locator("#admin").is_hidden()  # an analyst may not advance
    assert _unreadable(page) == {}
    analyst.shot("city-day-0")

    admin = Visit(browser, fresh, "adm")
    page = admin.open("/")
    page.wait_for_selector("#admin:not([hidden])", timeout=15_000)
    page.fill("#days", "1")
    page.click("#advance")
    page.wait_for_function(
        "document.getElementById('status').textContent.includes('Day 1')", timeout=60_000
    )
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    # Day 1 (issue 25): whole days and counts on the ticks, every one-day point shown.
    assert _unreadable(page) == {}
    ticks = _texts(_figure(page, "Listed over time").locator(".xtick text"))
    assert ticks == ["0", "1"]
    admin.shot("city-advanced")
    assert analyst.errors == [] and admin.errors == []


def test_notices_filter_by_kind_and_link_to_the_citizen(browser: Browser, server: Server) -> None:
    visit = Visit(browser, server, "ana")
    page = visit.open("/notices-feed")
    page.wait_for_selector("details.group", timeout=15_000)
    kinds = page.locator("#kind option").all_inner_texts()[1:]
    assert "published list" in kinds and "billboard" in kinds
    page.select_option("#kind", label="published list")
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)  # filtered on the server
    summaries = page.locator("details.group summary").all_inner_texts()
    assert summaries and all("published list" in s for s in summaries)
    page.select_option("#kind", value="billboard")
    page.fill("#from", "59")
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
    summaries = page.locator("details.group summary").all_inner_texts()
    assert summaries and all(int(s.split(":")[0].removeprefix("Day ")) >= 59 for s in summaries)
    visit.shot("notices-filtered")
    page.fill("#from", "")  # a citizen with a camera event
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
    link = page.locator("details.group[open] .notice a").first
    citizen, name = link.get_attribute("href").split("#")[1], link.inner_text()
    link.click()
    page.wait_for_selector("#record h2", timeout=15_000)
    assert citizen in page.url
    assert name in page.inner_text("#record h2")
    visit.shot("citizen-from-notice")
    assert visit.errors == []


def test_appeal_buttons_only_for_keys_that_may_appeal(server: Server) -> None:
    for key, may in (("ana", False), ("adm", True), ("c3", True), ("rail", False), ("cam", False)):
        assert (
            httpx.get(f"{server.url}/api/me", headers={"X-API-Key": key}).json()["may_appeal"]
            is may
        ), key


# The live city after a whole year (issue 16): every live-city page, checked for what its fix
# requires. The compare page shows stored runs, not the live city: its checks are above.


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("year")
    scenario = tmp / "city.json"
    scenario.write_text(consequence_city(citizens=1000, days=365).model_dump_json(by_alias=True))
    s = Server(tmp / "live", scenario)
    reply = httpx.post(
        f"{s.url}/advance", json={"days": 365, "wait": True}, headers=ADMIN, timeout=120
    )
    assert reply.status_code == 200, reply.text
    yield s
    s.stop()


_OVERLAPS = """el => {  // the axis titles and tick labels the legend's box overlaps
  const legend = el.querySelector('.legend');
  if (!legend) return [];
  const a = legend.getBoundingClientRect();
  return [...el.querySelectorAll('.g-xtitle text, .g-ytitle text, .xtick text, .ytick text')]
    .filter(t => { const b = t.getBoundingClientRect();
                   return b.width > 0 && a.left < b.right && b.left < a.right &&
                          a.top < b.bottom && b.top < a.bottom; })
    .map(t => t.textContent);
}"""


def _legend_clear(figure) -> None:
    """The legend of a plot overlaps none of its axis titles and tick labels (one round trip
    per plot: a bounding box each would take seconds on a page of plots)."""
    overlaps = figure.evaluate(_OVERLAPS)
    assert overlaps == [], (figure.locator(".gtitle").text_content(), overlaps)


def test_city_page_at_day_365(browser: Browser, year: Server) -> None:
    visit = Visit(browser, year, "ana")
    page = visit.open("/")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert "Day 365" in page.inner_text("#status")
    chill = _figure(page, "Chilling effect")
    assert _texts(chill.locator(".legendtext")) == [
        "penalised: a fall is deterrence",
        "rewarded: a rise is encouragement",
    ]
    legend, plot = (chill.locator(s).bounding_box() for s in (".legend", ".nsewdrag"))
    assert 0 <= plot["y"] - (legend["y"] + legend["height"]) < 40  # just above its panel
    counts = " ".join(_texts(chill.locator(".gtitle-subtitle")))
    assert "by all 1,000 citizens" in counts and "days 0–364" in counts  # what it counts
    assert "twin city" in counts and "95% interval" in counts
    assert "95% interval" in " ".join(_texts(chill.locator(".g-xtitle")))
    assert chill.locator(".ytick text").count() >= 5  # the behaviours
    assert chill.evaluate(
        "el => el._fullData.every(t => t.error_x.array.length === t.x.length)"
    )  # every point has its interval
    listed = _figure(page, "Listed over time")
    assert _texts(listed.locator(".legendtext")) == [
        "listed without errors",
        "listed",
        "wrongly listed",
    ]
    assert max(float(t.replace(",", "")) for t in _texts(listed.locator(".xtick text"))) >= 300
    for figure in page.locator("#plots .figure").all():
        _legend_clear(figure)
    assert _unreadable(page) == {}
    visit.shot("city-day-365")
    assert visit.errors == []


def _listed_citizen(server: Server) -> int:
    """A citizen among 0-49 with events in the ledger and on some list at day 365."""
    for c in range(50):
        record = httpx.get(f"{server.url}/citizens/{c}", headers=ANALYST).json()
        op = record["operators"][0]
        if op["ledger"] and op["lists"]:
            return c
    raise AssertionError("no citizen among 0-49 is on a list")


def test_citizen_page_at_day_365(browser: Browser, year: Server) -> None:
    citizen = _listed_citizen(year)
    visit = Visit(browser, year, "ana")
    page = visit.open("/citizen")
    page.fill("#q", str(citizen))
    page.click("#go")
    page.locator("#results a").first.click()
    page.wait_for_selector("#timeline .main-svg", timeout=15_000)
    timeline = page.locator("#timeline .figure").first
    assert _texts(timeline.locator(".g-xtitle")) == ["day"]
    assert _texts(timeline.locator(".g-ytitle")) == ["score (points)"]
    assert _texts(timeline.locator(".legendtext")) == [
        "score",
        "error-free (own events only)",
        "error-free score today",
        "listing",
    ]
    assert any(t.startswith("on ") for t in _texts(timeline.locator(".textpoint text")))
    cut = timeline.evaluate("""el => { const svg = el.querySelector('.main-svg')
      .getBoundingClientRect();  // listing labels drawn whole, inside the plot's picture
      return [...el.querySelectorAll('.textpoint text')].filter(t => {
        const b = t.getBoundingClientRect();
        return b.left < svg.left || b.right > svg.right; }).map(t => t.textContent); }""")
    assert cut == []
    last = timeline.evaluate("el => Math.max(...el._fullData[0].x)")
    assert last == 365  # the score is drawn up to today
    _legend_clear(timeline)
    assert _unreadable(page, "#timeline .figure") == {}
    assert "On list" in page.inner_text("#record")
    visit.shot("citizen-day-365")
    assert visit.errors == []


def test_notices_page_at_day_365_filters_by_list(browser: Browser, year: Server) -> None:
    visit = Visit(browser, year, "ana")
    page = visit.open("/notices-feed")
    lists = page.locator("#list option").all_inner_texts()[1:]
    assert lists == ["city:listing", "debtors", "low-scorers", "model-citizens"]
    everything = page.inner_text("#status")
    visit.shot("notices-day-365")
    page.select_option("#list", value="debtors")
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
    summaries = page.locator("details.group summary").all_inner_texts()
    assert summaries and all("list debtors" in s for s in summaries)
    assert "billboard" not in page.inner_text("#feed")
    total = int(page.inner_text("#status").split()[0])
    feed = httpx.get(
        f"{year.url}/api/notices", params={"list": "debtors", "limit": 1}, headers=ANALYST
    ).json()
    assert total == feed["total"] > 0 and page.inner_text("#status") != everything
    page.select_option("#kind", value="dial_tone")  # kind and list together
    page.wait_for_selector("body[data-ready=yes]", timeout=15_000)
    assert all(
        "dial tone — list debtors" in s
        for s in page.locator("details.group summary").all_inner_texts()
    )
    visit.shot("notices-day-365-debtors")
    unknown = httpx.get(f"{year.url}/api/notices", params={"list": "detbors"}, headers=ANALYST)
    assert unknown.status_code == 404 and "debtors" in unknown.json()["detail"]
    assert visit.errors == []


# Every plot of every report (issue 25): the reported city, a comparison of two seeds, an
# experiment of arms and a Morris screen with long metric names. The layout checks fail on
# the defects the issue saw (band labels "AAAAA", a "0%" tick on a log axis, titles under
# legends and axis titles, titles cut off, a refusal bar stretched, day 0.2).


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from xinyong.views.experiment_report import write_experiment_report
    from xinyong.views.report import write_report
    from xinyong.views.run_data import run_data

    tmp = tmp_path_factory.mktemp("reports")
    data = []
    for seed in (1, 2):
        with xinyong.simulate("rongcheng", citizens=4000, days=90, seed=seed) as run:
            data.append(run_data(run))
    out = {
        "rongcheng": write_report(tmp / "rongcheng.html", data[0]),
        "seeds": write_report(tmp / "seeds.html", data[0], data[1]),
    }
    base = {"scenario": "rongcheng", "citizens": 1500, "days": 40}
    long = "operators.city.lists.dishonest-debtors.members_share"
    designs = {
        "arms": {
            **base,
            "seeds": [1, 2],
            "metrics": ["wrongly_graded", "points_lost_to_errors", long],
            "baseline": "cameras-1pc",
            "arms": [
                {"name": "cameras-1pc"},
                {"name": "cameras-5pc", "set": {"sensors.camera.misidentify": 0.05}},
            ],
        },
        "morris": {
            **base,
            "seeds": 1,
            "design": "morris",
            "samples": 2,
            "levels": 4,
            "metrics": ["blacklisted_share", long],
            "factors": [
                {
                    "name": "escalation_below",
                    "path": "operators.city.scheme.lists.blacklist.escalation.below",
                    "range": [850, 950],
                    "integer": True,
                },
                {
                    "name": "debt_obligation_met",
                    "path": "operators.city.scheme.lists.dishonest-debtors.obligation_met_per_year",
                    "range": [0.1, 1.0],
                },
            ],
        },
    }
    for name, design in designs.items():
        xinyong.experiment(design, out=tmp / name)
        out[name] = write_experiment_report(tmp / name)
    return out


def _open_report(browser: Browser, path: Path) -> Page:
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    _offline(page)
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-plotted=yes]", timeout=60_000)
    return page


@pytest.mark.parametrize("name", ["rongcheng", "seeds", "arms", "morris"])
def test_every_plot_of_every_report_reads_at_a_glance(
    browser: Browser, reports: dict[str, Path], name: str
) -> None:
    page = _open_report(browser, reports[name])
    assert page.locator(".figure:has(.main-svg)").count() == page.locator(".figure").count() > 0
    assert _unreadable(page) == {}
    page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"), full_page=True)


def test_a_comparison_of_two_seeds_says_so_at_its_top(
    browser: Browser, reports: dict[str, Path]
) -> None:
    page = _open_report(browser, reports["seeds"])
    warning = page.locator("#seeds")
    assert "A is seed 1 and B is seed 2" in warning.inner_text()
    first_plot = page.locator(".figure").first.bounding_box()
    assert warning.bounding_box()["y"] < first_plot["y"]  # read before any plot or table
    assert warning.bounding_box()["y"] < page.locator("table").first.bounding_box()["y"]


def test_the_reported_citys_headline_is_system_wide(
    browser: Browser, reports: dict[str, Path]
) -> None:
    page = _open_report(browser, reports["rongcheng"])
    cards = page.locator(".stat b").all_inner_texts()
    assert any(c.endswith("of 4,000 blacklisted") for c in cards)
    assert any("of 4,000 wrongly blacklisted;" in c and c.endswith("missed") for c in cards)
    scores = _figure(page, "Scores and error-free scores — city")
    assert sorted(_texts(scores.locator(".annotation-text"))) == ["A", "AA", "AAA", "B", "C"]


class Explore:
    """A ``xinyong explore`` process on loopback."""

    def __init__(self, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).with_name("xinyong")
        self.proc = subprocess.Popen(
            [str(exe), "explore", *args, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_until_up(self.proc, f"{self.url}/api/state", "xinyong explore")

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=60)
        return out.decode()


def test_the_explorer_page_steps_runs_pauses_and_moves_a_lever(
    browser: Browser, tmp_path: Path
) -> None:
    served = Explore(
        "rongcheng", "--citizens", "1500", "--days", "30000", "--seed", "2",
        "--lever", "behaviours.volunteering.p", "--save", str(tmp_path / "run"),
    )  # fmt: skip
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        served_5xx: list[str] = []
        page.on("response", lambda r: served_5xx.append(r.url) if r.status >= 500 else None)
        page.goto(served.url)
        page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
        assert page.locator("#levers input[type=range]").count() == 6  # 5 of the scenario's
        slider = page.locator("input[data-path='sensors.camera.misidentify']")
        slider.evaluate("(e) => { e.value = 0.05; e.dispatchEvent(new Event('change')); }")
        page.wait_for_selector("#timeline li:has-text('day 0')", state="attached")
        page.click("#step")
        page.wait_for_selector("body[data-day='1']")
        page.fill("#days", "20")
        page.click("#run")
        page.wait_for_selector("body[data-day='21'][data-running=false]", timeout=60_000)
        page.wait_for_selector("#plots .main-svg", timeout=30_000)
        assert page.locator("#plots .figure").count() >= 6  # the report's plots
        drawn = int(page.get_attribute("body", "data-drawn") or -1)
        assert drawn == httpx.get(f"{served.url}/api/state").json()["version"]
        # far more days than run between two polls, so the pause lands before the end
        page.fill("#days", "29000")
        page.click("#run")
        page.wait_for_selector("body[data-running=true]", timeout=10_000)
        page.click("#pause")
        page.wait_for_selector("body[data-running=false]", timeout=60_000)
        paused = int(page.get_attribute("body", "data-day") or 0)
        assert 21 < paused < 29021  # stopped between two days, well before the 29,000
        page.screenshot(path=str(ARTIFACTS / "explore.png"), full_page=True)
        bad = httpx.post(
            f"{served.url}/api/set", json={"path": "sensors.camera.misidentify", "value": 3}
        )
        assert bad.status_code == 422 and "goes from 0.0 to 0.1" in bad.json()["detail"]
        assert errors == [] and served_5xx == []
    finally:
        said = served.stop()
    assert "Wrote the run" in said
    with xinyong.open_run(tmp_path / "run") as run:
        assert run.summary["days"] == paused
        assert [row["day"] for row in run.summary["timeline"]] == [0]


STUDENTS, LESSON_DAYS, POLICY_DAY, APPEAL_DAY = 30, 10, 3, 5


def test_a_class_of_30_plays_10_days_with_a_policy_change_and_an_appeal(
    browser: Browser, tmp_path: Path
) -> None:
    folder = tmp_path / "class"
    served = Server(folder, Path("rongcheng"), "--citizens", "3000", "--days", "60",
                    "--classroom", str(STUDENTS))  # fmt: skip
    seats = tomllib.loads((folder / "classroom.toml").read_text())
    assert len(seats["seats"]) == STUDENTS
    failures: list[str] = []  # any 5xx answer, to any page, and any script error
    asked: dict[int, set[int]] = {}  # citizen -> the citizens its page asked the service about
    try:
        teacher_ctx = browser.new_context(viewport={"width": 1100, "height": 1400})
        teacher_ctx.on("response", lambda r: failures.append(r.url) if r.status >= 500 else None)
        teacher = teacher_ctx.new_page()
        teacher.on("pageerror", lambda e: failures.append(str(e)))
        teacher.goto(f"{served.url}/classroom/teacher#key={seats['teacher']}")
        teacher.wait_for_selector("body[data-ready=yes]")
        pages = []
        for seat in seats["seats"]:
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            ctx.on("response", lambda r: failures.append(r.url) if r.status >= 500 else None)
            mine = asked.setdefault(seat["citizen"], set())

            def note(request: Any, mine: set[int] = mine) -> None:
                found = re.search(r"/(?:citizens|api/gates|classroom/seat)/(\d+)", request.url)
                if found:
                    mine.add(int(found.group(1)))

            ctx.on("request", note)
            page = ctx.new_page()
            page.on("pageerror", lambda e: failures.append(str(e)))
            page.goto(f"{served.url}/classroom/student#key={seat['key']}&citizen={seat['citizen']}")
            pages.append((seat, page))
        for _, page in pages:
            page.wait_for_selector("body[data-ready=yes]", timeout=60_000)
        actions = 0
        for day in range(LESSON_DAYS):
            for _, page in pages:  # every page shows the day open to choices
                page.click("#refresh")
            for i, (_, page) in enumerate(pages):
                page.wait_for_selector(f"body[data-day='{day}']", timeout=60_000)
                page.wait_for_selector("#do:not([disabled])", timeout=60_000)
                page.select_option("#behaviour", index=1 + (i + day) % 12)  # some score
                page.click("#do")
            for seat, page in pages:
                try:
                    page.wait_for_selector(f"#chosen:has-text('Day {day}:')", timeout=60_000)
                except PlaywrightError:
                    said = page.inner_text("#status") + " / " + page.inner_text("#chosen")
                    raise AssertionError(f"seat {seat['seat']}, day {day}: {said}") from None
                actions += 1
            if day == POLICY_DAY:  # the teacher changes a policy mid-lesson
                teacher.fill("#path", "sensors.camera.misidentify")
                teacher.fill("#value", "0.08")
                teacher.fill("#what", "cameras misidentify 8 %")
                teacher.click("#change")
                teacher.wait_for_selector("#status:has-text('From day 3')")
            if day == APPEAL_DAY:  # a student appeals, the teacher upholds it
                _, student = pages[0]
                student.locator("button.appeal").first.click()
                student.wait_for_selector(".appealed", timeout=30_000)
                teacher.reload()
                teacher.wait_for_selector("#appeals button[data-uphold=true]", timeout=30_000)
                teacher.click("#appeals button[data-uphold=true]")
                teacher.wait_for_selector("#status:has-text('Decided')", timeout=60_000)
            teacher.click("#advance")
            teacher.wait_for_selector(f"body[data-day='{day + 1}']", timeout=120_000)
        for seat, page in pages:  # each page shows its own citizen, and asked of no other
            page.click("#refresh")
            page.wait_for_selector(f"body[data-day='{LESSON_DAYS}']", timeout=60_000)
            assert page.get_attribute("body", "data-citizen") == str(seat["citizen"])
            assert page.inner_text("#who").startswith(f"Seat {seat['seat']}: ")
            assert asked[seat["citizen"]] == {seat["citizen"]}
        pages[0][1].screenshot(path=str(ARTIFACTS / "classroom-student.png"), full_page=True)
        teacher.click("#end")
        teacher.wait_for_selector("body[data-report]", timeout=60_000)
        assert teacher.get_attribute("body", "data-report") == str(actions)
        teacher.screenshot(path=str(ARTIFACTS / "classroom-teacher.png"), full_page=True)
        report = httpx.get(
            f"{served.url}/classroom/report", headers={"X-API-Key": seats["teacher"]}, timeout=60
        ).json()
        assert report["actions"] == STUDENTS * LESSON_DAYS == actions
        assert set(report["actions_by_seat"].values()) == {LESSON_DAYS}
        assert report["appeals"] == {"upheld": 1}
        assert [(t["day"], t["what"]) for t in report["timeline"]] == [
            (POLICY_DAY, "cameras misidentify 8 %")
        ]
        other = seats["seats"][1]["citizen"]
        refused = httpx.get(
            f"{served.url}/citizens/{other}", headers={"X-API-Key": seats["seats"][0]["key"]}
        )
        assert refused.status_code == 403  # a student's key reaches its own citizen alone
        assert failures == []
    finally:
        served.stop()
