"""The base every scenario model shares, ``_Model`` (unknown fields refused, frozen, no NaN),
and the probability field types, whose errors suggest the likely slip (a yearly rate, a
percentage).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = ["DailyProbability", "Probability"]


def _daily_probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        hint = " did you mean a rate per year? Divide by 365." if value > 1 else ""
        raise ValueError(f"a daily probability must be in [0, 1];{hint}")
    return value


def _probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        hint = " did you mean a percentage? Divide by 100." if 1 < value <= 100 else ""
        raise ValueError(f"a probability must be in [0, 1];{hint}")
    return value


DailyProbability = Annotated[float, AfterValidator(_daily_probability)]
Probability = Annotated[float, AfterValidator(_probability)]


class _Model(BaseModel):
    """Strict, immutable base: unknown fields are errors, so a typo never passes silently;
    NaN and infinities are not numbers of a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
