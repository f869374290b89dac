"""A fit is the same wherever its runs go and however often it stops: local worker processes,
Ray tasks, or one process resumed after a cut in the middle of a generation.

Each draw of a generation is made from its own addressed stream and each run's seed from the
draw, so the particles of a fit do not depend on which worker finished first; a resumed fit
takes the runs its cut generation had finished (kept in the fit's folder) instead of running
them again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyabc")
pytest.importorskip("ray")

from test_calibrate import _spec, _synthetic_record, _tiny

from xinyong.studies.calibration import CalibrationError


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory):
    from xinyong.studies.fit import calibrate

    folder = tmp_path_factory.mktemp("where")
    record = _synthetic_record(folder / "synthetic.toml")
    common = {"record": record, "citizens": None, "population": 4, "generations": 2}
    local = calibrate(_tiny(), _spec(), workers=2, predictive=0, **common)
    return local, common, folder


def test_a_fit_on_ray_equals_the_fit_on_local_processes(setting) -> None:
    from xinyong.studies.fit import calibrate

    local, common, _ = setting
    on_ray = calibrate(_tiny(), _spec(), ray_address="local", predictive=2, **common)
    assert list(on_ray.generations["t"]) == [0, 1]
    pd.testing.assert_frame_equal(local.particles, on_ray.particles)
    pd.testing.assert_frame_equal(local.generations, on_ray.generations)
    assert len(on_ray.predictive) == 2


def test_a_fit_cut_mid_generation_and_resumed_equals_the_fit_run_through(setting) -> None:
    from xinyong.studies.fit import calibrate

    local, common, folder = setting
    out: Path = folder / "cut"
    with pytest.raises(CalibrationError, match="--resume continues"):
        calibrate(_tiny(), _spec(), workers=1, predictive=0, out=out, max_runs=2, **common)
    kept = list((out / "runs").glob("t0-*.pkl"))
    assert len(kept) == 2  # two runs of generation 0, of the four it needs
    resumed = calibrate(_tiny(), _spec(), workers=1, predictive=0, out=out, resume=True, **common)
    pd.testing.assert_frame_equal(local.particles, resumed.particles)
    assert resumed.runs == int(local.generations["runs"].sum()) - len(kept)
