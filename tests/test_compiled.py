"""The compiled kernels draw what the NumPy path draws, bit for bit: kernel by kernel, and a
whole run's every stored table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_behaviour import schedules

import xinyong
from xinyong.model.behaviour import Behaviours, _inverted
from xinyong.primitives import compiled
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, ListedResponse

needs_numba = pytest.mark.skipif(not compiled.ON, reason="numba is not installed here")

rates = st.one_of(
    st.sampled_from([0.0, 1.0, 1e-12, 0.5, 1 - 1e-12]),
    st.floats(0.0, 1.0, allow_nan=False),
    st.floats(1e-9, 1e-3),
)


@needs_numba
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 4), rates), min_size=1, max_size=60),
)
def test_a_kernel_draws_the_waits_numpy_draws(keys: list[int], pairs: list[tuple]) -> None:
    key = np.array(keys, dtype=np.uint64)
    ids = np.array([p[0] for p in pairs], dtype=np.int64)
    k = np.array([p[1] % key.size for p in pairs], dtype=np.int64)
    rate = np.array([p[2] for p in pairs], dtype=np.float64)
    u = Streams.uniform_keyed(key[k], ids)
    assert np.array_equal(compiled.uniform(key, k, ids), _numpy_uniform(key[k], ids))
    assert np.array_equal(compiled.waits(key, k, ids, rate), _inverted(u, rate), equal_nan=True)
    log_q = np.log1p(-rate)
    with np.errstate(divide="ignore"):
        assert np.array_equal(
            compiled.waits(key, k, ids, rate, log_q), _inverted(u, rate, log_q), equal_nan=True
        )
    assert np.array_equal(compiled.uniform(key[0], None, ids), _numpy_uniform(key[0], ids))
    assert np.array_equal(compiled.below(key, k, ids, rate), np.flatnonzero(u < rate))


@needs_numba
@settings(max_examples=150, deadline=None)
@given(schedules())
def test_a_kernel_files_the_pairs_numpy_files(case: tuple) -> None:
    """Each pair's rate (conduct, listing or a state's row of factors, ages, response, fixed
    scales; or a behaviour's one rate), its wait and its day in the calendar in one kernel:
    what Behaviours.rates, the NumPy inversion and the calendar's stable sort give, bit for
    bit, pairs in the same order."""
    schedule, listed, subjects, day = case
    pairs = (subjects[:, None] * schedule.k + np.arange(schedule.k)).ravel()
    fast = schedule.next_filing(day, pairs, listed), schedule.next_filing(day, pairs[::-1], listed)
    was, compiled.ON = compiled.ON, False
    try:
        slow = (
            schedule.next_filing(day, pairs, listed),
            schedule.next_filing(day, pairs[::-1], listed),
        )
    finally:
        compiled.ON = was
    for (ids, counts), (ids_slow, counts_slow) in zip(fast, slow, strict=True):
        assert ids.dtype == ids_slow.dtype == schedule.calendar.dtype
        assert np.array_equal(ids, ids_slow) and np.array_equal(counts, counts_slow)


@needs_numba
def test_the_kernels_read_the_rates_of_a_dated_change() -> None:
    """After a dated change (``retune``), the kernels read the new rates and listed factors,
    as the NumPy path does (they once kept reading those of the set-up)."""
    n = 500
    schedule = Behaviours(
        [
            Behaviour(name="a", p=0.01, sensor="camera"),
            Behaviour(name="b", p=0.01, sensor="camera"),
        ],
        [True, False],
        ListedResponse(negative=1.0, positive=1.0),
        100,
        np.linspace(0.5, 2.0, n),
        Streams(1),
        Scratch(n),
    )
    listed = np.arange(n) % 2 == 0
    changed = [
        Behaviour(name="a", p=0.5, sensor="camera"),
        Behaviour(name="b", p=0.2, sensor="camera"),
    ]
    assert schedule.retune(5, changed, ListedResponse(negative=0.3, positive=2.0), listed)
    pairs = np.arange(2 * n, dtype=np.int64)
    fast = schedule.next_filing(10, pairs, listed)
    was, compiled.ON = compiled.ON, False
    try:
        slow = schedule.next_filing(10, pairs, listed)
    finally:
        compiled.ON = was
    assert fast[0].size > 0
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])


def _numpy_uniform(keys: np.ndarray | np.uint64, ids: np.ndarray) -> np.ndarray:
    was, compiled.ON = compiled.ON, False
    try:
        return Streams.uniform_keyed(keys, ids)
    finally:
        compiled.ON = was


@needs_numba
@pytest.mark.parametrize("name", ["rongcheng", "reference"])
def test_a_run_is_the_same_compiled_or_not(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def tables() -> dict[str, object]:
        with xinyong.simulate(name, citizens=4000, days=60, seed=4) as run:
            names = run.query("SELECT table_name FROM information_schema.tables")["table_name"]
            out: dict[str, object] = {
                t: run.query(f'SELECT * FROM "{t}"') for t in names if t != "run_info"
            }  # run_info holds the summary, with its wall time
            out["summary"] = {k: v for k, v in run.summary.items() if k != "wall_seconds"}
            return out

    compiled_run = tables()
    monkeypatch.setattr(compiled, "ON", False)
    numpy_run = tables()
    assert compiled_run.keys() == numpy_run.keys()
    for table, frame in compiled_run.items():
        other = numpy_run[table]
        if isinstance(frame, dict):
            assert frame == other, table
        else:
            assert frame.equals(other), table  # every row, in stored order


@needs_numba
@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 30), st.lists(st.integers(0, 4 * 20 - 1), max_size=30)),
        max_size=8,
    ),
    st.lists(st.integers(-2, 30), min_size=20, max_size=20),
)
def test_a_kernel_drops_the_stale_entries_numpy_drops(filings: list, redrawn: list) -> None:
    """A day's entries, filing by filing, without those whose subject was drawn again whole
    after the filing's day: the kernel keeps what NumPy keeps, in the same order."""
    pairs = np.array([p for _, ps in filings for p in ps], dtype=np.int32)
    sizes = np.array([len(ps) for _, ps in filings], dtype=np.int64)
    tags = np.array([t for t, _ in filings], dtype=np.int64)
    redrawn_on = np.array(redrawn, dtype=np.int16)
    kept = pairs[redrawn_on[pairs // 4] <= np.repeat(tags, sizes)].astype(np.int64)
    got = compiled.fresh(pairs, sizes, tags, redrawn_on, 4)
    assert got.dtype == np.int64 and np.array_equal(got, kept)
