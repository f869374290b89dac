"""Several operators on one population: sensors, collectors, assessment, sharing, caps, starts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import multi_city, tiny_scenario

import xinyong
from xinyong.model.collectors import CollectorNetwork
from xinyong.model.operators import OperatorState, routing
from xinyong.model.sensors import Events, Placement, Sensors
from xinyong.model.standing import Standing
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Behaviour, Collectors, Sensor, validate_scenario

N = 200_000


def _bound(p: float, n: int) -> float:
    """Five standard errors of a proportion."""
    return 5 * np.sqrt(max(p * (1 - p), 1e-12) / n)


def test_sensor_detection_and_misattribution_rates() -> None:
    behaviours = [
        Behaviour(name="a", p=0.1, sensor="cam", points=-1),
        Behaviour(name="b", p=0.1, sensor="col", points=1),
    ]
    sensors = {
        "cam": Sensor(detect=0.6, misidentify=0.05),
        "col": Sensor(detect=0.3, misidentify=0.0),
    }
    s = Sensors(behaviours, [0, 1], sensors, N, Streams(3))
    pairs = np.arange(N) * 2  # every citizen does behaviour a once
    events = s.observe(0, pairs)
    assert abs(len(events) / N - 0.6) < _bound(0.6, N)
    share = events.misattributed.mean()
    assert abs(share - 0.05) < _bound(0.05, len(events))
    wrong = events.where(events.misattributed)
    assert (wrong.subject != wrong.actor).all()
    assert (
        events.where(~events.misattributed).subject == events.where(~events.misattributed).actor
    ).all()
    # Blame falls uniformly on the others.
    assert abs(wrong.subject.mean() / N - 0.5) < 0.02
    events_b = s.observe(0, pairs + 1)
    assert abs(len(events_b) / N - 0.3) < _bound(0.3, N)
    assert not events_b.misattributed.any()


def test_camera_coverage_by_district_and_collectors_only_where_they_watch() -> None:
    behaviours = [
        Behaviour(name="a", p=0.1, sensor="cam", points=-1),
        Behaviour(name="b", p=0.1, sensor="col", points=-1),
    ]
    sensors = {
        "cam": Sensor(detect=0.8, misidentify=0.0, coverage=[1.0, 0.5, 0.0]),
        "col": Sensor(detect=1.0, misidentify=0.0, collectors=Collectors(quota=1, coverage=0.5)),
    }
    district = np.arange(N) % 3
    neighbourhood = np.arange(N) // 100
    watched = np.arange(neighbourhood.max() + 1) % 2 == 0
    placement = Placement(district, neighbourhood, {"col": watched})
    s = Sensors(behaviours, [0, 1], sensors, N, Streams(5), placement)
    cam = s.observe(0, np.arange(N) * 2)
    seen = np.bincount(district[cam.actor], minlength=3) / np.bincount(district)
    assert abs(seen[0] - 0.8) < 0.01 and abs(seen[1] - 0.4) < 0.01 and seen[2] == 0
    col = s.observe(0, np.arange(N) * 2 + 1)
    assert watched[neighbourhood[col.actor]].all()
    assert len(col) == int(watched[neighbourhood].sum())


def _network(quota: int, rate: float, behind: float) -> tuple[CollectorNetwork, np.ndarray]:
    neighbourhood = np.repeat(np.arange(2000), 50)
    spec = Collectors(
        coverage=0.5,
        quota=quota,
        period_days=10,
        false_report_rate=rate,
        behind_false_report_rate=behind,
    )
    return CollectorNetwork("col", spec, neighbourhood, [7, 9], Streams(1)), neighbourhood


def test_collectors_behind_quota_file_false_reports() -> None:
    net, neighbourhood = _network(quota=1000, rate=0.0, behind=0.3)
    assert abs(net.watched.mean() - 0.5) < _bound(0.5, 2000)
    reports = net.fabricate(0)
    beats = int(net.watched.sum())
    assert abs(len(reports) / beats - 0.3) < _bound(0.3, beats)
    assert reports.fabricated.all() and (reports.actor < 0).all()
    assert (neighbourhood[reports.subject] == -1 - reports.actor).all()  # whose collector
    assert set(np.unique(reports.behaviour)) <= {7, 9}
    assert net.watched[neighbourhood[reports.subject]].all()
    assert len(np.unique(neighbourhood[reports.subject])) == len(reports)  # one per collector


def test_collectors_on_pace_use_the_lower_rate_and_periods_reset() -> None:
    net, _ = _network(quota=5, rate=0.0, behind=1.0)
    # Credit every collector with a full period's quota: nobody is behind, nobody lies.
    beats = np.flatnonzero(net.watched)
    actors = np.repeat(beats * 50, 5)
    true = Events(
        actors,
        actors,
        np.zeros(actors.size, np.int16),
        np.zeros(actors.size, bool),
        np.zeros(actors.size, bool),
    )
    net.credit(true, np.array([0], dtype=np.int16), 0)
    for day in range(10):
        assert len(net.fabricate(day)) == 0
    # A new period: everyone is behind again, and files (rate 1) every day.
    assert len(net.fabricate(10)) == beats.size


def _operator(scenario: xinyong.Scenario, i: int = 0, n: int = N) -> OperatorState:
    op = scenario.all_operators()[i]
    return OperatorState(
        index=i,
        operator=op,
        scenario=scenario,
        receives=routing(scenario)[i],
        population=n,
        days=scenario.days,
        scratch=Scratch(n),
        cf_scratch=Scratch(n),
        streams=Streams(2),
    )


def test_assessment_dismisses_at_its_rates() -> None:
    scenario = multi_city()
    city = _operator(scenario)
    wrong = np.arange(N) % 4 == 0
    actor = np.arange(N)
    events = Events(
        actor,
        np.where(wrong, (actor + 1) % N, actor),
        np.zeros(N, np.int16),
        wrong,
        np.zeros(N, bool),
    )
    dismissed = city.assess(3, events)
    a = scenario.operators[0].assessment
    assert a is not None
    for mask, p in ((wrong, a.review * a.catch), (~wrong, a.review * a.wrongly_dismiss)):
        assert abs(dismissed[mask].mean() - p) < _bound(p, int(mask.sum()))


def test_routing_follows_reads_and_sharing_rules() -> None:
    scenario = multi_city()
    names = [b.name for b in scenario.behaviours]
    receives = routing(scenario)
    city, pay, corp = (dict(zip(names, row, strict=True)) for row in receives)
    assert city["jaywalking"] and not city["bank_arrears"]
    assert pay["bank_arrears"] and not pay["jaywalking"]
    assert pay["contract_breach_judgment"]  # shared from the city, court records
    assert corp["late_tax"]  # reads everything


def test_sharing_is_transitive_and_filtered(reference_dict: dict) -> None:
    data = multi_city().model_dump(by_alias=True)
    data["operators"][1]["reads"] = []
    data["operators"][2] = {**data["operators"][1], "name": "third"}
    data["sharing"] = [
        {"from": "city", "to": "pay", "behaviours": ["jaywalking"]},
        {"from": "pay", "to": "third"},
    ]
    scenario = validate_scenario(data, "chain")
    names = [b.name for b in scenario.behaviours]
    receives = routing(scenario)
    assert [names[i] for i in np.flatnonzero(receives[1])] == ["jaywalking"]
    assert [names[i] for i in np.flatnonzero(receives[2])] == ["jaywalking"]


def test_sharing_rule_errors_name_the_operator() -> None:
    data = multi_city().model_dump(by_alias=True)
    data["sharing"] = [{"from": "cty", "to": "pay", "behaviours": ["jaywalkng"]}]
    with pytest.raises(xinyong.ScenarioError) as info:
        validate_scenario(data, "bad.toml")
    message = str(info.value)
    assert "sharing[0].from = 'cty': unknown operator (did you mean 'city'?)" in message
    assert "sharing[0].behaviours[0] = 'jaywalkng': unknown behaviour" in message


def test_grade_cap_holds_for_its_days_then_lifts() -> None:
    drunk = {"name": "drunk", "p": 0.0, "points": -1, "sensor": "sure"}
    scenario = tiny_scenario([drunk], days=40)
    scheme = scenario.all_operators()[0].scheme.model_copy(
        update={
            "overrides": [xinyong.scenario.GradeOverride(behaviour="drunk", grade="C", days=10)]
        }
    )
    standing = Standing(scheme, 2, 40, Scratch(2))
    standing.score[:] = 160  # grade A
    standing.grade_counts = np.bincount(standing.grades(), minlength=4)
    one = np.array([0])
    standing.apply(
        5, one, np.array([-1]), np.array([False]), caps=(one, np.array([2]), np.array([10]))
    )
    names = standing.grade_names
    assert [names[g] for g in standing.grades(day=5)] == ["C", "A"]
    for day in range(6, 15):
        standing.apply(day, one[:0], one[:0], np.zeros(0, bool))
        assert names[standing.grades(one, day=day)[0]] == "C"
    standing.apply(15, one[:0], one[:0], np.zeros(0, bool))  # the cap ends after 10 days
    assert names[standing.grades(one, day=15)[0]] == "A"
    assert list(standing.grade_counts) == [2, 0, 0, 0]


@pytest.fixture(scope="module")
def multi_run() -> xinyong.Run:
    with xinyong.simulate(multi_city(citizens=6000, days=90), seed=4) as run:
        yield run


def test_every_operator_replays_its_ledger(multi_run: xinyong.Run) -> None:
    for i, op in enumerate(multi_run.operators):
        stored = multi_run.query(
            "SELECT score FROM standings WHERE operator = ? ORDER BY subject", [i]
        )["score"]
        assert np.array_equal(multi_run.ledger.replay(operator=op.name), stored), op.name


def test_each_operator_scores_only_what_reaches_it(multi_run: xinyong.Run) -> None:
    counts = multi_run.query("SELECT operator, behaviour, count(*) AS n FROM events GROUP BY 1, 2")
    pay = set(counts[counts.operator == "pay"].behaviour)
    assert pay <= {"bank_arrears", "contract_breach_judgment"}
    city = set(counts[counts.operator == "city"].behaviour)
    assert "bank_arrears" not in city and "jaywalking" in city
    assert set(counts[counts.operator == "corp"].behaviour) == {"late_tax", "tax_on_time"}
    # Children are not covered by the city's scheme: none of their events count there (an
    # adult's act misattributed to a child is kept in the ledger, flagged unscored).
    kids = multi_run.query("""SELECT count(*) FILTER (WHERE NOT e.unscored) AS counted,
        count(*) FILTER (WHERE e.unscored AND NOT e.misattributed) AS wrong
        FROM events e JOIN population p
        ON p.citizen = e.subject WHERE e.operator = 'city' AND p.age < 18""")
    assert kids["counted"][0] == 0 and kids["wrong"][0] == 0


def test_dismissed_and_false_events_are_recorded_but_do_not_count(multi_run: xinyong.Run) -> None:
    city = multi_run.summary["operators"]["city"]
    assert city["events_dismissed"] > 0
    rows = multi_run.query("SELECT * FROM ledger WHERE operator = 0")
    assert int(rows.dismissed.sum()) == city["events_dismissed"]
    assert (rows[rows.fabricated].actor < 0).all()


def test_starting_scores_follow_income(multi_run: xinyong.Run) -> None:
    starts = multi_run.ledger.starting_scores("pay")
    income = multi_run.query("SELECT income_band FROM population ORDER BY citizen")
    assert starts is not None
    assert set(starts[income.income_band == 0]) == {570}
    assert set(starts[income.income_band == 2]) == {640}


def test_explain_shows_every_operator(multi_run: xinyong.Run) -> None:
    adult = int(
        multi_run.query("SELECT subject FROM events WHERE operator = 'pay' LIMIT 1")["subject"][0]
    )
    e = multi_run.explain(adult)
    assert e.operator.name == "city" and [o.operator.name for o in e.others] == ["pay"]
    text = str(e)
    assert "under 'city' (mini-rongcheng)" in text and "under 'pay' (mini-pay)" in text
    assert "⟨SYN-" in text
    company = multi_run.explain_company(0)
    assert company.operator.name == "corp" and str(company).startswith("Organisation 0")
    with pytest.raises(xinyong.UnknownCitizenError, match="organisations are numbered"):
        multi_run.explain_company(10**6)


def test_a_listing_by_one_operator_changes_behaviour_everywhere() -> None:
    """Listed by the 'lister' (severe fraud), a citizen stops all penalised behaviour (response
    0), so the 'watcher', which lists nobody, sees harm only on days the citizen is free."""
    scale = {"start": 100, "floor": 0, "ceiling": 200}
    grades = [{"grade": "A", "min": 0}]
    data = {
        "name": "two",
        "citizens": 3,
        "days": 10,
        "conduct_lognormal_sigma": 0.0,
        "listed_response": {"negative": 0.0, "positive": 1.0},
        "sensors": {"sure": {"detect": 1.0, "misidentify": 0.0}},
        "behaviours": [
            {"name": "fraud", "p": 1.0, "sensor": "sure", "harmful": True},
            {"name": "harm", "p": 1.0, "sensor": "sure", "harmful": True},
        ],
        "operators": [
            {
                "name": "watcher",
                "scheme": {
                    "name": "w",
                    "score": scale,
                    "grades": grades,
                    "points": [{"behaviour": "harm", "points": -1}],
                },
            },
            {
                "name": "lister",
                "scheme": {
                    "name": "l",
                    "score": scale,
                    "grades": grades,
                    "listing": {"min_days": 3, "release_min_score": 0, "at_floor": False},
                    "points": [{"behaviour": "fraud", "points": -1, "severe": True}],
                },
            },
        ],
    }
    with xinyong.simulate(validate_scenario(data, "two"), seed=0) as run:
        days = run.ledger.events(0, "watcher")["day"].tolist()
        assert days == [0, 4, 8]
        assert run.summary["operators"]["watcher"]["listed_share"] == 0
        assert run.summary["operators"]["lister"]["listed_share"] == 1
