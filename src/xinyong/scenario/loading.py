"""From raw data or a file to a checked :class:`~xinyong.scenario.models.Scenario`: pack names
resolved, absurd numbers refused, pydantic's errors explained, the cross-field rules checked.

Every problem is reported as a :class:`~xinyong.scenario.errors.ScenarioError` whose message
names the file, the field, the value and what is allowed, never as a traceback.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.models import Scenario
from xinyong.scenario.packs import builtin_scenarios, read_data_file, resolve_references
from xinyong.scenario.paths import set_paths
from xinyong.scenario.timeline import lever_problems, timeline_problems
from xinyong.scenario.validation import consistency_problems

__all__ = ["checked_timeline", "load_scenario", "validate_scenario"]


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _explain_pydantic(error: Mapping[str, Any], model: type[BaseModel]) -> str:
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
    """The model inside an annotation: ``X | None``, ``list[X]``, ``dict[str, X]`` give X."""
    args = getattr(annotation, "__args__", ())
    for arg in reversed(args):  # a dict's value, a list's item, the model of an optional
        inner = _inner_model(arg)
        if hasattr(inner, "model_fields"):
            return inner
    return args[-1] if args else annotation


#: How a value is shown in an error: short, however large or deep the value given.
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 3, 4, 4
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 60, 60, 40


def shown(value: Any) -> str:
    """A value as an error message shows it: its start, never the whole of a large one."""
    return _SHOWN.repr(value)


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
    elif isinstance(data, (int, float)) and not isinstance(data, bool) and abs(data) > _LARGEST:
        found.append((where, data, f"too large: numbers in a scenario stay within ±{_LARGEST:,}"))
    return found


def validate_scenario(data: dict[str, Any], source: str, folder: Path | None = None) -> Scenario:
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
    data = resolve_references(data, source, folder)
    changes = data.pop("set", None) if isinstance(data, dict) else None
    if changes is not None:
        return _with_changes(validate_scenario(data, source, None), changes, source)
    absurd = _absurd_numbers(data)
    if absurd:
        raise ScenarioError(
            "\n".join(
                f"scenario '{source}', {where} = {shown(value)}: {reason}"
                for where, value, reason in absurd
            )
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _format_loc(err["loc"])
            value = "" if err["type"] == "missing" else f" = {shown(err['input'])}"
            if isinstance(err["input"], dict):
                value = ""
            lines.append(f"scenario '{source}', {where}{value}: {_explain_pydantic(err, Scenario)}")
        raise ScenarioError("\n".join(lines)) from None
    problems = consistency_problems(scenario)
    if not problems and scenario.timeline:  # each change checked on a valid scenario
        problems = timeline_problems(scenario, validate_scenario)
    if not problems and scenario.levers:
        problems = lever_problems(scenario)
    if problems:
        raise ScenarioError(
            "\n".join(
                f"scenario '{source}', {field} = {shown(value)}: {reason}"
                for field, value, reason in problems
            )
        )
    return scenario


def _with_changes(base: Scenario, changes: Any, source: str) -> Scenario:
    """A scenario's own ``set`` table (paths as ``--set``) applied to what its packs say."""
    if not isinstance(changes, dict) or not changes:
        raise ScenarioError(
            f"scenario '{source}', set: a table of paths and values, e.g. "
            'set = { "sensors.camera.misidentify" = 0.05 }'
        )
    try:
        return validate_scenario(set_paths(base.model_dump(by_alias=True), changes), source)
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in the scenario's own set table)") from None


def checked_timeline(scenario: Scenario) -> Scenario:
    """The scenario, once every change of its timeline is checked (see
    :func:`~xinyong.scenario.timeline.timeline_problems`).

    Raises:
        ScenarioError: one line per problem, naming the change, the path and the fix.
    """
    problems = timeline_problems(scenario, validate_scenario)
    if problems:
        raise ScenarioError(
            "\n".join(
                f"scenario '{scenario.name}', {field} = {value!r}: {reason}"
                for field, value, reason in problems
            )
        )
    return scenario


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
    return validate_scenario(read_data_file(path, "scenario"), source=path.name, folder=path.parent)
