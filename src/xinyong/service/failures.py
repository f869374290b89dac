"""What a live city answers when its store fails: a full disk, or a store DuckDB gave up on.

- **A full disk** (a write that found no room: the disk, the file size limit, the quota) is
  answered 507, naming the folder and how many MiB to free there; what was acknowledged before
  is stored, and the city goes on once there is room.
- **A store DuckDB gave up on** (a checkpoint that failed invalidates the database: nothing
  more can be read or written through any of its connections) breaks the city: every
  operation on the store is refused (507 if the disk was full, 503 otherwise) until the city
  is opened again from its folder, which the server does in the background
  (:class:`~xinyong.service.switch.Switch`) as soon as it can.

Every public operation of :class:`~xinyong.service.live.LiveCity` that uses the store goes
through :func:`serving`, which answers so instead of failing with a 500.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from xinyong.records.snapshots import SNAPSHOTS
from xinyong.service.errors import LiveError, disk_full, store_invalidated

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["Failures", "serving"]

log = logging.getLogger("xinyong.live")
F = TypeVar("F", bound=Callable[..., Any])
MARGIN = 16 * 2**20  # bytes: a day's ledger and a checkpoint's slack (an assumption)


def serving(method: F) -> F:
    """An operation of a live city that uses its store: refused while the store is broken,
    and a full disk or a failed store answered as such instead of as a crash."""

    @functools.wraps(method)
    def guarded(live: LiveCity, *args: Any, **kwargs: Any) -> Any:
        broken = live.failures.broken
        if broken is not None:
            raise LiveError(broken.status, str(broken))
        try:
            return method(live, *args, **kwargs)
        except LiveError:
            raise
        except Exception as exc:
            error = live.failures.answer(exc)
            if error is None:
                raise
            raise error from None

    return guarded  # type: ignore[return-value]


class Failures:
    """A live city's failures of its store, and the city's state of health (``live.failures``).

    Args:
        live: the city (its folder, scenario and snapshots read when a disk is full).
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live
        # Set when the store failed past using: every operation is refused with it until the
        # city is opened again (``on_broken`` is told, once, to see to that).
        self.broken: LiveError | None = None
        self.on_broken: Callable[[], None] | None = None

    def answer(self, exc: BaseException) -> LiveError | None:
        """What to answer for a failure: 507 for a full disk, 503 for a store DuckDB gave up
        on (the city breaks off until it is opened again); None for any other failure."""
        if store_invalidated(exc):
            error = self.no_room() if disk_full(exc) else self.failed(exc)
            self.break_off(error)
            return error
        return self.no_room() if disk_full(exc) else None

    def break_off(self, error: LiveError) -> None:
        """Refuse every operation on the store with ``error`` from now on, and say so."""
        if self.broken is None:
            self.broken = error
            log.warning("the live city in '%s' stops serving: %s", self.live.folder, error)
            if self.on_broken is not None:
                self.on_broken()

    def failed(self, exc: BaseException) -> LiveError:
        """The 503 for a store that failed for another reason than room."""
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        return LiveError(
            503,
            f"the city's store in '{self.live.folder}' failed ({reason}); it is being opened "
            f"again: try again in a few seconds",
        )

    def no_room(self, folder: Path | None = None, citizens: int | None = None) -> LiveError:
        """The 507 for a full disk: which folder (the city's, or ``folder`` for a new city of
        ``citizens``), and how much room to make there."""
        live = self.live
        sizes = [p.stat().st_size for p in (live.folder / SNAPSHOTS).glob("*.city")]
        snapshot = max(sizes, default=0)
        if citizens is not None:  # a new city's snapshot, scaled from this one's
            snapshot = snapshot * citizens // max(live.scenario.citizens, 1)
        wal = Path(f"{live.store.path}.wal")  # the store's write-ahead log
        log_size = wal.stat().st_size if wal.exists() and citizens is None else 0
        # The next snapshot is about as large as the last; a checkpoint moves the log into
        # the store; and a margin.
        needed = snapshot + log_size + MARGIN
        return LiveError(
            507,
            f"the disk holding '{folder or live.folder}' is full: free at least "
            f"{math.ceil(needed / 2**20)} MiB there (a snapshot of this city is about "
            f"{math.ceil(snapshot / 2**20)} MiB, its store's log {math.ceil(log_size / 2**20)} "
            f"MiB), then try again; everything acknowledged before is stored",
        )
