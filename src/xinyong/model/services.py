"""Services at the point of service: each day's uses, each a gate check [E1, E2].

Citizens use services (rail, hotels, schools, banks...) at their yearly rates, which may vary
with income (``by_income``: who travels is who gets blocked); every use the system is checked
for (``checked_share``: the tickets a restriction covers) is a gate check under the joint
rewards and sanctions table, counted by service and answer. Each service remembers its own
refusals: a citizen refused at a service asks for that service, and only that one,
``after_refusal`` times as often until ``refusal_memory_days`` after their latest refusal
there (below 1: debtors who learn to stop buying what they cannot have; above 1: a refused
traveller tries again, each try a blocked purchase). A citizen's memories are one small integer
(a bit per service that remembers), and the uses' rates read a table with a row per
combination, so a memory costs nothing per use. Each refusal is checked again against the
error-free standings at the day's end, once they are done (a refusal the error-free system
would not have made is a wrongful refusal). Children refused or restricted because of a parent
are counted, real and error-free [S2].
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.model.behaviour import Behaviours, Filing
from xinyong.model.gates import Gates, GateStatus
from xinyong.primitives.calendar import Calendar
from xinyong.primitives.codes import ACTIONS, GateAction
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import Behaviour, Consequences, ListedResponse, ScenarioError
from xinyong.scenario.consequences import REMEMBERING_SERVICES

if TYPE_CHECKING:
    from xinyong.model.population import Population

__all__ = ["ServiceUses", "income_demand"]

_SANCTION = GateAction.RESTRICT  # restrict and deny: what a parent's listing costs a child


def income_demand(by_income: dict[str, float], bands: dict[str, float]) -> np.ndarray:
    """Each income band's rate of asking, relative to the average citizen's: the scenario's
    relative rates scaled so that, over the population's band shares, the average is 1.

    Args:
        by_income: relative rate by band name (bands not named ask at 1).
        bands: the population's income bands and their shares, lowest first.
    """
    weight = np.array([by_income.get(b, 1.0) for b in bands], dtype=np.float64)
    share = np.array(list(bands.values()), dtype=np.float64)
    mean = float((weight * share).sum() / share.sum())
    return weight / mean if mean > 0 else weight


class ServiceUses:
    """The city's service uses and what the gates answered.

    Args:
        consequences: the services and the joint table.
        first_operator: the operator whose grades rules read by default.
        status, cf_status: what gates look at, real and error-free.
        n: citizens here.
        ages: citizens' ages (services have age limits), or None.
        children: count the children refused because of a parent.
        streams: the run's random streams.
        days: the horizon.
        scratch: scratch columns over citizens.
        base: the city-wide id of citizen 0 here.
        where: where half of the first draws are made (the second core; default here).
        population: the citizens' income bands, for services whose demand varies with
            income (with ``bands``, the population's band shares).
        bands: the population's income bands and shares.
    """

    #: Today's refusals (citizens, services, count per service) until :meth:`settle`.
    _unsettled: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: Today's uses by children (citizens, services) until :meth:`settle`.
    _children_today: tuple[np.ndarray, np.ndarray] | None = None
    #: The day and the next uses of the day's uses, being drawn, until :meth:`reschedule`
    #: files them.
    _next: tuple[int, Future[Filing]] | None = None
    #: Where refusals are remembered: the day, its uses, and whose memories began or ended
    #: (their uses are drawn again whole), until :meth:`reschedule`.
    _redraw: tuple[int, np.ndarray, np.ndarray] | None = None

    def __init__(
        self,
        consequences: Consequences,
        first_operator: str,
        status: GateStatus,
        cf_status: GateStatus,
        n: int,
        ages: np.ndarray | None,
        children: bool,
        streams: Streams,
        days: int,
        scratch: Scratch,
        base: int,
        where: Executor | None = None,
        population: Population | None = None,
        bands: dict[str, float] | None = None,
    ) -> None:
        self.status, self.cf_status = status, cf_status
        self._scratch = scratch
        self._streams, self._base, self.n = streams, base, n
        self._ages = ages
        self.gates = Gates(consequences, first_operator)
        services = consequences.services
        self._checked_streams = [f"checked/{s.name}" for s in services]
        self.checked_share = np.array([s.checked_share for s in services])
        # Refusals remembered, service by service (``after_refusal`` other than 1): bit j of a
        # citizen's ``remembers`` is set while they remember a refusal at the service
        # ``_remembering[j]``; per bit, the day that memory ends, and a calendar of the ends.
        self.remembers = np.zeros(n, dtype=np.uint8)
        self._remembering: list[int] = []  # the services, in the order they began to remember
        self._until: list[np.ndarray] = []
        self._ends: list[Calendar] = []
        self._days = days
        self._memory = np.array([s.refusal_memory_days for s in services], dtype=np.int64)
        self._after_refusal = np.array([s.after_refusal for s in services])
        self._remember_from(self._after_refusal)
        scales = self._demand(consequences, population, bands, streams, base, n)
        self._opening_memories(consequences, scales)
        self.uses = Behaviours(
            self._uses(consequences),
            [False] * len(services),
            ListedResponse(negative=1.0, positive=1.0),
            days,
            np.broadcast_to(1.0, n),
            streams,
            scratch,
            ages,
            base=base,
            where=where,
            scales=scales,
            listed_factors=self._factors(),
            initial=self.remembers.astype(np.int64) if self.remembers.any() else None,
        )  # one rate for all (but income and memories): no conduct column
        self._population, self._bands = population, bands
        self.decisions = np.zeros((len(services), len(ACTIONS)), dtype=np.int64)
        self.wrongly_denied = np.zeros(len(services), dtype=np.int64)
        self.used_daily: list[np.ndarray] = []  # uses per service, each day
        self.denied_daily: list[np.ndarray] = []  # refusals per service, each day
        self.children_affected = np.zeros(n if children else 0, dtype=bool)
        self.cf_children_affected = np.zeros(n if children else 0, dtype=bool)
        self._children_count = 0  # children_affected.sum(), kept as it grows
        self.uses_today = 0  # service uses checked at gates today
        self.daily: list[dict[str, Any]] = []

    def _uses(self, consequences: Consequences) -> list[Behaviour]:
        """Each service's uses as a behaviour of citizens: its yearly rate, its ages.

        A service checks the system only where some rule of it acts: one whose rules all read a
        scheme nobody runs here (Xiamen's car parks in Rongcheng) is not visited."""
        acting = {
            r.service
            for r in consequences.rules
            if r.scheme is None or self.status.schemes.get(r.scheme)
        }
        return [
            Behaviour(
                name=f"use:{s.name}",
                p=s.uses_per_year / 365.0 if s.name in acting else 0.0,
                sensor="-",
                min_age=s.min_age,
                max_age=s.max_age,
                harmful=False,
            )
            for s in consequences.services
        ]

    @staticmethod
    def _demand(
        consequences: Consequences,
        population: Population | None,
        bands: dict[str, float] | None,
        streams: Streams,
        base: int,
        n: int,
    ) -> dict[int, np.ndarray]:
        """Per service whose demand varies between citizens, each citizen's rate multiplier:
        relative to their income band (``by_income``), and 1 / ``who_share`` for the share who
        ask at all (0 for the others; drawn once per citizen from ``population/asks/NAME``, so
        a change of share keeps the draws), the average unchanged."""
        out: dict[int, np.ndarray] = {}
        for k, s in enumerate(consequences.services):
            scale: np.ndarray | None = None
            if s.by_income and population is not None and bands:
                scale = income_demand(s.by_income, bands)[population.income_band]
            if s.who_share < 1.0:
                ids = np.arange(base, base + n)
                u = streams.uniform(f"population/asks/{s.name}", SETUP, ids)
                asks = np.where(u < s.who_share, 1.0 / max(s.who_share, 1e-12), 0.0)
                scale = asks if scale is None else scale * asks
            if scale is not None:
                out[k] = scale.astype(np.float32)
        return out

    def _opening_memories(self, consequences: Consequences, scales: dict[int, np.ndarray]) -> None:
        """The refusals an opening stock remembers: members listed before day 0 (a warm
        start's, or an opening share's) have asked for their services since, and been refused.

        For each service that remembers, a member the gates refuse at day 0, listed ``A`` days
        before it and asking (and checked) at daily rate ``r``, was refused since with
        probability ``1 - exp(-r A)``; given that, the latest refusal was ``B`` days before
        day 0, ``B`` exponential at the rate they ask after a refusal (``r`` times
        ``after_refusal``), truncated to ``[0, A)``, and the memory runs on to
        ``refusal_memory_days - B``. Without this, every opening member started as if never
        refused, asked at the full rate, and was refused in the first weeks of the run: a
        steady city's first year counted the stock's first refusals again (train refusals at
        about twice the record's yearly flow). The age ``A`` is that of the member's oldest
        listing; a company's representative on no list of their own is left without memory.
        Draws are keyed by citizen on day ``SETUP``, stream ``opening/refusals/<service>``.
        """
        if not self._remembering:
            return
        since = np.zeros(self.n, dtype=np.int64)
        for view in self.status.lists:
            if view.kind == "red":
                continue
            on = np.flatnonzero(view.member & (view.since < 0))
            since[on] = np.minimum(since[on], view.since[on])
        stock = np.flatnonzero(since < 0)
        if stock.size == 0:
            return
        uses = self._uses(consequences)
        for j, s in enumerate(self._remembering):
            if self._after_refusal[s] == 1.0 or uses[s].p == 0.0:
                continue
            count = np.zeros(len(uses), dtype=np.int64)
            count[s] = stock.size
            code, _ = self.gates.decide_day(self.status, stock, count)
            who = stock[code == GateAction.DENY]
            rate = np.full(who.size, uses[s].p * self.checked_share[s])
            if s in scales:
                rate *= scales[s][who]
            if self._ages is not None:
                age = self._ages[who]
                rate *= (age >= uses[s].min_age) & (age <= uses[s].max_age)
            listed_for = (-since[who]).astype(np.float64)
            name = f"opening/refusals/{self.gates.services[s]}"
            u = self._streams.uniform(name, SETUP, who + self._base)
            refused = np.flatnonzero(u < -np.expm1(-rate * listed_for))
            who, listed_for = who[refused], listed_for[refused]
            again = rate[refused] * self._after_refusal[s]
            v = self._streams.uniform(f"{name}/latest", SETUP, who + self._base)
            with np.errstate(divide="ignore", invalid="ignore"):  # never again: uniform
                ago = np.where(
                    again > 0,
                    -np.log1p(-v * -np.expm1(-again * listed_for)) / again,
                    v * listed_for,
                )
            end = int(self._memory[s]) - np.floor(ago).astype(np.int64)
            on = np.flatnonzero(end > 0)  # the others' memories ended before day 0
            who, end = who[on], end[on]
            self._until[j][who] = np.minimum(end, np.iinfo(np.int32).max)
            self._ends[j].add(end, who)
            self.remembers[who] |= self.remembers.dtype.type(1 << j)

    def _remember_from(self, after_refusal: np.ndarray) -> None:
        """Give a bit of the citizens' memories to each service that begins to remember its
        refusals (``after_refusal`` other than 1): at set-up, or at a dated change. A bit once
        given stays (a memory that runs on after its service stops remembering changes no
        rate: its factor is 1)."""
        for s in np.flatnonzero(after_refusal != 1.0).tolist():
            if s in self._remembering:
                continue
            if len(self._remembering) == REMEMBERING_SERVICES:
                names = [self.gates.services[i] for i in self._remembering]
                raise ScenarioError(
                    f"consequences.services: at most {REMEMBERING_SERVICES} services may "
                    f"remember refusals (after_refusal other than 1) over a run; "
                    f"{', '.join(names)} and {self.gates.services[s]} do: set after_refusal = 1 "
                    "where a refusal changes little"
                )
            self._remembering.append(s)
            self._until.append(np.zeros(self.n, dtype=np.int32))
            self._ends.append(Calendar(self._days))
        if len(self._remembering) > 8 and self.remembers.dtype == np.uint8:
            self.remembers = self.remembers.astype(np.uint16)

    def _factors(self) -> np.ndarray:
        """The uses' rate multipliers by memory state (rows: a citizen's ``remembers``) and
        service (columns): a service's ``after_refusal`` where its bit is set, else 1."""
        states = np.arange(2 ** len(self._remembering))
        table = np.ones((states.size, self._after_refusal.size))
        for j, s in enumerate(self._remembering):
            table[:, s] = np.where(states >> j & 1, self._after_refusal[s], 1.0)
        return table

    def retune(self, day: int, consequences: Consequences, first_operator: str) -> None:
        """Take the services and the joint table in force from a dated change's day: the
        gates read the new table at once; changed rates draw every citizen's uses again."""
        self.gates = Gates(consequences, first_operator)
        self.checked_share = np.array([s.checked_share for s in consequences.services])
        self._memory = np.array(
            [s.refusal_memory_days for s in consequences.services], dtype=np.int64
        )
        self._after_refusal = np.array([s.after_refusal for s in consequences.services])
        self._remember_from(self._after_refusal)
        self.uses._scales = self._demand(
            consequences, self._population, self._bands, self._streams, self._base, self.n
        )
        self.uses.retune(
            day,
            self._uses(consequences),
            ListedResponse(negative=1.0, positive=1.0),
            self.remembers,
            listed_factors=self._factors(),
        )

    def check(self, day: int, beside: Executor) -> np.ndarray:
        """The day's uses at their gates; returns the citizens refused. Their next uses are
        drawn on ``beside`` (the second core, or inline) and filed by :meth:`reschedule` at
        the day's end."""
        pairs = self.uses.occurrences(day)
        self.uses_today = pairs.size
        citizen = pairs // self.uses.k
        service = pairs - citizen * self.uses.k
        k = self.uses.k
        self.used_daily.append(np.bincount(service, minlength=k))
        # The uses the system is checked for: a keyed draw per citizen and service a day.
        unchecked = np.empty(0, dtype=np.int64)
        if (self.checked_share < 1.0).any():
            keys = self._streams.keys(self._checked_streams, day)
            u = Streams.uniform_keyed(keys[service], citizen + self._base)
            checked = u < self.checked_share[service]
            unchecked = service[~checked]
            at = np.flatnonzero(checked)
            citizen, service = citizen[at], service[at]
        # The day's uses grouped by service in one stable (radix) sort: gates decide by runs.
        order = np.argsort(service.astype(np.int16), kind="stable")
        citizen, service = citizen[order], service[order]
        uses = np.bincount(service, minlength=k)
        code, by_parent = self.gates.decide_day(self.status, citizen, uses)
        self.decisions += np.bincount(
            service * len(ACTIONS) + code, minlength=self.decisions.size
        ).reshape(self.decisions.shape)
        self.decisions[:, GateAction.ALLOW] += np.bincount(unchecked, minlength=k)
        denied = np.flatnonzero(code == GateAction.DENY)
        refused, row = citizen[denied], {"day": day}
        count = np.bincount(service[denied], minlength=k)
        self.denied_daily.append(count)
        if denied.size:
            self._unsettled = (refused, service[denied], count)
            for s in np.flatnonzero(count):
                row[f"denied_{self.gates.services[s]}"] = int(count[s])
        if self.children_affected.size:
            self._count_children(citizen, service, code, by_parent)
        if self._remembering:  # tomorrow's draws read the memories: they start once known
            self._redraw = (day, pairs, self._remember(day, refused, service[denied]))
            self.uses.draw_ahead(day, pairs, self.remembers, beside)
        else:
            self._next = (day, beside.submit(self.uses.next_filing, day, pairs, self.remembers))
        row["children_affected"] = self._children_count
        self.daily.append(row)
        return refused

    def _count_children(
        self, citizen: np.ndarray, service: np.ndarray, code: np.ndarray, by_parent: np.ndarray
    ) -> None:
        """Children refused or restricted today because of a parent's listing [S2]; their
        uses are decided again against the error-free standings at :meth:`settle`."""
        paid = np.flatnonzero(by_parent & (code >= _SANCTION))
        if paid.size:
            children = self._scratch.distinct(citizen[paid]) if paid.size > 1 else citizen[paid]
            self._children_count += int((~self.children_affected[children]).sum())
            self.children_affected[children] = True
        parent = self.gates.parent_services
        if self._ages is not None and parent.any():
            minors = np.flatnonzero((self._ages[citizen] < 18) & parent[service])
            self._children_today = (citizen[minors], service[minors])

    def _remember(self, day: int, refused: np.ndarray, service: np.ndarray) -> np.ndarray:
        """Each remembering service's memories that end today, and its refusals today (each
        extends that service's memory only); returns the citizens whose memories began or
        ended (their uses are drawn again)."""
        changed = []
        for j, s in enumerate(self._remembering):
            bit, until = self.remembers.dtype.type(1 << j), self._until[j]
            ending = self._ends[j].pop(day)
            if ending.size:  # those refused again since have a later end
                ending = self._scratch.distinct(ending[until[ending] == day])
                self.remembers[ending] &= ~bit
                changed.append(ending)
            if self._after_refusal[s] == 1.0:
                continue  # the service no longer remembers: its memories run out
            who = refused[service == s]  # each once: a citizen asks once a day at most
            if who.size == 0:
                continue
            end = day + int(self._memory[s])
            until[who] = np.maximum(until[who], end)  # a shorter memory since: the longer
            self._ends[j].add(np.full(who.size, end), who)
            new = who[(self.remembers[who] & bit) == 0]
            self.remembers[new] |= bit
            changed.append(new)
        return np.concatenate(changed) if changed else np.empty(0, dtype=np.int64)

    def reschedule(self) -> None:
        """File the next uses of the day's uses (drawn since :meth:`check`), and draw again
        every use of those whose memories began or ended."""
        if self._redraw is not None:
            (day, pairs, changed), self._redraw = self._redraw, None
            self.uses.reschedule(day, pairs, changed, self.remembers)
        if self._next is not None:
            (day, filing), self._next = self._next, None
            self.uses.file_next(day, filing.result())

    def settle(self) -> None:
        """Count the day's wrongful refusals (those the error-free standings would not have
        made) and the children the error-free standings would sanction for a parent. Called
        once the counterfactual's day is done (at the day's end), so that the gates need not
        wait for it."""
        if self._children_today is not None:
            citizen, service = self._children_today
            self._children_today = None
            order = np.argsort(service.astype(np.int16), kind="stable")
            citizen, service = citizen[order], service[order]
            code, by_parent = self.gates.decide_day(
                self.cf_status, citizen, np.bincount(service, minlength=self.uses.k)
            )
            self.cf_children_affected[citizen[by_parent & (code >= _SANCTION)]] = True
        if self._unsettled is None:
            return
        refused, service, count = self._unsettled
        self._unsettled = None
        cf_code, _ = self.gates.decide_day(self.cf_status, refused, count)
        self.wrongly_denied += np.bincount(
            service[cf_code != GateAction.DENY], minlength=self.uses.k
        )

    def series(self) -> dict[str, np.ndarray]:
        """Per day (rows) and service (columns): the uses asked for, and those refused."""
        days, k = len(self.used_daily), self.uses.k
        return {
            "used": np.array(self.used_daily, dtype=np.int64).reshape(days, k),
            "denied": np.array(self.denied_daily, dtype=np.int64).reshape(days, k),
        }

    def tally(self) -> dict[str, Any]:
        """Gate decisions by service and answer, wrongful refusals, and the children
        affected, real and error-free."""
        out: dict[str, Any] = {
            "decisions": self.decisions.copy(),
            "wrongly_denied": self.wrongly_denied.copy(),
        }
        if self.children_affected.size:
            real, cf = self.children_affected, self.cf_children_affected
            out["children_affected"] = int(real.sum())
            out["children_affected_error_free"] = int(cf.sum())
            out["children_wrongly_affected"] = int((real & ~cf).sum())
        return out
