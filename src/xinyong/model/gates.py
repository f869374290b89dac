"""Gates: services checking the system at the point of service [E1, E2].

A gate applies the joint rewards and sanctions table to one citizen and answers allow, deny,
restrict, priority, discount or waive, with the reason in words:

    You are discredited: listed as a dishonest debtor by 'city' since day 112, until day 842.
    No train tickets.

The same rules serve the simulation (vectorised over the day's service uses, real and
counterfactual) and single questions from the CLI, the Python API and the HTTP service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from xinyong.model.households import Households
from xinyong.primitives.codes import ACTION_CODE, ACTIONS, UNTIL_MET, GateAction
from xinyong.primitives.shown import Shown
from xinyong.scenario import Consequences, SanctionRule

__all__ = ["ACTIONS", "Decision", "GateStatus", "Gates", "Grades", "ListView", "said_checked"]

#: Per operator, a function giving the grade index of citizens, and the grade names.
Grades = dict[str, tuple[Callable[[np.ndarray], np.ndarray], list[str]]]


@dataclass(frozen=True)
class ListView:
    """A list as gates see it: who is on it, since when and until when."""

    name: str
    title: str
    operator: str
    kind: str  # "black", "red", or "scheme" (a scheme's own listing)
    member: np.ndarray
    since: np.ndarray
    until: np.ndarray | None


@dataclass(frozen=True)
class GateStatus:
    """Everything a gate may look at, as columns over citizens.

    Attributes:
        lists: every list of every citizen operator (scheme listings included).
        grades: per operator, a function giving the grade index of citizens, and grade names.
        households: who lives with whom, for the children of listed parents (None: no
            households).
        scores: per operator, its subjects' scores now (points).
        covered: per operator, whom it scores (None: everyone); grades and scores count only
            for them.
        schemes: per scheme name, the operators running it.
        age: citizens' ages (years), for services' age limits in single questions.
    """

    lists: list[ListView]
    grades: Grades
    households: Households | None = None
    black: np.ndarray | None = None  # kept up to date by the owner: blacklisted, per citizen
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    covered: dict[str, np.ndarray | None] = field(default_factory=dict)
    schemes: dict[str, list[str]] = field(default_factory=dict)
    age: np.ndarray | None = None
    leads_blacklisted: Callable[[np.ndarray], np.ndarray] | None = None

    def rep_of_blacklisted(self, citizens: np.ndarray) -> np.ndarray:
        """The legal representative of an organisation on a list that binds its
        representative (a judgment debtor), or on its scheme's listing."""
        if self.leads_blacklisted is None:
            return np.zeros(citizens.size, dtype=bool)
        return self.leads_blacklisted(citizens)

    def is_covered(self, operator: str, citizens: np.ndarray) -> np.ndarray:
        """Whether ``operator`` scores each citizen."""
        covered = self.covered.get(operator)
        return np.ones(citizens.size, dtype=bool) if covered is None else covered[citizens]

    def blacklisted(self, citizens: np.ndarray) -> np.ndarray:
        """On any blacklist or scheme listing."""
        if self.black is not None:
            return self.black[citizens]
        return self.any_black(citizens)

    def any_black(self, citizens: np.ndarray) -> np.ndarray:
        """On any blacklist or scheme listing, read from every list (the slow way)."""
        out = np.zeros(citizens.size, dtype=bool)
        for view in self.lists:
            if view.kind != "red":
                out |= view.member[citizens]
        return out

    def on(self, name: str, citizens: np.ndarray) -> np.ndarray:
        """On a named list of any operator."""
        out = np.zeros(citizens.size, dtype=bool)
        for view in self.lists:
            if view.name == name:
                out |= view.member[citizens]
        return out

    def parent_blacklisted(self, citizens: np.ndarray) -> np.ndarray:
        """A non-adult whose household has a blacklisted parent."""
        return self._parent(citizens, self.blacklisted)

    def parent_on(self, name: str, citizens: np.ndarray) -> np.ndarray:
        """A non-adult one of whose parents is on a named list."""
        return self._parent(citizens, lambda member: self.on(name, member))

    def _parent(self, citizens: np.ndarray, flag: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        homes = self.households
        if homes is None:
            return np.zeros(citizens.size, dtype=bool)
        return homes.any_parent(homes.household[citizens], flag) & ~homes.adult[citizens]


@dataclass(frozen=True)
class Decision(Shown):
    """A gate's answer to one citizen."""

    service: str
    citizen: int
    action: str
    reasons: tuple[str, ...]
    eligible: bool = True  # False: outside the service's age limits, the rules never ran
    #: With no rule applying: what the rules of the service checked, and what they found.
    checked: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The answer in a word or two: the action, or "not eligible" (the rules never ran)."""
        return self.action if self.eligible else "not eligible"

    @property
    def text(self) -> str:
        """The answer in words, as the ticket office or the booking site would give it."""
        if not self.eligible:
            return " ".join(self.reasons)
        if not self.reasons:
            if not self.checked:
                return "No rule of the joint table acts at this service here."
            return f"No rule of this service applies. Checked: {'; '.join(self.checked)}."
        lead = {"deny": "You are discredited: ", "restrict": "Restricted: "}.get(self.action, "")
        return lead + " ".join(self.reasons)

    def __str__(self) -> str:
        return f"{self.service}: {self.label.upper()}. {self.text}"


class Gates:
    """The joint rewards and sanctions table, applied to citizens.

    Args:
        consequences: the services and the rules.
        first_operator: the operator whose grades rules use by default.
    """

    def __init__(self, consequences: Consequences, first_operator: str) -> None:
        self.consequences = consequences
        self.services = [s.name for s in consequences.services]
        self._service = {s.name: s for s in consequences.services}
        self.first = first_operator
        self._rules: dict[str, list[SanctionRule]] = {s: [] for s in self.services}
        for rule in consequences.rules:
            self._rules[rule.service].append(rule)
        self._conditions = _conditions(consequences.rules, self.services)
        #: Per service, whether a parent's listing can sanction a child there [S2].
        self.parent_services = np.zeros(len(self.services), dtype=bool)
        for condition in self._conditions:
            if condition.parent_sanction is not None:
                self.parent_services |= condition.parent_sanction

    def _matches(self, rule: SanctionRule, status: GateStatus, citizens: np.ndarray) -> np.ndarray:
        if rule.blacklisted:
            return status.blacklisted(citizens)
        if rule.on_list is not None:
            return status.on(rule.on_list, citizens)
        if rule.red is not None:
            return status.on(rule.red, citizens)
        if rule.parent_blacklisted:
            return status.parent_blacklisted(citizens)
        if rule.parent_red is not None:
            return status.parent_on(rule.parent_red, citizens)
        if rule.company_blacklisted:
            return status.rep_of_blacklisted(citizens)
        out = np.zeros(citizens.size, dtype=bool)
        for op in self.operators_of(rule, status):
            covered = status.covered.get(op)
            mine = slice(None) if covered is None else np.flatnonzero(covered[citizens])
            if rule.min_score is not None:
                out[mine] |= status.scores[op][citizens[mine]] >= rule.min_score
                continue
            assert rule.grades is not None
            grade_of, names = status.grades[op]
            wanted = np.zeros(len(names), dtype=bool)
            wanted[[names.index(g) for g in rule.grades]] = True
            out[mine] |= wanted[grade_of(citizens[mine])]
        return out

    def operators_of(self, rule: SanctionRule, status: GateStatus) -> list[str]:
        """The operators whose grades or scores a rule reads (none: the rule is idle here)."""
        if rule.scheme is not None:
            return status.schemes.get(rule.scheme, [])
        return [rule.operator or self.first]

    def decide_many(
        self, service: str, status: GateStatus, citizens: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Action codes (into ``ACTIONS``) for many citizens at one service, and whether each
        denial came from a parent's listing (the children who pay for it)."""
        if service not in self._rules:
            raise KeyError(f"unknown service '{service}'; services: {', '.join(self.services)}")
        uses = np.zeros(len(self.services), dtype=np.int64)
        uses[self.services.index(service)] = citizens.size
        return self.decide_day(status, citizens, uses)

    def decide_day(
        self, status: GateStatus, citizens: np.ndarray, uses: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``decide_many`` for a whole day's uses at once.

        Args:
            status: what the gates look at.
            citizens: the day's uses grouped by service, in service order: the first
                ``uses[0]`` at service 0, the next ``uses[1]`` at service 1, and so on.
            uses: uses per service (into ``self.services``).

        Returns:
            Per use, the action code and whether a parent's listing denied or restricted it
            (the children who pay [S2]).

        Each distinct condition of the table is evaluated once, on the uses of the services
        that have a rule on it (contiguous runs in service order), instead of once per rule
        and service.
        """
        code = np.zeros(citizens.size, dtype=np.int8)
        by_parent = np.zeros(citizens.size, dtype=bool)
        starts = np.cumsum(uses) - uses
        for condition in self._conditions:
            at = condition.services[uses[condition.services] > 0]
            if at.size == 0:
                continue
            runs = uses[at]
            if runs.sum() == citizens.size:  # every use meets a rule on this condition
                sel: slice | np.ndarray = slice(None)
            elif at.size == 1:
                sel = slice(int(starts[at[0]]), int(starts[at[0]] + runs[0]))
            else:  # the runs' positions, in order
                sel = np.arange(int(runs.sum())) + np.repeat(
                    starts[at] - (np.cumsum(runs) - runs), runs
                )
            hit = self._matches(condition.rule, status, citizens[sel])
            action = np.repeat(condition.action[at], runs)
            code[sel] = np.maximum(code[sel], action * hit)
            if condition.parent_sanction is not None:
                by_parent[sel] |= hit & np.repeat(condition.parent_sanction[at], runs)
        return code, by_parent

    def decide(self, service: str, status: GateStatus, citizen: int) -> Decision:
        """One citizen at one service, with the reasons in words."""
        if service not in self._rules:
            raise KeyError(f"unknown service '{service}'; services: {', '.join(self.services)}")
        spec = self._service[service]
        if status.age is not None and not spec.min_age <= status.age[citizen] <= spec.max_age:
            limits = (
                f"from age {spec.min_age}"
                if spec.max_age >= 200
                else f"for ages {spec.min_age} to {spec.max_age}"
            )
            return Decision(
                service,
                citizen,
                "allow",
                (
                    f"{spec.title[:1].upper() + spec.title[1:]} is {limits}; this citizen is "
                    f"{int(status.age[citizen])}.",
                ),
                eligible=False,
            )
        who = np.array([citizen])
        matched = [
            (ACTION_CODE[r.action], self._reason(r, status, citizen))
            for r in self._rules[service]
            if self._matches(r, status, who)[0]
        ]
        best = max((code for code, _ in matched), default=0)
        # A refusal or restriction speaks for itself; rewards add up.
        keep = (lambda code: code == best) if best >= GateAction.RESTRICT else (lambda code: True)
        reasons = tuple(reason for code, reason in matched if keep(code))
        checked: tuple[str, ...] = ()
        if not reasons:  # an allowance says what was checked, and what was found
            found = (self._checked(r, status, citizen) for r in self._rules[service])
            checked = said_checked(f for f in found if f is not None)
        return Decision(service, citizen, ACTIONS[best], reasons, checked=checked)

    def _checked(
        self, rule: SanctionRule, status: GateStatus, citizen: int
    ) -> tuple[str, str | None] | None:
        """A rule that does not apply to a citizen, as what it found and, for a grade or a
        score, what the rule wants (:func:`said_checked` says them); None for a rule idle here
        (its scheme runs nowhere in this city)."""

        def title(name: str) -> str:
            return next((v.title or v.name for v in status.lists if v.name == name), name)

        if rule.grades is not None or rule.min_score is not None:
            who = np.array([citizen])
            wanted = (
                f"at least {rule.min_score}"
                if rule.min_score is not None
                else "/".join(rule.grades or [])
            )
            ops = self.operators_of(rule, status)
            for op in ops:
                if not status.is_covered(op, who)[0]:
                    continue
                if rule.min_score is not None:
                    return f"score {int(status.scores[op][citizen])} under '{op}'", wanted
                grade_of, names = status.grades[op]
                return f"grade {names[int(grade_of(who)[0])]} under '{op}'", wanted
            if not ops:
                return None
            return f"not covered by {', '.join(repr(o) for o in ops)}", wanted
        if rule.blacklisted:
            return "on no blacklist", None
        if rule.on_list is not None:
            return f"not listed as {title(rule.on_list)}", None
        if rule.red is not None:
            return f"not listed as {title(rule.red)}", None
        if rule.parent_blacklisted:
            return "no blacklisted parent", None
        if rule.parent_red is not None:
            return f"no parent listed as {title(rule.parent_red)}", None
        return "not the legal representative of a blacklisted company", None

    def _reason(self, rule: SanctionRule, status: GateStatus, citizen: int) -> str:
        what = rule.what[:1].upper() + rule.what[1:] + "."
        why = self._why(rule, status, citizen)
        if why and rule.action not in ("deny", "restrict"):
            why = why[:1].upper() + why[1:]  # a reward's reason opens the sentence
        return f"{why} {what}" if why else what

    def _why(self, rule: SanctionRule, status: GateStatus, citizen: int) -> str:
        if rule.grades is not None or rule.min_score is not None:
            who = np.array([citizen])
            for op in self.operators_of(rule, status):
                if not status.is_covered(op, who)[0]:
                    continue
                if rule.min_score is not None:
                    score = int(status.scores[op][citizen])
                    return f"Score {score} under '{op}' (at least {rule.min_score}):"
                grade_of, names = status.grades[op]
                return f"Grade {names[int(grade_of(who)[0])]} under '{op}':"
            return ""
        if rule.parent_blacklisted:
            return "A parent is discredited:"
        if rule.company_blacklisted:
            return "legal representative of a blacklisted company:"
        if rule.parent_red is not None:
            title = next(
                (v.title or v.name for v in status.lists if v.name == rule.parent_red),
                rule.parent_red,
            )
            return f"A parent is listed as {title}:"
        # Named lists speak more plainly than a scheme's own listing: look at them first.
        for view in sorted(status.lists, key=lambda v: v.kind == "scheme"):
            wanted = (rule.blacklisted and view.kind != "red") or view.name in (
                rule.on_list,
                rule.red,
            )
            if wanted and view.member[citizen]:
                title = view.title or view.name
                since = int(view.since[citizen])
                until = ""
                if view.until is not None and view.until[citizen] >= UNTIL_MET:
                    until = ", until the obligation is met"
                elif view.until is not None and view.until[citizen] >= 0:
                    until = f", until day {int(view.until[citizen])}"
                verb = {"red": "listed as", "scheme": "listed with"}.get(view.kind, "listed as")
                return f"{verb} {title} by '{view.operator}' since day {since}{until}."
        return ""


def said_checked(found: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """What the rules of a service checked and found, once each, in the rules' order; the
    grades or scores several rules act on follow the one finding they read (``grade B under
    'city' (AAA/AA or C act)``)."""
    wants: dict[str, list[str]] = {}
    for what, wanted in found:
        wants.setdefault(what, [])
        if wanted is not None and wanted not in wants[what]:
            wants[what].append(wanted)
    return tuple(
        f"{what} ({' or '.join(w)} {'acts' if len(w) == 1 else 'act'})" if w else what
        for what, w in wants.items()
    )


@dataclass(frozen=True)
class _Condition:
    """One distinct condition of the table, and what it does at each service."""

    rule: SanctionRule  # any rule with this condition (the one evaluated)
    services: np.ndarray  # the services with a rule on it that acts, ascending
    action: np.ndarray  # per service: the strongest action code of its rules on it (0: none)
    parent_sanction: np.ndarray | None  # per service: a parent's listing denies or
    # restricts (children pay)


def _conditions(rules: list[SanctionRule], services: list[str]) -> list[_Condition]:
    """The table's rules grouped by condition: a condition is evaluated once a day."""
    keys = (
        "blacklisted",
        "on_list",
        "red",
        "grades",
        "min_score",
        "operator",
        "scheme",
        "parent_blacklisted",
        "parent_red",
        "company_blacklisted",
    )
    groups: dict[tuple, list[SanctionRule]] = {}
    for rule in rules:
        key = tuple(
            tuple(v) if isinstance(v, list) else v for v in (getattr(rule, k) for k in keys)
        )
        groups.setdefault(key, []).append(rule)
    index = {name: i for i, name in enumerate(services)}
    out = []
    for group in groups.values():
        action = np.zeros(len(services), dtype=np.int8)
        parent = np.zeros(len(services), dtype=bool)
        for rule in group:
            s = index[rule.service]
            action[s] = max(action[s], ACTION_CODE[rule.action])
            parent[s] |= rule.parent_blacklisted and rule.action in ("deny", "restrict")
        if action.any():
            out.append(
                _Condition(
                    group[0], np.flatnonzero(action), action, parent if parent.any() else None
                )
            )
    return out
