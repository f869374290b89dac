"""Split runs on a real local Ray: bit-identical across worker counts; a dead worker fails
the run clearly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from helpers import consequence_city

import xinyong
from xinyong.engine.workers import WorkerError


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


def test_the_same_run_on_one_two_and_four_workers() -> None:
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=4000, days=30)
    runs = [xinyong.simulate(scenario, seed=9, workers=w) for w in (1, 2, 4)]
    try:
        first = runs[0]
        for other in runs[1:]:
            assert {k: v for k, v in other.summary.items() if k != "wall_seconds"} == {
                k: v for k, v in first.summary.items() if k != "wall_seconds"
            }
            assert other.daily.equals(first.daily)
            order = "ORDER BY day, operator, subject, actor, behaviour"
            assert other.query(f"SELECT * FROM ledger {order}").equals(
                first.query(f"SELECT * FROM ledger {order}")
            )
    finally:
        for r in runs:
            r.close()


def test_a_dead_worker_fails_the_run_with_its_day(tmp_path: Path) -> None:
    def kill_a_worker(day: int) -> None:
        if day == 3:
            name = next(n for n in ray.util.list_named_actors() if n.endswith("-block-1"))
            ray.kill(ray.get_actor(name))

    with pytest.raises(WorkerError, match="failed on day") as info:
        xinyong.simulate(
            consequence_city(citizens=2000, days=20),
            seed=1,
            workers=2,
            out=tmp_path / "run",
            progress=kill_a_worker,
        )
    assert "not saved as finished" in str(info.value)
    assert not (tmp_path / "run" / "summary.json").exists()


def test_a_failed_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=3000, days=20)

    def kill_on_day_13(day: int) -> None:
        if day == 13:
            name = next(n for n in ray.util.list_named_actors() if n.endswith("-block-0"))
            ray.kill(ray.get_actor(name))

    folder = tmp_path / "run"
    with pytest.raises(WorkerError, match="resume it from its last checkpoint"):
        xinyong.simulate(
            scenario, seed=4, workers=2, out=folder, checkpoint_every=5, progress=kill_on_day_13
        )
    assert not (folder / "summary.json").exists()
    with (
        xinyong.simulate(scenario, seed=4, workers=2, out=folder, resume=True) as resumed,
        xinyong.simulate(scenario, seed=4, workers=2) as straight,
    ):
        drop = {"wall_seconds"}
        assert {k: v for k, v in resumed.summary.items() if k not in drop} == {
            k: v for k, v in straight.summary.items() if k not in drop
        }
        order = "ORDER BY day, operator, subject, actor, behaviour"
        assert resumed.query(f"SELECT * FROM ledger {order}").equals(
            straight.query(f"SELECT * FROM ledger {order}")
        )
    assert (folder / "summary.json").exists() and not (folder / "blocks").exists()
