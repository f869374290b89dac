"""What the system does to people and organisations: the services that check it, the joint
rewards and sanctions they apply, and the public notices.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from xinyong.primitives.codes import NOTICE_KINDS, GateAction
from xinyong.scenario.base import Probability, _Model

__all__ = [
    "REMEMBERING_SERVICES",
    "Consequences",
    "NoticeRule",
    "OrgRule",
    "OrgService",
    "SanctionRule",
    "Service",
]


#: The most services whose refusals a scenario remembers (``after_refusal`` other than 1) at
#: once or over its timeline: a citizen's memory holds a bit per such service, and the uses'
#: rates read a table with a row per combination of bits (2**12 rows by the services).
REMEMBERING_SERVICES = 12

#: What a rule can make a service do: every gate action but allow, strongest first.
_RULE_ACTIONS = tuple(a.label for a in reversed(GateAction) if a != GateAction.ALLOW)
Action = Literal[_RULE_ACTIONS]  # type: ignore[valid-type]  # codes' tuple: pydantic reads it


class Service(_Model):
    """A service that checks the system at the point of service [E1]."""

    name: str = Field(min_length=1)
    title: str = Field(description="what is asked for, e.g. 'a train ticket'")
    min_age: int = Field(default=18, ge=0)
    max_age: int = Field(default=200, ge=0)
    uses_per_year: float = Field(ge=0.0, le=365.0, description="how often a citizen asks")
    by_income: dict[str, float] = Field(
        default={},
        description="how often each income band asks, relative to the others (the average "
        "citizen still asks uses_per_year times); default: all alike",
    )
    who_share: Probability = Field(
        default=1.0,
        description="share of citizens who ask at all (drawn once per citizen); they ask "
        "uses_per_year / who_share times a year, so the average is unchanged: travel is "
        "concentrated in few travellers, and only they meet the gate",
    )
    checked_share: Probability = Field(
        default=1.0,
        description="share of uses the system is checked for (the tickets a restriction "
        "covers: G-series seats, say); the rest are sold unchecked",
    )
    after_refusal: float = Field(
        default=1.0,
        ge=0.0,
        le=20.0,
        description="how often a citizen refused here asks again here, against before, for "
        "refusal_memory_days after their latest refusal here (1: as before; below 1 they learn "
        "not to ask, above 1 they try again, and each try is refused again); each service "
        "remembers its own refusals: other services' rates do not change",
    )
    refusal_memory_days: int = Field(
        default=730,
        ge=1,
        description="how long a refusal here changes how often the citizen asks here",
    )
    source: str | None = None

    @field_validator("by_income")
    @classmethod
    def _relative_rates(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v < 0 for v in value.values()) or (value and sum(value.values()) <= 0):
            raise ValueError("relative rates must be non-negative and not all zero")
        return value


class SanctionRule(_Model):
    """One row of the joint rewards and sanctions table [E2]: a service acting on a status.

    Exactly one condition is given: ``blacklisted`` (any blacklist or scheme listing),
    ``on_list`` (a named list of any operator), ``red`` (a named red list), ``grades`` or
    ``min_score`` (under ``operator``, or under every operator running ``scheme``; default the
    first citizen operator), ``parent_blacklisted`` (a child whose household has a blacklisted
    adult [S2]) or ``parent_red`` (a child whose parent is on a named red list [003, 004]).

    A rule names ``scheme`` to act wherever that scheme runs: in a nation each city's residents
    meet their own city's perks; where no operator runs the scheme the rule is idle. Grades and
    scores count only for the residents the operator covers.
    """

    service: str
    action: Action
    what: str = Field(description="the consequence in words, e.g. 'no train tickets'")
    blacklisted: bool = False
    on_list: str | None = None
    red: str | None = None
    grades: list[str] | None = None
    min_score: int | None = Field(default=None, description="a score of at least this")
    operator: str | None = None
    scheme: str | None = Field(default=None, description="every operator running this scheme")
    parent_blacklisted: bool = False
    parent_red: str | None = Field(default=None, description="a parent on this red list")
    company_blacklisted: bool = Field(
        default=False,
        description="the legal representative of a blacklisted organisation "
        "(restricted in person: SPC consumption limits)",
    )
    source: str | None = None


class OrgService(_Model):
    """A service an organisation asks for, which checks the system [S1]: a public tender, a
    bank loan, a subsidy, a licence, market access, a bond issue."""

    name: str = Field(min_length=1)
    title: str = Field(description="what is asked for, e.g. 'a public tender'")
    uses_per_year: float = Field(ge=0.0, le=365.0, description="how often an organisation asks")
    source: str | None = None


class OrgRule(_Model):
    """One row of the joint table for organisations: a service acting on an organisation's
    corporate standing or its legal representative's.

    Exactly one condition is given: ``blacklisted`` (on any organisation list or listing),
    ``grades`` (under ``operator``, default the first company operator), ``rep_on_list`` (its
    legal representative on a named citizen list, e.g. the dishonest debtors) or
    ``rep_blacklisted`` (its legal representative on any citizen blacklist).
    """

    service: str
    action: Action
    what: str = Field(description="the consequence in words, e.g. 'no public tenders'")
    blacklisted: bool = False
    grades: list[str] | None = None
    operator: str | None = None
    scheme: str | None = Field(
        default=None,
        description="grades under every operator running this scheme (idle where none does)",
    )
    rep_on_list: str | None = None
    rep_blacklisted: bool = False
    source: str | None = None


class NoticeRule(_Model):
    """A public notice about a synthetic citizen: shaming, posters, the dial tone [E2]."""

    kind: Literal[NOTICE_KINDS]  # type: ignore[valid-type]  # codes' tuple: pydantic reads it
    behaviour: str | None = Field(default=None, description="events of this behaviour...")
    sensor: str | None = Field(default=None, description="...caught by this sensor")
    on_list: str | None = Field(default=None, description="joining this list ('*' any)")
    red: str | None = Field(default=None, description="joining this red list")
    source: str | None = None


class Consequences(_Model):
    """The joint rewards and sanctions: services, the rules they apply, the notices.

    A table for citizens has ``services`` and ``rules``; one for organisations only (the
    corporate scenario's) has ``org_services`` and ``org_rules``; a city's has both. A pack
    may ``include`` other packs, whose tables are added to its own (read when the scenario
    is loaded).
    """

    name: str = Field(min_length=1)
    about: str = ""
    services: list[Service] = Field(default=[], description="services citizens ask for")
    rules: list[SanctionRule] = Field(default=[], description="the rules they apply")
    notices: list[NoticeRule] = []  # noqa: RUF012  # pydantic copies it per instance
    org_services: list[OrgService] = Field(default=[], description="services organisations ask for")
    org_rules: list[OrgRule] = Field(default=[], description="the rules they apply")
    billboard_minors: bool = Field(
        default=True,
        description="billboards show citizens under 18 caught on camera (the "
        "reports exclude no one; false leaves them out)",
    )
    source: str | None = None
