"""The difference an arm makes, with its interval: paired by seed, and as if unpaired.

Arms of one seed share their random numbers (every draw is addressed by seed, stream, day and
citizen), so the difference between two arms on the same seed leaves out most of the noise that
two independent runs differ by. The paired interval is Student's t on the per-seed differences;
the unpaired one is Welch's, on the same runs taken as independent samples; the ratio of their
squared standard errors is what pairing saves: the variance-reduction factor.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Effect", "paired_effect"]


@dataclass(frozen=True)
class Effect:
    """An arm against the baseline on one metric.

    Attributes:
        mean_diff: the mean over seeds of (arm - baseline).
        lo, hi: its paired interval (Student's t on the per-seed differences).
        unpaired_lo, unpaired_hi: Welch's interval, as if the runs were independent.
        variance_reduction: unpaired over paired squared standard error (inf when every seed
            gives the same difference; NaN when neither varies).
    """

    mean_diff: float
    lo: float
    hi: float
    unpaired_lo: float
    unpaired_hi: float
    variance_reduction: float

    def as_dict(self) -> dict[str, float]:
        """The fields as a dict."""
        return asdict(self)


def paired_effect(arm: np.ndarray, baseline: np.ndarray, confidence: float = 0.95) -> Effect:
    """The effect of an arm from its values and the baseline's, seed by seed.

    Args:
        arm: the metric in each seed's run of the arm.
        baseline: the metric in the same seeds' runs of the baseline, in the same order.
        confidence: the intervals' level.

    Returns:
        The mean difference and its intervals; with one seed, the intervals are NaN.
    """
    a = np.asarray(arm, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError("give the arm's and the baseline's values for the same seeds")
    d = a - b
    mean = float(d.mean())
    nan = float("nan")
    if a.size < 2:
        return Effect(mean, nan, nan, nan, nan, nan)
    var_d = float(d.var(ddof=1))
    var_u = float(a.var(ddof=1) + b.var(ddof=1))
    from scipy import stats  # here: importing scipy.stats takes a second

    with warnings.catch_warnings():  # nearly equal values: scipy warns, the figures stand
        warnings.simplefilter("ignore", RuntimeWarning)
        if var_d == 0.0:  # every seed gives the same difference: so does the interval
            lo = hi = mean
        else:
            lo, hi = (float(x) for x in stats.ttest_rel(a, b).confidence_interval(confidence))
        if var_u == 0.0:
            ulo = uhi = mean
        else:
            ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
            ulo, uhi = float(ci.low), float(ci.high)
    reduction = var_u / var_d if var_d > 0.0 else float("inf") if var_u > 0.0 else nan
    return Effect(mean, lo, hi, ulo, uhi, reduction)
