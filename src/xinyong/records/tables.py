"""What a finished run stores besides its ledger: the daily series, the list histories, the
standings and the population, as DataFrames.

The per-subject tables come from a city's columns and logs, for the subjects it owns (all of
them, or one block's); the daily series come from a :class:`~xinyong.engine.tally.Tally`, which the
blocks of a split run add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xinyong.engine.city import City
from xinyong.engine.tally import Tally
from xinyong.primitives.codes import ListChange, ListingChange, ListingReason, labels
from xinyong.scenario import Scenario

__all__ = ["daily_tables", "subject_tables"]


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean score and grade shares from the integer sums and counts the city logs."""
    if "covered" not in frame:
        return frame
    covered = frame["covered"].replace(0, np.nan)
    out = frame.drop(columns=["covered", "score_sum"])
    out.insert(
        1 if "operator" not in frame else 2,
        "mean_score",
        (frame["score_sum"] / covered).fillna(0.0),
    )
    for column in [c for c in frame.columns if c.startswith("count_")]:
        out[column] = (frame[column] / covered).fillna(0.0)
    return out.rename(
        columns={
            c: "share_" + c.removeprefix("count_") for c in out.columns if c.startswith("count_")
        }
    )


def subject_tables(city: City) -> dict[str, pd.DataFrame | None]:
    """The per-subject tables of the subjects a city owns (every subject, or one block's)."""
    return {
        "listings": listings(city),
        "list_changes": list_changes(city),
        "memberships": memberships(city),
        "standings": standings(city),
        "population": population_table(city),
        "organisations": organisations_table(city),
        "notices": notices(city),
    }


def daily_tables(scenario: Scenario, tally: Tally) -> dict[str, pd.DataFrame | None]:
    """The daily series of a whole city, from its tally."""
    return {
        "daily": daily(tally),
        "daily_operators": daily_operators(tally),
        "daily_lists": daily_lists(tally),
        "daily_behaviours": daily_behaviours(scenario, tally),
    }


def daily_lists(tally: Tally) -> pd.DataFrame | None:
    """Each list's members and wrongly listed members, day by day (None without lists)."""
    if not tally.daily_lists:
        return None
    return pd.DataFrame(
        tally.daily_lists, columns=["day", "operator", "list", "members", "wrongly_listed"]
    )


def daily(tally: Tally) -> pd.DataFrame:
    """The daily series so far, one row a day (the first operator's scores)."""
    frame = pd.DataFrame(tally.daily) if tally.daily else pd.DataFrame({"day": []})
    denied = sorted(c for c in frame.columns if c.startswith("denied_"))
    frame[denied] = frame[denied].fillna(0).astype(np.int64)
    # Denials appear as services first refuse someone: put them in one order, whatever the run.
    frame = frame[[c for c in frame.columns if not c.startswith("denied_")] + denied]
    return _shares(frame)


def daily_behaviours(scenario: Scenario, tally: Tally) -> pd.DataFrame | None:
    """Each behaviour's occurrences each day, with and without consequences (the chilling
    effect's twin), when the twin was run."""
    if tally.twin_daily is None:
        return None
    names = [b.name for b in scenario.behaviours]
    days = tally.occurred_daily.shape[0]
    return pd.DataFrame(
        {
            "day": np.repeat(np.arange(days, dtype=np.int32), len(names)),
            "behaviour": np.tile(np.array(names, dtype=object), days),
            "occurred": tally.occurred_daily.ravel(),
            "occurred_without_consequences": tally.twin_daily.ravel(),
        }
    )


def notices(city: City) -> pd.DataFrame | None:
    """The notices feed: day, kind, subject, behaviour (-1 when none) and list (the list whose
    joining caused the notice; null for a billboard, which shows an event)."""
    if city.effects is None:
        return None
    frame = pd.DataFrame(city.effects.notices())
    # Text even when every value is null, so that every block's Parquet file agrees.
    frame["list"] = frame["list"].astype("string")
    return frame


def daily_operators(tally: Tally) -> pd.DataFrame:
    """The daily series of every operator: one row per day and operator."""
    frame = _shares(pd.DataFrame(tally.daily_operators))
    shares = [c for c in frame.columns if c.startswith("share_")]
    keys = [c for c in frame.columns if c not in shares]
    return (
        frame.melt(id_vars=keys, value_vars=shares, var_name="grade", value_name="share")
        .assign(grade=lambda f: f["grade"].str.removeprefix("share_"))
        .dropna(subset=["share"])
    )


def listings(city: City) -> pd.DataFrame:
    """Every change to the lists: day, operator, subject, counterfactual, change, reason."""
    log = city.books.listings
    operator = log.column("operator", np.int16)
    changes = np.array(labels(ListingChange))
    reasons = np.empty(max(ListingReason) + 1, dtype=object)  # NO_REASON (0): null
    for reason in ListingReason:
        reasons[reason] = reason.label
    return pd.DataFrame(
        {
            "day": log.column("day", np.int32),
            "operator": operator,
            "subject": (log.column("subject", np.int64) + _bases(city)[operator]).astype(np.int32),
            "counterfactual": log.column("counterfactual", bool),
            "change": changes[log.column("change", np.int8)],
            "reason": reasons[log.column("reason", np.int8)],
        }
    )


def _bases(city: City) -> np.ndarray:
    """Per operator, the city-wide id of the city's subject 0 of its kind (a block's first)."""
    return np.array([city.base[op.subject] for op in city.operators] or [0], dtype=np.int64)


def list_changes(city: City) -> pd.DataFrame:
    """Every change to an operator's lists: day, operator, list, subject, counterfactual,
    change (warned, counselled, listed, extended, expired, repaired, entered, left)."""
    log = city.books.list_changes
    operator = log.column("operator", np.int16)
    names = np.array(labels(ListChange))
    offset = np.cumsum([0] + [len(op.lists.names) for op in city.operators])
    list_names = np.array(
        [name for op in city.operators for name in op.lists.names] or [""], dtype=object
    )
    return pd.DataFrame(
        {
            "day": log.column("day", np.int32),
            "operator": operator,
            "list": list_names[offset[operator] + log.column("list", np.int64)],
            "subject": (log.column("subject", np.int64) + _bases(city)[operator]).astype(np.int32),
            "counterfactual": log.column("counterfactual", bool),
            "change": names[log.column("change", np.int8)],
        }
    )


def memberships(city: City) -> pd.DataFrame:
    """Every subject on a list now: operator, list, subject, since, until, repeats."""
    frames = []
    for op in city.operators:
        for i, lst in enumerate(op.lists.lists):
            who = np.flatnonzero(lst.member)
            cf = op.cf_lists.lists[i].member[who]
            frames.append(
                pd.DataFrame(
                    {
                        "operator": np.int16(op.index),
                        "list": op.lists.names[i],
                        "kind": lst.spec.kind,
                        "subject": (who + city.base[op.subject]).astype(np.int32),
                        "since": lst.since[who],
                        "until": lst.until[who],
                        "repeats": lst.repeats[who],
                        "counterfactual_member": cf,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(
            {
                "operator": pd.Series(dtype="int16"),
                "list": pd.Series(dtype=str),
                "kind": pd.Series(dtype=str),
                "subject": pd.Series(dtype="int32"),
                "since": pd.Series(dtype="int32"),
                "until": pd.Series(dtype="int32"),
                "repeats": pd.Series(dtype="int16"),
                "counterfactual_member": pd.Series(dtype=bool),
            }
        )
    return pd.concat(frames, ignore_index=True)


def standings(city: City) -> pd.DataFrame:
    """Every operator's standing of every subject now, real and counterfactual."""
    frames = []
    for op in city.operators:
        real, cf = op.standing, op.counterfactual
        names = list(real.grade_names)
        day = max(city.day - 1, 0)
        own = city.own[op.subject]
        covered = op.covered  # in a block, its own subjects' part is the scheme's coverage
        frames.append(
            pd.DataFrame(
                {
                    "operator": np.int16(op.index),
                    "subject": np.arange(own.start, own.stop, dtype=np.int32),
                    "covered": True if covered is None else covered,
                    "score": real.score.astype(np.int32),
                    "start": (
                        np.full(own.stop - own.start, op.scheme.score.start, dtype=np.int32)
                        if op.start is None
                        else op.start.astype(np.int32)
                    ),
                    "grade": pd.Categorical.from_codes(real.grades(day=day), names),
                    "listed": real.listed,
                    "listing_day": real.listing_day,
                    "ever_listed": real.ever_listed,
                    "counterfactual_score": cf.score.astype(np.int32),
                    "counterfactual_grade": pd.Categorical.from_codes(cf.grades(day=day), names),
                    "counterfactual_listed": cf.listed,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def population_table(city: City) -> pd.DataFrame:
    """Each citizen's attributes (and conduct factor)."""
    own = city.own["citizen"]
    frame = pd.DataFrame(
        {
            "citizen": np.arange(own.start, own.stop, dtype=np.int32),
            "conduct": city.groups["citizen"].conduct,
        }
    )
    pop = city.population
    if pop is not None:
        for column in (
            "age",
            "district",
            "neighbourhood",
            "income_band",
            "household",
            "role",
            "employer",
        ):
            frame[column] = getattr(pop, column)
        frame["household"] += city.household_base  # households by their city-wide ids
    return frame


def organisations_table(city: City) -> pd.DataFrame | None:
    """Each company or government organisation, if the city has them."""
    pop = city.population
    if pop is None:
        return None
    own = city.own["company"]
    frame = pd.DataFrame(
        {
            "organisation": np.arange(own.start, own.stop, dtype=np.int32),
            "kind": np.where(pop.org_kind == 1, "government", "company"),
            "legal_rep": pop.org_legal_rep,
            "district": pop.org_district,
        }
    )
    if "company" in city.groups:
        frame["conduct"] = city.groups["company"].conduct
    return frame
