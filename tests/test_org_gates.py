"""Companies feel it, both ways: organisations at their gates, and the legal representative."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import org_consequence_city

from xinyong.engine.city import City
from xinyong.model.org_gates import org_listed
from xinyong.scenario import validate_scenario


@pytest.fixture
def city() -> City:
    return City(org_consequence_city(citizens=600, days=5), 1, None)


def _company_with_rep(city: City) -> tuple[int, int]:
    """The biggest organisation and its legal representative."""
    pop = city.population
    assert pop is not None and pop.organisations > 0
    org = int(np.bincount(pop.employer[pop.employer >= 0]).argmax())
    return org, int(pop.org_legal_rep[org])


def test_a_blacklisted_company_is_refused_tenders_and_its_rep_trains(city: City) -> None:
    org, rep = _company_with_rep(city)
    gates, effects = city.org_gates, city.effects
    assert gates is not None and effects is not None
    assert gates.decide("tender", org) == ("allow", ())
    assert effects.gates.decide("rail", effects.status, rep).action == "allow"
    corp = next(op for op in city.operators if op.name == "corp")
    corp.standing.listed[org] = True
    action, reasons = gates.decide("tender", org)
    assert action == "deny"
    assert reasons == ("The organisation is blacklisted: No public tenders.",)
    rail = effects.gates.decide("rail", effects.status, rep)
    assert rail.action == "deny"
    assert rail.text == (
        "You are discredited: legal representative of a blacklisted company: "
        "No train tickets for the legal representative of a blacklisted "
        "company."
    )
    # An employee who is not the legal representative is not touched.
    staff = np.flatnonzero(city.population.employer == org)
    other = int(staff[staff != rep][0])
    assert effects.gates.decide("rail", effects.status, other).action == "allow"
    # ... and the error-free status does not see a listing the error-free corp never made.
    assert not org_listed(city.operators, np.array([org]), counterfactual=True)[0]


def test_a_company_whose_rep_is_a_dishonest_debtor_is_restricted(city: City) -> None:
    org, rep = _company_with_rep(city)
    gates, effects = city.org_gates, city.effects
    assert gates is not None and effects is not None
    assert gates.decide("loan", org)[0] == "allow"
    city_op = next(op for op in city.operators if op.name == "city")
    debtors = city_op.lists.lists[city_op.lists.names.index("debtors")]
    debtors.member[rep] = True
    effects.black[rep] = True  # the owner keeps the blacklisted column up to date
    action, reasons = gates.decide("loan", org)
    assert action == "restrict"
    assert reasons == ("Its legal representative is discredited: Less credit.",)
    assert gates.decide("bond", org)[0] == "deny"
    assert gates.decide("tender", org)[0] == "allow"  # only the rows that read the rep


def test_a_top_graded_company_wins_tenders(city: City) -> None:
    org, _ = _company_with_rep(city)
    corp = next(op for op in city.operators if op.name == "corp")
    corp.standing.score[org] = 95
    action, reasons = city.org_gates.decide("tender", org)  # type: ignore[union-attr]
    assert action == "priority" and reasons == (
        "Corporate grade A under 'corp': Wins public tenders.",
    )


def test_organisation_gates_and_harms_are_counted() -> None:
    scenario = org_consequence_city(citizens=3000, days=200)
    data = scenario.model_dump(by_alias=True)
    data["behaviours"] = [
        {**b, "p": 0.05} if b["name"] == "late_tax" else b for b in data["behaviours"]
    ]  # companies fall: some are listed
    c = City(validate_scenario(data, source="t"), 4, None).run()
    s = c.summary()
    tender = s["org_gate_decisions"]["tender"]
    expected = s["population"]["organisations"] * 12 * 200 / 365
    assert 0.8 * expected < sum(tender.values()) < 1.2 * expected  # 12 a year each
    harms = s["corporate_harms"]
    assert harms["blacklisted"] > 0
    assert tender.get("deny", 0) > 0  # blacklisted companies met the gate
    assert harms["employees_of_blacklisted"] >= harms["blacklisted"]  # each has its rep
    assert (
        harms["employees_affected"] <= harms["employees_of_blacklisted"]
        or harms["ever_wrongly_blacklisted"] > harms["wrongly_blacklisted"]
    )


def test_a_stored_run_answers_for_the_legal_representative() -> None:
    import xinyong

    data = org_consequence_city(citizens=3000, days=120).model_dump(by_alias=True)
    data["behaviours"] = [
        {**b, "p": 0.05} if b["name"] == "late_tax" else b for b in data["behaviours"]
    ]
    with xinyong.simulate(validate_scenario(data, source="t"), seed=4) as run:
        corp = [op.name for op in run.operators].index("corp")
        reps = run.query(
            "SELECT o.legal_rep FROM organisations o JOIN standings s "
            "ON s.subject = o.organisation AND s.operator = ? WHERE s.listed",
            [corp],
        )["legal_rep"]
        assert len(reps) > 0
        decision = run.gate("rail", int(reps.iloc[0]))
        assert decision.action == "deny"
        assert "legal representative of a blacklisted company" in decision.text


def test_wrongful_refusals_of_companies_are_counted_against_the_counterfactual() -> None:
    """Sensors that blame the wrong subject often list companies that did nothing: the error-
    free standings (settled at each day's end) count their refusals as wrongful, and every
    company wrongly listed now was wrongly listed at some point."""
    data = org_consequence_city(citizens=3000, days=200).model_dump(by_alias=True)
    data["behaviours"] = [
        {**b, "p": 0.05} if b["name"] == "late_tax" else b for b in data["behaviours"]
    ]
    for sensor in data["sensors"].values():
        sensor["misidentify"] = 0.3
    s = City(validate_scenario(data, source="t"), 4, None).run().summary()
    harms = s["corporate_harms"]
    assert harms["wrongly_blacklisted"] > 0
    assert harms["ever_wrongly_blacklisted"] >= harms["wrongly_blacklisted"]
    denied = s["org_gate_decisions"]["tender"].get("deny", 0)
    assert 0 < s["org_wrongly_denied"] <= denied


def test_the_corporate_scenario_s_score_acts_at_the_companies_gates() -> None:
    import xinyong
    from xinyong.scenario.overrides import apply

    # The fitted national rate lists few companies in a small city: the gates are tested with
    # judgments as often as the corporate pack's own assumption had them.
    scenario = apply(
        xinyong.load_scenario("corporate").with_sizes(citizens=20_000, days=365),
        {"behaviours.court_judgment_company.p": 0.0001},
        source="test",
    )
    with xinyong.simulate(scenario, seed=1) as run:
        decided = run.summary["org_gate_decisions"]
        assert decided["public_tender"].get("priority", 0) > 0  # grade A wins tenders
        assert decided["public_tender"].get("deny", 0) > 0  # the blacklisted do not
        assert decided["org_bank_loan"].get("discount", 0) > 0
        listed = run.query(
            "SELECT subject FROM standings WHERE operator = 0 AND listed ORDER BY 1 LIMIT 1"
        )
        org = int(listed.subject[0])
        tender = run.gate_company("public_tender", org)
        assert tender.action == "deny"
        assert "The organisation is blacklisted: No public tenders or procurement." in (
            tender.reasons
        )
        top = run.query(
            "SELECT subject FROM standings WHERE operator = 0 AND grade = 'A' ORDER BY 1 LIMIT 1"
        )
        win = run.gate_company("public_tender", int(top.subject[0]))
        assert win.action == "priority" and "Corporate grade A under 'corporate'" in win.text
        plain = run.query(
            "SELECT s.subject FROM standings s JOIN organisations o ON o.organisation = s.subject "
            "WHERE s.operator = 0 AND s.grade = 'B' AND o.legal_rep NOT IN "
            "(SELECT subject FROM memberships WHERE operator = 1) ORDER BY 1 LIMIT 1"
        )
        allowed = run.gate_company("subsidy", int(plain.subject[0]))
        assert allowed.action == "allow" and allowed.text == (
            "No rule of this service applies. Checked: the organisation is on no blacklist; "
            "its legal representative is not listed as a dishonest judgment debtor."
        )
        with pytest.raises(KeyError, match="unknown organisation service 'rail'; services: public"):
            run.gate_company("rail", org)
