"""The pydantic models of a scenario: a city's people, sensors, behaviours and the schemes that
score them, field by field, with the bounds each field must keep.

A model checks its own fields; rules that tie fields together (a grade a rule names must
exist) are in :mod:`xinyong.scenario.validation`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from xinyong.model.codes import NOTICE_KINDS, GateAction
from xinyong.scenario.errors import ScenarioError

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
    "Scheme",
    "ScoreScale",
    "Sensor",
    "Service",
    "SharingRule",
    "StartRecords",
]


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
    """Dissent and self-censorship (Daymude, Axelrod & Forrest, PNAS 2025; xinyong.model.dissent):
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
        try:  # no consistency rule reads the sizes: their own bounds are all to check
            return Scenario.model_validate({**self.model_dump(by_alias=True), **update})
        except ValidationError as exc:
            raise ScenarioError("\n".join(
                f"scenario '{self.name} (sizes)', {'.'.join(map(str, e['loc']))} = "
                f"{e['input']!r}: {e['msg'].lower()}" for e in exc.errors())) from None

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
