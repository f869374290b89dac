"""Set operations on citizen ids in O(ids) time, using dense scratch columns.

Sorting is the slow part of a day (tens of ns per element here), and a day's sets are small
next to the population, so the engine uses one preallocated column per kind of question
instead: write the ids in, read the answer, and put the column back as it was.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Scratch"]


class Scratch:
    """A reusable scratch column over ids ``0 .. size-1``, -1 at rest: every question writes
    into it, reads the answer and puts it back, so one 4-byte column answers them all.

    Args:
        size: one more than the largest id.
    """

    def __init__(self, size: int) -> None:
        dtype = np.int32 if size < np.iinfo(np.int32).max else np.int64
        self._position = np.full(size, -1, dtype=dtype)

    def distinct(self, ids: np.ndarray) -> np.ndarray:
        """The distinct ids, each once, in a deterministic order (not sorted)."""
        if ids.size < 2:
            return ids
        return ids[np.flatnonzero(self.once(ids))]

    def once(self, ids: np.ndarray) -> np.ndarray:
        """A mask over ``ids`` that keeps each distinct id once (at one of its positions, the
        same every time), so that what goes with each id can be kept along with it."""
        order = np.arange(ids.size, dtype=self._position.dtype)
        self._position[ids] = order
        kept = self._position[ids] == order  # exactly one position per distinct id wins
        self._position[ids] = -1
        return kept

    def positions(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Where each of ``of`` stands in ``ids`` (distinct ids; ``of`` must be among them)."""
        self._position[ids] = np.arange(ids.size, dtype=self._position.dtype)
        out = self._position[of]
        self._position[ids] = -1
        return out

    def local(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct ids in :meth:`distinct`'s order, and where each of ``ids`` stands
        among them: ``distinct[inverse] == ids``, as ``np.unique`` with ``return_inverse``
        gives, without sorting. What goes with the ids then adds up per distinct id with one
        ``np.bincount(inverse, ...)``, which reads only the day's small arrays."""
        order = np.arange(ids.size, dtype=self._position.dtype)
        self._position[ids] = order
        winner = self._position[ids]  # for each id, the position that stands for it
        self._position[ids] = -1
        kept = winner == order
        rank = np.cumsum(kept, dtype=self._position.dtype)
        rank -= 1
        return ids[np.flatnonzero(kept)], rank[winner]

    def member(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Whether each of ``ids`` is in the set ``of``."""
        self._position[of] = 0
        out = self._position[ids] >= 0
        self._position[of] = -1
        return out
