"""The schemes that score people: the score scale and where scores start, the grade table
and its overrides, each behaviour's points, the listing rule, and the blacklists and red
lists with their escalation and disclosure tiers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from xinyong.scenario.base import Probability, _Model

__all__ = [
    "ContactsPull",
    "DisclosureTier",
    "Escalation",
    "Grade",
    "GradeOverride",
    "ListSpec",
    "ListingRule",
    "PointRule",
    "Scheme",
    "ScoreScale",
    "StartRecords",
]


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


class ListingRule(_Model):
    """When a subject is listed and released."""

    min_days: int = Field(ge=0, description="days a listing lasts at least")
    release_min_score: int = Field(description="score needed to be released (points)")
    at_floor: bool = Field(description="list subjects whose score is at the floor")
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
    repeat_extension_days: int = Field(
        default=365, ge=0, description="added to the term by a repeat violation"
    )
    escalation: Escalation | None = None
    min_score: int | None = Field(default=None, description="red list: score at least this")
    repair_after_days: int | None = Field(
        default=None, ge=0, description="credit repair possible after (days)"
    )
    repair_min_score: int | None = Field(default=None, description="credit repair needs this score")
    max_term_days: int | None = Field(
        default=None,
        ge=1,
        description="a listing lasts at most this long from its first "
        "day, extensions included (days)",
    )
    obligation_met_per_year: float | None = Field(
        default=None,
        ge=0.0,
        le=365.0,
        description="early removal: the yearly rate at which a listed debtor meets the "
        "obligation (removed that day, whatever the term)",
    )
    termed_share: Probability = Field(
        default=1.0,
        description="the share of new listings that carry a term; the others last until "
        "the obligation is met (needs obligation_met_per_year)",
    )
    tiers: list[DisclosureTier] = Field(
        default=[],
        description="disclosure tiers: term and shortest wait before repair, by violation",
    )
    opening_share: Probability | None = Field(
        default=None,
        description="share of covered subjects on the list at day 0 (its "
        "stock when the run starts)",
    )
    shared: bool = Field(default=True, description="published on the sharing platform")
    binds_representative: bool = Field(
        default=True,
        description="a listed organisation's legal representative is restricted in person "
        "(the SPC's consumption limits on judgment debtors); false for an administrative "
        "directory",
    )
    serious_share: dict[str, Probability] = Field(
        default={},
        description="by violation, the share of counted events serious enough to "
        "list directly (default all of them)",
    )
    source: str | None = None


class StartRecords(_Model):
    """Where a resident starts when a scheme scores records it already holds (Fuzhou: "500
    base + up to 500 from records"): the base plus ``max`` times a share of good records.

    The share is ``sigmoid(logit_mean + logit_sd * z - log c)``, with ``z`` a keyed normal draw
    per resident and ``c`` the resident's conduct factor (who does more harm has fewer good
    records). How records spread over residents is not published: the shape is an assumption.
    """

    max: int = Field(ge=0, description="most points records can add to the base")
    logit_mean: float = Field(
        description="centre of the share of good records, on the logit scale (0: half the maximum)"
    )
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
        default={}, description="points added to the start by income band"
    )
    start_records: StartRecords | None = Field(
        default=None, description="residents start from their records, not the base alone"
    )
    contacts_pull: ContactsPull | None = Field(
        default=None, description="low-score contacts pull the score down (needs a network)"
    )
    grades: list[Grade] = Field(min_length=1)
    listed_grade: str = Field(default="listed", min_length=1)
    listing: ListingRule | None = Field(default=None, description="no listing if absent")
    points: list[PointRule] = Field(min_length=1)
    overrides: list[GradeOverride] = []  # noqa: RUF012  # pydantic copies it per instance
    lists: list[ListSpec] = Field(default=[], description="blacklists and red lists")
    source: str | None = None

    def grade_names(self) -> list[str]:
        """All grades, best first, ending with the listed grade."""
        return [g.grade for g in self.grades] + [self.listed_grade]
