"""A city driven from Python (``xinyong.City``): stepped, it is the run ``simulate`` writes;
changed mid-run, it is the scenario with that dated change; saved, every command reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import xinyong
from xinyong.scenario.change import Change
from xinyong.views.cli import app

DAYS = 40
CHANGE_DAY = 25
CHANGES = {"sensors.camera.misidentify": 0.2, "behaviours.jaywalking.p": 0.05}


def _stored(run: xinyong.Run) -> dict[str, object]:
    """Every table a run stores, row for row in stored order, and its summary (less its wall
    time and the scenario's horizon, which a stepped city's record says too)."""
    names = run.query("SELECT table_name FROM information_schema.tables")["table_name"]
    out: dict[str, object] = {t: run.query(f'SELECT * FROM "{t}"') for t in names}
    info = run.query("SELECT * FROM run_info WHERE key NOT IN ('summary') ORDER BY key")
    out["run_info"] = info
    out["summary"] = {k: v for k, v in run.summary.items() if k != "wall_seconds"}
    return out


def _same(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for table, frame in a.items():
        other = b[table]
        if isinstance(frame, dict):
            assert frame == other, table
        else:
            assert frame.equals(other), table  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "twin"), [("rongcheng", True), ("rongcheng", False), ("reference", True)]
)
def test_a_stepped_city_saves_the_run_simulate_writes(
    name: str, twin: bool, tmp_path: Path
) -> None:
    # A longer horizon than it runs; the twin kept day by day, or run when saved.
    city = xinyong.City(name, citizens=3000, days=120, seed=3, twin=twin)
    for _ in range(5):
        city.step()
    city.run(days=DAYS - 5)
    assert city.day == DAYS
    city.citizen(7)  # looking in the middle changes nothing
    saved = city.save(tmp_path / "stepped")
    whole = xinyong.simulate(name, citizens=3000, days=DAYS, seed=3, out=tmp_path / "whole")
    _same(_stored(saved), _stored(whole))
    assert saved.summary["days"] == DAYS
    city.run(days=5)  # a saved city goes on
    assert city.day == DAYS + 5
    city.close()


def test_a_change_from_python_mid_run_equals_the_dated_change(tmp_path: Path) -> None:
    scenario = xinyong.load_scenario("rongcheng")
    dated = scenario.model_copy(
        update={
            "timeline": [
                *scenario.timeline,
                Change(day=CHANGE_DAY, set=CHANGES, what="set from Python"),
            ]
        }
    )
    whole = xinyong.simulate(dated, citizens=3000, days=DAYS, seed=5, out=tmp_path / "dated")
    city = xinyong.City("rongcheng", citizens=3000, days=DAYS, seed=5)
    city.run(days=CHANGE_DAY)
    city.set(CHANGES)  # the paths of one change, together
    city.run()
    saved = city.save(tmp_path / "stepped")
    timeline = saved.summary["timeline"]
    assert [row["day"] for row in timeline] == [CHANGE_DAY]
    _same(_stored(saved), _stored(whole))
    unchanged = xinyong.simulate("rongcheng", citizens=3000, days=DAYS, seed=5)
    assert saved.summary["events_misattributed"] > unchanged.summary["events_misattributed"]


def test_figures_and_a_citizen_as_the_city_stands() -> None:
    city = xinyong.City("rongcheng", citizens=2000, days=30, seed=2)
    city.run(days=20)
    figures = city.figures()
    assert figures["days"] == 20
    assert figures["chilling"]  # the twin kept beside the city
    seen = city.citizen(42)
    run = xinyong.simulate("rongcheng", citizens=2000, days=20, seed=2)
    assert seen.score == run.explain(42).score
    assert seen.grade == run.explain(42).grade
    services = [s.name for s in run.scenario.consequences.services]
    assert [d.service for d in seen.gates] == services
    assert [d.action for d in seen.gates] == [run.gate(s, 42).action for s in services]
    page = seen._repr_html_()  # in a notebook: the explanation and every answer
    assert page is not None and str(seen.score) in page
    assert all(d.service in page for d in seen.gates)
    city.step()
    assert city.citizen(42).day == 21  # the records follow the city


def test_a_saved_city_is_read_by_report_explain_gate_and_compare(tmp_path: Path) -> None:
    city = xinyong.City("rongcheng", citizens=2000, days=30, seed=1)
    city.run(days=12)
    city.set("sensors.camera.misidentify", 0.1, what="cameras misidentify 10 %")
    city.run(days=3)
    city.save(tmp_path / "run")
    runner = CliRunner()
    page = tmp_path / "report.html"
    report = runner.invoke(app, ["report", str(tmp_path / "run"), "--out", str(page)])
    assert report.exit_code == 0, report.output
    html = page.read_text(encoding="utf-8")
    assert "cameras misidentify 10 %" in html  # the timeline's change, in the report's table
    explained = runner.invoke(app, ["explain", str(tmp_path / "run"), "42"])
    assert explained.exit_code == 0, explained.output
    assert "42" in explained.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["days"] == 15 and summary["timeline"][0]["day"] == 12
    gate = runner.invoke(app, ["gate", str(tmp_path / "run"), "rail", "42"])
    assert gate.exit_code == 0 and gate.output.split()[0] in ("ALLOW", "DENY", "RESTRICT")
    xinyong.simulate("rongcheng", citizens=2000, days=15, seed=1, out=tmp_path / "plain")
    both = tmp_path / "compare.html"
    compared = runner.invoke(
        app, ["report", str(tmp_path / "plain"), str(tmp_path / "run"), "--out", str(both)]
    )
    assert compared.exit_code == 0, compared.output
    assert "misidentify" in both.read_text(encoding="utf-8")  # B named by what differs


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("sensors.camra.misidentify", 0.05, "did you mean 'camera'"),
        ("sensors.camera.misidentify", 1.5, "must be in"),
        ("population.districts", 3, "fixed for a run"),
    ],
)
def test_a_bad_change_is_a_one_line_error_and_changes_nothing(
    path: str, value: object, says: str
) -> None:
    city = xinyong.City("rongcheng", citizens=500, days=10, seed=1)
    city.step()
    with pytest.raises(xinyong.ScenarioError, match=says) as caught:
        city.set(path, value)
    assert "\n" not in str(caught.value)
    assert city.scenario.timeline == xinyong.load_scenario("rongcheng").timeline
    city.step()  # the city goes on as it was


def test_past_the_horizon_and_saving_twice_are_one_line_errors(tmp_path: Path) -> None:
    city = xinyong.City("reference", citizens=300, days=3, seed=1)
    with pytest.raises(xinyong.RunError, match="not run a day"):
        city.save(tmp_path / "none")
    city.run()
    with pytest.raises(xinyong.RunError, match=r"days=4"):
        city.step()
    city.save(tmp_path / "run")
    with pytest.raises(xinyong.RunError, match="not empty"):
        city.save(tmp_path / "run")
