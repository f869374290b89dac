"""Where each subject starts under a scheme: the base, an offset by income band, and records.

This is the one place that computes a starting score; the city, the response on day 0, the
live city and the stored standings (which ``explain`` and the ledger's replay read) all take
it from here, so they cannot disagree on where a score starts or how it is clipped.

Fuzhou's Jasmine score is "500 base + up to 500 from records" (credit.fuzhou.gov.cn): a city
that starts scoring its residents already holds their records, so a resident starts from the
base plus what those records are worth, not from the base alone. The share of the maximum a
resident's records earn is drawn once, keyed by the resident's city-wide id (stream
``start/<operator>``), so a block of a split run draws exactly what the whole city draws.
"""

from __future__ import annotations

import numpy as np

from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import Operator, Scenario, Scheme

__all__ = ["starting_scores", "starts_vary"]


def starts_vary(scheme: Scheme) -> bool:
    """Whether subjects can start at different scores under ``scheme`` (by income band, or
    from records); if not, every subject starts at ``scheme.score.start``."""
    return bool(scheme.start_by_income) or scheme.start_records is not None


def starting_scores(
    scenario: Scenario,
    operator: Operator,
    streams: Streams,
    ids: np.ndarray,
    conduct: np.ndarray,
    income_band: np.ndarray | None,
) -> np.ndarray | None:
    """Each subject's starting score under one operator's scheme, or None when everyone
    starts at the scheme's base (``scheme.score.start``, which validation keeps on the scale).

    Args:
        scenario: the scenario (its population names the income bands).
        operator: the operator and its scheme (its name names the stream of the records'
            draws).
        streams: the run's random streams.
        ids: the subjects' city-wide ids.
        conduct: their conduct factors (1 = average; higher does more harm).
        income_band: each subject's income band (index into the population's
            ``income_bands``), or None when subjects have none (no population).

    Returns:
        Starting scores (points), clipped once, here, to the scheme's scale; or None.
    """
    scheme, offset = operator.scheme, None
    if scheme.start_by_income and income_band is not None and scenario.population is not None:
        by_band = np.array(
            [scheme.start_by_income.get(b, 0) for b in scenario.population.income_bands],
            dtype=np.int64,
        )
        offset = by_band[income_band]
    records = scheme.start_records
    if records is None and offset is None:
        return None
    start = np.full(ids.size, scheme.score.start, dtype=np.int64)
    if offset is not None:
        start += offset
    if records is not None:
        z = streams.normal(f"start/{operator.name}", SETUP, ids)
        logit = records.logit_mean + records.logit_sd * z - np.log(conduct)
        share = 1.0 / (1.0 + np.exp(-logit))
        start += np.round(records.max * share).astype(np.int64)
    return np.clip(start, scheme.score.floor, scheme.score.ceiling)
