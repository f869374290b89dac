"""The app a server serves: the city served now, replaced by a new one an admin starts (if the
machine has the memory for it), or by the same city opened again once its store failed
(:class:`Switch`)."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from fastapi import FastAPI

from xinyong.engine.memory import give_back
from xinyong.scenario import Scenario
from xinyong.service.capacity import free_memory, needed_memory
from xinyong.service.live import LiveCity, LiveError, load_city, open_city

__all__ = ["REOPEN_SECONDS", "Switch"]

REOPEN_SECONDS = 0.5  # between tries to open a city whose store failed (a full disk)
log = logging.getLogger("xinyong.live")


class Switch:
    """An ASGI app that forwards to the app of the city served now.

    A new city an admin starts replaces it (with its own behaviours and services in the
    schema: :meth:`load`). A city whose store failed past using (a full disk made DuckDB give
    up on it) answers 507 or 503 meanwhile, and is opened again from its folder in the
    background as soon as it can be (once there is room): a restart without the process's.

    Args:
        folder: the base folder (:func:`~xinyong.service.live.open_city`).
        live: the city served first.
        build: the app serving a city (the API, and the dashboard on it).
    """

    def __init__(self, folder: Path, live: LiveCity, build: Callable[[LiveCity], FastAPI]) -> None:
        self.folder = folder
        self._build = build
        self._lock = threading.Lock()  # one city replaced at a time
        self.live = live
        self.app = self._serve(live)
        _settle()

    def _serve(self, live: LiveCity) -> FastAPI:
        live.failures.on_broken = self._heal
        return self._build(live)

    def load(self, scenario: Scenario, seed: int) -> LiveCity:
        """Start a new city from ``scenario`` and serve it instead.

        A city the machine has not the memory for is refused before it is built (507, with
        the memory it needs and the memory free); one that fails while it is built leaves
        nothing behind (its folder removed, its memory given back) and the one served stays.
        """
        needed, free = needed_memory(scenario, seed), free_memory()
        if needed > free:
            raise LiveError(507, _too_large(scenario, needed, free))
        failed: LiveError | None = None
        with self._lock:
            try:
                new = load_city(self.folder, scenario, seed)
            except MemoryError:  # the half-built city is dropped with the traceback
                failed = LiveError(507, _too_large(scenario, needed, free, built=False))
            if failed is None:
                old, self.live = self.live, new
                self.app = self._serve(new)
        if failed is not None:  # raised here, outside the handler, holding nothing of it
            gc.collect()
            give_back()
            raise failed
        old.close()
        del old
        _settle()
        return new

    def _heal(self) -> None:
        threading.Thread(target=self._reopen, name="reopen", daemon=True).start()

    def _reopen(self) -> None:
        """Close the broken city (the one served now), then open its folder again until it
        opens."""
        broken = self.live
        with suppress(Exception):  # its store failed: close what can be closed
            broken.close()
        while True:
            time.sleep(REOPEN_SECONDS)
            with self._lock:
                if self.live is not broken:
                    return  # another city was started meanwhile
                try:
                    new = open_city(self.folder)
                except Exception as exc:  # still no room, most likely: try again
                    log.warning("the live city in '%s' cannot be opened yet: %s", self.folder, exc)
                    continue
                self.live, self.app = new, self._serve(new)
                log.warning("the live city in '%s' is served again", self.folder)
            del broken, new  # the broken city is freed when settling
            _settle()
            return

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        await self.app(scope, receive, send)


def _settle() -> None:
    """Move what the city served keeps (and everything imported) out of the cyclic
    collector's way (:func:`gc.freeze`).

    A full collection walked each of those objects every time, about 0.2 s holding the GIL
    with a 100,000-citizen city, and every request in flight waited behind it (the tail of
    record reads under load). What was frozen for the city before is made collectable first,
    so a replaced city is freed.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _too_large(scenario: Scenario, needed: int, free: int, built: bool = True) -> str:
    """Why a new city is refused for want of memory, and what would fit.

    Refused before it is built, the estimate says what fits. Once a build has run out, the
    estimate was too low for this machine, and what it says would fit may be more than the
    size that just failed: only fewer citizens than that can be advised.
    """
    if not built:
        return (
            f"a live city of {scenario.citizens:,} citizens of '{scenario.name}' ran out of "
            f"memory while it was built (it was estimated to need about "
            f"{needed / 2**30:.1f} GiB, and this server had {free / 2**30:.1f} GiB free): "
            f"choose fewer than {scenario.citizens:,} citizens (or a machine with more "
            f"memory); the city served now goes on"
        )
    fits = int(scenario.citizens * free / needed) if needed else 0
    return (
        f"a live city of {scenario.citizens:,} citizens of '{scenario.name}' needs about "
        f"{needed / 2**30:.1f} GiB of memory, and this server has {free / 2**30:.1f} GiB "
        f"free: choose at most about {fits:,} citizens (or a machine with more memory); "
        f"the city served now goes on"
    )
