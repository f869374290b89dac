"""Companies feel it, both ways: gates for organisations, and the legal representative link.

An organisation asks for public tenders, bank loans, subsidies, licences, market access and
bond issues; each is a gate check under the organisations' rows of the joint table, which read
the corporate score and lists [S1: a good company score wins public tenders and cheaper lending,
seed 001] and the standing of the organisation's legal representative (the joint punishment
memoranda restrict an enterprise whose legal representative is a dishonest debtor). The other
way, the legal representative of a blacklisted organisation is restricted in person (the SPC's
limits on high consumption): :func:`leads_blacklisted` is the citizen gates' condition.

Organisations are numbered in the order of their legal representatives, so a block of a split
run holds each organisation with its legal representative and the link needs nothing from
another block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.model.behaviour import Behaviours
from xinyong.model.gates import Decision, GateStatus, said_checked
from xinyong.primitives.codes import ACTION_CODE, ACTIONS, GateAction
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, Consequences, ListedResponse, OrgRule

if TYPE_CHECKING:
    from xinyong.model.operators import OperatorState
    from xinyong.model.population import Population

__all__ = [
    "CORPORATE_HARMS",
    "OrgStanding",
    "OrganisationGates",
    "leads_blacklisted",
    "org_decision",
    "org_listed",
]

#: The harms to organisations, as counted (they add up across blocks).
CORPORATE_HARMS = (
    "blacklisted",
    "wrongly_blacklisted",
    "ever_wrongly_blacklisted",
    "employees_of_blacklisted",
    "employees_affected",
)


def org_listed(
    operators: list[OperatorState],
    orgs: np.ndarray,
    counterfactual: bool = False,
    representative: bool = False,
) -> np.ndarray:
    """Whether each organisation (local id) is on a company operator's listing or blacklist;
    with ``representative``, only the blacklists that bind its legal representative in person
    (``binds_representative``: the judgment debtors', not an administrative directory's)."""
    out = np.zeros(orgs.size, dtype=bool)
    for op in operators:
        if op.subject != "company":
            continue
        standing = op.counterfactual if counterfactual else op.standing
        book = op.cf_lists if counterfactual else op.lists
        out |= standing.listed[orgs]
        if not book:
            continue
        if not representative or all(lst.spec.binds_representative for lst in book.lists):
            out |= book.black_any[orgs]
            continue
        for lst in book.lists:
            if lst.black and lst.spec.binds_representative:
                out |= lst.member[orgs]
    return out


def leads_blacklisted(
    operators: list[OperatorState],
    population: Population,
    citizen_base: int,
    org_base: int,
    counterfactual: bool = False,
) -> Callable[[np.ndarray], np.ndarray]:
    """The condition 'legal representative of a blacklisted organisation' (on a list that binds
    its representative), for citizens given by local ids (a citizen represents at most the one
    organisation employing them)."""
    return _LeadsBlacklisted(operators, population, citizen_base, org_base, counterfactual)


class _LeadsBlacklisted:
    """:func:`leads_blacklisted` as an object, not a closure, so that a city holding it can be
    pickled (checkpoints, the live city's snapshots)."""

    def __init__(
        self,
        operators: list[OperatorState],
        population: Population,
        citizen_base: int,
        org_base: int,
        counterfactual: bool,
    ) -> None:
        self.operators, self.population = operators, population
        self.citizen_base, self.org_base = citizen_base, org_base
        self.counterfactual = counterfactual

    def __call__(self, citizens: np.ndarray) -> np.ndarray:
        population, n_orgs = self.population, self.population.organisations
        org = population.employer[citizens].astype(np.int64) - self.org_base
        here = (org >= 0) & (org < n_orgs)  # an employer in another block: not its rep
        org = np.where(here, org, 0)
        rep = (
            here & (population.org_legal_rep[org] == citizens + self.citizen_base)
            if n_orgs
            else here
        )
        out = np.zeros(citizens.size, dtype=bool)
        if rep.any():
            out[rep] = org_listed(self.operators, org[rep], self.counterfactual, True)
        return out


@dataclass(frozen=True)
class OrgStanding:
    """One organisation as its gates see it, for a single question: whether it is on a
    corporate listing or blacklist, its grade under each company operator, and its legal
    representative's standing."""

    organisation: int
    listed: bool
    grades: dict[str, str]  # company operator -> the organisation's grade under it
    first: str  # the first company operator, which a rule names by default ("" if none)
    rep: int  # its legal representative (citizen id in ``citizens``)
    citizens: GateStatus | None  # the citizens' gate status (None: none to read)

    def matches(self, rule: OrgRule) -> bool:
        """Whether a rule of the organisations' table applies to this organisation."""
        if rule.blacklisted:
            return self.listed
        who = np.array([self.rep])
        if rule.rep_on_list is not None:
            return self.citizens is not None and bool(self.citizens.on(rule.rep_on_list, who)[0])
        if rule.rep_blacklisted:
            return self.citizens is not None and bool(self.citizens.any_black(who)[0])
        grade = self.grades.get(rule.operator or self.first)
        return grade is not None and grade in (rule.grades or [])

    def checked(self, rule: OrgRule) -> tuple[str, str | None]:
        """A rule that does not apply, as what it found and, for a grade, what the rule
        wants (:func:`~xinyong.model.gates.said_checked` says them)."""
        if rule.blacklisted:
            return "the organisation is on no blacklist", None
        if rule.rep_blacklisted:
            return "its legal representative is on no blacklist", None
        if rule.rep_on_list is not None:
            views = self.citizens.lists if self.citizens is not None else []
            title = next(
                (v.title or v.name for v in views if v.name == rule.rep_on_list), rule.rep_on_list
            )
            return f"its legal representative is not listed as {title}", None
        op = rule.operator or self.first
        grade = self.grades.get(op)
        found = f"no corporate grade under '{op}'" if grade is None else f"corporate grade {grade}"
        return f"{found} under '{op}'" if grade is not None else found, "/".join(rule.grades or [])


def org_decision(
    service: str,
    org: int,
    rules: list[OrgRule],
    matches: Callable[[OrgRule], bool],
    first: str,
    checked: Callable[[OrgRule], tuple[str, str | None]] | None = None,
) -> Decision:
    """One organisation at one service: the strongest action of the rules that apply, and
    their reasons in words (a refusal or restriction speaks for itself; rewards add up).

    Args:
        service: the organisations' service.
        org: the organisation.
        rules: the service's rules.
        matches: whether a rule applies to the organisation.
        first: the company operator a rule names by default.
        checked: a rule that does not apply, as what it found and what it wants (for an
            allowance to say why); None says nothing.
    """
    matched = [(ACTION_CODE[r.action], r) for r in rules if matches(r)]
    best = max((code for code, _ in matched), default=0)
    reasons = tuple(
        _org_reason(r, first) for code, r in matched if code == best or best < GateAction.RESTRICT
    )
    found = said_checked(checked(r) for r in rules) if checked and not reasons else ()
    return Decision(service, org, ACTIONS[best], reasons, checked=found)


def _org_reason(rule: OrgRule, first: str) -> str:
    why = {True: "The organisation is blacklisted:"}.get(rule.blacklisted, "")
    if rule.rep_on_list is not None or rule.rep_blacklisted:
        why = "Its legal representative is discredited:"
    elif rule.grades is not None:
        under = rule.operator or rule.scheme or first
        why = f"Corporate grade {'/'.join(rule.grades)} under '{under}':"
    return f"{why} {rule.what[:1].upper() + rule.what[1:]}."


class OrganisationGates:
    """The organisations' gates during a run, and the harms to organisations.

    Args:
        consequences: the table (its ``org_services`` and ``org_rules``).
        operators: the city's operators (company operators are read).
        population: this city's (or block's) population.
        status, cf_status: the citizens' gate status, real and error-free (legal
            representatives' lists).
        streams: the run's random streams.
        days: the horizon.
        org_size: employees of each organisation here (counted over the whole city).
        citizen_base, org_base: the city-wide ids of citizen 0 and organisation 0 here.
    """

    #: Today's denials (service, organisations) until :meth:`settle`.
    _unsettled: tuple[tuple[int, np.ndarray], ...] = ()

    def __init__(
        self,
        consequences: Consequences,
        operators: list[OperatorState],
        population: Population,
        status: GateStatus,
        cf_status: GateStatus,
        streams: Streams,
        days: int,
        org_size: np.ndarray,
        citizen_base: int,
        org_base: int,
    ) -> None:
        self.services = [s.name for s in consequences.org_services]
        self._spec = {s.name: s for s in consequences.org_services}
        self._rules: dict[str, list[OrgRule]] = {s: [] for s in self.services}
        for rule in consequences.org_rules:
            self._rules[rule.service].append(rule)
        self.operators = [op for op in operators if op.subject == "company"]
        self._first = self.operators[0].name if self.operators else ""
        self.population = population
        self.status, self.cf_status = status, cf_status
        self.citizen_base = citizen_base
        self.n = population.organisations
        self.today = 0
        uses = [
            Behaviour(
                name=f"org-use:{s.name}",
                p=s.uses_per_year / 365.0,
                sensor="-",
                subject="company",
                harmful=False,
            )
            for s in consequences.org_services
        ]
        self.uses = Behaviours(
            uses,
            [False] * len(uses),
            ListedResponse(negative=1.0, positive=1.0),
            days,
            np.broadcast_to(1.0, self.n),
            streams,
            Scratch(self.n),
            base=org_base,
        )
        self._nobody = np.zeros(self.n, dtype=bool)
        self.decisions = np.zeros((len(self.services), len(ACTIONS)), dtype=np.int64)
        self.wrongly_denied = np.zeros(len(self.services), dtype=np.int64)
        self.org_size = org_size
        self.wrong_ever = np.zeros(self.n, dtype=bool)

    # -- the rules -------------------------------------------------------------------------

    def _matches(self, rule: OrgRule, orgs: np.ndarray, counterfactual: bool) -> np.ndarray:
        if rule.blacklisted:
            return org_listed(self.operators, orgs, counterfactual)
        status = self.cf_status if counterfactual else self.status
        rep = self.population.org_legal_rep[orgs].astype(np.int64) - self.citizen_base
        if rule.rep_on_list is not None:
            return status.on(rule.rep_on_list, rep)
        if rule.rep_blacklisted:
            return status.blacklisted(rep) if not counterfactual else status.any_black(rep)
        assert rule.grades is not None
        op = self._grading(rule)
        if op is None:  # no company scheme: no corporate grades to read
            return np.zeros(orgs.size, dtype=bool)
        standing = op.counterfactual if counterfactual else op.standing
        names = standing.grade_names
        wanted = np.array([names.index(g) for g in rule.grades])
        return np.isin(standing.grades(orgs, self.today), wanted)

    def _grading(self, rule: OrgRule) -> OperatorState | None:
        """The company operator whose grades a rule reads: the one it names, the first
        running its scheme, or the first; None where there is none (the rule is idle)."""
        if rule.scheme is not None:
            return next((o for o in self.operators if o.scheme.name == rule.scheme), None)
        name = rule.operator or self._first
        return next((o for o in self.operators if o.name == name), None)

    def decide_many(
        self, service: str, orgs: np.ndarray, counterfactual: bool = False
    ) -> np.ndarray:
        """Action codes (into ``ACTIONS``) for organisations (local ids) at one service."""
        code = np.zeros(orgs.size, dtype=np.int8)
        for rule in self._rules[service]:
            hit = self._matches(rule, orgs, counterfactual)
            code = np.maximum(code, np.where(hit, ACTION_CODE[rule.action], 0)).astype(np.int8)
        return code

    def decide(self, service: str, org: int) -> tuple[str, tuple[str, ...]]:
        """One organisation (local id) at one service: the answer and its reasons in words."""
        if service not in self._rules:
            raise KeyError(
                f"unknown organisation service '{service}'; services: {', '.join(self.services)}"
            )
        who = np.array([org])
        d = org_decision(
            service,
            org,
            self._rules[service],
            lambda rule: bool(self._matches(rule, who, False)[0]),
            self._first,
        )
        return d.action, d.reasons

    # -- the day ---------------------------------------------------------------------------

    def step(self, day: int) -> dict[str, int]:
        """The day's organisation gate checks. Returns the day's denials; :meth:`settle`
        counts the wrongful ones once the counterfactual's day is done."""
        self.today = day
        pairs = self.uses.occurrences(day)
        org = pairs // self.uses.k
        service = pairs - org * self.uses.k
        row: dict[str, int] = {}
        unsettled: list[tuple[int, np.ndarray]] = []
        for s, name in enumerate(self.services):
            who = org[service == s]
            if who.size == 0:
                continue
            code = self.decide_many(name, who)
            self.decisions[s] += np.bincount(code, minlength=len(ACTIONS))
            denied = code == GateAction.DENY
            if denied.any():
                unsettled.append((s, who[denied]))
                row[f"org_denied_{name}"] = int(denied.sum())
        self.uses.reschedule(day, pairs, np.empty(0, dtype=np.int64), self._nobody)
        self._unsettled = tuple(unsettled)
        return row

    def settle(self, toggled: list[np.ndarray]) -> None:
        """The error-free side of the day, once the counterfactual's day is done: the day's
        wrongful refusals, and the organisations wrongly listed among those whose real or
        error-free listing flipped today (``toggled``)."""
        if toggled:
            flipped = np.unique(np.concatenate(toggled))
            wrong = org_listed(self.operators, flipped) & ~org_listed(self.operators, flipped, True)
            self.wrong_ever[flipped[wrong]] = True
        for s, denied in self._unsettled:
            cf = self.decide_many(self.services[s], denied, counterfactual=True)
            self.wrongly_denied[s] += int((cf != GateAction.DENY).sum())
        self._unsettled = ()

    def tally(self) -> dict[str, Any]:
        """Decisions, wrongful refusals and the harms to organisations, as counts."""
        every = np.arange(self.n)
        real = org_listed(self.operators, every)
        wrong = real & ~org_listed(self.operators, every, True)
        harms = np.array(
            [
                real.sum(),
                wrong.sum(),
                self.wrong_ever.sum(),
                self.org_size[real].sum(),
                self.org_size[self.wrong_ever].sum(),
            ],
            dtype=np.int64,
        )
        return {
            "decisions": self.decisions.copy(),
            "wrongly_denied": self.wrongly_denied.copy(),
            "harms": harms,
        }
