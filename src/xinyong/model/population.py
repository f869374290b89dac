"""The synthetic population: who the citizens are, where they live, whom they live and work with.

Two layers:

- :func:`conduct_factors`: for the reference city a citizen is only an index and a conduct
  factor ``c``, drawn from a log-normal with mu 0 and sigma ``conduct_lognormal_sigma``: c > 1
  does more of what is penalised and less of what is rewarded.
- :func:`generate_population`: a whole synthetic city as columns (:class:`Population`):
  households with parents, children and elderly relatives, districts and neighbourhoods, income
  bands, companies and government organisations with their legal representatives.

Every citizen is synthetic; nothing here reads data about people. Names, identity numbers and
credit codes are computed on demand from ids (:func:`citizen_name`, :func:`identity_number`,
:func:`credit_code`), are visibly synthetic, and are built so that they cannot be mistaken for,
or collide with, a real person's or company's identifiers.

Every draw comes from the run's keyed streams on day ``SETUP``, addressed by household, citizen
or organisation id, so the same seed gives the same city and each stream can change alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from xinyong.engine.streams import SETUP, Streams
from xinyong.model.households import Households
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

#: Roles of a citizen in their household.
ADULT, CHILD, ELDERLY = 0, 1, 2
#: Kinds of organisation.
COMPANY, GOVERNMENT = 0, 1
#: Household types, in the order of the fields of ``HouseholdMix``.
HOUSEHOLD_TYPES = ("single", "couple", "couple_children", "single_parent", "three_generations",
                   "elderly")

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

# Employer sizes: relative weights are log-normal with these sigmas. Firm sizes are heavy
# tailed and roughly log-normal in their body (Cabral & Mata 2003, "On the evolution of the
# firm size distribution", AER 93(4)); sigma 1.5 is an assumption. Government organisations
# are assumed more alike in size (sigma 0.5).
_COMPANY_SIZE_SIGMA = 1.5
_GOVERNMENT_SIZE_SIGMA = 0.5

#: Year in which synthetic ages are measured, used only to print a birth year in
#: :func:`identity_number` (assumption: the synthetic city's census year).
REFERENCE_YEAR = 2024


def conduct_factors(scenario: Scenario, streams: Streams, citizens: np.ndarray | None = None
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
            age=self.age[lo:hi].copy(), district=self.district[lo:hi].copy(),
            neighbourhood=self.neighbourhood[lo:hi].copy(),
            income_band=self.income_band[lo:hi].copy(),
            household=(self.household[lo:hi] - h_lo).astype(np.int32),
            role=self.role[lo:hi].copy(), employer=self.employer[lo:hi].copy(),
            household_size=self.household_size[h_lo:h_hi].copy(),
            org_kind=self.org_kind[org_lo:org_hi].copy(),
            org_legal_rep=self.org_legal_rep[org_lo:org_hi].copy(),
            org_district=self.org_district[org_lo:org_hi].copy())

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
        return Households(self.household, self.household_start, self.household_size,
                          self.role == ADULT)

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
                raise ValueError(f"a listed mask has one entry per citizen ({self.citizens}), "
                                 f"not shape {listed.shape}")
        else:
            ids, listed = listed, np.zeros(self.citizens, dtype=bool)
            listed[ids.astype(np.int64, copy=False).ravel()] = True
        return (self.role == CHILD) & self.homes.any_parent(self.household, listed)


def _weights(name: str, values: list[float]) -> np.ndarray:
    """Check a list of non-negative weights with a positive total, as float64."""
    w = np.asarray(values, dtype=np.float64)
    if w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"{name} = {values}: weights must be finite, non-negative and have a "
                         "positive total")
    return w


def _categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Map uniforms in (0, 1) to category indices with the given weights (inverse CDF).

    Only categories of positive weight can come out, even at the rounding edge of the CDF.
    """
    positive = np.flatnonzero(weights > 0)
    cum = np.cumsum(weights[positive])
    return positive[np.searchsorted(cum[:-1], u * cum[-1], side="right")]


def _compose(streams: Streams, ids: np.ndarray, type_w: np.ndarray, kids_w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adults, children and elderly of households ``ids``, each a pure function of its id."""
    kind = _categorical(streams.uniform("population/household-type", SETUP, ids), type_w)
    adults = _TYPE_ADULTS[kind]
    kids = 1 + _categorical(streams.uniform("population/children", SETUP, ids), kids_w)
    kids = np.where(_TYPE_HAS_CHILDREN[kind], kids, 0)
    two = streams.uniform("population/elderly-count", SETUP, ids) < _TYPE_P_TWO_ELDERLY[kind]
    elderly = np.where(_TYPE_HAS_ELDERLY[kind], 1 + two, 0)
    return adults, kids, elderly


def _households(spec: PopulationSpec, citizens: int, streams: Streams
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compositions of just enough households for ``citizens``, the last one cut to fit.

    Households are drawn in batches by id until they hold ``citizens`` people; since each is a
    pure function of its id, the batching does not change the city.
    """
    type_w = _weights("households", [getattr(spec.households, t) for t in HOUSEHOLD_TYPES])
    kids_w = _weights("children_weights", spec.children_weights)
    mean_kids = 1 + (np.arange(kids_w.size) * kids_w).sum() / kids_w.sum()
    mean_size = (type_w * (_TYPE_ADULTS + _TYPE_HAS_CHILDREN * mean_kids
                           + _TYPE_HAS_ELDERLY * (1 + _TYPE_P_TWO_ELDERLY))).sum() / type_w.sum()
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
    adults, kids, elderly = adults[:last + 1], kids[:last + 1], elderly[:last + 1]
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


def _assign_employers(streams: Streams, employees: np.ndarray, requested: int, offset: int,
                      sigma: float, stream: str) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``employees`` over up to ``requested`` organisations with heavy-tailed sizes.

    Each organisation first gets one employee, who is its legal representative; the others go
    to organisations in proportion to log-normal weights. With fewer employees than requested
    organisations, there are only as many organisations as employees.

    Returns:
        The organisation id (from ``offset``) of each employee, and each organisation's legal
        representative.
    """
    n = min(requested, employees.size)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    key = streams.uniform(f"{stream}/legal-rep", SETUP, employees)
    first = np.argpartition(key, n - 1)[:n] if n < employees.size else np.arange(n)
    first = first[np.argsort(key[first], kind="stable")]
    weight = np.exp(sigma * streams.normal(f"{stream}/size", SETUP, np.arange(n)))
    org = _categorical(streams.uniform(f"{stream}/employer", SETUP, employees), weight)
    org[first] = np.arange(n)
    return offset + org, employees[first]


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
    adults, kids, elderly = _households(spec, citizens, streams)
    size = adults + kids + elderly
    n_households = size.size
    start = np.cumsum(size) - size
    household = np.repeat(np.arange(n_households, dtype=np.int32), size)
    position = np.arange(citizens) - start[household]
    role = np.full(citizens, ELDERLY, dtype=np.int8)
    role[position < (adults + kids)[household]] = CHILD
    role[position < adults[household]] = ADULT

    age = _ages(streams, role, household, start, adults, kids)

    # Places. Neighbourhoods are slices of the id range; relabelling the slices that received a
    # household start makes ids contiguous with no empty neighbourhood.
    districts = spec.districts
    wanted = min(n_households, max(districts, round(citizens / spec.neighbourhood_size)))
    slice_of = start * wanted // citizens
    hood = np.concatenate(([0], np.cumsum(np.diff(slice_of) != 0)))
    hood_district = hood * districts // (int(hood[-1]) + 1)
    band_w = _weights("income_bands", list(spec.income_bands.values()))
    band = _categorical(
        streams.uniform("population/income-band", SETUP, np.arange(n_households)), band_w)

    # Work.
    adult_ids = np.flatnonzero(role == ADULT)
    n_company = round(citizens / 1000 * spec.companies_per_1000)
    n_government = spec.government_orgs
    employed = adult_ids[streams.uniform("population/employed", SETUP, adult_ids)
                         < spec.employment_rate]
    if n_company == 0 and n_government == 0:
        employed = employed[:0]
    to_government = streams.uniform("population/sector", SETUP, employed) < spec.government_share
    if n_company == 0:
        to_government[:] = True
    elif n_government == 0:
        to_government[:] = False
    employer = np.full(citizens, -1, dtype=np.int32)
    org_c, rep_c = _assign_employers(streams, employed[~to_government], n_company, 0,
                                     _COMPANY_SIZE_SIGMA, "population/company")
    org_g, rep_g = _assign_employers(streams, employed[to_government], n_government,
                                     rep_c.size, _GOVERNMENT_SIZE_SIGMA, "population/government")
    employer[employed[~to_government]] = org_c
    employer[employed[to_government]] = org_g
    legal_rep = np.concatenate((rep_c, rep_g)).astype(np.int32)
    kind = np.repeat(np.array([COMPANY, GOVERNMENT], dtype=np.int8), [rep_c.size, rep_g.size])
    # Organisations are numbered in the order of their legal representatives, so a block of a
    # split run, cut at a citizen, holds each organisation with its legal representative.
    order = np.argsort(legal_rep, kind="stable")
    renumber = np.empty(order.size, dtype=np.int32)
    renumber[order] = np.arange(order.size, dtype=np.int32)
    employer[employer >= 0] = renumber[employer[employer >= 0]]
    legal_rep, kind = legal_rep[order], kind[order]
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


def _ages(streams: Streams, role: np.ndarray, household: np.ndarray, start: np.ndarray,
          adults: np.ndarray, kids: np.ndarray) -> np.ndarray:
    """Each citizen's age in years, consistent within the household (see generate_population)."""
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
    free = _ADULT_MIN + streams.index("population/age/adult", SETUP, adult,
                                      _ADULT_MAX - _ADULT_MIN + 1)
    gap = _PARENT_GAP_MIN + streams.index("population/age/parent-gap", SETUP, adult,
                                          _PARENT_GAP_MAX - _PARENT_GAP_MIN + 1)
    age[adult] = np.where(their_eldest >= 0, their_eldest + gap, free)

    old = np.flatnonzero(role == ELDERLY)
    old_age = _elderly_ages(streams.uniform("population/age/elderly", SETUP, old))
    # Adults come first in a household, so its eldest adult is its first or its last adult.
    h = household[old]
    first, last = start[h], start[h] + np.maximum(adults[h] - 1, 0)
    eldest_adult = np.where(adults[h] > 0, np.maximum(age[first], age[last]), 0)
    age[old] = np.clip(np.maximum(old_age, eldest_adult + _GRANDPARENT_GAP), _ELDERLY_MIN,
                       _ELDERLY_MAX)
    return age


# --- Synthetic identities, computed on demand from ids ----------------------------------------

_MASK64 = (1 << 64) - 1
_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
             "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie",
             "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong",
             "Pan", "Yuan", "Cai", "Jiang", "Yu", "Du")
_GIVEN = ("mei", "lan", "wei", "jun", "hua", "ming", "li", "xin", "yu", "hao", "jie", "ting",
          "fang", "qiang", "lei", "yan", "ping", "bo", "na", "tao", "xia", "jing", "rui", "yi",
          "chen", "hong", "yun", "peng", "qing", "kai", "ning", "lin", "shan", "feng", "xue",
          "zhen", "hui", "an", "qi", "ying")


def _hash(value: int, salt: int) -> int:
    """SplitMix64 of ``value`` under ``salt``: a fixed, well-mixed 64-bit function of an id."""
    z = (value * 0x9E3779B97F4A7C15 + salt) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def citizen_name(citizen: int) -> str:
    """A visibly synthetic name for a citizen, a fixed function of the id.

    A pinyin-like surname and a one- or two-syllable given name, followed by the marker
    ``⟨SYN-…⟩`` holding the citizen id, e.g. ``"Huang Meilan ⟨SYN-000421⟩"``. The marker says
    that the name belongs to a synthetic citizen, never to a real person, and keeps names
    unique where syllables repeat.

    Args:
        citizen: a non-negative citizen id.
    """
    if citizen < 0:
        raise ValueError(f"citizen = {citizen}: ids are non-negative")
    z = _hash(citizen, 0x5EED_0A11)
    surname = _SURNAMES[z % len(_SURNAMES)]
    z //= len(_SURNAMES)
    given = _GIVEN[z % len(_GIVEN)]
    z //= len(_GIVEN)
    if z % 3:  # two syllables two times in three (assumption, for variety only)
        given += _GIVEN[(z // 3) % len(_GIVEN)]
    return f"{surname} {given.capitalize()} ⟨SYN-{citizen:06d}⟩"


def identity_number(citizen: int, age: int, district: int) -> str:
    """A synthetic resident identity number: ``SYN-<district>-<birth year>-<citizen id>``.

    For example ``identity_number(421, 37, 3) == "SYN-03-1987-000421"``, the birth year being
    :data:`REFERENCE_YEAR` minus the age. A real resident identity number (GB 11643-1999) is 18
    characters, 17 digits then a digit or ``X``; this one starts with letters and has dashes,
    so it can never match, or be mistaken for, a real one.

    Args:
        citizen: a non-negative citizen id.
        age: age in years.
        district: district index.
    """
    if citizen < 0 or district < 0:
        raise ValueError(f"citizen = {citizen}, district = {district}: both are non-negative")
    return f"SYN-{district:02d}-{REFERENCE_YEAR - age:04d}-{citizen:06d}"


def credit_code(org: int) -> str:
    """A synthetic unified social credit code of 18 characters: ``ZS000000<org:09d>Z``.

    Shaped like a code of GB 32100-2015 (registration authority, kind, 6-character
    administrative division, 9-character organisation code, check character), but invalid by
    construction: that standard's alphabet excludes I, O, Z, S and V, so the leading ``ZS``
    ("synthetic") and the trailing ``Z`` in the check position can appear in no real code, and
    ``000000`` is no administrative division.

    Args:
        org: an organisation id, 0 <= org < 10**9.
    """
    if not 0 <= org < 10**9:
        raise ValueError(f"org = {org}: credit codes number organisations 0 to 999,999,999")
    return f"ZS000000{org:09d}Z"
