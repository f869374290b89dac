"""The behaviour schedule: a subject whose rates change has every behaviour drawn again, and the
calendar holds, day by day, what one filing of the day's pairs and those redraws gives."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.model.behaviour import Behaviours
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, ListedResponse

N = 40


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Behaviours, np.ndarray, np.ndarray, int]:
    k = draw(st.integers(1, 5))
    rates = st.floats(0.0, 1.0, allow_nan=False)
    behaviours = [
        Behaviour(
            name=f"b{i}",
            p=draw(rates),
            sensor="camera",
            min_age=draw(st.integers(0, 40)),
            max_age=draw(st.integers(30, 200)),
        )
        for i in range(k)
    ]
    harmful = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    factors = st.lists(st.floats(0.2, 5.0), min_size=N, max_size=N).map(np.array)
    response = ListedResponse(
        negative=draw(st.floats(0.0, 3.0)), positive=draw(st.floats(0.0, 3.0))
    )
    ages = np.array(draw(st.lists(st.integers(0, 90), min_size=N, max_size=N)))
    # One rate a behaviour for everyone (service uses), or factors of each subject's own.
    plain = draw(st.booleans())
    conduct = np.ones(N) if plain else draw(factors)
    if plain:
        response = ListedResponse(negative=1.0, positive=1.0)
    responses = None if plain else draw(st.none() | factors)
    scales = {} if plain else {i: draw(factors) / 5.0 for i in draw(st.sets(st.integers(0, k - 1)))}
    # A listed flag, or an integer state read in a table of a row per state (service uses:
    # a bit per service that remembers its refusals), row 0 all ones.
    bits = 0 if plain else draw(st.integers(0, 3))
    table = None
    if bits:
        cells = st.floats(0.0, 20.0, allow_nan=False)
        rows = [[1.0] * k] + [
            draw(st.lists(cells, min_size=k, max_size=k)) for _ in range(1, 2**bits)
        ]
        table = np.array(rows)
    schedule = Behaviours(
        behaviours,
        harmful,
        response,
        60,
        conduct,
        Streams(3),
        Scratch(N),
        ages=ages,
        responses=responses,
        base=draw(st.integers(0, 1000)),
        scales=scales,
        listed_factors=table,
    )
    listed = np.array(draw(st.lists(st.booleans(), min_size=N, max_size=N)))
    if table is not None:
        states = st.integers(0, 2**bits - 1)
        dtype = draw(st.sampled_from([np.uint8, np.uint16]))
        listed = np.array(draw(st.lists(states, min_size=N, max_size=N)), dtype=dtype)
    subjects = np.array(sorted(draw(st.sets(st.integers(0, N - 1), max_size=N))), dtype=np.int64)
    return schedule, listed, subjects, draw(st.integers(-1, 58))


@settings(max_examples=150, deadline=None)
@given(schedules(), st.data())
def test_a_redraw_files_what_one_sorted_filing_gives(case: tuple, data: st.DataObject) -> None:
    """The day's pairs, without those of the subjects drawn again whole, then every pair of
    those subjects: each day of the calendar holds them in the order that drawing all of them
    and sorting them stably by day gives, each drawn at its own rate, bit for bit."""
    schedule, listed, subjects, day = case
    occurred = np.array(
        sorted(data.draw(st.sets(st.integers(0, N * schedule.k - 1), max_size=3 * N))),
        dtype=np.int64,
    )
    expected = pickle.loads(pickle.dumps(schedule))
    schedule.reschedule(day, occurred, subjects, listed)
    kept = occurred[~np.isin(occurred // schedule.k, subjects)]
    every = (subjects[:, None] * schedule.k + np.arange(schedule.k)).ravel()
    pairs = np.concatenate([kept, every])
    expected.calendar.add(*expected._due(day, pairs, expected._waits(day, pairs, listed)), tag=day)
    assert schedule.calendar.days == 60
    for later in range(60):
        got, want = schedule.calendar.pop_tagged(later), expected.calendar.pop_tagged(later)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
