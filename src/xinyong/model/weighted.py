"""Weighted categories: checking a list of weights and drawing categories from uniforms.

The population draws many categorical values from weight lists (household types, numbers of
children, income bands, employers); these two helpers are shared by :mod:`families
<xinyong.model.families>`, :mod:`employers <xinyong.model.employers>` and
:mod:`population <xinyong.model.population>`, so they live on their own. They consume no
random numbers themselves: the caller draws the uniforms from its keyed stream.
"""

from __future__ import annotations

import numpy as np

__all__ = ["categorical", "checked_weights"]


def checked_weights(name: str, values: list[float]) -> np.ndarray:
    """Check a list of non-negative weights with a positive total, as float64.

    Args:
        name: what the weights are, for the error message.
        values: the weights.

    Raises:
        ValueError: if the list is empty, or a weight is negative or not finite, or they sum
            to zero.
    """
    w = np.asarray(values, dtype=np.float64)
    if w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(
            f"{name} = {values}: weights must be finite, non-negative and have a positive total"
        )
    return w


def categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Map uniforms in (0, 1) to category indices with the given weights (inverse CDF).

    Only categories of positive weight can come out, even at the rounding edge of the CDF.
    """
    positive = np.flatnonzero(weights > 0)
    cum = np.cumsum(weights[positive])
    return positive[np.searchsorted(cum[:-1], u * cum[-1], side="right")]
