"""Consequences in the running city: gates at the point of service, notices, and responses.

Each day citizens use services (rail, hotels, schools, banks...) at their yearly rates; every
use is a gate check under the joint rewards and sanctions table, counted by service and answer,
and checked again against the counterfactual lists (a refusal the error-free system would not
have made is a wrongful refusal). Children refused because of a parent are counted [S2].
Public notices are written about synthetic citizens. Citizens respond [E3]: their own grade,
refusals they met and a blacklisted relative at home scale their penalised behaviours down and
their rewarded ones up, from the next day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from xinyong.accuracy import listing_name
from xinyong.behaviour import Behaviours
from xinyong.calendar import Calendar
from xinyong.codes import ACTIONS, NOTICE_HARMS, NOTICE_KINDS, GateAction, ListChange, NoticeHarm
from xinyong.day import Acted
from xinyong.gates import Gates, GateStatus, ListView
from xinyong.network import SocialNetwork
from xinyong.org_gates import leads_blacklisted
from xinyong.scenario import Behaviour, Consequences, ListedResponse, Response, Scenario
from xinyong.scratch import Scratch
from xinyong.sensors import Events
from xinyong.streams import Streams

if TYPE_CHECKING:
    from xinyong.operators import Judgement, OperatorState
    from xinyong.population import Population
    from xinyong.standing import Standing

__all__ = ["NOTICE_HARMS", "NOTICE_KINDS", "ConsequenceState", "NoticeKind",
           "initial_response", "live_status", "notice_lists"]

#: One of NOTICE_KINDS (:mod:`xinyong.codes`), as a type (the HTTP service's schema lists them).
NoticeKind = Literal[NOTICE_KINDS]  # type: ignore[valid-type]


def notice_lists(operators: Any) -> list[str]:
    """The lists a notice can be caused by, as notice records name them: each citizen
    scheme's own listing (``OPERATOR:listing``, its listed grade) and each of its lists by name
    (as notice rules and sanction rules address them; one name for lists of that name under
    several operators).

    Args:
        operators: the scenario's operators, or a city's (anything with ``name`` and
            ``scheme``).
    """
    names: list[str] = []
    for op in operators:
        if op.scheme.subject != "citizen":
            continue
        if op.scheme.listing is not None:
            names.append(listing_name(op.name))
        names += [spec.name for spec in op.scheme.lists if spec.name not in names]
    return names


def initial_response(scenario: Scenario, starts: list[np.ndarray | None], n: int
                     ) -> np.ndarray | None:
    """Each citizen's response factor on day 0, from the grade its starting score earns under
    the first citizen operator (nobody has been refused or listed yet).

    Args:
        scenario: the scenario.
        starts: per operator, its starting scores of the ``n`` citizens
            (:func:`xinyong.start.starting_scores`; None: all start at the scale's start).
        n: the number of citizens.
    """
    r = scenario.response
    if r is None:
        return None
    factor = np.ones(n)
    ops = scenario.all_operators()
    first = next((i for i, op in enumerate(ops) if op.scheme.subject == "citizen"), None)
    if not r.grade or first is None:
        return factor
    scheme = ops[first].scheme
    start = starts[first]
    if start is None:
        start = np.full(n, scheme.score.start, dtype=np.int64)
    for g in reversed(scheme.grades):  # worst first, so better grades overwrite
        factor[start >= g.min] = r.grade.get(g.grade, 1.0)
    return factor


def live_status(operators: list[OperatorState], population: Population | None,
                counterfactual: bool, day: list[int], black: np.ndarray | None = None,
                citizen_base: int = 0, org_base: int = 0) -> GateStatus:
    """A gate status over the running city's own arrays (no copies).

    Args:
        operators: the city's operators (citizen operators are used).
        population: households, for the children of blacklisted parents.
        counterfactual: read the counterfactual standings and lists instead.
        day: a one-element list holding today (grades with caps depend on the day).
        black: a per-citizen 'blacklisted' column the caller keeps up to date, if any.
        citizen_base, org_base: the city-wide ids of citizen 0 and organisation 0 here (legal
            representatives are named by city-wide ids).
    """
    views, grades = [], {}
    scores: dict[str, np.ndarray] = {}
    covered: dict[str, np.ndarray | None] = {}
    schemes: dict[str, list[str]] = {}
    for op in operators:
        if op.subject != "citizen":
            continue
        standing = op.counterfactual if counterfactual else op.standing
        book = op.cf_lists if counterfactual else op.lists
        if standing.lists:
            views.append(ListView(f"{op.name}:listing",
                                  f"grade {op.scheme.listed_grade}", op.name,
                                  "scheme", standing.listed, standing.listing_day, None))
        for lst in book.lists:
            if lst.spec.shared:  # services see the lists published on the sharing platform
                views.append(ListView(lst.spec.name, lst.spec.title, op.name,
                                      lst.spec.kind, lst.member, lst.since, lst.until))
        grades[op.name] = (_GradesToday(standing, day), standing.grade_names)
        scores[op.name] = standing.score
        covered[op.name] = op.covered
        schemes.setdefault(op.scheme.name, []).append(op.name)
    if population is None:
        return GateStatus(views, grades, black=black, scores=scores, covered=covered,
                          schemes=schemes)
    leads = None
    if population.organisations and any(op.subject == "company" for op in operators):
        leads = leads_blacklisted(operators, population, citizen_base, org_base, counterfactual)
    return GateStatus(views, grades, population.homes, black, scores=scores, covered=covered,
                      schemes=schemes, age=population.age, leads_blacklisted=leads)


class _GradesToday:
    """A standing's grades on the day held in ``day[0]`` (a class, not a lambda, so that a
    city's gate status pickles into a checkpoint or a live city's snapshot)."""

    def __init__(self, standing: Standing, day: list[int]) -> None:
        self.standing, self.day = standing, day

    def __call__(self, citizens: np.ndarray) -> np.ndarray:
        return self.standing.grades(citizens, self.day[0])


class ConsequenceState:
    """Gates, notices and responses for one run.

    Args:
        consequences: services, rules and notices.
        response: the response model, or None.
        operators: the city's operators.
        population: the synthetic population (households), or None.
        behaviours: the citizens' behaviour schedule (its response factors are set here).
        ages: citizens' ages (services have age limits), or None.
        streams: the run's random streams.
        days: the horizon.
        behaviour_names: scenario behaviour names (for billboard notices).
        sensor_names: scenario sensor names.
        sensor_of: sensor index per scenario behaviour.
        base: the city-wide id of citizen 0 here (a block's first citizen).
        org_base: the city-wide id of organisation 0 here.
        network: friends and workmates, for the response to a blacklisted contact.
    """

    def __init__(self, consequences: Consequences | None, response: Response | None,
                 operators: list[OperatorState], population: Population | None,
                 behaviours: Behaviours, ages: np.ndarray | None, streams: Streams, days: int,
                 behaviour_names: list[str], sensor_names: list[str], sensor_of: np.ndarray,
                 base: int = 0, org_base: int = 0, network: SocialNetwork | None = None
                 ) -> None:
        self.today = [0]
        self.base = base
        self.n = behaviours.n
        self.population = population
        self.operators = [op for op in operators if op.subject == "citizen"]
        self.black = np.zeros(self.n, dtype=bool)  # on a shared blacklist, kept from toggles
        self.status = live_status(operators, population, False, self.today, self.black, base,
                                  org_base)
        self.cf_status = live_status(operators, population, True, self.today, None, base,
                                     org_base)
        self._scratch = Scratch(self.n)
        self.consequences = consequences
        self.gates = None
        if consequences is not None and self.operators:
            self.gates = Gates(consequences, self.operators[0].name)
            services = consequences.services
            # A service checks the system only where some rule of it acts: one whose rules all
            # read a scheme nobody runs here (Xiamen's car parks in Rongcheng) is not visited.
            acting = {r.service for r in consequences.rules
                      if r.scheme is None or self.status.schemes.get(r.scheme)}
            uses = [Behaviour(name=f"use:{s.name}",
                              p=s.uses_per_year / 365.0 if s.name in acting else 0.0,
                              sensor="-", min_age=s.min_age, max_age=s.max_age, harmful=False)
                    for s in services]
            self.uses = Behaviours(uses, [False] * len(uses),
                                   ListedResponse(negative=1.0, positive=1.0), days,
                                   np.broadcast_to(1.0, self.n), streams, self._scratch, ages,
                                   base=base)  # one rate for all: no column
            self.decisions = np.zeros((len(services), len(ACTIONS)), dtype=np.int64)
            self.wrongly_denied = np.zeros(len(services), dtype=np.int64)
        self.children_affected = np.zeros(self.n if population is not None else 0, dtype=bool)
        self._children_count = 0  # children_affected.sum(), kept as it grows
        self._nobody = np.zeros(self.n, dtype=bool)  # services see no one as listed
        # (day, kind, citizens, behaviour shown or -1, list joined or -1) per batch of notices
        self._notices: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.list_names = notice_lists(self.operators)  # what a notice's list code names
        self._ages = ages
        # Billboards about minors, and on misattributed, false and dismissed events.
        self.notice_harms = np.zeros(len(NOTICE_HARMS), dtype=np.int64)
        self._billboards = self._notice_rules(behaviour_names, sensor_names, sensor_of)
        # Response [E3].
        self.response = response
        self.behaviours = behaviours
        self.last_refused = np.full(self.n if response else 0, -(10**6), dtype=np.int32)
        # Sanctions seen around: blacklisted neighbours, counted per neighbourhood.
        self._watch_neighbours = bool(response and population is not None
                                      and response.neighbourhood_listed != 1.0)
        if self._watch_neighbours:
            assert population is not None
            areas = population.neighbourhoods
            self._area_black = np.zeros(areas, dtype=np.int64)
            self._area_size = np.bincount(population.neighbourhood, minlength=areas)
            self._area_order = np.argsort(population.neighbourhood, kind="stable")
            self._area_first = np.concatenate([[0], np.cumsum(self._area_size)[:-1]])
            self._area_many = np.zeros(areas, dtype=bool)
        self.network = network
        # Reward seeking: each operator's perk thresholds (points), for those just below them.
        self._perks = self._perk_thresholds() if response is not None \
            and response.near_perk != 1.0 else {}
        self._watch_contacts = bool(response and network is not None
                                    and response.contact_listed != 1.0)
        # Blacklisted friends and workmates of each citizen, kept from the day's flips.
        self._black_contacts = np.zeros(self.n if self._watch_contacts else 0, dtype=np.int16)
        self._forget = Calendar(days)
        if response is not None and behaviours.response is None:
            behaviours.response = np.ones(self.n, dtype=np.float64)
        self.daily: list[dict[str, Any]] = []
        self.uses_today = 0  # service uses checked at gates today

    def _perk_thresholds(self) -> dict[str, np.ndarray]:
        """Per citizen operator, the lowest score of each reward its scheme's rules give."""
        out: dict[str, set[int]] = {}
        if self.gates is None:
            return {}
        by_name = {op.name: op for op in self.operators}
        for rule in self.gates.consequences.rules:
            if rule.action not in ("waive", "discount", "priority"):
                continue
            for name in self.gates.operators_of(rule, self.status):
                if name not in by_name:
                    continue
                if rule.min_score is not None:
                    out.setdefault(name, set()).add(rule.min_score)
                elif rule.grades is not None:
                    mins = [g.min for g in by_name[name].scheme.grades if g.grade in rule.grades]
                    if mins:
                        out.setdefault(name, set()).add(min(mins))
        return {name: np.array(sorted(t)) for name, t in out.items()}

    def _near_perk(self, who: np.ndarray) -> np.ndarray:
        """Whether each citizen's score is within reach below a perk under an operator that
        covers them."""
        r = self.response
        assert r is not None
        near = np.zeros(who.size, dtype=bool)
        for op in self.operators:
            thresholds = self._perks.get(op.name)
            if thresholds is None:
                continue
            score = op.standing.score[who].astype(np.int64)
            nxt = np.searchsorted(thresholds, score, side="right")  # the next perk above
            has = nxt < thresholds.size
            gap = thresholds[np.minimum(nxt, thresholds.size - 1)] - score
            hit = has & (gap <= r.near_perk_points)
            if op.covered is not None:
                hit &= op.covered[who]
            near |= hit
        return near

    def _notice_rules(self, behaviour_names: list[str], sensor_names: list[str],
                      sensor_of: np.ndarray) -> np.ndarray:
        """Per scenario behaviour, whether a recorded event of it goes on a billboard."""
        billboard = np.zeros(len(behaviour_names), dtype=bool)
        if self.consequences is None:
            return billboard
        for rule in self.consequences.notices:
            if rule.kind == "billboard" and rule.behaviour is not None:
                k = behaviour_names.index(rule.behaviour)
                if rule.sensor is None or sensor_names[sensor_of[k]] == rule.sensor:
                    billboard[k] = True
        return billboard

    # -- the day ---------------------------------------------------------------------------

    def act(self, day: int, judgements: list[tuple[OperatorState, Judgement]],
            events: Events, dismissed: np.ndarray | None = None) -> Acted:
        """The day's consequences: who is blacklisted now, the gates, and the notices.

        Args:
            day: the day.
            judgements: each citizen operator's real judgement today.
            events: the citizens' recorded events today.
            dismissed: per event, whether some operator's review dismissed it.
        """
        self.today[0] = day
        toggled = [j.toggled() for _, j in judgements]
        flipped = np.empty(0, dtype=np.int64)  # citizens who joined or left a blacklist today
        if toggled:
            who = self._scratch.distinct(np.concatenate(toggled))
            now = self.status.any_black(who)
            flipped = who[now != self.black[who]]
            self.black[who] = now
        refused = self._gates(day) if self.gates is not None else np.empty(0, np.int64)
        self._write_notices(day, events, judgements, dismissed)
        return Acted(toggled, flipped, refused)

    def respond(self, day: int, events: Events, acted: Acted) -> np.ndarray:
        """Citizens whose response factor changed today (their behaviour is drawn again)."""
        if self.response is None:
            return np.empty(0, dtype=np.int64)
        return self._respond(day, events, acted.toggled, acted.flipped, acted.refused)

    def _gates(self, day: int) -> np.ndarray:
        assert self.gates is not None
        pairs = self.uses.occurrences(day)
        self.uses_today = pairs.size
        citizen = pairs // self.uses.k
        service = pairs - citizen * self.uses.k
        # The day's uses grouped by service in one stable (radix) sort: gates decide by runs.
        order = np.argsort(service.astype(np.int16), kind="stable")
        citizen, service = citizen[order], service[order]
        uses = np.bincount(service, minlength=self.uses.k)
        code, by_parent = self.gates.decide_day(self.status, citizen, uses)
        self.decisions += np.bincount(service * len(ACTIONS) + code, minlength=self.decisions.size
                                      ).reshape(self.decisions.shape)
        denied = np.flatnonzero(code == GateAction.DENY)
        refused, row = citizen[denied], {"day": day}
        if denied.size:
            count = np.bincount(service[denied], minlength=self.uses.k)
            cf_code, _ = self.gates.decide_day(self.cf_status, refused, count)
            self.wrongly_denied += np.bincount(service[denied][cf_code != GateAction.DENY],
                                               minlength=self.uses.k)
            for s in np.flatnonzero(count):
                row[f"denied_{self.gates.services[s]}"] = int(count[s])
            if self.children_affected.size and by_parent.any():
                children = refused[by_parent[denied]]
                children = self._scratch.distinct(children) if children.size > 1 else children
                self._children_count += int((~self.children_affected[children]).sum())
                self.children_affected[children] = True
        self.uses.reschedule(day, pairs, np.empty(0, dtype=np.int64), self._nobody)
        row["children_affected"] = self._children_count
        self.daily.append(row)
        return refused

    def _write_notices(self, day: int, events: Events,
                       judgements: list[tuple[OperatorState, Judgement]],
                       dismissed: np.ndarray | None) -> None:
        if self.consequences is None or not self.consequences.notices:
            return
        if self._billboards.any():
            shown = self._billboards[events.behaviour]
            if self._ages is not None:
                minor = self._ages[events.subject] < 18
                if not self.consequences.billboard_minors:
                    shown &= ~minor
                self.notice_harms[NoticeHarm.ABOUT_MINORS] += int((shown & minor).sum())
            harms = self.notice_harms
            harms[NoticeHarm.ON_MISATTRIBUTED_EVENTS] += int((shown & events.misattributed).sum())
            harms[NoticeHarm.ON_FALSE_REPORTS] += int((shown & events.fabricated).sum())
            if dismissed is not None:
                harms[NoticeHarm.ON_DISMISSED_EVENTS] += int((shown & dismissed).sum())
            shamed = events.where(shown)
            if len(shamed):  # an event caused it, not a list
                self._add_notice(day, "billboard", shamed.subject, shamed.behaviour,
                                 np.full(len(shamed), -1, dtype=np.int16))
        for rule in self.consequences.notices:
            if rule.kind == "billboard":
                continue
            who, lists = self._joined(rule.on_list, rule.red, judgements)
            if rule.kind == "civilized_family":  # the household's red list
                who = self._civilized_families(who)
                lists = np.full(who.size, self._list_code(rule.red), dtype=np.int16)
            self._add_notice(day, rule.kind, who, np.full(who.size, -1, dtype=np.int16), lists)

    def _list_code(self, name: str | None) -> int:
        """A list's code in the notices' ``list_names`` (-1 for none)."""
        return self.list_names.index(name) if name in self.list_names else -1

    def _joined(self, on_list: str | None, red: str | None,
                judgements: list[tuple[OperatorState, Judgement]]
                ) -> tuple[np.ndarray, np.ndarray]:
        """Citizens who joined a list today ('*': any blacklist or scheme listing), each once,
        with the code of the list they joined (in ``list_names``; of one who joined several
        today, one of them, the same every run)."""
        who, codes = [], []
        for op, judgement in judgements:
            if on_list == "*" and judgement.listing.listed.size:
                who.append(judgement.listing.listed)
                codes.append(np.full(judgement.listing.listed.size,
                                     self._list_code(listing_name(op.name)), np.int16))
            for lst, change, ids in judgement.lists.entries:
                name = op.lists.names[lst]
                if (change == ListChange.LISTED and on_list in ("*", name)) or \
                        (change == ListChange.ENTERED and red == name):
                    who.append(ids)
                    codes.append(np.full(ids.size, self._list_code(name), np.int16))
        if not who:
            return np.empty(0, np.int64), np.empty(0, np.int16)
        joined, code = np.concatenate(who), np.concatenate(codes)
        if joined.size < 2:
            return joined, code
        once = self._scratch.once(joined)
        return joined[once], code[once]

    def _civilized_families(self, entered: np.ndarray) -> np.ndarray:
        """The first adult of each household whose adults are now all on a red list."""
        pop = self.population
        if pop is None or entered.size == 0:
            return np.empty(0, dtype=np.int64)
        homes = self._scratch.distinct(pop.household[entered])
        reds = [v for v in self.status.lists if v.kind == "red"]

        def on_red(member: np.ndarray) -> np.ndarray:
            out = np.zeros(member.size, dtype=bool)
            for view in reds:
                out |= view.member[member]
            return out

        return pop.homes.start[homes[pop.homes.all_parents(homes, on_red)]]

    def _add_notice(self, day: int, kind: str, who: np.ndarray, behaviour: np.ndarray,
                    lists: np.ndarray) -> None:
        if who.size:
            self._notices.append((day, NOTICE_KINDS.index(kind), who, behaviour, lists))

    def _respond(self, day: int, events: Events, toggled: list[np.ndarray],
                 flipped: np.ndarray, refused: np.ndarray) -> np.ndarray:
        """Recompute the response factor of the citizens whose situation changed today."""
        assert self.response is not None and self.behaviours.response is not None
        self.last_refused[refused] = day
        self._forget.add_all(day + self.response.memory_days, refused)
        parts = [events.subject, refused, self._forget.pop(day)]
        if self.population is not None and toggled:
            parts += [self._housemates(np.concatenate(toggled))]
        parts += toggled
        if self._watch_neighbours and flipped.size:
            parts += [self._neighbours_of_changed_areas(flipped)]
        if self._watch_contacts and flipped.size:
            parts += [self.contacts_flipped(flipped)]
        who = self._scratch.distinct(np.concatenate(parts))
        if who.size == 0:
            return who
        factor = self._factor(day, who)
        changed = factor != self.behaviours.response[who]
        self.behaviours.response[who] = factor
        return who[changed]

    def contacts_flipped(self, flipped: np.ndarray) -> np.ndarray:
        """Count the blacklisting or release of ``flipped`` (read from ``black``) at each of
        their contacts, and return those contacts."""
        assert self.network is not None
        row, contact = self.network.of(flipped)
        np.add.at(self._black_contacts, contact,
                  np.where(self.black[flipped[row]], 1, -1).astype(np.int16))
        return contact.astype(np.int64)

    def _neighbours_of_changed_areas(self, flipped: np.ndarray) -> np.ndarray:
        """Residents of the neighbourhoods where 'many are blacklisted' flipped today, given
        the citizens who joined or left a blacklist today."""
        pop, r = self.population, self.response
        assert pop is not None and r is not None
        np.add.at(self._area_black, pop.neighbourhood[flipped],
                  np.where(self.black[flipped], 1, -1))
        areas = self._scratch.distinct(pop.neighbourhood[flipped])
        many = self._area_black[areas] >= r.neighbourhood_share * self._area_size[areas]
        changed = areas[many != self._area_many[areas]]
        self._area_many[areas] = many
        if changed.size == 0:
            return np.empty(0, dtype=np.int64)
        size = self._area_size[changed]
        first = np.repeat(self._area_first[changed], size)
        offset = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
        return self._area_order[first + offset]

    def _housemates(self, who: np.ndarray) -> np.ndarray:
        pop = self.population
        assert pop is not None
        return pop.homes.members(self._scratch.distinct(pop.household[who]))

    def _factor(self, day: int, who: np.ndarray) -> np.ndarray:
        r = self.response
        assert r is not None
        factor = np.ones(who.size)
        if r.grade and self.operators:
            op = self.operators[0]
            names = op.standing.grade_names
            table = np.array([r.grade.get(g, 1.0) for g in names])
            factor *= table[op.standing.grades(who, day)]
        if r.sanction_met != 1.0:
            recent = day - self.last_refused[who] < r.memory_days
            factor *= np.where(recent, r.sanction_met, 1.0)
        if r.household_listed != 1.0 and self.population is not None:
            at_home = self._household_blacklisted(who)
            factor *= np.where(at_home, r.household_listed, 1.0)
        if self._watch_neighbours:
            assert self.population is not None
            around = self._area_many[self.population.neighbourhood[who]]
            factor *= np.where(around, r.neighbourhood_listed, 1.0)
        if self._perks:  # just below a perk: reaching for it [004: people compete]
            factor *= np.where(self._near_perk(who), r.near_perk, 1.0)
        if self._watch_contacts:  # a friend or workmate blacklisted [004: friends matter]
            factor *= np.where(self._black_contacts[who] > 0, r.contact_listed, 1.0)
        return factor

    def _household_blacklisted(self, who: np.ndarray) -> np.ndarray:
        assert self.population is not None
        return self.population.homes.anyone_else(who, self.status.blacklisted)

    # -- results ---------------------------------------------------------------------------

    def notices(self) -> dict[str, np.ndarray]:
        """The notices feed as columns: day, kind, subject, behaviour (-1: none) and list (the
        list whose joining caused the notice, by name; None for a billboard's event)."""
        parts = self._notices
        codes = np.concatenate([p[4] for p in parts] or [np.empty(0, np.int16)])
        names = np.array([*self.list_names, None], dtype=object)  # code -1: the None
        return {
            "day": np.concatenate([np.full(p[2].size, p[0], np.int32) for p in parts]
                                  or [np.empty(0, np.int32)]),
            "kind": np.array(NOTICE_KINDS, dtype=object)[
                np.concatenate([np.full(p[2].size, p[1], np.int8) for p in parts]
                               or [np.empty(0, np.int8)])],
            "subject": np.concatenate([p[2] for p in parts] or [np.empty(0)]).astype(np.int32)
            + self.base,
            "behaviour": np.concatenate([p[3] for p in parts]
                                        or [np.empty(0, np.int16)]).astype(np.int16),
            "list": names[codes],
        }

    def tally(self) -> dict[str, Any]:
        """Gate decisions by service and answer, wrongful refusals, children affected and
        notices by kind, as counts that add up across the blocks of a split run."""
        out: dict[str, Any] = {}
        if self.gates is not None:
            out["decisions"] = self.decisions.copy()
            out["wrongly_denied"] = self.wrongly_denied.copy()
        if self.children_affected.size:
            out["children_affected"] = int(self.children_affected.sum())
        if self.consequences is not None and self.consequences.notices:
            counts = np.zeros(len(NOTICE_KINDS), dtype=np.int64)
            for _, kind, who, _, _ in self._notices:
                counts[kind] += who.size
            out["notices"] = {k: int(c) for k, c in zip(NOTICE_KINDS, counts, strict=True)}
            out["notice_harms"] = self.notice_harms.copy()
        return out
