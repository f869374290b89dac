"""Households: who lives with whom, and the questions gates and responses ask about it.

A city numbers its citizens household by household (:mod:`xinyong.model.population`): the members of
household ``h`` are the contiguous ids ``start[h] .. start[h] + size[h] - 1``, adults (18-64)
first, then children, then elderly relatives. A household has at most two adults, so its
parents are the adults among its first two members. Every question here is asked of many
households or citizens at once, without a Python loop over them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["PARENTS", "Flag", "Households"]

PARENTS = 2  # a household's parents: the adults among its first two members

#: Whether each of some citizens has a property: a bool column over all citizens, or a
#: function of an id array (a list's membership, "blacklisted").
Flag = np.ndarray | Callable[[np.ndarray], np.ndarray]


def _read(flag: Flag, ids: np.ndarray) -> np.ndarray:
    return flag[ids] if isinstance(flag, np.ndarray) else flag(ids)


@dataclass(frozen=True, eq=False)
class Households:
    """The household layout of a city's citizens, as columns.

    Attributes:
        household: per citizen, its household's id.
        start: per household, the id of its first member (an adult if it has one).
        size: per household, how many members it has.
        adult: per citizen, whether they are an adult (role ADULT, 18-64).
    """

    household: np.ndarray
    start: np.ndarray
    size: np.ndarray
    adult: np.ndarray

    @classmethod
    def of(cls, household: np.ndarray, adult: np.ndarray) -> Households:
        """The layout from each citizen's household id.

        Args:
            household: per citizen, household ids numbered from 0 in the order of the
                citizens (a household's members are contiguous).
            adult: per citizen, whether they are an adult.

        Raises:
            ValueError: if a household's members are not contiguous, in household order.
        """
        household = np.asarray(household, dtype=np.int64)
        step = np.diff(household)
        if household.size and (household[0] != 0 or ((step != 0) & (step != 1)).any()):
            raise ValueError(
                "household ids must run 0, 1, 2, ... in citizen order, each "
                "household's members contiguous: sort the citizens by "
                "household first"
            )
        size = np.bincount(household)
        return cls(household, np.cumsum(size) - size, size, np.asarray(adult, dtype=bool))

    def members(self, homes: np.ndarray) -> np.ndarray:
        """The ids of every member of ``homes``, home by home, each home's in its order
        (adults first). A home given twice is listed twice."""
        homes = np.asarray(homes, dtype=np.int64)
        size = self.size[homes].astype(np.int64)
        first = np.repeat(self.start[homes].astype(np.int64), size)
        return first + (np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size))

    def parents(self, homes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The parents of each of ``homes``: its first two members where they are adults.

        Returns:
            ``(ids, is_parent)``, each of shape ``(PARENTS, len(homes))``: row ``k`` is each
            home's member ``k``; where ``is_parent`` is False, ``ids`` holds 0, a valid id to
            be masked out.
        """
        homes = np.asarray(homes, dtype=np.int64)
        offset = np.arange(PARENTS)[:, None]
        present = offset < self.size[homes]
        ids = np.where(present, self.start[homes] + offset, 0)
        return ids, present & self.adult[ids]

    def _of_parents(self, homes: np.ndarray, flag: Flag) -> tuple[np.ndarray, np.ndarray]:
        """``flag`` of each home's parents (False where none), and which are parents."""
        ids, is_parent = self.parents(homes)
        has = np.zeros(is_parent.shape, dtype=bool)
        has[is_parent] = _read(flag, ids[is_parent])
        return has, is_parent

    def any_parent(self, homes: np.ndarray, flag: Flag) -> np.ndarray:
        """Whether a parent of each of ``homes`` has ``flag`` (False for a home with none)."""
        return np.asarray(self._of_parents(homes, flag)[0].any(axis=0))

    def all_parents(self, homes: np.ndarray, flag: Flag) -> np.ndarray:
        """Whether every parent of each of ``homes`` has ``flag`` (True for a home with
        none)."""
        has, is_parent = self._of_parents(homes, flag)
        return (has | ~is_parent).all(axis=0)

    def anyone_else(self, citizens: np.ndarray, flag: Flag) -> np.ndarray:
        """Whether another member of each citizen's household has ``flag``."""
        citizens = np.asarray(citizens, dtype=np.int64)
        homes = self.household[citizens]
        row = np.repeat(np.arange(citizens.size), self.size[homes])
        flagged = np.bincount(row[_read(flag, self.members(homes))], minlength=citizens.size)
        return flagged > _read(flag, citizens)  # more than the citizen's own
