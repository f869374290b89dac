"""The tally: what a city, or one block of a split run, leaves behind besides its tables.

Everything in a tally is an integer count (or an array of them) or a daily row of such counts,
so the tallies of the blocks of a split run add up to the whole city's exactly, and a driver
never needs a block's per-citizen columns. :func:`summarize` turns a tally into the run's
summary; a whole city and any split of it give the same one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xinyong.engine.accuracy import honoured_lists
from xinyong.model.org_gates import CORPORATE_HARMS
from xinyong.primitives.codes import ACTIONS, NOTICE_HARMS, NOTICE_KINDS, GateAction
from xinyong.scenario import Scenario
from xinyong.scenario.timeline import timeline_rows

__all__ = ["Tally", "add_rows", "summarize"]


def _add(a: Any, b: Any) -> Any:
    """Counts added key by key (dicts), element by element (arrays) or plainly (integers)."""
    if isinstance(a, dict):
        return {k: _add(a[k], b[k]) if k in b else a[k] for k in a} | {
            k: v for k, v in b.items() if k not in a
        }
    if a is None:
        return b
    return a + b


def add_rows(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Daily rows of several blocks added up, key by key (every other value is an integer).

    Rows come out in the order their keys first appear.
    """
    merged: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        into = merged.get(key)
        if into is None:
            merged[key] = dict(row)
            continue
        for column, value in row.items():
            if column not in keys:
                into[column] = into.get(column, 0) + value
    return list(merged.values())


@dataclass
class Tally:
    """Counts that add up across blocks.

    Attributes:
        counts: nested counts: totals, operators (each with its lists), effects, population.
        daily: one row a day (the first operator's scores and the city's events).
        daily_operators: one row per day and operator.
        daily_lists: one row per day and list (members, wrongly listed).
        occurred_daily: occurrences per day and behaviour.
        twin_daily: the same in the behaviour-only twin (the chilling effect), if run.
        service_daily: per day and service, the uses asked for (``used``) and refused
            (``denied``); empty without services.
    """

    counts: dict[str, Any]
    daily: list[dict[str, Any]] = field(default_factory=list)
    daily_operators: list[dict[str, Any]] = field(default_factory=list)
    daily_lists: list[dict[str, Any]] = field(default_factory=list)
    occurred_daily: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    twin_daily: np.ndarray | None = None
    service_daily: dict[str, np.ndarray] = field(default_factory=dict)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            counts=_add(self.counts, other.counts),
            daily=add_rows(self.daily + other.daily, ("day",)),
            daily_operators=add_rows(
                self.daily_operators + other.daily_operators, ("day", "operator")
            ),
            daily_lists=add_rows(self.daily_lists + other.daily_lists, ("day", "operator", "list")),
            occurred_daily=self.occurred_daily + other.occurred_daily,
            twin_daily=_add(self.twin_daily, other.twin_daily),
            service_daily=_add(self.service_daily, other.service_daily),
        )


def _grade_matrix(names: list[str], matrix: np.ndarray) -> dict[str, dict[str, int]]:
    """Real grade → error-free grade → citizens, the empty cells left out."""
    m = np.asarray(matrix)
    return {
        real: {cf: int(m[i, j]) for j, cf in enumerate(names) if m[i, j]}
        for i, real in enumerate(names)
        if m[i].any()
    }


def _operator_summary(scenario: Scenario, index: int, c: dict[str, Any]) -> dict[str, Any]:
    op = scenario.all_operators()[index]
    covered = c["covered"]
    share = (lambda x: int(x) / covered) if covered else (lambda x: 0.0)
    listed_grade = op.scheme.listed_grade
    out = {
        "scheme": op.scheme.name,
        "subjects": op.scheme.subject,
        "covered": covered,
        "mean_score": c["score_sum"] / covered if covered else 0.0,
        "grade_shares": {
            g: share(n)
            for g, n in c["grades"].items()
            if op.scheme.listing is not None or g != listed_grade
        },
        "listed_share": share(c["listed"]),
        "ever_listed_share": share(c["ever_listed"]),
        "wrongly_listed": int(c["wrongly_listed"]),
        "counterfactual_listed_share": share(c["counterfactual_listed"]),
        "wrongly_graded": int(c["wrongly_graded"]),
        "wrongly_downgraded": int(c["wrongly_downgraded"]),
        "points_lost_to_errors": int(c["points_lost"]),
        "grade_matrix": _grade_matrix(op.scheme.grade_names(), c["grade_matrix"]),
        "events_counted": int(c["counted"]),
        "events_dismissed": int(c["dismissed"]),
    }
    if op.scheme.lists:
        per = covered or 1
        out["lists"] = {
            spec.name: {
                "kind": spec.kind,
                "members": int(m["members"]),
                "members_share": int(m["members"]) / per,
                "ever_listed": int(m["ever_listed"]),
                "ever_listed_share": int(m["ever_listed"]) / per,
                "opening_members": int(m.get("opening_members", 0)),
                "joined": int(m.get("joined", 0)),
                "first_joined": int(m.get("first_joined", 0)),
                "obligations_met": int(m.get("performed", 0)),
                "counterfactual_members_share": int(m["counterfactual_members"]) / per,
                "wrongly_listed": int(m["wrongly_listed"]),
                "wrongly_missing": int(m["wrongly_missing"]),
            }
            for spec in op.scheme.lists
            for m in (c["lists"][spec.name],)
        }
    return out


def _blacklist_summary(b: dict[str, Any]) -> dict[str, Any]:
    n = b["citizens"]
    return {
        "blacklisted_share": b["blacklisted"] / n if n else 0.0,
        "blacklisted": int(b["blacklisted"]),
        "wrongly_blacklisted": int(b["wrongly_blacklisted"]),
        "wrongly_missing": int(b["wrongly_missing"]),
        "counterfactual_blacklisted_share": b["counterfactual_blacklisted"] / n if n else 0.0,
    }


def _about(scenario: Scenario, first: str, covered: int) -> dict[str, str]:
    """What each headline figure counts, in words: which scheme, which lists, which people."""
    op = next(o for o in scenario.all_operators() if o.name == first)
    scheme = f"'{first}' ({op.scheme.name} scheme, {covered:,} covered)"
    lists = ", ".join(honoured_lists(scenario)) or "none"
    citizens = f"all {scenario.citizens:,} citizens"
    return {
        "mean_score": f"mean score under {scheme}",
        "grade_shares": f"share of those covered by {scheme} in each grade",
        "listed_share": f"share of those covered by {scheme} on its own listing, with its "
        f"grade {op.scheme.listed_grade} (blacklisted_share counts the blacklists)",
        "ever_listed_share": f"share of those covered by {scheme} listed at least once",
        "wrongly_listed": f"covered by {scheme}, listed now, not listed error-free",
        "counterfactual_listed_share": f"share of those covered by {scheme} the error-free "
        f"system lists with its grade {op.scheme.listed_grade}",
        "blacklisted_share": f"share of {citizens} on a blacklist that some service "
        f"honours: {lists}",
        "wrongly_blacklisted": f"of {citizens}, on such a blacklist now though the "
        "error-free system would not list them",
        "wrongly_missing": f"of {citizens}, on no such blacklist though the error-free "
        "system would list them",
        "counterfactual_blacklisted_share": f"share of {citizens} the error-free system "
        "would put on such a blacklist",
        "wrongly_graded": f"covered by {scheme}, grade differs from the error-free grade",
        "wrongly_downgraded": f"covered by {scheme}, grade worse than the error-free grade",
        "points_lost_to_errors": f"points under {scheme}: the sum over citizens of error-free "
        "score minus score, where positive",
        "grade_matrix": f"citizens covered by {scheme}: real grade → error-free grade",
    }


#: What every other figure of a summary counts (the headlines' words name their scheme and
#: lists: :func:`_about`). Every key a summary can hold has its words here or there; a test
#: holds every built-in scenario's summary to it.
_ABOUT_FIXED = {
    "scenario": "the scenario's name",
    "citizens": "synthetic citizens in the city",
    "days": "days simulated",
    "seed": "the seed of every random stream: the same seed gives the same run",
    "events_occurred": "behaviours done, by citizens and organisations, whether seen or not "
    "(events over the run)",
    "events_recorded": "events a sensor or collector recorded (events over the run)",
    "events_misattributed": "recorded events pinned on someone other than who did them",
    "events_fabricated": "false reports filed by information collectors behind their quota",
    "blacklisted": "citizens on a blacklist that some service honours (the count behind "
    "blacklisted_share)",
    "gate_decisions": "citizens' gate checks at the point of service, by service and answer",
    "gate_denials": "gate checks that refused a citizen, over every service and day (a "
    "citizen refused twice counts twice)",
    "wrongly_denied": "refusals the error-free system would not have made that day",
    "sanctions_applied": "restrictions and refusals, by service (gate checks)",
    "rewards_given": "priorities, discounts and waivers, by service (gate checks)",
    "children_affected": "children refused a service at least once because a parent is "
    "blacklisted (children)",
    "notices": "public notices shown about synthetic citizens, by kind",
    "org_gate_decisions": "organisations' gate checks (tenders, loans, subsidies, licences, "
    "market access, bonds), by service and answer",
    "org_wrongly_denied": "organisations' refusals the error-free system would not have made",
    "population": "the synthetic city: its households, organisations and children",
    "operators": "per operator: whom it covers, mean score, grade shares, the error "
    "figures, and each of its lists' members, share, ever listed, wrongly listed and "
    "wrongly missing",
    "chilling": "each behaviour's rate in the city against its twin (the same city and "
    "seed where nothing acts on people), as a change: -0.05 is 5 % fewer",
    "chilling_detail": "the chilling effect with both counts (city, twin) and a 95 % "
    "interval on the change (Clopper-Pearson)",
    "overrides": "fields of the scenario set for this run (--set PATH=VALUE)",
    "wall_seconds": "seconds the whole run took on this machine (not simulated time)",
}


def _effects_summary(scenario: Scenario, e: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.get("decisions") is not None:
        decisions = np.asarray(e["decisions"])
        assert scenario.consequences is not None  # decisions are counted only at services
        services = [s.name for s in scenario.consequences.services]
        restrict = GateAction.RESTRICT
        out["gate_decisions"] = {
            name: {a: int(c) for a, c in zip(ACTIONS, decisions[s], strict=True) if c}
            for s, name in enumerate(services)
        }
        out["gate_denials"] = int(decisions[:, GateAction.DENY].sum())
        out["wrongly_denied"] = int(np.asarray(e["wrongly_denied"]).sum())
        out["sanctions_applied"] = {
            name: int(decisions[s, restrict:].sum())
            for s, name in enumerate(services)
            if decisions[s, restrict:].sum()
        }
        out["rewards_given"] = {
            name: int(decisions[s, 1:restrict].sum())
            for s, name in enumerate(services)
            if decisions[s, 1:restrict].sum()
        }
    if e.get("children_affected") is not None:
        out["children_affected"] = int(e["children_affected"])
        if e.get("children_affected_error_free") is not None:
            out["children_affected_error_free"] = int(e["children_affected_error_free"])
            out["children_wrongly_affected"] = int(e["children_wrongly_affected"])
    if e.get("notices") is not None:
        out["notices"] = {k: int(e["notices"][k]) for k in NOTICE_KINDS if e["notices"].get(k)}
        out["billboard_harms"] = {
            k: int(v) for k, v in zip(NOTICE_HARMS, np.asarray(e["notice_harms"]), strict=True)
        }
    return out


def _org_summary(scenario: Scenario, e: dict[str, Any]) -> dict[str, Any]:
    """Organisations at their gates, and the harms to them and their employees."""
    assert scenario.consequences is not None  # organisations' gates are consequences
    services = [s.name for s in scenario.consequences.org_services]
    decisions = np.asarray(e["decisions"])
    return {
        "org_gate_decisions": {
            name: {a: int(c) for a, c in zip(ACTIONS, decisions[s], strict=True) if c}
            for s, name in enumerate(services)
        },
        "org_wrongly_denied": int(np.asarray(e["wrongly_denied"]).sum()),
        "corporate_harms": {
            k: int(v) for k, v in zip(CORPORATE_HARMS, np.asarray(e["harms"]), strict=True)
        },
    }


def summarize(scenario: Scenario, seed: int, days: int, tally: Tally) -> dict[str, Any]:
    """The spec's summary figures (for the first operator), what the services act on, and
    every operator's own; ``about`` says in words what each headline counts.

    Args:
        scenario: the run's scenario.
        seed: its seed.
        days: the days simulated.
        tally: the whole city's tally (a single city's, or the sum of its blocks').
    """
    c = tally.counts
    operators = scenario.all_operators()
    per_operator = {
        op.name: _operator_summary(scenario, i, c["operators"][op.name])
        for i, op in enumerate(operators)
    }
    first = per_operator[operators[0].name]
    totals = c["totals"]
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "citizens": scenario.citizens,
        "days": days,
        "seed": seed,
        **{
            k: first[k] for k in ("mean_score", "grade_shares", "listed_share", "ever_listed_share")
        },
        "events_occurred": int(totals["occurred"]),
        "events_recorded": int(totals["recorded"]),
        "events_misattributed": int(totals["misattributed"]),
        "wrongly_listed": first["wrongly_listed"],
        "counterfactual_listed_share": first["counterfactual_listed_share"],
        **_blacklist_summary(c["blacklists"]),
        **{
            k: first[k]
            for k in (
                "wrongly_graded",
                "wrongly_downgraded",
                "points_lost_to_errors",
                "grade_matrix",
            )
        },
        "about": _about(scenario, operators[0].name, first["covered"]),
    }
    cities = {
        name: {
            **_blacklist_summary(b),
            **{
                k: per_operator[name][k]
                for k in (
                    "covered",
                    "mean_score",
                    "grade_shares",
                    "listed_share",
                    "wrongly_listed",
                    "wrongly_graded",
                    "wrongly_downgraded",
                    "points_lost_to_errors",
                )
            },
        }
        for name, b in c["blacklists"]["by_city"].items()
    }
    if cities:
        out["cities"] = cities
        out["about"]["cities"] = (
            "per city: its residents aged as its scheme covers, under "
            "its own scheme and the blacklists services honour"
        )
        out["country"] = {
            **_blacklist_summary(c["blacklists"]),
            **{
                k: sum(city[k] for city in cities.values())
                for k in ("covered", "wrongly_graded", "wrongly_downgraded")
            },
        }
        out["about"]["country"] = (
            "the whole country: blacklists over all citizens; grades "
            "under each resident's own city scheme, added over cities"
        )
    if c.get("collectors"):
        out["events_fabricated"] = int(totals["fabricated"])
    if scenario.operators:  # not in a single-scheme scenario such as the reference
        out["operators"] = per_operator
    if c.get("effects") is not None:
        out.update(_effects_summary(scenario, c["effects"]))
        if "children_affected" in out:
            out["about"]["children_affected"] = (
                "children (under 18) refused or restricted at a service at least once because "
                "a parent is blacklisted [S2]"
            )
        if "children_affected_error_free" in out:
            out["about"]["children_affected_error_free"] = (
                "the same, as the error-free standings would have it"
            )
            out["about"]["children_wrongly_affected"] = (
                "children affected whom the error-free standings would never have sanctioned"
            )
        if "billboard_harms" in out:
            shown = (
                ""
                if scenario.consequences is None or scenario.consequences.billboard_minors
                else " (minors are left off)"
            )
            out["about"]["billboard_harms"] = (
                "billboard notices (photo, name and ID at the crossing) that named a citizen "
                "under 18, or showed an event that was misattributed, a false report, or "
                f"dismissed on review{shown}"
            )
    if c.get("org_effects") is not None:
        out.update(_org_summary(scenario, c["org_effects"]))
        out["about"]["corporate_harms"] = (
            "organisations on a corporate listing or blacklist at the end, those the error-free "
            "system would not list (now and ever), and the employees of each"
        )
    if c.get("population") is not None:
        out["population"] = {k: int(v) for k, v in c["population"].items()}
    if scenario.timeline:
        out["timeline"] = timeline_rows(scenario)
        out["about"]["timeline"] = (
            "the rules' dated changes, each in force from the start of its day (the scenario's "
            "timeline, and changes made while the city ran)"
        )
    about = out["about"]
    for key in [*out, "overrides", "wall_seconds"]:  # those two are added by the caller
        if key in _ABOUT_FIXED:
            about.setdefault(key, _ABOUT_FIXED[key])
    if tally.twin_daily is not None:
        names = [b.name for b in scenario.behaviours]
        with_ = tally.occurred_daily.sum(axis=0)
        without = tally.twin_daily.sum(axis=0)
        out["chilling"] = {
            name: round(float(w) / float(wo) - 1.0, 4)
            for name, w, wo in zip(names, with_, without, strict=True)
            if wo > 0
        }
        from xinyong.engine.chilling import chilling_detail  # with counts and intervals

        out["chilling_detail"] = chilling_detail(names, with_, without)
        about.update({k: _ABOUT_FIXED[k] for k in ("chilling", "chilling_detail")})
    return out
