"""A city's parts, built from its scenario: the kinds of subject and their schedules,
collectors, operators, and what acts on people.

:class:`~xinyong.engine.city.City` calls these once, when it is made; the day is in
:mod:`xinyong.engine.city`. (:class:`Block` and :class:`Group` are also importable from
:mod:`xinyong.engine.city`, where snapshots written before this module existed name them.)
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xinyong.model import opening
from xinyong.model.behaviour import Behaviours
from xinyong.model.collectors import CollectorNetwork
from xinyong.model.consequences import ConsequenceState, initial_response
from xinyong.model.dissent import desired_dissent, expressed_dissent
from xinyong.model.opening import Trace
from xinyong.model.operators import OperatorState, routing
from xinyong.model.org_gates import OrganisationGates
from xinyong.model.population import conduct_factors
from xinyong.model.sensors import Placement, Sensors
from xinyong.model.start import starting_scores
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import SETUP

if TYPE_CHECKING:
    from xinyong.engine.city import City

__all__ = [
    "Block",
    "Group",
    "collectors",
    "effects",
    "groups",
    "operators",
    "org_gates",
    "scales",
    "starting",
]


@dataclass(frozen=True)
class Block:
    """The subjects one block of a split run owns: citizens ``[lo, hi)`` and organisations
    ``[org_lo, org_hi)``. Blocks follow neighbourhood boundaries, so a household, a collector's
    beat and a neighbourhood each belong to one block."""

    lo: int
    hi: int
    org_lo: int = 0
    org_hi: int = 0


@dataclass
class Group:
    """One kind of subject (citizens, or companies) and what it does each day."""

    kind: str
    n: int
    conduct: np.ndarray
    behaviours: Behaviours
    sensors: Sensors
    scratch: Scratch
    cf_scratch: Scratch
    listed_any: np.ndarray  # listed by any operator: what behaviour responds to
    occurred: np.ndarray

    def update_listed_any(
        self, operators: list[OperatorState], toggled: list[np.ndarray]
    ) -> np.ndarray:
        """Bring ``listed_any`` up to date after a day's listings and releases (``toggled``:
        each operator's subjects whose listing flipped), and return the subjects whose flag
        flipped (their behaviour changes from tomorrow)."""
        candidates = (
            self.scratch.distinct(np.concatenate(toggled))
            if toggled
            else np.empty(0, dtype=np.int64)
        )
        if candidates.size == 0:
            return candidates
        now = np.zeros(candidates.size, dtype=bool)
        for op in operators:
            if op.subject == self.kind:
                now |= op.listed_any(candidates)
        flipped = candidates[now != self.listed_any[candidates]]
        self.listed_any[candidates] = now
        return flipped


def collectors(city: City) -> list[tuple[int, CollectorNetwork]]:
    """The collector networks of the sensors that have them, each with its sensor's index."""
    if city.population is None:
        return []
    names = list(city.scenario.sensors)
    networks = []
    for name, sensor in city.scenario.sensors.items():
        if sensor.collectors is None:
            continue
        claims = [
            i
            for i, b in enumerate(city.scenario.behaviours)
            if b.sensor == name and b.subject == "citizen" and city.scenario.is_harmful(b)
        ]
        networks.append(
            (
                names.index(name),
                CollectorNetwork(
                    name,
                    sensor.collectors,
                    city.population.neighbourhood,
                    claims,
                    city.streams,
                    city.base["citizen"],
                ),
            )
        )
    return networks


def groups(city: City, second_core: Executor | None = None) -> dict[str, Group]:
    """The citizens and (where the scenario has any) the companies, each with its conduct
    factors, behaviour schedule, sensors and scratch columns; sets ``city.starts``, the
    citizens' starting scores, drawn with their conduct. Half the schedules' first draws are
    made on ``second_core``, if given."""
    s, pop = city.scenario, city.population
    groups = {}
    for kind in ("citizen", "company"):
        index = [i for i, b in enumerate(s.behaviours) if b.subject == kind]
        schemes = [op for op in s.all_operators() if op.scheme.subject == kind]
        if kind == "company" and not (index or schemes):
            continue
        own = city.own[kind]
        n = len(own)
        ids = np.arange(own.start, own.stop)  # draws are addressed by city-wide ids
        if kind == "citizen":
            conduct = conduct_factors(s, city.streams, ids)
            city.starts = starting(city, ids, conduct)
        else:  # companies draw from their own stream, so adding them moves no citizen
            conduct = np.exp(
                s.conduct_lognormal_sigma * city.streams.normal("conduct/company", SETUP, ids)
            )
        behaviours = [s.behaviours[i] for i in index]
        scratch = Scratch(n)
        placement = None
        if kind == "citizen" and pop is not None:
            placement = Placement(
                pop.district,
                pop.neighbourhood,
                {net.sensor: net.watched for _, net in city.collectors},
            )
        groups[kind] = Group(
            kind=kind,
            n=n,
            conduct=conduct,
            behaviours=Behaviours(
                behaviours,
                [s.is_harmful(b) for b in behaviours],
                s.listed_response,
                city.days,
                conduct,
                city.streams,
                scratch,
                pop.age if kind == "citizen" and pop else None,
                initial_response(s, city.starts, n) if kind == "citizen" else None,
                own.start,
                scales(city, index, ids, conduct) if kind == "citizen" else None,
                second_core,
            ),
            sensors=Sensors(
                behaviours, index, s.sensors, city.total[kind], city.streams, placement, own.start
            ),
            scratch=scratch,
            cf_scratch=Scratch(n) if city.threads else scratch,
            listed_any=np.zeros(n, dtype=bool),
            occurred=np.empty(0, dtype=np.int64),
        )
    return groups


def starting(city: City, ids: np.ndarray, conduct: np.ndarray) -> list[np.ndarray | None]:
    """Per operator, the starting scores of the citizens ``ids`` here (None: all start at
    the scale's start; always None for an operator that scores organisations)."""
    band = city.population.income_band if city.population is not None else None
    return [
        starting_scores(city.scenario, op, city.streams, ids, conduct, band)
        if op.scheme.subject == "citizen"
        else None
        for op in city.scenario.all_operators()
    ]


def scales(
    city: City, index: list[int], ids: np.ndarray, conduct: np.ndarray
) -> dict[int, np.ndarray] | None:
    """Fixed per-citizen rate multipliers: who can do a behaviour at all (its
    ``who_share``, e.g. public figures, keyed by behaviour and citizen), and the share of
    their dissent citizens dare express."""
    scales = {}
    names = [city.scenario.behaviours[i].name for i in index]
    for k, i in enumerate(index):
        share = city.scenario.behaviours[i].who_share
        if share < 1.0:
            u = city.streams.uniform(f"population/can/{names[k]}", SETUP, ids)
            scales[k] = (u < share).astype(np.float64)
    r = city.scenario.response
    if r is not None and r.dissent is not None:
        d = r.dissent
        k = names.index(d.behaviour)
        desire = desired_dissent(city.streams, ids)
        said = expressed_dissent(desire, conduct, d.punishment, d.severity, d.tolerance)
        scales[k] = scales.get(k, 1.0) * said / desire
    return scales or None


def operators(city: City) -> list[OperatorState]:
    """Every operator's state: its scheme as arrays, what it receives and covers, its two
    standings and its lists."""
    s, pop = city.scenario, city.population
    receives = routing(s)
    states = []
    for i, op in enumerate(s.all_operators()):
        group = city.groups[op.scheme.subject]
        covered = None
        if op.scheme.subject == "citizen" and pop is not None:
            if op.scheme.covers_min_age > 0:
                covered = pop.age >= op.scheme.covers_min_age
            if op.districts is not None:  # a city's operator, in a nation
                here = np.isin(pop.district, op.districts)
                covered = here if covered is None else covered & here
        weight = group.conduct / np.exp(s.conduct_lognormal_sigma**2 / 2)  # mean 1
        states.append(
            OperatorState(
                i,
                op,
                s,
                receives[i],
                group.n,
                city.days,
                group.scratch,
                group.cf_scratch,
                city.streams,
                covered,
                city.starts[i],
                city.total[op.scheme.subject],
                city.base[op.scheme.subject],
                weight,
            )
        )
    return states


def warm_start(city: City) -> list[Trace]:
    """Open the city's blacklists at their steady state, for each kind of subject, and count
    each opening listing's event under the schemes that receive it
    (:mod:`xinyong.model.opening`); the events, for the ledger."""
    s = city.scenario
    traces = []
    for kind, group in city.groups.items():
        index = [i for i, b in enumerate(s.behaviours) if b.subject == kind]
        traces += opening.warm_start(
            city.operators,
            kind,
            group.behaviours,
            group.sensors,
            index,
            city.streams,
            city.base[kind],
        )
    return traces


def effects(city: City, second_core: Executor | None = None) -> ConsequenceState | None:
    """What acts on citizens (gates, notices, responses); None where nothing does. Half the
    service uses' first draws are made on ``second_core``, if given."""
    s = city.scenario
    if s.consequences is None and s.response is None:
        return None
    citizens = city.groups["citizen"]
    return ConsequenceState(
        s.consequences,
        s.response,
        city.operators,
        city.population,
        citizens.behaviours,
        city.population.age if city.population is not None else None,
        city.streams,
        city.days,
        [b.name for b in s.behaviours],
        list(s.sensors),
        city.sensor_of,
        city.base["citizen"],
        city.base["company"],
        city.network,
        second_core,
    )


def org_gates(city: City) -> OrganisationGates | None:
    """Organisations at their gates; None without organisation services."""
    c = city.scenario.consequences
    if (
        c is None
        or not c.org_services
        or city.population is None
        or city.effects is None
        or "company" not in city.groups
    ):
        return None
    return OrganisationGates(
        c,
        city.operators,
        city.population,
        city.effects.status,
        city.effects.cf_status,
        city.streams,
        city.days,
        city.org_size,
        city.base["citizen"],
        city.base["company"],
    )
