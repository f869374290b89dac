"""The error figures count what they say: hand-made cities where each is known exactly, and
invariants over random ones."""

from __future__ import annotations

import numpy as np
from helpers import blame_city, consequence_city, tiny_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

import xinyong
from xinyong.engine.accuracy import honoured_lists
from xinyong.model.gates import ACTIONS, Gates
from xinyong.records.run import stored_status


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
        {
            **base.model_dump(by_alias=True),
            "sensors": {
                name: {**sensor.model_dump(), "misidentify": 0.05}
                for name, sensor in base.sensors.items()
            },
        },
        "worse",
    )
    a = xinyong.simulate(base, seed=3).summary
    b = xinyong.simulate(worse, seed=3).summary
    assert b["events_misattributed"] > 3 * a["events_misattributed"]
    assert b["wrongly_graded"] > 2 * a["wrongly_graded"]
    assert b["points_lost_to_errors"] > 2 * a["points_lost_to_errors"]


def test_fabricated_reports_are_absent_from_the_counterfactual() -> None:
    city = xinyong.simulate(_collector_city(), seed=5)
    ledger = city.query("SELECT subject, actor, points, fabricated FROM ledger")
    assert ledger["fabricated"].any()
    standings = city.query(
        "SELECT subject, counterfactual_score FROM standings WHERE operator = 0 ORDER BY subject"
    )
    # Error-free scores are the start plus the points of events each citizen really did.
    real = ledger[~ledger["fabricated"]]
    done = real.groupby("actor")["points"].sum()
    start = 100
    for row in standings.head(200).itertuples():
        assert row.counterfactual_score == min(max(start + done.get(row.subject, 0), 0), 200)


def _collector_city() -> xinyong.Scenario:
    return tiny_scenario(
        [{"name": "litter", "p": 0.02, "points": -1, "sensor": "collector"}],
        citizens=2000,
        days=30,
        population={"neighbourhood_size": 100},
        sensors={
            "collector": {
                "detect": 0.5,
                "misidentify": 0.0,
                "collectors": {
                    "quota": 50,
                    "period_days": 10,
                    "false_report_rate": 0.2,
                    "behind_false_report_rate": 0.5,
                },
            }
        },
    )


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([0.0, 0.2, 0.6]))
def test_blacklisted_share_is_the_share_a_blacklist_gate_denies(seed: int, mis: float) -> None:
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
        listing_rules = [
            r
            for r in scenario.consequences.rules
            if r.action == "deny" and (r.blacklisted or r.on_list)
        ]
        everyone = np.arange(scenario.citizens)
        denied = np.zeros(everyone.size, dtype=bool)
        for rule in listing_rules:
            denied |= gates._matches(rule, status, everyone)
        assert s["blacklisted"] == int(denied.sum())
        assert s["blacklisted_share"] == denied.mean()
        assert ACTIONS.index("deny") > 0


def test_explain_shows_a_wrongful_listing_its_cause_and_the_error_free_history() -> None:
    data = blame_city()
    run = xinyong.simulate(xinyong.scenario.validate_scenario(data, "blame"), seed=7)
    # On this seed: one fraud, by citizen 1 on day 1, blamed on citizen 0.
    wronged, actor = run.explain(0), run.explain(1)
    lines = str(wronged).split("Lists:")[1]
    assert (
        "day 1: * wrongful: debtors listed (fraud recorded by wrong [* misattributed: "
        "done by citizen 1])" in lines
    )
    assert "now on debtors since day 1 until day 101 * wrongly" in lines
    assert "listed on debtors since day 1" in str(wronged).splitlines()[0]
    history = wronged.to_dict()["list_history"]
    assert history == [
        {
            "day": 1,
            "list": "debtors",
            "change": "listed",
            "counterfactual": False,
            "cause": history[0]["cause"],
            "wrongful": True,
        }
    ]
    assert "day 1: error-free: debtors listed" in str(actor)
    assert "never listed" not in str(wronged)


def test_the_grade_history_keeps_grade_caps() -> None:
    """Drunk driving caps the grade at C for a while, whatever the score (Foreign Policy)."""
    data = {
        "name": "caps",
        "citizens": 1,
        "days": 30,
        "conduct_lognormal_sigma": 0.0,
        "listed_response": {"negative": 1.0, "positive": 1.0},
        "sensors": {"sure": {"detect": 1.0, "misidentify": 0.0}},
        "behaviours": [{"name": "drunk_driving", "p": 0.2, "sensor": "sure", "harmful": True}],
        "operators": [
            {
                "name": "city",
                "scheme": {
                    "name": "city",
                    "score": {"start": 100, "floor": 0, "ceiling": 100},
                    "grades": [
                        {"grade": "A", "min": 90},
                        {"grade": "B", "min": 50},
                        {"grade": "C", "min": 0},
                    ],
                    "points": [{"behaviour": "drunk_driving", "points": -1}],
                    "overrides": [{"behaviour": "drunk_driving", "grade": "C", "days": 10}],
                },
            }
        ],
    }
    run = xinyong.simulate(xinyong.scenario.validate_scenario(data, "caps"), seed=1)
    first = int(run.ledger.events(0)["day"].min())
    explanation = run.explain(0)
    grades = explanation.grades
    assert grades.iloc[0]["grade"] == "C" and grades.iloc[0]["day"] == first
    assert grades.iloc[0]["capped_by"] == f"drunk_driving on day {first}"
    assert f"day {first} C (capped by drunk_driving on day {first})" in str(explanation)
    # The score alone says A: the stored grade agrees with the cap, not the score.
    final = run.query("SELECT grade FROM standings WHERE subject = 0")["grade"].iloc[0]
    assert explanation.grades.iloc[-1]["grade"] == final


def test_billboard_harms_are_counted_and_minors_can_be_left_off() -> None:
    shown = consequence_city(citizens=3000, days=60)
    data = shown.model_dump(by_alias=True)
    data["consequences"]["billboard_minors"] = False
    hidden = xinyong.scenario.validate_scenario(data, "no minors on billboards")
    with xinyong.simulate(shown, seed=2) as a, xinyong.simulate(hidden, seed=2) as b:
        harms = a.summary["billboard_harms"]
        notices = a.query(
            "SELECT n.subject, p.age FROM notices n JOIN population p "
            "ON p.citizen = n.subject WHERE n.kind = 'billboard'"
        )
        assert harms["about_minors"] == int((notices["age"] < 18).sum()) > 0
        ledger = a.query(
            "SELECT count(*) AS n FROM ledger l JOIN behaviours b USING "
            "(behaviour) WHERE b.name = 'jaywalking' AND l.operator = 0 "
            "AND l.misattributed"
        )
        # The city's ledger holds those about adults it scores; billboards show minors too.
        assert harms["on_misattributed_events"] >= int(ledger["n"].iloc[0]) > 0
        assert harms["on_dismissed_events"] > 0  # the city reviews half its events
        # Without minors: the same adults' notices, none about a child.
        kept = b.query(
            "SELECT n.subject, p.age FROM notices n JOIN population p "
            "ON p.citizen = n.subject WHERE n.kind = 'billboard'"
        )
        assert (kept["age"] >= 18).all()
        assert len(kept) == int((notices["age"] >= 18).sum())
        assert b.summary["billboard_harms"]["about_minors"] == 0
        assert "minors are left off" in b.summary["about"]["billboard_harms"]


def test_the_live_record_marks_a_wrongful_listing_and_a_missing_one(tmp_path) -> None:
    """The dashboard's citizen page reads the live record: a wrongly listed citizen is marked,
    and the true actor is shown missing from the list."""
    from xinyong.service.live import LiveCity

    data = blame_city()
    live = LiveCity(tmp_path / "city", xinyong.scenario.validate_scenario(data, "blame"), 7)
    try:
        live.advance(5)  # on this seed citizen 1's fraud of day 1 is blamed on citizen 0
        wronged = live.record(0)["operators"][0]
        assert wronged["lists"] == [
            {
                "list": "debtors",
                "kind": "black",
                "since": 1,
                "until": 101,
                "repeats": 0,
                "error_free": False,
            }
        ]
        assert live.record(1)["operators"][0]["error_free_lists"] == ["debtors"]
    finally:
        live.close()
