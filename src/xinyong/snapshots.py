"""Snapshots of a live city: the whole city between two days, in a file, so that a restart (or
an upheld appeal) re-simulates only the days after the last one.

The format is a split run's checkpoint (:meth:`xinyong.split.BlockRunner.checkpoint`): the
pickled :class:`~xinyong.city.City`, without its threads and its store, written to a temporary
name and moved into place, so a file that exists is whole. A live city registers its snapshots
in its store (``live_snapshots``) in the same transaction as what they reflect; a file the
store does not name is left over from a crash and is deleted.
"""

from __future__ import annotations

import os
import pickle
import secrets
from pathlib import Path

from xinyong.city import City

__all__ = ["SNAPSHOTS", "read_snapshot", "remove_unlisted", "write_snapshot"]

SNAPSHOTS = "snapshots"  # the sub-folder of a live city that holds them


def write_snapshot(folder: Path, city: City) -> str:
    """Write the city as it stands (its open day in the name); returns the file's name."""
    where = Path(folder) / SNAPSHOTS
    where.mkdir(exist_ok=True)
    name = f"day-{city.day:05d}-{secrets.token_hex(4)}.city"
    tmp = where / (name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(city, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, where / name)
    return name


def read_snapshot(folder: Path, name: str) -> City:
    """The city a snapshot holds (without a store: attach one to write its ledger)."""
    with open(Path(folder) / SNAPSHOTS / name, "rb") as f:
        city = pickle.load(f)
    if not isinstance(city, City):
        raise ValueError(f"snapshot '{name}' does not hold a city")
    return city


def remove_unlisted(folder: Path, listed: set[str]) -> None:
    """Delete the snapshot files the store does not name (stale, or left by a crash)."""
    where = Path(folder) / SNAPSHOTS
    if where.is_dir():
        for path in where.iterdir():
            if path.name not in listed:
                path.unlink(missing_ok=True)
