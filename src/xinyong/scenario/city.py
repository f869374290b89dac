"""The city: how its synthetic people are built (districts, households, incomes, employers),
their social network, and the :class:`Scenario` that holds a whole city.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, ValidationError, field_validator, model_validator

from xinyong.scenario.base import _Model
from xinyong.scenario.behaviours import Behaviour, Sensor
from xinyong.scenario.change import Change, Lever
from xinyong.scenario.consequences import Consequences
from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.operators import Operator, SharingRule
from xinyong.scenario.published import RecordSpec
from xinyong.scenario.response import ListedResponse, Response
from xinyong.scenario.schemes import Grade, ListingRule, PointRule, Scheme, ScoreScale

__all__ = [
    "HouseholdMix",
    "NetworkSpec",
    "PopulationSpec",
    "Scenario",
]


class NetworkSpec(_Model):
    """The social circle [S2: 004]: household, workmates, and friends in the neighbourhood."""

    friends: int = Field(default=3, ge=0, le=50, description="friends each citizen names")
    source: str | None = None


class HouseholdMix(_Model):
    """Shares of household types; they are normalised, so any positive weights will do.

    Defaults are an assumption shaped like a Chinese county-level city: mostly couples with a
    child, many three-generation homes, few people living alone.
    """

    single: float = Field(default=0.12, ge=0.0, description="one adult")
    couple: float = Field(default=0.16, ge=0.0, description="two adults")
    couple_children: float = Field(default=0.34, ge=0.0, description="two parents, children")
    single_parent: float = Field(default=0.05, ge=0.0, description="one parent, children")
    three_generations: float = Field(
        default=0.20, ge=0.0, description="two parents, children, one or two elderly"
    )
    elderly: float = Field(default=0.13, ge=0.0, description="one or two people aged 65+")

    @model_validator(mode="after")
    def _some_household(self) -> HouseholdMix:
        if not any(getattr(self, name) > 0 for name in type(self).model_fields):
            raise ValueError(
                "every household type has weight 0, so no household could be made: give at "
                "least one of them a positive weight"
            )
        return self


class PopulationSpec(_Model):
    """How the synthetic city is built: districts, households, incomes, employers.

    Every default is a modelling assumption, documented here and in ``xinyong scenarios``.
    """

    districts: int = Field(
        default=12, ge=1, le=32_767, description="districts (towns, streets); ids are 16-bit"
    )
    neighbourhood_size: int = Field(
        default=1000, ge=1, description="residents per neighbourhood (a collector's beat)"
    )
    households: HouseholdMix = HouseholdMix()
    children_weights: list[float] = Field(
        default=[0.62, 0.33, 0.05],
        min_length=1,
        description="weights of 1, 2, 3... children in a family with children",
    )
    income_bands: dict[str, float] = Field(
        default={"low": 0.3, "middle": 0.5, "high": 0.2},
        min_length=1,
        description="shares of citizens by income band, lowest first",
    )
    employment_rate: float = Field(
        default=0.75, ge=0.0, le=1.0, description="share of adults aged 18-64 with an employer"
    )
    companies_per_1000: float = Field(
        default=20.0, ge=0.0, le=1000.0, description="private companies per 1,000 residents"
    )
    government_orgs: int = Field(
        default=20, ge=0, le=1_000_000, description="government organisations"
    )
    government_share: float = Field(
        default=0.12, ge=0.0, le=1.0, description="share of employees working for government"
    )
    source: str | None = None

    @field_validator("children_weights")
    @classmethod
    def _weights_are_shares(cls, value: list[float]) -> list[float]:
        if any(w < 0 for w in value) or sum(value) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return value

    @field_validator("income_bands")
    @classmethod
    def _bands_are_shares(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("shares must be non-negative and not all zero")
        return value


class Scenario(_Model):
    """A whole city: its people, its sensors, its behaviours and the schemes that score them.

    A single-scheme scenario (the reference city) gives ``score``, ``grades``, ``listed_grade``,
    ``listing`` and each behaviour's ``points`` at the top level; a scenario with several
    schemes lists ``operators`` instead.
    """

    name: str = Field(min_length=1)
    about: str = ""
    citizens: int = Field(gt=0, le=2**31 - 1)  # ids are 32-bit
    days: int = Field(gt=0, le=100 * 365)
    population: PopulationSpec | None = Field(
        default=None, description="households, districts and employers; none in the reference"
    )
    conduct_lognormal_sigma: float = Field(ge=0.0)
    listed_response: ListedResponse
    sensors: dict[str, Sensor] = Field(min_length=1)
    behaviours: list[Behaviour] = Field(min_length=1)
    score: ScoreScale | None = None
    grades: list[Grade] | None = None
    listed_grade: str | None = None
    listing: ListingRule | None = None
    operators: list[Operator] = []  # noqa: RUF012  # pydantic copies it per instance
    sharing: list[SharingRule] = []  # noqa: RUF012  # pydantic copies it per instance
    network: NetworkSpec | None = Field(
        default=None, description="friends and workmates (needs a population)"
    )
    consequences: Consequences | None = Field(
        default=None, description="joint rewards and sanctions: a pack name or a table"
    )
    response: Response | None = Field(default=None, description="how citizens respond")
    start: dt.date | None = Field(
        default=None, description="the calendar date of the first day (dates in the timeline)"
    )
    timeline: list[Change] = Field(
        default=[], description="dated changes to the rules, each from its day on"
    )
    record: RecordSpec | None = Field(
        default=None, description="how the run meets a published record (xinyong validate)"
    )
    levers: list[Lever] = Field(
        default=[],
        description="the fields sliders may change while the city runs (xinyong explore)",
    )
    warm_start: bool = Field(
        default=False,
        description="start the blacklists at the steady state of their own process, each "
        "opening listing with the event that made it (a city in the middle of its lists' "
        "lives); default: empty lists",
    )
    sources: dict[str, str] = Field(
        default={},
        description="the source of each value at the top level (citizens, days, "
        "conduct_lognormal_sigma, listed_grade), as tables name theirs in 'source'",
    )

    def with_sizes(self, citizens: int | None = None, days: int | None = None) -> Scenario:
        """Return a copy with another population size or horizon, validated again."""
        update = {k: v for k, v in {"citizens": citizens, "days": days}.items() if v is not None}
        try:  # no consistency rule reads the sizes: their own bounds are all to check
            return Scenario.model_validate({**self.model_dump(by_alias=True), **update})
        except ValidationError as exc:
            raise ScenarioError(
                "\n".join(
                    f"scenario '{self.name} (sizes)', {'.'.join(map(str, e['loc']))} = "
                    f"{e['input']!r}: {e['msg'].lower()}"
                    for e in exc.errors()
                )
            ) from None

    def all_operators(self) -> list[Operator]:
        """The operators, with a single-scheme scenario's scheme as one operator, ``city``."""
        if self.operators:
            return list(self.operators)
        assert self.score and self.grades and self.listed_grade, "validated scenario"
        scheme = Scheme(
            name=self.name,
            subject="citizen",
            score=self.score,
            grades=self.grades,
            listed_grade=self.listed_grade,
            listing=self.listing,
            points=[
                PointRule(behaviour=b.name, points=b.points or 0, severe=b.severe, source=b.source)
                for b in self.behaviours
            ],
            source=self.sources.get("listed_grade"),
        )
        return [Operator(name="city", scheme=scheme, source=self.sources.get("listed_grade"))]

    def grade_names(self) -> list[str]:
        """The first operator's grades, best first, ending with its listed grade."""
        return self.all_operators()[0].scheme.grade_names()

    def is_harmful(self, behaviour: Behaviour) -> bool:
        """Whether a behaviour is penalised (done more by high-conduct-factor citizens)."""
        if behaviour.harmful is not None:
            return behaviour.harmful
        return (behaviour.points or 0) < 0
