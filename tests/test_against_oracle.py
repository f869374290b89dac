"""The fast engine against the literal oracle (tests/oracle.py), statistically, on small cities.

Each variant is simulated over several seeds by both; a figure passes when the two means differ
by less than 4 standard errors of the difference (estimated from the seeds) plus a small floor.
The reference probabilities rarely list anyone in a small city, so three stressed variants push
every rule: listing at the floor and by severe events, releases, wrong listings, the listed
response, the cap at probability 1, ``at_floor = false`` and a city that starts at the floor.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pytest
from oracle import MUTANTS, simulate_oracle

import xinyong
from xinyong.scenario import validate_scenario

SEEDS = range(8)
Z = 4.0


def _variant(
    name: str, *, negative: float = 1.0, positive: float = 1.0, severe: float = 1.0, **fields: Any
) -> xinyong.Scenario:
    """The reference scenario with probabilities scaled (by sign, severe apart) and fields set."""
    d = xinyong.load_scenario("reference").model_dump()
    d["name"] = name
    for b in d["behaviours"]:
        factor = severe if b["severe"] else (negative if b["points"] < 0 else positive)
        b["p"] = min(1.0, b["p"] * factor)
    misidentify = fields.pop("misidentify", None)
    if misidentify is not None:  # every sensor that can err errs this often
        for sensor in d["sensors"].values():
            if sensor["misidentify"] > 0:
                sensor["misidentify"] = misidentify
    overrides = fields.pop("p", {})  # behaviour name -> probability, set as is
    for b in d["behaviours"]:
        b["p"] = overrides.get(b["name"], b["p"])
    d.update(fields)
    return validate_scenario(d, source=f"oracle variant {name}")


def _grades(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"grade": g, "min": m} for g, m in pairs]


_SMALL_SCALE = {
    "score": {"start": 100, "floor": 0, "ceiling": 130},
    "grades": _grades(("AAA", 120), ("AA", 110), ("A", 100), ("B", 70), ("C", 0)),
}

# name -> (scenario, days of the daily series to compare)
VARIANTS: dict[str, tuple[xinyong.Scenario, list[int]]] = {
    # The reference rules as they are, in a small city.
    "reference": (
        xinyong.load_scenario("reference").with_sizes(citizens=1000, days=100),
        [9, 49, 99],
    ),
    # Listing at the floor and by severe events, releases after a short term, many wrong
    # listings, and a listed response that lets listed citizens recover.
    "stressed": (
        _variant(
            "stressed",
            negative=10,
            positive=10,
            severe=30,
            citizens=800,
            days=150,
            **_SMALL_SCALE,
            listed_response={"negative": 0.3, "positive": 3.0},
            listing={"min_days": 10, "release_min_score": 30, "at_floor": True},
            misidentify=0.2,
        ),
        [9, 49, 149],
    ),
    # Listing by severe events only (at_floor false), release from the next day (min_days 0)
    # once the score reaches 105, listed citizens stop misbehaving, and probabilities that hit
    # the cap of 1 (recycling at 0.3 / c, times 5 while listed).
    "no_floor": (
        _variant(
            "no_floor",
            negative=5,
            positive=10,
            severe=200,
            citizens=600,
            days=100,
            **_SMALL_SCALE,
            conduct_lognormal_sigma=1.0,
            listed_response={"negative": 0.0, "positive": 5.0},
            listing={"min_days": 0, "release_min_score": 105, "at_floor": False},
            misidentify=0.2,
            p={"recycling": 0.3},
        ),
        [0, 9, 99],
    ),
    # Everyone starts at the floor, so whoever stays there on day 0 is listed, and nobody
    # listed on day 0 can be released before day 20.
    "floor_start": (
        _variant(
            "floor_start",
            negative=5,
            positive=10,
            severe=10,
            citizens=600,
            days=100,
            score={"start": 0, "floor": 0, "ceiling": 60},
            grades=_grades(("AAA", 40), ("AA", 30), ("A", 20), ("B", 10), ("C", 0)),
            listed_response={"negative": 0.5, "positive": 2.0},
            listing={"min_days": 20, "release_min_score": 15, "at_floor": True},
            misidentify=0.2,
        ),
        [0, 19, 20, 99],
    ),
}
STRESSED = ["stressed", "no_floor", "floor_start"]

# Figures are shares or rates, with a floor of 0.001 on the tolerance; mean scores are in
# points, with a floor of 0.1 point.


def _figures(
    summary: dict[str, Any], daily: dict[str, list[float]], variant: str
) -> dict[str, float]:
    n, days = summary["citizens"], summary["days"]
    out = {
        "mean_score": summary["mean_score"],
        "listed_share": summary["listed_share"],
        "ever_listed_share": summary["ever_listed_share"],
        "counterfactual_listed_share": summary["counterfactual_listed_share"],
        "occurred_per_citizen_day": summary["events_occurred"] / (n * days),
        "recorded_per_citizen_day": summary["events_recorded"] / (n * days),
        "misattributed_per_citizen_day": summary["events_misattributed"] / (n * days),
        "wrongly_listed_share": summary["wrongly_listed"] / n,
    }
    for grade, share in summary["grade_shares"].items():
        out[f"share_{grade}"] = share
    for day in VARIANTS[variant][1]:
        out[f"day{day}_mean_score"] = daily["mean_score"][day]
        out[f"day{day}_listed_share"] = daily["listed"][day] / n
    return out


@cache
def _samples(variant: str) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Figures of every seed, from the engine and from the oracle."""
    scenario = VARIANTS[variant][0]
    engine, oracle = [], []
    for seed in SEEDS:
        run = xinyong.simulate(scenario, seed=seed)
        try:
            daily = run.daily
            engine.append(
                _figures(
                    run.summary,
                    {"mean_score": list(daily["mean_score"]), "listed": list(daily["listed"])},
                    variant,
                )
            )
        finally:
            run.close()
        result = simulate_oracle(scenario, seed)
        oracle.append(_figures(result, result["daily"], variant))
    return engine, oracle


def _mean_se(values: list[float]) -> tuple[float, float]:
    m = sum(values) / len(values)
    var = sum((v - m) ** 2 for v in values) / (len(values) - 1)
    return m, math.sqrt(var / len(values))


def compare(variant: str, figure: str) -> tuple[float, float, float]:
    """(engine mean, oracle mean, tolerance) of one figure over the seeds."""
    engine, oracle = _samples(variant)
    m_e, se_e = _mean_se([f[figure] for f in engine])
    m_o, se_o = _mean_se([f[figure] for f in oracle])
    floor = 0.1 if figure.endswith("mean_score") else 1e-3
    tolerance = Z * math.hypot(se_e, se_o) + floor
    return m_e, m_o, tolerance


def _figure_names(variant: str) -> list[str]:
    scenario, days = VARIANTS[variant]
    names = [
        "mean_score",
        "listed_share",
        "ever_listed_share",
        "counterfactual_listed_share",
        "occurred_per_citizen_day",
        "recorded_per_citizen_day",
        "misattributed_per_citizen_day",
        "wrongly_listed_share",
    ]
    names += [f"share_{g}" for g in scenario.grade_names()]
    for day in days:
        names += [f"day{day}_mean_score", f"day{day}_listed_share"]
    return names


@pytest.mark.parametrize(
    ("variant", "figure"), [(v, f) for v in VARIANTS for f in _figure_names(v)]
)
def test_engine_matches_oracle(variant: str, figure: str) -> None:
    m_e, m_o, tolerance = compare(variant, figure)
    assert abs(m_e - m_o) <= tolerance, (
        f"{variant}: {figure} engine {m_e:.6g} vs oracle {m_o:.6g} "
        f"(difference {m_e - m_o:+.3g}, tolerance {tolerance:.3g})"
    )


@pytest.mark.parametrize("variant", STRESSED)
@pytest.mark.parametrize("side", [0, 1], ids=["engine", "oracle"])
def test_stressed_variants_exercise_the_rules(variant: str, side: int) -> None:
    runs = _samples(variant)[side]
    for f in runs:
        assert f["listed_share"] > 0.05, "too few listed to compare listings"
        assert f["ever_listed_share"] > f["listed_share"] + 0.05, "too few releases"
        assert f["wrongly_listed_share"] > 0, "nobody wrongly listed"
        assert f["misattributed_per_citizen_day"] > 0


def test_release_term_starts_on_day_20_in_floor_start() -> None:
    """Nobody listed on day 0 goes before day 20, then many go at once (min_days = 20)."""
    for runs in _samples("floor_start"):
        for f in runs:
            assert f["day19_listed_share"] > 0.85
            assert f["day20_listed_share"] < f["day19_listed_share"] - 0.02


#: Where each deliberately broken oracle should be caught (a variant that exercises its rule).
MUTANT_VARIANTS = {
    "conduct_swapped": "stressed",
    "early_release": "floor_start",
    "no_clamp": "stressed",
    "drops_misattributed": "floor_start",
    "severe_ignored": "no_floor",
}


@pytest.mark.parametrize("mutant", MUTANTS)
def test_the_comparison_flags_a_broken_oracle(mutant: str) -> None:
    """The comparison is only worth something if it fails for a wrong rule: every mutant of
    the oracle differs from the engine beyond the tolerance on some figure."""
    variant = MUTANT_VARIANTS[mutant]
    engine = _samples(variant)[0]
    broken = []
    for seed in range(4):
        result = simulate_oracle(VARIANTS[variant][0], seed, mutant)
        broken.append(_figures(result, result["daily"], variant))
    flagged = []
    for figure in _figure_names(variant):
        m_e, se_e = _mean_se([f[figure] for f in engine])
        m_o, se_o = _mean_se([f[figure] for f in broken])
        floor = 0.1 if figure.endswith("mean_score") else 1e-3
        if abs(m_e - m_o) > Z * math.hypot(se_e, se_o) + floor:
            flagged.append(figure)
    assert flagged, f"the mutant '{mutant}' passed every comparison"
