"""The error figures count what they say: hand-made cities where each is known exactly, and
invariants over random ones."""

from __future__ import annotations

import numpy as np
from helpers import consequence_city, tiny_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

import xinyong
from xinyong.accuracy import honoured_lists
from xinyong.gates import ACTIONS, Gates
from xinyong.run import stored_status


def test_a_misattributed_event_wrongly_grades_one_citizen_and_misses_the_actor() -> None:
    # Grades A >= 150, B >= 50, C; start 100 (B). A -60 event done by citizen 0 is blamed on
    # citizen 1: citizen 1 drops to C in reality, citizen 0 would drop to C without errors.
    fraud = {"name": "fraud", "p": 0.4, "points": -60, "sensor": "wrong", "severe": True}
    run = xinyong.simulate(tiny_scenario([fraud], citizens=3, days=1), seed=39)
    events = run.ledger.events()
    assert list(zip(events.actor, events.subject, strict=True)) == [(0, 1)]
    s = run.summary
    assert s["wrongly_graded"] == 2  # citizen 1 (D, not B) and citizen 0 (B, not D)
    assert s["wrongly_downgraded"] == 1  # citizen 1 only
    assert s["points_lost_to_errors"] == 60
    assert (s["blacklisted"], s["wrongly_blacklisted"], s["wrongly_missing"]) == (1, 1, 1)
    assert s["grade_matrix"] == {"B": {"B": 1, "D": 1}, "D": {"B": 1}}
    assert "city:listing" in s["about"]["blacklisted_share"]


def test_error_figures_respond_to_errors() -> None:
    """More misidentification: more citizens wrongly graded, more points lost."""
    base = xinyong.load_scenario("reference").with_sizes(citizens=20_000, days=120)
    worse = xinyong.scenario.validate_scenario(
        {**base.model_dump(by_alias=True), "sensors": {
            name: {**sensor.model_dump(), "misidentify": 0.05}
            for name, sensor in base.sensors.items()}}, "worse")
    a = xinyong.simulate(base, seed=3).summary
    b = xinyong.simulate(worse, seed=3).summary
    assert b["events_misattributed"] > 3 * a["events_misattributed"]
    assert b["wrongly_graded"] > 2 * a["wrongly_graded"]
    assert b["points_lost_to_errors"] > 2 * a["points_lost_to_errors"]


def test_fabricated_reports_are_absent_from_the_counterfactual() -> None:
    city = xinyong.simulate(_collector_city(), seed=5)
    ledger = city.query("SELECT subject, actor, points, fabricated FROM ledger")
    assert ledger["fabricated"].any()
    standings = city.query("SELECT subject, counterfactual_score FROM standings "
                           "WHERE operator = 0 ORDER BY subject")
    # Error-free scores are the start plus the points of events each citizen really did.
    real = ledger[~ledger["fabricated"]]
    done = real.groupby("actor")["points"].sum()
    start = 100
    for row in standings.head(200).itertuples():
        assert row.counterfactual_score == min(max(start + done.get(row.subject, 0), 0), 200)


def _collector_city() -> xinyong.Scenario:
    return tiny_scenario(
        [{"name": "litter", "p": 0.02, "points": -1, "sensor": "collector"}],
        citizens=2000, days=30, population={"neighbourhood_size": 100},
        sensors={"collector": {"detect": 0.5, "misidentify": 0.0, "collectors": {
            "quota": 50, "period_days": 10, "false_report_rate": 0.2,
            "behind_false_report_rate": 0.5}}})


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([0.0, 0.2, 0.6]))
def test_blacklisted_share_is_the_share_a_blacklist_gate_denies(seed: int, mis: float
                                                                ) -> None:
    scenario = consequence_city(citizens=400, days=60)
    data = scenario.model_dump(by_alias=True)
    for sensor in data["sensors"].values():
        sensor["misidentify"] = mis
    scenario = xinyong.scenario.validate_scenario(data, "mis")
    with xinyong.simulate(scenario, seed=seed) as run:
        s = run.summary
        assert honoured_lists(scenario)
        status = stored_status(run._store, scenario)
        gates = Gates(scenario.consequences, scenario.all_operators()[0].name)
        # Only the rules that deny for a listing: the blacklists services honour.
        listing_rules = [r for r in scenario.consequences.rules
                         if r.action == "deny" and (r.blacklisted or r.on_list)]
        everyone = np.arange(scenario.citizens)
        denied = np.zeros(everyone.size, dtype=bool)
        for rule in listing_rules:
            denied |= gates._matches(rule, status, everyone)
        assert s["blacklisted"] == int(denied.sum())
        assert s["blacklisted_share"] == denied.mean()
        assert ACTIONS.index("deny") > 0
