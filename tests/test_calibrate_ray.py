"""A fit is the same wherever its runs go: local worker processes or Ray tasks.

Each draw of a generation is made from its own addressed stream and each run's seed from the
draw, so the particles of a fit do not depend on which worker finished first.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyabc")
pytest.importorskip("ray")

from test_calibrate import _spec, _synthetic_record, _tiny


def test_a_fit_on_ray_equals_the_fit_on_local_processes(tmp_path: Path) -> None:
    from xinyong.studies.fit import calibrate

    record = _synthetic_record(tmp_path / "synthetic.toml")
    common = {"record": record, "citizens": None, "population": 4, "generations": 2}
    local = calibrate(_tiny(), _spec(), workers=2, predictive=0, **common)
    on_ray = calibrate(_tiny(), _spec(), ray_address="local", predictive=2, **common)
    assert list(on_ray.generations["t"]) == [0, 1]
    pd.testing.assert_frame_equal(local.particles, on_ray.particles)
    pd.testing.assert_frame_equal(local.generations, on_ray.generations)
    assert len(on_ray.predictive) == 2
