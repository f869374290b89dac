"""The explorer behind the notebook's sliders and ``xinyong explore``'s page: levers, moves
into the timeline, days on a thread of their own, pausing between two days."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import xinyong
from xinyong.scenario.loading import validate_scenario
from xinyong.views.cli import app
from xinyong.views.explore import Explorer, lever_for


def _explorer(days: int = 40, *levers: str) -> Explorer:
    return Explorer(xinyong.City("rongcheng", citizens=800, days=days, seed=4), levers)


def test_a_scenario_lever_that_is_no_lever_is_named_with_its_fix() -> None:
    data = xinyong.load_scenario("reference").model_dump(by_alias=True)
    for lever, says in (
        ({"path": "sensors.camra.detect", "min": 0, "max": 1}, "did you mean 'camera'"),
        ({"path": "population", "min": 0, "max": 1}, "fixed for a run"),
        ({"path": "sensors.camera.detect", "min": 1, "max": 0}, "must be below max"),
    ):
        data["levers"] = [lever]
        with pytest.raises(xinyong.ScenarioError, match=says) as caught:
            validate_scenario(data, "my-city.toml")
        assert str(caught.value).startswith("scenario 'my-city.toml', levers[0]")
        assert "\n" not in str(caught.value)


def test_a_path_given_becomes_a_lever_its_range_from_its_value() -> None:
    scenario = xinyong.load_scenario("reference")
    share = lever_for(scenario, "sensors.camera.detect")
    assert (share.min, share.max) == (0.0, 1.0)
    points = lever_for(scenario, "behaviours.jaywalking.points")  # -5 points
    assert (points.min, points.max, points.step) == (-10, 0, 1)
    with pytest.raises(xinyong.ScenarioError, match="fixed for a run"):
        lever_for(scenario, "population.districts")


def test_a_move_is_a_change_of_the_timeline_on_the_open_day() -> None:
    ex = _explorer(40, "behaviours.jaywalking.p")
    assert [lv.path for lv in ex.levers][-1] == "behaviours.jaywalking.p"
    ex.step()
    ex.step()
    ex.move("sensors.camera.misidentify", 0.05)
    ex.move("sensors.camera.misidentify", 0.05)  # the same value again: no second change
    (change,) = ex.city.scenario.timeline
    assert change.day == 2 and change.set == {"sensors.camera.misidentify": 0.05}
    row = next(r for r in ex.lever_rows() if r["path"] == "sensors.camera.misidentify")
    assert row["value"] == 0.05
    with pytest.raises(xinyong.ScenarioError, match=r"goes from 0\.0 to 0\.1"):
        ex.move("sensors.camera.misidentify", 0.5)
    with pytest.raises(xinyong.ScenarioError, match="not a lever here"):
        ex.move("sensors.bank.detect", 0.5)
    assert len(ex.city.scenario.timeline) == 1


def test_days_run_on_their_own_thread_and_stop_at_a_pause_or_the_horizon() -> None:
    ex = _explorer(30)
    ex.run(10)
    with pytest.raises(xinyong.RunError, match="running already"):
        ex.run(5)
    ex.wait()
    assert ex.city.day == 10 and not ex.running
    version, figures = ex.figures()
    assert version == ex.version == 10 and len(figures) >= 6
    with pytest.raises(xinyong.RunError, match="20 day"):
        ex.run(25)
    ex.run(20)
    ex.pause()  # acts between two days
    ex.wait()
    assert 10 <= ex.city.day < 30
    assert ex.state()["day"] == ex.city.day


def test_explore_and_a_classroom_refuse_bad_input_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    lever = runner.invoke(
        app, ["explore", "rongcheng", "--citizens", "300", "--lever", "population.districts"]
    )
    assert lever.exit_code == 2 and "fixed for a run" in lever.output
    assert len(lever.output.strip().splitlines()) == 1
    seats = runner.invoke(
        app,
        ["serve", "--scenario", "reference", "--citizens", "10", "--classroom", "20",
         "--run", str(tmp_path / "class")],
        env={"XINYONG_KEYS": ""},
    )  # fmt: skip
    assert seats.exit_code == 2 and "too few for 20 seats" in seats.output
    assert len(seats.output.strip().splitlines()) == 1
