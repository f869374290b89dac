"""Set operations on citizen ids in O(ids) time, using dense scratch columns.

Sorting is the slow part of a day (tens of ns per element here), and a day's sets are small
next to the population, so the engine uses a preallocated column instead: write the ids in and
read the answer back. A question reads only the entries it wrote, so the column is never put
back: what earlier questions left in it is never read.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Scratch"]

_SMALL = np.iinfo(np.uint16).max  # questions about at most this many ids use two-byte positions


class Scratch:
    """Reusable scratch columns over ids ``0 .. size-1``: positions, which each question
    writes at its own ids before reading them, and membership flags (a byte an id, all False
    between questions).

    The smaller a column, the more of it stays in the core's cache, and random access is what
    a day's set questions cost: positions are kept in two bytes an id for the questions about
    fewer than 65,536 ids (a day's), and in four only once a larger question is asked.

    Args:
        size: one more than the largest id.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._small = np.zeros(size, dtype=np.uint16)
        self._large: np.ndarray | None = None  # made for the first question about more ids
        self._flag = np.zeros(size, dtype=bool)

    def _positions_for(self, count: int) -> np.ndarray:
        """The position column for a question about ``count`` ids (positions below it)."""
        if count <= _SMALL:
            return self._small
        if self._large is None:
            dtype = np.int32 if self.size < np.iinfo(np.int32).max else np.int64
            self._large = np.zeros(self.size, dtype=dtype)
        return self._large

    def distinct(self, ids: np.ndarray) -> np.ndarray:
        """The distinct ids, each once, in a deterministic order (not sorted)."""
        if ids.size < 2:
            return ids
        return ids[np.flatnonzero(self.once(ids))]

    def once(self, ids: np.ndarray) -> np.ndarray:
        """A mask over ``ids`` that keeps each distinct id once (at one of its positions, the
        same every time), so that what goes with each id can be kept along with it."""
        column = self._positions_for(ids.size)
        order = np.arange(ids.size, dtype=column.dtype)
        column[ids] = order
        return column[ids] == order  # exactly one position per distinct id wins

    def positions(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Where each of ``of`` stands in ``ids`` (distinct ids; ``of`` must be among them)."""
        column = self._positions_for(ids.size)
        column[ids] = np.arange(ids.size, dtype=column.dtype)
        return column[of]

    def local(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct ids in :meth:`distinct`'s order, and where each of ``ids`` stands
        among them: ``distinct[inverse] == ids``, as ``np.unique`` with ``return_inverse``
        gives, without sorting. What goes with the ids then adds up per distinct id with one
        ``np.bincount(inverse, ...)``, which reads only the day's small arrays."""
        column = self._positions_for(ids.size)
        order = np.arange(ids.size, dtype=column.dtype)
        column[ids] = order
        winner = column[ids]  # for each id, the position that stands for it
        kept = winner == order
        rank = np.cumsum(kept, dtype=np.int64)
        rank -= 1  # a winner's rank among the winners (a loser's is never read)
        return ids[np.flatnonzero(kept)], rank[winner]

    def member(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Whether each of ``ids`` is in the set ``of``."""
        self._flag[of] = True
        out = self._flag[ids]
        self._flag[of] = False
        return out
