"""`xinyong validate`: the built-in cities against the published record, and a city that is
set wrong failing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import xinyong
from xinyong.scenario import validate_scenario
from xinyong.studies.validate import evaluate, load_patterns, validate

#: What the model fitted to the record (packs/fitted-history.toml) meets of 2018's flows, and
#: what sits near an edge. With the debt judgments' rate of 2018 (the courts' 2016 campaign on)
#: and the share of termed listings that holds 2018's stock, no figure misses at 200,000
#: citizens and 3 seeds (README: "Held to the published record"): new listings of people at
#: 0.249 % against 0.15-0.27, trains at 2.17 per 1,000 adults against 1.1-2.2 and the list
#: holding still (-2.7 %) are inconclusive, so either verdict at the test's sizes; but never
#: back where they were before the step (0.119 %) or before the opening stock remembered its
#: refusals (trains 3.8).
MEETS = {
    "listed people who met their obligations",
    "plane purchases blocked",
    "most residents hold an A grade",
}
MISSES: dict[str, str] = {}
NEAR = {
    "people newly put on the debtor list": (0.15, 0.33),
    "the debtor list holds still": (-10.0, 5.0),  # -2.7 %, -6.0 to 0.6, at 200,000 x 3
    "train purchases blocked": (1.1, 3.0),
    "plane blocks per train block": (2.3, 6.0),
}


@pytest.mark.parametrize("name, citizens", [("rongcheng", 20_000), ("nation", 40_000)])
def test_built_in_cities_meet_and_miss_the_published_record_as_reported(
    name: str, citizens: int
) -> None:
    result = validate(name, citizens=citizens, seeds=2)
    rows = result.rows.set_index("pattern")
    assert set(rows.index) >= MEETS | set(MISSES) | set(NEAR)
    for pattern, (low, high) in NEAR.items():
        assert low <= rows.loc[pattern, "mean"] <= high, (pattern, rows.loc[pattern, "mean"])
    for pattern in MEETS:
        row = rows.loc[pattern]
        assert row["low"] <= row["mean"] <= row["high"], (pattern, row["mean"])
    for pattern, side in MISSES.items():
        row = rows.loc[pattern]
        missed = row["mean"] < row["low"] if side == "low" else row["mean"] > row["high"]
        assert missed, f"{pattern} now meets the record ({row['mean']:.3g}): move it to MEETS"
    assert not result.passed
    assert (rows["lo"] <= rows["mean"]).all() and (rows["mean"] <= rows["hi"]).all()


def test_a_mis_set_pack_fails() -> None:
    """Private lending breaches ten times as often: too many people are put on the list."""
    data = xinyong.load_scenario("rongcheng").model_dump(by_alias=True)
    for b in data["behaviours"]:
        if b["name"] == "private_lending_breach":
            b["p"] *= 10
    wrong = validate_scenario(data, "rongcheng (mis-set)")
    result = validate(wrong, "rongcheng", citizens=20_000, seeds=2)
    assert not result.passed
    row = result.rows.set_index("pattern").loc["people newly put on the debtor list"]
    assert row["mean"] > row["high"] and row["verdict"] != "pass"


def test_the_command_exits_1_on_a_failed_pattern(tmp_path: Path) -> None:
    patterns = tmp_path / "strict.toml"
    patterns.write_text(
        'scenario = "reference"\n[[patterns]]\nname = "nobody listed"\n'
        'value = "{listed_share} * 100"\npublished = 0\nlow = -50\nhigh = -40\n'
        'unit = "%"\nsource = "a test"\n'
    )
    cmd = [
        sys.executable,
        "-m",
        "xinyong.views.cli",
        "validate",
        "reference",
        "--citizens",
        "2000",
        "--days",
        "30",
        "--seeds",
        "2",
        "--patterns",
        str(patterns),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "FAIL" in out.stdout and "[1] a test" in out.stdout
    patterns.write_text(
        patterns.read_text().replace("low = -50\nhigh = -40", "low = -5\nhigh = 50")
    )
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    # An override that puts everyone at the floor lists everyone: the pattern fails again.
    floor = subprocess.run(
        [*cmd, "--set", "score.start=600"], capture_output=True, text=True, timeout=120
    )
    assert floor.returncode == 1 and "FAIL" not in floor.stderr, floor.stderr
    typo = subprocess.run(
        [*cmd, "--set", "sensors.camera.misidentfy=0.5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert typo.returncode == 2 and "did you mean 'misidentify'" in typo.stderr


def test_bad_expressions_and_paths_are_explained(tmp_path: Path) -> None:
    summary = {
        "citizens": 10,
        "days": 365,
        "population": {"children": 2},
        "gate_decisions": {"air": {"deny": 4}},
    }
    assert evaluate("{gate_decisions.air.deny} / adults * 1000 / years", summary) == 500
    with pytest.raises(xinyong.ScenarioError, match="no 'plane' in gate_decisions; it has: air"):
        evaluate("{gate_decisions.plane.deny}", summary)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'scenario = "x"\n[[patterns]]\nname = "n"\nvalue = "__import__(1)"\n'
        'published = 1\nlow = 0\nhigh = 1\nsource = "s"\n'
    )
    with pytest.raises(xinyong.ScenarioError, match="only numbers"):
        load_patterns(bad)
    with pytest.raises(xinyong.ScenarioError, match="no published patterns for scenario"):
        load_patterns("pilot-city")
