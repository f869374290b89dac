"""Dissent and self-censorship after Daymude, Axelrod & Forrest (PNAS 2025): uniform draconian
punishment silences everyone; proportional punishment lets small dissent survive."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import MULTI_CITY

from xinyong.engine.city import City
from xinyong.model.dissent import expressed_dissent
from xinyong.scenario import validate_scenario

DESIRE = np.array([0.05, 0.2, 0.5, 0.9])
BOLD = np.array([1.0, 2.0, 0.5, 4.0])


def test_uniform_punishment_makes_citizens_comply_or_defy() -> None:
    said = expressed_dissent(DESIRE, BOLD, "uniform", severity=0.2, tolerance=0.1)
    # b (d - t)^2: 0, 0.02, 0.08, 2.56 — only the last finds complying dearer than 0.2.
    assert said.tolist() == [0.05, 0.1, 0.1, 0.9]
    draconian = expressed_dissent(DESIRE, BOLD, "uniform", severity=100.0)
    assert (draconian == 0).all()


def test_proportional_punishment_leaves_partial_dissent() -> None:
    said = expressed_dissent(DESIRE, BOLD, "proportional", severity=0.2)
    # d - s / 2b: 0.05 - 0.1 < 0 (silent), 0.15, 0.3, 0.875.
    assert said == pytest.approx([0.0, 0.15, 0.3, 0.875])
    assert (said <= DESIRE).all()


def test_an_unknown_punishment_is_refused() -> None:
    with pytest.raises(ValueError, match="choose 'uniform' or 'proportional'"):
        expressed_dissent(DESIRE, BOLD, "exile", 1.0)  # type: ignore[arg-type]


def _city(punishment: str | None, severity: float) -> City:
    import tomllib

    data = tomllib.loads(MULTI_CITY.read_text())
    data["citizens"], data["days"] = 2000, 60
    data["behaviours"].append(
        {"name": "criticism", "p": 0.02, "sensor": "camera", "harmful": True, "min_age": 16}
    )
    if punishment is not None:
        data["response"] = {
            "dissent": {"behaviour": "criticism", "punishment": punishment, "severity": severity}
        }
    city = City(validate_scenario(data, source="dissent city"), 5, None).run()
    return city


def test_a_small_city_shows_both_results() -> None:
    k = -1  # criticism, the last behaviour
    free = int(_city(None, 0.0).occurred_by_behaviour[k])
    draconian = int(_city("uniform", 1000.0).occurred_by_behaviour[k])
    proportional = int(_city("proportional", 0.5).occurred_by_behaviour[k])
    assert free > 1000
    assert draconian == 0  # everyone silenced
    assert 0 < proportional < free  # small dissent survives, self-censored
    assert proportional < 0.8 * free
