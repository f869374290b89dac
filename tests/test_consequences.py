"""Consequences: gates and their reasons, joint sanctions, children, notices, responses, harms."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CONSEQUENCES, blame_city, consequence_city

import xinyong
from xinyong.model.gates import Gates, GateStatus, ListView
from xinyong.scenario import Consequences, validate_scenario


@pytest.fixture(scope="module")
def run() -> xinyong.Run:
    with xinyong.simulate(consequence_city(citizens=12_000, days=160), seed=3) as r:
        yield r


def _status(n: int = 4) -> GateStatus:
    member = np.array([True, False, False, False])[:n]
    red = np.array([False, False, True, False])[:n]
    since = np.array([112, -1, 30, -1], dtype=np.int32)[:n]
    until = np.array([842, -1, -1, -1], dtype=np.int32)[:n]
    grades = np.array([3, 0, 0, 2])[:n]
    return GateStatus(
        lists=[
            ListView("debtors", "a dishonest debtor", "city court", "black", member, since, until),
            ListView("model-citizens", "a model citizen", "city", "red", red, since, until),
        ],
        grades={"city": ((lambda c: grades[c]), ["A", "B", "C", "D"])},
    )


def _gates(**extra: object) -> Gates:
    table = Consequences(
        name="t",
        services=CONSEQUENCES["services"],
        rules=[
            *CONSEQUENCES["rules"],
            {
                "service": "rail",
                "action": "discount",
                "red": "model-citizens",
                "what": "cheaper public transport",
            },
            {
                "service": "hospital",
                "action": "discount",
                "red": "model-citizens",
                "what": "bill savings",
            },
        ],
        **extra,
    )
    return Gates(table, "city")


def test_a_gate_gives_the_reason_in_words() -> None:
    decision = _gates().decide("rail", _status(), 0)
    assert decision.action == "deny"
    assert decision.text == (
        "You are discredited: listed as a dishonest debtor by 'city court' "
        "since day 112, until day 842. No train tickets."
    )


def test_rewards_add_up_and_clean_citizens_are_allowed() -> None:
    gates, status = _gates(), _status()
    hospital = gates.decide("hospital", status, 2)
    assert hospital.action == "priority"
    assert len(hospital.reasons) == 2  # priority and the discount both apply
    assert "shorter hospital waits" in hospital.text.lower()
    clean = gates.decide("rail", status, 1)
    assert clean.action == "allow" and clean.label == "allow"
    # An allowance says what the service's rules checked, and what they found.
    assert clean.text.startswith("No rule of this service applies. Checked: ")
    assert "on no blacklist" in clean.text
    internet = gates.decide("internet", status, 3)
    assert internet.action == "restrict"
    assert internet.text == "Restricted: Grade C under 'city': Slower internet."


def test_unknown_service_lists_the_services() -> None:
    with pytest.raises(KeyError, match="unknown service 'plane'; services: rail, hospital"):
        _gates().decide("plane", _status(), 0)


def test_one_listing_triggers_every_service_in_the_table() -> None:
    services = [
        {"name": s, "title": s, "uses_per_year": 1}
        for s in ("rail", "air", "hotel", "mortgage", "gov_job", "luxury")
    ]
    rules = [
        {"service": s["name"], "action": "deny", "blacklisted": True, "what": "refused"}
        for s in services
    ]
    gates = Gates(Consequences(name="t", services=services, rules=rules), "city")
    status = _status()
    assert {gates.decide(s["name"], status, 0).action for s in services} == {"deny"}
    assert {gates.decide(s["name"], status, 1).action for s in services} == {"allow"}
    codes, _ = gates.decide_many("air", status, np.array([0, 1, 2, 3]))
    assert codes.tolist() == [5, 0, 0, 0]


def test_simulated_gates_are_counted(run: xinyong.Run) -> None:
    s = run.summary
    decisions = s["gate_decisions"]
    assert decisions["rail"]["deny"] > 0 and decisions["hospital"]["priority"] > 0
    assert s["gate_denials"] == sum(d.get("deny", 0) for d in decisions.values())
    assert s["sanctions_applied"]["internet"] == decisions["internet"]["restrict"]
    daily = run.daily
    assert daily["denied_rail"].sum() == decisions["rail"]["deny"]


def test_listed_citizens_are_refused_with_their_listing(run: xinyong.Run) -> None:
    who = int(
        run.query("SELECT subject, since, until FROM memberships WHERE list = 'debtors' LIMIT 1")[
            "subject"
        ][0]
    )
    row = run.query(
        "SELECT since, until FROM memberships WHERE list = 'debtors' AND subject = ?", [who]
    ).iloc[0]
    decision = run.gate("rail", who)
    assert decision.action == "deny"
    assert (
        f"listed as a dishonest debtor by 'city' since day {row.since}, until day {row.until}"
    ) in decision.text


def test_children_of_blacklisted_parents_are_refused(run: xinyong.Run) -> None:
    assert run.summary["children_affected"] > 0
    pop = run.query("SELECT citizen, household, role, age FROM population ORDER BY citizen")
    listed = set(run.query("SELECT subject FROM memberships WHERE kind = 'black'")["subject"])
    listed |= set(run.query("SELECT citizen FROM citizens WHERE listed")["citizen"])
    homes = set(pop[pop.citizen.isin(listed) & (pop.role == 0)].household)
    child = pop[pop.household.isin(homes) & (pop.role == 1)].citizen.iloc[0]
    decision = run.gate("university", int(child))
    assert decision.action == "deny" and "A parent is discredited" in decision.text
    free = pop[~pop.household.isin(homes) & (pop.role == 1)].citizen.iloc[0]
    assert run.gate("university", int(free)).action == "allow"


def test_billboards_shame_the_recorded_jaywalkers(run: xinyong.Run) -> None:
    shamed = run.query("SELECT day, subject FROM notices WHERE kind = 'billboard'")
    counted = run.query(
        "SELECT day, subject FROM events WHERE operator = 'city' AND behaviour = 'jaywalking'"
    )
    pairs = set(zip(shamed.day, shamed.subject, strict=True))
    assert set(zip(counted.day, counted.subject, strict=True)) <= pairs
    extra = {s for d, s in pairs - set(zip(counted.day, counted.subject, strict=True))}
    ages = run.query("SELECT citizen, age FROM population").set_index("citizen")["age"]
    assert all(ages[s] < 18 for s in extra)  # children are shamed too, though not scored


def test_every_published_listing_is_a_listing(run: xinyong.Run) -> None:
    published = run.query("SELECT day, subject FROM notices WHERE kind = 'published_list'")
    listed = run.query("""
        SELECT day, subject FROM listings WHERE change = 'listed' AND NOT counterfactual
        UNION SELECT day, subject FROM list_changes WHERE change = 'listed'
        AND NOT counterfactual AND list IN ('debtors', 'low-scorers')""")
    assert set(zip(published.day, published.subject, strict=True)) == set(
        zip(listed.day, listed.subject, strict=True)
    )
    texts = run.notices(5, kind="published_list")["text"]
    assert all("identity number SYN-" in t for t in texts)


def test_responses_chill_penalised_behaviour_and_feed_rewarded_behaviour() -> None:
    scenario = consequence_city(
        citizens=8000, days=90, response={"grade": {"A": 0.5}, "sanction_met": 1.0}
    )
    with xinyong.simulate(scenario, seed=1) as r:
        chilling = r.summary["chilling"]
    for harmful in ("jaywalking", "littering", "bank_arrears"):
        assert -0.6 < chilling[harmful] < -0.35
    assert 0.7 < chilling["volunteering"] < 1.4


def test_no_consequences_no_twin() -> None:
    with xinyong.simulate("reference", citizens=1000, days=10, seed=1) as r:
        assert "chilling" not in r.summary
        with pytest.raises(xinyong.RunError, match="has no \\[consequences\\] table"):
            r.gate("rail", 1)


def test_wrongful_refusals_are_counted_against_the_counterfactual() -> None:
    """Two citizens, and a camera that always blames the other one: the one who is refused
    did nothing, so every refusal is one the error-free system would not have made, and the
    one who did it is wrongly missing from the list."""
    data = blame_city(
        consequences={
            "name": "t",
            "services": [{"name": "rail", "title": "a ticket", "min_age": 0, "uses_per_year": 365}],
            "rules": [
                {
                    "service": "rail",
                    "action": "deny",
                    "on_list": "debtors",
                    "what": "no train tickets",
                }
            ],
        }
    )
    with xinyong.simulate(validate_scenario(data, "blame"), seed=7) as r:
        events = r.ledger.events()  # on this seed: one fraud, by citizen 1 on day 1
        assert list(zip(events.day, events.actor, events.subject, strict=True)) == [(1, 1, 0)]
        s = r.summary
        assert s["gate_denials"] == 19  # citizen 0, every day from day 1
        assert s["wrongly_denied"] == s["gate_denials"]
        lists = s["operators"]["court"]["lists"]["debtors"]
        assert (lists["wrongly_listed"], lists["wrongly_missing"]) == (1, 1)


def test_bad_sanctions_table_is_explained() -> None:
    data = consequence_city(citizens=100, days=2).model_dump(by_alias=True)
    data["consequences"]["rules"][0]["service"] = "rails"
    data["consequences"]["rules"][1]["red"] = "model-citizen"
    with pytest.raises(xinyong.ScenarioError) as info:
        validate_scenario(data, "city.toml")
    message = str(info.value)
    assert (
        "consequences.rules[0].service = 'rails': unknown service (did you mean 'rail'?)" in message
    )
    assert "consequences.rules[1].red = 'model-citizen': no operator keeps this red list" in message


def test_blacklisted_neighbours_chill_the_whole_neighbourhood() -> None:
    """With a 0.1 multiplier once 1% of a neighbourhood is blacklisted, penalised behaviour
    falls well below the run where only one's own situation counts."""
    base = {"grade": {}, "sanction_met": 1.0}
    alone = consequence_city(citizens=8000, days=150, response=base)
    watched = consequence_city(
        citizens=8000,
        days=150,
        response={**base, "neighbourhood_listed": 0.1, "neighbourhood_share": 0.01},
    )
    with xinyong.simulate(alone, seed=2) as a, xinyong.simulate(watched, seed=2) as b:
        assert b.summary["chilling"]["jaywalking"] < a.summary["chilling"]["jaywalking"] - 0.2


def test_daily_list_counts_end_where_the_lists_do(run: xinyong.Run) -> None:
    daily = run.query("SELECT * FROM daily_lists ORDER BY day")
    lists = run.summary["operators"]["city"]["lists"]
    covered = run.summary["operators"]["city"]["covered"]
    for name, figures in lists.items():
        last = daily[daily.list == name].iloc[-1]
        assert last.members == round(figures["members_share"] * covered)
        assert last.wrongly_listed == figures["wrongly_listed"]


def test_the_behaviour_only_twin_is_the_full_twin() -> None:
    """Where nothing acts back on behaviour, simulating behaviour alone gives the same
    occurrences, day by day, as simulating everything."""
    from xinyong.engine.city import City
    from xinyong.scenario import ListedResponse

    scenario = consequence_city(citizens=3000, days=60).model_copy(
        update={
            "consequences": None,
            "response": None,
            "listed_response": ListedResponse(negative=1.0, positive=1.0),
        }
    )
    full, alone = City(scenario, 4, None), City(scenario, 4, None)
    full.run()
    alone.run_behaviour_only()
    assert np.array_equal(full.occurrences(), alone.occurrences())
    with pytest.raises(ValueError, match="exact only without"):
        City(consequence_city(citizens=100, days=2), 1, None).run_behaviour_only()
