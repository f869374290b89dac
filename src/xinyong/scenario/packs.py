"""Packs and scenario files: reading TOML or JSON (file errors that say what to do), the
built-in packs and scenarios, and replacing a scenario's pack names by the packs' contents.

Every table in a pack names its ``source``, so that every value in a run can be traced.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from xinyong.scenario.errors import ScenarioError, did_you_mean

__all__ = [
    "DuplicateKeyError",
    "builtin_packs",
    "builtin_scenarios",
    "load_pack",
    "read_data_file",
    "resolve_references",
    "strict_json",
]


class DuplicateKeyError(ValueError):
    """A JSON object that gives the same key twice (JSON would keep the last, silently).

    Args:
        path: where the object is (keys and list positions from the top).
        key: the key given twice.
    """

    def __init__(self, path: tuple[str | int, ...], key: str) -> None:
        self.path, self.key = path, key
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        super().__init__(
            f"{where + '.' if where else ''}{key} is given twice: give each field once "
            f"(JSON would keep the last silently)"
        )


class _RepeatedError(Exception):
    """A key given twice, somewhere (:func:`strict_json` then finds where)."""


class _Pairs(list):
    """An object's (key, value) pairs as written, repeats and all."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _RepeatedError
    return out


def _repeat(node: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The path of the first key given twice in a tree of :class:`_Pairs` and lists."""
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, _ in node:
            if key in seen:
                return (*path, key)
            seen.add(key)
        children = [((*path, k), v) for k, v in node]
    elif isinstance(node, list):
        children = [((*path, i), v) for i, v in enumerate(node)]
    else:
        return None
    for where, child in children:
        found = _repeat(child, where)
        if found is not None:
            return found
    return None


def strict_json(text: str | bytes) -> Any:
    """``json.loads``, refusing an object that gives a key twice.

    Raises:
        DuplicateKeyError: naming where the key is given twice.
        json.JSONDecodeError: the text is not JSON.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except _RepeatedError:
        path = _repeat(json.loads(text, object_pairs_hook=_Pairs), ())
        assert path is not None
        raise DuplicateKeyError(path[:-1], str(path[-1])) from None


MAX_NESTING = 64  # tables and lists within each other: a scenario needs fewer than ten


def _deep_json(text: str) -> str | None:
    """Where JSON text first nests more than :data:`MAX_NESTING` deep (``a.b[3]``), read
    without recursion; None if it never does."""
    stack: list[list[Any]] = []  # per open container: its bracket, key or index, expecting key
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if stack and stack[-1][0] == "{" and stack[-1][2]:
                stack[-1][1], stack[-1][2] = text[i + 1 : j], False
            i = j + 1
            continue
        if c in "[{":
            stack.append([c, 0 if c == "[" else "", c == "{"])
            if len(stack) > MAX_NESTING:
                parts = [f"[{s[1]}]" if s[0] == "[" else f".{s[1]}" for s in stack[:4]]
                return "".join(parts).lstrip(".") + "..."
        elif c in "]}" and stack:
            stack.pop()
        elif c == "," and stack:
            if stack[-1][0] == "[":
                stack[-1][1] += 1
            else:
                stack[-1][2] = True
        i += 1
    return None


def _deep_toml(text: str) -> str:
    """The key of the TOML line that nests deepest (its brackets counted)."""
    line = max(text.splitlines() or [""], key=lambda line: line.count("[") + line.count("{"))
    return line.partition("=")[0].strip()[:60] or "(top level)"


def read_data_file(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{what} '{path.name}' is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"{what} '{path.name}' cannot be read: {exc.strerror}") from None
    kind = "JSON" if path.suffix == ".json" else "TOML"
    if kind == "JSON" and text.count("[") + text.count("{") > MAX_NESTING:  # cheap before dear
        where = _deep_json(text)
        if where is not None:
            raise ScenarioError(
                f"{what} '{path.name}', {where}: nested more than {MAX_NESTING} deep, which "
                f"no JSON scenario needs; a field's value is a number, text, or a short list "
                f"or table"
            )
    try:
        data = strict_json(text) if path.suffix == ".json" else tomllib.loads(text)
    except DuplicateKeyError as exc:
        raise ScenarioError(f"{what} '{path.name}', {exc}") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{what} '{path.name}' is not valid {kind}: {exc}") from None
    except RecursionError:
        where = _deep_json(text) if kind == "JSON" else _deep_toml(text)
        raise ScenarioError(
            f"{what} '{path.name}', {where}: nested more than {MAX_NESTING} deep, which no "
            f"{kind} scenario needs; a field's value is a number, text, or a short list or table"
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{what} '{path.name}': the top level must be a table of fields")
    return data


def builtin_packs() -> dict[str, Path]:
    """The scheme packs and behaviour catalogues shipped with xinyong, by name."""
    folder = resources.files("xinyong") / "packs"
    return {
        p.name.removesuffix(".toml"): Path(str(p))
        for p in folder.iterdir()
        if p.name.endswith(".toml")
    }


def _find_pack(name: str, where: str, folder: Path | None = None) -> Path:
    """A built-in pack by name, or a pack file in the scenario file's own folder (never
    elsewhere: a scenario cannot make xinyong read any file it names)."""
    packs = builtin_packs()
    if name in packs:
        return packs[name]
    if folder is not None and name.endswith(".toml"):
        home = folder.resolve()
        path = (home / name).resolve()
        if path.parent == home and path.is_file():
            return path
    raise ScenarioError(
        f"{where} = {name[:200]!r}: no such pack; built-in packs: "
        f"{', '.join(sorted(packs))}{did_you_mean(name, list(packs))}, or the name "
        f"of a .toml file beside the scenario file"
    )


def _unsourced(data: Any, path: str = "") -> list[str]:
    """Paths of the tables in a pack that do not name their source."""
    missing = []
    if isinstance(data, dict):
        if any(
            not isinstance(v, (dict, list)) for k, v in data.items() if k != "source"
        ) and not data.get("source"):
            missing.append(path or "(top level)")
        for key, value in data.items():
            missing += _unsourced(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, dict):
                missing += _unsourced(item, f"{path}[{i}]")
    return missing


#: Tables that map names to values; in a pack they name their source like any other table, and
#: the source is taken off before the mapping is read.
_MAPPINGS = {"start_by_income", "terms", "grade", "serious_share", "by_income"}


def _strip_mapping_sources(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: (
                {kk: vv for kk, vv in v.items() if kk != "source"}
                if k in _MAPPINGS and isinstance(v, dict)
                else _strip_mapping_sources(v)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_strip_mapping_sources(item) for item in data]
    return data


def load_pack(name: str, where: str = "pack", folder: Path | None = None) -> dict[str, Any]:
    """Read a pack (a scheme, or a catalogue of sensors and behaviours) as raw data.

    Every table in a pack must name its ``source`` (a seed article, a published measure, or
    ``"assumption"``), so that every value in a run can be traced. A consequences pack's
    ``include`` is resolved where the scenario takes it (:func:`_with_included`).
    """
    path = _find_pack(name, where, folder)
    data = read_data_file(path, "pack")
    missing = _unsourced({k: v for k, v in data.items() if k not in ("name", "about", "include")})
    if missing:
        raise ScenarioError(
            "\n".join(
                f"pack '{path.name}', {m}.source: every value in a pack names its source; add "
                f'source = "..." (an article, a measure, or "assumption")'
                for m in missing
            )
        )
    return _strip_mapping_sources(data)


#: The tables of a consequences pack that an ``include`` adds to.
_INCLUDED = ("services", "rules", "notices", "org_services", "org_rules")


def _with_included(
    data: dict[str, Any], where: str, folder: Path | None, seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A consequences table with the tables of the packs it ``include``s added to its own:
    a whole pack (``include = ["org-gates"]``: the organisations' gates), or a pack's rules
    for one scheme and the services they name (``{ pack = "sanctions", scheme = "pilot-city" }``:
    a pilot city's own gates)."""
    included = data.get("include")
    if included is None:
        return data
    if not isinstance(included, list) or not all(_is_include(n) for n in included):
        raise ScenarioError(
            f"{where}.include = {str(included)[:200]}: give a list of pack names, or of "
            f'{{ pack = NAME, scheme = SCHEME }} tables, e.g. include = ["org-gates"]'
        )
    out = {k: v for k, v in data.items() if k != "include"}
    for entry in included:
        name = entry if isinstance(entry, str) else entry["pack"]
        if name in seen:
            raise ScenarioError(f"{where}.include: pack '{name}' includes itself; remove one")
        part = _with_included(
            load_pack(name, f"{where}.include", folder), f"pack '{name}'", folder, (*seen, name)
        )
        if isinstance(entry, dict):  # a scheme's rules alone, with the services they name
            rules = [r for r in part.get("rules", []) if r.get("scheme") == entry["scheme"]]
            named = {r.get("service") for r in rules}
            services = [v for v in part.get("services", []) if v.get("name") in named]
            part = {"services": services, "rules": rules}
        for key in _INCLUDED:
            if isinstance(part.get(key), list):
                out[key] = [*out.get(key, []), *part[key]]
    return out


def _is_include(entry: object) -> bool:
    """A pack's name, or ``{pack = NAME, scheme = SCHEME}``: that pack's rules for a scheme."""
    if isinstance(entry, str):
        return True
    return (
        isinstance(entry, dict)
        and set(entry) == {"pack", "scheme"}
        and all(isinstance(v, str) for v in entry.values())
    )


def resolve_references(data: dict[str, Any], source: str, folder: Path | None) -> dict[str, Any]:
    """Replace pack names by their contents: ``catalogue`` and each operator's ``scheme``."""
    data = dict(data)
    catalogue = data.pop("catalogue", None)
    if catalogue is not None:
        name, sensors = catalogue, None
        if isinstance(catalogue, dict):  # { pack = "catalogue", sensors = [...] }
            name, sensors = catalogue.get("pack", ""), catalogue.get("sensors")
        base = load_pack(str(name), f"scenario '{source}', catalogue", folder)
        if isinstance(sensors, list):  # only what these sensors observe
            base = {
                **base,
                "behaviours": [b for b in base.get("behaviours", []) if b.get("sensor") in sensors],
                "sensors": {k: v for k, v in base.get("sensors", {}).items() if k in sensors},
            }
        own_sensors, own = data.get("sensors", {}), data.get("behaviours", [])
        if (
            isinstance(own_sensors, dict)
            and isinstance(own, list)
            and all(isinstance(b, dict) for b in own)
        ):  # else pydantic names the field
            sensors = {**base.get("sensors", {}), **own_sensors}
            behaviours = {b["name"]: b for b in base.get("behaviours", [])}
            for b in own:
                behaviours[b.get("name")] = {**behaviours.get(b.get("name"), {}), **b}
            data["sensors"], data["behaviours"] = sensors, list(behaviours.values())
    if isinstance(data.get("consequences"), str):
        data["consequences"] = load_pack(
            data["consequences"], f"scenario '{source}', consequences", folder
        )
    if isinstance(data.get("consequences"), dict):
        data["consequences"] = _with_included(
            data["consequences"], f"scenario '{source}', consequences", folder
        )
    operators = []
    listed = data.get("operators", [])
    for i, op in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(op, dict) and isinstance(op.get("scheme"), str):
            pack = load_pack(op["scheme"], f"scenario '{source}', operators[{i}].scheme", folder)
            op = {**op, "scheme": pack}
        operators.append(op)
    if operators:
        data["operators"] = operators
    return data


def builtin_scenarios() -> dict[str, Path]:
    """The scenarios shipped with xinyong, by name."""
    folder = resources.files("xinyong") / "scenarios"
    return {
        p.name.removesuffix(".toml"): Path(str(p))
        for p in folder.iterdir()
        if p.name.endswith(".toml")
    }
