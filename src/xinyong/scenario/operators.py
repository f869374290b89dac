"""Who runs the schemes: operators (a city, a ministry, a payment provider), the authority
that reviews their records, and the sharing platform that passes records between them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

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
    national_lists: list[str] = Field(
        default=[],
        description="lists of its scheme that a national operator keeps instead: not kept "
        "here, so each person holds one membership, which services read by its name",
    )

    @model_validator(mode="before")
    @classmethod
    def _leave_national_lists(cls, data: Any) -> Any:
        """Drop from the scheme the lists a national operator keeps (one membership each)."""
        if not isinstance(data, dict) or not data.get("national_lists"):
            return data
        scheme, names = data.get("scheme"), data["national_lists"]
        if isinstance(scheme, dict) and isinstance(scheme.get("lists"), list):
            kept = [
                lst
                for lst in scheme["lists"]
                if not (isinstance(lst, dict) and lst.get("name") in names)
            ]
            data = {**data, "scheme": {**scheme, "lists": kept}}
        return data


class SharingRule(_Model):
    """The sharing platform passes what one operator records to another [001]."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    behaviours: list[str] | None = Field(default=None, description="default: everything")
    source: str | None = None
