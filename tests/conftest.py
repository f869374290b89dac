"""Shared fixtures."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def reference_dict() -> dict[str, Any]:
    """The reference scenario as a plain dict, to edit."""
    from xinyong import load_scenario

    return load_scenario("reference").model_dump()


#: Test files that start Ray clusters: run one after another on one worker (``make test`` runs
#: the suite on two workers, ``--dist loadgroup``), so two Ray clusters never share the cores.
_ONE_AT_A_TIME = {
    "test_ray.py",
    "test_cluster.py",
    "test_experiments_ray.py",
    "test_split.py",
    "test_calibrate_ray.py",
    "test_fault_runs.py",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test file runs on one worker, in its order (files share module-scoped servers and
    runs between their tests); the files that start Ray clusters share one worker."""
    for item in items:
        group = "ray" if item.path.name in _ONE_AT_A_TIME else item.path.name
        item.add_marker(pytest.mark.xdist_group(group))
