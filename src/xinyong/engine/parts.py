"""A city's parts, built from its scenario in explicit stages: the kinds of subject and their
schedules, collectors, operators, and what acts on people.

:class:`~xinyong.engine.city.City` calls these once, when it is made, in this order; each
stage takes what the earlier ones made as named arguments, never a half-built city:

    setting → collectors → conduct → starting scores → groups → operators → effects →
    organisations' gates

The day is in :mod:`xinyong.engine.city`. (:class:`Block` and :class:`Group` are also
importable from :mod:`xinyong.engine.city`, where snapshots written before this module existed
name them.)
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from xinyong.model.behaviour import Behaviours
from xinyong.model.collectors import CollectorNetwork
from xinyong.model.consequences import ConsequenceState, initial_response
from xinyong.model.dissent import desired_dissent, expressed_dissent
from xinyong.model.network import SocialNetwork
from xinyong.model.operators import OperatorState, routing
from xinyong.model.org_gates import OrganisationGates
from xinyong.model.population import Population, conduct_factors
from xinyong.model.sensors import Placement, Sensors
from xinyong.model.start import starting_scores
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import Scenario

__all__ = [
    "Block",
    "Group",
    "Setting",
    "collectors",
    "conduct",
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


@dataclass(frozen=True, kw_only=True)
class Setting:
    """What every part of a city is built for: the first stage of its set-up.

    Attributes:
        scenario: the rules and sizes.
        streams: the run's random streams.
        days: the horizon.
        population: the synthetic population of this city (or block), or None.
        own: per kind of subject, the city-wide ids of those this city simulates.
        total: per kind of subject, how many the whole city has (draws are addressed by
            city-wide ids).
        threads: the counterfactual is scored on a second thread (with scratch of its own).
    """

    scenario: Scenario
    streams: Streams
    days: int
    population: Population | None
    own: dict[str, range]
    total: dict[str, int]
    threads: bool

    @property
    def base(self) -> dict[str, int]:
        """Per kind of subject, the city-wide id of the first one here."""
        return {kind: own.start for kind, own in self.own.items()}

    def ids(self, kind: str) -> np.ndarray:
        """The city-wide ids of the subjects of ``kind`` here (what their draws are
        addressed by)."""
        return np.arange(self.own[kind].start, self.own[kind].stop)

    def kinds(self) -> list[str]:
        """The kinds of subject this city simulates: citizens, and companies where any
        behaviour or scheme is theirs."""
        s = self.scenario
        companies = any(b.subject == "company" for b in s.behaviours) or any(
            op.scheme.subject == "company" for op in s.all_operators()
        )
        return ["citizen", "company"] if companies else ["citizen"]


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


def collectors(setting: Setting) -> list[tuple[int, CollectorNetwork]]:
    """The collector networks of the sensors that have them, each with its sensor's index."""
    s, pop = setting.scenario, setting.population
    if pop is None:
        return []
    names = list(s.sensors)
    networks = []
    for name, sensor in s.sensors.items():
        if sensor.collectors is None:
            continue
        claims = [
            i
            for i, b in enumerate(s.behaviours)
            if b.sensor == name and b.subject == "citizen" and s.is_harmful(b)
        ]
        networks.append(
            (
                names.index(name),
                CollectorNetwork(
                    name,
                    sensor.collectors,
                    pop.neighbourhood,
                    claims,
                    setting.streams,
                    setting.base["citizen"],
                ),
            )
        )
    return networks


def conduct(setting: Setting) -> dict[str, np.ndarray]:
    """Per kind of subject, each one's conduct factor (how much more or less often than the
    average it does what is penalised)."""
    s = setting.scenario
    out = {"citizen": conduct_factors(s, setting.streams, setting.ids("citizen"))}
    if "company" in setting.kinds():  # their own stream: adding companies moves no citizen
        normal = setting.streams.normal("conduct/company", SETUP, setting.ids("company"))
        out["company"] = np.exp(s.conduct_lognormal_sigma * normal)
    return out


def starting(setting: Setting, conduct: np.ndarray) -> list[np.ndarray | None]:
    """Per operator, the starting scores of the citizens here, given their ``conduct``
    (None: all start at the scale's start; always None for an operator that scores
    organisations)."""
    pop = setting.population
    band = pop.income_band if pop is not None else None
    ids = setting.ids("citizen")
    return [
        starting_scores(setting.scenario, op, setting.streams, ids, conduct, band)
        if op.scheme.subject == "citizen"
        else None
        for op in setting.scenario.all_operators()
    ]


def groups(
    setting: Setting,
    conduct: dict[str, np.ndarray],
    starts: list[np.ndarray | None],
    collectors: list[tuple[int, CollectorNetwork]],
    second_core: Executor | None = None,
) -> dict[str, Group]:
    """The citizens and (where the scenario has any) the companies, each with its conduct
    factors, behaviour schedule, sensors and scratch columns. The citizens' starting
    responses follow their ``starts``; half the schedules' first draws are made on
    ``second_core``, if given."""
    s, pop = setting.scenario, setting.population
    groups = {}
    for kind in setting.kinds():
        index = [i for i, b in enumerate(s.behaviours) if b.subject == kind]
        own = setting.own[kind]
        n = len(own)
        behaviours = [s.behaviours[i] for i in index]
        scratch = Scratch(n)
        placement = None
        if kind == "citizen" and pop is not None:
            placement = Placement(
                pop.district,
                pop.neighbourhood,
                {net.sensor: net.watched for _, net in collectors},
            )
        citizens = kind == "citizen"
        groups[kind] = Group(
            kind=kind,
            n=n,
            conduct=conduct[kind],
            behaviours=Behaviours(
                behaviours,
                [s.is_harmful(b) for b in behaviours],
                s.listed_response,
                setting.days,
                conduct[kind],
                setting.streams,
                scratch,
                pop.age if citizens and pop else None,
                initial_response(s, starts, n) if citizens else None,
                own.start,
                scales(setting, index, conduct[kind]) if citizens else None,
                second_core,
            ),
            sensors=Sensors(
                behaviours,
                index,
                s.sensors,
                setting.total[kind],
                setting.streams,
                placement,
                own.start,
            ),
            scratch=scratch,
            cf_scratch=Scratch(n) if setting.threads else scratch,
            listed_any=np.zeros(n, dtype=bool),
            occurred=np.empty(0, dtype=np.int64),
        )
    return groups


def scales(setting: Setting, index: list[int], conduct: np.ndarray) -> dict[int, np.ndarray] | None:
    """Fixed per-citizen rate multipliers: who can do a behaviour at all (its
    ``who_share``, e.g. public figures, keyed by behaviour and citizen), and the share of
    their dissent citizens dare express."""
    s, streams, ids = setting.scenario, setting.streams, setting.ids("citizen")
    scales = {}
    names = [s.behaviours[i].name for i in index]
    for k, i in enumerate(index):
        share = s.behaviours[i].who_share
        if share < 1.0:
            u = streams.uniform(f"population/can/{names[k]}", SETUP, ids)
            scales[k] = (u < share).astype(np.float64)
    r = s.response
    if r is not None and r.dissent is not None:
        d = r.dissent
        k = names.index(d.behaviour)
        desire = desired_dissent(streams, ids)
        said = expressed_dissent(desire, conduct, d.punishment, d.severity, d.tolerance)
        scales[k] = scales.get(k, 1.0) * said / desire
    return scales or None


def operators(
    setting: Setting, groups: dict[str, Group], starts: list[np.ndarray | None]
) -> list[OperatorState]:
    """Every operator's state: its scheme as arrays, what it receives and covers, its two
    standings and its lists."""
    s, pop = setting.scenario, setting.population
    receives = routing(s)
    states = []
    for i, op in enumerate(s.all_operators()):
        kind = op.scheme.subject
        group = groups[kind]
        covered = None
        if kind == "citizen" and pop is not None:
            if op.scheme.covers_min_age > 0:
                covered = pop.age >= op.scheme.covers_min_age
            if op.districts is not None:  # a city's operator, in a nation
                here = np.isin(pop.district, op.districts)
                covered = here if covered is None else covered & here
        states.append(
            OperatorState(
                index=i,
                operator=op,
                scenario=s,
                receives=receives[i],
                population=group.n,
                days=setting.days,
                scratch=group.scratch,
                cf_scratch=group.cf_scratch,
                streams=setting.streams,
                covered=covered,
                start=starts[i],
                total=setting.total[kind],
                base=setting.base[kind],
                weight=group.conduct / np.exp(s.conduct_lognormal_sigma**2 / 2),  # mean 1
            )
        )
    return states


def effects(
    setting: Setting,
    operators: list[OperatorState],
    citizens: Group,
    network: SocialNetwork | None,
    sensor_of: np.ndarray,
    second_core: Executor | None = None,
) -> ConsequenceState | None:
    """What acts on citizens (gates, notices, responses); None where nothing does. Half the
    service uses' first draws are made on ``second_core``, if given."""
    s, pop = setting.scenario, setting.population
    if s.consequences is None and s.response is None:
        return None
    return ConsequenceState(
        consequences=s.consequences,
        response=s.response,
        operators=operators,
        population=pop,
        behaviours=citizens.behaviours,
        ages=pop.age if pop is not None else None,
        streams=setting.streams,
        days=setting.days,
        behaviour_names=[b.name for b in s.behaviours],
        sensor_names=list(s.sensors),
        sensor_of=sensor_of,
        base=setting.base["citizen"],
        org_base=setting.base["company"],
        network=network,
        where=second_core,
    )


def org_gates(
    setting: Setting,
    operators: list[OperatorState],
    effects: ConsequenceState | None,
    groups: dict[str, Group],
    org_size: np.ndarray,
) -> OrganisationGates | None:
    """Organisations at their gates; None without organisation services."""
    c, pop = setting.scenario.consequences, setting.population
    if c is None or not c.org_services or pop is None or effects is None or "company" not in groups:
        return None
    return OrganisationGates(
        c,
        operators,
        pop,
        effects.status,
        effects.cf_status,
        setting.streams,
        setting.days,
        org_size,
        setting.base["citizen"],
        setting.base["company"],
    )
