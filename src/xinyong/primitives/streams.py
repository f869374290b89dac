"""Keyed random streams: every draw has an address (seed, stream name, day, citizen).

A draw is a pure function of its address, computed by a counter-based generator: the 64-bit key
of (seed, stream, day) comes from BLAKE2b, and the value for citizen ``i`` is the SplitMix64
finaliser applied to ``key XOR i * golden``, the construction of counter-based generators such as
Random123's, with SplitMix64's well-tested mixing function. Because nothing is consumed in
sequence:

- the same seed gives bit-identical runs;
- adding a behaviour or a sanction (a new stream) does not move any other stream's draws;
- a citizen's draws do not depend on which other citizens draw that day, so two policies run
  on common random numbers citizen by citizen, and a population split into blocks across
  workers draws exactly what one process draws;
- work is proportional to the draws asked for, never to the population.

Day ``SETUP`` (-1) addresses draws made before the first day.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from xinyong.primitives import compiled

__all__ = ["SETUP", "Streams"]

SETUP = -1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53


@functools.lru_cache(maxsize=4096)  # a day asks for the same few hundred keys many times
def _key(seed: int, stream: str, day: int) -> np.uint64:
    digest = hashlib.blake2b(f"{seed}\x1f{stream}\x1f{day}".encode(), digest_size=8)
    return np.uint64(int.from_bytes(digest.digest(), "little"))


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a uint64 array (a bijection with full avalanche)."""
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


class Streams:
    """The random draws of one run, addressed by stream name, day and citizen.

    Args:
        seed: the run's seed; any non-negative integer.

    Example:
        >>> s = Streams(7)
        >>> u = s.uniform("detect/jaywalking", day=3, ids=np.array([5, 9]))
        >>> bool(((0 < u) & (u < 1)).all())
        True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed = {seed}: a seed must be a non-negative integer")
        self.seed = int(seed)

    def key(self, stream: str, day: int) -> np.uint64:
        """The 64-bit key of one stream on one day."""
        return _key(self.seed, stream, day)

    def keys(self, streams: list[str], day: int) -> np.ndarray:
        """Keys of several streams on one day, as a uint64 array in the given order."""
        return np.array([self.key(s, day) for s in streams], dtype=np.uint64)

    @staticmethod
    def uniform_keyed(keys: np.ndarray | np.uint64, ids: np.ndarray) -> np.ndarray:
        """Uniform draws in the open interval (0, 1), one per (key, id) pair.

        Args:
            keys: one key for all ids, or one key per id (from :meth:`key` / :meth:`keys`).
            ids: non-negative integer addresses, usually citizen ids.
        """
        if compiled.ON:
            ids = np.asarray(ids)
            if np.ndim(keys) and np.shape(keys) != ids.shape:  # a row of keys over a grid
                keys, ids = np.broadcast_arrays(keys, ids)
            flat = compiled.uniform(
                keys if np.ndim(keys) == 0 else np.ravel(keys), None, ids.ravel()
            )
            return flat.reshape(ids.shape)
        z = np.asarray(ids).astype(np.uint64)
        z *= _GOLDEN
        z ^= keys
        _mix64(z)
        z >>= _S11
        u = z.astype(np.float64)
        u += 0.5
        u *= _TO_UNIT
        return u

    @staticmethod
    def uniform_at(keys: np.ndarray, k: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """:meth:`uniform_keyed` of ``keys[k]`` and ``ids`` (flat arrays of one length): the
        compiled path reads each key where it is."""
        if compiled.ON:
            return compiled.uniform(keys, k, ids)
        return Streams.uniform_keyed(keys[k], ids)

    @staticmethod
    def below(keys: np.ndarray, k: np.ndarray, ids: np.ndarray, chance: np.ndarray) -> np.ndarray:
        """The positions where :meth:`uniform_at` falls below ``chance`` (a coin per id)."""
        if compiled.ON:
            return compiled.below(keys, k, ids, chance)
        return np.flatnonzero(Streams.uniform_keyed(keys[k], ids) < chance)

    def uniform(self, stream: str, day: int, ids: np.ndarray) -> np.ndarray:
        """Uniform draws in (0, 1) for ``ids`` from ``stream`` on ``day``."""
        return self.uniform_keyed(self.key(stream, day), ids)

    def normal(self, stream: str, day: int, ids: np.ndarray) -> np.ndarray:
        """Standard normal draws for ``ids`` (Box-Muller over two sub-streams)."""
        u1 = self.uniform(f"{stream}/radius", day, ids)
        u2 = self.uniform(f"{stream}/angle", day, ids)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    def index(self, stream: str, day: int, ids: np.ndarray, n: int) -> np.ndarray:
        """Uniform integers in [0, n) for ``ids``."""
        return np.minimum((self.uniform(stream, day, ids) * n).astype(np.int64), n - 1)
