"""What a city keeps per citizen: a budget, checked on the layout, not on a clock."""

from __future__ import annotations

import numpy as np

import xinyong
from xinyong.city import City
from xinyong.memory import state_bytes


def test_the_reference_rules_keep_at_most_64_bytes_per_citizen() -> None:
    scenario = xinyong.load_scenario("reference").with_sizes(citizens=200_000, days=365)
    city = City(scenario, 0, None, threads=False)  # as a one-core worker holds it
    for _ in range(30):
        city.step()
    per_citizen = state_bytes(city) / scenario.citizens
    assert 40 < per_citizen <= 64, per_citizen


def test_state_bytes_counts_a_shared_buffer_once() -> None:
    column = np.zeros(1000, dtype=np.int64)
    holder = {"a": column, "b": column[10:], "c": [column[:5]]}
    assert state_bytes(holder) == column.nbytes
