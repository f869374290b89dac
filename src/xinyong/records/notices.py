"""Reading a stored run's consequences back: the gate status of every citizen, and notices.

Notices are public effects on synthetic citizens only: the billboard at a crossing, the TV and
LED screens, the published list of names and identity numbers, the "dishonest debtor" dial
tone, the posters of model citizens and civilized families. Their text is written on reading,
from the stored (day, kind, subject) rows and the citizen's synthetic name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from xinyong.model.gates import GateStatus, Grades, ListView
from xinyong.model.households import Households
from xinyong.model.org_gates import OrgStanding
from xinyong.model.population import ADULT
from xinyong.records.store import RunStore
from xinyong.scenario import Scenario

__all__ = ["notice_text", "stored_org_standing", "stored_status"]

_TEXTS = {
    "billboard": "{name} (ID {identity}) was caught {what} on camera on day {day}. [billboard at "
    "the crossing, with photo]",
    "tv": "{name} is discredited. [TV and LED screens, day {day}]",
    "published_list": "{name}, identity number {identity}, is added to the published list of "
    "the discredited. [official website, day {day}]",
    "dial_tone": 'Callers to {name} now hear: "the person you are calling is a dishonest '
    'debtor". [from day {day}]',
    "poster": "{name} is a model citizen. [poster, day {day}]",
    "civilized_family": "The family of {name} is a civilized family. [poster, day {day}]",
}


def notice_text(kind: str, name: str, identity: str, behaviour: object, day: int) -> str:
    """A notice as the city shows it, about a synthetic citizen."""
    what = behaviour.replace("_", " ") if isinstance(behaviour, str) else "misbehaving"
    return _TEXTS[kind].format(name=name, identity=identity, what=what, day=day).replace("  ", " ")


def stored_status(store: RunStore, scenario: Scenario) -> GateStatus:
    """Every citizen's lists and grades at the end of a stored run, as gates see them."""
    views: list[ListView] = []
    grades: Grades = {}
    scores: dict[str, np.ndarray] = {}
    covered: dict[str, np.ndarray | None] = {}
    schemes: dict[str, list[str]] = {}
    for index, op in enumerate(scenario.all_operators()):
        if op.scheme.subject != "citizen":
            continue
        standing = store.con.execute(
            "SELECT listed, listing_day, grade, score, covered FROM standings "
            "WHERE operator = ? ORDER BY subject",
            [index],
        ).df()
        names = op.scheme.grade_names()
        codes = pd.Categorical(standing["grade"], categories=names).codes.astype(np.int64)
        grades[op.name] = (codes.__getitem__, names)
        scores[op.name] = standing["score"].to_numpy()
        covered[op.name] = standing["covered"].to_numpy(dtype=bool)
        schemes.setdefault(op.scheme.name, []).append(op.name)
        if op.scheme.listing is not None:
            views.append(
                ListView(
                    f"{op.name}:listing",
                    f"grade {op.scheme.listed_grade}",
                    op.name,
                    "scheme",
                    standing["listed"].to_numpy(),
                    standing["listing_day"].to_numpy(),
                    None,
                )
            )
        n = len(standing)
        for spec in (spec for spec in op.scheme.lists if spec.shared):
            rows = store.con.execute(
                "SELECT subject, since, until FROM memberships WHERE operator = ? AND list = ?",
                [index, spec.name],
            ).fetchnumpy()
            member = np.zeros(n, dtype=bool)
            since = np.full(n, -1, dtype=np.int32)
            until = np.full(n, -1, dtype=np.int32)
            member[rows["subject"]] = True
            since[rows["subject"]] = rows["since"]
            until[rows["subject"]] = rows["until"]
            views.append(ListView(spec.name, spec.title, op.name, spec.kind, member, since, until))
    if scenario.population is None:
        return GateStatus(views, grades, scores=scores, covered=covered, schemes=schemes)
    pop = store.con.execute(
        "SELECT household, role, age FROM population ORDER BY citizen"
    ).fetchnumpy()
    homes = Households.of(pop["household"], pop["role"] == ADULT)
    return GateStatus(
        views,
        grades,
        homes,
        scores=scores,
        covered=covered,
        schemes=schemes,
        age=np.asarray(pop["age"]),
        leads_blacklisted=_stored_leaders(store, scenario, homes.household.size),
    )


def _stored_leaders(
    store: RunStore, scenario: Scenario, n: int
) -> Callable[[np.ndarray], np.ndarray] | None:
    """The condition 'legal representative of a blacklisted organisation' at the end of a
    stored run (None without company schemes)."""
    companies = [
        i for i, op in enumerate(scenario.all_operators()) if op.scheme.subject == "company"
    ]
    if not companies:
        return None
    marks = ", ".join(str(i) for i in companies)
    reps = store.con.execute(f"""
        SELECT DISTINCT o.legal_rep FROM organisations o
        WHERE o.organisation IN (SELECT subject FROM standings
                                 WHERE operator IN ({marks}) AND listed)
           OR o.organisation IN (SELECT subject FROM memberships
                                 WHERE operator IN ({marks}) AND kind = 'black')
        """).fetchnumpy()["legal_rep"]
    leads = np.zeros(n, dtype=bool)
    leads[reps.astype(np.int64)] = True
    return lambda citizens: leads[citizens]


def stored_org_standing(
    store: RunStore, scenario: Scenario, citizens: GateStatus, organisation: int
) -> OrgStanding:
    """One organisation at the end of a stored run, as its gates see it: its corporate
    listings and grades, and its legal representative's standing (from ``citizens``)."""
    companies = [
        (i, op) for i, op in enumerate(scenario.all_operators()) if op.scheme.subject == "company"
    ]
    listed, grades = False, {}
    for index, op in companies:
        row = store.con.execute(
            "SELECT listed, grade FROM standings WHERE operator = ? AND subject = ?",
            [index, organisation],
        ).fetchone()
        if row is not None:
            listed |= bool(row[0])
            grades[op.name] = str(row[1])
        black = store.count(
            "memberships",
            "WHERE operator = ? AND subject = ? AND kind = 'black'",
            [index, organisation],
        )
        listed |= bool(black)
    rep = store.query(
        "SELECT legal_rep FROM organisations WHERE organisation = ?", [organisation]
    ).legal_rep.iloc[0]
    return OrgStanding(
        organisation,
        listed,
        grades,
        companies[0][1].name if companies else "",
        int(rep),
        citizens if citizens.lists else None,
    )
