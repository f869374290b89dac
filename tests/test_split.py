"""A city simulated in blocks gives exactly what the city simulated whole gives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import consequence_city

import xinyong
from xinyong.city import City
from xinyong.split import SplitCity, blocks


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
    whole = City(scenario, 7, None).run()
    merged = SplitCity(scenario, 7, count).run()  # the blocks folded back into one city
    merged_columns = _columns(merged)
    for name, (column, _) in _columns(whole).items():
        assert np.array_equal(merged_columns[name][0], column), name
    assert np.array_equal(merged.occurred_by_behaviour, whole.occurred_by_behaviour)
    assert merged.totals == whole.totals
    if whole.effects is not None and whole.effects.gates is not None:
        assert np.array_equal(merged.effects.decisions, whole.effects.decisions)


def test_blocks_follow_neighbourhoods() -> None:
    scenario = consequence_city(citizens=5000, days=2)
    cut = blocks(scenario, 1, 3)
    assert cut[0].lo == 0 and cut[-1].hi == 5000
    assert all(a.hi == b.lo for a, b in itertools.pairwise(cut))
    pop = City(scenario, 1, None).population
    for b in cut[1:]:
        assert pop.neighbourhood[b.lo] != pop.neighbourhood[b.lo - 1]


@pytest.mark.parametrize("name", ["consequences", "reference"])
def test_a_split_run_stores_the_same_run(name: str) -> None:
    scenario = consequence_city(citizens=3000, days=50) if name == "consequences" else \
        xinyong.load_scenario("reference").with_sizes(citizens=3000, days=50)
    runs = [xinyong.simulate(scenario, seed=5, blocks=b) for b in (1, 2, 4)]
    try:
        first = runs[0]
        drop = {"wall_seconds"}
        for other in runs[1:]:
            assert {k: v for k, v in other.summary.items() if k not in drop} == \
                {k: v for k, v in first.summary.items() if k not in drop}
            assert other.daily.equals(first.daily)
            for table, order in (("ledger", "day, operator, subject, actor, behaviour"),
                                 ("listings", "day, operator, subject, counterfactual, change"),
                                 ("standings", "operator, subject")):
                sql = f"SELECT * FROM {table} ORDER BY {order}"
                assert other.query(sql).equals(first.query(sql)), table
    finally:
        for r in runs:
            r.close()
