"""Compiled kernels for the day's hottest loops, and the switch between them and NumPy.

Each kernel is a loop numba compiles to machine code, ``nogil``: the work on the second core
(tomorrow's draws, the counterfactual) then runs beside the day without waiting for the GIL.
Each draws exactly what the NumPy path draws, bit for bit: the keyed streams' SplitMix64
construction is integer arithmetic, and the logarithms are the C library's, as NumPy's are
on this machine (``tests/test_compiled.py`` runs both paths and compares them).

numba compiles a kernel the first time a run uses it and caches the machine code on disk
(``cache=True``: beside this file, or in the user's cache folder where the package is not
writable; ``NUMBA_CACHE_DIR`` chooses another), so only a machine's first run pays for it.
The NumPy path stays for platforms without numba: ``XINYONG_COMPILED=0`` chooses it, and so
does a missing numba.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np

__all__ = ["ON", "Rates", "below", "kernel", "pair_waits", "uniform", "waits"]

F = TypeVar("F", bound=Callable[..., Any])


def _numba() -> Any:
    if os.environ.get("XINYONG_COMPILED", "1") == "0":
        return None
    try:
        import numba
    except ImportError:  # a platform without the compiler: the NumPy path
        return None
    return numba


_NUMBA = _numba()
#: Whether the compiled kernels run (a test may switch them off to compare the two paths).
ON = _NUMBA is not None


def kernel(fn: F) -> F:
    """Compile ``fn`` (without the GIL, cached on disk, NumPy's rules for division by zero);
    without numba, ``fn`` stays as it is (its callers then take the NumPy path)."""
    if _NUMBA is None:
        return fn
    compiled: F = _NUMBA.njit(nogil=True, cache=True, error_model="numpy")(fn)
    return compiled


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


@kernel
def _draw(key: np.uint64, id_: np.uint64) -> float:
    """One keyed uniform in (0, 1): SplitMix64's finaliser of ``key XOR id * golden``, its top
    53 bits, centred (as :meth:`xinyong.primitives.streams.Streams.uniform_keyed`)."""
    z = (id_ * _GOLDEN) ^ key
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return (float(z >> np.uint64(11)) + 0.5) * _TO_UNIT


@kernel
def _key(keys: np.ndarray, k: np.ndarray, j: int) -> np.uint64:
    """The key of draw ``j``: ``keys[k[j]]``; with no ``k``, ``keys[j]``, or the one key."""
    if k.size:
        return keys[k[j]]
    return keys[0] if keys.size == 1 else keys[j]


@kernel
def _uniform(keys: np.ndarray, k: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    for j in range(ids.size):
        out[j] = _draw(_key(keys, k, j), np.uint64(ids[j]))
    return out


_NO_K = np.empty(0, dtype=np.int64)


def uniform(keys: np.ndarray | np.uint64, k: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    """Keyed uniforms in (0, 1), one per id ``ids[j]`` (a flat array), keyed by ``keys[k[j]]``;
    with ``k`` None, by ``keys[j]``, or by the one key given."""
    keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    return _uniform(keys, _NO_K if k is None else k, ids)


@kernel
def _below(keys: np.ndarray, k: np.ndarray, ids: np.ndarray, chance: np.ndarray) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.int64)
    m = 0
    for j in range(ids.size):
        if _draw(_key(keys, k, j), np.uint64(ids[j])) < chance[j]:
            out[m] = j
            m += 1
    return out[:m].copy()


def below(
    keys: np.ndarray, k: np.ndarray | None, ids: np.ndarray, chance: np.ndarray
) -> np.ndarray:
    """The positions ``j`` whose keyed uniform (as :func:`uniform`) falls below ``chance[j]``,
    in order: the events a sensor detects, say."""
    keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    return _below(keys, _NO_K if k is None else k, ids, chance)


@kernel
def _waits(
    keys: np.ndarray, k: np.ndarray, ids: np.ndarray, rate: np.ndarray, log_q: np.ndarray
) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    given = log_q.size > 0
    for j in range(ids.size):
        if rate[j] >= 1.0:  # it happens every day
            out[j] = 0.0
            continue
        u = _draw(_key(keys, k, j), np.uint64(ids[j]))
        out[j] = np.floor(np.log(u) / (log_q[j] if given else np.log1p(-rate[j])))
    return out


def waits(
    keys: np.ndarray | np.uint64,
    k: np.ndarray | None,
    ids: np.ndarray,
    rate: np.ndarray,
    log_q: np.ndarray | None = None,
) -> np.ndarray:
    """Days each pair waits for its next occurrence, drawn by inversion from the keyed
    uniform of (``keys[k[j]]``, ``ids[j]``) (``k`` None: as :func:`uniform`) at daily
    probability ``rate[j]`` (``log_q``: log(1 - rate), where known). Rate 1 waits 0 days; rate
    0 never comes (an infinite wait). As :func:`xinyong.model.behaviour.inverted` of
    :meth:`~xinyong.primitives.streams.Streams.uniform_keyed`, bit for bit."""
    empty = np.empty(0, dtype=np.float64)
    return _waits(
        np.atleast_1d(np.asarray(keys, dtype=np.uint64)),
        _NO_K if k is None else k,
        ids,
        rate,
        empty if log_q is None else log_q,
    )


class Rates(NamedTuple):
    """What a pair's daily probability is made of, as flat columns a kernel reads (the parts
    :meth:`xinyong.model.behaviour.Behaviours.rates` multiplies): per behaviour ``p``,
    ``positive`` (1: rewarded, where conduct and response divide), the listed response by
    (listed, behaviour) and the age limits; per subject the conduct factor, ages and response
    factors (empty: none); the fixed per-subject scales of some behaviours (``scale_k[i]`` is
    scaled by ``scales[i]``)."""

    p: np.ndarray
    positive: np.ndarray
    listed_factor: np.ndarray
    conduct: np.ndarray
    ages: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    response: np.ndarray
    scale_k: np.ndarray
    scales: tuple[np.ndarray, ...]


@kernel
def _pair_waits(
    keys: np.ndarray,
    pairs: np.ndarray,
    n_k: int,
    base: int,
    listed: np.ndarray,
    r: Rates,
) -> np.ndarray:
    out = np.empty(pairs.size, dtype=np.float64)
    aged, responding = r.ages.size > 0, r.response.size > 0
    for j in range(pairs.size):
        subject = pairs[j] // n_k
        k = pairs[j] - subject * n_k
        # In the order Behaviours.rates multiplies, so that every rounding is the same.
        c = r.conduct[subject]
        rate = r.p[k] * (1.0 / c if r.positive[k] == 1 else c)
        rate *= r.listed_factor[np.int64(listed[subject]) * n_k + k]
        if aged:
            age = r.ages[subject]
            rate *= 1.0 if r.min_age[k] <= age <= r.max_age[k] else 0.0
        if responding:
            f = r.response[subject]
            rate *= 1.0 / f if r.positive[k] == 1 else f
        for i in range(r.scale_k.size):
            if r.scale_k[i] == k:
                rate *= r.scales[i][subject]
        rate = min(rate, 1.0)
        if rate >= 1.0:  # it happens every day
            out[j] = 0.0
            continue
        u = _draw(keys[k], np.uint64(subject + base))
        out[j] = np.floor(np.log(u) / np.log1p(-rate))
    return out


def pair_waits(
    keys: np.ndarray, pairs: np.ndarray, n_k: int, base: int, listed: np.ndarray, rates: Rates
) -> np.ndarray:
    """Days each packed ``subject * n_k + behaviour`` pair waits for its next occurrence: its
    rate (as :meth:`xinyong.model.behaviour.Behaviours.rates`) and its wait (as
    :func:`waits`), in one pass, bit for bit."""
    return _pair_waits(keys, pairs, n_k, base, listed, rates)
