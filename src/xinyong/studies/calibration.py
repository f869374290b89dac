"""What a calibration fits: parameters with their priors, and the observations held out.

A parameter is one number, fitted, that sets one or more paths of a scenario (the paths of
``--set``). Its prior is uniform between ``low`` and ``high``, or log-uniform (``log``: uniform
in the logarithm, for rates that may be off by a factor). With ``scale``, the parameter is a
common multiplier of every path's current value: the three debt-judgment behaviours keep
their relative rates and move together.

A calibration file (TOML; ``xinyong/calibrations/<scenario>.toml`` ship with xinyong)::

    scenario = "history"
    about = "..."

    [[parameters]]
    name = "debt_judgments"
    paths = ["behaviours.contract_breach_judgment.p", "behaviours.private_lending_breach.p"]
    scale = true
    low = 0.05
    high = 2.0
    log = true
    about = "people's debt judgments, one multiplier of their daily rates"

    [[hold_out]]            # observations left out of the fit, and checked against it
    date = 2018-05-31       # every observation of that date (add quantity = "..." for one)

On the command line, ``--param PATH=LOW:HIGH`` (``PATH=LOW:HIGH:log``) names one path.

**Only assumptions are fitted.** A path is fitted only when its current value is an
``assumption`` (or an earlier fit), read from the ``source`` of the table that holds it: the
source is an assumption as a whole (it begins with "assumption"), or the words just before
"assumption" (or "fitted") in it name the field: its name (``after_refusal``), its words
(``checked share``), or "rate" for a daily probability ``p`` or a rate per year — "rate
assumption", "term and filing rate assumption", "demand by income, after_refusal and its
memory assumption". Anything else has a published source and is refused, unless
``allow_sourced``. A path the scenario's timeline sets on its first day is refused too: the
fitted value would never hold; a path it sets later is fitted for the days before. What a dated
change sets is fitted by its own path, ``timeline.<date>.set.<path>`` (the rate from 2016 on:
``timeline.2016-03-13.set.operators.court.scheme.lists.dishonest-debtors.obligation_met_per_year``),
tagged in that change's source.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.scenario import Scenario, ScenarioError
from xinyong.scenario.overrides import OverrideError, apply, get, normalise
from xinyong.scenario.packs import read_data_file
from xinyong.scenario.published import Observation

__all__ = [
    "CalibrationError",
    "CalibrationSpec",
    "HeldOut",
    "Parameter",
    "builtin_calibrations",
    "load_calibration",
    "parse_param",
    "tag_of",
]


class CalibrationError(ScenarioError):
    """A calibration that cannot be run as given, with what to write instead."""


class Parameter(BaseModel):
    """One fitted number, its prior, and the paths it sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    paths: list[str] = Field(min_length=1, description="the paths it sets, as --set")
    low: float = Field(allow_inf_nan=False, description="the prior's lower end")
    high: float = Field(allow_inf_nan=False, description="the prior's upper end")
    log: bool = Field(default=False, description="log-uniform prior: uniform in log10")
    scale: bool = Field(
        default=False, description="a common multiplier of each path's current value"
    )
    about: str = ""

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low = {self.low} must be below high = {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(
                f"a log-uniform prior needs low > 0 (low = {self.low}); drop log, or give "
                "a positive lower end"
            )
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The prior's ends in the coordinate it is uniform in (log10 when ``log``)."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def value(self, u: float) -> float:
        """The parameter's value at coordinate ``u`` (inverse of :meth:`coordinate`)."""
        return float(10.0**u) if self.log else float(u)

    def coordinate(self, value: float) -> float:
        """The coordinate the prior is uniform in, of a value."""
        return math.log10(value) if self.log else value

    def prior_text(self) -> str:
        """The prior in words: ``log-uniform 0.05 to 2, × current``."""
        kind = "log-uniform" if self.log else "uniform"
        times = ", × current value" if self.scale else ""
        return f"{kind} {self.low:.4g} to {self.high:.4g}{times}"


class HeldOut(BaseModel):
    """Observations left out of the fit: every one of a date, or of a quantity, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date | None = None
    quantity: str | None = None

    @model_validator(mode="after")
    def _something(self) -> HeldOut:
        if self.date is None and self.quantity is None:
            raise ValueError("name a date, a quantity, or both")
        return self

    def matches(self, o: Observation) -> bool:
        """Whether an observation is one this names."""
        return (self.date is None or o.date == self.date) and (
            self.quantity is None or o.quantity == self.quantity
        )


class CalibrationSpec(BaseModel):
    """A calibration: the parameters fitted and the observations held out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str | None = Field(default=None, description="the scenario it is written for")
    about: str = ""
    parameters: list[Parameter] = Field(min_length=1)
    hold_out: list[HeldOut] = []  # pydantic copies it per instance

    @model_validator(mode="after")
    def _distinct(self) -> CalibrationSpec:
        names = [p.name for p in self.parameters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"parameter '{twice[0]}' is named twice: give each its own name")
        paths = [path for p in self.parameters for path in p.paths]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"path '{twice[0]}' is set by two parameters: tie them in one")
        return self

    def held_out(self, o: Observation) -> bool:
        """Whether an observation is held out of the fit."""
        return any(h.matches(o) for h in self.hold_out)

    def with_parameters(self, extra: Iterable[Parameter]) -> CalibrationSpec:
        """This calibration with more parameters (those of ``--param``)."""
        return CalibrationSpec.model_validate(
            {**self.model_dump(), "parameters": [*self.parameters, *extra]}
        )

    def checked(self, scenario: Scenario, allow_sourced: bool = False) -> CalibrationSpec:
        """This calibration with every path written out in full, checked against a scenario.

        Raises:
            CalibrationError: a path that names nothing, is not a number, is set by the
                timeline, has a published source (unless ``allow_sourced``), or whose prior
                gives a value the scenario refuses.
        """
        timed = _timeline_paths(scenario)
        parameters = []
        for p in self.parameters:
            paths = []
            for path in p.paths:
                try:
                    full = next(iter(normalise(scenario, {path: 0})))
                except OverrideError as exc:
                    raise CalibrationError(f"parameter '{p.name}': {exc}") from None
                current = get(scenario, full)
                if isinstance(current, bool) or not isinstance(current, int | float):
                    raise CalibrationError(
                        f"parameter '{p.name}': {full} is {current!r}, not a number; fit a "
                        "rate, a probability or a share"
                    )
                if full in timed:
                    raise CalibrationError(
                        f"parameter '{p.name}': {full} is set by the scenario's timeline on "
                        f"its first day ({timed[full]}), so a fitted value would never hold; "
                        f"fit the change's value instead (timeline.{timed[full]}.set.{full})"
                    )
                if p.scale and current == 0:
                    raise CalibrationError(
                        f"parameter '{p.name}': {full} is 0, and a multiplier of 0 is 0; give "
                        "the path its own prior (scale = false)"
                    )
                if not allow_sourced:
                    field, source = source_of(scenario, full)
                    if tag_of(source or "", field) is None:
                        raise CalibrationError(
                            f"parameter '{p.name}': {full} = {current:g} has a published "
                            f"source ({(source or 'none')[:160]!r}), not an assumption; fit only "
                            "assumed values, or add --allow-sourced to fit it anyway"
                        )
                paths.append(full)
            parameters.append(p.model_copy(update={"paths": paths}))
        spec = self.model_copy(update={"parameters": parameters})
        for p in parameters:  # both ends of each prior make a scenario xinyong accepts
            for end in (p.low, p.high):
                try:
                    apply(scenario, spec.overrides(scenario, {p.name: end}))
                except OverrideError as exc:
                    raise CalibrationError(
                        f"parameter '{p.name}' = {end:g} (an end of its prior): {exc}; narrow "
                        "its prior"
                    ) from None
        return spec

    def overrides(self, scenario: Scenario, values: dict[str, float]) -> dict[str, float]:
        """Path → value for parameters' values (those not given keep the scenario's)."""
        out: dict[str, float] = {}
        for p in self.parameters:
            if p.name not in values:
                continue
            for path in p.paths:
                v = values[p.name]
                out[path] = float(get(scenario, path)) * v if p.scale else v
        return out


# ---- what a source says about a field ----------------------------------------------------------

#: Words that name a field in a source, besides its own name and its words ("checked share").
_SAID_AS = {"p": ("rate",)}
#: The words that mark a value as fittable: assumed, or fitted before.
_TAGS = ("assumption", "fitted")


def _words_for(field: str) -> tuple[str, ...]:
    words = [field, field.replace("_", " "), *_SAID_AS.get(field, ())]
    if field.endswith("_per_year") or field.endswith("_rate"):
        words.append("rate")
    return tuple(words)


def tag_of(source: str, field: str) -> str | None:
    """``"assumption"`` or ``"fitted"`` when a table's source says so of ``field``, else None.

    >>> tag_of("seed 001; rate assumption", "p")
    'assumption'
    >>> tag_of("SPC Provisions 2017: term 2 years (rate assumption)", "term_days") is None
    True
    >>> tag_of("rate as the reference scenario (assumption)", "p")
    'assumption'
    """
    text = " ".join(source.lower().split())
    for tag in _TAGS:
        if text.startswith(tag):
            return tag  # the whole table is an assumption
    words = _words_for(field)
    for tag in _TAGS:
        for m in re.finditer(rf"\b{tag}\b", text):
            before = text[: m.start()]
            cut = max(before.rfind(c) for c in ";():")
            phrase = before[cut + 1 :]
            if not phrase.strip() and cut >= 0 and before[cut] == "(":
                # "rate as the reference scenario (assumption)": it qualifies what precedes
                outer = before[:cut]
                phrase = outer[max(outer.rfind(c) for c in ";():") + 1 :]
            if any(re.search(rf"\b{re.escape(w)}\b", phrase) for w in words):
                return tag
    return None


def source_of(scenario: Scenario, path: str) -> tuple[str, str | None]:
    """The field a full path names, and the source of the nearest table above it that has
    one (None if none does)."""
    tokens = path.split(".")
    for end in range(len(tokens) - 1, 0, -1):
        try:
            source = get(scenario, ".".join([*tokens[:end], "source"]))
        except OverrideError:
            continue
        if isinstance(source, str) and source:
            return tokens[-1], source
    return tokens[-1], None


def _timeline_paths(scenario: Scenario) -> dict[str, str]:
    """Every path a scenario's timeline sets (in full) on the run's first day → that change's
    name in a path (its date, or its index)."""
    out: dict[str, str] = {}
    for i, change in enumerate(scenario.timeline or []):
        if change.day == 0 or (change.date is not None and change.date == scenario.start):
            for path in normalise(scenario, change.set):
                out.setdefault(path, str(change.date or i))
    return out


# ---- reading ------------------------------------------------------------------------------------


def builtin_calibrations() -> dict[str, Path]:
    """The calibration files shipped with xinyong, by scenario name."""
    folder = resources.files("xinyong") / "calibrations"
    return {
        p.name.removesuffix(".toml"): Path(str(p))
        for p in folder.iterdir()
        if p.name.endswith(".toml")
    }


def load_calibration(name_or_path: str | Path) -> CalibrationSpec:
    """A calibration file, or the built-in one of a scenario, by the scenario's name.

    Raises:
        CalibrationError: no such file, or a file that is not a calibration (naming the field
            and the fix).
    """
    path = Path(name_or_path)
    builtin = builtin_calibrations()
    if not path.is_file() and str(name_or_path) in builtin:
        path = builtin[str(name_or_path)]
    if not path.is_file():
        raise CalibrationError(
            f"no calibration file '{name_or_path}': give a TOML file of [[parameters]] "
            f"(built-in: {', '.join(sorted(builtin)) or 'none'}), or --param PATH=LOW:HIGH"
        )
    try:
        data = read_data_file(path, "calibration file")
    except ScenarioError as exc:
        raise CalibrationError(str(exc)) from None
    try:
        return CalibrationSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = (
                "unknown field; a parameter has name, paths, low, high, log, scale and about; "
                "a hold_out has date and quantity"
            )
        raise CalibrationError(f"calibration file '{path.name}', {where}: {message}") from None


def parse_param(text: str, log: bool = False) -> Parameter:
    """``PATH=LOW:HIGH`` or ``PATH=LOW:HIGH:log`` (as given to ``--param``) as a parameter
    named by its path; ``log`` makes every such prior log-uniform.

    Raises:
        CalibrationError: text that is not in that form.
    """
    path, eq, rest = text.partition("=")
    parts = rest.split(":")
    example = "e.g. --param consequences.services.air.after_refusal=0:1"
    if not eq or not path.strip() or len(parts) not in (2, 3):
        raise CalibrationError(
            f"--param {text!r}: write PATH=LOW:HIGH or PATH=LOW:HIGH:log, {example}"
        )
    if len(parts) == 3 and parts[2].strip() != "log":
        raise CalibrationError(f"--param {text!r}: the third part may only be 'log', {example}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise CalibrationError(
            f"--param {text!r}: LOW and HIGH must be numbers, {example}"
        ) from None
    try:
        return Parameter(
            name=path.strip(),
            paths=[path.strip()],
            low=low,
            high=high,
            log=log or len(parts) == 3,
        )
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise CalibrationError(f"--param {text!r}: {message}") from None


def spec_data(spec: CalibrationSpec) -> dict[str, Any]:
    """A calibration as plain data (JSON), to record with a fit and compare on resume."""
    return spec.model_dump(mode="json")
