"""The synthetic population: households, ages, places, employers and synthetic identities."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.model.population import (
    ADULT,
    CHILD,
    COMPANY,
    ELDERLY,
    GOVERNMENT,
    HOUSEHOLD_TYPES,
    REFERENCE_YEAR,
    Population,
    citizen_name,
    credit_code,
    generate_population,
    identity_number,
)
from xinyong.primitives.streams import Streams
from xinyong.scenario import PopulationSpec

# A real resident identity number (GB 11643-1999): 17 digits, then a digit or X.
REAL_ID = re.compile(r"\d{17}[\dXx]")
# The alphabet of unified social credit codes (GB 32100-2015): digits and capitals but I O Z S V.
GB32100_ALPHABET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


def check_invariants(pop: Population, spec: PopulationSpec, citizens: int) -> None:
    """Assert every structural promise of a generated population."""
    n, h, o = pop.citizens, pop.households, pop.organisations
    assert n == citizens
    for name in (
        "age",
        "district",
        "neighbourhood",
        "income_band",
        "household",
        "role",
        "employer",
    ):
        assert getattr(pop, name).shape == (n,), name
    assert (pop.age.dtype, pop.district.dtype, pop.neighbourhood.dtype) == (
        np.int8,
        np.int16,
        np.int32,
    )
    assert (pop.income_band.dtype, pop.household.dtype, pop.role.dtype, pop.employer.dtype) == (
        np.int8,
        np.int32,
        np.int8,
        np.int32,
    )
    assert pop.household_size.dtype == np.int16
    assert (pop.org_kind.dtype, pop.org_legal_rep.dtype, pop.org_district.dtype) == (
        np.int8,
        np.int32,
        np.int16,
    )
    assert pop.org_legal_rep.shape == pop.org_district.shape == (o,)

    # Households: contiguous ids, sizes that add up, every household non-empty.
    assert (pop.household_size >= 1).all()
    assert int(pop.household_size.sum()) == n
    assert np.array_equal(pop.household, np.repeat(np.arange(h), pop.household_size))

    # Roles and ages.
    assert set(np.unique(pop.role)) <= {ADULT, CHILD, ELDERLY}
    age, role = pop.age, pop.role
    assert ((age[role == CHILD] >= 0) & (age[role == CHILD] <= 17)).all()
    assert ((age[role == ADULT] >= 18) & (age[role == ADULT] <= 64)).all()
    assert ((age[role == ELDERLY] >= 65) & (age[role == ELDERLY] <= 95)).all()

    # Every child lives with an adult, who is older than the household's eldest child by 20+.
    adults_in = np.bincount(pop.household, weights=role == ADULT, minlength=h)
    children = np.flatnonzero(role == CHILD)
    assert (adults_in[pop.household[children]] >= 1).all()
    parents = pop.parents_of(children)
    assert (role[parents] == ADULT).all()
    assert np.array_equal(pop.household[parents], pop.household[children])
    eldest_child = np.full(h, -1)
    np.maximum.at(eldest_child, pop.household[children], age[children].astype(int))
    parents = np.flatnonzero((role == ADULT) & (eldest_child[pop.household] >= 0))
    assert (age[parents] >= eldest_child[pop.household[parents]] + 20).all()

    # Members of a household share district, neighbourhood and income band.
    first = pop.household_start[pop.household]
    for name in ("district", "neighbourhood", "income_band"):
        column = getattr(pop, name)
        assert np.array_equal(column, column[first]), name
    assert ((pop.district >= 0) & (pop.district < spec.districts)).all()
    assert ((pop.income_band >= 0) & (pop.income_band < len(spec.income_bands))).all()
    # Neighbourhoods are numbered 0..k-1, all inhabited, and each lies in one district.
    assert np.array_equal(np.unique(pop.neighbourhood), np.arange(pop.neighbourhoods))
    hood_district = np.full(pop.neighbourhoods, -1)
    hood_district[pop.neighbourhood] = pop.district
    assert np.array_equal(hood_district[pop.neighbourhood], pop.district)

    # Employers exist, employ only adults, and are led by one of their own adult employees.
    employed = pop.employer >= 0
    assert (pop.employer[employed] < o).all()
    assert (pop.employer >= -1).all()
    assert (role[employed] == ADULT).all()
    assert (np.bincount(pop.employer[employed], minlength=o) >= 1).all()
    assert np.array_equal(pop.employer[pop.org_legal_rep], np.arange(o))
    assert (role[pop.org_legal_rep] == ADULT).all()
    assert np.array_equal(pop.org_district, pop.district[pop.org_legal_rep])
    # Numbered by legal representative (a block holds both), no more than asked for.
    kinds = pop.org_kind
    assert set(np.unique(kinds)) <= {COMPANY, GOVERNMENT}
    assert (np.diff(pop.org_legal_rep.astype(np.int64)) > 0).all()
    assert (kinds == GOVERNMENT).sum() <= spec.government_orgs
    assert (kinds == COMPANY).sum() <= round(n / 1000 * spec.companies_per_1000)


def household_types(pop: Population) -> np.ndarray:
    """Each household's type index in HOUSEHOLD_TYPES, read back from its composition."""
    h = pop.households
    adults = np.bincount(pop.household, weights=pop.role == ADULT, minlength=h)
    kids = np.bincount(pop.household, weights=pop.role == CHILD, minlength=h)
    old = np.bincount(pop.household, weights=pop.role == ELDERLY, minlength=h)
    kind = np.full(h, -1)
    kind[(adults == 1) & (kids == 0) & (old == 0)] = 0
    kind[(adults == 2) & (kids == 0) & (old == 0)] = 1
    kind[(adults == 2) & (kids > 0) & (old == 0)] = 2
    kind[(adults == 1) & (kids > 0) & (old == 0)] = 3
    kind[(adults == 2) & (kids > 0) & (old > 0)] = 4
    kind[(adults == 0) & (kids == 0) & (old > 0)] = 5
    return kind


@pytest.fixture(scope="module")
def big() -> Population:
    return generate_population(PopulationSpec(), 200_000, Streams(11))


@pytest.mark.parametrize("citizens", [*range(1, 31), 97, 1000, 5000])
def test_tiny_and_small_cities_keep_every_promise(citizens: int) -> None:
    spec = PopulationSpec()
    for seed in (0, 1, 2):
        check_invariants(generate_population(spec, citizens, Streams(seed)), spec, citizens)


def test_a_one_citizen_city_is_one_adult() -> None:
    pop = generate_population(PopulationSpec(), 1, Streams(3))
    assert pop.citizens == pop.households == 1
    assert pop.role[0] != CHILD


@st.composite
def specs(draw: st.DrawFn) -> PopulationSpec:
    weight = st.floats(0.0, 1.0)
    mix = dict(zip(HOUSEHOLD_TYPES, draw(st.lists(weight, min_size=6, max_size=6)), strict=True))
    if sum(mix.values()) <= 0:
        mix["couple_children"] = 1.0
    kids = draw(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4))
    bands = draw(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=5))
    return PopulationSpec(
        districts=draw(st.integers(1, 20)),
        neighbourhood_size=draw(st.integers(1, 2000)),
        households=mix,
        children_weights=kids,
        income_bands={f"band{i}": w for i, w in enumerate(bands)},
        employment_rate=draw(st.floats(0.0, 1.0)),
        companies_per_1000=draw(st.floats(0.0, 60.0)),
        government_orgs=draw(st.integers(0, 30)),
        government_share=draw(st.floats(0.0, 1.0)),
    )


@settings(max_examples=150, deadline=None)
@given(specs(), st.integers(1, 3000), st.integers(0, 2**32))
def test_any_spec_and_size_keeps_every_promise(
    spec: PopulationSpec, citizens: int, seed: int
) -> None:
    check_invariants(generate_population(spec, citizens, Streams(seed)), spec, citizens)


def test_the_invariant_check_catches_a_child_left_alone() -> None:
    """The checker is not a tautology: an orphaned child or a foreign legal rep fails it."""
    spec = PopulationSpec()
    pop = generate_population(spec, 2000, Streams(5))
    child = int(np.flatnonzero(pop.role == CHILD)[0])
    members = pop.members(int(pop.household[child]))
    role = pop.role.copy()
    role[members[pop.role[members] == ADULT]] = ELDERLY
    with pytest.raises(AssertionError):
        check_invariants(dataclasses.replace(pop, role=role), spec, 2000)
    reps = pop.org_legal_rep.copy()
    reps[[0, 1]] = reps[[1, 0]]
    with pytest.raises(AssertionError):
        check_invariants(dataclasses.replace(pop, org_legal_rep=reps), spec, 2000)


def test_shares_match_the_spec_on_a_large_city(big: Population) -> None:
    spec = PopulationSpec()
    kind = household_types(big)[:-1]  # the last household may have been cut
    assert (kind >= 0).all()
    mix = np.array([getattr(spec.households, t) for t in HOUSEHOLD_TYPES])
    expected = mix / mix.sum()
    observed = np.bincount(kind, minlength=len(HOUSEHOLD_TYPES)) / kind.size
    sigma = np.sqrt(expected * (1 - expected) / kind.size)
    assert (np.abs(observed - expected) < 5 * sigma).all(), (observed, expected)

    bands = np.array(list(spec.income_bands.values()))
    bands = bands / bands.sum()
    band = big.income_band[big.household_start]
    observed = np.bincount(band, minlength=bands.size) / band.size
    assert (np.abs(observed - bands) < 5 * np.sqrt(bands * (1 - bands) / band.size)).all()
    # Shares of citizens too, as the spec states them (looser: households cluster people).
    observed = np.bincount(big.income_band, minlength=bands.size) / big.citizens
    assert (np.abs(observed - bands) < 0.01).all()

    families = np.bincount(big.household, weights=big.role == CHILD)[:-1]
    families = families[families > 0].astype(int) - 1
    kids = np.array(spec.children_weights) / sum(spec.children_weights)
    observed = np.bincount(families, minlength=kids.size) / families.size
    assert (np.abs(observed - kids) < 5 * np.sqrt(kids * (1 - kids) / families.size)).all()

    adults = big.role == ADULT
    rate = (big.employer[adults] >= 0).mean()
    p = spec.employment_rate
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / adults.sum())
    employed = big.employer[big.employer >= 0]
    government = (big.org_kind[employed] == GOVERNMENT).mean()
    q = spec.government_share
    assert abs(government - q) < 5 * np.sqrt(q * (1 - q) / employed.size)


def test_organisations_places_and_ages_on_a_large_city(big: Population) -> None:
    spec = PopulationSpec()
    companies = round(200_000 / 1000 * spec.companies_per_1000)
    assert (big.org_kind == COMPANY).sum() == companies
    assert (big.org_kind == GOVERNMENT).sum() == spec.government_orgs
    sizes = np.bincount(big.employer[big.employer >= 0])[big.org_kind == COMPANY]
    assert sizes.max() > 20 * np.median(sizes)  # heavy tailed: a few large employers
    residents = np.bincount(big.neighbourhood)
    assert big.neighbourhoods == round(200_000 / spec.neighbourhood_size)
    assert (np.abs(residents - spec.neighbourhood_size) < 0.02 * spec.neighbourhood_size).all()
    assert np.array_equal(np.unique(big.district), np.arange(spec.districts))
    assert (big.age[big.role == ELDERLY] >= 65).all()
    # Not degenerate: every age band is well represented.
    for low, high in ((0, 17), (18, 40), (41, 64), (65, 79), (80, 95)):
        assert ((big.age >= low) & (big.age <= high)).mean() > 0.01


def test_same_seed_same_city_other_seed_another() -> None:
    spec = PopulationSpec()
    a = generate_population(spec, 20_000, Streams(4))
    b = generate_population(spec, 20_000, Streams(4))
    c = generate_population(spec, 20_000, Streams(5))
    fields = [f.name for f in dataclasses.fields(Population)]
    for name in fields:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    differing = [
        n
        for n in fields
        if getattr(a, n).shape != getattr(c, n).shape
        or not np.array_equal(getattr(a, n), getattr(c, n))
    ]
    assert {"age", "household", "role", "employer", "income_band"} <= set(differing)


def test_household_helpers() -> None:
    pop = generate_population(PopulationSpec(), 5000, Streams(8))
    kids_per = np.bincount(pop.household, weights=pop.role == CHILD)
    adults_per = np.bincount(pop.household, weights=pop.role == ADULT)
    family = int(np.flatnonzero((kids_per >= 2) & (adults_per == 2))[0])
    members = pop.members(family)
    assert members.size == pop.household_size[family]
    assert (pop.household[members] == family).all()
    assert list(pop.role[members][:2]) == [ADULT, ADULT]
    kids = members[pop.role[members] == CHILD]
    assert (pop.parents_of(kids) == members[0]).all()
    with pytest.raises(ValueError, match="not children"):
        pop.parents_of(members[:1])

    listed = np.zeros(pop.citizens, dtype=bool)
    listed[members[1]] = True  # one parent listed
    flagged = pop.children_of_listed(listed)
    assert np.array_equal(np.flatnonzero(flagged), kids)
    assert np.array_equal(pop.children_of_listed(np.array([members[1]])), flagged)
    listed[:] = False
    listed[kids[0]] = True  # a listed child does not flag its siblings
    assert not pop.children_of_listed(listed).any()
    with pytest.raises(ValueError, match="one entry per citizen"):
        pop.children_of_listed(np.zeros(3, dtype=bool))


def test_bad_specs_and_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="citizens"):
        generate_population(PopulationSpec(), 0, Streams(1))
    empty_mix = {t: 0.0 for t in HOUSEHOLD_TYPES}
    with pytest.raises(ValueError, match="households"):
        generate_population(PopulationSpec(households=empty_mix), 10, Streams(1))
    with pytest.raises(ValueError, match="income_bands"):
        generate_population(PopulationSpec(income_bands={"low": -1.0}), 10, Streams(1))


def test_names_are_deterministic_varied_and_visibly_synthetic() -> None:
    names = [citizen_name(i) for i in range(2000)]
    assert names == [citizen_name(i) for i in range(2000)]
    assert citizen_name(421).endswith("⟨SYN-000421⟩")
    assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ ⟨SYN-\d{6,}⟩", s) for s in names)
    bare = {s.split(" ⟨")[0] for s in names}
    assert len(bare) > 1000  # many distinct names, not one repeated
    assert len({s.split()[0] for s in names}) > 20
    with pytest.raises(ValueError):
        citizen_name(-1)


@given(st.integers(0, 2**31 - 1), st.integers(0, 100), st.integers(0, 999))
def test_identity_numbers_cannot_be_real(citizen: int, age: int, district: int) -> None:
    number = identity_number(citizen, age, district)
    assert number == identity_number(citizen, age, district)
    assert number.startswith("SYN-")
    assert REAL_ID.search(number) is None
    assert REAL_ID.search(number.replace("-", "")) is None
    assert number.endswith(f"-{citizen:06d}")
    assert f"-{REFERENCE_YEAR - age:04d}-" in number


def test_identity_number_example() -> None:
    assert identity_number(421, REFERENCE_YEAR - 1987, 3) == "SYN-03-1987-000421"


@given(st.integers(0, 10**9 - 1))
def test_credit_codes_are_18_characters_and_invalid(org: int) -> None:
    code = credit_code(org)
    assert len(code) == 18
    assert re.fullmatch(r"[0-9A-Z]{18}", code)
    assert not set(code) <= GB32100_ALPHABET  # a character no real code can contain
    assert code[0] not in GB32100_ALPHABET  # ... and in the registration-authority position
    assert code == credit_code(org)
    assert code != credit_code((org + 1) % 10**9)


def test_credit_code_range() -> None:
    with pytest.raises(ValueError):
        credit_code(10**9)
    with pytest.raises(ValueError):
        credit_code(-1)
