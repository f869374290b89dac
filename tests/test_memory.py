"""What a city keeps per citizen: a budget, checked on the layout, not on a clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import xinyong
from xinyong.engine.city import City
from xinyong.engine.memory import state_bytes
from xinyong.model.sensors import Events


def test_the_reference_rules_keep_at_most_64_bytes_per_citizen() -> None:
    scenario = xinyong.load_scenario("reference").with_sizes(citizens=200_000, days=365)
    city = City(scenario, 0, None, threads=False)  # as a one-core worker holds it
    for _ in range(30):
        city.step()
    per_citizen = state_bytes(city) / scenario.citizens
    assert 40 < per_citizen <= 64, per_citizen


def test_state_bytes_counts_a_shared_buffer_once() -> None:
    column = np.zeros(1000, dtype=np.int64)
    holder = {"a": column, "b": column[10:], "c": [column[:5]]}
    assert state_bytes(holder) == column.nbytes


class _Slotted:
    __slots__ = ("__private", "column", "unset")

    def __init__(self, column: np.ndarray, private: np.ndarray) -> None:
        self.column = column
        self.__private = private


class _SlottedChild(_Slotted):
    __slots__ = "extra"

    def __init__(self, column: np.ndarray, private: np.ndarray, extra: np.ndarray) -> None:
        super().__init__(column, private)
        self.extra = extra


class _DictChild(_Slotted):
    """No ``__slots__`` of its own: a ``__dict__`` beside the slots of its base."""

    def __init__(self, column: np.ndarray, private: np.ndarray) -> None:
        super().__init__(column, private)
        self.in_dict = column[::2]  # a view of the slotted column


@dataclass(frozen=True, slots=True)
class _SlottedRecord:
    values: np.ndarray
    inner: _Slotted


def test_state_bytes_sees_arrays_in_slots_including_private_and_unset_ones() -> None:
    obj = _Slotted(np.zeros(100, dtype=np.int64), np.zeros(10, dtype=np.int8))
    assert state_bytes(obj) == 800 + 10


def test_state_bytes_walks_the_slots_of_every_class_in_the_mro() -> None:
    obj = _SlottedChild(
        np.zeros(100, dtype=np.int64), np.zeros(10, dtype=np.int8), np.zeros(7, dtype=np.int32)
    )
    assert state_bytes(obj) == 800 + 10 + 28


def test_state_bytes_counts_a_buffer_shared_by_a_slot_and_a_dict_once() -> None:
    obj = _DictChild(np.zeros(100, dtype=np.int64), np.zeros(10, dtype=np.int8))
    assert state_bytes(obj) == 800 + 10


def test_state_bytes_sees_slotted_dataclasses_and_what_they_hold() -> None:
    column = np.zeros(50, dtype=np.float64)
    record = _SlottedRecord(values=column, inner=_Slotted(column[5:], np.zeros(3, np.int8)))
    assert state_bytes({"record": record}) == 400 + 3


def test_state_bytes_sees_the_engines_slotted_events() -> None:
    events = Events(
        actor=np.zeros(10, np.int64),
        subject=np.zeros(10, np.int64),
        behaviour=np.zeros(10, np.int16),
        misattributed=np.zeros(10, bool),
        fabricated=np.zeros(10, bool),
    )
    assert state_bytes([events]) == 80 + 80 + 20 + 10 + 10
