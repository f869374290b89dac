"""Who runs the schemes: operators (a city, a ministry, a payment provider), the authority
that reviews their records, and the sharing platform that passes records between them.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from xinyong.scenario.base import Probability, _Model
from xinyong.scenario.schemes import Scheme

__all__ = [
    "Assessment",
    "Operator",
    "SharingRule",
]


class Assessment(_Model):
    """An authority reviewing recorded events before they count [004]."""

    review: Probability = Field(description="share of events reviewed")
    catch: Probability = Field(description="chance a reviewed wrong event is dismissed")
    wrongly_dismiss: Probability = Field(description="chance a reviewed true event is dismissed")
    source: str | None = None


class Operator(_Model):
    """Who runs a scheme: a city, a ministry, a payment provider [001]."""

    name: str = Field(min_length=1)
    scheme: Scheme
    reads: list[str] | None = Field(default=None, description="sensors it reads (default all)")
    assessment: Assessment | None = None
    districts: list[int] | None = Field(
        default=None,
        description="the districts whose residents it scores (a city in a "
        "nation); default everywhere",
    )
    source: str | None = None


class SharingRule(_Model):
    """The sharing platform passes what one operator records to another [001]."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    behaviours: list[str] | None = Field(default=None, description="default: everything")
    source: str | None = None
