"""An experiment on a real local Ray gives the same results as in local processes."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import ray

import xinyong


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_an_experiment_on_ray_equals_the_local_one() -> None:
    design = {
        "scenario": "reference",
        "citizens": 2000,
        "days": 30,
        "seeds": [1, 2],
        "metrics": ["mean_score", "events_misattributed", "wrongly_listed"],
        "arms": [{"name": "1pc"}, {"name": "5pc", "set": {"sensors.camera.misidentify": 0.05}}],
    }
    on_ray = xinyong.experiment(design, ray_address="local")
    local = xinyong.experiment(design)
    pd.testing.assert_frame_equal(on_ray.runs, local.runs)
    pd.testing.assert_frame_equal(on_ray.effects, local.effects)
    assert on_ray.ran == 4
