"""The summary table of a run, or of two side by side: its rows (:func:`summary_rows`) and how
a figure and a difference are written in it (:func:`format_value`, :func:`format_difference`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["format_difference", "format_value", "is_share", "summary_rows"]


def is_share(key: str) -> bool:
    """Whether a flattened summary key holds a fraction (shown as a percentage)."""
    return (
        key.endswith("_share")
        or "_share." in key
        or key.startswith("grade_shares.")
        or ".grade_shares." in key
    )


def format_value(key: str, value: Any) -> str:
    """A summary figure as a reader wants it: shares as percentages, counts with commas."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float) and is_share(key):
        return f"{value:.3%}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_difference(key: str, a: Any, b: Any) -> str:
    """B − A in the figure's own unit (percentage points for shares); empty if not numbers."""
    numbers = (int, float)
    if (
        not isinstance(a, numbers)
        or not isinstance(b, numbers)
        or isinstance(a, bool)
        or isinstance(b, bool)
    ):
        return ""
    d = b - a
    if d == 0:
        return "0"
    if is_share(key):
        return f"{d * 100:+.3f}\u00a0pp"  # no break inside the figure
    if isinstance(d, int):
        return f"{d:+,}"
    return f"{d:+.4g}"


def summary_rows(
    a: dict[str, Any], b: dict[str, Any] | None = None
) -> list[tuple[str, Any, Any, bool]]:
    """Flat (figure, A, B, differs) rows of one or two summaries.

    Two values differ when they differ as shown (equal-looking values are never highlighted);
    the seed and the wall time are not compared, and what the figures count (``about``) is
    left out.
    """

    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    fa, fb = flat(a), flat(b or {})
    rows = []
    for key in list(fa) + [k for k in fb if k not in fa]:
        if b is not None and key.startswith("about."):
            continue  # what a figure counts is said once, in the run's own report
        va, vb = fa.get(key), fb.get(key)
        differs = False
        if b is not None and key not in ("wall_seconds", "seed") and not key.startswith("about."):
            differs = format_value(key, va) != format_value(key, vb)
        rows.append((key, va, vb, differs))
    return rows
