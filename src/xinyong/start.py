"""Where each subject starts under a scheme: the base, an offset by income band, and records.

Fuzhou's Jasmine score is "500 base + up to 500 from records" (credit.fuzhou.gov.cn): a city
that starts scoring its residents already holds their records, so a resident starts from the
base plus what those records are worth, not from the base alone. The share of the maximum a
resident's records earn is drawn once, keyed by the resident's city-wide id (stream
``start/<operator>``), so a block of a split run draws exactly what the whole city draws.
"""

from __future__ import annotations

import numpy as np

from xinyong.scenario import Scheme
from xinyong.streams import SETUP, Streams

__all__ = ["starting_scores"]


def starting_scores(scheme: Scheme, operator: str, streams: Streams, ids: np.ndarray,
                    conduct: np.ndarray, income_offset: np.ndarray | None = None
                    ) -> np.ndarray | None:
    """Each subject's starting score, or None when everyone starts at the base.

    Args:
        scheme: the scheme.
        operator: the operator running it (names the stream of the records' draws).
        streams: the run's random streams.
        ids: the subjects' city-wide ids.
        conduct: their conduct factors (1 = average; higher does more harm).
        income_offset: points added by income band, per subject, if the scheme has them.

    Returns:
        Starting scores (points, clipped to the scale), or None.
    """
    records = scheme.start_records
    if records is None and income_offset is None:
        return None
    start = np.full(ids.size, scheme.score.start, dtype=np.int64)
    if income_offset is not None:
        start += income_offset
    if records is not None:
        z = streams.normal(f"start/{operator}", SETUP, ids)
        logit = records.logit_mean + records.logit_sd * z - np.log(conduct)
        share = 1.0 / (1.0 + np.exp(-logit))
        start += np.round(records.max * share).astype(np.int64)
    return np.clip(start, scheme.score.floor, scheme.score.ceiling)
