"""Invariants that hold for every scenario and seed (checked with hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xinyong
from xinyong.records.ledger import replay, replay_one
from xinyong.scenario import validate_scenario
from xinyong.scenario.schemes import ScoreScale


@st.composite
def scenarios(draw: st.DrawFn) -> xinyong.Scenario:
    floor = draw(st.integers(0, 50))
    ceiling = floor + draw(st.integers(20, 200))
    start = draw(st.integers(floor, ceiling))
    n_grades = draw(st.integers(1, 4))
    inner = sorted(
        draw(
            st.sets(st.integers(floor + 1, ceiling), min_size=n_grades - 1, max_size=n_grades - 1)
        ),
        reverse=True,
    )
    mins = [*inner, floor]
    sensors = {
        f"s{i}": {"detect": draw(st.floats(0, 1)), "misidentify": draw(st.floats(0, 1))}
        for i in range(draw(st.integers(1, 3)))
    }
    behaviours = [
        {
            "name": f"b{i}",
            "p": draw(st.floats(0, 0.6)),
            "points": draw(st.integers(-40, 40).filter(bool)),
            "sensor": draw(st.sampled_from(sorted(sensors))),
            "severe": draw(st.booleans()),
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    data: dict[str, Any] = {
        "name": "random",
        "citizens": draw(st.integers(1, 40)),
        "days": draw(st.integers(1, 30)),
        "score": {"start": start, "floor": floor, "ceiling": ceiling},
        "grades": [{"grade": f"G{i}", "min": m} for i, m in enumerate(mins)],
        "listed_grade": "LISTED",
        "conduct_lognormal_sigma": draw(st.floats(0, 1)),
        "listed_response": {"negative": draw(st.floats(0, 3)), "positive": draw(st.floats(0, 3))},
        "listing": {
            "min_days": draw(st.integers(0, 10)),
            "release_min_score": draw(st.integers(floor, ceiling)),
            "at_floor": draw(st.booleans()),
        },
        "sensors": sensors,
        "behaviours": behaviours,
    }
    return validate_scenario(data, source="hypothesis")


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios(), st.integers(0, 2**31))
def test_every_run_is_consistent_with_its_ledger(scenario: xinyong.Scenario, seed: int) -> None:
    with xinyong.simulate(scenario, seed=seed) as run:
        citizens = run.query("SELECT * FROM citizens ORDER BY citizen")
        ledger = run.query("SELECT * FROM ledger")
        s, scale, n = run.summary, scenario.score, scenario.citizens

        # Scores stay within bounds.
        for column in ("score", "counterfactual_score"):
            assert citizens[column].between(scale.floor, scale.ceiling).all()

        # Replaying the ledger gives every score; replaying every event by its true actor
        # gives every counterfactual score.
        day, subject, points = (ledger[c].to_numpy() for c in ("day", "subject", "points"))
        assert np.array_equal(replay(scale, n, day, subject, points), citizens["score"])
        assert np.array_equal(
            replay(scale, n, day, ledger["actor"].to_numpy(), points),
            citizens["counterfactual_score"],
        )
        assert np.array_equal(run.ledger.replay(), citizens["score"])

        # Counts agree with the ledger and the citizens table.
        assert s["events_recorded"] == len(ledger) <= s["events_occurred"]
        assert s["events_misattributed"] == int(ledger["misattributed"].sum())
        assert (ledger["misattributed"] == (ledger["subject"] != ledger["actor"])).all()
        listed, cf_listed = citizens["listed"], citizens["counterfactual_listed"]
        assert round(s["listed_share"] * n) == listed.sum()
        assert s["wrongly_listed"] == int((listed & ~cf_listed).sum())
        shares = citizens["grade"].value_counts(normalize=True)
        for grade, share in s["grade_shares"].items():
            assert abs(shares.get(grade, 0.0) - share) < 1e-12
        assert (citizens.loc[listed, "grade"] == scenario.listed_grade).all()

        # The daily series ends where the summary does.
        last = run.daily.iloc[-1]
        assert (last["listed"], last["wrongly_listed"]) == (listed.sum(), s["wrongly_listed"])
        assert abs(last["mean_score"] - s["mean_score"]) < 1e-9
        assert run.daily["occurred"].sum() == s["events_occurred"]


@SETTINGS
@given(scenarios(), st.integers(0, 2**31))
def test_listings_have_causes(scenario: xinyong.Scenario, seed: int) -> None:
    """A severe listing needs a severe event that day; the counterfactual, one the citizen
    really did."""
    with xinyong.simulate(scenario, seed=seed) as run:
        severe = run.query("SELECT day, subject, actor, misattributed FROM events WHERE severe")
        real_causes = set(zip(severe.day, severe.subject, strict=True))
        cf_causes = set(zip(severe.day, severe.actor, strict=True))
        listings = run.listings
        by_severe = listings[listings.reason == "severe event"]
        for row in by_severe.itertuples():
            causes = cf_causes if row.counterfactual else real_causes
            assert (row.day, row.citizen) in causes
        # The listed flag at the end matches the last change of each citizen's history.
        last = listings[~listings.counterfactual].groupby("citizen")["change"].last()
        listed = run.query("SELECT citizen FROM citizens WHERE listed")["citizen"]
        assert set(listed) == set(last[last != "released"].index)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 100),
    st.integers(0, 150),
    st.lists(st.tuples(st.integers(0, 9), st.integers(-60, 60)), max_size=30),
)
def test_one_subjects_replay_is_the_arrays_replay(
    floor: int, width: int, events: list[tuple[int, int]]
) -> None:
    # A record replays its citizen's score in plain Python (replay_one); the arrays' replay
    # is the definition: each day's points summed, then clamped to the scale.
    scale = ScoreScale(start=floor, floor=floor, ceiling=floor + width)
    start = floor + width // 2
    day = np.array([d for d, _ in events], dtype=np.int64)
    points = np.array([p for _, p in events], dtype=np.int64)
    expected = replay(scale, 1, day, np.zeros(len(events), np.int64), points, np.array([start]))
    assert replay_one(scale, start, events) == int(expected[0])


@settings(max_examples=15, deadline=None)
@given(scenarios(), st.integers(0, 2**31))
def test_same_seed_same_run(scenario: xinyong.Scenario, seed: int) -> None:
    with xinyong.simulate(scenario, seed=seed) as a, xinyong.simulate(scenario, seed=seed) as b:
        drop = {"wall_seconds"}
        assert {k: v for k, v in a.summary.items() if k not in drop} == {
            k: v for k, v in b.summary.items() if k not in drop
        }
        order = "ORDER BY day, actor, behaviour"
        assert a.query(f"SELECT * FROM ledger {order}").equals(
            b.query(f"SELECT * FROM ledger {order}")
        )
        assert a.daily.equals(b.daily)


def test_adding_a_behaviour_does_not_move_the_others(reference_dict: dict) -> None:
    """In the reference city listing comes only from severe events, so a new mild behaviour
    leaves every other behaviour's events exactly where they were (common random numbers)."""
    base = validate_scenario(reference_dict, "base").with_sizes(citizens=3000, days=120)
    reference_dict["behaviours"].insert(
        2, {"name": "dress_code", "p": 0.01, "points": -1, "sensor": "camera"}
    )
    more = validate_scenario(reference_dict, "more").with_sizes(citizens=3000, days=120)
    cols = "day, actor, subject, behaviour, sensor, points, misattributed"
    query = (
        f"SELECT {cols} FROM events WHERE behaviour <> 'dress_code' ORDER BY day, actor, behaviour"
    )
    with xinyong.simulate(base, seed=11) as a, xinyong.simulate(more, seed=11) as b:
        assert len(b.query("SELECT * FROM events WHERE behaviour = 'dress_code'")) > 0
        assert a.query(query).equals(b.query(query))
