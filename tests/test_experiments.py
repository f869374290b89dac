"""Experiments: paired intervals, identical arms, resume after a kill, designs checked before
anything runs, and SALib's own indices."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

import xinyong
from xinyong.studies.design import DesignError
from xinyong.studies.effects import paired_effect
from xinyong.studies.experiments import MetricError, metric_value

XINYONG = str(Path(sys.executable).with_name("xinyong"))
SMALL = {"scenario": "reference", "citizens": 2000, "days": 40}


def test_the_paired_interval_is_students_t_on_the_differences() -> None:
    arm = np.array([11.0, 14.0, 13.0, 17.0, 15.0])
    base = np.array([10.0, 12.0, 10.0, 13.0, 10.0])  # differences 1, 2, 3, 4, 5
    e = paired_effect(arm, base)
    # by hand: mean 3, sd sqrt(2.5), se sqrt(2.5 / 5); t(0.975, 4 df) = 2.7764451052 (tables)
    half = 2.7764451052 * math.sqrt(2.5 / 5)
    assert e.mean_diff == 3.0
    assert e.lo == pytest.approx(3 - half, abs=1e-9) and e.hi == pytest.approx(3 + half, abs=1e-9)
    # Welch, by hand: se^2 = s_a^2/n + s_b^2/n, Welch-Satterthwaite degrees of freedom
    va, vb, n = arm.var(ddof=1), base.var(ddof=1), 5
    se2 = va / n + vb / n
    df = se2**2 / ((va / n) ** 2 / (n - 1) + (vb / n) ** 2 / (n - 1))
    from scipy.stats import t

    whalf = t.ppf(0.975, df) * math.sqrt(se2)
    assert e.unpaired_lo == pytest.approx(3 - whalf) and e.unpaired_hi == pytest.approx(3 + whalf)
    assert e.variance_reduction == pytest.approx((va + vb) / 2.5)
    assert math.isnan(paired_effect(arm[:1], base[:1]).lo)  # one seed: no interval


def test_identical_arms_differ_by_exactly_zero_and_columns_name_the_factor() -> None:
    metrics = [
        "mean_score",
        "wrongly_listed",
        "events_misattributed",
        "listed_share",
        "grade_shares.A",
    ]
    exp = xinyong.experiment(
        {
            **SMALL,
            "seeds": [1, 2, 3],
            "metrics": metrics,
            "arms": [
                {"name": "as-is"},
                {
                    "name": "same",
                    "set": {"sensors.camera.misidentify": 0.01},
                },  # the scenario's value
                {"name": "5pc", "set": {"sensors.camera.misidentify": 0.05}},
            ],
        }
    )
    assert list(exp.runs.columns) == ["arm", "seed", "sensors.camera.misidentify", *metrics]
    assert exp.runs.groupby("arm", sort=False)["sensors.camera.misidentify"].first().tolist() == [
        0.01,
        0.01,
        0.05,
    ]
    same = exp.effects[exp.effects.arm == "same"]
    assert len(same) == len(metrics)
    assert (same[["mean_diff", "lo", "hi"]] == 0.0).all().all()
    moved = exp.effects.set_index(["arm", "metric"]).loc[("5pc", "events_misattributed")]
    assert moved.lo > 0 and moved.lo <= moved.mean_diff <= moved.hi
    assert "<table" in exp._repr_html_()


def _count(scenario, seed, overrides):  # a runner that must never be called
    raise AssertionError("a run started")


def test_a_bad_factor_path_or_value_is_refused_before_any_run(tmp_path: Path) -> None:
    design = {
        **SMALL,
        "seeds": 2,
        "metrics": ["mean_score"],
        "design": "factorial",
        "factors": [{"path": "sensors.camera.misidentfy", "values": [0.01, 0.05]}],
    }
    with pytest.raises(
        DesignError,
        match=re.escape("no field 'misidentfy' in sensors.camera; did you mean 'misidentify'"),
    ):
        xinyong.experiment(design, out=tmp_path / "x", runner=_count)
    design["factors"] = [{"path": "sensors.camera.misidentify", "values": [0.01, 5]}]
    with pytest.raises(DesignError, match=r"arm 'misidentify=5'.*a probability must be in"):
        xinyong.experiment(design, out=tmp_path / "x", runner=_count)
    assert not (tmp_path / "x").exists()
    with pytest.raises(DesignError, match="baseline = 'cameras' is not an arm"):
        xinyong.experiment(
            {
                **SMALL,
                "seeds": 1,
                "metrics": ["mean_score"],
                "baseline": "cameras",
                "arms": [{"name": "cameras-1pc"}],
            },
            runner=_count,
        )


def test_a_metric_typo_stops_after_one_run_and_names_the_figures(tmp_path: Path) -> None:
    with pytest.raises(MetricError, match="did you mean 'wrongly_listed'"):
        xinyong.experiment(
            {
                **SMALL,
                "seeds": 3,
                "metrics": ["wrongly_lsted"],
                "arms": [{"name": "a"}, {"name": "b"}],
            },
            out=tmp_path / "x",
        )
    assert len(list((tmp_path / "x" / "runs").glob("*.json"))) == 1  # kept for the rerun
    assert metric_value({"a": {"b": 2}}, "a.b") == 2.0
    with pytest.raises(MetricError, match=re.escape("is a table; name one of its figures: a.b")):
        metric_value({"a": {"b": 2}}, "a")


DESIGN = """
scenario = "reference"
citizens = {citizens}
days = {days}
seeds = [1, 2, 3, 4]
metrics = ["wrongly_listed", "mean_score"]
baseline = "cameras-1pc"

[[arms]]
name = "cameras-1pc"

[[arms]]
name = "cameras-5pc"
set = {{ "sensors.camera.misidentify" = 0.05 }}
"""


def _xy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [XINYONG, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"},
    )


def test_the_smallest_design_runs_as_written_on_two_workers_and_reports(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(DESIGN.format(citizens=3000, days=60))
    result = _xy("experiment", "d.toml", "--out", "out", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == [
        "arm",
        "seed",
        "sensors.camera.misidentify",
        "wrongly_listed",
        "mean_score",
    ]
    assert len(runs) == 8 and sorted(set(runs.seed)) == [1, 2, 3, 4]
    assert list(pd.read_csv(out / "effects.csv").columns) == [
        "arm",
        "metric",
        "mean_diff",
        "lo",
        "hi",
        "unpaired_lo",
        "unpaired_hi",
        "variance_reduction",
    ]
    assert pd.read_parquet(out / "runs.parquet").equals(pd.read_parquet(out / "runs.parquet"))
    import duckdb

    con = duckdb.connect(str(out / "experiment.duckdb"), read_only=True)
    con.execute(f"SET file_search_path = '{out}'")
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 8
    report = _xy("report", "out", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    page = (out / "report.html").read_text()
    assert "Effects against the baseline" in page and "The design" in page
    assert "cameras-5pc" in page and "plotly-gz" in page


def test_resume_after_a_kill_skips_what_finished(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(DESIGN.format(citizens=20000, days=120))
    proc = subprocess.Popen(
        [XINYONG, "experiment", "d.toml", "--out", "out"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin"},
    )
    runs = tmp_path / "out" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert 2 <= len(finished) < 8, "kill the experiment while it runs"
    result = _xy("experiment", "d.toml", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{8 - len(finished)} runs done, {len(finished)} found finished" in " ".join(
        result.stdout.split()
    )
    for name, mtime in finished.items():  # not run again, not rewritten
        assert (runs / name).stat().st_mtime_ns == mtime
    whole = xinyong.experiment(tmp_path / "d.toml")  # the same, uninterrupted
    resumed = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    pd.testing.assert_frame_equal(resumed, whole.runs)
    again = _xy("experiment", "d.toml", "--out", "out", cwd=tmp_path)
    assert "0 runs done, 8 found finished" in " ".join(again.stdout.split())


def ishigami(scenario, seed, overrides):
    """A cheap model: Ishigami's function of three detection probabilities mapped to ±π."""
    x = np.array([[scenario.sensors[s].detect for s in ("camera", "collector", "online")]])
    return {"y": float(Ishigami.evaluate(-np.pi + 2 * np.pi * x)[0])}


FACTORS = [
    {"path": f"sensors.{s}.detect", "range": [0.0, 1.0]} for s in ("camera", "collector", "online")
]
PROBLEM = {
    "num_vars": 3,
    "bounds": [[0.0, 1.0]] * 3,
    "names": [f"sensors.{s}.detect" for s in ("camera", "collector", "online")],
}


def test_sobol_reproduces_salibs_own_indices() -> None:
    exp = xinyong.experiment(
        {
            **SMALL,
            "seeds": [1],
            "metrics": ["y"],
            "design": "sobol",
            "samples": 64,
            "sample_seed": 7,
            "factors": FACTORS,
        },
        runner=ishigami,
    )
    x = sobol_sample.sample(PROBLEM, 64, calc_second_order=False, seed=7)
    own = sobol_analyze.analyze(
        PROBLEM, Ishigami.evaluate(-np.pi + 2 * np.pi * x), calc_second_order=False, seed=7
    )
    got = exp.sensitivity.set_index("factor").loc[PROBLEM["names"]]
    for column in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_allclose(got[column], own[column], rtol=1e-12)


def test_morris_reproduces_salibs_own_indices() -> None:
    exp = xinyong.experiment(
        {
            **SMALL,
            "seeds": [1, 2],
            "metrics": ["y"],
            "design": "morris",
            "samples": 10,
            "levels": 4,
            "sample_seed": 3,
            "factors": FACTORS,
        },
        runner=ishigami,
    )
    x = morris_sample.sample(PROBLEM, 10, num_levels=4, seed=3)
    own = morris_analyze.analyze(
        PROBLEM, x, Ishigami.evaluate(-np.pi + 2 * np.pi * x), num_levels=4, seed=3
    )
    got = exp.sensitivity.set_index("factor").loc[PROBLEM["names"]]
    for column in ("mu_star", "mu_star_conf", "mu", "sigma"):
        np.testing.assert_allclose(got[column], own[column], rtol=1e-12)
    assert len(exp.runs) == 2 * (10 * 4 + 1)  # trajectories × (factors + 1), the baseline


def test_designs_make_their_arms() -> None:
    from xinyong.studies.design import load_design, plan

    d, _ = load_design(
        {
            **SMALL,
            "seeds": 1,
            "metrics": ["mean_score"],
            "design": "factorial",
            "factors": [
                {"path": "sensors.camera.misidentify", "values": [0.01, 0.05]},
                {
                    "path": "operators.city.scheme.floor",
                    "range": [600, 700],
                    "steps": 3,
                    "integer": True,
                },
            ],
        }
    )
    p = plan(d)
    assert list(p.arms) == [
        f"misidentify={m},floor={f}" for m in (0.01, 0.05) for f in (600, 650, 700)
    ]
    assert p.factors == ["sensors.camera.misidentify", "score.floor"]
    d, _ = load_design(
        {
            **SMALL,
            "seeds": 1,
            "metrics": ["mean_score"],
            "design": "one-at-a-time",
            "factors": [
                {"path": "sensors.camera.misidentify", "values": [0.01, 0.05]},
                {"path": "sensors.camera.detect", "values": [0.3, 0.9]},
            ],
        }
    )
    p = plan(d)
    assert list(p.arms) == ["baseline", "misidentify=0.05", "detect=0.3", "detect=0.9"]
    assert p.values["detect=0.3"] == {
        "sensors.camera.misidentify": 0.01,
        "sensors.camera.detect": 0.3,
    }
    with pytest.raises(DesignError, match=re.escape("give factor 'sensors.camera.detect' range")):
        load_design(
            {
                **SMALL,
                "seeds": 1,
                "metrics": ["m"],
                "design": "morris",
                "factors": [{"path": "sensors.camera.detect", "values": [0.3]}],
            }
        )
    with pytest.raises(DesignError, match="unknown field"):
        load_design({**SMALL, "seed": 1, "metrics": ["m"], "arms": [{"name": "a"}]})


def test_the_cli_refuses_a_bad_design_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(
        DESIGN.format(citizens=2000, days=10).replace("misidentify", "misidentfy")
    )
    result = _xy("experiment", "d.toml", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "error: arm 'cameras-5pc': no field 'misidentfy' in sensors.camera; did you mean "
        "'misidentify'?" in " ".join(result.stderr.split())
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    bad = _xy(
        "simulate",
        "--citizens",
        "100",
        "--set",
        "sensors.[bold]camra.detect=1",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "no sensor '[bold]camra' in sensors" in bad.stderr
    assert not (tmp_path / "run").exists()
    serve = subprocess.run(
        [
            XINYONG,
            "serve",
            "--scenario",
            "reference",
            "--citizens",
            "100",
            "--run",
            "live",
            "--set",
            "sensors.camera.misidentfy=0.05",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "XINYONG_KEYS": "s3cret=admin"},
    )
    assert serve.returncode == 2 and "did you mean 'misidentify'" in serve.stderr
    assert not (tmp_path / "live").exists()
    shown = _xy("scenarios", "--show", "reference", cwd=tmp_path)
    assert shown.returncode == 0 and 'name = "reference"' in shown.stdout
    assert "did you mean 'rongcheng'" in _xy("scenarios", "--show", "rongchen", cwd=tmp_path).stderr


def test_a_rerun_with_changed_arm_settings_is_refused(tmp_path: Path) -> None:
    design = {
        **SMALL,
        "seeds": [1],
        "metrics": ["mean_score"],
        "arms": [{"name": "a"}, {"name": "b", "set": {"sensors.camera.detect": 0.5}}],
    }
    xinyong.experiment(design, out=tmp_path / "x")
    design["arms"][1]["set"] = {"sensors.camera.detect": 0.4}
    with pytest.raises(DesignError, match="was run with other settings than arm 'b'"):
        xinyong.experiment(design, out=tmp_path / "x")
    record = json.loads((tmp_path / "x" / "design.json").read_text())
    assert record["baseline"] == "a"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "summary.json").write_text("{}")
    with pytest.raises(DesignError, match="holds no experiment"):
        xinyong.experiment(design, out=tmp_path / "other")


def test_a_killed_experiment_leaves_no_worker_behind(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(
        DESIGN.format(citizens=20000, days=120).replace(
            "seeds = [1, 2, 3, 4]", "seeds = [1, 2, 3, 4, 5, 6, 7, 8]"
        )
    )
    proc = subprocess.Popen(
        [XINYONG, "experiment", "d.toml", "--out", "out", "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin"},
    )
    runs = tmp_path / "out" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(runs.glob("*.json")):
        time.sleep(0.05)  # the workers are up and running
    children, parents = [], [str(proc.pid)]
    while parents:  # the workers, and whatever started them (a fork server)
        found = subprocess.run(
            ["pgrep", "-P", parents.pop()], capture_output=True, text=True
        ).stdout.split()
        children += found
        parents += found
    assert len(children) >= 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
        time.sleep(0.1)
    assert not [c for c in children if Path(f"/proc/{c}").exists()]


def test_a_morris_report_says_what_a_screen_is_and_shows_no_paired_arms(tmp_path: Path) -> None:
    """A sensitivity design's points are not arms against a baseline: its report describes
    the screen, and carries no paired-arm text and no tables of effects (nor of nan)."""
    from xinyong.views.experiment_report import write_experiment_report

    exp = xinyong.experiment(
        {
            **SMALL,
            "citizens": 600,
            "days": 10,
            "seeds": [1],
            "metrics": ["mean_score", "events_recorded"],
            "design": "morris",
            "samples": 2,
            "levels": 4,
            "sample_seed": 1,
            "factors": [
                {"path": "sensors.camera.detect", "range": [0.3, 0.9]},
                {"path": "sensors.camera.misidentify", "range": [0.0, 0.05]},
            ],
        },
        out=tmp_path / "screen",
    )
    assert exp.sensitivity is not None
    page = write_experiment_report(tmp_path / "screen").read_text(encoding="utf-8")
    assert "Morris sensitivity analysis: 6 points of the design" in page
    assert "Baseline:" not in page and "paired by seed" not in page
    assert "Effects against the baseline" not in page and "Effects, in figures" not in page
    assert ">nan<" not in page
