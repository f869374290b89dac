"""Services at the point of service: each day's uses, each a gate check [E1, E2].

Citizens use services (rail, hotels, schools, banks...) at their yearly rates; every use is a
gate check under the joint rewards and sanctions table, counted by service and answer. Each
refusal is checked again against the error-free standings at the day's end, once they are done
(a refusal the error-free system would not have made is a wrongful refusal). Children refused
because of a parent are counted [S2].
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from typing import Any

import numpy as np

from xinyong.model.behaviour import Behaviours
from xinyong.model.gates import Gates, GateStatus
from xinyong.primitives.codes import ACTIONS, GateAction
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, Consequences, ListedResponse

__all__ = ["ServiceUses"]

_Filing = tuple[np.ndarray, np.ndarray]  # ids sorted by day, and how many fall on each day


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
    """

    #: Today's refusals (citizens, services, count per service) until :meth:`settle`.
    _unsettled: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: The day and the next uses of the day's uses, being drawn, until :meth:`reschedule`
    #: files them.
    _next: tuple[int, Future[_Filing]] | None = None

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
    ) -> None:
        self.status, self.cf_status = status, cf_status
        self._scratch = scratch
        self.gates = Gates(consequences, first_operator)
        services = consequences.services
        # A service checks the system only where some rule of it acts: one whose rules all
        # read a scheme nobody runs here (Xiamen's car parks in Rongcheng) is not visited.
        acting = {
            r.service
            for r in consequences.rules
            if r.scheme is None or status.schemes.get(r.scheme)
        }
        uses = [
            Behaviour(
                name=f"use:{s.name}",
                p=s.uses_per_year / 365.0 if s.name in acting else 0.0,
                sensor="-",
                min_age=s.min_age,
                max_age=s.max_age,
                harmful=False,
            )
            for s in services
        ]
        self.uses = Behaviours(
            uses,
            [False] * len(uses),
            ListedResponse(negative=1.0, positive=1.0),
            days,
            np.broadcast_to(1.0, n),
            streams,
            scratch,
            ages,
            base=base,
            where=where,
        )  # one rate for all: no column
        self.decisions = np.zeros((len(services), len(ACTIONS)), dtype=np.int64)
        self.wrongly_denied = np.zeros(len(services), dtype=np.int64)
        self.children_affected = np.zeros(n if children else 0, dtype=bool)
        self._children_count = 0  # children_affected.sum(), kept as it grows
        self._nobody = np.zeros(n, dtype=bool)  # services see no one as listed
        self.uses_today = 0  # service uses checked at gates today
        self.daily: list[dict[str, Any]] = []

    def check(self, day: int, beside: Executor) -> np.ndarray:
        """The day's uses at their gates; returns the citizens refused. Their next uses are
        drawn on ``beside`` (the second core, or inline) and filed by :meth:`reschedule` at
        the day's end."""
        pairs = self.uses.occurrences(day)
        self.uses_today = pairs.size
        citizen = pairs // self.uses.k
        service = pairs - citizen * self.uses.k
        # The day's uses grouped by service in one stable (radix) sort: gates decide by runs.
        order = np.argsort(service.astype(np.int16), kind="stable")
        citizen, service = citizen[order], service[order]
        uses = np.bincount(service, minlength=self.uses.k)
        code, by_parent = self.gates.decide_day(self.status, citizen, uses)
        self.decisions += np.bincount(
            service * len(ACTIONS) + code, minlength=self.decisions.size
        ).reshape(self.decisions.shape)
        denied = np.flatnonzero(code == GateAction.DENY)
        refused, row = citizen[denied], {"day": day}
        if denied.size:
            count = np.bincount(service[denied], minlength=self.uses.k)
            self._unsettled = (refused, service[denied], count)
            for s in np.flatnonzero(count):
                row[f"denied_{self.gates.services[s]}"] = int(count[s])
            if self.children_affected.size and by_parent.any():
                children = refused[by_parent[denied]]
                children = self._scratch.distinct(children) if children.size > 1 else children
                self._children_count += int((~self.children_affected[children]).sum())
                self.children_affected[children] = True
        self._next = (day, beside.submit(self.uses.next_filing, day, pairs, self._nobody))
        row["children_affected"] = self._children_count
        self.daily.append(row)
        return refused

    def reschedule(self) -> None:
        """File the next uses of the day's uses (drawn since :meth:`check`)."""
        if self._next is None:
            return
        (day, filing), self._next = self._next, None
        self.uses.file_next(day, filing.result())

    def settle(self) -> None:
        """Count the day's wrongful refusals: those the error-free standings would not have
        made. Called once the counterfactual's day is done (at the day's end), so that the
        gates need not wait for it."""
        if self._unsettled is None:
            return
        refused, service, count = self._unsettled
        self._unsettled = None
        cf_code, _ = self.gates.decide_day(self.cf_status, refused, count)
        self.wrongly_denied += np.bincount(
            service[cf_code != GateAction.DENY], minlength=self.uses.k
        )

    def tally(self) -> dict[str, Any]:
        """Gate decisions by service and answer, wrongful refusals and children affected."""
        out: dict[str, Any] = {
            "decisions": self.decisions.copy(),
            "wrongly_denied": self.wrongly_denied.copy(),
        }
        if self.children_affected.size:
            out["children_affected"] = int(self.children_affected.sum())
        return out
