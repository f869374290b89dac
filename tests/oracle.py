"""A slow, literal oracle for the reference rules (shared/spec/reference-scenario.md).

It shares no code with xinyong's engine beyond the scenario model: one citizen, one behaviour
and one day at a time, with Python's ``random.Random``, so a reader can check it line by line
against the spec.
"""

from __future__ import annotations

import random
from typing import Any

import xinyong


class _Standing:
    """Scores and listings under one stream of events (the real one or the counterfactual)."""

    def __init__(self, n: int, start: int) -> None:
        self.score = [start] * n
        self.listed = [False] * n
        self.listing_day = [-1] * n
        self.ever_listed = [False] * n

    def score_and_list(
        self,
        scenario: xinyong.Scenario,
        t: int,
        events: list[tuple[int, xinyong.scenario.Behaviour]],
        mutant: str | None = None,
    ) -> None:
        """Steps 3 and 4 of day ``t`` over ``events``, given as (subject, behaviour)."""
        floor, ceiling = scenario.score.floor, scenario.score.ceiling
        low, high = (-(10**9), 10**9) if mutant == "no_clamp" else (floor, ceiling)
        rule = scenario.listing
        # 3. Scoring: the sum of the day's points, then clamp.
        day_points = [0] * len(self.score)
        severe_today = set()
        for subject, behaviour in events:
            day_points[subject] += behaviour.points
            if behaviour.severe:
                severe_today.add(subject)
        for i in range(len(self.score)):
            self.score[i] = min(max(self.score[i] + day_points[i], low), high)
        # 4. Listing, then release.
        for i in range(len(self.score)):
            if i in severe_today or (rule.at_floor and self.score[i] <= floor):
                self.listed[i] = True
                self.listing_day[i] = t
                self.ever_listed[i] = True
            elif (
                self.listed[i]
                and t - self.listing_day[i] >= rule.min_days - (mutant == "early_release")
                and self.score[i] >= rule.release_min_score
            ):
                self.listed[i] = False


def _grade(scenario: xinyong.Scenario, score: int, listed: bool) -> str:
    if listed:
        return scenario.listed_grade
    return next((g.grade for g in scenario.grades if score >= g.min), scenario.grades[-1].grade)


#: Deliberately broken versions of the rules, which the comparison with the engine must flag.
MUTANTS = ("conduct_swapped", "early_release", "no_clamp", "drops_misattributed", "severe_ignored")
# conduct_swapped: rewarded behaviours scaled by c, not 1/c; early_release: released a day
# before the term ends; no_clamp: scores never clamped; drops_misattributed: the error-free
# standing leaves out misattributed events instead of crediting their actors; severe_ignored:
# no severe listing.


def simulate_oracle(
    scenario: xinyong.Scenario, seed: int, mutant: str | None = None
) -> dict[str, Any]:
    """Simulate ``scenario`` literally, one draw at a time. Deliberately slow: small cities only.

    Args:
        scenario: the reference rules and sizes.
        seed: the seed of Python's generator.
        mutant: one of ``MUTANTS`` to break a rule on purpose (tests of the comparison).

    Returns the engine's summary keys, plus ``daily``: a dict of per-day lists
    (``mean_score``, ``listed``).
    """
    rng = random.Random(seed)
    n, days = scenario.citizens, scenario.days
    response = scenario.listed_response

    # Setup: conduct factors; scores start at score.start; nobody is listed.
    conduct = [rng.lognormvariate(0.0, scenario.conduct_lognormal_sigma) for _ in range(n)]
    real = _Standing(n, scenario.score.start)
    counterfactual = _Standing(n, scenario.score.start)
    occurred = recorded = misattributed = 0
    daily: dict[str, list[float]] = {"mean_score": [], "listed": []}

    for t in range(days):
        # 1. Behaviour, with the listing as it stands at the start of the day.
        occurrences = []  # (actor, behaviour)
        for i in range(n):
            for b in scenario.behaviours:
                if b.points < 0:
                    p = b.p * conduct[i]
                    if real.listed[i]:
                        p *= response.negative
                else:
                    c = 1.0 / conduct[i] if mutant == "conduct_swapped" else conduct[i]
                    p = b.p / c
                    if real.listed[i]:
                        p *= response.positive
                p = min(p, 1.0)
                if rng.random() < p:
                    occurrences.append((i, b))
        occurred += len(occurrences)

        # 2. Observation: detection, then misattribution to a uniformly drawn other citizen.
        events = []  # (actor, subject, behaviour)
        for actor, b in occurrences:
            sensor = scenario.sensors[b.sensor]
            if rng.random() >= sensor.detect:
                continue
            subject = actor
            if n > 1 and rng.random() < sensor.misidentify:
                subject = rng.randrange(n - 1)  # 0 .. n-2, skipping the actor
                if subject >= actor:
                    subject += 1
                misattributed += 1
            events.append((actor, subject, b))
        recorded += len(events)

        # 3-4. Scoring and listing over every recorded event, as attributed.
        if mutant == "severe_ignored":
            events = [(a, s, b.model_copy(update={"severe": False})) for a, s, b in events]
        real.score_and_list(scenario, t, [(subject, b) for _, subject, b in events], mutant)
        # 5. Counterfactual: steps 3-4 again over every recorded event, each attributed to
        # its true actor (perfect sensors: the same detections, no misidentification).
        counterfactual.score_and_list(
            scenario,
            t,
            [
                (subject if mutant == "drops_misattributed" else actor, b)
                for actor, subject, b in events
                if mutant != "drops_misattributed" or actor == subject
            ],
            mutant,
        )

        daily["mean_score"].append(sum(real.score) / n)
        daily["listed"].append(sum(real.listed))

    grades = [
        _grade(scenario, s, listed) for s, listed in zip(real.score, real.listed, strict=True)
    ]
    return {
        "citizens": n,
        "days": days,
        "seed": seed,
        "mean_score": sum(real.score) / n,
        "grade_shares": {g: grades.count(g) / n for g in scenario.grade_names()},
        "listed_share": sum(real.listed) / n,
        "ever_listed_share": sum(real.ever_listed) / n,
        "events_occurred": occurred,
        "events_recorded": recorded,
        "events_misattributed": misattributed,
        "wrongly_listed": sum(
            r and not c for r, c in zip(real.listed, counterfactual.listed, strict=True)
        ),
        "counterfactual_listed_share": sum(counterfactual.listed) / n,
        "daily": daily,
    }
