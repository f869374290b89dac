"""Starting scores: computed in one place, clipped once, and the same wherever they are read
(the city's standings, the response on day 0, the stored standings, the live city)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import multi_city

import xinyong
from xinyong.engine.city import City
from xinyong.model.population import conduct_factors
from xinyong.model.start import starting_scores, starts_vary
from xinyong.primitives.streams import Streams
from xinyong.scenario import Scenario, validate_scenario
from xinyong.service.live import LiveCity

SEED = 4


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The multi city, whose first citizen scheme (scale 600-1300, start 1000) starts by
    income band far enough to reach the floor and the ceiling, plus records, and whose
    citizens respond to their grade under it from day 0."""
    data = multi_city(citizens=3000, days=6).model_dump()
    scheme = data["operators"][0]["scheme"]
    # low: 550-750 (the floor, 600, and C); middle: 900-1100 (B and A); high: 1250-1450 (A,
    # and the ceiling, 1300)
    scheme["start_by_income"] = {"low": -450, "middle": -100, "high": 250}
    scheme["start_records"] = {"max": 200, "logit_mean": 0.0, "logit_sd": 1.5}
    data["response"] = {"grade": {"A": 0.5, "B": 0.8, "C": 1.5}}
    return validate_scenario(data, source="start test")


@pytest.fixture(scope="module")
def city(scenario: Scenario) -> City:
    return City(scenario, SEED, None, threads=False)


def _expected(scenario: Scenario, city: City, index: int) -> np.ndarray | None:
    op = scenario.all_operators()[index]
    ids = np.arange(scenario.citizens)
    assert city.population is not None
    return starting_scores(
        scenario,
        op,
        Streams(SEED),
        ids,
        conduct_factors(scenario, Streams(SEED), ids),
        city.population.income_band,
    )


def test_starts_are_clipped_once_to_the_scale(scenario: Scenario, city: City) -> None:
    start = city.operators[0].start
    scale = scenario.all_operators()[0].scheme.score
    assert start is not None
    assert start.min() == scale.floor and start.max() == scale.ceiling  # both ends reached
    assert np.array_equal(city.operators[0].standing.score, start)
    assert np.array_equal(city.operators[0].counterfactual.score, start)


def test_the_city_takes_every_operators_starts_from_the_one_function(
    scenario: Scenario, city: City
) -> None:
    for op in city.operators:
        expected = _expected(scenario, city, op.index) if op.subject == "citizen" else None
        if expected is None:
            assert op.start is None, op.name
            assert not starts_vary(op.scheme) or op.subject != "citizen", op.name
        else:
            assert op.start is not None and np.array_equal(op.start, expected), op.name


def test_day_zero_response_follows_the_grade_of_the_start(scenario: Scenario, city: City) -> None:
    """Records move the start too: the response on day 0 reads the same starts as the
    standings (it used to recompute them from the income band alone)."""
    response = city.groups["citizen"].behaviours.response
    assert response is not None
    scheme = scenario.all_operators()[0].scheme
    grade = np.array(scheme.grade_names())[city.operators[0].standing.grades()]
    factor = np.array([scenario.response.grade.get(g, 1.0) for g in grade])  # type: ignore[union-attr]
    assert np.array_equal(response, factor)
    assert len(set(grade)) == 3  # every grade is reached, so the check has teeth


def test_stored_and_live_starts_agree_with_the_city(
    scenario: Scenario, city: City, tmp_path: Path
) -> None:
    run = xinyong.simulate(scenario, seed=SEED, threads=False)
    live = LiveCity(tmp_path / "live", scenario, seed=SEED)
    try:
        for op in city.operators:
            stored = run.ledger.starting_scores(op.name)
            expected = op.start
            if expected is None:
                assert stored is None or (stored == op.scheme.score.start).all(), op.name
                continue
            assert stored is not None and np.array_equal(stored, expected), op.name
            if op.subject == "citizen":
                for citizen in (0, 17, scenario.citizens - 1):
                    assert live.records.start(op.index, citizen) == expected[citizen], op.name
    finally:
        live.close()
