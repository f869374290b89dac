"""The social circle: households, workmates and a few friends each, as one sparse graph.

"Friends and social circle also affect our lives" [004]. A citizen's contacts are:

- the household (implicit in the household layout: nothing is stored for it);
- workmates: employees of the same organisation living in the same neighbourhood, each linked
  to the next one in id order (a chain, so at most two);
- friends: ``friends`` draws per citizen among the residents of the neighbourhood (stream
  ``network/friend/<j>``, keyed by the citizen's city-wide id), made mutual.

Every tie lies inside a neighbourhood, and blocks of a split run follow neighbourhood
boundaries, so a block builds exactly the ties of its citizens that the whole city builds, with
no state from another block. Ties other than the household are kept in compressed rows
(``offsets``, ``contacts``): about 4 bytes per citizen plus 4 per tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xinyong.model.population import Population
from xinyong.model.sensors import Events
from xinyong.primitives.streams import SETUP, Streams

if TYPE_CHECKING:
    from xinyong.model.operators import OperatorState

__all__ = ["SocialNetwork", "build_network", "contacts_pull"]


@dataclass(frozen=True)
class SocialNetwork:
    """Ties beyond the household, as compressed rows over local citizen ids.

    Attributes:
        offsets: int32, ``n + 1``: citizen ``i``'s contacts are
            ``contacts[offsets[i]:offsets[i + 1]]``.
        contacts: int32 local ids, sorted within each row, no duplicates, no self-ties.
    """

    offsets: np.ndarray
    contacts: np.ndarray

    @property
    def n(self) -> int:
        """Citizens."""
        return int(self.offsets.size - 1)

    def degree(self) -> np.ndarray:
        """Ties of each citizen (household members not included)."""
        return np.diff(self.offsets)

    def nbytes(self) -> int:
        """Memory the network holds (bytes)."""
        return int(self.offsets.nbytes + self.contacts.nbytes)

    def of(self, citizens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ties of ``citizens`` as (row into ``citizens``, contact) pairs."""
        start = self.offsets[citizens].astype(np.int64)
        count = self.offsets[citizens + 1].astype(np.int64) - start
        row = np.repeat(np.arange(citizens.size), count)
        at = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        return row, self.contacts[np.repeat(start, count) + at]

    def share_with(self, citizens: np.ndarray, flag: np.ndarray) -> np.ndarray:
        """For each citizen, the share of their ties for whom ``flag`` holds (0 with none)."""
        row, contact = self.of(citizens)
        hits = np.bincount(row, weights=flag[contact], minlength=citizens.size)
        ties = np.bincount(row, minlength=citizens.size)
        return np.divide(hits, ties, out=np.zeros(citizens.size), where=ties > 0)

    def any_with(self, citizens: np.ndarray, flag: np.ndarray) -> np.ndarray:
        """Whether any tie of each citizen has ``flag``."""
        row, contact = self.of(citizens)
        return np.bincount(row[flag[contact]], minlength=citizens.size) > 0


def contacts_pull(
    day: int,
    operators: list[OperatorState],
    network: SocialNetwork,
    behaviours: list[str],
    base: int,
) -> list[Events]:
    """The events of the schemes whose score low-score contacts pull down, on their days: a
    citizen with at least ``share`` of ties below ``below`` is recorded doing the scheme's
    ``behaviour`` (every ``every_days`` days).

    Args:
        day: the day.
        operators: the city's operators (those without a contacts pull are skipped).
        network: the citizens' ties.
        behaviours: the scenario's behaviour names, by index.
        base: the city-wide id of citizen 0 here; events name citizens by it.
    """
    out = []
    for op in operators:
        pull = op.scheme.contacts_pull
        if pull is None or day % pull.every_days != pull.every_days - 1:
            continue
        who = np.arange(network.n) if op.covered is None else np.flatnonzero(op.covered)
        low = op.standing.score < pull.below
        who = who[network.share_with(who, low) >= pull.share] + base
        n = who.size
        out.append(
            Events(
                who,
                who,
                np.full(n, behaviours.index(pull.behaviour), dtype=np.int16),
                np.zeros(n, bool),
                np.zeros(n, bool),
            )
        )
    return out


def build_network(
    population: Population, friends: int, streams: Streams, base: int = 0
) -> SocialNetwork:
    """Draw the ties of a city's (or a block's) citizens.

    Args:
        population: the citizens (a block's alone, numbered from 0).
        friends: friends each citizen names in the neighbourhood (ties are made mutual, so a
            citizen has ``friends`` plus those who name them).
        streams: the run's random streams.
        base: the city-wide id of citizen 0 here, which draws are addressed by.

    Returns:
        The network over local ids.
    """
    n = population.citizens
    ids = np.arange(n, dtype=np.int64)
    hood = population.neighbourhood
    # Neighbourhoods are contiguous id ranges: each citizen's range [first, first + size).
    starts = np.flatnonzero(np.r_[True, hood[1:] != hood[:-1]]) if n else np.empty(0, np.int64)
    sizes = np.diff(np.r_[starts, n])
    which = np.repeat(np.arange(starts.size), sizes)
    first, size = starts[which], sizes[which]
    src, dst = [], []
    for j in range(friends):  # a friend drawn among the others in the neighbourhood
        u = streams.uniform(f"network/friend/{j}", SETUP, ids + base)
        pick = np.minimum((u * (size - 1)).astype(np.int64), np.maximum(size - 2, 0))
        friend = first + pick
        friend = friend + (friend >= ids)  # skip oneself
        ok = size > 1
        src.append(ids[ok])
        dst.append(friend[ok])
    # Workmates: same employer, same neighbourhood, chained in id order.
    employed = np.flatnonzero(population.employer >= 0)
    order = employed[np.lexsort((employed, population.employer[employed], hood[employed]))]
    same = (population.employer[order[1:]] == population.employer[order[:-1]]) & (
        hood[order[1:]] == hood[order[:-1]]
    )
    src.append(order[:-1][same])
    dst.append(order[1:][same])
    a = np.concatenate(src + dst).astype(np.int64)
    b = np.concatenate(dst + src).astype(np.int64)
    # Household members are contacts already: a tie at home is not stored twice.
    keep = population.household[a] != population.household[b]
    key = np.sort(a[keep] * n + b[keep])  # sorted, mutual...
    key = key[np.r_[True, key[1:] != key[:-1]]]  # ... no duplicates
    a, b = key // n, key - (key // n) * n
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(a, minlength=n), out=offsets[1:])
    return SocialNetwork(offsets, b.astype(np.int32))
