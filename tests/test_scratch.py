"""Scratch columns: set questions on ids answered in O(ids), the column left at rest."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xinyong.primitives.scratch import Scratch

SIZE = 50
ids_lists = st.lists(st.integers(0, SIZE - 1), max_size=80)


@given(ids_lists, ids_lists, st.lists(st.integers(-9, 9), min_size=80, max_size=80))
def test_local_gives_the_distinct_ids_and_where_each_id_stands(
    earlier: list[int], ids: list[int], values: list[int]
) -> None:
    scratch = Scratch(SIZE)
    scratch.local(np.array(earlier, dtype=np.int64))  # what it leaves behind is never read
    a = np.array(ids, dtype=np.int64)
    distinct, inverse = scratch.local(a)
    assert sorted(distinct.tolist()) == sorted(set(ids))
    np.testing.assert_array_equal(distinct, scratch.distinct(a))  # the same order
    np.testing.assert_array_equal(distinct[inverse], a)
    # What goes with the ids adds up per distinct id, as a dictionary would add it.
    sums = np.bincount(inverse, weights=values[: a.size], minlength=distinct.size)
    expected: Counter[int] = Counter()
    for i, v in zip(ids, values, strict=False):
        expected[i] += v
    assert dict(zip(distinct.tolist(), sums.astype(int).tolist(), strict=True)) == {
        i: expected[i] for i in set(ids)
    }
    np.testing.assert_array_equal(scratch.positions(distinct, a), inverse)


@given(ids_lists, ids_lists)
def test_membership_and_once_answer_as_sets_do(ids: list[int], of: list[int]) -> None:
    scratch = Scratch(SIZE)
    a, b = np.array(ids, dtype=np.int64), np.array(of, dtype=np.int64)
    scratch.once(b)  # what it leaves behind is never read
    assert scratch.member(a, b).tolist() == [i in set(of) for i in ids]
    assert not scratch._flag.any()  # back at rest for the next question
    once = scratch.once(a)
    assert sorted(a[once].tolist()) == sorted(set(ids))


def test_questions_about_more_ids_than_two_bytes_count_are_answered_alike() -> None:
    """A day's questions use two-byte positions; a larger one (day 0 of a city listing
    everyone) switches to four bytes, with the same answers."""
    rng = np.random.default_rng(5)
    scratch = Scratch(300_000)
    for count in (1_000, 70_000, 1_000, 200_000):
        ids = rng.integers(0, 300_000, count)
        distinct, inverse = scratch.local(ids)
        assert np.array_equal(np.sort(distinct), np.unique(ids))
        assert np.array_equal(distinct[inverse], ids)
        assert np.array_equal(ids[scratch.once(ids)], distinct)
        assert np.array_equal(scratch.positions(distinct, ids), inverse)
