"""The synthetic population: who the citizens are.

For the reference city a citizen is only an index and a conduct factor ``c``, drawn from a
log-normal with mu 0 and sigma ``conduct_lognormal_sigma``: c > 1 does more of what is penalised
and less of what is rewarded. Every citizen is synthetic; nothing here reads data about people.
"""

from __future__ import annotations

import numpy as np

from xinyong.scenario import Scenario
from xinyong.streams import SETUP, Streams

__all__ = ["conduct_factors"]


def conduct_factors(scenario: Scenario, streams: Streams, citizens: np.ndarray | None = None
                    ) -> np.ndarray:
    """Each citizen's conduct factor, a pure function of the seed and the citizen id.

    Args:
        scenario: gives ``conduct_lognormal_sigma``.
        streams: the run's random streams.
        citizens: ids to draw for (default: everyone), so a block of a split run draws alone.
    """
    ids = np.arange(scenario.citizens) if citizens is None else citizens
    return np.exp(scenario.conduct_lognormal_sigma * streams.normal("conduct", SETUP, ids))
