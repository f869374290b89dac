"""Validation: a scenario held to the published record, figure by figure.

Two kinds of check, both run over several seeds, each with its mean, a 95 % interval over the
seeds (Student's t) and a verdict:

- **patterns**: a pattern file (``patterns/<scenario>.toml``, beside the packs) lists published
  facts a scenario must reproduce, each with its source: the published value, the simulated
  figure as an expression over the run's summary, and the range it must fall in. The steady
  cities (rongcheng, nation) are held to 2018's flows and to a stock that holds still;
- **a record** (``--record FILE``, in the format of ``xinyong/sources/record.toml``; the one
  xinyong ships for a scenario with a ``[record]`` table and no patterns): each dated
  observation the run covers, against its counterpart at its date scaled to the country
  (:mod:`xinyong.records.counterparts`), within a tolerance of the published value (a third).

A check **passes** only when its whole interval lies inside its range. An interval wider than
the range, or one that crosses an edge while the mean is inside, is **inconclusive: run more
seeds**, never a pass; a mean outside the range (or a whole interval outside) **fails**.

Expressions are arithmetic (``+ - * /``, parentheses, numbers) over summary values named in
braces, ``{operators.city.lists.dishonest-debtors.members}``, and a few derived names:
``adults`` (citizens aged 18 and over) and ``years`` (days / 365).
"""

from __future__ import annotations

import ast
import datetime as dt
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

from xinyong.primitives.shown import Shown, plots
from xinyong.scenario import Scenario, ScenarioError, load_scenario
from xinyong.scenario.published import Record, load_record

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "TOLERANCE",
    "Pattern",
    "Patterns",
    "Validation",
    "evaluate",
    "load_patterns",
    "validate",
    "verdict",
]


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


#: Verdicts.
PASS, FAIL, INCONCLUSIVE = "pass", "FAIL", "inconclusive: run more seeds"
#: How far from a published value a record check may land: a third of it.
TOLERANCE = 1 / 3
_KIND_WORDS = {
    "cumulative": "running total since {origin:%B %Y}, country",
    "flow": "in the period, country",
    "rate": "a year, country",
    "stock": "on the date, country",
}


def verdict(mean: float, lo: float, hi: float, low: float, high: float, seeds: int) -> str:
    """A check's verdict from its mean and 95 % interval over ``seeds`` runs, against the range
    ``[low, high]`` (see the module's text)."""
    if not np.isfinite(mean):
        return FAIL
    if seeds < 2 and not (low <= mean <= high):
        return FAIL
    if seeds < 2:
        return INCONCLUSIVE  # one seed has no interval
    if low <= lo and hi <= high:
        return PASS
    if hi < low or lo > high:
        return FAIL
    if hi - lo > high - low or low <= mean <= high:
        return INCONCLUSIVE
    return FAIL


@dataclass
class Validation(Shown):
    """A scenario against its patterns or a record: one row per check.

    Attributes:
        scenario: the scenario's name.
        citizens: its population in the runs.
        seeds: the seeds run.
        rows: pattern, published, source, mean, lo, hi (95 % over seeds), low, high, unit,
            verdict (:data:`PASS`, :data:`FAIL` or :data:`INCONCLUSIVE`), and each seed's value.
        against: what the runs were held to: a pattern file's or a record's name.
        wall_seconds: how long the runs took.
    """

    scenario: str
    citizens: int
    seeds: list[int]
    rows: pd.DataFrame
    against: str = ""
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every check passed (an inconclusive one has not)."""
        return bool((self.rows["verdict"] == PASS).all())

    @property
    def failed(self) -> bool:
        """Whether some check failed outright."""
        return bool((self.rows["verdict"] == FAIL).any())

    def plot(self) -> Any:
        """Each check's interval over seeds against its range, as a Plotly figure (drawn by
        the views: :mod:`xinyong.views.validation_plot`)."""
        return plots(self)


# Each worker process counts the days its runs have done, for the progress bar.
_DAYS: Any = None


def _count_days(counter: Any) -> None:
    global _DAYS
    _DAYS = counter


def _run(
    scenario: Scenario, seed: int, threads: bool, record: Record | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One seed: its summary and, given a record, the counterpart rows of its observations."""
    from xinyong.engine.city import City
    from xinyong.records.counterparts import record_rows

    city = City(scenario, seed, None, threads=threads)
    counter = _DAYS

    def tick(day: int) -> None:
        if counter is not None:
            with counter.get_lock():
                counter.value += 1

    city.run(progress=tick)
    tally = city.tally()
    rows = record_rows(scenario, tally, city.day, record) if record is not None else []
    return city.summary(), rows


def _checks_of_record(record: Record, scenario: Scenario) -> list[dict[str, Any]]:
    """A record's observations the scenario covers, as checks: the published value within a
    third, named by quantity and date."""
    from xinyong.records.counterparts import window

    if scenario.record is None or scenario.start is None:
        raise ScenarioError(
            f"scenario '{scenario.name}' does not say how it meets a published record: give it "
            'start = "YYYY-MM-DD" (the date of its first day) and a [record] table naming its '
            "debtor lists and ticket services (see scenarios/history.toml)"
        )
    end = scenario.start + dt.timedelta(days=scenario.days - 1)
    checks = []
    for o in window(record, scenario.start, end):
        when = f"{o.from_.isoformat()} to {o.date.isoformat()}" if o.from_ else o.date.isoformat()
        checks.append(
            {
                "pattern": f"{o.quantity} ({o.kind}), {when}",
                "published": o.value,
                "low": o.value * (1 - TOLERANCE),
                "high": o.value * (1 + TOLERANCE),
                "unit": _KIND_WORDS[o.kind].format(origin=record.start)
                + f"; {o.scope.split('(')[0].split(';')[0].strip()}",
                "source": o.source,
                "key": (
                    o.quantity,
                    o.kind,
                    o.from_.isoformat() if o.from_ else None,
                    o.date.isoformat(),
                    o.scope,
                ),
            }
        )
    return checks


def validate(
    scenario: str | Path | Scenario,
    patterns: str | Path | Patterns | None = None,
    *,
    record: str | Path | Record | None = None,
    citizens: int | None = None,
    days: int | None = None,
    seeds: int | list[int] = 3,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Validation:
    """Run a scenario over several seeds and hold it to its published patterns, or a record.

    Args:
        scenario: a built-in scenario name, a scenario file, or a Scenario.
        patterns: the patterns (default: the built-in ones of the scenario's name, or, for a
            scenario with none and a ``[record]`` table, the record xinyong ships).
        record: a record file (or ``"record"``: the one xinyong ships) to hold the runs to
            instead of patterns.
        citizens: population (default: the scenario's).
        days: days (default: the scenario's).
        seeds: how many seeds (1, 2, ...), or the seeds themselves.
        workers: processes to run seeds on (default: one per core, at most one per seed).
        progress: called with (days done, days in all) as the runs go.
    """
    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    chosen = chosen.with_sizes(citizens=citizens, days=days)
    the_record: Record | None = None
    if record is None and patterns is None and chosen.record is not None:
        builtin = Path(str(resources.files("xinyong") / "patterns" / f"{chosen.name}.toml"))
        if not builtin.exists():
            record = "record"
    if record is not None:
        the_record = record if isinstance(record, Record) else load_record(record)
        checks = _checks_of_record(the_record, chosen)
        against = "the published record" if record == "record" else f"record {record}"
        if not checks:
            raise ScenarioError(
                f"the run ({chosen.start} for {chosen.days} days) covers no observation of "
                f"{against}"
            )
    else:
        if not isinstance(patterns, Patterns):
            patterns = load_patterns(patterns if patterns is not None else chosen.name)
        checks = [
            {**p.model_dump(exclude={"value"}), "pattern": p.name, "value": p.value}
            for p in patterns.patterns
        ]
        against = f"patterns of {patterns.scenario}"
    seed_list = list(range(1, seeds + 1)) if isinstance(seeds, int) else list(seeds)
    results, wall = _run_seeds(chosen, seed_list, workers, the_record, progress)
    rows = []
    for c in checks:
        if "key" in c:
            values = np.array([_simulated(rows_, c["key"]) for _, rows_ in results])
        else:
            values = np.array([evaluate(c["value"], summary) for summary, _ in results])
        rows.append(_row(c, values))
    out = pd.DataFrame(rows)
    return Validation(chosen.name, chosen.citizens, seed_list, out, against, wall)


def _run_seeds(
    scenario: Scenario,
    seeds: list[int],
    workers: int | None,
    record: Record | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[tuple[dict[str, Any], list[dict[str, Any]]]], float]:
    """Each seed's (summary, record rows), with progress in days done, and the wall time."""
    import multiprocessing as mp
    import time

    workers = workers or min(len(seeds), os.cpu_count() or 1)
    total = scenario.days * len(seeds)
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    t = time.perf_counter()
    if workers > 1:
        counter = mp.get_context("spawn").Value("q", 0)
        with ProcessPoolExecutor(
            workers,
            mp_context=mp.get_context("spawn"),
            initializer=_count_days,
            initargs=(counter,),
        ) as pool:
            futures = [pool.submit(_run, scenario, s, False, record) for s in seeds]
            while not all(f.done() for f in futures):
                _wait_briefly(futures)
                if progress:
                    progress(min(counter.value, total), total)
            out.extend(f.result() for f in futures)
    else:
        done = 0
        for s in seeds:
            _count_days(None)
            out.append(_run(scenario, s, True, record))
            done += scenario.days
            if progress:
                progress(done, total)
    if progress:
        progress(total, total)
    return out, time.perf_counter() - t


def _wait_briefly(futures: list[Any]) -> None:
    """Wait until a future finishes or a fifth of a second passes."""
    from concurrent.futures import FIRST_COMPLETED
    from concurrent.futures import wait as wait_for

    wait_for(futures, timeout=0.2, return_when=FIRST_COMPLETED)


def _simulated(rows: list[dict[str, Any]], key: tuple) -> float:
    for r in rows:
        if (r["quantity"], r["kind"], r["from"], r["date"], r["scope"]) == key:
            return float("nan") if r["simulated"] is None else float(r["simulated"])
    return float("nan")


def _row(check: dict[str, Any], values: np.ndarray) -> dict[str, Any]:
    mean = float(values.mean())
    lo = hi = mean
    if values.size > 1 and values.std() > 0 and np.isfinite(values).all():
        from scipy import stats  # here: importing scipy.stats takes a second

        lo, hi = stats.t.interval(0.95, values.size - 1, loc=mean, scale=stats.sem(values))
    return {
        "pattern": check["pattern"],
        "published": check["published"],
        "source": check["source"],
        "mean": mean,
        "lo": float(lo),
        "hi": float(hi),
        "low": check["low"],
        "high": check["high"],
        "unit": check["unit"],
        "verdict": verdict(mean, float(lo), float(hi), check["low"], check["high"], values.size),
        "values": values.tolist(),
    }
