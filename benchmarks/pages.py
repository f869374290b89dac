"""Benchmark: dashboard pages for a big live city, timed in Debian's chromium (target: each
page under 1 s), and the size of a run's HTML report (target: under 5 MB).

    python benchmarks/pages.py [--scenario reference] [--citizens 740000] [--days 365]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

import xinyong
from xinyong.views.figures import run_data
from xinyong.views.report import write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="reference")
    parser.add_argument("--citizens", type=int, default=None)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        for seed in (1, 2):
            xinyong.simulate(
                args.scenario,
                citizens=args.citizens,
                days=args.days,
                seed=seed,
                out=runs / f"seed{seed}",
            ).close()
        with xinyong.open_run(runs / "seed1") as run:
            report = write_report(Path(tmp) / "report.html", run_data(run))
        print(f"report size (MB)      {report.stat().st_size / 2**20:8.2f}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        cmd = [
            str(Path(sys.executable).with_name("xinyong")),
            "serve",
            "--scenario",
            args.scenario,
            "--run",
            str(Path(tmp) / "live"),
            "--port",
            str(port),
            "--runs",
            str(runs),
        ] + (["--citizens", str(args.citizens)] if args.citizens else [])
        server = subprocess.Popen(
            cmd, env={**os.environ, "XINYONG_KEYS": "k=admin"}, stdout=subprocess.DEVNULL
        )
        try:
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.3)
            httpx.post(
                f"{url}/advance",
                json={"days": args.days, "wait": True},
                headers={"X-API-Key": "k"},
                timeout=3600,
            ).raise_for_status()
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                page = browser.new_page()
                page.goto(f"{url}/citizen")
                page.evaluate("localStorage.setItem('xinyong-key', 'k')")
                for path, ready in (
                    ("/", "#plots .main-svg"),
                    ("/notices-feed", "body[data-ready=yes]"),
                    ("/compare", "body[data-ready=yes]"),
                    ("/citizen", "#q"),
                ):
                    for _visit in range(2):  # the second visit has plotly.js cached
                        started = time.perf_counter()
                        page.goto(f"{url}{path}")
                        page.wait_for_selector(ready, timeout=60_000)
                        elapsed = time.perf_counter() - started
                    print(f"page {path:14s}        {elapsed:8.2f} s (second visit)")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
