"""Overrides: change one design choice of a scenario by its path, and check it like a file.

A path names a field the way a reader names it: tables by key, lists by the name of the
element, fields by name, joined by dots::

    sensors.camera.misidentify            # a sensor's field
    behaviours.jaywalking.p               # a behaviour, by name (or by index: behaviours.3.p)
    operators.city.scheme.score.floor     # an operator's scheme
    operators.city.scheme.lists.blacklist.term_days
    timeline.2016-03-13.set.behaviours.theft.p   # what a dated change sets (by its date)

A path may skip one level when the field it names is in exactly one part below
(``operators.city.scheme.floor`` is ``...scheme.score.floor``), and in a single-scheme scenario
such as ``reference`` the scheme's fields are at the top, with ``operators.city.scheme.`` as
an alias (its one operator is called ``city`` in summaries).

Values are TOML (or JSON) scalars, lists or inline tables when given as text
(``0.05``, ``true``, ``"camera"``, ``[0.5, 1.0]``, ``{detect = 0.5, misidentify = 0.1}``); text
that parses as neither is taken as a bare string. The changed scenario is validated again
through the scenario models, so every check a scenario file gets applies, and every mistake is
a :class:`OverrideError` that says how to fix it.

    >>> from xinyong.scenario import load_scenario
    >>> s = apply(load_scenario("reference"), {"sensors.camera.misidentify": 0.05})
    >>> s.sensors["camera"].misidentify
    0.05
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.loading import validate_scenario
from xinyong.scenario.models import Scenario
from xinyong.scenario.paths import (
    OverrideError,
    element_key,
    get,
    normalise,
    parse,
    parse_value,
    set_paths,
)

__all__ = [
    "OverrideError",
    "apply",
    "differences",
    "get",
    "normalise",
    "parse",
    "parse_value",
]


def apply(scenario: Scenario, overrides: Mapping[str, Any], source: str | None = None) -> Scenario:
    """A copy of ``scenario`` with each path set to its value, validated again.

    Args:
        scenario: the scenario to change (it is not modified).
        overrides: path → value; a text value is read as TOML (see :func:`parse_value`) only
            when it comes from :func:`parse`, so pass typed values from Python.
        source: how error messages name the result (default: the scenario and the overrides).

    Returns:
        The changed scenario. Every scenario check applies to it.

    Raises:
        OverrideError: a path that names nothing, or a value the scenario refuses.
    """
    if not overrides:
        return scenario
    data = set_paths(scenario.model_dump(by_alias=True), overrides)
    label = source or f"{scenario.name} with " + ", ".join(
        f"{p}={json.dumps(v)}" for p, v in overrides.items()
    )
    try:
        return validate_scenario(data, source=label)
    except ScenarioError as exc:
        raise OverrideError(str(exc)) from None


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{element_key(item) or i}", out)
    else:
        out[prefix] = value


def differences(a: Scenario, b: Scenario) -> dict[str, tuple[Any, Any]]:
    """Where two scenarios differ, by path: path → (value in a, value in b).

    The scenarios' ``about`` texts are left out.
    """
    fa: dict[str, Any] = {}
    fb: dict[str, Any] = {}
    _flatten(a.model_dump(by_alias=True, exclude={"about"}), "", fa)
    _flatten(b.model_dump(by_alias=True, exclude={"about"}), "", fb)
    return {
        k: (fa.get(k), fb.get(k))
        for k in [*fa, *(k for k in fb if k not in fa)]
        if fa.get(k) != fb.get(k)
    }
