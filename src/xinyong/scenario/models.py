"""Scenarios as data: the pydantic models of a city's scheme, and loading them from TOML or JSON.

A scenario holds everything a run needs besides its seed: the score scale, the grade table,
the behaviours and the sensors that observe them, the listing rules and how listed citizens
respond. Built-in scenarios live beside this file as ``scenarios/<name>.toml``.

Every problem with a file is reported as a :class:`ScenarioError` whose message names the file,
the field, the value and what is allowed, never as a traceback.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from xinyong.codes import NOTICE_KINDS, GateAction

__all__ = [
    "Assessment",
    "Behaviour",
    "Collectors",
    "Consequences",
    "ContactsPull",
    "DisclosureTier",
    "Dissent",
    "Escalation",
    "Grade",
    "GradeOverride",
    "HouseholdMix",
    "ListSpec",
    "ListedResponse",
    "ListingRule",
    "NetworkSpec",
    "NoticeRule",
    "Operator",
    "OrgRule",
    "OrgService",
    "PointRule",
    "PopulationSpec",
    "Response",
    "SanctionRule",
    "Scenario",
    "ScenarioError",
    "Scheme",
    "ScoreScale",
    "Sensor",
    "Service",
    "SharingRule",
    "StartRecords",
    "builtin_packs",
    "builtin_scenarios",
    "load_pack",
    "load_scenario",
    "validate_scenario",
]


class ScenarioError(ValueError):
    """A scenario file or value that cannot be used, with a message that says how to fix it."""


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


class ScoreScale(_Model):
    """Where scores start and the bounds they are clamped to (points)."""

    start: int
    floor: int
    ceiling: int
    source: str | None = None


class Grade(_Model):
    """One row of the grade table: a score of at least ``min`` points earns ``grade``."""

    grade: str = Field(min_length=1)
    min: int
    source: str | None = None


class ListedResponse(_Model):
    """How a listed citizen's daily probabilities change: a multiplier per sign of points."""

    negative: float = Field(ge=0.0)
    positive: float = Field(ge=0.0)
    source: str | None = None


class ListingRule(_Model):
    """When a subject is listed and released."""

    min_days: int = Field(ge=0, description="days a listing lasts at least")
    release_min_score: int = Field(description="score needed to be released (points)")
    at_floor: bool = Field(description="list subjects whose score is at the floor")
    source: str | None = None


class Collectors(_Model):
    """Information collectors: trusted residents paid to log their neighbours' deeds [000, 003].

    One collector watches a neighbourhood. A collector behind its quota for the period files
    false reports (events nobody did) at a higher daily rate.
    """

    coverage: Probability = Field(default=1.0, description="share of neighbourhoods watched")
    quota: int = Field(ge=0, description="reports expected per period")
    period_days: int = Field(default=30, ge=1)
    false_report_rate: DailyProbability = Field(
        default=0.0, description="chance per collector per day of a false report, on pace")
    behind_false_report_rate: DailyProbability = Field(
        default=0.0, description="the same chance while behind quota")
    source: str | None = None


class Sensor(_Model):
    """A data source: the chance it records an occurrence, and the chance it blames another.

    Cameras may cover districts unevenly (``coverage``, one share per district); a collector
    sensor detects only in watched neighbourhoods.
    """

    detect: Probability
    misidentify: Probability
    coverage: list[Probability] | None = Field(
        default=None, description="share of each district covered (needs a population)")
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
        default=None, description="penalised (scaled by c) or rewarded (by 1/c); defaults to "
                                  "the sign of points, and must be given with operators")
    who_share: Probability = Field(
        default=1.0, description="share of subjects able to do it, drawn once per subject "
                                 "(e.g. public figures)")
    source: str | None = None


class PointRule(_Model):
    """The points a scheme gives one behaviour."""

    behaviour: str
    points: int
    severe: bool = Field(default=False, description="one counted event lists the subject")
    factor: str | None = Field(default=None, description="the score factor it belongs to")
    source: str | None = None


class GradeOverride(_Model):
    """A behaviour that caps the grade for a while, e.g. drunk driving: automatic C."""

    behaviour: str
    grade: str = Field(description="the best grade allowed while the cap lasts")
    days: int = Field(ge=1, description="how long the cap lasts after the event")
    source: str | None = None


class Escalation(_Model):
    """A falling subject is first warned, then counselled by officials, and only then listed
    [000]: "rewards first, punishment as supplement; warnings before punishment" (Rongcheng
    Measures art. 6)."""

    below: int = Field(description="score below which the escalation starts")
    counsel_after_days: int = Field(ge=0, description="warned, still below: counselled after")
    list_after_days: int = Field(ge=0, description="counselled, still below: listed after")
    source: str | None = None


class DisclosureTier(_Model):
    """A disclosure tier of a list (NDRC Order 58, 2023): the violations it holds, how long
    they stay published, and how soon credit repair may remove them."""

    name: str = Field(min_length=1)
    behaviours: list[str] = Field(min_length=1)
    min_days: int = Field(ge=0, description="credit repair possible after (days)")
    max_days: int = Field(ge=1, description="published for at most (days): the term")
    source: str | None = None


class ListSpec(_Model):
    """A blacklist or red list kept by an operator [L2-L4].

    A blacklist lists a subject for a counted event of one of its ``behaviours`` (specific
    violations) or, with ``escalation``, for a low score after warning and counselling. The term
    depends on the violation (2-5 years [003]) and is extended by repeat violations; credit
    repair removes a subject early once the repair period has passed and the score has recovered
    (NDRC Order 58, 2023). A red list holds subjects whose score reaches ``min_score``.
    """

    name: str = Field(min_length=1)
    title: str = Field(default="", description="how the list names its members, in reasons")
    kind: Literal["black", "red"] = "black"
    behaviours: list[str] = Field(default=[], description="violations that list the subject")
    terms: dict[str, int] = Field(default={}, description="term in days by violation")
    term_days: int = Field(default=730, ge=1, description="term for other triggers (days)")
    repeat_extension_days: int = Field(default=365, ge=0,
                                       description="added to the term by a repeat violation")
    escalation: Escalation | None = None
    min_score: int | None = Field(default=None, description="red list: score at least this")
    repair_after_days: int | None = Field(default=None, ge=0,
                                          description="credit repair possible after (days)")
    repair_min_score: int | None = Field(default=None,
                                         description="credit repair needs this score")
    max_term_days: int | None = Field(
        default=None, ge=1, description="a listing lasts at most this long from its first "
                                        "day, extensions included (days)")
    obligation_met_per_year: float | None = Field(
        default=None, ge=0.0, le=365.0,
        description="early removal: the yearly rate at which a listed debtor meets the "
                    "obligation (removed that day, whatever the term)")
    tiers: list[DisclosureTier] = Field(
        default=[], description="disclosure tiers: term and shortest wait before repair, by "
                                "violation")
    opening_share: Probability | None = Field(
        default=None, description="share of covered subjects on the list at day 0 (its "
                                  "stock when the run starts)")
    shared: bool = Field(default=True, description="published on the sharing platform")
    serious_share: dict[str, Probability] = Field(
        default={}, description="by violation, the share of counted events serious enough to "
                                "list directly (default all of them)")
    source: str | None = None


class StartRecords(_Model):
    """Where a resident starts when a scheme scores records it already holds (Fuzhou: "500
    base + up to 500 from records"): the base plus ``max`` times a share of good records.

    The share is ``sigmoid(logit_mean + logit_sd * z - log c)``, with ``z`` a keyed normal draw
    per resident and ``c`` the resident's conduct factor (who does more harm has fewer good
    records). How records spread over residents is not published: the shape is an assumption.
    """

    max: int = Field(ge=0, description="most points records can add to the base")
    logit_mean: float = Field(description="centre of the share of good records, on the logit "
                                          "scale (0: half the maximum)")
    logit_sd: float = Field(ge=0.0, description="spread of that share between residents")
    source: str | None = None


class ContactsPull(_Model):
    """Low-score contacts pull a score down (the "connections" factor of a consumer score):
    every ``every_days`` days, a covered subject whose ties score below ``below`` in at least
    ``share`` of cases is recorded doing ``behaviour``, which the scheme gives points. Idle in a
    city without a network."""

    behaviour: str
    below: int = Field(description="a contact scoring below this counts as low (points)")
    share: Probability = Field(description="share of one's ties that must be low")
    every_days: int = Field(default=30, ge=1, description="how often the circle is read")
    source: str | None = None


class Scheme(_Model):
    """One operator's rules: the scale, the grades, the listing rule and each behaviour's points.

    Built-in schemes live in ``packs/<name>.toml``, where every value names its source.
    """

    name: str = Field(min_length=1)
    about: str = ""
    subject: Literal["citizen", "company"] = "citizen"
    covers_min_age: int = Field(default=0, ge=0, description="youngest citizen scored (years)")
    score: ScoreScale
    start_by_income: dict[str, int] = Field(
        default={}, description="points added to the start by income band")
    start_records: StartRecords | None = Field(
        default=None, description="residents start from their records, not the base alone")
    contacts_pull: ContactsPull | None = Field(
        default=None, description="low-score contacts pull the score down (needs a network)")
    grades: list[Grade] = Field(min_length=1)
    listed_grade: str = Field(default="listed", min_length=1)
    listing: ListingRule | None = Field(default=None, description="no listing if absent")
    points: list[PointRule] = Field(min_length=1)
    overrides: list[GradeOverride] = []
    lists: list[ListSpec] = Field(default=[], description="blacklists and red lists")
    source: str | None = None

    def grade_names(self) -> list[str]:
        """All grades, best first, ending with the listed grade."""
        return [g.grade for g in self.grades] + [self.listed_grade]


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
        default=None, description="the districts whose residents it scores (a city in a "
                                  "nation); default everywhere")


class SharingRule(_Model):
    """The sharing platform passes what one operator records to another [001]."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    behaviours: list[str] | None = Field(default=None, description="default: everything")
    source: str | None = None


#: What a rule can make a service do: every gate action but allow, strongest first.
_RULE_ACTIONS = tuple(a.label for a in reversed(GateAction) if a != GateAction.ALLOW)
Action = Literal[_RULE_ACTIONS]  # type: ignore[valid-type]


class Service(_Model):
    """A service that checks the system at the point of service [E1]."""

    name: str = Field(min_length=1)
    title: str = Field(description="what is asked for, e.g. 'a train ticket'")
    min_age: int = Field(default=18, ge=0)
    max_age: int = Field(default=200, ge=0)
    uses_per_year: float = Field(ge=0.0, le=365.0, description="how often a citizen asks")
    source: str | None = None


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
        default=False, description="the legal representative of a blacklisted organisation "
                                   "(restricted in person: SPC consumption limits)")
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
    rep_on_list: str | None = None
    rep_blacklisted: bool = False
    source: str | None = None


class NoticeRule(_Model):
    """A public notice about a synthetic citizen: shaming, posters, the dial tone [E2]."""

    kind: Literal[NOTICE_KINDS]  # type: ignore[valid-type]
    behaviour: str | None = Field(default=None, description="events of this behaviour...")
    sensor: str | None = Field(default=None, description="...caught by this sensor")
    on_list: str | None = Field(default=None, description="joining this list ('*' any)")
    red: str | None = Field(default=None, description="joining this red list")
    source: str | None = None


class Consequences(_Model):
    """The joint rewards and sanctions: services, the rules they apply, the notices."""

    name: str = Field(min_length=1)
    about: str = ""
    services: list[Service] = Field(min_length=1)
    rules: list[SanctionRule] = Field(min_length=1)
    notices: list[NoticeRule] = []
    org_services: list[OrgService] = Field(default=[], description="services organisations "
                                                                   "ask for")
    org_rules: list[OrgRule] = Field(default=[], description="the rules they apply")
    billboard_minors: bool = Field(
        default=True, description="billboards show citizens under 18 caught on camera (the "
                                  "reports exclude no one; false leaves them out)")
    source: str | None = None


class Dissent(_Model):
    """Dissent and self-censorship (Daymude, Axelrod & Forrest, PNAS 2025; xinyong.dissent):
    citizens express the share of their desired ``behaviour`` that is their best answer to the
    punishment, and do it that much less often."""

    behaviour: str
    punishment: Literal["uniform", "proportional"]
    severity: float = Field(ge=0.0, description="the fixed penalty, or the penalty per unit of "
                                                "dissent above tolerance")
    tolerance: Probability = Field(default=0.0, description="dissent let pass unpunished")
    source: str | None = None


class Response(_Model):
    """How citizens respond to the system [E3]: multipliers on penalised behaviours (and their
    inverses on rewarded ones), by what a citizen meets. 1 means no response."""

    grade: dict[str, Annotated[float, Field(gt=0.0)]] = Field(
        default={}, description="by own grade (first operator)")
    sanction_met: float = Field(default=1.0, gt=0.0, description="after being refused")
    memory_days: int = Field(default=90, ge=1, description="how long a refusal is remembered")
    household_listed: float = Field(default=1.0, gt=0.0,
                                    description="while someone at home is blacklisted")
    neighbourhood_listed: float = Field(
        default=1.0, gt=0.0, description="while many in the neighbourhood are blacklisted")
    neighbourhood_share: float = Field(
        default=0.02, ge=0.0, le=1.0, description="the blacklisted share that counts as many")
    contact_listed: float = Field(
        default=1.0, gt=0.0, description="while a friend or workmate is blacklisted (needs a "
                                         "network)")
    dissent: Dissent | None = Field(default=None, description="self-censorship of dissent")
    near_perk: float = Field(
        default=1.0, gt=0.0, description="within near_perk_points below a perk's score: "
                                         "penalised acts scaled by this, rewarded by its inverse")
    near_perk_points: int = Field(default=20, ge=0, description="how near counts (points)")
    source: str | None = None


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
    three_generations: float = Field(default=0.20, ge=0.0,
                                     description="two parents, children, one or two elderly")
    elderly: float = Field(default=0.13, ge=0.0, description="one or two people aged 65+")


class PopulationSpec(_Model):
    """How the synthetic city is built: districts, households, incomes, employers.

    Every default is a modelling assumption, documented here and in ``xinyong scenarios``.
    """

    districts: int = Field(default=12, ge=1, description="districts (towns, streets)")
    neighbourhood_size: int = Field(default=1000, ge=1,
                                    description="residents per neighbourhood (a collector's "
                                                "beat)")
    households: HouseholdMix = HouseholdMix()
    children_weights: list[float] = Field(
        default=[0.62, 0.33, 0.05], min_length=1,
        description="weights of 1, 2, 3... children in a family with children")
    income_bands: dict[str, float] = Field(
        default={"low": 0.3, "middle": 0.5, "high": 0.2}, min_length=1,
        description="shares of citizens by income band, lowest first")
    employment_rate: float = Field(default=0.75, ge=0.0, le=1.0,
                                   description="share of adults aged 18-64 with an employer")
    companies_per_1000: float = Field(default=20.0, ge=0.0, le=1000.0,
                                      description="private companies per 1,000 residents")
    government_orgs: int = Field(default=20, ge=0, le=1_000_000,
                                 description="government organisations")
    government_share: float = Field(default=0.12, ge=0.0, le=1.0,
                                    description="share of employees working for government")

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
        default=None, description="households, districts and employers; none in the reference")
    conduct_lognormal_sigma: float = Field(ge=0.0)
    listed_response: ListedResponse
    sensors: dict[str, Sensor] = Field(min_length=1)
    behaviours: list[Behaviour] = Field(min_length=1)
    score: ScoreScale | None = None
    grades: list[Grade] | None = None
    listed_grade: str | None = None
    listing: ListingRule | None = None
    operators: list[Operator] = []
    sharing: list[SharingRule] = []
    network: NetworkSpec | None = Field(
        default=None, description="friends and workmates (needs a population)")
    consequences: Consequences | None = Field(
        default=None, description="joint rewards and sanctions: a pack name or a table")
    response: Response | None = Field(default=None, description="how citizens respond")

    def with_sizes(self, citizens: int | None = None, days: int | None = None) -> Scenario:
        """Return a copy with another population size or horizon, validated again."""
        update = {k: v for k, v in {"citizens": citizens, "days": days}.items() if v is not None}
        return validate_scenario({**self.model_dump(by_alias=True), **update},
                                 source=f"{self.name} (sizes)")

    def all_operators(self) -> list[Operator]:
        """The operators, with a single-scheme scenario's scheme as one operator, ``city``."""
        if self.operators:
            return list(self.operators)
        assert self.score and self.grades and self.listed_grade, "validated scenario"
        scheme = Scheme(
            name=self.name, subject="citizen", score=self.score, grades=self.grades,
            listed_grade=self.listed_grade, listing=self.listing,
            points=[PointRule(behaviour=b.name, points=b.points or 0, severe=b.severe)
                    for b in self.behaviours])
        return [Operator(name="city", scheme=scheme)]

    def grade_names(self) -> list[str]:
        """The first operator's grades, best first, ending with its listed grade."""
        return self.all_operators()[0].scheme.grade_names()

    def is_harmful(self, behaviour: Behaviour) -> bool:
        """Whether a behaviour is penalised (done more by high-conduct-factor citizens)."""
        if behaviour.harmful is not None:
            return behaviour.harmful
        return (behaviour.points or 0) < 0


Problem = tuple[str, Any, str]


def _close(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _scale_problems(where: str, score: ScoreScale, grades: list[Grade], listed_grade: str,
                    listing: ListingRule | None) -> list[Problem]:
    """Rules of a score scale and grade table; ``where`` prefixes the field paths."""
    problems: list[Problem] = []
    lo, hi = score.floor, score.ceiling
    if lo > hi:
        problems.append((f"{where}score.floor", lo,
                         f"the floor must not exceed the ceiling ({hi})"))
    if not lo <= score.start <= hi:
        problems.append((f"{where}score.start", score.start, f"scores start within [{lo}, {hi}]"))
    mins = [g.min for g in grades]
    for i in range(1, len(mins)):
        if mins[i] >= mins[i - 1]:
            problems.append((
                f"{where}grades[{i}].min", mins[i],
                f"grades go from best to worst with falling minimums; '{grades[i].grade}' "
                f"must start below '{grades[i - 1].grade}' ({mins[i - 1]})",
            ))
    if mins and mins[-1] > lo:
        problems.append((
            f"{where}grades[{len(mins) - 1}].min", mins[-1],
            f"a score at the floor ({lo}) would have no grade; lower the last grade's min to {lo}",
        ))
    names = [g.grade for g in grades]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((f"{where}grades[{i}].grade", name, "each grade name must be unique"))
    if listed_grade in names:
        problems.append((f"{where}listed_grade", listed_grade,
                         "the listed grade must differ from the score grades"))
    if listing and not lo <= listing.release_min_score <= hi:
        problems.append((f"{where}listing.release_min_score", listing.release_min_score,
                         f"must be a reachable score, within [{lo}, {hi}]"))
    return problems


def _scheme_problems(where: str, scheme: Scheme, behaviours: dict[str, Behaviour],
                     income_bands: list[str] | None) -> list[Problem]:
    problems = _scale_problems(where, scheme.score, scheme.grades, scheme.listed_grade,
                               scheme.listing)
    seen: set[str] = set()
    for i, rule in enumerate(scheme.points):
        if rule.behaviour in seen:
            problems.append((f"{where}points[{i}].behaviour", rule.behaviour,
                             "each behaviour is given points once"))
        seen.add(rule.behaviour)
        if rule.points == 0:
            problems.append((f"{where}points[{i}].points", 0, "points must be non-zero"))
        b = behaviours.get(rule.behaviour)
        if b is None:
            problems.append((f"{where}points[{i}].behaviour", rule.behaviour,
                             f"unknown behaviour{_close(rule.behaviour, list(behaviours))}; "
                             f"add it to the scenario's behaviours"))
        elif b.subject != scheme.subject:
            problems.append((f"{where}points[{i}].behaviour", rule.behaviour,
                             f"a {b.subject} behaviour cannot be scored by a {scheme.subject} "
                             f"scheme"))
    grades = [g.grade for g in scheme.grades]
    for i, o in enumerate(scheme.overrides):
        if o.grade not in grades:
            problems.append((f"{where}overrides[{i}].grade", o.grade,
                             f"unknown grade{_close(o.grade, grades)}; grades: "
                             f"{', '.join(grades)}"))
        if o.behaviour not in behaviours:
            problems.append((f"{where}overrides[{i}].behaviour", o.behaviour,
                             f"unknown behaviour{_close(o.behaviour, list(behaviours))}"))
    list_names: list[str] = []
    for i, lst in enumerate(scheme.lists):
        at = f"{where}lists[{i}]"
        if lst.name in list_names:
            problems.append((f"{at}.name", lst.name, "list names must be unique in a scheme"))
        list_names.append(lst.name)
        for b in lst.serious_share:
            if b not in lst.behaviours:
                problems.append((f"{at}.serious_share.{b}", b,
                                 f"not one of the list's behaviours "
                                 f"({', '.join(lst.behaviours) or 'none'}); add it there"))
        for j, b in enumerate([*lst.behaviours, *lst.terms]):
            if b not in behaviours:
                field = f"behaviours[{j}]" if j < len(lst.behaviours) else f"terms.{b}"
                problems.append((f"{at}.{field}", b,
                                 f"unknown behaviour{_close(b, list(behaviours))}"))
        if lst.kind == "red" and lst.min_score is None:
            problems.append((f"{at}.min_score", None, "a red list needs min_score"))
        if lst.kind == "black" and not (lst.behaviours or lst.escalation):
            problems.append((f"{at}.behaviours", [], "a blacklist needs behaviours that "
                                                     "trigger it, an escalation, or both"))
        if (lst.repair_after_days is None) != (lst.repair_min_score is None):
            problems.append((f"{at}.repair_min_score", lst.repair_min_score,
                             "credit repair needs both repair_after_days and repair_min_score"))
        for j, tier in enumerate(lst.tiers):
            for b in tier.behaviours:
                if b not in lst.behaviours:
                    problems.append((f"{at}.tiers[{j}].behaviours", b,
                                     f"not one of the list's behaviours "
                                     f"({', '.join(lst.behaviours) or 'none'}); add it there"))
            if tier.min_days > tier.max_days:
                problems.append((f"{at}.tiers[{j}].min_days", tier.min_days,
                                 f"repair cannot wait longer than the term ({tier.max_days})"))
        if lst.max_term_days is not None:
            longest = max([lst.term_days, *lst.terms.values(),
                           *(t.max_days for t in lst.tiers)])
            if longest > lst.max_term_days:
                problems.append((f"{at}.max_term_days", lst.max_term_days,
                                 f"shorter than the list's own longest term ({longest} days)"))
        if lst.opening_share and lst.kind != "black":
            problems.append((f"{at}.opening_share", lst.opening_share,
                             "only a blacklist starts with a stock; a red list fills itself "
                             "on day 0"))
    for band in scheme.start_by_income:
        if income_bands is None or band not in income_bands:
            problems.append((f"{where}start_by_income.{band}", band,
                             "unknown income band; the population defines: "
                             f"{', '.join(income_bands or ['(no population)'])}"))
    return problems


def _consequence_problems(s: Scenario, operators: list[str], behaviours: dict[str, Behaviour]
                          ) -> list[Problem]:
    c = s.consequences
    assert c is not None
    problems: list[Problem] = []
    services = [v.name for v in c.services]
    all_ops = s.all_operators()
    lists = {lst.name for op in all_ops for lst in op.scheme.lists}
    reds = {lst.name for op in all_ops for lst in op.scheme.lists if lst.kind == "red"}
    citizen_ops = [op for op in all_ops if op.scheme.subject == "citizen"]
    for i, rule in enumerate(c.rules):
        at = f"consequences.rules[{i}]"
        if rule.service not in services:
            problems.append((f"{at}.service", rule.service,
                             f"unknown service{_close(rule.service, services)}"))
        given = sum([rule.blacklisted, rule.on_list is not None, rule.red is not None,
                     rule.grades is not None, rule.min_score is not None,
                     rule.parent_blacklisted, rule.parent_red is not None,
                     rule.company_blacklisted])
        if given != 1:
            problems.append((at, rule.what, "give exactly one condition: blacklisted, on_list, "
                                            "red, grades, min_score, parent_blacklisted, "
                                            "parent_red or company_blacklisted"))
        if rule.parent_red is not None and rule.parent_red not in reds:
            problems.append((f"{at}.parent_red", rule.parent_red,
                             "no operator keeps this red list"))
        if rule.operator is not None and rule.scheme is not None:
            problems.append((f"{at}.scheme", rule.scheme,
                             "give operator or scheme, not both"))
        if rule.scheme is not None:
            if rule.grades is None and rule.min_score is None:
                problems.append((f"{at}.scheme", rule.scheme,
                                 "a scheme names whose grades or score a rule reads; give "
                                 "grades or min_score"))
            running = [o for o in citizen_ops if o.scheme.name == rule.scheme]
            if not running and rule.scheme not in builtin_packs():
                hint = _close(rule.scheme, sorted(builtin_packs()))
                problems.append((f"{at}.scheme", rule.scheme, f"unknown scheme{hint}"))
            for o in running:
                known = o.scheme.grade_names()
                for g in rule.grades or []:
                    if g not in known:
                        problems.append((f"{at}.grades", g, f"unknown grade under scheme "
                                                            f"'{rule.scheme}'{_close(g, known)}"))
            continue
        if rule.on_list is not None and rule.on_list not in lists:
            hint = _close(rule.on_list, sorted(lists))
            problems.append((f"{at}.on_list", rule.on_list,
                             f"no operator keeps this list{hint}"))
        if rule.red is not None and rule.red not in reds:
            problems.append((f"{at}.red", rule.red, "no operator keeps this red list"))
        if rule.grades is not None or rule.min_score is not None:
            op = next((o for o in citizen_ops if o.name == rule.operator), None) \
                if rule.operator else (citizen_ops[0] if citizen_ops else None)
            if op is None:
                hint = _close(rule.operator or "", operators)
                problems.append((f"{at}.operator", rule.operator,
                                 f"unknown citizen operator{hint}"))
            else:
                known = op.scheme.grade_names()
                for g in rule.grades or []:
                    if g not in known:
                        problems.append((f"{at}.grades", g, f"unknown grade under "
                                                            f"'{op.name}'{_close(g, known)}"))
    problems += _org_rule_problems(c, all_ops, lists)
    for i, notice in enumerate(c.notices):
        at = f"consequences.notices[{i}]"
        if notice.behaviour is not None and notice.behaviour not in behaviours:
            problems.append((f"{at}.behaviour", notice.behaviour, "unknown behaviour"))
        if notice.on_list not in (None, "*") and notice.on_list not in lists:
            problems.append((f"{at}.on_list", notice.on_list, "no operator keeps this list"))
        if notice.red is not None and notice.red not in reds:
            problems.append((f"{at}.red", notice.red, "no operator keeps this red list"))
    return problems


def _org_rule_problems(c: Consequences, all_ops: list[Operator], lists: set[str]
                       ) -> list[Problem]:
    """The organisations' rules: known services, one condition, grades a company scheme has."""
    problems: list[Problem] = []
    services = [v.name for v in c.org_services]
    company_ops = [op for op in all_ops if op.scheme.subject == "company"]
    for i, rule in enumerate(c.org_rules):
        at = f"consequences.org_rules[{i}]"
        if rule.service not in services:
            problems.append((f"{at}.service", rule.service,
                             f"unknown organisation service{_close(rule.service, services)}; "
                             f"add it to org_services"))
        given = sum([rule.blacklisted, rule.grades is not None, rule.rep_on_list is not None,
                     rule.rep_blacklisted])
        if given != 1:
            problems.append((at, rule.what, "give exactly one condition: blacklisted, grades, "
                                            "rep_on_list or rep_blacklisted"))
        if rule.rep_on_list is not None and rule.rep_on_list not in lists:
            hint = _close(rule.rep_on_list, sorted(lists))
            problems.append((f"{at}.rep_on_list", rule.rep_on_list,
                             f"no operator keeps this list{hint}"))
        if rule.grades is not None:
            op = next((o for o in company_ops if o.name == rule.operator), None) \
                if rule.operator else (company_ops[0] if company_ops else None)
            if op is None and rule.operator is not None:
                problems.append((f"{at}.operator", rule.operator,
                                 "unknown company operator; a grade rule for organisations "
                                 "needs an operator whose scheme scores companies"))
            elif op is not None:  # (no company scheme at all: organisations meet no gates)
                known = op.scheme.grade_names()
                problems += [(f"{at}.grades", g, f"unknown grade under '{op.name}'"
                                                 f"{_close(g, known)}")
                             for g in rule.grades if g not in known]
    return problems


def _network_problems(s: Scenario) -> list[Problem]:
    """The social circle needs a population; what acts through it needs the circle."""
    problems: list[Problem] = []
    if s.network is not None and s.population is None:
        problems.append(("network", s.network.friends, "a network is drawn over households "
                                                      "and neighbourhoods; add [population]"))
    if s.response is not None and s.response.contact_listed != 1.0 and s.network is None:
        problems.append(("response.contact_listed", s.response.contact_listed,
                         "a response to blacklisted contacts needs [network]"))
    names = [b.name for b in s.behaviours]
    if s.response is not None and s.response.dissent is not None \
            and s.response.dissent.behaviour not in names:
        problems.append(("response.dissent.behaviour", s.response.dissent.behaviour,
                         f"unknown behaviour{_close(s.response.dissent.behaviour, names)}"))
    for i, op in enumerate(s.operators):
        pull = op.scheme.contacts_pull
        if pull is None:
            continue
        at = f"operators[{i}].scheme.contacts_pull"  # (idle in a city without a network)
        if pull.behaviour not in {p.behaviour for p in op.scheme.points}:
            hint = _close(pull.behaviour, names)
            problems.append((f"{at}.behaviour", pull.behaviour,
                             f"give the behaviour points in the scheme{hint}"))
    return problems


def _consistency_problems(s: Scenario) -> list[Problem]:
    """Cross-field rules pydantic's per-field checks cannot see, as (field, value, reason)."""
    problems: list[Problem] = _network_problems(s)
    shorthand = {"score": s.score, "grades": s.grades, "listed_grade": s.listed_grade}
    if not s.operators:
        for field, value in shorthand.items():
            if value is None:
                problems.append((field, None, "this field is required in a scenario without "
                                              "operators (or list operators with schemes)"))
        if not problems:
            assert s.score and s.grades and s.listed_grade
            problems += _scale_problems("", s.score, s.grades, s.listed_grade, s.listing)
    else:
        for field, value in {**shorthand, "listing": s.listing}.items():
            if value is not None:
                problems.append((field, value, "a scenario with operators sets this in each "
                                               "operator's scheme; remove it here"))
    by_name: dict[str, Behaviour] = {}
    districts = s.population.districts if s.population else None
    for i, b in enumerate(s.behaviours):
        if b.name in by_name:
            problems.append((f"behaviours[{i}].name", b.name, "behaviour names must be unique"))
        by_name[b.name] = b
        if not s.operators and b.points in (None, 0):
            problems.append((f"behaviours[{i}].points", b.points,
                             "points must be non-zero: a behaviour that moves no score is not "
                             "scored; remove it or give it points"))
        if s.operators and b.harmful is None:
            problems.append((f"behaviours[{i}].harmful", None,
                             "say whether the behaviour is penalised (true) or rewarded "
                             "(false): with several schemes, points do not tell"))
        if b.sensor not in s.sensors:
            problems.append((f"behaviours[{i}].sensor", b.sensor,
                             f"unknown sensor{_close(b.sensor, list(s.sensors))}; the scenario "
                             f"defines: {', '.join(s.sensors)}"))
        if b.subject == "company" and s.population is None:
            problems.append((f"behaviours[{i}].subject", b.subject,
                             "company behaviours need a [population] with companies"))
        if b.min_age > b.max_age:
            problems.append((f"behaviours[{i}].min_age", b.min_age,
                             f"must not exceed max_age ({b.max_age})"))
    for name, sensor in s.sensors.items():
        if sensor.coverage is not None and len(sensor.coverage) != (districts or -1):
            problems.append((f"sensors.{name}.coverage", sensor.coverage,
                             f"give one share per district ({districts or 'no population'})"))
        if sensor.collectors is not None and s.population is None:
            problems.append((f"sensors.{name}.collectors", "...",
                             "collectors watch neighbourhoods: add a [population]"))
    bands = list(s.population.income_bands) if s.population else None
    names: list[str] = []
    for i, op in enumerate(s.operators):
        if op.name in names:
            problems.append((f"operators[{i}].name", op.name, "operator names must be unique"))
        names.append(op.name)
        problems += _scheme_problems(f"operators[{i}].scheme.", op.scheme, by_name, bands)
        for j, sensor in enumerate(op.reads or []):
            if sensor not in s.sensors:
                problems.append((f"operators[{i}].reads[{j}]", sensor,
                                 f"unknown sensor{_close(sensor, list(s.sensors))}"))
        for j, d in enumerate(op.districts or []):
            if districts is None or not 0 <= d < districts:
                problems.append((f"operators[{i}].districts[{j}]", d,
                                 f"no such district; the population has "
                                 f"{districts or 'no'} districts, numbered from 0"))
        if op.scheme.subject == "company" and s.population is None:
            problems.append((f"operators[{i}].scheme.subject", "company",
                             "a company scheme needs a [population] with companies"))
    if s.consequences is not None:
        problems += _consequence_problems(s, names, by_name)
    if s.response is not None:
        grades = s.grade_names() if (s.operators or s.grades) else []
        for g in s.response.grade:
            if g not in grades:
                problems.append((f"response.grade.{g}", g, f"unknown grade{_close(g, grades)}"))
    for i, rule in enumerate(s.sharing):
        for field, name in (("from", rule.from_), ("to", rule.to)):
            if name not in names:
                problems.append((f"sharing[{i}].{field}", name,
                                 f"unknown operator{_close(name, names)}; operators: "
                                 f"{', '.join(names) or '(none)'}"))
        for j, b in enumerate(rule.behaviours or []):
            if b not in by_name:
                problems.append((f"sharing[{i}].behaviours[{j}]", b,
                                 f"unknown behaviour{_close(b, list(by_name))}"))
    return problems


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _explain_pydantic(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, error["loc"][:-1])
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "this field is required"
    return msg.removeprefix("Value error, ")


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names a model accepts at ``loc`` (walking nested models, lists and dicts)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part)) if hasattr(current, "model_fields") else None
        if field is None:
            # A dict key (e.g. a sensor name): the value type is the dict's value model.
            continue
        current = _inner_model(field.annotation)
    if not hasattr(current, "model_fields"):
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if args:
        return _inner_model(args[-1])
    return annotation


#: The largest magnitude of any number in a scenario: ids and counts are 32-bit.
_LARGEST = 2**31 - 1


def _absurd_numbers(data: Any, where: str = "") -> list[tuple[str, Any, str]]:
    """Numbers no scenario means: NaN, infinities, and magnitudes past 32-bit ids and counts."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _absurd_numbers(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _absurd_numbers(value, f"{where}[{i}]")
    elif isinstance(data, float) and not math.isfinite(data):
        found.append((where, data, "must be a finite number (not NaN or infinite)"))
    elif isinstance(data, (int, float)) and not isinstance(data, bool) \
            and abs(data) > _LARGEST:
        found.append((where, data, f"too large: numbers in a scenario stay within "
                                   f"±{_LARGEST:,}"))
    return found


def validate_scenario(data: dict[str, Any], source: str, folder: Path | None = None
                      ) -> Scenario:
    """Validate raw data as a scenario.

    Args:
        data: the parsed TOML or JSON document.
        source: where the data came from, used in error messages (e.g. a file name).
        folder: the scenario file's folder, where its own packs may live (None: built-in
            packs only).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: listing every problem, one per line, as ``scenario 'SOURCE', FIELD = VALUE:
            REASON``.
    """
    data = _resolve_references(data, source, folder)
    absurd = _absurd_numbers(data)
    if absurd:
        raise ScenarioError("\n".join(
            f"scenario '{source}', {where} = {value!r}: {reason}"
            for where, value, reason in absurd))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _format_loc(err["loc"])
            value = "" if err["type"] == "missing" else f" = {err['input']!r}"
            if isinstance(err["input"], dict):
                value = ""
            lines.append(f"scenario '{source}', {where}{value}: {_explain_pydantic(err, Scenario)}")
        raise ScenarioError("\n".join(lines)) from None
    problems = _consistency_problems(scenario)
    if problems:
        raise ScenarioError("\n".join(f"scenario '{source}', {field} = {value!r}: {reason}"
                                      for field, value, reason in problems))
    return scenario


def _read_data_file(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{what} '{path.name}' is not UTF-8 text: save it as UTF-8"
                            ) from None
    except OSError as exc:
        raise ScenarioError(f"{what} '{path.name}' cannot be read: {exc.strerror}") from None
    kind = "JSON" if path.suffix == ".json" else "TOML"
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{what} '{path.name}' is not valid {kind}: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{what} '{path.name}' is nested too deeply to be a {kind} "
                            f"scenario") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{what} '{path.name}': the top level must be a table of fields")
    return data


def builtin_packs() -> dict[str, Path]:
    """The scheme packs and behaviour catalogues shipped with xinyong, by name."""
    folder = resources.files("xinyong") / "packs"
    return {p.name.removesuffix(".toml"): Path(str(p))
            for p in folder.iterdir() if p.name.endswith(".toml")}


def _find_pack(name: str, where: str, folder: Path | None = None) -> Path:
    """A built-in pack by name, or a pack file in the scenario file's own folder (never
    elsewhere: a scenario cannot make xinyong read any file it names)."""
    packs = builtin_packs()
    if name in packs:
        return packs[name]
    if folder is not None and name.endswith(".toml"):
        home = folder.resolve()
        path = (home / name).resolve()
        if path.parent == home and path.is_file():
            return path
    raise ScenarioError(f"{where} = {name[:200]!r}: no such pack; built-in packs: "
                        f"{', '.join(sorted(packs))}{_close(name, list(packs))}, or the name "
                        f"of a .toml file beside the scenario file")


def _unsourced(data: Any, path: str = "") -> list[str]:
    """Paths of the tables in a pack that do not name their source."""
    missing = []
    if isinstance(data, dict):
        if any(not isinstance(v, (dict, list)) for k, v in data.items() if k != "source") \
                and not data.get("source"):
            missing.append(path or "(top level)")
        for key, value in data.items():
            missing += _unsourced(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, dict):
                missing += _unsourced(item, f"{path}[{i}]")
    return missing


#: Tables that map names to values; in a pack they name their source like any other table, and
#: the source is taken off before the mapping is read.
_MAPPINGS = {"start_by_income", "terms", "grade", "serious_share"}


def _strip_mapping_sources(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: ({kk: vv for kk, vv in v.items() if kk != "source"}
                    if k in _MAPPINGS and isinstance(v, dict) else _strip_mapping_sources(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_strip_mapping_sources(item) for item in data]
    return data


def load_pack(name: str, where: str = "pack", folder: Path | None = None) -> dict[str, Any]:
    """Read a pack (a scheme, or a catalogue of sensors and behaviours) as raw data.

    Every table in a pack must name its ``source`` (a seed article, a published measure, or
    ``"assumption"``), so that every value in a run can be traced.
    """
    path = _find_pack(name, where, folder)
    data = _read_data_file(path, "pack")
    missing = _unsourced({k: v for k, v in data.items() if k not in ("name", "about")})
    if missing:
        raise ScenarioError("\n".join(
            f"pack '{path.name}', {m}.source: every value in a pack names its source; add "
            f"source = \"...\" (an article, a measure, or \"assumption\")" for m in missing))
    return _strip_mapping_sources(data)


def _resolve_references(data: dict[str, Any], source: str, folder: Path | None
                        ) -> dict[str, Any]:
    """Replace pack names by their contents: ``catalogue`` and each operator's ``scheme``."""
    data = dict(data)
    catalogue = data.pop("catalogue", None)
    if catalogue is not None:
        base = load_pack(str(catalogue), f"scenario '{source}', catalogue", folder)
        own_sensors, own = data.get("sensors", {}), data.get("behaviours", [])
        if isinstance(own_sensors, dict) and isinstance(own, list) \
                and all(isinstance(b, dict) for b in own):  # else pydantic names the field
            sensors = {**base.get("sensors", {}), **own_sensors}
            behaviours = {b["name"]: b for b in base.get("behaviours", [])}
            for b in own:
                behaviours[b.get("name")] = {**behaviours.get(b.get("name"), {}), **b}
            data["sensors"], data["behaviours"] = sensors, list(behaviours.values())
    if isinstance(data.get("consequences"), str):
        data["consequences"] = load_pack(data["consequences"],
                                         f"scenario '{source}', consequences", folder)
    operators = []
    listed = data.get("operators", [])
    for i, op in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(op, dict) and isinstance(op.get("scheme"), str):
            pack = load_pack(op["scheme"], f"scenario '{source}', operators[{i}].scheme",
                             folder)
            op = {**op, "scheme": pack}
        operators.append(op)
    if operators:
        data["operators"] = operators
    return data


def builtin_scenarios() -> dict[str, Path]:
    """The scenarios shipped with xinyong, by name."""
    folder = resources.files("xinyong") / "scenarios"
    return {p.name.removesuffix(".toml"): Path(str(p))
            for p in folder.iterdir() if p.name.endswith(".toml")}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a scenario file (``.toml`` or ``.json``) by path.

    Raises:
        ScenarioError: if nothing is found, the file is not valid TOML/JSON, or a value is wrong.
    """
    builtins = builtin_scenarios()
    if str(name_or_path) in builtins:
        path = builtins[str(name_or_path)]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            close = difflib.get_close_matches(str(name_or_path), list(builtins), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(
                f"no scenario '{name_or_path}': it is neither a built-in scenario "
                f"({', '.join(sorted(builtins))}) nor a file.{hint}"
            )
    return validate_scenario(_read_data_file(path, "scenario"), source=path.name,
                             folder=path.parent)
