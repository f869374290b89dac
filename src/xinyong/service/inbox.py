"""The live city's inbox: events submitted from outside, stored durably before they are
acknowledged, by group commit.

Many clients submit at once; each puts its batch in the queue and asks for the inbox's lock.
The first to get it stores every batch queued so far in one transaction and hands each its
receipts, so a busy city stores a few large transactions instead of many small ones. A client
id seen before (in the same batch or any earlier one) is answered as a duplicate and stored
once.

An event stored joins the records of the first day whose simulation has not begun (the
receipt names it) and counts when that day is simulated. The inbox does not wait for the
city's writer: while an advance simulates a day, submissions go to the next one, through a
cursor of the inbox's own. What must see every submission at once (an advance closing a day,
an appeal's re-simulated city replacing the old) takes the city's ``inbox`` lock
(:class:`~xinyong.service.locks.CityLocks`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xinyong.service.errors import LiveError

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["Inbox", "Receipt", "Submission"]


@dataclass(frozen=True)
class Submission:
    """One event submitted from outside: who did what, with the client's own id for it."""

    client_id: str
    citizen: int
    behaviour: str


@dataclass(frozen=True)
class Receipt:
    """The answer to one submission: stored for a day, or recognised as a repeat."""

    client_id: str
    status: str  # "accepted" or "duplicate"
    day: int


@dataclass
class _Waiting:
    """Submissions waiting for the next group commit."""

    ids: list[str]
    citizen: np.ndarray
    behaviour: np.ndarray
    by: str
    received: float
    receipts: list[Receipt] | None = None
    error: BaseException | None = None


class Inbox:
    """A live city's submissions desk.

    Args:
        live: the city it stores submissions for (its writer, store and open day).
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live
        self.lock = live.locks.inbox  # the day open to submissions, and the city they go to
        self.day = live.city.day  # the first day whose simulation has not begun
        self._con = live.store.con.cursor()  # the inbox's own connection to the store
        self._queue: list[_Waiting] = []  # submissions waiting for the next group commit
        self._queue_lock = threading.Lock()
        # Every client id stored, and its day, mirrored from the store.
        self._submitted: dict[str, int] = dict(
            live.store.con.execute("SELECT client_id, day FROM live_submissions").fetchall()
        )
        # Every (day, citizen) with a stored submission, mirrored too: a record asks the store
        # for its pending events only when there are some.
        self._pending: set[tuple[int, int]] = set(
            live.store.con.execute("SELECT DISTINCT day, citizen FROM live_submissions").fetchall()
        )
        self._behaviour_index = {b.name: i for i, b in enumerate(live.scenario.behaviours)}

    def submit(self, submissions: list[Submission], submitted_by: str) -> list[Receipt]:
        """Store submitted events durably for the city's open day, then acknowledge them.

        A client id seen before (in this batch or any earlier one) is answered as a duplicate
        and stored once.
        """
        if not submissions:
            return []
        live = self.live
        citizen = np.array([s.citizen for s in submissions], dtype=np.int64)
        bad = citizen[(citizen < 0) | (citizen >= live.scenario.citizens)]
        if bad.size:
            live.check_citizen(int(bad[0]))
        for s in submissions:
            live.sensor_of(s.behaviour)  # a citizen's behaviour, or the 422 naming them
        behaviour = np.array(
            [self._behaviour_index[s.behaviour] for s in submissions], dtype=np.int16
        )
        waiting = _Waiting(
            [s.client_id for s in submissions], citizen, behaviour, submitted_by, time.time()
        )
        with self._queue_lock:
            self._queue.append(waiting)
        with self.lock:  # group commit: the first to get here stores all who queued
            if waiting.receipts is None and waiting.error is None:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._store(group)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.receipts is not None
        return waiting.receipts

    def _store(self, group: list[_Waiting]) -> None:
        """Store the queued submissions in one transaction and give each its receipts (or
        the error); call holding :attr:`lock`."""
        live = self.live
        day = self.day
        if day >= live.scenario.days:
            for w in group:
                w.error = LiveError(
                    409,
                    f"the city has run all its {live.scenario.days} days: "
                    "an event now would never count; start a longer one",
                )
            return
        known = self._submitted  # client id -> day, mirrored from the store
        new: dict[str, int] = {}
        receipts, fresh = [], []
        for w in group:
            mine, keep = [], np.zeros(len(w.ids), dtype=bool)
            for i, cid in enumerate(w.ids):  # a repeat within the batch is a duplicate too
                if cid in known or cid in new:
                    mine.append(Receipt(cid, "duplicate", known.get(cid, day)))
                else:
                    new[cid] = day
                    keep[i] = True
                    mine.append(Receipt(cid, "accepted", day))
            receipts.append(mine)
            fresh.append(keep)
        if new:
            citizen = np.concatenate([w.citizen[k] for w, k in zip(group, fresh, strict=True)])
            behaviour = np.concatenate([w.behaviour[k] for w, k in zip(group, fresh, strict=True)])
            try:
                live.store.append(
                    "live_submissions",
                    {  # durable before the answer
                        "client_id": np.array(list(new), dtype=object),
                        "day": np.full(len(new), day, dtype=np.int32),
                        "citizen": citizen.astype(np.int32),
                        "behaviour": behaviour,
                        "submitted_by": np.concatenate(
                            [
                                np.full(int(k.sum()), w.by, dtype=object)
                                for w, k in zip(group, fresh, strict=True)
                            ]
                        ),
                        "received": np.concatenate(
                            [
                                np.full(int(k.sum()), w.received)
                                for w, k in zip(group, fresh, strict=True)
                            ]
                        ),
                    },
                    self._con,
                )
            except Exception as exc:
                for w in group:
                    w.error = exc
                return
            known.update(new)  # only once stored
            self._pending.update((day, int(c)) for c in citizen)
            live.city.inject(day, citizen, behaviour)
        for w, mine in zip(group, receipts, strict=True):
            w.receipts = mine

    def has_pending(self, day: int, citizen: int) -> bool:
        """Whether a submission about ``citizen`` is stored for ``day`` (acknowledged, or
        about to be: the mirror is updated once the store holds it, before the receipt)."""
        return (day, citizen) in self._pending

    def close_day(self, day: int) -> None:
        """Close ``day`` to submissions (its simulation begins): later ones join the next."""
        with self.lock:
            self.day = max(self.day, day + 1)

    def close(self) -> None:
        """Close the inbox's connection."""
        self._con.close()
