"""A dated change to a scenario's rules: one entry of its timeline (see
:mod:`xinyong.scenario.timeline`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, model_validator

from xinyong.scenario.base import _Model

__all__ = ["Change"]


class Change(_Model):
    """A dated change to the scenario's rules."""

    day: int | None = Field(default=None, ge=0, description="the day it takes effect (0: first)")
    date: dt.date | None = Field(default=None, description="... or its date (needs `start`)")
    set: dict[str, Any] = Field(min_length=1, description="path -> value, as --set")
    what: str = Field(min_length=1, description="the change in words")
    source: str | None = None

    @model_validator(mode="after")
    def _one_day(self) -> Change:
        if (self.day is None) == (self.date is None):
            raise ValueError("give the change's day or its date, one of the two")
        return self
