"""Citizens' responses [E3]: their own grade, refusals they met, a blacklisted relative at
home, blacklisted neighbours and friends, and a perk within reach scale their penalised
behaviours down and their rewarded ones up, from the next day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xinyong.model.behaviour import Behaviours
from xinyong.model.gates import Gates, GateStatus
from xinyong.model.network import SocialNetwork
from xinyong.model.sensors import Events
from xinyong.primitives.calendar import Calendar
from xinyong.primitives.scratch import Scratch
from xinyong.scenario import Response

if TYPE_CHECKING:
    from xinyong.model.operators import OperatorState
    from xinyong.model.population import Population

__all__ = ["Responses"]


class Responses:
    """Each citizen's response factor, kept from what happens to them and around them.

    Args:
        response: the response model.
        operators: the citizen operators (grades; perks under each).
        gates: the joint table (its rewards are the perks reached for), or None.
        status: what gates look at (who is blacklisted).
        black: the per-citizen 'blacklisted' column the consequences keep.
        population: households and neighbourhoods, or None.
        network: friends and workmates, or None.
        behaviours: the citizens' behaviour schedule, whose response factors are set here.
        days: the horizon.
        scratch: scratch columns over citizens.
    """

    def __init__(
        self,
        response: Response,
        operators: list[OperatorState],
        gates: Gates | None,
        status: GateStatus,
        black: np.ndarray,
        population: Population | None,
        network: SocialNetwork | None,
        behaviours: Behaviours,
        days: int,
        scratch: Scratch,
    ) -> None:
        self.response, self.operators, self.gates = response, operators, gates
        self.status, self.black, self.population = status, black, population
        self.network, self.behaviours, self._scratch = network, behaviours, scratch
        n = behaviours.n
        self.last_refused = np.full(n, -(10**6), dtype=np.int32)
        # Sanctions seen around: blacklisted neighbours, counted per neighbourhood.
        self._watch_neighbours = bool(
            population is not None and response.neighbourhood_listed != 1.0
        )
        if self._watch_neighbours:
            assert population is not None
            areas = population.neighbourhoods
            self._area_black = np.zeros(areas, dtype=np.int64)
            self._area_size = np.bincount(population.neighbourhood, minlength=areas)
            self._area_order = np.argsort(population.neighbourhood, kind="stable")
            self._area_first = np.concatenate([[0], np.cumsum(self._area_size)[:-1]])
            self._area_many = np.zeros(areas, dtype=bool)
        # Reward seeking: each operator's perk thresholds (points), for those just below them.
        self._perks = self._perk_thresholds() if response.near_perk != 1.0 else {}
        self._watch_contacts = bool(network is not None and response.contact_listed != 1.0)
        # Blacklisted friends and workmates of each citizen, kept from the day's flips.
        self._black_contacts = np.zeros(n if self._watch_contacts else 0, dtype=np.int16)
        self._forget = Calendar(days)
        if behaviours.response is None:
            behaviours.response = np.ones(n, dtype=np.float64)

    def retune(self, gates: Gates | None) -> None:
        """Reach for the perks of the joint table in force (from a dated change's day)."""
        self.gates = gates
        self._perks = self._perk_thresholds() if self.response.near_perk != 1.0 else {}

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

    def respond(
        self,
        day: int,
        events: Events,
        toggled: list[np.ndarray],
        flipped: np.ndarray,
        refused: np.ndarray,
    ) -> np.ndarray:
        """Recompute the response factor of the citizens whose situation changed today;
        returns those whose factor changed (their behaviour is drawn again)."""
        assert self.behaviours.response is not None
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
        np.add.at(
            self._black_contacts,
            contact,
            np.where(self.black[flipped[row]], 1, -1).astype(np.int16),
        )
        return contact.astype(np.int64)

    def _neighbours_of_changed_areas(self, flipped: np.ndarray) -> np.ndarray:
        """Residents of the neighbourhoods where 'many are blacklisted' flipped today, given
        the citizens who joined or left a blacklist today."""
        pop, r = self.population, self.response
        assert pop is not None and r is not None
        np.add.at(
            self._area_black, pop.neighbourhood[flipped], np.where(self.black[flipped], 1, -1)
        )
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
