"""Every scheme acts: perks by grade and score under the scheme that grants them, each city's
perks for its own residents, records at the start, age limits and parents' red lists."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CONSEQUENCES

import xinyong
from xinyong.engine.city import City
from xinyong.model.gates import Gates, GateStatus, ListView
from xinyong.model.households import Households
from xinyong.scenario import Consequences, ScenarioError

SERVICES = [
    {"name": "parking", "title": "a car park", "uses_per_year": 12},
    {"name": "gym", "title": "a gym visit", "min_age": 16, "uses_per_year": 12},
    {
        "name": "school",
        "title": "a place at a good school",
        "min_age": 6,
        "max_age": 17,
        "uses_per_year": 1,
    },
    {"name": "employer_private", "title": "a private-sector job", "uses_per_year": 1},
]
RULES = [
    {
        "service": "parking",
        "action": "waive",
        "scheme": "xiamen",
        "min_score": 530,
        "what": "park now, pay later",
    },
    {
        "service": "parking",
        "action": "priority",
        "scheme": "xiamen",
        "min_score": 650,
        "what": "pay-later parking in more than 100 car parks",
    },
    {
        "service": "gym",
        "action": "waive",
        "scheme": "pilot-city",
        "grades": ["A"],
        "what": "free gym",
    },
    {
        "service": "school",
        "action": "priority",
        "parent_red": "model-citizens",
        "what": "priority for school admissions",
    },
    {
        "service": "employer_private",
        "action": "restrict",
        "blacklisted": True,
        "what": "passed over for the job",
    },
]


def _status() -> GateStatus:
    """Six citizens: 0-1 live in Xiamen (scores 540, 700), 2 in Suzhou (grade A), 3 is an
    uncovered child of 4, who is a model citizen; 5 is blacklisted. Households: {4, 3} and one
    each for the others."""
    xiamen_score = np.array([540, 700, 900, 900, 900, 500])
    suzhou_grade = np.array([3, 3, 0, 0, 0, 3])
    red = np.array([False, False, False, False, True, False])
    black = np.array([False, False, False, False, False, True])
    none = np.full(6, -1, dtype=np.int32)
    household = np.array([0, 1, 2, 3, 3, 4])
    return GateStatus(
        lists=[
            ListView("model-citizens", "a model citizen", "city", "red", red, none, None),
            ListView("blacklist", "discredited", "city", "black", black, none, None),
        ],
        grades={
            "xiamen": ((lambda c: np.zeros(c.size, np.int64)), ["all", "listed"]),
            "suzhou": ((lambda c: suzhou_grade[c]), ["A", "B", "C", "D", "listed"]),
        },
        households=Households.of(household, np.array([True, True, True, False, True, True])),
        scores={"xiamen": xiamen_score, "suzhou": np.full(6, 100)},
        covered={
            "xiamen": np.array([True, True, False, False, False, True]),
            "suzhou": np.array([False, False, True, False, False, False]),
        },
        schemes={"xiamen": ["xiamen"], "pilot-city": ["suzhou"]},
        age=np.array([30, 40, 50, 9, 37, 45]),
    )


def _gates(rules: list[dict] = RULES) -> Gates:
    return Gates(Consequences(name="t", services=SERVICES, rules=rules), "city")


def test_xiamen_perks_follow_the_score_and_name_the_operator() -> None:
    gates, status = _gates(), _status()
    low = gates.decide("parking", status, 0)
    assert low.action == "waive"
    assert low.text == "Score 540 under 'xiamen' (at least 530): Park now, pay later."
    high = gates.decide("parking", status, 1)
    assert high.action == "priority" and len(high.reasons) == 2  # perks add up
    below = gates.decide("parking", status, 5)  # 500: below the first perk
    assert below.text.endswith(
        "Checked: score 500 under 'xiamen' (at least 530 or at least 650 act)."
    )
    # A Suzhou resident with 900 Xiamen points is not Xiamen's to reward.
    elsewhere = gates.decide("parking", status, 2)
    assert elsewhere.action == "allow" and "not covered by 'xiamen'" in elsewhere.text
    codes, _ = gates.decide_many("parking", status, np.arange(6))
    assert codes.tolist() == [1, 3, 0, 0, 0, 0]


def test_a_suzhou_citizen_graded_a_gets_a_free_gym() -> None:
    decision = _gates().decide("gym", _status(), 2)
    assert decision.action == "waive"
    assert decision.text == "Grade A under 'suzhou': Free gym."


def test_a_rule_of_a_scheme_nobody_runs_is_idle() -> None:
    status = _status()
    status.schemes.pop("pilot-city")
    idle = _gates().decide("gym", status, 2)
    assert idle.action == "allow"
    assert idle.text == "No rule of the joint table acts at this service here."


def test_children_of_model_citizens_get_school_priority_and_adults_are_not_eligible() -> None:
    gates, status = _gates(), _status()
    child = gates.decide("school", status, 3)
    assert child.action == "priority"
    assert child.text == "A parent is listed as a model citizen: Priority for school admissions."
    adult = gates.decide("school", status, 4)  # the red-listed parent herself, aged 37
    assert not adult.eligible and adult.action == "allow" and adult.label == "not eligible"
    assert adult.text == "A place at a good school is for ages 6 to 17; this citizen is 37."
    assert str(adult).startswith("school: NOT ELIGIBLE. ")


def test_private_employers_see_the_blacklist() -> None:
    gates, status = _gates(), _status()
    assert gates.decide("employer_private", status, 5).action == "restrict"
    assert gates.decide("employer_private", status, 0).action == "allow"


def test_a_rule_of_an_unknown_scheme_is_explained() -> None:
    data = {**xinyong.load_scenario("rongcheng").model_dump(by_alias=True)}
    data["consequences"] = {
        "name": "t",
        "services": CONSEQUENCES["services"],
        "rules": [
            {"service": "rail", "action": "waive", "scheme": "xiamn", "min_score": 530, "what": "x"}
        ],
    }
    with pytest.raises(ScenarioError, match=r"unknown scheme \(did you mean 'xiamen'\?\)"):
        xinyong.scenario.validate_scenario(data, source="t")


@pytest.fixture(scope="module")
def nation() -> City:
    return City(xinyong.load_scenario("nation").with_sizes(citizens=24_000, days=1), 2, None)


def test_fuzhou_residents_start_from_their_records(nation: City) -> None:
    op = next(o for o in nation.operators if o.name == "fuzhou")
    counts = op.grade_counts()
    shares = counts / counts.sum()
    assert shares.max() < 0.5, dict(zip(op.standing.grade_names, shares.round(3), strict=True))
    assert (shares[:5] > 0.02).all()  # every band from "extremely good" to "poor" is held
    start = op.start[op.covered]  # (a warm start's judgments may cost points after it)
    assert start.min() >= 500 and start.max() <= 1000  # 500 base + up to 500 from records


def test_some_xiamen_residents_reach_every_perk(nation: City) -> None:
    op = next(o for o in nation.operators if o.name == "xiamen")
    score = op.standing.score[op.covered]
    assert (score >= 530).mean() > 0.1 and (score >= 600).any()
    assert (score < 530).mean() > 0.5  # the perks are for a minority (assumption)


def test_citizens_just_below_a_perk_reach_for_it() -> None:
    from helpers import CONSEQUENCES, consequence_city

    rules = [
        *CONSEQUENCES["rules"],
        {
            "service": "hospital",
            "action": "priority",
            "grades": ["A"],
            "what": "shorter hospital waits",
        },
    ]
    scenario = consequence_city(
        citizens=1500,
        days=5,
        consequences={"name": "t", **CONSEQUENCES, "rules": rules},
        response={"near_perk": 0.5, "near_perk_points": 20},
    )
    c = City(scenario, 1, None)
    effects = c.effects
    city = next(op for op in c.operators if op.name == "city")
    adults = np.flatnonzero(city.covered)[:3]
    city.standing.score[adults] = [950, 930, 1000]  # A starts at 960
    assert effects.responses._near_perk(adults).tolist() == [True, False, False]
    child = np.flatnonzero(~city.covered)[:1]
    city.standing.score[child] = 950
    assert not effects.responses._near_perk(child)[0]  # not scored, no perk to reach for
    factor = effects.responses._factor(0, adults)
    assert factor[0] == pytest.approx(0.5 * factor[2])


def test_the_pilot_citys_published_consequences_act() -> None:
    """Seed 002: high scores get a free gym, cheaper transport and shorter hospital waits;
    low scores "may face restrictions to their travel and public service access"."""
    with xinyong.simulate("pilot-city", citizens=4000, days=365, seed=1) as run:
        decided = run.summary["gate_decisions"]
        assert decided["gym"].get("waive", 0) > 0
        for service in ("rail", "air", "social_services"):
            assert decided[service].get("restrict", 0) > 0, service
        low = run.query(
            "SELECT p.citizen FROM population p JOIN standings s ON s.subject = p.citizen "
            "WHERE s.operator = 0 AND s.grade = 'C' AND p.age >= 18 ORDER BY 1 LIMIT 1"
        )
        rail = run.gate("rail", int(low.citizen[0]))
        assert rail.action == "restrict"
        assert rail.text == "Restricted: Grade C under 'city': Travel restricted (low score)."


def test_a_suzhou_resident_with_a_low_score_is_restricted_in_the_nation() -> None:
    from xinyong.scenario import load_scenario

    nation = load_scenario("nation")
    rules = [r for r in nation.consequences.rules if r.scheme == "pilot-city"]
    low = {r.service for r in rules if r.action == "restrict"}
    assert low == {"rail", "air", "social_services"}
    assert all(set(r.grades) == {"C", "D", "listed"} for r in rules if r.action == "restrict")
