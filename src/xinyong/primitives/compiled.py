"""Compiled kernels for the day's hottest loops, and the switch between them and NumPy.

Each kernel is a loop numba compiles to machine code without the GIL, so the work on the
second core (tomorrow's draws, the whole redraws' waits) runs beside the day without waiting
for the main thread to let go of it. Each draws exactly what the NumPy path draws, bit for
bit: the keyed streams' SplitMix64 construction is integer arithmetic, the rates multiply in
the NumPy code's order, and the logarithms are the C library's, as NumPy's are on this machine
(``tests/test_compiled.py`` runs both paths and compares them).

The kernels are compiled the first time a process asks for one, and their machine code is
cached on disk (``cache=True``: beside this file, or in the user's cache folder where the
package is not writable; ``NUMBA_CACHE_DIR`` chooses another), so only a machine's first run
pays for the compilation, and a process that does not simulate never imports numba. The
NumPy path stays for platforms without numba: ``XINYONG_COMPILED=0`` chooses it, and so does
a missing numba.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import NamedTuple

import numpy as np

__all__ = ["ON", "Rates", "below", "filing", "fresh", "uniform", "waits"]

#: Whether the compiled kernels run: numba is installed and ``XINYONG_COMPILED`` is not 0 (a
#: test may switch them off to compare the two paths).
ON = (
    os.environ.get("XINYONG_COMPILED", "1") != "0" and importlib.util.find_spec("numba") is not None
)

#: The kernels, each after those it calls.
_KERNELS = (
    "_draw",
    "_key",
    "_uniform",
    "_below",
    "_waits",
    "_due_days",
    "_by_day",
    "_fresh",
)
_ready = threading.Event()
_compiling = threading.Lock()


def _compile() -> None:
    """Compile every kernel (or load it from the cache) the first time one is asked for, so
    that numba's import (about a second and 70 MB) is paid only by a process that simulates:
    without the GIL, cached on disk, with NumPy's rules for a division by zero."""
    if _ready.is_set():
        return
    with _compiling:  # the second core may ask at the same time
        if _ready.is_set():
            return
        import numba

        here = globals()
        for name in _KERNELS:  # a kernel calls those compiled before it
            here[name] = numba.njit(nogil=True, cache=True, error_model="numpy")(here[name])
        _ready.set()


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


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


def _key(keys: np.ndarray, k: np.ndarray, j: int) -> np.uint64:
    """The key of draw ``j``: ``keys[k[j]]``; with no ``k``, ``keys[j]``, or the one key."""
    if k.size:
        return keys[k[j]]
    return keys[0] if keys.size == 1 else keys[j]


def _uniform(keys: np.ndarray, k: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float64)
    for j in range(ids.size):
        out[j] = _draw(_key(keys, k, j), np.uint64(ids[j]))
    return out


_NO_K = np.empty(0, dtype=np.int64)


def uniform(keys: np.ndarray | np.uint64, k: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    """Keyed uniforms in (0, 1), one per id ``ids[j]`` (a flat array), keyed by ``keys[k[j]]``;
    with ``k`` None, by ``keys[j]``, or by the one key given."""
    _compile()
    keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    return _uniform(keys, _NO_K if k is None else k, ids)


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
    _compile()
    keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    return _below(keys, _NO_K if k is None else k, ids, chance)


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
    0 never comes (an infinite wait). As ``xinyong.model.behaviour._inverted`` of
    :meth:`~xinyong.primitives.streams.Streams.uniform_keyed`, bit for bit."""
    _compile()
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


def _due_days(
    keys: np.ndarray,
    pairs: np.ndarray,
    n_k: int,
    base: int,
    listed: np.ndarray,
    r: Rates,
    log_q: np.ndarray,
    constant: bool,
    drawn_on: int,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    due = np.empty(pairs.size, dtype=np.int32)
    counts = np.zeros(days, dtype=np.int64)
    horizon = days - 1 - drawn_on  # a wait of this many days or more falls after it
    aged, responding, scaled = r.ages.size > 0, r.response.size > 0, r.scale_k.size > 0
    # Two passes: first every pair's rate, a loop of scattered reads (the subjects' columns)
    # that the core overlaps many at a time; then the draws, the logarithms and the days. In
    # one pass each pair's reads waited behind the last pair's logarithms: the reference
    # city-year took 1.15 x as long (README, "The compiled core against the NumPy path").
    rates = np.empty(pairs.size, dtype=np.float64)
    for j in range(pairs.size):
        subject = pairs[j] // n_k
        k = pairs[j] - subject * n_k
        if constant:  # a behaviour's one rate, as Behaviours._waits takes it
            rate = r.p[k]
        else:  # in the order Behaviours.rates multiplies, so that every rounding is the same
            c = r.conduct[subject]
            rate = r.p[k] * (1.0 / c if r.positive[k] == 1 else c)
            rate *= r.listed_factor[np.int64(listed[subject]) * n_k + k]
            if aged:
                age = r.ages[subject]
                rate *= 1.0 if r.min_age[k] <= age <= r.max_age[k] else 0.0
            if responding:
                f = r.response[subject]
                rate *= 1.0 / f if r.positive[k] == 1 else f
            if scaled:
                for i in range(r.scale_k.size):
                    if r.scale_k[i] == k:
                        rate *= r.scales[i][subject]
            rate = min(rate, 1.0)
        rates[j] = rate
    for j in range(pairs.size):
        subject = pairs[j] // n_k
        k = pairs[j] - subject * n_k
        rate = rates[j]
        if rate >= 1.0:  # it happens every day
            wait = 0.0
        else:
            # A rate equal to its behaviour's p (most pairs: nobody listed, no factor of
            # their own) reads log1p(-p) from log_q, the same number, instead of computing it.
            u = _draw(keys[k], np.uint64(subject + base))
            wait = np.floor(np.log(u) / (log_q[k] if rate == r.p[k] else np.log1p(-rate)))
        if wait < horizon:
            day = drawn_on + 1 + np.int64(wait)
            due[j] = day
            counts[day] += 1
        else:
            due[j] = -1
    return due, counts


def _by_day(pairs: np.ndarray, due: np.ndarray, counts: np.ndarray, out: np.ndarray) -> None:
    at = np.empty(counts.size, dtype=np.int64)  # where each day's next pair goes
    start = 0
    for day in range(counts.size):
        at[day] = start
        start += counts[day]
    for j in range(pairs.size):
        day = due[j]
        if day >= 0:
            out[at[day]] = pairs[j]
            at[day] += 1


def filing(
    keys: np.ndarray,
    pairs: np.ndarray,
    n_k: int,
    base: int,
    listed: np.ndarray,
    rates: Rates,
    log_q: np.ndarray,
    constant: bool,
    drawn_on: int,
    days: int,
    dtype: type,
) -> tuple[np.ndarray, np.ndarray]:
    """The next occurrence after ``drawn_on`` of each packed pair, sorted for a calendar of
    ``days``: the pairs due within the horizon, day by day in their given order (as a stable
    sort), kept as ``dtype``, and how many fall on each day. Each pair's rate is the one
    ``Behaviours.rates`` gives (``constant``: its behaviour's one rate) and its wait the one
    :func:`waits` draws (``log_q``: each behaviour's ``log1p(-p)``), bit for bit; without
    the GIL, with the rates and the days as its only temporary columns."""
    _compile()
    due, counts = _due_days(keys, pairs, n_k, base, listed, rates, log_q, constant, drawn_on, days)
    out: np.ndarray = np.empty(int(counts.sum()), dtype=dtype)
    _by_day(pairs, due, counts, out)
    return out, counts


def _fresh(
    pairs: np.ndarray, sizes: np.ndarray, tags: np.ndarray, redrawn_on: np.ndarray, n_k: int
) -> np.ndarray:
    out = np.empty(pairs.size, dtype=np.int64)
    m, start = 0, 0
    for i in range(sizes.size):  # filing by filing, each with the day it was drawn on
        drawn_on = tags[i]
        for j in range(start, start + sizes[i]):
            if redrawn_on[pairs[j] // n_k] <= drawn_on:
                out[m] = pairs[j]
                m += 1
        start += sizes[i]
    return out[:m].copy()


def fresh(
    pairs: np.ndarray, sizes: np.ndarray, tags: np.ndarray, redrawn_on: np.ndarray, n_k: int
) -> np.ndarray:
    """The packed pairs, filed ``sizes[i]`` at a time on day ``tags[i]``, whose subject has
    not been drawn again whole since (``redrawn_on`` no later than the filing's day), in
    order, as ``int64``: a day's occurrences without the stale entries."""
    _compile()
    return _fresh(pairs, sizes, tags, redrawn_on, n_k)
