"""Why a score differs from its error-free score: every point of the difference, by cause,
read from the ledger alone.

The real score is its start plus the counted rows recorded against the subject, clamped at the
end of each day; the error-free score is the same start plus every row the subject really did
(wherever it was recorded, false reports and appeals left out), clamped the same way. So the
difference between them is a sum over the rows in which the two disagree, each in one cause,
plus what the floor or ceiling took from one and not from the other:

==================  =====================================================================
cause               rows (points counted with the sign they move score − error-free)
==================  =====================================================================
misattributed       recorded against the subject and counted; someone else did it (+)
fabricated          a collector's false report against the subject, counted (+)
wrongly_dismissed   what the subject did, recorded against it, dismissed on review (−)
blamed_on_others    what the subject did, recorded against another scored subject (−)
unscored            what the subject did, misattributed to someone the scheme does not
                    score: a child, a resident of another city (−)
bounds              points the error-free score lost at the floor or ceiling, less those
                    the real score lost there
==================  =====================================================================

Sharing between operators and citizens' responses add no cause of their own: a shared event
reaches an operator as a row of its ledger like any other (misattributed or not at its
sensor), and a response changes what people do, in the real city and the error-free books
alike. :func:`account` does it for every subject at once (a whole run's test) or for one
(``explain``): the same code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xinyong.primitives.codes import FLAG_COLUMNS, NOT_COUNTED, LedgerFlag
from xinyong.records.ledger import replay
from xinyong.scenario import ScoreScale

__all__ = ["CAUSES", "account"]

#: Each cause of a difference, in words (``{who}``: "this citizen", say).
CAUSES: dict[str, str] = {
    "misattributed": "recorded against {who} by mistake: someone else did it",
    "fabricated": "false reports against {who}: nobody did it",
    "wrongly_dismissed": "what {who} did, dismissed on review by mistake",
    "blamed_on_others": "what {who} did, recorded against someone else",
    "unscored": "what {who} did, misattributed to someone the scheme does not score",
    "bounds": "points one score lost at the floor or ceiling and the other did not",
}


def _flag(rows: pd.DataFrame, flag: LedgerFlag) -> np.ndarray:
    """A flag's column of ledger rows (False where the run was stored before the flag)."""
    column = FLAG_COLUMNS[flag]
    if column in rows:
        return rows[column].to_numpy(dtype=bool)
    return np.zeros(len(rows), dtype=bool)


def _books(
    rows: pd.DataFrame, covered: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, int]]]:
    """Which rows each book counts (the real one for their subject, the error-free one for
    their actor), and each event cause: its rows, whom they count for, and the sign with
    which they move score − error-free score."""
    who, actor = rows["subject"].to_numpy(), rows["actor"].to_numpy()
    flags = {f: _flag(rows, f) for f in LedgerFlag}
    real = ~np.logical_or.reduce([flags[f] for f in LedgerFlag if f & NOT_COUNTED])
    fabricated, unscored = flags[LedgerFlag.FABRICATED], flags[LedgerFlag.UNSCORED]
    true = ~fabricated & ~flags[LedgerFlag.REVERSED] & (actor >= 0)
    if covered is not None:  # the error-free books score only those the scheme covers
        true &= np.asarray(covered, bool)[np.where(actor >= 0, actor, 0)]
    same = who == actor  # a row both books count for the same subject cancels out
    causes = {
        "misattributed": (real & ~fabricated & ~same, who, 1),
        "fabricated": (real & fabricated, who, 1),
        "wrongly_dismissed": (true & same & flags[LedgerFlag.DISMISSED], actor, -1),
        "blamed_on_others": (true & ~same & ~unscored, actor, -1),
        "unscored": (true & ~same & unscored, actor, -1),
    }
    return real, true, causes


def account(
    scale: ScoreScale,
    rows: pd.DataFrame,
    size: int,
    start: np.ndarray | None = None,
    covered: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every subject's score and error-free score replayed from ledger rows, and the points of
    the difference by cause.

    Args:
        scale: the scheme's scale (start, floor, ceiling).
        rows: one operator's ledger rows (``day``, ``subject``, ``actor``, ``points`` and the
            ``ledger`` view's flag columns): all of them, or every row whose subject or actor
            is a subject asked about.
        size: how many subjects the scheme has (ids 0 to ``size`` - 1).
        start: each subject's starting score, where they differ from the scale's start.
        covered: which subjects the scheme scores (None: all); the others keep their start,
            real and error-free.

    Returns:
        One row per subject (index: its id): ``score``, ``counterfactual_score``, one column
        of points per cause in :data:`CAUSES` (``score - counterfactual_score`` is their sum)
        and, per event cause, ``<cause>_events``: how many rows it holds.
    """
    day, who = rows["day"].to_numpy(), rows["subject"].to_numpy()
    actor, points = rows["actor"].to_numpy(), rows["points"].to_numpy(np.int64)
    real, true, causes = _books(rows, covered)
    begin = np.full(size, scale.start, np.int64) if start is None else np.asarray(start)
    score = replay(scale, size, day[real], who[real], points[real], begin)
    error_free = replay(scale, size, day[true], actor[true], points[true], begin)

    def total(mask: np.ndarray, by: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(by[mask], weights=w, minlength=size).astype(np.int64)

    out: dict[str, np.ndarray] = {"score": score, "counterfactual_score": error_free}
    for cause, (mask, by, sign) in causes.items():
        out[cause] = sign * total(mask, by, points)
        out[f"{cause}_events"] = total(mask, by, None)
    # What the bounds took from each book: its points less its change over the run.
    lost_real = total(real, who, points) - (score - begin)
    lost_error_free = total(true, actor, points) - (error_free - begin)
    out["bounds"] = lost_error_free - lost_real
    return pd.DataFrame(out)
