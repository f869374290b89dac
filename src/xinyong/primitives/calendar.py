"""A calendar of future days, each holding the integer ids due that day.

Used to wake exactly the (citizen, behaviour) pairs that act on a day and the listings that
come up for release, so a day's work grows with what happens that day, not with the population.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Calendar"]

_NEAR_DAYS = 28  # a filing's days within this of its first share its sorted array


class Calendar:
    """Integer ids filed under days ``0 .. days-1``; ids filed for later days are dropped.

    Args:
        days: the horizon; nothing is kept for day ``days`` or later.
        dtype: how ids are kept (int32 halves the memory where ids fit).
    """

    def __init__(self, days: int, dtype: type = np.int64) -> None:
        self.days = days
        self.dtype = dtype
        self._slots: list[list[np.ndarray]] = [[] for _ in range(days)]
        self._tags: list[list[int]] = [[] for _ in range(days)]
        self._day_dtype = np.int16 if days < np.iinfo(np.int16).max else np.int32

    def add(self, when: np.ndarray, ids: np.ndarray, tag: int = 0) -> None:
        """File ``ids[j]`` under day ``when[j]``; days outside ``[0, days)`` are ignored.

        Args:
            when: the day of each id.
            ids: the ids.
            tag: an integer kept with this filing (see :meth:`pop_tagged`), such as the day
                it was made.
        """
        self.file(*self.sort(when, ids), tag=tag)

    def sort(self, when: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first half of :meth:`add`, which changes nothing (so it may run on another
        thread): the ids within the horizon sorted by day, in the kept dtype, and how many
        fall on each day; :meth:`file` files them."""
        keep = (when >= 0) & (when < self.days)
        if not keep.all():
            when, ids = when[keep], ids[keep]
        when = when.astype(self._day_dtype)
        # A radix sort for small integer days, and one copy, in the kept dtype.
        ids = ids[np.argsort(when, kind="stable")].astype(self.dtype, copy=False)
        return ids, np.bincount(when, minlength=self.days)

    def file(self, ids: np.ndarray, counts: np.ndarray, tag: int = 0) -> None:
        """The second half of :meth:`add`: file ids sorted by :meth:`sort`."""
        if ids.size == 0:
            return
        ends = np.cumsum(counts)
        # Each day keeps a view of its part. The days after the first four weeks view one
        # copy of their (small) tail instead: a view of the whole sorted array would hold all
        # of it until the last day falls due, months on (a third of rongcheng's peak memory).
        days = np.flatnonzero(counts)
        near = int(days[0]) + _NEAR_DAYS
        cut = int(ends[near - 1]) if near < self.days else ids.size
        tail = ids[cut:].copy() if cut < ids.size else ids
        # Python integers in the loop: it runs for every day of every filing, several a day.
        slots, tags = self._slots, self._tags
        for day, end, count in zip(
            days.tolist(), ends[days].tolist(), counts[days].tolist(), strict=True
        ):
            start = end - count
            slots[day].append(ids[start:end] if day < near else tail[start - cut : end - cut])
            tags[day].append(tag)

    def pop_tagged(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Take everything filed under ``day``, emptying the slot: the ids, and each id's
        filing tag, in filing order."""
        ids, sizes, tags = self.pop_filings(day)
        return ids, np.repeat(tags, sizes)

    def pop_filings(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take everything filed under ``day``, emptying the slot: the ids in filing order,
        and per filing how many ids it filed there and its tag."""
        slot, tags = self._slots[day], self._tags[day]
        self._slots[day], self._tags[day] = [], []
        if not slot:
            none = np.empty(0, dtype=np.int64)
            return np.empty(0, dtype=self.dtype), none, none
        sizes = np.array([a.size for a in slot], dtype=np.int64)
        return np.concatenate(slot), sizes, np.array(tags, dtype=np.int64)

    def add_all(self, day: int, ids: np.ndarray) -> None:
        """File all ``ids`` under one day (ignored outside the horizon)."""
        if 0 <= day < self.days and ids.size:
            self._slots[day].append(ids)
            self._tags[day].append(0)

    def pop(self, day: int, dtype: type = np.int64) -> np.ndarray:
        """Take everything filed under ``day`` (possibly with repeats), emptying the slot."""
        slot, self._slots[day], self._tags[day] = self._slots[day], [], []
        if not slot:
            return np.empty(0, dtype=dtype)
        return (np.concatenate(slot) if len(slot) > 1 else slot[0]).astype(dtype, copy=False)

    def __getstate__(self) -> dict[str, object]:
        """The calendar packed into a few arrays (a checkpoint or a live city's snapshot
        would otherwise pickle one small array per filing and day: a hundred thousand objects
        at 100,000 citizens, each a slice of GIL held)."""
        state = self.__dict__.copy()
        slots, tags = state.pop("_slots"), state.pop("_tags")
        counts = np.array([len(s) for s in slots], dtype=np.int64)
        arrays = [a for s in slots for a in s]
        state["_packed"] = (
            counts,
            np.array([t for ts in tags for t in ts], dtype=np.int64),
            np.array([a.size for a in arrays], dtype=np.int64),
            np.concatenate(arrays) if arrays else np.empty(0, self.dtype),
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        counts, tags, sizes, ids = state.pop("_packed")
        self.__dict__.update(state)
        ends = np.cumsum(sizes)
        arrays = [ids[e - n : e].copy() for n, e in zip(sizes.tolist(), ends.tolist(), strict=True)]
        self._slots, self._tags, at = [], [], 0
        for n in counts.tolist():
            self._slots.append(arrays[at : at + n])
            self._tags.append(tags[at : at + n].tolist())
            at += n
