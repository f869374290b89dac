"""A city simulated in blocks gives exactly what the city simulated whole gives."""

from __future__ import annotations

import inspect
import itertools
import sys
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import consequence_city, org_consequence_city

import xinyong
from xinyong.engine.city import City
from xinyong.engine.memory import state_bytes
from xinyong.engine.split import BlockRun, SplitCity, blocks, sum_tallies
from xinyong.engine.tally import summarize
from xinyong.engine.twin import twin_occurrences
from xinyong.engine.workers import BlockWorker, WorkerError
from xinyong.records import tables
from xinyong.records.dataset import BlockDataset


def _leaves(counts: object) -> list[np.ndarray]:
    if isinstance(counts, dict):
        return [leaf for value in counts.values() for leaf in _leaves(value)]
    return [np.asarray(counts)]


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize(
    "scenario",
    [
        consequence_city(citizens=4000, days=80),
        xinyong.load_scenario("reference").with_sizes(citizens=3000, days=60),
        org_consequence_city(citizens=4000, days=80),
    ],
    ids=["consequence-city", "reference", "companies-legal-reps-and-network"],
)
def test_split_runs_are_bit_identical(
    scenario: xinyong.Scenario, count: int, tmp_path: Path
) -> None:
    whole = City(scenario, 7, None).run()
    tally = SplitCity(scenario, 7, count, partial(BlockDataset, tmp_path)).run()  # added up
    expected = whole.tally()
    expected.twin_daily = twin_occurrences(scenario, 7)  # the whole city's chilling twin
    assert summarize(scenario, 7, scenario.days, tally) == summarize(
        scenario, 7, scenario.days, expected
    )
    assert tally.daily == expected.daily
    assert tally.daily_operators == expected.daily_operators
    assert np.array_equal(tally.occurred_daily, expected.occurred_daily)
    # The blocks wrote every member of every list, as the whole city holds them.
    written = pd.read_parquet(tmp_path / "memberships").sort_values(
        ["operator", "list", "subject"], ignore_index=True
    )
    members = tables.memberships(whole).sort_values(
        ["operator", "list", "subject"], ignore_index=True
    )
    assert written.equals(members)
    # What comes back to the driver is counts: nothing grows with the population.
    assert max(leaf.size for leaf in _leaves(tally.counts)) < 100


def test_blocks_follow_neighbourhoods() -> None:
    scenario = consequence_city(citizens=5000, days=2)
    cut = blocks(scenario, 1, 3)
    assert cut[0].lo == 0 and cut[-1].hi == 5000
    assert all(a.hi == b.lo for a, b in itertools.pairwise(cut))
    pop = City(scenario, 1, None).population
    for b in cut[1:]:
        assert pop.neighbourhood[b.lo] != pop.neighbourhood[b.lo - 1]


@pytest.mark.parametrize("name", ["consequences", "reference", "corporate"])
def test_a_split_run_stores_the_same_run(name: str) -> None:
    scenario = (
        consequence_city(citizens=3000, days=50)
        if name == "consequences"
        else xinyong.load_scenario(name).with_sizes(citizens=3000, days=50)
    )
    runs = [xinyong.simulate(scenario, seed=5, blocks=b) for b in (1, 2, 4)]
    try:
        first = runs[0]
        drop = {"wall_seconds"}
        for other in runs[1:]:
            assert {k: v for k, v in other.summary.items() if k not in drop} == {
                k: v for k, v in first.summary.items() if k not in drop
            }
            assert other.daily.equals(first.daily)
            for table, order in (
                ("ledger", "day, operator, subject, actor, behaviour"),
                ("listings", "day, operator, subject, counterfactual, change"),
                ("standings", "operator, subject"),
                ("population", "citizen"),
            ):
                sql = f"SELECT * FROM {table} ORDER BY {order}"
                assert other.query(sql).equals(first.query(sql)), table
    finally:
        for r in runs:
            r.close()


def test_a_split_run_is_a_parquet_dataset_partitioned_by_city_and_operator(tmp_path: Path) -> None:
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=4000, days=20)
    folder = tmp_path / "run"
    xinyong.simulate(scenario, seed=2, blocks=3, out=folder).close()
    ledger = folder / "data" / "ledger"
    partitions = {p.relative_to(ledger).as_posix() for p in ledger.glob("city=*/operator=*")}
    assert {"city=city/operator=city", "city=fuzhou/operator=fuzhou"} <= partitions
    # The national list's events fall under the city of each subject (which cities see a
    # court judgment in 20 days is chance: at least two do).
    assert len({p for p in partitions if p.endswith("/operator=court")}) >= 2
    # Each file is one block's; every file reads on its own (none is left half-written).
    files = sorted(ledger.rglob("block-*.parquet"))
    assert {f.name.split("-day-")[0] for f in files} == {"block-0000", "block-0001", "block-0002"}
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    # The folder can move: the run's views read the dataset relative to it.
    moved = tmp_path / "moved"
    folder.rename(moved)
    with xinyong.open_run(moved) as run:
        assert len(run.ledger) == rows > 0
        # The ledger is the truth: scores replayed from the Parquet ledger are the stored ones.
        for op in ("city", "court"):
            index = [o.name for o in run.operators].index(op)
            stored = run.query(
                "SELECT score FROM standings WHERE operator = ? ORDER BY subject", [index]
            )["score"].to_numpy()
            assert np.array_equal(run.ledger.replay(operator=op), stored)
        who = int(run.query("SELECT subject FROM ledger WHERE operator = 0 LIMIT 1").iloc[0, 0])
        assert run.explain(who).citizen == who
    # DuckDB alone reads the dataset too.
    count = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{moved}/data/ledger/**/*.parquet')")
        .fetchone()[0]
    )
    assert count == rows


def test_workers_without_ray_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    scenario = xinyong.load_scenario("reference").with_sizes(citizens=500, days=5)
    with pytest.raises(WorkerError, match=r"pip install 'xinyong\[ray\]'.*--blocks"):
        xinyong.simulate(scenario, workers=2, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing written: the same command works later


def test_resume_says_what_it_needs(tmp_path: Path) -> None:
    scenario = xinyong.load_scenario("reference").with_sizes(citizens=500, days=5)
    with pytest.raises(xinyong.RunError, match="only a run on Ray workers checkpoints"):
        xinyong.simulate(scenario, out=tmp_path, resume=True)
    with pytest.raises(xinyong.RunError, match="no whole checkpoint of a 2-worker run"):
        xinyong.simulate(scenario, workers=2, out=tmp_path, resume=True)


def test_a_block_keeps_columns_for_its_own_subjects_only() -> None:
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=6000, days=3)
    cut = blocks(scenario, 3, 3)
    city = City(scenario, 3, None, block=cut[1])
    size = cut[1].hi - cut[1].lo
    assert city.population is not None and city.population.citizens == size
    for op in city.operators:
        if op.subject == "citizen":
            assert op.standing.score.size == op.counterfactual.listed.size == size
    assert city.groups["citizen"].listed_any.size == size
    full = City(scenario, 3, None)
    assert state_bytes(city) < 0.6 * state_bytes(full)  # a third of the city, and no more


class _Ref:
    """What Ray's ``.remote`` hands back: a reference to one value."""

    def __init__(self, value: object) -> None:
        self.value = value


class _InProcess:
    """A Ray actor handle run in this process: ``handle.method.options(num_returns=n)
    .remote(*args)`` calls the block's method now, resolving references among the arguments
    and handing back one reference, or n of them, as Ray does."""

    def __init__(self, run: BlockRun) -> None:
        self.run = run

    def __getattr__(self, name: str) -> _InProcess.Method:
        return _InProcess.Method(getattr(self.run, name))  # as Ray: unknown -> AttributeError

    class Method:
        def __init__(self, method: object, returns: int = 1) -> None:
            self.method, self.returns = method, returns

        def options(self, num_returns: int) -> _InProcess.Method:
            return _InProcess.Method(self.method, num_returns)

        def remote(self, *args: object) -> _Ref | tuple[_Ref, ...]:
            value = self.method(
                *(
                    a.value if isinstance(a, _Ref) else a  # type: ignore[operator]
                    for a in args
                )
            )
            return _Ref(value) if self.returns == 1 else tuple(_Ref(v) for v in value)


def test_a_block_worker_calls_its_blocks_own_methods() -> None:
    """Each typed call of a Ray block is the block's method of that name and arguments."""
    for name, ours in inspect.getmembers(BlockWorker, inspect.isfunction):
        if name.startswith("_"):
            continue
        theirs = getattr(BlockRun, name, None)
        assert theirs is not None, f"BlockWorker.{name} calls no BlockRun method"
        # (once a Ray actor class has been made of it, Ray adds a tracing parameter)
        assert list(inspect.signature(ours).parameters) == [
            p for p in inspect.signature(theirs).parameters if p != "_ray_trace_ctx"
        ], name


@pytest.mark.parametrize("count", [1, 2])
def test_block_workers_run_the_days_a_split_city_runs(count: int) -> None:
    """Driven through BlockWorker (as run_on_ray drives Ray actors), blocks give the tally
    the in-process split run gives."""
    scenario = consequence_city(citizens=1500, days=8)
    cut = blocks(scenario, 7, count)
    workers = [
        BlockWorker(_InProcess(BlockRun(scenario, 7, cut, i, None)), count) for i in range(count)
    ]
    outgoing = [w.observe() for w in workers]
    for _ in range(scenario.days):
        outgoing = [
            w.judge_then_observe(None, *[None if i == j else outgoing[i][j] for i in range(count)])
            for j, w in enumerate(workers)
        ]
    tally = sum_tallies([w.finish().value for w in workers])
    expected = SplitCity(scenario, 7, count).run()
    assert summarize(scenario, 7, scenario.days, tally) == summarize(
        scenario, 7, scenario.days, expected
    )
    assert tally.daily == expected.daily


@pytest.mark.parametrize(
    "scenario",
    [
        consequence_city(citizens=4000, days=80),
        xinyong.load_scenario("reference").with_sizes(citizens=3000, days=60),
    ],
    ids=["consequence-city", "reference"],
)
def test_drawing_tomorrow_ahead_on_the_second_core_draws_what_the_day_end_draws(
    scenario: xinyong.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tomorrow's draws for today's pairs start during the day, on the second core, before the
    day's listings and responses change some rates: the city must hold what it holds when
    every draw is made at the day's end (listed, released and responding citizens redrawn)."""
    ahead = City(scenario, 5, None).run()
    assert ahead.groups["citizen"].listed_any.any()  # some rates did change on the way
    from xinyong.model.behaviour import Behaviours

    monkeypatch.setattr(Behaviours, "draw_ahead", lambda *args: None)
    at_day_end = City(scenario, 5, None).run()
    assert ahead.summary() == at_day_end.summary()
    assert np.array_equal(ahead.occurrences(), at_day_end.occurrences())
    for a, b in zip(ahead.operators, at_day_end.operators, strict=True):
        assert np.array_equal(a.standing.score, b.standing.score)
        assert np.array_equal(a.standing.listing_day, b.standing.listing_day)


@pytest.mark.parametrize(
    "scenario",
    [
        consequence_city(citizens=4000, days=80),
        xinyong.load_scenario("reference").with_sizes(citizens=3000, days=60),
    ],
    ids=["consequence-city", "reference"],
)
def test_first_draws_made_beside_file_what_first_draws_made_here_file(
    scenario: xinyong.Scenario,
) -> None:
    """Set-up draws every other behaviour's first occurrences on the second core: the
    calendar must hold the same pairs, under the same days, in the same order."""
    from concurrent.futures import ThreadPoolExecutor

    from xinyong.engine import parts
    from xinyong.primitives.calendar import Calendar
    from xinyong.primitives.streams import Streams

    def filed(calendar: Calendar) -> list[list[int]]:
        return [np.concatenate(slot).tolist() if slot else [] for slot in calendar._slots]

    city = City(scenario, 5, None)
    setting = parts.Setting(
        scenario=scenario,
        streams=Streams(5),
        days=scenario.days,
        population=city.population,
        own=city.own,
        total=city.total,
        threads=True,
    )
    conduct = parts.conduct(setting)
    starts = parts.starting(setting, conduct["citizen"])

    def groups(beside: ThreadPoolExecutor | None = None) -> dict[str, parts.Group]:
        return parts.groups(setting, conduct, starts, city.collectors, beside)

    with ThreadPoolExecutor(1) as beside:
        made_beside = groups(beside)["citizen"].behaviours.calendar
    made_here = groups()["citizen"].behaviours.calendar
    assert sum(map(len, filed(made_here))) > 0
    assert filed(made_beside) == filed(made_here)
    assert made_beside._tags == made_here._tags
