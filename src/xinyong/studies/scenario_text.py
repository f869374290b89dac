"""A scenario as TOML text, to copy and edit (``xinyong scenarios --show NAME``)."""

from __future__ import annotations

import difflib

import tomli_w

from xinyong.scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = ["scenario_toml"]


def scenario_toml(name: str, resolved: bool = False) -> str:
    """A built-in scenario as TOML.

    Args:
        name: a built-in scenario's name.
        resolved: False gives the file as shipped, with its comments and sources; True writes
            every field out, the packs it names (catalogue, schemes, sanctions) included, so
            that every path ``--set`` takes is visible. Either loads back as the same scenario.

    Raises:
        ScenarioError: no built-in scenario has this name.
    """
    builtins = builtin_scenarios()
    if name not in builtins:
        close = difflib.get_close_matches(name, list(builtins), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ScenarioError(
            f"no built-in scenario '{name}'{hint} (built-in: {', '.join(sorted(builtins))})"
        )
    if not resolved:
        return builtins[name].read_text(encoding="utf-8")
    data = load_scenario(name).model_dump(by_alias=True, exclude_none=True)
    return f"# The '{name}' scenario with every field written out.\n" + tomli_w.dumps(data)
