"""The published record as data, dated timelines, warm starts and one national list.

Issue 24's tests: a timeline change acts from its date and not before; a run's cumulative
counts equal the sum of its daily flows; one national-list membership per resident in nation;
validate says "inconclusive" for an interval wider than its range; a warm start's opening
listings leave their trace in the ledger.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pytest

import xinyong
from xinyong.engine.city import City
from xinyong.engine.split import SplitCity
from xinyong.records.counterparts import counterparts, poisson_interval, series_of, window
from xinyong.records.dataset import BlockDataset
from xinyong.scenario import ScenarioError, validate_scenario
from xinyong.scenario.published import load_record
from xinyong.studies.validate import FAIL, INCONCLUSIVE, PASS, verdict

pytestmark = pytest.mark.xdist_group("record")

CHANGE_DAY = 12


def _timeline_city(days: int = 30, **change: object) -> xinyong.Scenario:
    data = xinyong.load_scenario("reference").with_sizes(citizens=3000, days=days)
    dump = data.model_dump(by_alias=True)
    dump["start"] = "2020-01-01"
    dump["timeline"] = [
        {
            "date": (dt.date(2020, 1, 1) + dt.timedelta(days=CHANGE_DAY)).isoformat(),
            "what": "cameras misidentify more, jaywalking costs more and is done more",
            "set": change
            or {
                "sensors.camera.misidentify": 0.2,
                "behaviours.jaywalking.points": -40,
                "behaviours.jaywalking.p": 0.05,
            },
        }
    ]
    return validate_scenario(dump, "timeline test")


def _rows(city: City) -> list[tuple]:
    return [
        (r["day"], r["occurred"], r["recorded"], r["misattributed"], r["score_sum"])
        for r in city.books.daily
    ]


def test_a_timeline_change_acts_from_its_date_and_not_before() -> None:
    changed = _timeline_city()
    plain = changed.model_copy(update={"timeline": []})
    a, b = City(changed, 5, None).run(), City(plain, 5, None).run()
    ra, rb = _rows(a), _rows(b)
    assert ra[:CHANGE_DAY] == rb[:CHANGE_DAY]  # nothing before the date moves
    after = list(zip(ra[CHANGE_DAY:], rb[CHANGE_DAY:], strict=True))
    assert all(x[1] > y[1] for x, y in after)  # five times the jaywalking, every day
    assert sum(x[3] for x, _ in after) > 5 * max(1, sum(y[3] for _, y in after))


def test_a_change_made_from_python_equals_the_dated_change() -> None:
    dated = City(_timeline_city(), 5, None).run()
    plain = _timeline_city().model_copy(update={"timeline": []})
    stepped = City(plain, 5, None)
    for _ in range(CHANGE_DAY):
        stepped.step()
    stepped.change(
        {
            "sensors.camera.misidentify": 0.2,
            "behaviours.jaywalking.points": -40,
            "behaviours.jaywalking.p": 0.05,
        },
        what="cameras misidentify more, jaywalking costs more and is done more",
    )
    stepped.run()
    assert _rows(stepped) == _rows(dated)
    a, b = stepped.summary(), dated.summary()
    assert [(c["day"], c["set"]) for c in a.pop("timeline")] == [
        (c["day"], c["set"]) for c in b.pop("timeline")
    ]  # the same change on the same day; only its words differ
    assert a == b


def test_a_change_to_a_fixed_field_or_a_bad_value_is_refused() -> None:
    with pytest.raises(ScenarioError, match="'citizens' is fixed for a run"):
        _timeline_city(citizens=5)
    with pytest.raises(ScenarioError, match="did you mean 'camera'"):
        _timeline_city(**{"sensors.camra.detect": 0.5})
    with pytest.raises(ScenarioError, match="a probability must be in"):
        _timeline_city(**{"sensors.camera.detect": 2.0})
    city = City(_timeline_city(), 5, None)
    with pytest.raises(ScenarioError, match="fixed for a run"):
        city.change({"population.districts": 3})
    assert len(city.scenario.timeline) == 1  # nothing was added


def test_a_split_run_with_a_timeline_and_a_warm_start_is_bit_identical(tmp_path: Path) -> None:
    scenario = xinyong.load_scenario("history").with_sizes(citizens=6000, days=700)
    warm = scenario.model_copy(update={"warm_start": True})
    whole = City(warm, 7, None).run()
    tally = SplitCity(warm, 7, 3, partial(BlockDataset, tmp_path)).run()
    files = str(tmp_path / "ledger" / "**" / "*.parquet")
    before = (
        duckdb.connect()
        .execute(  # the blocks wrote the opening events too
            f"SELECT count(*) FROM read_parquet('{files}', hive_partitioning = false) WHERE day < 0"
        )
        .fetchall()[0][0]
    )
    assert before == sum(len(t.events) for t in City(warm, 7, None)._opening) > 0
    assert tally.daily_lists == whole.tally().daily_lists
    for key in ("used", "denied"):
        assert np.array_equal(tally.service_daily[key], whole.tally().service_daily[key])


def test_cumulative_counts_are_the_sum_of_the_daily_flows(tmp_path: Path) -> None:
    # 2013-10-01 to 2017-01-01: the run covers the record's first figure (2016-12-31).
    run = xinyong.simulate("history", citizens=8000, days=1189, seed=2, out=tmp_path / "h")
    day = (dt.date(2016, 12, 31) - dt.date(2013, 10, 1)).days
    denied = run.query("SELECT day, denied FROM daily_services WHERE service = 'air'")
    assert int(denied["denied"].sum()) == run.summary["gate_decisions"]["air"].get("deny", 0)
    met = run.query(
        "SELECT day, sum(performed) AS performed FROM daily_lists "
        "WHERE list = 'dishonest-debtors' GROUP BY day ORDER BY day"
    )
    assert (np.diff(met["performed"].to_numpy()) >= 0).all()  # a running total never falls
    row = next(
        r
        for r in run.summary["record"]
        if r["quantity"] == "listed subjects who met their obligations"
        and r["date"] == "2016-12-31"
    )
    assert row["count"] == int(met["performed"][met["day"] == day].iloc[0]) > 0
    assert row["simulated"] == pytest.approx(row["count"] * 1.4e9 / 8000)
    assert row["simulated_lo"] < row["simulated"] < row["simulated_hi"]
    listed = sum(
        op["lists"]["dishonest-debtors"]["obligations_met"]
        for op in run.summary["operators"].values()
        if "dishonest-debtors" in op.get("lists", {})
    )
    assert int(met["performed"].iloc[-1]) == listed  # the running total ends at the summary's


def test_every_record_figure_inside_a_run_has_a_counterpart() -> None:
    record = load_record("record")
    history = window(record, dt.date(2013, 10, 1), dt.date(2019, 7, 9))
    assert len(history) == len(record.observations)  # a history run meets every figure
    year = window(record, dt.date(2018, 1, 1), dt.date(2018, 12, 31))
    kinds = {(o.quantity, o.kind) for o in year}
    assert ("subjects ever listed", "flow") in kinds  # from two running totals
    assert not any(o.kind == "cumulative" for o in year)
    flow = next(o for o in year if o.quantity == "subjects ever listed")
    assert flow.value == pytest.approx(13.0e6 - 9.59e6)
    assert (flow.from_, flow.date) == (dt.date(2018, 1, 1), dt.date(2018, 12, 31))


def test_one_national_list_membership_per_resident_in_nation() -> None:
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=30000, days=60)
    city = City(scenario, 3, None).run()
    names: dict[str, int] = {}
    for op in city.operators:
        for name in op.lists.names:
            names[name] = names.get(name, 0) + (op.subject == "citizen")
    assert names.get("dishonest-debtors") == 1  # the court's alone
    court = next(op for op in city.operators if op.name == "court")
    assert court.lists.lists[court.lists.names.index("dishonest-debtors")].member.any()


def test_a_warm_start_leaves_each_opening_listing_its_trace(tmp_path: Path) -> None:
    run = xinyong.simulate("rongcheng", citizens=20000, days=20, seed=4, out=tmp_path / "r")
    lists = run.summary["operators"]["city"]["lists"]["dishonest-debtors"]
    assert lists["opening_members"] > 20
    assert lists["ever_listed"] >= lists["members"]
    traces = run.query(
        "SELECT count(*) AS n FROM ledger_rows r JOIN operators o ON r.operator = o.operator "
        "JOIN behaviours b ON r.behaviour = b.behaviour WHERE o.name = 'city' AND r.day < 0 "
        "AND b.name IN ('contract_breach_judgment', 'private_lending_breach', "
        "'utility_arrears_judgment')"
    )["n"][0]
    assert traces == lists["opening_members"]  # one judgment before day 0 for each
    explained = run.explain(
        int(
            run.query("SELECT subject FROM ledger_rows WHERE day < 0 AND operator = 0 LIMIT 1")[
                "subject"
            ][0]
        )
    )
    assert (explained.events["day"] < 0).any()  # explain names the judgment, before day 0


def test_validate_says_inconclusive_when_the_interval_is_wider_than_the_range() -> None:
    assert verdict(5.0, 4.9, 5.1, 3.0, 7.5, 3) == PASS
    assert verdict(5.0, 0.76, 9.67, 3.0, 7.5, 3) == INCONCLUSIVE  # wider than the range
    assert verdict(7.0, 6.0, 8.0, 3.0, 7.5, 3) == INCONCLUSIVE  # the mean in, an edge crossed
    assert verdict(9.0, 8.5, 9.5, 3.0, 7.5, 3) == FAIL
    assert verdict(5.0, 5.0, 5.0, 3.0, 7.5, 1) == INCONCLUSIVE  # one seed: no interval
    assert verdict(float("nan"), 0, 0, 3.0, 7.5, 3) == FAIL


def test_a_record_file_with_a_mistake_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text(
        'origin = "2013-10-01"\n[[observations]]\nquantity = "subjects evr listed"\n'
        'kind = "cumulative"\ndate = "2018-12-31"\nvalue = 1.0\nscope = "individuals"\n'
        'source = "mine"\n'
    )
    with pytest.raises(ScenarioError, match="did you mean 'subjects ever listed'"):
        load_record(bad)
    bad.write_text(
        bad.read_text()
        .replace("subjects evr listed", "subjects ever listed")
        .replace('kind = "cumulative"', 'kind = "flow"')
    )
    with pytest.raises(ScenarioError, match=r"observations\[0\].*give 'from'"):
        load_record(bad)


def test_history_counterparts_are_scaled_to_the_country() -> None:
    scenario = xinyong.load_scenario("history").with_sizes(citizens=5000, days=1300)
    city = City(scenario, 1, None, threads=False).run()
    found = counterparts(series_of(scenario, city.tally(), city.day), load_record("record"))
    end = dt.date(2013, 10, 1) + dt.timedelta(days=1299)
    assert found and all(c.observation.date <= end for c in found)  # what the run covers
    assert all(c.scale == pytest.approx(1.4e9 / 5000) for c in found)
    assert all(c.simulated == c.count * c.scale for c in found)


def test_explain_shows_the_timeline(tmp_path: Path) -> None:
    scenario = _timeline_city()
    with xinyong.simulate(scenario, seed=5, out=tmp_path / "run") as run:
        text = str(run.explain(1))
        data = run.explain(1).to_dict()
    assert "The rules changed during the run" in text
    assert f"day {CHANGE_DAY}" in text and "sensors.camera.misidentify = 0.2" in text
    assert [r["day"] for r in data["timeline"]] == [CHANGE_DAY]


def test_travel_is_taken_by_the_share_who_travel_and_the_average_holds() -> None:
    from xinyong.model.services import ServiceUses
    from xinyong.primitives.streams import Streams
    from xinyong.scenario import load_scenario

    travel = load_scenario("nation").consequences
    assert travel is not None
    rail = next(s for s in travel.services if s.name == "rail")
    k = travel.services.index(rail)
    services = travel.model_copy(
        update={"services": [s.model_copy(update={"by_income": {}}) for s in travel.services]}
    )
    n = 200_000
    whole = ServiceUses._demand(services, None, None, Streams(3), 0, n)[k]
    asks = whole > 0
    assert abs(asks.mean() - rail.who_share) < 0.01  # only they ever ask
    assert abs(whole.mean() - 1.0) < 0.02  # and the country's trips are the same
    block = ServiceUses._demand(services, None, None, Streams(3), n // 2, n // 2)[k]
    assert np.array_equal(block, whole[n // 2 :])  # a split run's block draws what the city does


def test_what_a_dated_change_sets_is_a_path_of_its_own() -> None:
    from xinyong.scenario.overrides import OverrideError, apply, get

    scenario = _timeline_city()
    date = (dt.date(2020, 1, 1) + dt.timedelta(days=CHANGE_DAY)).isoformat()
    path = f"timeline.{date}.set.sensors.camera.misidentify"
    assert get(scenario, path) == 0.2
    changed = apply(scenario, {path: 0.3})
    assert changed.timeline[0].set["sensors.camera.misidentify"] == 0.3
    assert City(changed, 5, None).run().tally() != City(scenario, 5, None).run().tally()
    with pytest.raises(OverrideError, match=f"no change dated '2020-01-02'.*{date}"):
        get(scenario, "timeline.2020-01-02.set.sensors.camera.misidentify")
    with pytest.raises(OverrideError, match="fixed for a run"):
        apply(scenario, {f"timeline.{date}.set.citizens": 3})
    with pytest.raises(OverrideError, match="did you mean 'camera'"):
        apply(scenario, {f"timeline.{date}.set.sensors.camra.detect": 0.5})


def test_the_steady_cities_run_the_rates_history_takes_from_the_2016_campaign_on() -> None:
    """history lists people at one rate to March 2016 and another from then on; rongcheng and
    nation, the year 2018, take the later one (the catalogue's), and the list's later rate of
    meeting obligations. A fit that moves one and not the other would split them."""
    from xinyong.scenario.overrides import get

    history = xinyong.load_scenario("history")
    steady = [xinyong.load_scenario(name) for name in ("rongcheng", "nation")]
    rate = "scheme.lists.dishonest-debtors.obligation_met_per_year"
    for behaviour in (
        "contract_breach_judgment",
        "utility_arrears_judgment",
        "private_lending_breach",
    ):
        path = f"behaviours.{behaviour}.p"
        early = get(history, f"timeline.2013-10-01.set.{path}")
        late = get(history, f"timeline.2016-03-13.set.{path}")
        assert early < late, behaviour  # the campaign lists more
        assert all(get(city, path) == late for city in steady), behaviour
    late_met = get(history, f"timeline.2016-03-13.set.operators.court.{rate}")
    assert get(steady[0], f"operators.city.{rate}") == late_met
    assert get(steady[1], f"operators.court.{rate}") == late_met


def test_the_steady_lists_hold_the_published_stock_at_the_published_inflow() -> None:
    """The share of SPC listings that carry the two-year term is derived, not free: it is the
    share with which a list that holds still at 2018's new listings (the record's running
    totals, end of 2017 to end of 2018) holds 2018's stock (ever listed less those who met
    their obligations, September 2018), at the list's fitted rate of meeting obligations."""
    from xinyong.model.opening import termed_share_holding
    from xinyong.scenario.overrides import get

    record = load_record("record")

    def value(quantity: str, date: str) -> float:
        day = dt.date.fromisoformat(date)
        return next(
            o.value for o in record.observations if o.quantity == quantity and o.date == day
        )

    ever, met = "subjects ever listed", "listed subjects who met their obligations"
    inflow = value(ever, "2018-12-31") - value(ever, "2017-12-31")
    stock = value(ever, "2018-09-30") - value(met, "2018-09-30")
    for name, operator in (("nation", "court"), ("nation", "companies"), ("rongcheng", "city")):
        lists = f"operators.{operator}.scheme.lists.dishonest-debtors"
        scenario = xinyong.load_scenario(name)
        m = get(scenario, f"{lists}.obligation_met_per_year")
        term = get(scenario, f"{lists}.term_days") / 365.25
        derived = termed_share_holding(stock / inflow, m, term)
        assert get(scenario, f"{lists}.termed_share") == pytest.approx(derived, abs=0.005), lists


@pytest.mark.parametrize("count", [0, 1, 2, 7, 40, 1_234, 98_765, 12_345_678])
def test_the_poisson_interval_is_the_exact_garwood_interval(count: int) -> None:
    """The run's 95 % interval of a count: half the chi-squared quantiles of 2c and 2c + 2
    degrees of freedom (Garwood), to the last bit."""
    from scipy import stats

    alpha = 1.0 - 0.95
    lo, hi = poisson_interval(count)
    assert lo == (0.0 if count == 0 else stats.chi2.ppf(alpha / 2, 2 * count) / 2)
    assert hi == stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    assert lo < count < hi or count == 0
