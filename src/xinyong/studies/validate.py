"""Validation: a scenario held to the published record, pattern by pattern.

A pattern file (``patterns/<scenario>.toml``, beside the packs) lists published facts that a
scenario must reproduce, each with its source: the published value, the simulated figure as an
expression over the run's summary, and the range the simulated mean must fall in. Validation
runs the scenario over several seeds and gives each pattern its mean, a 95 % interval over the
seeds (Student's t) and a verdict.

Expressions are arithmetic (``+ - * /``, parentheses, numbers) over summary values named in
braces, ``{operators.city.lists.dishonest-debtors.members}``, and a few derived names:
``adults`` (citizens aged 18 and over) and ``years`` (days / 365).
"""

from __future__ import annotations

import ast
import operator
import os
import re
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Pattern", "Patterns", "Validation", "evaluate", "load_patterns", "validate"]


class Pattern(BaseModel):
    """One published fact and the simulated figure that must reproduce it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    value: str = Field(min_length=1, description="the simulated figure, as an expression")
    published: float | str = Field(description="the published value (a number, or words)")
    low: float = Field(description="the simulated mean must be at least this")
    high: float = Field(description="... and at most this")
    unit: str = ""
    source: str = Field(min_length=1)


class Patterns(BaseModel):
    """The patterns of one scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    about: str = ""
    patterns: list[Pattern] = Field(min_length=1)


def load_patterns(name_or_path: str | Path) -> Patterns:
    """The patterns of a built-in scenario, by name, or of a pattern file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = Path(str(resources.files("xinyong") / "patterns" / f"{name_or_path}.toml"))
        if not path.exists():
            raise ScenarioError(
                f"no published patterns for scenario '{name_or_path}'; give "
                f"a pattern file with --patterns FILE"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        patterns = Patterns.model_validate(data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"pattern file '{path.name}' cannot be read: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"pattern file '{path.name}', {where}: {first['msg']}") from None
    for p in patterns.patterns:
        _parse(p.value)  # a bad expression is refused before anything runs
    return patterns


_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_REF = re.compile(r"\{([^{}]+)\}")


def _parse(expression: str) -> tuple[ast.expr, list[str]]:
    paths: list[str] = []

    def name(match: re.Match[str]) -> str:
        paths.append(match.group(1).strip())
        return f"_v{len(paths) - 1}"

    try:
        tree = ast.parse(_REF.sub(name, expression), mode="eval").body
    except SyntaxError:
        raise ScenarioError(
            f"pattern value '{expression}' is not an expression of numbers, "
            f"+ - * / and {{summary.paths}}"
        ) from None
    for node in ast.walk(tree):
        if not isinstance(
            node,
            ast.BinOp
            | ast.UnaryOp
            | ast.Constant
            | ast.Name
            | ast.operator
            | ast.unaryop
            | ast.Load,
        ):
            raise ScenarioError(
                f"pattern value '{expression}': only numbers, + - * / and "
                f"{{summary.paths}} are allowed"
            )
    return tree, paths


def _lookup(summary: dict[str, Any], path: str) -> float:
    derived = {
        "adults": lambda: summary["citizens"] - summary["population"]["children"],
        "years": lambda: summary["days"] / 365.0,
    }
    if path in derived:
        return float(derived[path]())
    node: Any = summary
    for i, key in enumerate(path.split(".")):
        if not isinstance(node, dict) or key not in node:
            here = ".".join(path.split(".")[:i]) or "the summary"
            keys = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
            raise ScenarioError(f"no '{key}' in {here}; it has: {keys}")
        node = node[key]
    return float(node)


def evaluate(expression: str, summary: dict[str, Any]) -> float:
    """The value of a pattern expression over one run's summary."""
    tree, paths = _parse(expression)
    values = {f"_v{i}": _lookup(summary, p) for i, p in enumerate(paths)}

    def walk(node: ast.expr) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                return _lookup(summary, node.id)
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -walk(node.operand) if isinstance(node.op, ast.USub) else walk(node.operand)
        assert isinstance(node, ast.BinOp)
        left, right = walk(node.left), walk(node.right)
        return (
            _OPS[type(node.op)](left, right)
            if right or not isinstance(node.op, ast.Div)
            else float("nan")
        )

    return walk(tree)


@dataclass
class Validation:
    """A scenario against its patterns: one row per pattern, and whether all passed.

    Attributes:
        scenario: the scenario's name.
        citizens: its population in the runs.
        seeds: the seeds run.
        rows: pattern, published, source, mean, lo, hi (95 % over seeds), low, high, unit,
            verdict ("pass" or "FAIL"), and each seed's value.
    """

    scenario: str
    citizens: int
    seeds: list[int]
    rows: pd.DataFrame

    @property
    def passed(self) -> bool:
        """Whether every pattern passed."""
        return bool((self.rows["verdict"] == "pass").all())


def _summary(scenario: Scenario, seed: int, threads: bool) -> dict[str, Any]:
    from xinyong.engine.city import City

    city = City(scenario, seed, None, threads=threads)
    return city.run().summary()


def validate(
    scenario: str | Path | Scenario,
    patterns: str | Path | Patterns | None = None,
    *,
    citizens: int | None = None,
    days: int | None = None,
    seeds: int | list[int] = 3,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Validation:
    """Run a scenario over several seeds and hold it to its published patterns.

    Args:
        scenario: a built-in scenario name, a scenario file, or a Scenario.
        patterns: the patterns (default: the built-in ones of the scenario's name).
        citizens: population (default: the scenario's).
        days: days (default: the scenario's).
        seeds: how many seeds (1, 2, ...), or the seeds themselves.
        workers: processes to run seeds on (default: one per core, at most one per seed).
        progress: called with the number of runs finished after each.
    """
    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    chosen = chosen.with_sizes(citizens=citizens, days=days)
    if not isinstance(patterns, Patterns):
        patterns = load_patterns(patterns if patterns is not None else chosen.name)
    seed_list = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    workers = workers or min(len(seed_list), os.cpu_count() or 1)
    summaries: list[dict[str, Any]] = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(_summary, chosen, s, False) for s in seed_list]
            for future in futures:
                summaries.append(future.result())
                if progress:
                    progress(len(summaries))
    else:
        for s in seed_list:
            summaries.append(_summary(chosen, s, True))
            if progress:
                progress(len(summaries))
    rows = []
    for p in patterns.patterns:
        values = np.array([evaluate(p.value, s) for s in summaries])
        mean = float(values.mean())
        lo = hi = mean
        if values.size > 1 and values.std() > 0:
            from scipy import stats  # here: importing scipy.stats takes a second

            lo, hi = stats.t.interval(0.95, values.size - 1, loc=mean, scale=stats.sem(values))
        rows.append(
            {
                "pattern": p.name,
                "published": p.published,
                "source": p.source,
                "mean": mean,
                "lo": float(lo),
                "hi": float(hi),
                "low": p.low,
                "high": p.high,
                "unit": p.unit,
                "verdict": "pass" if p.low <= mean <= p.high else "FAIL",
                "values": values.tolist(),
            }
        )
    return Validation(chosen.name, chosen.citizens, seed_list, pd.DataFrame(rows))
