"""The scenario's error, whose message says how to fix what is wrong, and its "did you mean"."""

from __future__ import annotations

import difflib

__all__ = ["ScenarioError", "did_you_mean"]


class ScenarioError(ValueError):
    """A scenario file or value that cannot be used, with a message that says how to fix it."""


def did_you_mean(name: str, options: list[str]) -> str:
    """`` (did you mean 'X'?)`` for the option closest to ``name``, or nothing."""
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
