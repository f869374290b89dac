"""A city simulated in blocks gives exactly what the city simulated whole gives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import consequence_city

import xinyong
from xinyong.city import City
from xinyong.split import SplitCity, blocks


def _whole(parts: SplitCity, get: object) -> np.ndarray:
    """A per-subject column of a split run, each block's own slice put together."""
    out = []
    for city, block in zip(parts.cities, parts.blocks, strict=True):
        column, kind = get(city)  # type: ignore[operator]
        lo, hi = (block.lo, block.hi) if kind == "citizen" else (block.org_lo, block.org_hi)
        out.append(column[lo:hi])
    return np.concatenate(out)


def _columns(city: City) -> dict[str, tuple]:
    cols = {}
    for op in city.operators:
        for name in ("score", "listed", "listing_day", "ever_listed"):
            cols[f"{op.name}.{name}"] = (getattr(op.standing, name), op.subject)
            cols[f"{op.name}.cf.{name}"] = (getattr(op.counterfactual, name), op.subject)
        for lst in op.lists.lists:
            for name in ("member", "since", "until"):
                cols[f"{op.name}.{lst.spec.name}.{name}"] = (getattr(lst, name), op.subject)
    if city.effects is not None and city.effects.children_affected.size:
        cols["children_affected"] = (city.effects.children_affected, "citizen")
    return cols


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("scenario", [
    consequence_city(citizens=4000, days=80),
    xinyong.load_scenario("reference").with_sizes(citizens=3000, days=60),
], ids=["consequence-city", "reference"])
def test_split_runs_are_bit_identical(scenario: xinyong.Scenario, count: int) -> None:
    whole = City(scenario, 7, None)
    whole.run()
    parts = SplitCity(scenario, 7, count)
    parts.run()
    for name, (column, _) in _columns(whole).items():
        split = _whole(parts, lambda c, n=name: _columns(c)[n])
        assert np.array_equal(split, column), name
    assert np.array_equal(sum(c.occurred_by_behaviour for c in parts.cities),
                          whole.occurred_by_behaviour)
    for key in whole.totals:
        assert sum(c.totals[key] for c in parts.cities) == whole.totals[key], key
    if whole.effects is not None and whole.effects.gates is not None:
        assert np.array_equal(sum(c.effects.decisions for c in parts.cities),
                              whole.effects.decisions)


def test_blocks_follow_neighbourhoods() -> None:
    scenario = consequence_city(citizens=5000, days=2)
    cut = blocks(scenario, 1, 3)
    assert cut[0].lo == 0 and cut[-1].hi == 5000
    assert all(a.hi == b.lo for a, b in itertools.pairwise(cut))
    pop = City(scenario, 1, None).population
    for b in cut[1:]:
        assert pop.neighbourhood[b.lo] != pop.neighbourhood[b.lo - 1]
