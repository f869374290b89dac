"""Keyed random streams: addressed draws that are uniform, independent and reproducible."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.primitives.streams import Streams


def test_same_address_same_draw_and_seeds_differ() -> None:
    ids = np.arange(1000)
    a, b = Streams(1), Streams(1)
    assert np.array_equal(a.uniform("x", 3, ids), b.uniform("x", 3, ids))
    assert not np.array_equal(a.uniform("x", 3, ids), Streams(2).uniform("x", 3, ids))
    assert not np.array_equal(a.uniform("x", 3, ids), a.uniform("x", 4, ids))
    assert not np.array_equal(a.uniform("x", 3, ids), a.uniform("y", 3, ids))


@given(st.lists(st.integers(0, 2**40), min_size=1, max_size=50), st.integers(0, 2**32))
def test_a_draw_depends_only_on_its_address(ids: list[int], seed: int) -> None:
    """Asking for a subset, in any order, gives the same draws: blocks split exactly."""
    s = Streams(seed)
    arr = np.array(ids, dtype=np.int64)
    whole = s.uniform("behaviour/jaywalking", 7, arr)
    for i, citizen in enumerate(ids):
        assert s.uniform("behaviour/jaywalking", 7, np.array([citizen]))[0] == whole[i]
    assert ((whole > 0) & (whole < 1)).all()


def test_uniform_is_uniform() -> None:
    u = Streams(5).uniform("u", 0, np.arange(400_000))
    counts, _ = np.histogram(u, bins=100, range=(0, 1))
    expected = u.size / 100
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 160  # 99 degrees of freedom: p ~ 1e-4
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)


def test_streams_and_neighbours_are_uncorrelated() -> None:
    s = Streams(9)
    ids = np.arange(200_000)
    a, b, c = s.uniform("a", 0, ids), s.uniform("b", 0, ids), s.uniform("a", 1, ids)
    bound = 4 / np.sqrt(ids.size)
    assert abs(np.corrcoef(a, b)[0, 1]) < bound
    assert abs(np.corrcoef(a, c)[0, 1]) < bound
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < bound  # consecutive citizens


def test_normal_moments() -> None:
    z = Streams(3).normal("conduct", -1, np.arange(300_000))
    assert abs(z.mean()) < 0.01
    assert abs(z.std() - 1) < 0.01
    assert abs((z > 1.96).mean() - 0.025) < 0.002


def test_index_stays_in_range() -> None:
    k = Streams(1).index("pick", 0, np.arange(50_000), 7)
    assert k.min() == 0 and k.max() == 6
    assert np.bincount(k).min() > 50_000 / 7 * 0.9


def test_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1)


@given(
    st.lists(
        st.tuples(st.lists(st.integers(-2, 12), min_size=0, max_size=8), st.integers(0, 5)),
        max_size=6,
    )
)
def test_a_calendar_pickles_packed_and_comes_back_the_same(filings: list) -> None:
    import pickle

    from xinyong.primitives.calendar import Calendar

    calendar = Calendar(10, np.int32)
    for days, tag in filings:
        when = np.array(days, dtype=np.int64)
        calendar.add(when, np.arange(when.size) + 100 * tag, tag=tag)
    calendar.add_all(4, np.array([7, 8], dtype=np.int32))
    state = calendar.__getstate__()
    assert sum(isinstance(v, np.ndarray) for v in state["_packed"]) == 4  # a few arrays
    again = pickle.loads(pickle.dumps(calendar))
    for day in range(10):
        (ids, tags), (ids2, tags2) = calendar.pop_tagged(day), again.pop_tagged(day)
        assert ids.tolist() == ids2.tolist() and tags.tolist() == tags2.tolist()


def test_a_key_is_the_same_however_often_and_after_however_many_others() -> None:
    s = Streams(11)
    first = s.key("behaviour/fraud", 3)
    for day in range(5000):  # more than the keys kept: the cache is emptied on the way
        s.key("detect/fraud", day)
    assert s.key("behaviour/fraud", 3) == first == Streams(11).key("behaviour/fraud", 3)
    assert pickle.loads(pickle.dumps(s)).key("behaviour/fraud", 3) == first
