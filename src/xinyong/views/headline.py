"""A run's headline figures, the cards at the top of its report and of the city page: the
whole system's figures, each with what it is out of ("2 of 100,000 wrongly blacklisted; 44
missed"), never one scheme's narrowest figure alone; and the warning a comparison of runs
with different seeds carries at its top.
"""

from __future__ import annotations

from typing import Any

__all__ = ["grades_apart", "headline", "seed_warning"]


def _first_scheme(s: dict[str, Any]) -> tuple[str, int]:
    """The first scheme's name in words and how many it covers."""
    operators = s.get("operators") or {}
    if operators:
        name, figures = next(iter(operators.items()))
        return f"'{name}' ({figures.get('scheme', name)})", int(figures.get("covered", 0))
    return f"the {s.get('scenario', '')} scheme", int(s.get("citizens", 0))


def grades_apart(s: dict[str, Any]) -> bool:
    """Whether a run's summary can tell grades apart: unless its grade matrix has exactly
    one cell (one grade, real and error-free, so no one can be graded wrongly). A summary
    without a matrix (written before it was kept, or covering no one) is not judged."""
    matrix = s.get("grade_matrix") or {}
    return not (len(matrix) == 1 and all(len(row) == 1 for row in matrix.values()))


def headline(s: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline figures of a run's summary: (the figure, what it counts), in reading
    order; figures the run does not have are left out."""
    n = int(s["citizens"])
    scheme, covered = _first_scheme(s)
    out: list[tuple[str, str]] = []
    if "blacklisted" in s:
        out.append(
            (
                f"{s['blacklisted']:,} of {n:,} blacklisted",
                f"citizens on a list that a service honours ({s['blacklisted_share']:.2%})",
            )
        )
        out.append(
            (
                f"{s['wrongly_blacklisted']:,} of {n:,} wrongly blacklisted; "
                f"{s['wrongly_missing']:,} missed",
                "against the error-free system: listed though it would not list them; "
                "missed: not listed though it would",
            )
        )
    else:  # a run stored before the blacklists were counted
        listed = round(s["listed_share"] * covered)
        out.append(
            (
                f"{listed:,} of {covered:,} listed; {s['wrongly_listed']:,} wrongly",
                f"covered by {scheme}, on its own listing",
            )
        )
    if "wrongly_graded" in s and grades_apart(s):  # with one grade, no one is graded wrongly
        out.append(
            (
                f"{s['wrongly_graded']:,} of {covered:,} graded wrongly",
                f"grade under {scheme} differs from the error-free one; "
                f"{s.get('wrongly_downgraded', 0):,} of them worse",
            )
        )
    out.append((f"{s['mean_score']:.1f} mean score", f"under {scheme}, {covered:,} covered"))
    fabricated = s.get("events_fabricated", 0)
    out.append(
        (
            f"{s['events_misattributed']:,} of {s['events_recorded']:,} events misattributed",
            "recorded against someone who did not do them"
            + (f"; and {fabricated:,} false reports" if fabricated else ""),
        )
    )
    if "gate_denials" in s:
        out.append(
            (
                f"{s['gate_denials']:,} refusals; {s.get('wrongly_denied', 0):,} wrongful",
                "at the point of service over the run; wrongful: the error-free system "
                "would have allowed them",
            )
        )
    if "children_affected" in s:
        children = (s.get("population") or {}).get("children")
        of = f" of {children:,}" if children else ""
        out.append(
            (
                f"{s['children_affected']:,}{of} children refused",
                "a service refused them for a parent's listing",
            )
        )
    return out


def seed_warning(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """What a comparison must say at its top when its runs have different seeds (None when
    they share one): their differences mix the change with chance."""
    if a.get("seed") == b.get("seed"):
        return None
    return (
        f"A is seed {a.get('seed')} and B is seed {b.get('seed')}: every difference here "
        f"mixes what changed with chance, since the two runs drew different random numbers. "
        f"Run both with the same --seed to see the change alone."
    )
