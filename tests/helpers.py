"""Helpers for the tests: tiny hand-made scenarios whose outcome can be worked out by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from xinyong.scenario import Scenario, validate_scenario


def tiny_scenario(behaviours: list[dict[str, Any]], **overrides: Any) -> Scenario:
    """A small city with a 0-100 style scale, grades A/B/C, and sure sensors by default.

    Args:
        behaviours: the behaviours (name, p, points, sensor, severe).
        **overrides: top-level fields to replace; ``score``, ``listing``, ``sensors`` and
            ``listed_response`` are merged into the defaults.
    """
    data: dict[str, Any] = {
        "name": "tiny",
        "citizens": 10,
        "days": 10,
        "score": {"start": 100, "floor": 0, "ceiling": 200},
        "grades": [{"grade": "A", "min": 150}, {"grade": "B", "min": 50},
                   {"grade": "C", "min": 0}],
        "listed_grade": "D",
        "conduct_lognormal_sigma": 0.0,
        "listed_response": {"negative": 1.0, "positive": 1.0},
        "listing": {"min_days": 3, "release_min_score": 50, "at_floor": True},
        "sensors": {"sure": {"detect": 1.0, "misidentify": 0.0},
                    "blind": {"detect": 0.0, "misidentify": 0.0},
                    "wrong": {"detect": 1.0, "misidentify": 1.0}},
        "behaviours": behaviours,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return validate_scenario(data, source="tiny")


MULTI_CITY = Path(__file__).with_name("multi_city.toml")


def multi_city(**overrides: Any) -> Scenario:
    """A small city with households, companies, three operators, sharing, assessment and
    collectors (``tests/multi_city.toml``), with top-level fields replaced."""
    data = tomllib.loads(MULTI_CITY.read_text())
    data.update(overrides)
    return validate_scenario(data, source=MULTI_CITY.name)
