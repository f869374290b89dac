"""Overrides: paths by name, values as TOML, errors that teach, and runs that record them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import xinyong
from xinyong.scenario import load_scenario, validate_scenario
from xinyong.scenario.overrides import OverrideError, apply, differences, get, normalise, parse
from xinyong.studies.scenario_text import scenario_toml
from xinyong.views.figures import RunData, named_by_differences


@pytest.fixture(scope="module")
def reference():
    return load_scenario("reference")


@pytest.fixture(scope="module")
def rongcheng():
    return load_scenario("rongcheng")


def test_apply_sets_the_value_and_leaves_the_original(reference) -> None:
    changed = apply(
        reference, {"sensors.camera.misidentify": 0.05, "behaviours.jaywalking.p": 0.002}
    )
    assert changed.sensors["camera"].misidentify == 0.05
    assert next(b for b in changed.behaviours if b.name == "jaywalking").p == 0.002
    assert reference.sensors["camera"].misidentify == 0.01
    assert differences(reference, changed) == {
        "sensors.camera.misidentify": (0.01, 0.05),
        "behaviours.jaywalking.p": (get(reference, "behaviours.jaywalking.p"), 0.002),
    }


def test_lists_are_addressed_by_name_or_index_and_written_out_in_full(reference, rongcheng) -> None:
    assert normalise(reference, {"behaviours.6.p": 0.1}) == {"behaviours.jaywalking.p": 0.1}
    assert normalise(rongcheng, {"operators.city.scheme.floor": 650}) == {
        "operators.city.scheme.score.floor": 650
    }
    # a single-scheme scenario keeps its scheme at the top; its one operator is 'city'
    assert normalise(reference, {"operators.city.scheme.floor": 650}) == {"score.floor": 650}
    changed = apply(rongcheng, {"operators.city.scheme.lists.blacklist.escalation.below": 800})
    lists = changed.operators[0].scheme.lists
    assert next(x for x in lists if x.name == "blacklist").escalation.below == 800


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "sensors.camera.misidentfy",
            "no field 'misidentfy' in sensors.camera; did you mean 'misidentify'?",
        ),
        ("sensors.camra.detect", "no sensor 'camra' in sensors; did you mean 'camera'?"),
        (
            "behaviours.jaywalkng.p",
            "no behaviour 'jaywalkng' in behaviours; did you mean 'jaywalking'?",
        ),
        ("score.floor.x", "score.floor is a value, not a table"),
        ("source", "'source' is in several parts of the scenario: say which"),
    ],
)
def test_a_bad_path_says_what_to_write(reference, path: str, message: str) -> None:
    with pytest.raises(OverrideError) as err:
        apply(reference, {path: 0.5})
    assert message in str(err.value)


def test_a_bad_value_gets_the_scenario_check(reference) -> None:
    with pytest.raises(
        OverrideError,
        match=r"sensors.camera.misidentify = 5: a probability must "
        r"be in \[0, 1\]; did you mean a percentage",
    ):
        apply(reference, {"sensors.camera.misidentify": 5})
    with pytest.raises(OverrideError, match="lower the last grade's min to 550"):
        apply(reference, {"score.floor": 550})


def test_values_are_read_as_toml() -> None:
    assert parse(["a=0.05", "b=550", "c=true", "d=camera", "e=[0.5, 1]", "f={detect = 0.5}"]) == {
        "a": 0.05,
        "b": 550,
        "c": True,
        "d": "camera",
        "e": [0.5, 1],
        "f": {"detect": 0.5},
    }
    with pytest.raises(OverrideError, match="write PATH=VALUE"):
        parse(["sensors.camera.misidentify"])
    with pytest.raises(OverrideError, match=r"sensors\.camera\.detect is set twice"):
        parse(["sensors.camera.detect=0.5", "sensors.camera.detect = 0.6"])


def test_a_run_records_its_overrides_and_is_named_by_them() -> None:
    kwargs = {"citizens": 2000, "days": 40, "seed": 3}
    with (
        xinyong.simulate("reference", set={"sensors.camera.misidentify": 0.05}, **kwargs) as a,
        xinyong.simulate("reference", **kwargs) as b,
    ):
        assert a.summary["overrides"] == {"sensors.camera.misidentify": 0.05}
        assert "overrides" not in b.summary
        assert a.summary["events_misattributed"] > b.summary["events_misattributed"]
        ra, rb = (RunData("x", r.summary, r.daily, scenario=r.scenario) for r in (a, b))
    na, nb = named_by_differences(ra, rb)
    assert (na.name, nb.name) == (
        "sensors.camera.misidentify = 0.05",
        "sensors.camera.misidentify = 0.01",
    )


@pytest.mark.parametrize("name", ["reference", "rongcheng"])
def test_a_shown_scenario_loads_back_as_the_same(name: str) -> None:
    for resolved in (False, True):
        text = scenario_toml(name, resolved=resolved)
        assert validate_scenario(tomllib.loads(text), "shown") == load_scenario(name)
    with pytest.raises(xinyong.ScenarioError, match="did you mean 'rongcheng'"):
        scenario_toml("rongchen")


def test_chilling_reports_counts_and_an_exact_interval() -> None:
    import numpy as np
    from scipy.stats import binom

    from xinyong.engine.chilling import chilling_detail, chilling_text

    d = chilling_detail(
        ["common", "rare", "never"], np.array([9500, 3, 4]), np.array([10000, 7, 0])
    )
    assert set(d) == {"common", "rare"}  # a behaviour the twin never did has no rate to compare
    rare = d["rare"]
    assert (rare["with"], rare["without"], rare["change"]) == (3, 7, round(3 / 7 - 1, 4))
    # Clopper-Pearson on the city's share of the 10 events, mapped to the rate ratio - 1
    lo_share = 1 / (1 + 1 / (1 + rare["lo"]))
    hi_share = 1 / (1 + 1 / (1 + rare["hi"]))
    assert binom.sf(2, 10, lo_share) == pytest.approx(0.025, abs=1e-3)
    assert binom.cdf(3, 10, hi_share) == pytest.approx(0.025, abs=1e-3)
    assert chilling_text(rare).startswith("rare: [")  # the counts stand beside it, named
    assert chilling_text(d["common"]).startswith("-5.0% [")
    assert d["common"]["lo"] < -0.05 < d["common"]["hi"] < 0


def test_a_run_reports_each_behaviours_chilling_with_its_interval() -> None:
    with xinyong.simulate("rongcheng", citizens=3000, days=30, seed=2) as run:
        s = run.summary
    assert set(s["chilling_detail"]) == set(s["chilling"])
    for name, row in s["chilling_detail"].items():
        assert row["change"] == s["chilling"][name]
        assert row["lo"] <= row["change"] <= row["hi"]


def test_a_new_live_city_takes_overrides(tmp_path: Path) -> None:
    """The dashboard's new-city form sends PATH=VALUE overrides to POST /scenario."""
    from fastapi.testclient import TestClient
    from helpers import KEYS

    from xinyong.service.api import create_app
    from xinyong.service.auth import Keyring
    from xinyong.service.live import LiveCity

    started: list[xinyong.Scenario] = []
    live = LiveCity(
        tmp_path / "a", xinyong.load_scenario("reference").with_sizes(citizens=200, days=5), 0
    )

    def on_load(scenario: xinyong.Scenario, seed: int) -> LiveCity:
        started.append(scenario)
        return live

    with TestClient(create_app(live, Keyring.from_env(KEYS), on_load=on_load)) as client:
        body = {
            "scenario": "reference",
            "citizens": 300,
            "days": 5,
            "set": ["sensors.camera.misidentify=0.05"],
        }
        ok = client.post("/scenario", json=body, headers={"X-API-Key": "adm"})
        assert ok.status_code == 200, ok.text
        assert started[-1].sensors["camera"].misidentify == 0.05
        bad = client.post(
            "/scenario",
            json={**body, "set": ["sensors.camera.misidentfy=1"]},
            headers={"X-API-Key": "adm"},
        )
        assert bad.status_code == 422 and "did you mean 'misidentify'" in bad.text
    live.close()
