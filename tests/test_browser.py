"""The dashboard in a real browser: Playwright driving Debian's chromium (``make test`` installs
it) against a ``xinyong serve`` process. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import Server, consequence_city
from playwright.sync_api import Browser, Page, sync_playwright

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
    httpx.post(f"{s.url}/advance", json={"days": 60, "wait": True}, headers=ADMIN,
               timeout=120)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it "
                    "(apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Visit:
    """A page with a key typed in, collecting console errors."""

    def __init__(self, browser: Browser, server: Server, key: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1200, "height": 1500})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
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


def test_every_page_loads_without_errors_and_plots_render(browser: Browser,
                                                          server: Server) -> None:
    visit = Visit(browser, server, "ana")
    page = visit.open("/")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert page.locator("#plots .figure").count() >= 6
    assert "Day 60" in page.inner_text("#status")
    visit.shot("city")
    page = visit.open("/notices-feed")
    assert page.locator(".notice").count() > 0
    assert "SYN-" in page.inner_text("#feed")
    visit.shot("notices")
    page = visit.open("/compare")
    page.click("#go")
    page.wait_for_selector("#plots .main-svg", timeout=30_000)
    assert page.locator("tr.differs").count() > 0
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
    visit.shot("citizen")
    assert visit.errors == []


def test_an_appeal_goes_through_for_its_citizen_and_not_for_others(browser: Browser,
                                                                  server: Server) -> None:
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

    other = Visit(browser, server, "ana")  # an analyst may read, so sees the record...
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
