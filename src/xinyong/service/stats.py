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
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from xinyong.engine.city import City
    from xinyong.service.live import LiveCity

__all__ = ["Figures"]


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
                    with live.state.read():
                        cached = self.cached = self._computed(live.city)
        elif cached[1] < live.day and self._lock.acquire(blocking=False):
            try:  # a day old: one request refreshes them unless a day is being simulated,
                if live.state.acquire_read(blocking=False):  # which then does at its end
                    try:
                        cached = self.cached = self._computed(live.city)
                    finally:
                        live.state.release_read()
                else:
                    self._wanted = True
            finally:
                self._lock.release()
        assert cached is not None
        _, as_of, summary = cached
        submitted = live._reader().execute("SELECT count(*) FROM live_submissions").fetchall()
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
        return self.live._generation, city.day, city.summary()

    def _usable(
        self, cached: tuple[int, int, dict[str, Any]] | None
    ) -> TypeGuard[tuple[int, int, dict[str, Any]]]:
        """Whether cached figures may be served: of this history, at most a day old."""
        return (
            cached is not None
            and cached[0] == self.live._generation
            and cached[1] >= self.live.day - 1
        )
