"""Families: what each household is made of (adults, children, elderly relatives) and their ages.

The first step of :func:`~xinyong.model.population.generate_population`: a household's type,
its number of children and of elderly relatives are drawn by household id
(:func:`draw_compositions`), then each member's age, consistent within the household: parents
older than their eldest child, grandparents older than the parents (:func:`draw_ages`). The
roles (:data:`ADULT`, :data:`CHILD`, :data:`ELDERLY`) are defined here because a household's
composition is what gives them. (Who lives with whom once the city exists is
:mod:`xinyong.model.households`.)

Every draw comes from the run's keyed streams on day ``SETUP``, streams
``population/household-type``, ``population/children``, ``population/elderly-count`` and
``population/age/...``, addressed by household or citizen id.
"""

from __future__ import annotations

import numpy as np

from xinyong.model.weighted import categorical, checked_weights
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import PopulationSpec

__all__ = ["ADULT", "CHILD", "ELDERLY", "HOUSEHOLD_TYPES", "draw_ages", "draw_compositions"]

#: Roles of a citizen in their household.
ADULT, CHILD, ELDERLY = 0, 1, 2
#: Household types, in the order of the fields of ``HouseholdMix``.
HOUSEHOLD_TYPES = (
    "single",
    "couple",
    "couple_children",
    "single_parent",
    "three_generations",
    "elderly",
)

# Composition of each household type (same order as HOUSEHOLD_TYPES): adults aged 18-64, whether
# it has children (1..len(children_weights) of them), and its elderly relatives (0, or 1 or 2).
_TYPE_ADULTS = np.array([1, 2, 2, 1, 2, 0], dtype=np.int64)
_TYPE_HAS_CHILDREN = np.array([False, False, True, True, True, False])
_TYPE_HAS_ELDERLY = np.array([False, False, False, False, True, True])
# Chance that a household with elderly members has two of them rather than one: assumption
# (a surviving couple as often as a widowed grandparent).
_TYPE_P_TWO_ELDERLY = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.5])

# Ages in years. Bands are the roles' definitions; the shapes within them are assumptions.
_ADULT_MIN, _ADULT_MAX = 18, 64
_CHILD_MAX = 17
_ELDERLY_MIN, _ELDERLY_MAX = 65, 95
# A parent's age when their eldest child was born: uniform 20-40 years (assumption). The eldest
# child is at most 17, so parents are 20-57: always within the adult band, always >= 20.
_PARENT_GAP_MIN, _PARENT_GAP_MAX = 20, 40
# Ages above 65 fall off like a truncated exponential with this scale in years (assumption,
# a rough stand-in for mortality after 65).
_ELDERLY_AGE_SCALE = 10.0
# A grandparent is at least this many years older than the eldest parent (assumption).
_GRANDPARENT_GAP = 20


def _compose(
    streams: Streams, ids: np.ndarray, type_w: np.ndarray, kids_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adults, children and elderly of households ``ids``, each a pure function of its id."""
    kind = categorical(streams.uniform("population/household-type", SETUP, ids), type_w)
    adults = _TYPE_ADULTS[kind]
    kids = 1 + categorical(streams.uniform("population/children", SETUP, ids), kids_w)
    kids = np.where(_TYPE_HAS_CHILDREN[kind], kids, 0)
    two = streams.uniform("population/elderly-count", SETUP, ids) < _TYPE_P_TWO_ELDERLY[kind]
    elderly = np.where(_TYPE_HAS_ELDERLY[kind], 1 + two, 0)
    return adults, kids, elderly


def draw_compositions(
    spec: PopulationSpec, citizens: int, streams: Streams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compositions of just enough households for ``citizens``, the last one cut to fit.

    Households are drawn in batches by id until they hold ``citizens`` people; since each is a
    pure function of its id, the batching does not change the city.

    Args:
        spec: gives ``households`` (the mix of types) and ``children_weights``.
        citizens: how many people the households hold in all.
        streams: the run's random streams.

    Returns:
        ``(adults, kids, elderly)``: per household, its number of adults (18-64), children and
        elderly relatives (65+), in household id order.

    Raises:
        ValueError: if ``households`` or ``children_weights`` cannot be sampled from.
    """
    type_w = checked_weights("households", [getattr(spec.households, t) for t in HOUSEHOLD_TYPES])
    kids_w = checked_weights("children_weights", spec.children_weights)
    mean_kids = 1 + (np.arange(kids_w.size) * kids_w).sum() / kids_w.sum()
    mean_size = (
        type_w
        * (
            _TYPE_ADULTS
            + _TYPE_HAS_CHILDREN * mean_kids
            + _TYPE_HAS_ELDERLY * (1 + _TYPE_P_TWO_ELDERLY)
        )
    ).sum() / type_w.sum()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    drawn, people = 0, 0
    while people < citizens:
        # 5% more than expected, so one batch almost always suffices.
        count = int(np.ceil((citizens - people) / mean_size * 1.05)) + 16
        part = _compose(streams, np.arange(drawn, drawn + count), type_w, kids_w)
        parts.append(part)
        drawn += count
        people += int((part[0] + part[1] + part[2]).sum())
    adults, kids, elderly = (np.concatenate(col) for col in zip(*parts, strict=True))
    end = np.cumsum(adults + kids + elderly)
    last = int(np.searchsorted(end, citizens))  # the first household reaching `citizens`
    adults, kids, elderly = adults[: last + 1], kids[: last + 1], elderly[: last + 1]
    # Cut the last household in member order (adults, children, elderly): a child is only kept
    # if every adult of the household was, so no child is left alone.
    room = citizens - (int(end[last - 1]) if last else 0)
    adults[last] = min(adults[last], room)
    kids[last] = min(kids[last], room - adults[last])
    elderly[last] = room - adults[last] - kids[last]
    return adults, kids, elderly


def _elderly_ages(u: np.ndarray) -> np.ndarray:
    """Ages 65..95 from uniforms: a truncated exponential of scale ``_ELDERLY_AGE_SCALE``."""
    span = _ELDERLY_MAX - _ELDERLY_MIN + 1
    years = -_ELDERLY_AGE_SCALE * np.log1p(-u * -np.expm1(-span / _ELDERLY_AGE_SCALE))
    return _ELDERLY_MIN + np.minimum(years.astype(np.int64), span - 1)


def draw_ages(
    streams: Streams,
    role: np.ndarray,
    household: np.ndarray,
    start: np.ndarray,
    adults: np.ndarray,
    kids: np.ndarray,
) -> np.ndarray:
    """Each citizen's age in years, consistent within the household (see generate_population).

    Args:
        streams: the run's random streams.
        role: per citizen, :data:`ADULT`, :data:`CHILD` or :data:`ELDERLY`.
        household: per citizen, its household id.
        start: per household, the citizen id of its first member.
        adults: per household, its number of adults.
        kids: per household, its number of children.

    Returns:
        int8 ages in years, one per citizen.
    """
    age = np.empty(role.size, dtype=np.int8)
    child = np.flatnonzero(role == CHILD)
    child_age = streams.index("population/age/child", SETUP, child, _CHILD_MAX + 1)
    age[child] = child_age
    # Eldest child per household: children are contiguous, so reduce over each household's run.
    eldest = np.full(adults.size, -1, dtype=np.int64)
    with_kids = kids > 0
    if child.size:
        runs = (np.cumsum(kids) - kids)[with_kids]
        eldest[with_kids] = np.maximum.reduceat(child_age, runs)

    adult = np.flatnonzero(role == ADULT)
    their_eldest = eldest[household[adult]]
    free = _ADULT_MIN + streams.index(
        "population/age/adult", SETUP, adult, _ADULT_MAX - _ADULT_MIN + 1
    )
    gap = _PARENT_GAP_MIN + streams.index(
        "population/age/parent-gap", SETUP, adult, _PARENT_GAP_MAX - _PARENT_GAP_MIN + 1
    )
    age[adult] = np.where(their_eldest >= 0, their_eldest + gap, free)

    old = np.flatnonzero(role == ELDERLY)
    old_age = _elderly_ages(streams.uniform("population/age/elderly", SETUP, old))
    # Adults come first in a household, so its eldest adult is its first or its last adult.
    h = household[old]
    first, last = start[h], start[h] + np.maximum(adults[h] - 1, 0)
    eldest_adult = np.where(adults[h] > 0, np.maximum(age[first], age[last]), 0)
    age[old] = np.clip(
        np.maximum(old_age, eldest_adult + _GRANDPARENT_GAP), _ELDERLY_MIN, _ELDERLY_MAX
    )
    return age
