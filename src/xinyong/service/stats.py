"""The live city's summary figures: computed at most once a day, and never by many at once.

Stats are read by many clients. They are computed by one request while the others wait for
its result (or serve the day before's); while a day is simulated, the day before's figures are
served rather than wait for it, and the day computes them at its end if a request asked
meanwhile, and always on an advance's last day, so days in a row never leave them more than a
day old. Only figures older still, or from before history was rewritten (an upheld appeal, a
failed day), are waited for. Every answer says which day its figures cover (``as_of_day``)
beside the day open now (``open_day``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeGuard, TypeVar

if TYPE_CHECKING:
    from xinyong.engine.city import City
    from xinyong.service.live import LiveCity

__all__ = ["DailyCopy", "Figures"]

T = TypeVar("T")


class Figures:
    """The summary figures of one live city (``live.figures``).

    The first figures pay one-time costs (the chilling intervals' statistics library): they
    are computed here, when the city starts serving, not by its first request.

    Args:
        live: the city, its day and arrays installed.
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live
        self._lock = threading.Lock()  # one request computes them at a time
        self._wanted = False  # asked for while a day ran: the day computes them at its end
        # (generation, the open day they were computed at, the summary)
        self.cached: tuple[int, int, dict[str, Any]] | None = self._computed(live.city)

    def get(self) -> dict[str, Any]:
        """The figures as of ``as_of_day`` (the days simulated when they were computed), with
        the open day and how many events were submitted."""
        live = self.live
        cached = self.cached
        if not self._usable(cached):  # none to serve: the first computes, the others wait
            with self._lock:
                cached = self.cached
                if not self._usable(cached):
                    with live.locks.reading():
                        cached = self.cached = self._computed(live.city)
        elif cached[1] < live.day and self._lock.acquire(blocking=False):
            try:  # a day old: one request refreshes them unless a day is being simulated,
                with live.locks.reading_if_free() as free:  # which then does at its end
                    if free:
                        cached = self.cached = self._computed(live.city)
                    else:
                        self._wanted = True
            finally:
                self._lock.release()
        assert cached is not None
        _, as_of, summary = cached
        submitted = live.reader().execute("SELECT count(*) FROM live_submissions").fetchall()
        return {
            **summary,
            "as_of_day": as_of,
            "open_day": live.day,
            "submitted": int(submitted[0][0]),
        }

    def day_done(self, city: City, last: bool) -> None:
        """At the end of a day (under its write lock): compute the figures if a request
        asked for them during the day, or if it is an advance's ``last`` day."""
        if self._wanted or last:
            self._wanted = False
            self.cached = self._computed(city)

    def _computed(self, city: City) -> tuple[int, int, dict[str, Any]]:
        """The figures of ``city`` as it stands (its arrays not being written), with the
        history's generation and the open day they cover."""
        return self.live.generation, city.day, city.summary()

    def _usable(
        self, cached: tuple[int, int, dict[str, Any]] | None
    ) -> TypeGuard[tuple[int, int, dict[str, Any]]]:
        """Whether cached figures may be served: of this history, at most a day old."""
        return (
            cached is not None
            and cached[0] == self.live.generation
            and cached[1] >= self.live.day - 1
        )


class DailyCopy(Generic[T]):
    """What costs a computation over every citizen to read (the dashboard's plots), computed
    from the city at most once a day and served from that copy until the next.

    The first request of a day computes it under the arrays' read lock; requests meanwhile are
    served the day before's copy rather than wait (unless history was rewritten since: then
    they wait for the new one).

    Args:
        live: the city.
        compute: what to compute, from the city as it stands (called under the read lock).
    """

    def __init__(self, live: LiveCity, compute: Callable[[], T]) -> None:
        self.live, self.compute = live, compute
        self._lock = threading.Lock()  # one computes at a time
        self.copy: tuple[int, int, T] | None = None  # generation, open day, value

    def get(self) -> T:
        """The value as of the last completed day (or the day before, while it is computed)."""
        live = self.live
        copy = self.copy
        if copy is not None and copy[0] == live.generation:
            if copy[1] == live.day or not self._lock.acquire(blocking=False):
                return copy[2]  # today's, or yesterday's while another request computes
        else:
            self._lock.acquire()  # none of this history: wait for the one being computed
        try:
            copy = self.copy
            if copy is not None and copy[:2] == (live.generation, live.day):
                return copy[2]
            with live.locks.reading():
                key = (live.generation, live.day)
                value = self.compute()
            self.copy = (*key, value)
            return value
        finally:
            self._lock.release()
