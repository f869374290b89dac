"""What a simulated day leaves behind, as plain data: the day's result and what its
consequences hand to the response. They sit below the model, which fills them, and the engine
and the records, which read them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Acted", "DayResult"]


@dataclass(frozen=True, slots=True)
class DayResult:
    """What one day did, over the city's own subjects (a block's, in a split run).

    Attributes:
        day: the day.
        occurred: behaviours done (every kind of subject).
        recorded: events recorded about own subjects, false reports included.
        misattributed: recorded events credited to someone who did not do them.
        fabricated: false reports filed by collectors.
        listed: subjects who joined a scheme listing or a list, summed over operators.
        left: subjects who left one, summed over operators.
        refused: citizens refused at a gate.
        responded: citizens whose behaviour was drawn again after a response.
    """

    day: int
    occurred: int
    recorded: int
    misattributed: int
    fabricated: int
    listed: int
    left: int
    refused: int
    responded: int


@dataclass(frozen=True, slots=True)
class Acted:
    """What the day's consequences leave for the response: the citizens whose listings
    flipped, those who joined or left a blacklist, and those a gate refused."""

    toggled: list[np.ndarray]
    flipped: np.ndarray
    refused: np.ndarray
