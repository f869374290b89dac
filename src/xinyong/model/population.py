"""The synthetic population: who the citizens are, where they live, whom they live and work with.

Two layers:

- :func:`conduct_factors`: for the reference city a citizen is only an index and a conduct
  factor ``c``, drawn from a log-normal with mu 0 and sigma ``conduct_lognormal_sigma``: c > 1
  does more of what is penalised and less of what is rewarded.
- :func:`generate_population`: a whole synthetic city as columns (:class:`Population`):
  households with parents, children and elderly relatives, districts and neighbourhoods, income
  bands, companies and government organisations with their legal representatives.

This module holds the columns and puts a city together; its steps live alongside:
:mod:`~xinyong.model.families` draws households and ages, :mod:`~xinyong.model.employers` the
organisations and whom they employ, :mod:`~xinyong.model.weighted` the categorical draws they
share. The names the rest of the code imports (roles, kinds of organisation, household types,
identities) are re-exported here, so this stays the one import path for the population.

Every citizen is synthetic; nothing here reads data about people. Names, identity numbers and
credit codes are computed on demand from ids (:func:`citizen_name`, :func:`identity_number`,
:func:`credit_code`, in :mod:`~xinyong.model.identities`), are visibly synthetic, and are built
so that they cannot be mistaken for, or collide with, a real person's or company's identifiers.

Every draw comes from the run's keyed streams on day ``SETUP``, addressed by household, citizen
or organisation id, so the same seed gives the same city and each stream can change alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from xinyong.model.employers import COMPANY, GOVERNMENT, employ
from xinyong.model.families import (
    ADULT,
    CHILD,
    ELDERLY,
    HOUSEHOLD_TYPES,
    draw_ages,
    draw_compositions,
)
from xinyong.model.households import Households
from xinyong.model.identities import REFERENCE_YEAR, citizen_name, credit_code, identity_number
from xinyong.model.weighted import categorical, checked_weights
from xinyong.primitives.streams import SETUP, Streams
from xinyong.scenario import PopulationSpec, Scenario

__all__ = [
    "ADULT",
    "CHILD",
    "COMPANY",
    "ELDERLY",
    "GOVERNMENT",
    "HOUSEHOLD_TYPES",
    "REFERENCE_YEAR",
    "Population",
    "citizen_name",
    "conduct_factors",
    "credit_code",
    "generate_population",
    "identity_number",
]


def conduct_factors(
    scenario: Scenario, streams: Streams, citizens: np.ndarray | None = None
) -> np.ndarray:
    """Each citizen's conduct factor, a pure function of the seed and the citizen id.

    Args:
        scenario: gives ``conduct_lognormal_sigma``.
        streams: the run's random streams.
        citizens: ids to draw for (default: everyone), so a block of a split run draws alone.
    """
    ids = np.arange(scenario.citizens) if citizens is None else citizens
    return np.exp(scenario.conduct_lognormal_sigma * streams.normal("conduct", SETUP, ids))


@dataclass(frozen=True, eq=False)
class Population:
    """Citizens, households and employers of one synthetic city, as columns.

    Citizens are numbered household by household: the members of household ``h`` are the
    contiguous ids ``household_start[h] .. household_start[h] + household_size[h] - 1``, adults
    first, then children, then elderly relatives. So the first member of a household with
    children is always an adult, even in a household cut short at the end of the city.

    Per citizen: ``age``, ``district``, ``neighbourhood``, ``income_band``, ``household``,
    ``role``, ``employer``. Per household: ``household_size``. Per organisation: ``org_kind``,
    ``org_legal_rep``, ``org_district``. Organisations are numbered in the order of their legal
    representatives' ids (companies and government organisations mixed), so a block of citizens
    holds the organisations they represent.

    Attributes:
        age: int8 years, 0..100.
        district: int16, 0..districts-1.
        neighbourhood: int32 global neighbourhood id; neighbourhoods nest in districts.
        income_band: int8 index into ``spec.income_bands`` (lowest first).
        household: int32 household id of each citizen.
        role: int8, :data:`ADULT` (18-64), :data:`CHILD` (<18) or :data:`ELDERLY` (65+).
        employer: int32 organisation id, -1 if none.
        household_size: int16 per household.
        org_kind: int8 per organisation, :data:`COMPANY` or :data:`GOVERNMENT`.
        org_legal_rep: int32 citizen id of each organisation's legal representative, an adult
            employee of that organisation.
        org_district: int16 per organisation, its legal representative's district.
    """

    age: np.ndarray
    district: np.ndarray
    neighbourhood: np.ndarray
    income_band: np.ndarray
    household: np.ndarray
    role: np.ndarray
    employer: np.ndarray
    household_size: np.ndarray
    org_kind: np.ndarray
    org_legal_rep: np.ndarray
    org_district: np.ndarray

    @property
    def citizens(self) -> int:
        """Number of citizens."""
        return int(self.age.size)

    @property
    def households(self) -> int:
        """Number of households."""
        return int(self.household_size.size)

    @property
    def organisations(self) -> int:
        """Number of organisations (companies and government)."""
        return int(self.org_kind.size)

    @property
    def neighbourhoods(self) -> int:
        """Number of neighbourhoods; ids run 0..neighbourhoods-1 and every one has residents."""
        return int(self.neighbourhood[-1]) + 1

    def block(self, lo: int, hi: int, org_lo: int, org_hi: int) -> Population:
        """The citizens ``[lo, hi)`` and organisations ``[org_lo, org_hi)`` alone, numbered
        from 0, with their households numbered from 0 too (a block starts and ends at a
        household's edge). Districts and neighbourhoods keep their city-wide ids."""
        h_lo = int(self.household[lo]) if hi > lo else 0
        h_hi = int(self.household[hi - 1]) + 1 if hi > lo else 0
        return Population(
            age=self.age[lo:hi].copy(),
            district=self.district[lo:hi].copy(),
            neighbourhood=self.neighbourhood[lo:hi].copy(),
            income_band=self.income_band[lo:hi].copy(),
            household=(self.household[lo:hi] - h_lo).astype(np.int32),
            role=self.role[lo:hi].copy(),
            employer=self.employer[lo:hi].copy(),
            household_size=self.household_size[h_lo:h_hi].copy(),
            org_kind=self.org_kind[org_lo:org_hi].copy(),
            org_legal_rep=self.org_legal_rep[org_lo:org_hi].copy(),
            org_district=self.org_district[org_lo:org_hi].copy(),
        )

    @cached_property
    def household_start(self) -> np.ndarray:
        """Citizen id of each household's first member (an adult if the household has one)."""
        sizes = self.household_size.astype(np.int64)
        return (np.cumsum(sizes) - sizes).astype(np.int32)

    def parents_of(self, children: np.ndarray) -> np.ndarray:
        """One adult of each child's household: the household's first member.

        Args:
            children: citizen ids, each of role :data:`CHILD`.

        Returns:
            int32 citizen ids of the same shape as ``children``.

        Raises:
            ValueError: if an id is not a child.
        """
        children = np.asarray(children, dtype=np.int64)
        if (self.role[children] != CHILD).any():
            bad = children[self.role[children] != CHILD][:5]
            raise ValueError(f"citizens {bad.tolist()} are not children (role CHILD)")
        return self.household_start[self.household[children]]

    @cached_property
    def homes(self) -> Households:
        """Who lives with whom, for the questions gates and responses ask of households."""
        return Households(
            self.household, self.household_start, self.household_size, self.role == ADULT
        )

    def members(self, household: int) -> np.ndarray:
        """Citizen ids of one household's members, adults first."""
        return self.homes.members(np.array([household])).astype(np.int32)

    def children_of_listed(self, listed: np.ndarray) -> np.ndarray:
        """Which citizens are children (<18) living with a listed adult.

        Args:
            listed: a bool mask over citizens, or an array of listed citizen ids. Only listed
                citizens of role :data:`ADULT` count; a listed child or grandparent does not.

        Returns:
            A bool mask over citizens.
        """
        listed = np.asarray(listed)
        if listed.dtype == bool:
            if listed.shape != (self.citizens,):
                raise ValueError(
                    f"a listed mask has one entry per citizen ({self.citizens}), "
                    f"not shape {listed.shape}"
                )
        else:
            ids, listed = listed, np.zeros(self.citizens, dtype=bool)
            listed[ids.astype(np.int64, copy=False).ravel()] = True
        return (self.role == CHILD) & self.homes.any_parent(self.household, listed)


def generate_population(spec: PopulationSpec, citizens: int, streams: Streams) -> Population:
    """Build a synthetic city of exactly ``citizens`` people, in O(citizens) time and memory.

    Households: types drawn from ``spec.households``; families with children have
    1..len(children_weights) children with ``children_weights``; three-generation and elderly
    households have one or two people aged 65+. Members are laid out contiguously, adults
    first; the last household is cut so the city has exactly ``citizens`` people, and the cut
    drops elderly, then children, before any adult, so no child is ever left without an adult.

    Ages (years): children 0-17 uniform; parents 20-40 years older than their eldest child;
    other adults 18-64 uniform; people 65+ falling off exponentially up to 95, grandparents at
    least 20 years older than the eldest parent (all assumptions).

    Places: households fill neighbourhoods of about ``neighbourhood_size`` residents in id
    order, and consecutive neighbourhoods form equal districts. A city smaller than
    ``districts * neighbourhood_size`` gets smaller neighbourhoods, so that every district is
    populated as long as there are at least as many households as districts. All members of a
    household share district, neighbourhood and income band (drawn per household with
    ``income_bands``).

    Work: each adult (18-64) is employed with ``employment_rate``, by a government organisation
    with ``government_share``, otherwise by a company. There are
    ``round(citizens / 1000 * companies_per_1000)`` companies and ``government_orgs`` government
    organisations, with log-normal sizes; each has at least one employee, its legal
    representative. A tiny city gets fewer organisations than that when there are fewer
    employees than organisations of a kind; if one kind has no organisations at all, its
    employees work for the other kind, and with no organisations nobody is employed.

    Args:
        spec: the city's parameters.
        citizens: the number of citizens, at least 1.
        streams: the run's random streams (day ``SETUP``, streams ``population/...``).

    Raises:
        ValueError: if ``citizens`` is not positive or a weight list cannot be sampled from.
    """
    if not 1 <= citizens < 2**31:
        raise ValueError(f"citizens = {citizens}: a city has 1 to 2**31 - 1 citizens")
    adults, kids, elderly = draw_compositions(spec, citizens, streams)
    size = adults + kids + elderly
    household, start, role = _lay_out(citizens, adults, kids, elderly)
    age = draw_ages(streams, role, household, start, adults, kids)
    hood, hood_district = _neighbourhoods(spec, citizens, start)
    band = _income_bands(spec, size.size, streams)
    employer, kind, legal_rep = employ(spec, citizens, role, streams)
    district = hood_district[household].astype(np.int16)
    return Population(
        age=age,
        district=district,
        neighbourhood=hood[household].astype(np.int32),
        income_band=band[household].astype(np.int8),
        household=household,
        role=role,
        employer=employer,
        household_size=size.astype(np.int16),
        org_kind=kind,
        org_legal_rep=legal_rep,
        org_district=district[legal_rep],
    )


def _lay_out(
    citizens: int, adults: np.ndarray, kids: np.ndarray, elderly: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number the citizens household by household: adults first, then children, then elderly.

    Args:
        citizens: the number of citizens, the sum of the three counts.
        adults: the number of adults of each household.
        kids: the number of children of each household.
        elderly: the number of people aged 65+ of each household.

    Returns:
        ``(household, start, role)``: each citizen's household id (int32), each household's
        first citizen id, and each citizen's role (int8).
    """
    size = adults + kids + elderly
    start = np.cumsum(size) - size
    household = np.repeat(np.arange(size.size, dtype=np.int32), size)
    position = np.arange(citizens) - start[household]
    role = np.full(citizens, ELDERLY, dtype=np.int8)
    role[position < (adults + kids)[household]] = CHILD
    role[position < adults[household]] = ADULT
    return household, start, role


def _neighbourhoods(
    spec: PopulationSpec, citizens: int, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each household's neighbourhood and district.

    Neighbourhoods are slices of the id range; relabelling the slices that received a household
    start makes ids contiguous with no empty neighbourhood. Consecutive neighbourhoods form
    equal districts.

    Args:
        spec: gives ``districts`` and ``neighbourhood_size``.
        citizens: the number of citizens.
        start: each household's first citizen id.

    Returns:
        ``(hood, hood_district)``: each household's neighbourhood id and district.
    """
    districts = spec.districts
    wanted = min(start.size, max(districts, round(citizens / spec.neighbourhood_size)))
    slice_of = start * wanted // citizens
    hood = np.concatenate(([0], np.cumsum(np.diff(slice_of) != 0)))
    hood_district = hood * districts // (int(hood[-1]) + 1)
    return hood, hood_district


def _income_bands(spec: PopulationSpec, households: int, streams: Streams) -> np.ndarray:
    """Each household's income band, an index into ``spec.income_bands``.

    Args:
        spec: gives ``income_bands`` and their weights.
        households: the number of households.
        streams: the run's random streams (day ``SETUP``, stream ``population/income-band``,
            addressed by household id).

    Raises:
        ValueError: if the weights cannot be sampled from.
    """
    band_w = checked_weights("income_bands", list(spec.income_bands.values()))
    return categorical(
        streams.uniform("population/income-band", SETUP, np.arange(households)), band_w
    )
