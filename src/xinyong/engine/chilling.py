"""The chilling effect with its uncertainty: each behaviour's count in the city against its
behaviour-only twin (same seed, nothing acting on people), and a 95 % interval on the change.

Given the two counts, the number in the city is binomial with probability
``rate / (rate + twin rate)`` (the conditional test for two Poisson counts over the same
citizen-days), so an exact Clopper-Pearson interval on that share is an interval on the rate
ratio, and on the change ``ratio - 1``. The twin shares the city's random numbers, so the two
counts are positively correlated and this interval is conservative (wider than it needs to be).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["RARE", "chilling_detail", "chilling_text"]

RARE = 100  # events in city and twin together below which a change is shown as counts


def chilling_detail(
    names: Sequence[str], with_: np.ndarray, without: np.ndarray, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """Per behaviour (done in the twin at least once): counts, change and its interval.

    Args:
        names: the behaviours, in the scenario's order.
        with_: occurrences of each behaviour in the city.
        without: occurrences of each in the twin where nothing acts on people.
        confidence: the interval's level.

    Returns:
        name → ``{"with", "without", "change", "lo", "hi"}``: the counts, the change in rate
        (``with / without - 1``, as the summary's ``chilling``) and its interval.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, w, wo in zip(names, with_, without, strict=True):
        w, wo = int(w), int(wo)
        if wo <= 0:
            continue
        low, high = _clopper_pearson(w, w + wo, confidence)
        out[name] = {
            "with": w,
            "without": wo,
            "change": round(w / wo - 1.0, 4),
            "lo": round(_odds(low) - 1.0, 4),
            "hi": round(_odds(high) - 1.0, 4),
        }
    return out


def _odds(share: float) -> float:
    """The rate ratio whose share of the two counts is ``share``."""
    return share / (1.0 - share) if share < 1.0 else float("inf")


def chilling_text(row: dict[str, Any]) -> str:
    """One behaviour's change in the city against its twin: a percentage with its interval,
    or, for a rare one (fewer than :data:`RARE` events in the two), the interval alone."""
    interval = f"[{row['lo']:+.1%}, {row['hi']:+.1%}]"
    if row["with"] + row["without"] < RARE:
        return f"rare: {interval}"
    return f"{row['change']:+.1%} {interval}"


def _clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval of a binomial proportion ``k / n``: the one
    ``scipy.stats.binomtest(k, n).proportion_ci(method="exact")`` gives, from the inverse
    regularised incomplete beta function (``scipy.special``, a third of ``scipy.stats``'
    import time, paid by every run)."""
    from scipy.special import betaincinv

    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return low, high
