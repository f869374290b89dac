"""The Python API researchers use from notebooks, and what a killed run leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import xinyong


@pytest.fixture(scope="module")
def run() -> xinyong.Run:
    with xinyong.simulate("reference", citizens=5000, days=120, seed=2) as r:
        yield r


def test_summary_daily_and_ledger(run: xinyong.Run) -> None:
    assert repr(run) == "<Run 'reference' seed=2: 5,000 citizens, 120 days (in memory)>"
    daily = run.daily
    assert isinstance(daily, pd.DataFrame) and list(daily["day"]) == list(range(120))
    for column in (
        "mean_score",
        "listed",
        "share_AAA",
        "share_D",
        "recorded_camera",
        "recorded_court",
        "occurred",
        "recorded",
        "misattributed",
        "wrongly_listed",
    ):
        assert column in daily
    assert abs(daily.filter(like="share_").sum(axis=1) - 1).max() < 1e-9
    assert daily["recorded"].sum() == len(run.ledger) == run.summary["events_recorded"]
    sensors = daily.filter(like="recorded_").sum(axis=1)
    assert (sensors == daily["recorded"]).all()


def test_explain_adds_up(run: xinyong.Run) -> None:
    for citizen in (0, 1, 4999):
        e = run.explain(citizen)
        assert e.replayed_score == e.score == run.ledger.replay(citizen)
        assert e.score == run.citizen(citizen)["score"]


def test_ledger_queries_and_export(run: xinyong.Run, tmp_path: Path) -> None:
    events = run.ledger.events(7)
    assert (events["subject"] == 7).all()
    by_behaviour = run.ledger.query("SELECT behaviour, count(*) AS n FROM events GROUP BY 1")
    assert by_behaviour["n"].sum() == len(run.ledger)
    path = tmp_path / "ledger.parquet"
    run.ledger.to_parquet(str(path))
    assert len(pd.read_parquet(path)) == len(run.ledger)


@pytest.mark.parametrize("bad", [-1, 5000, "3", True, 2.0])
def test_unknown_citizens(run: xinyong.Run, bad: object) -> None:
    with pytest.raises(xinyong.UnknownCitizenError, match="citizens are numbered 0 to 4999"):
        run.explain(bad)  # type: ignore[arg-type]


def test_reopened_run_matches(tmp_path: Path) -> None:
    with xinyong.simulate("reference", citizens=2000, days=60, seed=9, out=tmp_path / "r") as a:
        summary, daily = a.summary, a.daily
        text = str(a.explain(10))
    with xinyong.open_run(tmp_path / "r") as b:
        assert b.summary == summary
        assert b.daily.equals(daily)
        assert str(b.explain(10)) == text


def test_bad_seed() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        xinyong.simulate("reference", citizens=10, days=1, seed=-3)


def test_killed_run_is_never_taken_for_a_finished_one(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    exe = Path(sys.executable).with_name("xinyong")
    proc = subprocess.Popen(
        [str(exe), "simulate", "--citizens", "400000", "--days", "365", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (out / "run.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "the run finished before it could be killed: make it larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "summary.json").exists()
    with pytest.raises(xinyong.RunError, match="did not finish"):
        xinyong.open_run(out)


def test_a_day_is_its_phases_in_order_and_returns_what_it_did() -> None:
    from xinyong.engine.city import City
    from xinyong.engine.twin import behaviour_twin
    from xinyong.primitives.day import DayResult

    city = City(xinyong.load_scenario("rongcheng").with_sizes(citizens=3000, days=40), 2, None)
    plan = city.plan()
    assert list(plan) == [
        city._timeline,
        city._behaviour,
        city._observation,
        city._assessment,
        city._ledger,
        city._scoring,
        city._lists,
        city._consequences,
        city._response,
        city._rescheduling,
        city._end,
    ]
    assert str(plan) == (
        "timeline → behaviour → observation ‖ assessment → ledger → scoring → lists → "
        "consequences → response → rescheduling → end"
    )
    twin = behaviour_twin(city.scenario, 2)
    assert twin is not None and str(twin.plan()) == "timeline → behaviour ‖ rescheduling → end"
    results = [city.step() for _ in range(40)]
    assert all(isinstance(r, DayResult) for r in results)
    assert [r.day for r in results] == list(range(40))
    assert sum(r.occurred for r in results) == city.totals["occurred"]
    assert sum(r.recorded for r in results) == city.totals["recorded"]
    assert sum(r.misattributed for r in results) == city.totals["misattributed"]
    assert sum(r.refused for r in results) == sum(
        v for row in city.effects.daily for k, v in row.items() if k.startswith("denied_")
    )
    listed = sum(r.listed - r.left for r in results)
    assert listed == sum(
        int(lst.member.sum()) for op in city.operators for lst in op.lists.lists
    ) + sum(int(op.standing.listed.sum()) for op in city.operators)


def test_profile_times_every_phase_of_every_day_and_the_rest(tmp_path: Path) -> None:
    from xinyong.engine.city import City

    phases = City(xinyong.load_scenario("rongcheng").with_sizes(citizens=50), 1, None).plan()
    with xinyong.simulate("rongcheng", citizens=2000, days=30, seed=1, profile=True) as run:
        rows = {r["part"]: r for r in run.profile}
    for phase in phases.names():
        assert rows[phase]["calls"] == 30, phase
    assert rows["behaviour"]["events"] > 0 and rows["consequences"]["events"] > 0
    for part in (
        "set-up",
        "twin (behaviour only)",
        "summary",
        "other (not timed)",
        "counterfactual (second core)",
        "tomorrow's draws (second core)",
    ):
        assert part in rows
    main = sum(r["seconds"] for r in rows.values() if not r["beside"])
    assert abs(main - run.summary["wall_seconds"]) < 0.05 * run.summary["wall_seconds"] + 0.05
    cli = subprocess.run(
        [
            str(Path(sys.executable).with_name("xinyong")),
            "simulate",
            "--scenario",
            "rongcheng",
            "--citizens",
            "500",
            "--days",
            "5",
            "--out",
            str(tmp_path / "p"),
            "--profile",
        ],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    assert "Where the" in cli.stdout and "rescheduling" in cli.stdout
