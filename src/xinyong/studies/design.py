"""An experiment's design: a base scenario, the arms that change it, the seeds and the metrics.

A design is TOML (or a dict in Python). The smallest names its arms::

    scenario = "reference"
    citizens = 50000
    days = 365
    seeds = [1, 2, 3, 4, 5]                 # or seeds = 5, for 1..5
    metrics = ["wrongly_listed", "mean_score"]
    baseline = "cameras-1pc"

    [[arms]]
    name = "cameras-1pc"

    [[arms]]
    name = "cameras-5pc"
    set = { "sensors.camera.misidentify" = 0.05 }

A design with ``[[factors]]`` makes its arms from them (``design = ...``):

- ``factorial``: every combination of the factors' ``values`` (or ``range`` in ``steps``);
- ``one-at-a-time``: a ``baseline`` arm with every factor at its base (``base``, default the
  scenario's value), and one arm for each other value of each factor;
- ``latin-hypercube``, ``morris``, ``sobol``: ``samples`` points over each factor's ``range``,
  drawn by SALib's samplers (Morris: ``samples`` trajectories on ``levels`` levels; Sobol:
  Saltelli's scheme, ``samples`` × (factors + 2) points), plus a ``baseline`` arm, the
  scenario as it is.

Every arm is checked (its overrides applied and the scenario validated) before any run starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong.scenario import Scenario, ScenarioError, load_scenario
from xinyong.scenario.overrides import OverrideError, apply, get, normalise

__all__ = ["Arm", "Design", "DesignError", "Factor", "Plan", "load_design", "plan"]

Kind = Literal["arms", "factorial", "one-at-a-time", "latin-hypercube", "morris", "sobol"]
SENSITIVITY: tuple[str, ...] = ("morris", "sobol")
SAMPLED: tuple[str, ...] = ("latin-hypercube", "morris", "sobol")


class DesignError(ValueError):
    """A design that cannot be run, with what to change."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(_Model):
    """One arm: a name and the overrides (path → value) it applies to the base scenario."""

    name: str = Field(min_length=1)
    set: dict[str, Any] = {}


class Factor(_Model):
    """A field the design varies: its path, and its values or its range."""

    path: str = Field(min_length=1)
    name: str | None = Field(
        default=None, description="short name in arm names (default: the path's last part)"
    )
    values: list[Any] | None = None
    range: tuple[float, float] | None = None
    steps: int = Field(
        default=2, ge=2, description="values over the range (factorial, one-at-a-time)"
    )
    base: Any = Field(
        default=None, description="one-at-a-time: the base value (default: the scenario's)"
    )
    integer: bool = Field(default=False, description="round sampled values (days, points)")

    @model_validator(mode="after")
    def _values_or_range(self) -> Factor:
        if (self.values is None) == (self.range is None):
            raise ValueError(
                f"factor '{self.path}': give values = [...] or range = [lo, hi], one of the two"
            )
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(
                f"factor '{self.path}': range = {list(self.range)} must go from low to high"
            )
        if self.values is not None and not self.values:
            raise ValueError(f"factor '{self.path}': values must not be empty")
        return self

    def grid(self) -> list[Any]:
        """The values of a factorial or one-at-a-time design."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        grid = np.linspace(self.range[0], self.range[1], self.steps)
        return [round(v) if self.integer else round(float(v), 12) for v in grid]


class Design(_Model):
    """An experiment: base scenario, sizes, seeds, metrics, and arms or factors."""

    scenario: str = "reference"
    citizens: int | None = Field(default=None, gt=0)
    days: int | None = Field(default=None, gt=0)
    seeds: list[int] | int = Field(description="seeds (replicates), or a count for 1..N")
    metrics: list[str] = Field(min_length=1, description="summary keys, nested by dotted path")
    baseline: str | None = Field(default=None, description="the arm others are compared to")
    set: dict[str, Any] = Field(default={}, description="overrides every arm shares")
    design: Kind | None = Field(
        default=None, description="default: arms if [[arms]] are given, else factorial"
    )
    arms: list[Arm] = []
    factors: list[Factor] = []
    samples: int = Field(
        default=8,
        ge=1,
        description="points (latin-hypercube), trajectories (morris) or base samples (sobol)",
    )
    levels: int = Field(default=4, ge=2, description="morris: levels of the grid")
    sample_seed: int = Field(default=0, ge=0, description="seed of the sampler")

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        seeds = self.seed_list()
        if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct non-negative integers (or a count)")
        kind = self.kind()
        if kind == "arms":
            if not self.arms:
                raise ValueError(
                    "give [[arms]] (each a name and a set = {...}), or [[factors]] and a design"
                )
            if self.factors:
                raise ValueError(
                    "give [[arms]] or [[factors]], not both: arms are made from the factors"
                )
        else:
            if self.arms:
                raise ValueError(
                    f"design = '{kind}' makes its arms from [[factors]]: remove "
                    f"[[arms]], or use design = 'arms'"
                )
            if not self.factors:
                raise ValueError(f"design = '{kind}' needs [[factors]]")
            if kind in SAMPLED:
                for f in self.factors:
                    if f.range is None:
                        raise ValueError(
                            f"design = '{kind}' samples each factor's range: "
                            f"give factor '{f.path}' range = [lo, hi]"
                        )
        names = [a.name for a in self.arms]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"arm names must be unique: '{name}' is given twice")
        return self

    def kind(self) -> str:
        """The design's kind, defaults applied."""
        return self.design or ("arms" if self.arms else "factorial")

    def seed_list(self) -> list[int]:
        """The seeds, a count expanded to 1..N."""
        return list(range(1, self.seeds + 1)) if isinstance(self.seeds, int) else self.seeds


@dataclass(frozen=True)
class Plan:
    """What an experiment runs: every arm's overrides and scenario, checked.

    Attributes:
        design: the design.
        base: the base scenario, sizes and shared overrides applied.
        arms: arm name → its overrides (full paths), in order.
        factors: the paths varied, as columns of the runs table.
        values: arm name → path → the value the arm runs with.
        baseline: the arm the others are compared to.
        sample: the sampled points (sensitivity designs; rows in arm order after the
            baseline), else None.
    """

    design: Design
    base: Scenario
    arms: dict[str, dict[str, Any]]
    factors: list[str]
    values: dict[str, dict[str, Any]]
    baseline: str
    sample: np.ndarray | None

    def fingerprint(self) -> str:
        """A hash of the base scenario: runs made from another base cannot be reused."""
        text = json.dumps(self.base.model_dump(by_alias=True), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def problem(self) -> dict[str, Any]:
        """The SALib problem of a sampled design."""
        return {
            "num_vars": len(self.design.factors),
            "names": list(self.factors),
            "bounds": [list(f.range or (0.0, 1.0)) for f in self.design.factors],
        }


def load_design(source: str | Path | Mapping[str, Any]) -> tuple[Design, Path | None]:
    """Read a design from a TOML file (or take a dict); returns it and its file's folder.

    Raises:
        DesignError: the file is missing or not TOML, or a field is wrong.
    """
    where: Path | None = None
    label = "design"
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        label = f"design '{path.name}'"
        if not path.is_file():
            raise DesignError(f"no design file '{path}'")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DesignError(f"{label} is not valid TOML: {exc}") from None
        where = path.parent
    try:
        return Design.model_validate(data), where
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field; allowed: " + ", ".join(_allowed(err["loc"]))
            lines.append(f"{label}, {loc}: {msg}")
        raise DesignError("\n".join(lines)) from None


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Design
    if loc and loc[0] == "arms":
        model = Arm
    elif loc and loc[0] == "factors":
        model = Factor
    return list(model.model_fields)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def short_names(factors: list[Factor]) -> list[str]:
    """Each factor's name in arm names and tables: its own, else its path's last part (the
    whole path where two would share one)."""
    last = [f.name or f.path.rsplit(".", 1)[-1] for f in factors]
    return [n if last.count(n) == 1 else f.path for n, f in zip(last, factors, strict=True)]


def _make_arms(d: Design, base: Scenario) -> tuple[list[Arm], str, np.ndarray | None]:
    """The arms of a design, its baseline, and its sampled points (if sampled)."""
    kind = d.kind()
    if kind == "arms":
        return list(d.arms), d.baseline or d.arms[0].name, None
    short = short_names(d.factors)
    paths = [f.path for f in d.factors]

    def name(values: list[Any]) -> str:
        return ",".join(f"{n}={_number(v)}" for n, v in zip(short, values, strict=True))

    if kind == "factorial":
        arms = [
            Arm(name=name(list(combo)), set=dict(zip(paths, combo, strict=True)))
            for combo in itertools.product(*(f.grid() for f in d.factors))
        ]
        return arms, d.baseline or arms[0].name, None
    if kind == "one-at-a-time":
        bases = [f.base if f.base is not None else get(base, f.path) for f in d.factors]
        arms = [Arm(name="baseline", set=dict(zip(paths, bases, strict=True)))]
        for i, f in enumerate(d.factors):
            for v in f.grid():
                if v != bases[i]:
                    arms.append(
                        Arm(name=f"{short[i]}={_number(v)}", set={**arms[0].set, f.path: v})
                    )
        return arms, d.baseline or "baseline", None
    from xinyong.studies.sensitivity import sample

    problem = {
        "num_vars": len(paths),
        "names": paths,
        "bounds": [list(f.range or (0.0, 1.0)) for f in d.factors],
    }
    points = sample(kind, problem, d.samples, d.levels, d.sample_seed)
    width = len(str(len(points)))
    arms = [Arm(name="baseline")]
    for i, row in enumerate(points):
        values = [round(v) if f.integer else float(v) for v, f in zip(row, d.factors, strict=True)]
        arms.append(
            Arm(name=f"{kind}-{i + 1:0{width}d}", set=dict(zip(paths, values, strict=True)))
        )
    return arms, d.baseline or "baseline", points


def safe_name(arm: str) -> str:
    """An arm's name as a file name."""
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", arm)


def plan(design: Design, folder: Path | None = None) -> Plan:
    """Check a design against its scenario and make every arm's overrides.

    Args:
        design: the design.
        folder: where a scenario file named by a relative path is looked for (the design
            file's folder); default the working folder.

    Raises:
        DesignError: the scenario cannot be loaded, a path names nothing, a value is refused
            for some arm, or the baseline is not an arm. Nothing has run.
    """
    name = design.scenario
    if folder is not None and not Path(name).is_absolute() and (folder / name).is_file():
        name = str(folder / name)
    try:
        base = apply(load_scenario(name), design.set).with_sizes(
            citizens=design.citizens, days=design.days
        )
    except ScenarioError as exc:
        raise DesignError(str(exc)) from None
    for f in design.factors:
        try:
            normalise(base, {f.path: None})
        except OverrideError as exc:
            raise DesignError(f"factor '{f.path}': {exc}") from None
    arms, baseline, points = _make_arms(design, base)
    names = [a.name for a in arms]
    if baseline not in names:
        raise DesignError(
            f"baseline = '{baseline}' is not an arm{_did_you_mean(baseline, names)}"
            f"; arms: {', '.join(names[:20])}"
        )
    files = [safe_name(n) for n in names]
    for n, file in zip(names, files, strict=True):
        if files.count(file) > 1:
            raise DesignError(
                f"arm '{n}': another arm's name differs only in characters a file "
                f"name cannot hold; rename one"
            )
    overrides: dict[str, dict[str, Any]] = {}
    problems = []
    for arm in arms:
        try:
            overrides[arm.name] = normalise(base, arm.set)
            apply(base, arm.set, source=f"arm '{arm.name}'")
        except OverrideError as exc:
            problems.append(f"arm '{arm.name}': {exc}")
    if problems:
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DesignError("\n".join(problems[:10]) + more)
    factors: list[str] = []
    for o in overrides.values():
        factors += [p for p in o if p not in factors]
    values = {
        arm: {p: o[p] if p in o else get(base, p) for p in factors} for arm, o in overrides.items()
    }
    return Plan(design, base, overrides, factors, values, baseline, points)


def _did_you_mean(name: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
