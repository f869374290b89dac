"""The reference rules, on hand-made cities whose every event can be worked out by hand.

Probabilities of 0 or 1, conduct factors of exactly 1 (sigma 0) and sure or blind sensors make
the runs deterministic, so each test states the exact outcome the spec's rules give.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import tiny_scenario

import xinyong
from xinyong.model.standing import Standing
from xinyong.primitives.scratch import Scratch

HARM = {"name": "harm", "p": 1.0, "points": -30, "sensor": "sure"}


def _listings(run: xinyong.Run, citizen: int = 0, counterfactual: bool = False) -> list:
    rows = run.listings
    rows = rows[(rows.citizen == citizen) & (rows.counterfactual == counterfactual)]
    return [
        (int(r.day), r.change, r.reason if isinstance(r.reason, str) else None)
        for r in rows.itertuples()
    ]


def test_daily_harm_reaches_the_floor_and_lists() -> None:
    run = xinyong.simulate(tiny_scenario([HARM]), seed=0)
    # 100 → 70 → 40 → 10 → 0 (clamped: 20 of the 30 points are not counted) → listed on day 3.
    assert run.summary["mean_score"] == 0
    assert run.summary["listed_share"] == 1.0
    assert run.summary["grade_shares"] == {"A": 0, "B": 0, "C": 0, "D": 1.0}
    assert _listings(run) == [(3, "listed", "score at floor")]
    assert list(run.daily["mean_score"][:5]) == [70, 40, 10, 0, 0]
    explanation = run.explain(0)
    assert list(explanation.events["score"][:4]) == [70, 40, 10, 0]
    assert list(explanation.events["not_counted"][:5]) == [0, 0, 0, -20, -30]
    # Sitting at the floor, the term restarts every day: the listing day is the last day.
    assert explanation.listing_day == 9
    assert "listed again every day it stays there" in str(explanation)


def test_severe_event_lists_and_the_term_runs_before_release() -> None:
    fraud = {"name": "fraud", "p": 1.0, "points": -1, "sensor": "sure", "severe": True}
    # Listed citizens stop harming (negative response 0), so a listing ends after min_days = 3.
    run = xinyong.simulate(tiny_scenario([fraud], listed_response={"negative": 0.0}), seed=0)
    assert _listings(run) == [
        (0, "listed", "severe event"),
        (3, "released", None),
        (4, "listed", "severe event"),
        (7, "released", None),
        (8, "listed", "severe event"),
    ]
    assert run.summary["events_occurred"] == 3 * 10
    assert run.summary["mean_score"] == 97
    assert run.summary["listed_share"] == 1.0 and run.summary["ever_listed_share"] == 1.0


def test_release_waits_for_the_score() -> None:
    harm = {**HARM, "points": -40}
    good = {"name": "good", "p": 1.0, "points": 10, "sensor": "sure"}
    run = xinyong.simulate(tiny_scenario([harm, good], listed_response={"negative": 0.0}), seed=0)
    # 70, 40, 10, 0 (listed day 3); then +10 a day: 10, 20, 30, 40, 50 on day 8 → released
    # (5 days >= 3 and 50 >= 50); day 9: 50 - 40 + 10 = 20.
    assert _listings(run) == [(3, "listed", "score at floor"), (8, "released", None)]
    assert list(run.daily["mean_score"]) == [70, 40, 10, 0, 10, 20, 30, 40, 50, 20]
    assert list(run.daily["listed"]) == [0, 0, 0, 10, 10, 10, 10, 10, 0, 0]
    assert run.summary["ever_listed_share"] == 1.0 and run.summary["listed_share"] == 0.0


def test_ceiling_clamps_and_explain_shows_lost_points() -> None:
    good = {"name": "good", "p": 1.0, "points": 150, "sensor": "sure"}
    run = xinyong.simulate(tiny_scenario([good], days=2), seed=0)
    assert run.summary["mean_score"] == 200
    assert run.summary["grade_shares"]["A"] == 1.0
    assert list(run.explain(3).events["not_counted"]) == [50, 150]


def test_blind_sensor_records_nothing() -> None:
    harm = {**HARM, "sensor": "blind", "severe": True}
    run = xinyong.simulate(tiny_scenario([harm]), seed=0)
    assert run.summary["events_occurred"] == 100
    assert run.summary["events_recorded"] == 0
    assert run.summary["mean_score"] == 100 and run.summary["listed_share"] == 0


def test_misattributed_severe_event_lists_the_wrong_citizen_and_misses_the_actor() -> None:
    fraud = {"name": "fraud", "p": 0.4, "points": -5, "sensor": "wrong", "severe": True}
    run = xinyong.simulate(tiny_scenario([fraud], citizens=3, days=1), seed=39)
    # On this seed only citizen 0 commits fraud, and the camera blames citizen 1.
    events = run.ledger.events()
    assert list(zip(events.actor, events.subject, strict=True)) == [(0, 1)]
    s = run.summary
    # Citizen 1 is listed in reality; the error-free system lists citizen 0, who did it.
    assert (s["listed_share"], s["counterfactual_listed_share"], s["wrongly_listed"]) == (
        1 / 3,
        1 / 3,
        1,
    )
    assert _listings(run, citizen=1) == [(0, "listed", "severe event")]
    assert _listings(run, citizen=1, counterfactual=True) == []
    assert _listings(run, citizen=0, counterfactual=True) == [(0, "listed", "severe event")]
    assert s["events_misattributed"] == 1
    blamed, actor = run.explain(1), run.explain(0)
    assert (blamed.score, blamed.counterfactual_score) == (95, 100)
    assert (actor.score, actor.counterfactual_score) == (100, 95)
    assert "done by citizen 0" in str(blamed)
    assert len(actor.blamed_on_others) == 1


def test_symmetric_misattribution_lists_both_in_reality_and_error_free() -> None:
    fraud = {"name": "fraud", "p": 1.0, "points": -5, "sensor": "wrong", "severe": True}
    run = xinyong.simulate(tiny_scenario([fraud], citizens=2, days=1), seed=4)
    # With two citizens, each one's fraud is blamed on the other: both are rightly listed,
    # for the wrong event.
    events = run.ledger.events()
    assert sorted(zip(events.actor, events.subject, strict=True)) == [(0, 1), (1, 0)]
    s = run.summary
    assert (s["listed_share"], s["counterfactual_listed_share"], s["wrongly_listed"]) == (1, 1, 0)
    explanation = run.explain(0)
    assert explanation.counterfactual_score == 95 and explanation.score == 95


def test_rates_are_capped_at_one_and_zero_never_happens() -> None:
    big = {"name": "big", "p": 1.0, "points": 1, "sensor": "sure"}
    never = {"name": "never", "p": 0.0, "points": -1, "sensor": "sure"}
    run = xinyong.simulate(
        tiny_scenario([big, never], listed_response={"positive": 3.0}, conduct_lognormal_sigma=0.0),
        seed=1,
    )
    assert run.summary["events_occurred"] == 100
    assert set(run.ledger.events().behaviour) == {"big"}


def test_grades_follow_the_table() -> None:
    scenario = tiny_scenario([HARM])
    standing = _standing(scenario, 4)
    standing.score[:] = [150, 149, 50, 49]
    assert [standing.grade_names[g] for g in standing.grades()] == ["A", "B", "B", "C"]
    standing.listed[0] = True
    assert standing.grade_names[standing.grades()[0]] == "D"


def _standing(scenario: xinyong.Scenario, n: int) -> Standing:
    return Standing(scenario.all_operators()[0].scheme, n, scenario.days, Scratch(n))


def _apply(
    standing: Standing,
    day: int,
    subjects: list[int],
    points: list[int],
    severe: list[bool] | None = None,
) -> set[tuple[str, int]]:
    changes = standing.apply(
        day,
        np.array(subjects, dtype=np.int64),
        np.array(points, dtype=np.int64),
        np.array(severe or [False] * len(subjects), dtype=bool),
    )
    return (
        {("listed", int(c)) for c in changes.listed}
        | {("relisted", int(c)) for c in changes.relisted}
        | {("released", int(c)) for c in changes.released}
    )


def test_term_restarts_every_day_at_the_floor() -> None:
    """Listed at the floor on day 0 and left there until day 5: the term counts from day 4."""
    scenario = tiny_scenario([HARM], days=30, listing={"min_days": 3, "release_min_score": 50})
    standing = _standing(scenario, 3)
    assert _apply(standing, 0, [0], [-100]) == {("listed", 0)}
    for day in range(1, 5):
        assert _apply(standing, day, [], []) == set()
    assert _apply(standing, 5, [0], [+60]) == set()  # left the floor: listed since day 4
    assert standing.listing_day[0] == 4
    assert _apply(standing, 6, [], []) == set()
    assert _apply(standing, 7, [], []) == {("released", 0)}  # 7 - 4 >= 3 and 60 >= 50


def test_severe_event_restarts_a_listed_term() -> None:
    scenario = tiny_scenario([HARM], days=30, listing={"min_days": 3, "release_min_score": 50})
    standing = _standing(scenario, 2)
    assert _apply(standing, 0, [1], [-1], [True]) == {("listed", 1)}
    assert _apply(standing, 2, [1], [-1], [True]) == {("relisted", 1)}
    assert _apply(standing, 3, [], []) == set()  # 3 - 0 >= 3, but the term restarted on day 2
    assert _apply(standing, 5, [], []) == {("released", 1)}


def test_release_when_score_recovers_after_the_term() -> None:
    scenario = tiny_scenario([HARM], days=30, listing={"min_days": 2, "release_min_score": 120})
    standing = _standing(scenario, 1)
    assert _apply(standing, 0, [0], [-10], [True]) == {("listed", 0)}
    assert _apply(standing, 2, [], []) == set()  # term over, but 90 < 120
    assert _apply(standing, 9, [0], [+40]) == {("released", 0)}  # 130 >= 120


@pytest.mark.parametrize("min_days", [0, 1])
def test_shortest_terms_still_release_the_next_day(min_days: int) -> None:
    scenario = tiny_scenario([HARM], days=5, listing={"min_days": min_days, "release_min_score": 0})
    standing = _standing(scenario, 1)
    assert _apply(standing, 0, [0], [-1], [True]) == {("listed", 0)}
    assert _apply(standing, 1, [], []) == {("released", 0)}


def test_everyone_starting_at_the_floor_is_listed_on_day_zero() -> None:
    run = xinyong.simulate(
        tiny_scenario([{**HARM, "p": 0.0}], score={"start": 0, "floor": 0, "ceiling": 200}), seed=0
    )
    assert run.summary["listed_share"] == 1.0
    assert list(run.daily["listed"]) == [10] * 10
