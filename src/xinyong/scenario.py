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
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "Behaviour",
    "Grade",
    "ListedResponse",
    "ListingRule",
    "Scenario",
    "ScenarioError",
    "ScoreScale",
    "Sensor",
    "builtin_scenarios",
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
    """Strict, immutable base: unknown fields are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreScale(_Model):
    """Where scores start and the bounds they are clamped to (points)."""

    start: int
    floor: int
    ceiling: int


class Grade(_Model):
    """One row of the grade table: a score of at least ``min`` points earns ``grade``."""

    grade: str = Field(min_length=1)
    min: int


class ListedResponse(_Model):
    """How a listed citizen's daily probabilities change: a multiplier per sign of points."""

    negative: float = Field(ge=0.0)
    positive: float = Field(ge=0.0)


class ListingRule(_Model):
    """When a citizen is listed and released."""

    min_days: int = Field(ge=0, description="days a listing lasts at least")
    release_min_score: int = Field(description="score needed to be released (points)")
    at_floor: bool = Field(description="list citizens whose score is at the floor")


class Sensor(_Model):
    """A data source: the chance it records an occurrence, and the chance it blames another."""

    detect: Probability
    misidentify: Probability


class Behaviour(_Model):
    """Something a citizen may do on a day, the sensor that sees it and its points."""

    name: str = Field(min_length=1)
    p: DailyProbability = Field(description="probability per citizen per day, at conduct 1")
    points: int
    sensor: str
    severe: bool = Field(default=False, description="one recorded event lists the citizen")


class Scenario(_Model):
    """A whole city: its size, its scheme, its sensors and its behaviours."""

    name: str = Field(min_length=1)
    about: str = ""
    citizens: int = Field(gt=0)
    days: int = Field(gt=0)
    score: ScoreScale
    grades: list[Grade] = Field(min_length=1)
    listed_grade: str = Field(min_length=1)
    conduct_lognormal_sigma: float = Field(ge=0.0)
    listed_response: ListedResponse
    listing: ListingRule
    sensors: dict[str, Sensor] = Field(min_length=1)
    behaviours: list[Behaviour] = Field(min_length=1)

    def with_sizes(self, citizens: int | None = None, days: int | None = None) -> Scenario:
        """Return a copy with another population size or horizon, validated again."""
        update = {k: v for k, v in {"citizens": citizens, "days": days}.items() if v is not None}
        return validate_scenario({**self.model_dump(), **update}, source=f"{self.name} (sizes)")

    def grade_names(self) -> list[str]:
        """All grades, best first, ending with the listed grade."""
        return [g.grade for g in self.grades] + [self.listed_grade]


def _consistency_problems(s: Scenario) -> list[tuple[str, Any, str]]:
    """Cross-field rules pydantic's per-field checks cannot see, as (field, value, reason)."""
    problems: list[tuple[str, Any, str]] = []
    lo, hi = s.score.floor, s.score.ceiling
    if lo > hi:
        problems.append(("score.floor", lo, f"the floor must not exceed the ceiling ({hi})"))
    if not lo <= s.score.start <= hi:
        problems.append(("score.start", s.score.start, f"scores start within [{lo}, {hi}]"))
    mins = [g.min for g in s.grades]
    for i in range(1, len(mins)):
        if mins[i] >= mins[i - 1]:
            problems.append((
                f"grades[{i}].min", mins[i],
                f"grades go from best to worst with falling minimums; '{s.grades[i].grade}' "
                f"must start below '{s.grades[i - 1].grade}' ({mins[i - 1]})",
            ))
    if mins and mins[-1] > lo:
        problems.append((
            f"grades[{len(mins) - 1}].min", mins[-1],
            f"a score at the floor ({lo}) would have no grade; lower the last grade's min to {lo}",
        ))
    names = [g.grade for g in s.grades]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((f"grades[{i}].grade", name, "each grade name must be unique"))
    if s.listed_grade in names:
        problems.append(("listed_grade", s.listed_grade,
                         "the listed grade must differ from the score grades"))
    seen: set[str] = set()
    for i, b in enumerate(s.behaviours):
        if b.name in seen:
            problems.append((f"behaviours[{i}].name", b.name, "behaviour names must be unique"))
        seen.add(b.name)
        if b.points == 0:
            problems.append((f"behaviours[{i}].points", 0,
                             "points must be non-zero: a behaviour that moves no score is not "
                             "scored; remove it or give it points"))
        if b.sensor not in s.sensors:
            close = difflib.get_close_matches(b.sensor, list(s.sensors), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append((f"behaviours[{i}].sensor", b.sensor,
                             f"unknown sensor{hint}; the scenario defines: "
                             f"{', '.join(s.sensors)}"))
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
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if args:
        return _inner_model(args[-1])
    return annotation


def validate_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Validate raw data as a scenario.

    Args:
        data: the parsed TOML or JSON document.
        source: where the data came from, used in error messages (e.g. a file name).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: listing every problem, one per line, as ``scenario 'SOURCE', FIELD = VALUE:
            REASON``.
    """
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
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ScenarioError(f"scenario '{path.name}' is not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario '{path.name}': the top level must be a table of fields")
    return validate_scenario(data, source=path.name)
