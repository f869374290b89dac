"""Accuracy: how far what the system holds is from what it would hold without errors.

Every operator keeps a real standing and an error-free one (the counterfactual: every event
credited to whoever really did it, no false reports, no review mistakes). This module counts the
difference, as integers that add up across the blocks of a split run:

- per scheme: citizens whose grade differs from their error-free grade (``wrongly_graded``),
  whose grade is worse (``wrongly_downgraded``), the points they lost to errors, and the
  real × error-free grade matrix;
- over what the services act on: citizens on a blacklist that some gate honours, and of them
  those the error-free system would not list (``wrongly_blacklisted``), and the citizens it
  would list who are not (``wrongly_missing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.primitives.codes import listing_name
from xinyong.scenario import Scenario

if TYPE_CHECKING:
    from xinyong.model.operators import OperatorState

__all__ = ["blacklist_counts", "grade_counts", "honoured_lists"]


def honoured_lists(scenario: Scenario) -> list[str]:
    """The blacklists some service acts on, as ``operator:list`` names.

    A rule on ``blacklisted`` (or a parent's listing) honours every shared blacklist and
    scheme listing of every citizen operator; ``on_list`` honours the lists of that name. A
    scenario without a sanctions table honours them all: they are the lists a service would
    act on.
    """
    every: list[tuple[str, str]] = []  # (qualified name, list name)
    for op in scenario.all_operators():
        if op.scheme.subject != "citizen":
            continue
        if op.scheme.listing is not None:
            every.append((listing_name(op.name), listing_name(op.name)))
        every += [
            (f"{op.name}:{lst.name}", lst.name)
            for lst in op.scheme.lists
            if lst.kind == "black" and lst.shared
        ]
    rules = scenario.consequences.rules if scenario.consequences is not None else None
    if rules is None or any(r.blacklisted or r.parent_blacklisted for r in rules):
        return [q for q, _ in every]
    named = {r.on_list for r in rules if r.on_list is not None}
    return [q for q, name in every if name in named or "*" in named]


def blacklist_counts(scenario: Scenario, operators: list[OperatorState], n: int) -> dict[str, Any]:
    """Citizens on an honoured blacklist, real and error-free, among ``n`` own citizens, and
    the same among the residents each city's scheme covers (operators with districts)."""
    honoured = set(honoured_lists(scenario))
    real, cf = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for op in operators:
        if op.subject != "citizen":
            continue
        if listing_name(op.name) in honoured:
            real |= op.standing.listed
            cf |= op.counterfactual.listed
        for lst, cf_lst in zip(op.lists.lists, op.cf_lists.lists, strict=True):
            if f"{op.name}:{lst.spec.name}" in honoured:
                real |= lst.member
                cf |= cf_lst.member
    out: dict[str, Any] = _counts(real, cf)
    out["by_city"] = {
        op.name: _counts(real[op.covered], cf[op.covered])
        for op in operators
        if op.districts is not None and op.covered is not None
    }
    return out


def _counts(real: np.ndarray, cf: np.ndarray) -> dict[str, int]:
    return {
        "citizens": int(real.size),
        "blacklisted": int(real.sum()),
        "counterfactual_blacklisted": int(cf.sum()),
        "wrongly_blacklisted": int((real & ~cf).sum()),
        "wrongly_missing": int((~real & cf).sum()),
    }


def grade_counts(op: OperatorState, day: int) -> dict[str, Any]:
    """One operator's grades against its error-free grades, over the subjects it covers.

    Grades are indices into the scheme's grade names, best first and the listed grade last, so
    a higher index is a worse grade.
    """
    real, cf = op.standing, op.counterfactual
    grade, cf_grade = real.grades(day=day), cf.grades(day=day)
    lost = cf.score.astype(np.int64) - real.score.astype(np.int64)
    if op.covered is not None:
        grade, cf_grade, lost = grade[op.covered], cf_grade[op.covered], lost[op.covered]
    k = len(real.grade_names)
    return {
        "wrongly_graded": int((grade != cf_grade).sum()),
        "wrongly_downgraded": int((grade > cf_grade).sum()),
        "points_lost": int(lost[lost > 0].sum()),
        "grade_matrix": np.bincount(grade.astype(np.int64) * k + cf_grade, minlength=k * k).reshape(
            k, k
        ),
    }
