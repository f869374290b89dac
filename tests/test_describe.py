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
            "d": {"u": 4, "v": 5, "sources": {"u": "seed 001"}},
        }
    )
    assert rows == [  # names label rows; a table's `sources` names a value's own source
        ("a.x", "1", "seed 002"),
        ("a.b.y", "2.5", "seed 002"),
        ("c[n].z", "3", "assumption"),
        ("d.u", "4", "seed 001"),
        ("d.v", "5", "not stated in the scenario"),
    ]


@pytest.mark.parametrize("name", sorted(xinyong.builtin_scenarios()))
def test_every_parameter_of_a_builtin_scenario_names_its_source(name: str) -> None:
    """Sources are data, not TOML comments: every row of the ODD cites a seed article, a
    published source or an assumption, and the citation resolves."""
    from xinyong.sources import resolve

    rows = [r for r in odd(xinyong.load_scenario(name)).splitlines() if r.startswith("| `")]
    assert rows
    for row in rows:
        path, _, source = (cell.strip() for cell in row.strip("|").split(" | ", 2))
        assert source != "not stated in the scenario", f"{name}: {path} has no source"
        assert resolve(source.replace("\\|", "|")), f"{name}: {path}"


def test_sizes_cite_their_sources_and_a_run_says_what_it_set() -> None:
    rongcheng = xinyong.load_scenario("rongcheng")
    assert "| `citizens` | 740000 | seed 001 (Rongcheng's 740,000 residents) |" in odd(rongcheng)
    smaller = rongcheng.with_sizes(citizens=2000)
    assert (
        "| `citizens` | 2000 | set for this run (the scenario's 740000: seed 001 "
        "(Rongcheng's 740,000 residents)) |"
    ) in odd(smaller)
    assert "| `days` | 365 | assumption (one year) |" in odd(smaller)  # not changed


def test_the_odd_says_only_what_the_scenario_does() -> None:
    reference = odd(xinyong.load_scenario("reference"))
    overview = reference.split("## Details")[0].lower()
    for absent in ("household", "refus", "response table", "twin", "chilling", "collectors "):
        assert absent not in overview, absent
    assert "none beyond the listed response" in overview
    assert "there is no space" in overview
    city = odd(xinyong.load_scenario("rongcheng")).split("## Details")[0].lower()
    for present in ("household", "refused", "response table", "twin", "collectors"):
        assert present in city, present
    corporate = odd(xinyong.load_scenario("corporate")).split("## Details")[0]
    assert "organisations' services gate them" in corporate
    assert "companies and government bodies, scored by `corporate`" in corporate


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
