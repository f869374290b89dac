"""The model description (ODD) and the data dictionary are generated from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

import xinyong
from xinyong.views.describe import data_dictionary, markdown_html, odd, parameter_rows


@pytest.fixture(scope="module")
def rongcheng() -> xinyong.Scenario:
    return xinyong.load_scenario("rongcheng")


def test_odd_has_its_three_parts_and_every_parameter(rongcheng: xinyong.Scenario) -> None:
    text = odd(rongcheng)
    for heading in (
        "## Overview",
        "## Design concepts",
        "## Details",
        "### Submodels",
        "### 3. Process overview and scheduling",
    ):
        assert heading in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) > 500
    for behaviour in rongcheng.behaviours:
        assert f"`behaviours[{behaviour.name}].p` | {behaviour.p:g} | " in text
    assert all(not line.endswith("|  |") for line in rows)  # every row names a source


def test_odd_cannot_drift_from_the_scenario(rongcheng: xinyong.Scenario) -> None:
    camera = rongcheng.sensors["camera"].model_copy(update={"misidentify": 0.0123})
    changed = rongcheng.model_copy(update={"sensors": {**rongcheng.sensors, "camera": camera}})
    assert "`sensors.camera.misidentify` | 0.0123 |" in odd(changed)


def test_parameters_carry_the_nearest_source() -> None:
    rows = parameter_rows(
        {
            "a": {"x": 1, "source": "seed 002", "b": {"y": 2.5}},
            "c": [{"name": "n", "z": 3, "source": "assumption"}],
        }
    )
    assert rows == [
        ("a.x", "1", "seed 002"),
        ("a.b.y", "2.5", "seed 002"),
        ("c[n].name", "n", "assumption"),
        ("c[n].z", "3", "assumption"),
    ]


def test_markdown_tables_and_headings_render() -> None:
    page = markdown_html("# T\n\n| a | b |\n|---|---|\n| `x` | 1 \\| 2 |\n\n- **y**")
    assert "<h2>T</h2>" in page and "<td><code>x</code></td><td>1 | 2</td>" in page
    assert "<li><b>y</b></li>" in page


def test_data_dictionary_explains_every_column(tmp_path: Path) -> None:
    with xinyong.simulate("rongcheng", citizens=800, days=10, seed=1) as run:
        frame = data_dictionary(run)
        assert run.citizen(3)["income"] in ("low", "middle", "high")
    assert {"ledger", "daily", "standings", "population"} <= set(frame["table"])
    assert (frame["meaning"] != "").all(), frame[frame["meaning"] == ""]
    band = frame[(frame["table"] == "population") & (frame["column"] == "income_band")]
    assert band["labels"].iloc[0] == "0 = low; 1 = middle; 2 = high"
    listed = frame[(frame["table"] == "notices") & (frame["column"] == "list")]
    assert listed["type"].tolist() == ["VARCHAR"]
    assert "the list whose joining caused the notice" in listed["meaning"].iloc[0]
