"""Paths into a scenario: a field named the way a reader names it, as ``--set`` and dated
changes write it (tables by key, lists by the name of the element, fields by name, joined by
dots). Reading values, walking paths and setting them in a scenario's data; checking the
result is :func:`xinyong.scenario.overrides.apply`'s.

See :mod:`xinyong.scenario.overrides` for the forms a path may take.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from xinyong.scenario.city import Scenario
from xinyong.scenario.errors import ScenarioError

__all__ = [
    "OverrideError",
    "element_key",
    "get",
    "normalise",
    "parse",
    "parse_value",
    "set_paths",
]

#: The field that names an element of a list, by the list's model, tried in order.
_KEYS = ("name", "grade", "behaviour", "service", "kind")

#: The scheme fields a single-scheme scenario keeps at its top level.
_SINGLE_SCHEME = ("score", "grades", "listed_grade", "listing")


class OverrideError(ScenarioError):
    """An override whose path or value cannot be used, with what to write instead."""


# ---- reading text ----------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A value given as text: a TOML value, else JSON (``null``), else the text itself.

    >>> parse_value("0.05"), parse_value("true"), parse_value("camera"), parse_value("[1, 2]")
    (0.05, True, 'camera', [1, 2])
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def parse(assignments: Iterable[str]) -> dict[str, Any]:
    """``PATH=VALUE`` texts (as given to ``--set``) as a dict of path to value.

    Raises:
        OverrideError: a text without ``=``, with an empty path, or with a path given before
            (which value was meant cannot be told).
    """
    out: dict[str, Any] = {}
    for text in assignments:
        path, eq, value = text.partition("=")
        if not eq or not path.strip():
            raise OverrideError(
                f"--set {text!r}: write PATH=VALUE, e.g. --set sensors.camera.misidentify=0.05"
            )
        if path.strip() in out:
            raise OverrideError(
                f"--set {text!r}: {path.strip()} is set twice; give it once, with the value meant"
            )
        out[path.strip()] = parse_value(value.strip())
    return out


# ---- the shape of a field --------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` and without ``| None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _shape(annotation: Any) -> tuple[str, Any]:
    """("model", cls), ("list", item), ("dict", value) or ("scalar", None)."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin is list:
        return "list", typing.get_args(annotation)[0]
    if origin is dict:
        return "dict", typing.get_args(annotation)[1]
    return "scalar", None


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields by the name a file uses (the alias, if any) → annotation."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _noun(field: str) -> str:
    return {
        "behaviours": "behaviour",
        "sensors": "sensor",
        "operators": "operator",
        "lists": "list",
        "grades": "grade",
        "points": "points rule",
        "services": "service",
        "rules": "rule",
        "notices": "notice",
        "terms": "term",
        "overrides": "grade override",
        "sharing": "sharing rule",
        "timeline": "change dated",
    }.get(field, "key")


def _hint(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _listing(options: list[str], limit: int = 30) -> str:
    shown = ", ".join(options[:limit])
    return shown + (f" ... ({len(options)} in all)" if len(options) > limit else "")


def element_key(item: Any) -> str | None:
    """The name an element of a list goes by in a path (its name, grade, behaviour...; a
    dated change of the timeline goes by its date, ``2016-03-13``)."""
    if isinstance(item, dict):
        for key in _KEYS:
            if isinstance(item.get(key), str):
                return item[key]
        if "set" in item and item.get("date") is not None:
            return str(item["date"])
    return None


def _tokens(path: str) -> list[str]:
    tokens: list[str] = []
    for part in path.strip().split("."):
        m = re.fullmatch(r"(.+?)\[(\d+)\]", part)
        tokens += [m.group(1), m.group(2)] if m else [part]
    if not path.strip() or any(not t for t in tokens):
        raise OverrideError(
            f"'{path}' is not a path: write fields joined by dots, e.g. sensors.camera.misidentify"
        )
    return tokens


# ---- walking a path --------------------------------------------------------------------------


def _walk(data: dict[str, Any], path: str, create: bool) -> tuple[Any, Any, str, Any]:
    """Follow ``path`` through a scenario's data.

    Returns:
        (container, key, canonical path, annotation of the value) so that
        ``container[key]`` is the value the path names.
    """
    tokens = _tokens(path)
    if (
        tokens[:3] == ["operators", "city", "scheme"]
        and not data.get("operators")
        and len(tokens) > 3
    ):
        tokens = tokens[3:]  # a single-scheme scenario: its scheme is at the top level
    node: Any = data
    shape: tuple[str, Any] = ("model", Scenario)
    where: list[str] = []
    key: str | int  # a field or a dict's key; an index into a list
    i = 0
    while i < len(tokens):
        token = tokens[i]
        here = ".".join(where) or "the scenario"
        kind, inner = shape
        last = i == len(tokens) - 1
        if kind == "model":
            fields = _fields(inner)
            if token not in fields:
                below = [
                    name
                    for name, ann in fields.items()
                    if _shape(ann)[0] == "model" and token in _fields(_shape(ann)[1])
                ]
                if len(below) == 1:  # skip one level: scheme.floor is scheme.score.floor
                    tokens[i:i] = [below[0]]
                    continue
                if len(below) > 1:
                    paths = ", ".join(f"{'.'.join([*where, b, token])}" for b in below)
                    raise OverrideError(
                        f"'{token}' is in several parts of {here}: say which, {paths}"
                    )
                raise OverrideError(
                    f"no field '{token}' in {here}{_hint(token, list(fields))}"
                    f" (fields: {_listing(list(fields))})"
                )
            key, annotation = token, fields[token]
            if node.get(key) is None and not last:
                if not create:
                    raise OverrideError(f"{'.'.join([*where, key])} is not set in this scenario")
                node[key] = [] if _shape(annotation)[0] == "list" else {}
        elif kind == "dict" and where[-1:] == ["set"] and where[:1] == ["timeline"]:
            # What a dated change sets: the rest of the path is one key, itself a path
            # (timeline.2016-03-13.set.behaviours.theft.p), matched as the change wrote it.
            key, annotation = _set_key(data, node, ".".join(tokens[i:]), here, create), Any
            token, last, tokens = key, True, tokens[: i + 1]
        elif kind == "dict":
            key, annotation = token, inner
            if key not in node and (not last or _shape(inner)[0] == "model" or not create):
                options = list(node)
                raise OverrideError(
                    f"no {_noun(where[-1])} '{token}' in {here}"
                    f"{_hint(token, options)} ({where[-1]}: "
                    f"{_listing(options) or 'none'})"
                )
        elif kind == "list":
            names = [element_key(item) for item in node]
            index: int
            if token in names:
                index = names.index(token)
            elif token.isdigit() and int(token) < len(node):
                index = int(token)
            else:
                options = [n for n in names if n is not None]
                what = f"{_noun(where[-1])} '{token}'"
                if options:
                    raise OverrideError(
                        f"no {what} in {here}{_hint(token, options)} "
                        f"({where[-1]}: {_listing(options)})"
                    )
                raise OverrideError(f"no {what} in {here}: give an index from 0 to {len(node) - 1}")
            key, annotation = index, inner
            token = names[index] or str(index)
        else:
            raise OverrideError(
                f"{here} is a value, not a table: '{token}' cannot be looked up in it"
            )
        where.append(token)
        if last:
            return node, key, ".".join(where), annotation
        node, shape = node[key], _shape(annotation)
        i += 1
    raise AssertionError("unreachable")


def _set_key(data: dict[str, Any], node: dict[str, Any], path: str, here: str, create: bool) -> str:
    """The key of a dated change's ``set`` that ``path`` names: the key itself, or the one
    written another way for the same field (``operators.city.scheme.floor`` for
    ``...score.floor``); a new key only when creating."""
    if path in node:
        return path
    sets = _listing(list(node)) or "nothing"
    try:
        want = _walk(data, path, create=False)[2]
    except OverrideError as exc:
        raise OverrideError(f"{here}: {exc} (it sets {sets})") from None
    for key in node:
        try:
            if _walk(data, key, create=False)[2] == want:
                return key
        except OverrideError:
            continue
    if create:
        return want
    raise OverrideError(f"{here} sets no '{path}' (it sets {sets}); name one of its paths")


def normalise(scenario: Scenario, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides with every path written out in full (as :func:`apply` records them).

    Raises:
        OverrideError: a path that names nothing in the scenario.
    """
    data = scenario.model_dump(by_alias=True)
    out: dict[str, Any] = {}
    for path, value in overrides.items():
        out[_walk(data, path, create=True)[2]] = value
    return out


def get(scenario: Scenario, path: str) -> Any:
    """The value at ``path`` in a scenario (None where an optional part is not set).

    Raises:
        OverrideError: a path that names nothing in the scenario.
    """
    data = scenario.model_dump(by_alias=True)
    try:
        container, key, _, _ = _walk(data, path, create=False)
    except OverrideError as exc:
        if "is not set in this scenario" in str(exc):
            return None
        raise
    return container[key]


def set_paths(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario data (as ``model_dump(by_alias=True)`` gives it) with each path set to its
    value, in the order given; nothing is validated here.

    Raises:
        OverrideError: a path that names nothing in the scenario.
    """
    for path, value in changes.items():
        container, key, _, _ = _walk(data, path, create=True)
        container[key] = value
    return data
