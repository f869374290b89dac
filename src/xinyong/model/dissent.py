"""Dissent and self-censorship, after Daymude, Axelrod & Forrest (PNAS 2025).

Each citizen has a desired dissent ``d`` in [0, 1] and a boldness ``b`` > 0, and expresses
``a`` in [0, d], weighing what self-censoring costs them, ``b * (d - a)**2``, against the
punishment ``pi(a)`` above the authority's tolerance ``t``:

- uniform punishment: ``pi(a) = severity`` for any ``a > t``. A citizen either complies
  (``a = min(d, t)``) or defies, expressing all of ``d``, whichever costs less; draconian
  severity (above every ``b * (d - t)**2``) makes everyone comply, and with ``t = 0`` silences
  everyone.
- proportional punishment: ``pi(a) = severity * (a - t)`` above ``t``. The best answer is
  ``a = d - severity / (2 b)``, kept within ``[min(d, t), d]``: citizens self-censor part of
  their dissent, and small dissent survives.

These are the paper's two qualitative results; the functional forms are this model's
(assumption). Desire and boldness are per citizen: desire a keyed uniform draw (stream
``dissent/desire``), boldness the conduct factor (who does more harm dares more; assumption).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from xinyong.primitives.streams import SETUP, Streams

__all__ = ["desired_dissent", "expressed_dissent"]


def desired_dissent(streams: Streams, ids: np.ndarray) -> np.ndarray:
    """Each citizen's desired dissent in (0, 1), keyed by city-wide id."""
    return streams.uniform("dissent/desire", SETUP, ids)


def expressed_dissent(
    desire: np.ndarray,
    boldness: np.ndarray,
    punishment: Literal["uniform", "proportional"],
    severity: float,
    tolerance: float = 0.0,
) -> np.ndarray:
    """The dissent each citizen expresses, their best answer to the punishment.

    Args:
        desire: desired dissent per citizen, in [0, 1].
        boldness: weight each puts on saying what they think (> 0).
        punishment: "uniform" (a fixed penalty for any dissent above tolerance) or
            "proportional" (a penalty growing with the dissent above tolerance).
        severity: the fixed penalty, or the penalty per unit of dissent above tolerance.
        tolerance: the dissent the authority lets pass unpunished.

    Returns:
        Expressed dissent per citizen, in ``[0, desire]``.
    """
    comply = np.minimum(desire, tolerance)
    if punishment == "uniform":
        censoring = boldness * (desire - comply) ** 2  # what complying costs
        return np.where(censoring > severity, desire, comply)
    if punishment == "proportional":
        best = desire - severity / (2.0 * boldness)
        return np.clip(best, comply, desire)
    raise ValueError(f"punishment '{punishment}': choose 'uniform' or 'proportional'")
