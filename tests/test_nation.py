"""The nation: cities with their own schemes over their own residents, one national list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import xinyong
from xinyong.scenario import validate_scenario


@pytest.fixture(scope="module")
def nation() -> xinyong.Run:
    with xinyong.simulate("nation", citizens=30_000, days=60, seed=2) as run:
        yield run


def test_each_city_scores_its_own_residents(nation: xinyong.Run) -> None:
    pop = nation.query("SELECT citizen, district, age FROM population ORDER BY citizen")
    for index, op in enumerate(nation.operators):
        if op.scheme.subject != "citizen":
            continue  # the national lists of companies cover every company
        covered = nation.query(
            "SELECT covered FROM standings WHERE operator = ? ORDER BY subject", [index]
        )["covered"].to_numpy()
        adult = pop["age"].to_numpy() >= 18
        expected = adult & (
            pop["district"].isin(op.districts).to_numpy() if op.districts is not None else True
        )
        assert (covered == expected).all(), op.name
    cities = {op.name: op.districts for op in nation.operators if op.districts}
    assert sorted(d for ds in cities.values() for d in ds) == list(range(12))


def test_the_national_list_is_honoured_in_every_city(nation: xinyong.Run) -> None:
    court = [op.name for op in nation.operators].index("court")
    listed = nation.query(
        "SELECT m.subject, p.district FROM memberships m JOIN population p "
        "ON p.citizen = m.subject WHERE m.operator = ?",
        [court],
    )
    outside = listed[listed.district >= 3]  # citizens of the other three cities
    assert len(outside) > 0
    for citizen in outside.subject.head(5):
        decision = nation.gate("rail", int(citizen))
        assert decision.action == "deny"
        assert "dishonest judgment debtor" in decision.text or "discredited" in decision.text


def test_a_district_the_population_lacks_is_refused() -> None:
    data = xinyong.load_scenario("nation").model_dump(by_alias=True)
    data["operators"][1]["districts"] = [3, 14]
    with pytest.raises(
        xinyong.ScenarioError,
        match=r"operators\[1\]\.districts\[1\] = 14: "
        r"no such district",
    ):
        validate_scenario(data, "nation.toml")


def test_scale_sets_the_population(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("xinyong")
    result = subprocess.run(
        [
            str(exe),
            "simulate",
            "--scenario",
            "nation",
            "--scale",
            "0.00001",
            "--days",
            "3",
            "--out",
            str(tmp_path / "n"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "n" / "summary.json").read_text())["citizens"] == 14_000
