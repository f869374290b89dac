"""Scenarios as data: the built-in reference, and every kind of bad file named and explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xinyong import ScenarioError, builtin_scenarios, load_scenario
from xinyong.scenario import validate_scenario

SHARED_JSON = Path(__file__).resolve().parents[2] / "shared" / "spec" / "reference-scenario.json"


def _values(node: object) -> object:
    """A scenario's data without the sources of its values (xinyong's copy names them)."""
    if isinstance(node, dict):
        return {k: _values(v) for k, v in node.items() if k not in ("source", "sources")}
    if isinstance(node, list):
        return [_values(v) for v in node]
    return node


def test_builtin_reference_agrees_with_the_shared_spec() -> None:
    if not SHARED_JSON.is_file():
        pytest.skip(f"the shared spec is not beside this checkout ({SHARED_JSON})")
    shared = validate_scenario(json.loads(SHARED_JSON.read_text()), source=SHARED_JSON.name)
    ours = load_scenario("reference")
    assert _values(ours.model_dump()) == _values(shared.model_dump())
    assert ours.sources["citizens"].startswith("seed 001")  # and ours says where they come from


def test_reference_is_listed_and_sized_as_the_spec_says() -> None:
    assert "reference" in builtin_scenarios()
    s = load_scenario("reference")
    assert (s.citizens, s.days, s.score.start, s.score.floor, s.score.ceiling) == (
        740_000,
        365,
        1000,
        600,
        1300,
    )
    assert s.grade_names() == ["AAA", "AA", "A", "B", "C", "D"]
    assert [b.name for b in s.behaviours if b.severe] == [
        "commercial_fraud",
        "contract_breach_judgment",
        "utility_theft",
    ]


def test_json_and_toml_files_load(tmp_path: Path, reference_dict: dict) -> None:
    path = tmp_path / "city.json"
    path.write_text(json.dumps(reference_dict))
    assert load_scenario(path) == load_scenario("reference")


def _error(data: dict, source: str = "my-city.toml") -> str:
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, source=source)
    return str(info.value)


def test_probability_above_one_suggests_a_yearly_rate(reference_dict: dict) -> None:
    reference_dict["behaviours"][3]["p"] = 1.5
    message = _error(reference_dict)
    assert message == (
        "scenario 'my-city.toml', behaviours[3].p = 1.5: a daily probability "
        "must be in [0, 1]; did you mean a rate per year? Divide by 365."
    )


def test_sensor_percentage_suggests_dividing_by_100(reference_dict: dict) -> None:
    reference_dict["sensors"]["camera"]["detect"] = 60
    assert "sensors.camera.detect = 60" in _error(reference_dict)
    assert "Divide by 100" in _error(reference_dict)


def test_negative_probability_is_rejected(reference_dict: dict) -> None:
    reference_dict["sensors"]["court"]["misidentify"] = -0.1
    assert "sensors.court.misidentify = -0.1: a probability must be in [0, 1]" in _error(
        reference_dict
    )


def test_grade_table_out_of_order(reference_dict: dict) -> None:
    reference_dict["grades"][2]["min"] = 1100
    message = _error(reference_dict)
    assert "grades[2].min = 1100" in message
    assert "'A' must start below 'AA' (1030)" in message


def test_grade_table_that_leaves_the_floor_without_a_grade(reference_dict: dict) -> None:
    reference_dict["grades"][-1]["min"] = 650
    assert "a score at the floor (600) would have no grade" in _error(reference_dict)


def test_unknown_sensor_names_the_close_match(reference_dict: dict) -> None:
    reference_dict["behaviours"][0]["sensor"] = "camra"
    message = _error(reference_dict)
    assert "behaviours[0].sensor = 'camra': unknown sensor (did you mean 'camera'?)" in message
    assert "camera, collector, bank" in message


def test_unknown_field_names_the_close_match(reference_dict: dict) -> None:
    reference_dict["sensors"]["bank"]["detekt"] = 1.0
    assert (
        "sensors.bank.detekt = 1.0: unknown field (did you mean 'detect'?); allowed here: "
        "detect, misidentify"
    ) in _error(reference_dict)


def test_missing_field_and_wrong_type_reported_together(reference_dict: dict) -> None:
    del reference_dict["listing"]["min_days"]
    reference_dict["citizens"] = "many"
    message = _error(reference_dict)
    assert "listing.min_days: this field is required" in message
    assert "citizens = 'many'" in message
    assert len(message.splitlines()) == 2


def test_inconsistent_scale_and_duplicates(reference_dict: dict) -> None:
    reference_dict["score"]["start"] = 1400
    reference_dict["behaviours"][1]["name"] = "volunteering"
    reference_dict["behaviours"][2]["points"] = 0
    message = _error(reference_dict)
    assert "score.start = 1400: scores start within [600, 1300]" in message
    assert "behaviours[1].name = 'volunteering': behaviour names must be unique" in message
    assert "behaviours[2].points = 0: points must be non-zero" in message


def test_listed_grade_must_differ(reference_dict: dict) -> None:
    reference_dict["listed_grade"] = "C"
    assert "listed_grade = 'C'" in _error(reference_dict)


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\ncitizens = = 3\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "scenario 'broken.toml' is not valid TOML" in str(info.value)
    assert "line 2" in str(info.value)


def test_toml_error_names_the_file(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "src/xinyong/scenarios/reference.toml").read_text()
    path = tmp_path / "my-city.toml"
    path.write_text(text.replace("p = 0.02\n", "p = 2.0\n"))
    with pytest.raises(ScenarioError, match=r"scenario 'my-city.toml', behaviours\[4\]\.p = 2.0"):
        load_scenario(path)


def test_unknown_scenario_name_suggests_a_builtin() -> None:
    with pytest.raises(ScenarioError, match="Did you mean 'reference'"):
        load_scenario("refrence")


def test_top_level_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    with pytest.raises(ScenarioError, match="the top level must be a table"):
        load_scenario(path)


def test_with_sizes_validates_again() -> None:
    s = load_scenario("reference")
    assert s.with_sizes(citizens=10, days=3).citizens == 10
    with pytest.raises(ScenarioError, match="citizens = 0"):
        s.with_sizes(citizens=0)
