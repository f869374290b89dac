"""What people do and what records it: the behaviours of a scenario, the sensors that
observe them and the information collectors a sensor may rely on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from xinyong.scenario.base import DailyProbability, Probability, _Model

__all__ = [
    "Behaviour",
    "Collectors",
    "Sensor",
]


class Collectors(_Model):
    """Information collectors: trusted residents paid to log their neighbours' deeds [000, 003].

    One collector watches a neighbourhood. A collector behind its quota for the period files
    false reports (events nobody did) at a higher daily rate.
    """

    coverage: Probability = Field(default=1.0, description="share of neighbourhoods watched")
    quota: int = Field(ge=0, description="reports expected per period")
    period_days: int = Field(default=30, ge=1)
    false_report_rate: DailyProbability = Field(
        default=0.0, description="chance per collector per day of a false report, on pace"
    )
    behind_false_report_rate: DailyProbability = Field(
        default=0.0, description="the same chance while behind quota"
    )
    source: str | None = None


class Sensor(_Model):
    """A data source: the chance it records an occurrence, and the chance it blames another.

    Cameras may cover districts unevenly (``coverage``, one share per district); a collector
    sensor detects only in watched neighbourhoods.
    """

    detect: Probability
    misidentify: Probability
    coverage: list[Probability] | None = Field(
        default=None, description="share of each district covered (needs a population)"
    )
    collectors: Collectors | None = None
    source: str | None = None


class Behaviour(_Model):
    """Something a citizen (or company) may do on a day, and the sensor that sees it.

    In a single-scheme scenario (like ``reference``) a behaviour carries its points; in a
    scenario with operators, each operator's scheme gives the points.
    """

    name: str = Field(min_length=1)
    p: DailyProbability = Field(description="probability per subject per day, at conduct 1")
    sensor: str
    points: int | None = Field(default=None, description="points in a single-scheme scenario")
    severe: bool = Field(default=False, description="one recorded event lists the subject")
    subject: Literal["citizen", "company"] = "citizen"
    min_age: int = Field(default=0, ge=0, description="youngest citizen who can do it (years)")
    max_age: int = Field(default=200, ge=0, description="oldest citizen who can do it (years)")
    harmful: bool | None = Field(
        default=None,
        description="penalised (scaled by c) or rewarded (by 1/c); defaults to "
        "the sign of points, and must be given with operators",
    )
    expression: bool = Field(
        default=False,
        description="speech, protest or another expression of opinion: a fall in it is "
        "speech chilled, and the chilling plot shows it apart",
    )
    who_share: Probability = Field(
        default=1.0,
        description="share of subjects able to do it, drawn once per subject (e.g. public figures)",
    )
    source: str | None = None
