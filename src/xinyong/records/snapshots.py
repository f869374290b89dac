"""Snapshots of a live city: the whole city between two days, in a file, so that a restart (or
an upheld appeal) re-simulates only the days after the last one.

The format is a split run's checkpoint (:meth:`xinyong.engine.split.BlockRunner.checkpoint`): the
pickled :class:`~xinyong.engine.city.City`, without its threads and its store, in a sealed
file (:mod:`xinyong.primitives.sealed`: a file that exists is whole, and one damaged on disk is
passed over for an older snapshot rather than read as a wrong city). A live city registers its
snapshots in its store (``live_snapshots``) in the same transaction as what they reflect; a file
the store does not name is left over from a crash and is deleted.
"""

from __future__ import annotations

import gc
import pickle
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from xinyong.engine.city import City
from xinyong.primitives.sealed import SealError, read_sealed, write_sealed

__all__ = ["SNAPSHOTS", "Pending", "read_snapshot", "remove_unlisted", "write_snapshot"]

SNAPSHOTS = "snapshots"  # the sub-folder of a live city that holds them


class Pending:
    """Snapshot files written but not yet named by the store, which a clean-up running on
    another thread (an advance, while an appeal re-simulates) must leave alone."""

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:
            self._names |= {name, name + ".tmp"}

    def discard(self, names: list[str]) -> None:
        with self._lock:
            self._names -= {n for name in names for n in (name, name + ".tmp")}

    def names(self) -> set[str]:
        with self._lock:
            return set(self._names)


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector off while a city is pickled: the pickler's memo holds a
    million objects, and each full collection over them held the GIL for up to 0.15 s (at
    100,000 citizens), in which no gate check of a live city was answered."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Yielding(pickle.Pickler):
    """A pickler that lets other threads run while it writes: the C pickler runs no Python
    code, so it would hold the GIL for the whole city (two thirds of a second at 100,000
    citizens). A Python ``persistent_id`` is a call into the interpreter for each object,
    where a waiting thread gets its turn."""

    def persistent_id(self, obj: object) -> None:
        return None


def write_snapshot(folder: Path, city: City, pending: Pending | None = None) -> str:
    """Write the city as it stands (its open day in the name); returns the file's name.

    With ``pending``, the name is held there from before the file is begun: the caller
    discards it once the store names the file."""
    where = Path(folder) / SNAPSHOTS
    where.mkdir(exist_ok=True)
    name = f"day-{city.day:05d}-{secrets.token_hex(4)}.city"
    if pending is not None:
        pending.add(name)
    try:
        with _no_collection():
            write_sealed(
                where / name,
                lambda f: _Yielding(f, protocol=pickle.HIGHEST_PROTOCOL).dump(city),
            )
    except BaseException:  # a full disk, say: the name is no longer pending
        if pending is not None:
            pending.discard([name])
        raise
    return name


def read_snapshot(folder: Path, name: str) -> City:
    """The city a snapshot holds (without a store: attach one to write its ledger).

    Raises:
        ValueError: the file is damaged or cut short, or does not hold a city of this version
            of xinyong (a snapshot written before the city's layout changed): re-simulate
            from an older one.
    """
    try:
        with read_sealed(Path(folder) / SNAPSHOTS / name) as f:
            city = pickle.load(f)
    except SealError as exc:
        raise ValueError(f"snapshot '{name}' cannot be read ({exc})") from None
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError) as exc:
        raise ValueError(f"snapshot '{name}' cannot be read ({type(exc).__name__})") from None
    if not isinstance(city, City):
        raise ValueError(f"snapshot '{name}' does not hold a city")
    if getattr(city, "layout", 0) != City.LAYOUT:
        raise ValueError(f"snapshot '{name}' holds a city of an older layout")
    return city


def remove_unlisted(folder: Path, listed: set[str], pending: Pending | None = None) -> None:
    """Delete the snapshot files the store does not name (stale, or left by a crash), but for
    those still being written or registered (``pending``).

    The folder is listed before ``pending`` is read: a writer names its file in ``pending``
    before it creates it, so every file listed is either still pending when read, or named by
    the store (``listed``, read under the same writer lock that registers), or stale. Read the
    other way round, a file begun in between would be listed but not kept."""
    where = Path(folder) / SNAPSHOTS
    if not where.is_dir():
        return
    present = list(where.iterdir())
    keep = listed | (pending.names() if pending is not None else set())
    for path in present:
        if path.name not in keep:
            path.unlink(missing_ok=True)
