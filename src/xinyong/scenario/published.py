"""The published record: dated observations of the national system, as data.

A record file (``xinyong/sources/record.toml`` ships with xinyong; users may bring their own in
the same format) lists the dates the rules changed (``[[dates]]``) and the published figures
(``[[observations]]``). Each figure says its kind:

- ``cumulative``: a running total since the record's origin (the list began in October 2013);
- ``flow``: a count within the period ``from`` .. ``date``;
- ``stock``: how many hold a status on ``date``;
- ``rate``: a count per year, in the year that ends on ``date``;

and its scope, in words: who is counted (individuals, companies, or both; purchases, not people;
passengers). A quantity is one of :data:`QUANTITIES`: what the simulation counts to meet it.

A scenario meets the record through its ``[record]`` table (:class:`RecordSpec`): the people it
stands for (counts are scaled from its citizens to them), which of its lists the record's
"list" is, and which of its services sell the tickets.

    >>> record = load_record("record")
    >>> record.origin.isoformat(), len(record.observations) > 10
    ('2013-10-01', True)
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.scenario.base import _Model
from xinyong.scenario.errors import ScenarioError, did_you_mean

__all__ = [
    "QUANTITIES",
    "Observation",
    "Quantity",
    "Record",
    "RecordSpec",
    "load_record",
    "subjects_of",
]

Kind = Literal["cumulative", "flow", "stock", "rate"]


@dataclass(frozen=True)
class Quantity:
    """What the simulation counts to meet a published quantity.

    Attributes:
        counts: ``joined`` (subjects put on a list, each counted the first time only when
            ``first``), ``performed`` (removed once their obligation was met), ``denied``
            (purchases refused at a service), ``used`` (purchases asked for), ``subjects``
            (how many subjects there are).
        role: which of the scenario's lists or services it reads (named in its ``[record]``):
            ``debtor list``, ``national blacklists``, ``air``, ``rail``; or None.
        first: count a subject once, the first time it joins.
        about: the quantity in words, for tables and plots.
    """

    counts: Literal["joined", "performed", "denied", "used", "subjects"]
    role: str | None
    first: bool = False
    about: str = ""


#: Every quantity a record may name, by its name in the file.
QUANTITIES: dict[str, Quantity] = {
    "subjects ever listed": Quantity(
        "joined", "debtor list", first=True, about="subjects put on the debtor list, once each"
    ),
    "listed subjects who met their obligations": Quantity(
        "performed", "debtor list", about="listed subjects removed once they met the obligation"
    ),
    "listed subjects who paid their debts, taxes or fines": Quantity(
        "performed", "debtor list", about="listed subjects removed once they paid"
    ),
    "plane ticket purchases blocked": Quantity(
        "denied", "air", about="plane tickets refused at the point of sale"
    ),
    "high-speed train ticket purchases blocked": Quantity(
        "denied", "rail", about="high-speed train tickets refused at the point of sale"
    ),
    "air passenger trips": Quantity("used", "air", about="plane tickets asked for"),
    "high-speed rail passenger trips": Quantity(
        "used", "rail", about="high-speed train tickets asked for"
    ),
    "enterprises added to blacklists": Quantity(
        "joined", "debtor list", about="companies put on a blacklist"
    ),
    "enterprises": Quantity("subjects", None, about="companies"),
}

#: Words in a scope that name who is counted.
_INDIVIDUALS = ("individual", "natural person", "citizen")
_COMPANIES = ("compan", "enterprise", "entit", "organisation", "organization")
#: Words in a scope that widen a list quantity from the debtor list to every national list.
_ALL_LISTS = ("all national lists", "all national blacklists", "all lists", "all blacklists")


def subjects_of(observation: Observation) -> tuple[str, ...]:
    """The kinds of subject an observation of a list counts: ``citizen``, ``company`` or
    both, read from its scope (and, for enterprises, its quantity)."""
    if any(w in observation.quantity.lower() for w in _COMPANIES):
        return ("company",)  # the quantity names them: "enterprises added to blacklists"
    words = observation.scope.lower()
    kinds = []
    if any(w in words for w in _INDIVIDUALS):
        kinds.append("citizen")
    if any(w in words for w in _COMPANIES):
        kinds.append("company")
    return tuple(kinds)


def role_of(observation: Observation) -> str | None:
    """The scenario role an observation reads: its quantity's, widened to every national
    blacklist where the scope says "all national lists" (or the quantity is about
    enterprises added to blacklists)."""
    q = QUANTITIES[observation.quantity]
    scope = observation.scope.lower()
    if q.role == "debtor list" and (
        any(w in scope for w in _ALL_LISTS) or observation.quantity.endswith("to blacklists")
    ):
        return "national blacklists"
    return q.role


class DatedChange(BaseModel):
    """A date on which the published rules changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    date: dt.date
    source: str = Field(min_length=1)


class Observation(BaseModel):
    """One published figure, as its source states it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    quantity: str
    kind: Kind
    date: dt.date
    from_: dt.date | None = Field(default=None, alias="from")
    value: float = Field(gt=0, allow_inf_nan=False)
    scope: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Observation:
        if self.quantity not in QUANTITIES:
            raise ValueError(
                f"quantity '{self.quantity}' is not one xinyong can simulate"
                f"{did_you_mean(self.quantity, list(QUANTITIES))}; known quantities: "
                + "; ".join(QUANTITIES)
            )
        if self.kind == "flow" and (self.from_ is None or self.from_ >= self.date):
            raise ValueError("a flow counts within a period: give 'from', a date before 'date'")
        if self.kind != "flow" and self.from_ is not None:
            raise ValueError(f"'from' belongs to flows; a {self.kind} is read on its 'date'")
        q = QUANTITIES[self.quantity]
        if q.counts in ("joined", "performed", "subjects") and not subjects_of(self):
            raise ValueError(
                f"scope '{self.scope}' does not say who is counted: name individuals, "
                "companies (enterprises), or both"
            )
        if q.counts == "subjects" and self.kind != "stock":
            raise ValueError(f"'{self.quantity}' is a stock: write kind = \"stock\"")
        return self

    @property
    def label(self) -> str:
        """The observation in a few words: quantity, and date or period."""
        when = (
            f"{self.from_.isoformat()} to {self.date.isoformat()}"
            if self.from_
            else self.date.isoformat()
        )
        return f"{self.quantity}, {when}"


class Record(BaseModel):
    """A record: dated rule changes and dated observations.

    Attributes:
        origin: when running totals begin (default: the earliest of ``dates``).
        population: the people the record's figures are about (for scaling per-capita
            figures in tables; the scenario's ``[record]`` says what a run stands for).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: dt.date | None = None
    dates: list[DatedChange] = []  # pydantic copies it per instance
    observations: list[Observation] = Field(min_length=1)

    @model_validator(mode="after")
    def _origin(self) -> Record:
        if self.origin is None:
            if not self.dates:
                raise ValueError(
                    "give 'origin', the date running totals start from, or the [[dates]] "
                    "the record's rules changed on (the earliest is the origin)"
                )
            object.__setattr__(self, "origin", min(d.date for d in self.dates))
        assert self.origin is not None
        early = [o for o in self.observations if o.date < self.origin]
        if early:
            raise ValueError(
                f"observation '{early[0].label}' is dated before the record's origin "
                f"{self.origin.isoformat()}"
            )
        return self

    @property
    def start(self) -> dt.date:
        """The origin, as a date (always set once validated)."""
        assert self.origin is not None
        return self.origin


class RecordSpec(_Model):
    """How a scenario meets a published record: what it stands for and which of its parts
    the record's figures count.

    Lists are named ``operator:list``; ``national_operators`` are the operators whose
    blacklists are "all national lists" (default: those of the debtor lists).
    """

    country: float = Field(
        default=1.4e9, gt=0, description="the people the run stands for: counts scale to them"
    )
    debtor_lists: list[str] = Field(
        min_length=1, description="the lists the record's 'list' counts, as operator:list"
    )
    national_operators: list[str] = Field(
        default=[], description="operators whose blacklists count as all national lists"
    )
    services: dict[str, str] = Field(
        default={}, description="the service that sells each ticket the record counts: air, rail"
    )
    source: str | None = None


def load_record(name_or_path: str | Path) -> Record:
    """A record, by file, or ``"record"`` for the one xinyong ships.

    Raises:
        ScenarioError: a file that cannot be read or does not hold a record, naming the
            file, the field and the fix.
    """
    path = Path(name_or_path)
    if str(name_or_path) == "record":
        path = Path(str(resources.files("xinyong") / "sources" / "record.toml"))
    if not path.is_file():
        raise ScenarioError(
            f"no record file '{name_or_path}': give a TOML file of [[observations]] "
            "(xinyong/sources/record.toml shows the format)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"record file '{path.name}' cannot be read: {exc}") from None
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["loc"][:1] == ("observations",) and len(first["loc"]) > 1:
            where = f"observations[{first['loc'][1]}]" + "".join(f".{p}" for p in first["loc"][2:])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field; an observation has quantity, kind, date, from, value, "
            message += "scope and source"
        raise ScenarioError(f"record file '{path.name}', {where}: {message}") from None
