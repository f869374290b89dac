"""How people respond to the system: a listed citizen's changed conduct, the responses to
grades, refusals, listed kin and contacts, and the self-censorship of dissent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from xinyong.scenario.base import Probability, _Model

__all__ = [
    "Dissent",
    "ListedResponse",
    "Response",
]


class ListedResponse(_Model):
    """How a listed citizen's daily probabilities change: a multiplier per sign of points."""

    negative: float = Field(ge=0.0)
    positive: float = Field(ge=0.0)
    source: str | None = None


class Dissent(_Model):
    """Dissent and self-censorship (Daymude, Axelrod & Forrest, PNAS 2025; xinyong.model.dissent):
    citizens express the share of their desired ``behaviour`` that is their best answer to the
    punishment, and do it that much less often."""

    behaviour: str
    punishment: Literal["uniform", "proportional"]
    severity: float = Field(
        ge=0.0, description="the fixed penalty, or the penalty per unit of dissent above tolerance"
    )
    tolerance: Probability = Field(default=0.0, description="dissent let pass unpunished")
    source: str | None = None


class Response(_Model):
    """How citizens respond to the system [E3]: multipliers on penalised behaviours (and their
    inverses on rewarded ones), by what a citizen meets. 1 means no response."""

    grade: dict[str, Annotated[float, Field(gt=0.0)]] = Field(
        default={}, description="by own grade (first operator)"
    )
    sanction_met: float = Field(default=1.0, gt=0.0, description="after being refused")
    memory_days: int = Field(default=90, ge=1, description="how long a refusal is remembered")
    household_listed: float = Field(
        default=1.0, gt=0.0, description="while someone at home is blacklisted"
    )
    neighbourhood_listed: float = Field(
        default=1.0, gt=0.0, description="while many in the neighbourhood are blacklisted"
    )
    neighbourhood_share: float = Field(
        default=0.02, ge=0.0, le=1.0, description="the blacklisted share that counts as many"
    )
    contact_listed: float = Field(
        default=1.0,
        gt=0.0,
        description="while a friend or workmate is blacklisted (needs a network)",
    )
    dissent: Dissent | None = Field(default=None, description="self-censorship of dissent")
    near_perk: float = Field(
        default=1.0,
        gt=0.0,
        description="within near_perk_points below a perk's score: "
        "penalised acts scaled by this, rewarded by its inverse",
    )
    near_perk_points: int = Field(default=20, ge=0, description="how near counts (points)")
    source: str | None = None
