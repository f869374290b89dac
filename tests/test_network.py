"""The social circle: its shape, its exactness under splitting, and what acts through it."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import consequence_city

import xinyong
from xinyong.engine.city import City
from xinyong.engine.split import blocks
from xinyong.model.network import SocialNetwork, build_network, contacts_pull
from xinyong.model.population import generate_population
from xinyong.model.sensors import Events
from xinyong.primitives.streams import Streams
from xinyong.scenario import PopulationSpec


@pytest.fixture(scope="module")
def city() -> tuple[object, SocialNetwork]:
    pop = generate_population(PopulationSpec(), 20_000, Streams(4))
    return pop, build_network(pop, 3, Streams(4))


def test_the_degree_distribution_is_a_few_friends_and_workmates(city) -> None:
    _, net = city
    degree = net.degree()
    # Three named friends, about three naming back, a workmate or two; household not counted.
    assert 5.0 < degree.mean() < 8.5
    assert (degree >= 2).mean() > 0.99
    assert degree.max() < 25  # no hubs: friends are drawn uniformly in the neighbourhood
    assert 0.5 < degree.std() / degree.mean() ** 0.5 < 2.0  # Poisson-like spread
    assert net.nbytes() / net.n < 40  # bytes per citizen


def test_ties_are_mutual_local_and_outside_the_household(city) -> None:
    pop, net = city
    row, contact = net.of(np.arange(net.n))
    assert (row != contact).all()
    assert (pop.neighbourhood[row] == pop.neighbourhood[contact]).all()
    assert (pop.household[row] != pop.household[contact]).all()
    pairs = set(zip(row.tolist(), contact.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in list(pairs)[:5000])
    assert len(pairs) == row.size  # no tie twice


def test_a_block_draws_exactly_its_citizens_ties() -> None:
    scenario = consequence_city(citizens=6000, days=1)
    whole = City(scenario, 3, None)
    pop = whole.population
    net = build_network(pop, 3, Streams(3))
    for b in blocks(scenario, 3, 4):
        part = build_network(pop.block(b.lo, b.hi, b.org_lo, b.org_hi), 3, Streams(3), b.lo)
        row, contact = part.of(np.arange(part.n))
        full_row, full_contact = net.of(np.arange(b.lo, b.hi))
        assert np.array_equal(row, full_row)
        assert np.array_equal(contact + b.lo, full_contact)


def test_share_and_any_read_the_ties() -> None:
    # 0 - 1, 0 - 2, 3 alone.
    net = SocialNetwork(
        np.array([0, 2, 3, 4, 4], dtype=np.int32), np.array([1, 2, 0, 0], dtype=np.int32)
    )
    low = np.array([False, True, False, False])
    assert net.share_with(np.arange(4), low).tolist() == [0.5, 0.0, 0.0, 0.0]
    assert net.any_with(np.arange(4), low).tolist() == [True, False, False, False]


def test_low_score_contacts_pull_the_provider_score_down() -> None:
    c = City(xinyong.load_scenario("rongcheng").with_sizes(citizens=3000, days=40), 1, None)
    provider = next(op for op in c.operators if op.name == "provider")
    names = [b.name for b in c.scenario.behaviours]

    def pull(day: int) -> list[Events]:
        return contacts_pull(day, c.operators, c.network, names, 0)

    assert pull(10) == []  # not a day the circle is read
    assert len(pull(29)[0]) == 0  # nobody's friends score below good yet
    adults = np.flatnonzero(provider.covered)
    poor = adults[: adults.size // 2]
    provider.standing.score[poor] = 400
    pulled = pull(29)[0]
    assert len(pulled) > 0
    who = pulled.subject
    assert provider.covered[who].all()
    spec = provider.scheme.contacts_pull
    assert spec is not None and spec.below == 600  # below "good": fair or poor
    low = provider.standing.score < spec.below
    assert (c.network.share_with(who, low) >= spec.share).all()
    # The provider scores every one of them: 5 points off each.
    assert provider.keep(pulled.local(0)).all()
    assert (provider.points[pulled.behaviour] == -5).all()


def test_a_blacklisted_friend_makes_a_citizen_careful() -> None:
    scenario = consequence_city(
        citizens=3000, days=5, network={"friends": 3}, response={"contact_listed": 0.5}
    )
    c = City(scenario, 2, None)
    effects, net = c.effects, c.network
    _, friends = net.of(np.array([10]))
    friend = np.array([int(friends[0])])
    alone = effects.responses._factor(0, friend)
    effects.black[10] = True
    assert friend[0] in effects.responses.contacts_flipped(np.array([10]))  # the flips counted
    assert effects.responses._factor(0, friend) == pytest.approx(0.5 * alone)
    effects.black[10] = False  # released
    effects.responses.contacts_flipped(np.array([10]))
    assert effects.responses._factor(0, friend) == pytest.approx(alone)


def test_the_connections_factor_fires_at_default_settings() -> None:
    """The provider's "connections" factor acts in a default run: over a year, some adults'
    circles sink below "good" (a threshold at "poor" alone never fired)."""
    with xinyong.simulate("rongcheng", citizens=10_000, days=365, seed=1) as run:
        pulled = run.query(
            "SELECT count(*) AS n FROM ledger JOIN behaviours USING (behaviour) "
            "WHERE name = 'low_score_contacts'"
        )["n"][0]
    assert pulled > 0
