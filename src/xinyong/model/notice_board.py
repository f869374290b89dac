"""Public notices about synthetic citizens: billboards, TV, published lists, dial tones,
posters and civilized-family plaques [S3], and the harms of the billboards (minors named,
misattributed, false and dismissed events shown).

Every name is synthetic; a notice is a row of a feed, not a message to anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.model.gates import GateStatus
from xinyong.model.sensors import Events
from xinyong.primitives.codes import (
    NOTICE_HARMS,
    NOTICE_KINDS,
    ListChange,
    NoticeHarm,
    listing_name,
)
from xinyong.primitives.scratch import Scratch
from xinyong.scenario import Consequences

if TYPE_CHECKING:
    from xinyong.model.operators import Judgement, OperatorState
    from xinyong.model.population import Population

__all__ = ["NoticeBoard", "notice_lists"]


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


class NoticeBoard:
    """The city's notices feed, as it is written.

    Args:
        consequences: the notice rules.
        operators: the citizen operators (their lists name the notices' causes).
        status: what gates look at (red lists, for civilized families).
        population: households, or None.
        ages: citizens' ages (billboards about minors), or None.
        behaviour_names, sensor_names, sensor_of: which recorded events go on billboards.
        scratch: scratch columns over citizens.
        base: the city-wide id of citizen 0 here.
    """

    def __init__(
        self,
        consequences: Consequences,
        operators: list[OperatorState],
        status: GateStatus,
        population: Population | None,
        ages: np.ndarray | None,
        behaviour_names: list[str],
        sensor_names: list[str],
        sensor_of: np.ndarray,
        scratch: Scratch,
        base: int,
    ) -> None:
        self.consequences, self.status, self.population = consequences, status, population
        self._scratch, self._ages, self.base = scratch, ages, base
        # (day, kind, citizens, behaviour shown or -1, list joined or -1) per batch of notices
        self._notices: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.list_names = notice_lists(operators)  # what a notice's list code names
        # Billboards about minors, and on misattributed, false and dismissed events.
        self.notice_harms = np.zeros(len(NOTICE_HARMS), dtype=np.int64)
        self._billboards = self._notice_rules(behaviour_names, sensor_names, sensor_of)

    def _notice_rules(
        self, behaviour_names: list[str], sensor_names: list[str], sensor_of: np.ndarray
    ) -> np.ndarray:
        """Per scenario behaviour, whether a recorded event of it goes on a billboard."""
        billboard = np.zeros(len(behaviour_names), dtype=bool)
        for rule in self.consequences.notices:
            if rule.kind == "billboard" and rule.behaviour is not None:
                k = behaviour_names.index(rule.behaviour)
                if rule.sensor is None or sensor_names[sensor_of[k]] == rule.sensor:
                    billboard[k] = True
        return billboard

    def write(
        self,
        day: int,
        events: Events,
        judgements: list[tuple[OperatorState, Judgement]],
        dismissed: np.ndarray | None,
    ) -> None:
        """The day's notices: billboards of recorded events, and notices of those who joined
        a list (TV, published lists, dial tones, posters, civilized families)."""
        if not self.consequences.notices:
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
                self._add_notice(
                    day,
                    "billboard",
                    shamed.subject,
                    shamed.behaviour,
                    np.full(len(shamed), -1, dtype=np.int16),
                )
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

    def _joined(
        self,
        on_list: str | None,
        red: str | None,
        judgements: list[tuple[OperatorState, Judgement]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Citizens who joined a list today ('*': any blacklist or scheme listing), each once,
        with the code of the list they joined (in ``list_names``; of one who joined several
        today, one of them, the same every run)."""
        who, codes = [], []
        for op, judgement in judgements:
            if on_list == "*" and judgement.listing.listed.size:
                who.append(judgement.listing.listed)
                codes.append(
                    np.full(
                        judgement.listing.listed.size,
                        self._list_code(listing_name(op.name)),
                        np.int16,
                    )
                )
            for lst, change, ids in judgement.lists.entries:
                name = op.lists.names[lst]
                if (change == ListChange.LISTED and on_list in ("*", name)) or (
                    change == ListChange.ENTERED and red == name
                ):
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

    def _add_notice(
        self, day: int, kind: str, who: np.ndarray, behaviour: np.ndarray, lists: np.ndarray
    ) -> None:
        if who.size:
            self._notices.append((day, NOTICE_KINDS.index(kind), who, behaviour, lists))

    def notices(self) -> dict[str, np.ndarray]:
        """The notices feed as columns: day, kind, subject, behaviour (-1: none) and list (the
        list whose joining caused the notice, by name; None for a billboard's event)."""
        parts = self._notices
        codes = np.concatenate([p[4] for p in parts] or [np.empty(0, np.int16)])
        names = np.array([*self.list_names, None], dtype=object)  # code -1: the None
        return {
            "day": np.concatenate(
                [np.full(p[2].size, p[0], np.int32) for p in parts] or [np.empty(0, np.int32)]
            ),
            "kind": np.array(NOTICE_KINDS, dtype=object)[
                np.concatenate(
                    [np.full(p[2].size, p[1], np.int8) for p in parts] or [np.empty(0, np.int8)]
                )
            ],
            "subject": np.concatenate([p[2] for p in parts] or [np.empty(0)]).astype(np.int32)
            + self.base,
            "behaviour": np.concatenate([p[3] for p in parts] or [np.empty(0, np.int16)]).astype(
                np.int16
            ),
            "list": names[codes],
        }

    def tally(self) -> dict[str, Any]:
        """Notices by kind and the billboards' harms, as counts that add up across blocks."""
        counts = np.zeros(len(NOTICE_KINDS), dtype=np.int64)
        for _, kind, who, _, _ in self._notices:
            counts[kind] += who.size
        return {
            "notices": {k: int(c) for k, c in zip(NOTICE_KINDS, counts, strict=True)},
            "notice_harms": self.notice_harms.copy(),
        }
