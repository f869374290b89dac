"""A dated change to a scenario's rules: one entry of its timeline (see
:mod:`xinyong.scenario.timeline`); and a lever, a path a slider may change while the city runs
(``xinyong explore``), each move a change of the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, model_validator

from xinyong.scenario.base import _Model

__all__ = ["Change", "Lever"]


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


class Lever(_Model):
    """A field a slider may change while the city runs (``xinyong explore``, the notebook's
    ``xinyong.widgets.explore``): every move is a change of the run's timeline, from that day.
    """

    path: str = Field(min_length=1, description="the field, as --set names it")
    min: float = Field(description="the slider's least value")
    max: float = Field(description="the slider's greatest value")
    step: float | None = Field(default=None, gt=0, description="the slider's step")
    what: str = Field(default="", description="the lever in words (default: its path)")

    @model_validator(mode="after")
    def _a_range(self) -> Lever:
        if not self.min < self.max:
            raise ValueError(f"min = {self.min} must be below max = {self.max}")
        return self
