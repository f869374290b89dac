"""Sensitivity designs through SALib: its samplers make the points, its analysers the indices.

Nothing here is hand-written: Latin hypercube, Morris (elementary effects) and Sobol (Saltelli's
scheme, first-order and total indices) are SALib's own, so an experiment's indices are exactly
the ones SALib gives for the same points and outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["analyze", "sample"]


def sample(kind: str, problem: dict[str, Any], samples: int, levels: int, seed: int) -> np.ndarray:
    """The points of a sampled design, one row per point, one column per factor.

    Args:
        kind: ``latin-hypercube``, ``morris`` or ``sobol``.
        problem: SALib's problem (``num_vars``, ``names``, ``bounds``).
        samples: points (latin-hypercube), trajectories (morris) or base samples (sobol:
            a power of 2 is best).
        levels: morris: the levels of its grid.
        seed: the sampler's seed.
    """
    if kind == "latin-hypercube":
        from SALib.sample import latin

        return latin.sample(problem, samples, seed=seed)
    if kind == "morris":
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    if kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    raise ValueError(f"no sampler for design '{kind}'")


def analyze(
    kind: str,
    problem: dict[str, Any],
    points: np.ndarray,
    outputs: np.ndarray,
    levels: int,
    seed: int,
) -> pd.DataFrame:
    """One row per factor: Morris's mu_star (with its interval), mu and sigma, or Sobol's S1
    and ST (with theirs).

    Args:
        kind: ``morris`` or ``sobol``.
        problem: SALib's problem.
        points: the sampled points, in the order sampled.
        outputs: the metric at each point (the mean over the experiment's seeds).
        levels: morris: the levels the points were sampled on.
        seed: the seed of the bootstrap behind the intervals.
    """
    y = np.asarray(outputs, dtype=float)
    if kind == "morris":
        from SALib.analyze import morris

        r = morris.analyze(problem, points, y, num_levels=levels, seed=seed)
        columns = ("mu_star", "mu_star_conf", "mu", "sigma")
    elif kind == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
        columns = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        raise ValueError(f"design '{kind}' has no sensitivity indices")
    return pd.DataFrame(
        {"factor": problem["names"], **{c: np.asarray(r[c], dtype=float) for c in columns}}
    )
