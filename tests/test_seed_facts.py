"""The seeds' remaining facts: direct listing of serious misconduct, citizens' own reports
(with their false reports), and the twelve demonstration cities."""

from __future__ import annotations

import tomllib
from typing import Any

import numpy as np
from helpers import CITY_LISTS, MULTI_CITY

import xinyong
from xinyong.engine.city import City
from xinyong.scenario import validate_scenario


def _multi(**edit: Any) -> dict[str, Any]:
    data = tomllib.loads(MULTI_CITY.read_text())
    data["citizens"], data["days"] = 3000, 120
    data.update(edit)
    return data


def _misconduct_members(share: float) -> tuple[int, int]:
    """Members of a list triggered by littering whose serious share is ``share``, and the
    adults with a counted littering event."""
    data = _multi()
    data["behaviours"] = [
        {**b, "p": 0.01} if b["name"] == "littering" else b for b in data["behaviours"]
    ]
    data["operators"][0]["scheme"]["lists"] = [
        *CITY_LISTS,
        {
            "name": "misconduct",
            "behaviours": ["littering"],
            "term_days": 400,
            "serious_share": {"littering": share},
        },
    ]
    c = City(validate_scenario(data, source="t"), 3, None).run()
    op = c.operators[0]
    members = int(op.lists.lists[op.lists.names.index("misconduct")].member.sum())
    return members, int(op.covered.sum())


def test_only_the_serious_share_of_misconduct_lists_directly() -> None:
    none, _ = _misconduct_members(0.0)
    some, adults = _misconduct_members(0.05)
    every, _ = _misconduct_members(1.0)
    assert none == 0
    assert every > 0.1 * adults  # every recorded case lists: a fifth of adults here
    assert 0 < some < 0.3 * every  # about one in twenty cases, drawn per event


def test_a_serious_share_of_a_behaviour_the_list_does_not_hold_is_explained() -> None:
    data = _multi()
    data["operators"][0]["scheme"]["lists"] = [
        {"name": "misconduct", "behaviours": ["littering"], "serious_share": {"jaywalking": 0.1}}
    ]
    try:
        validate_scenario(data, source="t")
    except xinyong.ScenarioError as e:
        assert "serious_share.jaywalking" in str(e) and "add it there" in str(e)
    else:
        raise AssertionError("accepted a serious share for a behaviour the list does not hold")


def test_citizens_reports_carry_their_own_false_reports() -> None:
    data = _multi(days=100)
    data["sensors"]["citizen_reports"] = {
        "detect": 0.5,
        "misidentify": 0.0,
        "collectors": {"coverage": 1.0, "quota": 0, "false_report_rate": 0.2},
    }
    data["behaviours"].append(
        {"name": "uncivil_conduct", "p": 0.01, "sensor": "citizen_reports", "harmful": True}
    )
    data["operators"][0]["reads"].append("citizen_reports")
    data["operators"][0]["scheme"]["points"].append({"behaviour": "uncivil_conduct", "points": -5})
    c = City(validate_scenario(data, source="t"), 2, None).run()
    hoods = c.population.neighbourhoods
    # The collector network of the multi city files some too, at 0.01-0.2 a day on 80 %.
    fabricated = c.totals["fabricated"]
    assert fabricated > 0.15 * hoods * 100  # 0.2 a day in every neighbourhood, no quota
    assert c.summary()["events_fabricated"] == fabricated


def test_the_twelve_demonstration_cities_each_score_their_own() -> None:
    scenario = xinyong.load_scenario("demonstration-cities").with_sizes(citizens=12_000, days=3)
    cities = [op for op in scenario.operators if op.districts is not None]
    assert len(cities) == 12
    assert {op.scheme.name for op in cities} == {"rongcheng", "xiamen", "pilot-city"}
    c = City(scenario, 1, None)
    covered = np.zeros(scenario.citizens, dtype=np.int64)
    for op in c.operators:
        if op.districts is not None:
            covered += op.covered
    adults = c.population.age >= 18
    assert (covered[adults] == 1).all() and (covered[~adults] == 0).all()


def test_public_figures_can_be_banned_by_the_entertainment_sector(tmp_path) -> None:
    from pathlib import Path

    text = (Path(xinyong.__file__).parent / "scenarios" / "rongcheng.toml").read_text()
    path = tmp_path / "with-entertainment.toml"
    path.write_text(
        text.replace(
            "[[sharing]]",
            """[[operators]]
name = "entertainment"
scheme = "entertainment"
reads = ["online"]

[[sharing]]""",
            1,
        )
    )
    scenario = xinyong.load_scenario(path).with_sizes(citizens=30_000, days=2)
    c = City(scenario, 1, None)
    k = [b.name for b in scenario.behaviours if b.subject == "citizen"].index(
        "violating_moral_standards"
    )
    can = c.groups["citizen"].behaviours._scales[k]
    assert 0 < can.mean() < 0.0005  # public figures: 1 in 10,000 (assumption)
    ent = next(op for op in c.operators if op.name == "entertainment")
    figure = int(np.flatnonzero((can > 0) & ent.covered)[0])
    effects = c.effects
    assert effects.gates.decide("performance", effects.status, figure).action == "allow"
    ent.standing.listed[figure] = True  # one recorded breach: at the floor, banned
    decision = effects.gates.decide("performance", effects.status, figure)
    assert decision.action == "deny"
    assert "Grade banned under 'entertainment'" in decision.text
    # ... and, a scheme listing like any other, it reaches the services that read any
    # blacklist (hotels), not the ticket offices (they read the SPC list by name).
    assert effects.gates.decide("hotel", effects.status, figure).action == "allow"  # column
    effects.black[figure] = True  # (the day's toggles keep it; set by hand here)
    assert effects.gates.decide("hotel", effects.status, figure).action == "deny"
    assert effects.gates.decide("air", effects.status, figure).action == "allow"


def test_the_entertainment_ban_is_calibrated_to_the_88_published() -> None:
    """88 celebrities were blacklisted in 2021 [003]: the catalogue's rate, its share of public
    figures, the online sensor's detection and the mean conduct factor of a harmful act give
    about that many a year over China's adults (80 % of 1.4 billion, the pack's assumption)."""
    s = xinyong.load_scenario("rongcheng")
    act = next(b for b in s.behaviours if b.name == "violating_moral_standards")
    conduct = np.exp(s.conduct_lognormal_sigma**2 / 2)  # mean of c, which scales harmful acts
    detect = s.sensors[act.sensor].detect
    a_year = 1.4e9 * 0.8 * act.who_share * act.p * 365 * detect * conduct
    assert 80 < a_year < 96  # 88, within 10 %
