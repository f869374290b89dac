"""Set operations on citizen ids in O(ids) time, using dense scratch columns.

Sorting is the slow part of a day (tens of ns per element here), and a day's sets are small
next to the population, so the engine uses a preallocated column instead: write the ids in and
read the answer back. A question reads only the entries it wrote, so the column is never put
back: what earlier questions left in it is never read.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Scratch"]


class Scratch:
    """Reusable scratch columns over ids ``0 .. size-1``: positions (4 bytes an id), which
    each question writes at its own ids before reading them, and membership flags (a byte an
    id, all False between questions).

    Args:
        size: one more than the largest id.
    """

    def __init__(self, size: int) -> None:
        dtype = np.int32 if size < np.iinfo(np.int32).max else np.int64
        self._position = np.zeros(size, dtype=dtype)
        # Membership needs a bit per id, not a position: a byte column, a quarter of the size,
        # stays in the core's cache where the position column would not.
        self._flag = np.zeros(size, dtype=bool)

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
        return self._position[ids] == order  # exactly one position per distinct id wins

    def positions(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Where each of ``of`` stands in ``ids`` (distinct ids; ``of`` must be among them)."""
        self._position[ids] = np.arange(ids.size, dtype=self._position.dtype)
        return self._position[of]

    def local(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct ids in :meth:`distinct`'s order, and where each of ``ids`` stands
        among them: ``distinct[inverse] == ids``, as ``np.unique`` with ``return_inverse``
        gives, without sorting. What goes with the ids then adds up per distinct id with one
        ``np.bincount(inverse, ...)``, which reads only the day's small arrays."""
        order = np.arange(ids.size, dtype=self._position.dtype)
        self._position[ids] = order
        winner = self._position[ids]  # for each id, the position that stands for it
        kept = winner == order
        rank = np.cumsum(kept, dtype=self._position.dtype)
        rank -= 1
        return ids[np.flatnonzero(kept)], rank[winner]

    def member(self, ids: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Whether each of ``ids`` is in the set ``of``."""
        self._flag[of] = True
        out = self._flag[ids]
        self._flag[of] = False
        return out
