"""``xinyong calibrate``: what may be fitted, and a fit that finds known values again.

The fits here run a tiny history (1,000 citizens, 60 days from the list's launch, the debt
judgments made 30 times as common so that the record's counts are dozens, not none) against a
synthetic record: the same scenario run once with known values, its counterparts written in
the record format. A fit must find those values inside its 95 % intervals, and must call a
parameter the record carries nothing about (the companies' late taxes: no national list reads
the tax office) not identified.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from typer.testing import CliRunner

from xinyong.scenario import load_scenario, validate_scenario
from xinyong.scenario.fitted import load_fitted
from xinyong.scenario.overrides import apply, get
from xinyong.scenario.published import load_record
from xinyong.studies.calibration import (
    CalibrationError,
    CalibrationSpec,
    Parameter,
    load_calibration,
    parse_param,
    tag_of,
)
from xinyong.views.cli import app

pytest.importorskip("pyabc")

#: People's debt-judgment rates as the timeline sets them at the launch (the tiny run ends
#: before the 2016 campaign's step).
DEBT = (
    "timeline.2013-10-01.set.behaviours.contract_breach_judgment.p",
    "timeline.2013-10-01.set.behaviours.utility_arrears_judgment.p",
    "timeline.2013-10-01.set.behaviours.private_lending_breach.p",
)
#: The rate of meeting obligations the timeline sets at the launch (the tiny run ends before 2016).
MET = (
    "timeline.2013-10-01.set.operators.court.scheme.lists.dishonest-debtors.obligation_met_per_year"
)
#: The values the synthetic record is made with: the tiny scenario's own rates (multiplier 1)
#: and this obligation-met rate.
TRUE = {"debt": 1.0, "met": 2.0}


def _tiny():
    s = load_scenario("history").with_sizes(citizens=1000, days=60)
    return apply(s, {**{p: get(s, p) * 100 for p in DEBT}, MET: 1.0})


def _spec() -> CalibrationSpec:
    return CalibrationSpec(
        parameters=[
            Parameter(name="debt", paths=list(DEBT), scale=True, low=0.25, high=4.0, log=True),
            Parameter(name="met", paths=[MET], low=0.25, high=8.0, log=True),
            Parameter(
                name="late_tax", paths=["behaviours.late_tax.p"], low=1e-4, high=1e-2, log=True
            ),
        ],
        hold_out=[{"date": dt.date(2013, 10, 30)}],
    )


def _synthetic_record(path: Path) -> Path:
    """The tiny scenario run with the true values, its counterparts written as a record."""
    from xinyong.studies.abc_smc import Simulator

    s = _tiny()
    start = s.start
    assert start is not None
    template = {
        "origin": start.isoformat(),
        "observations": [
            {
                "quantity": q,
                "kind": "cumulative",
                "date": (start + dt.timedelta(days=day)).isoformat(),
                "value": 1.0,
                "scope": "individuals and companies",
                "source": "synthetic: the tiny history run with known values (assumption)",
            }
            for q in ("subjects ever listed", "listed subjects who met their obligations")
            for day in (29, 59)
        ],
    }
    path.write_text(tomli_w.dumps(template), encoding="utf-8")
    record = load_record(path)
    spec = _spec().checked(s)
    sim = Simulator(s.model_dump(by_alias=True), spec, tuple(record.observations), record.start, 0)
    figures = sim.run({"debt": TRUE["debt"], "met": TRUE["met"], "late_tax": 0.003}, seed=99)
    for o, key in zip(template["observations"], sim.keys, strict=True):
        assert figures[key] > 0, "the synthetic record must count something"
        o["value"] = figures[key]
    path.write_text(tomli_w.dumps(template), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def record_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synthetic_record(tmp_path_factory.mktemp("record") / "synthetic.toml")


@pytest.fixture(scope="module")
def stopped_and_resumed(record_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """A fit stopped after its first generation, then resumed for two more."""
    from xinyong.studies.fit import calibrate

    out = tmp_path_factory.mktemp("fit") / "fit"
    kwargs = {
        "params": _spec(),
        "record": record_file,
        "citizens": None,
        "population": 20,
        "workers": 1,
        "hours": 0.5,
        "out": out,
        "seed": 3,
    }
    first = calibrate(_tiny(), generations=1, predictive=0, **kwargs)
    resumed = calibrate(_tiny(), generations=2, predictive=6, resume=True, **kwargs)
    return first, resumed, out


# -- what may be fitted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, field, tag",
    [
        ("seed 001 (taxes paid on time); rate assumption", "p", "assumption"),
        (
            "Rongcheng ...; rate as the reference scenario (assumption); rate calibrated",
            "p",
            "assumption",
        ),
        (
            "SPC Provisions 2017: term 2 years, early removal (rate assumption, fitted: x)",
            "obligation_met_per_year",
            "assumption",
        ),
        (
            "SPC Provisions 2017: term 2 years, early removal (rate assumption, fitted: x)",
            "term_days",
            None,
        ),
        (
            "CR (uses_per_year); demand by income, after_refusal and its memory assumption",
            "after_refusal",
            "assumption",
        ),
        (
            "CR (uses_per_year); demand by income, after_refusal and its memory assumption",
            "uses_per_year",
            None,
        ),
        ("assumption (a record scale)", "start", "assumption"),
        ("report (3.59M); rate fitted to record.toml (fitted-history.toml)", "p", "fitted"),
        ("SPC Provisions 2017 (refusing a judgment)", "p", None),
    ],
)
def test_a_source_tags_a_field_as_an_assumption_only_when_it_says_so(
    source: str, field: str, tag: str | None
) -> None:
    assert tag_of(source, field) == tag


def test_the_built_in_calibration_of_history_fits_only_assumptions() -> None:
    s = load_scenario("history")
    spec = load_calibration("history").checked(s)
    assert len(spec.parameters) >= 4
    assert sum(len(p.paths) for p in spec.parameters) >= 6
    assert spec.hold_out


def test_a_path_with_a_published_source_is_refused_unless_allowed() -> None:
    s = load_scenario("history")
    path = "operators.court.scheme.lists.dishonest-debtors.repeat_extension_days"
    spec = CalibrationSpec(parameters=[parse_param(f"{path}=100:1000")])
    with pytest.raises(CalibrationError, match=r"published source.*--allow-sourced"):
        spec.checked(s)
    assert spec.checked(s, allow_sourced=True).parameters[0].paths == [path]


def test_a_path_the_timeline_sets_on_its_first_day_is_refused_and_its_change_fitted() -> None:
    history = load_scenario("history")
    spec = CalibrationSpec(parameters=[parse_param("consequences.services.rail.checked_share=0:1")])
    with pytest.raises(CalibrationError, match=r"first day \(2013-10-01\).*timeline.2013-10-01"):
        spec.checked(history)
    rate = "operators.court.scheme.lists.dishonest-debtors.obligation_met_per_year"
    later = f"timeline.2016-03-13.set.{rate}"  # what the 2016 change sets, a fitted assumption
    fitted = CalibrationSpec(parameters=[parse_param(f"{later}=0.05:0.5")]).checked(history)
    assert fitted.parameters[0].paths == [later]
    changed = apply(history, fitted.overrides(history, {fitted.parameters[0].name: 0.4}))
    sets = {str(c.date): c.set for c in changed.timeline}
    assert sets["2016-03-13"][rate] == 0.4
    assert sets["2013-10-01"][rate] == get(history, f"timeline.2013-10-01.set.{rate}")
    sourced = "timeline.2015-07-22.set.consequences.services.rail.checked_share=0.5:0.9"
    with pytest.raises(CalibrationError, match="published source"):  # the 2015 provisions
        CalibrationSpec(parameters=[parse_param(sourced)]).checked(history)


def test_a_path_the_timeline_sets_later_is_fitted_for_the_days_before() -> None:
    history = load_scenario("history")
    path = "consequences.services.rail.after_refusal"
    data = history.model_dump(by_alias=True)
    data["timeline"].append({"date": "2018-01-01", "what": "retries", "set": {path: 0.9}})
    later = validate_scenario(data, "history with a later change")
    spec = CalibrationSpec(parameters=[parse_param(f"{path}=0:1")]).checked(later)
    assert spec.parameters[0].paths == [path]


@pytest.mark.parametrize(
    "text, message",
    [
        ("behaviours.late_tax.p", "PATH=LOW:HIGH"),
        ("behaviours.late_tax.p=a:b", "must be numbers"),
        ("behaviours.late_tax.p=0:1:ln", "may only be 'log'"),
        ("behaviours.late_tax.p=0:1:log", "needs low > 0"),
        ("behaviours.late_tax.p=2:1", "must be below"),
    ],
)
def test_a_bad_param_says_what_to_write(text: str, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        parse_param(text)


def test_a_prior_the_scenario_refuses_is_refused_before_any_run() -> None:
    spec = CalibrationSpec(parameters=[parse_param("behaviours.late_tax.p=0.5:3")])
    with pytest.raises(CalibrationError, match="an end of its prior"):
        spec.checked(load_scenario("history"))


def test_the_command_refuses_a_sourced_path_in_one_line(tmp_path: Path) -> None:
    path = "operators.court.scheme.lists.dishonest-debtors.repeat_extension_days"
    result = CliRunner().invoke(
        app, ["calibrate", "history", "--param", f"{path}=100:1000", "--out", str(tmp_path / "f")]
    )
    assert result.exit_code == 2
    assert "published source" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "f").exists()


# -- a fit -----------------------------------------------------------------------------------


def test_a_fit_finds_the_known_values_inside_its_intervals(stopped_and_resumed) -> None:
    _, fit, _ = stopped_and_resumed
    table = fit.table().set_index("parameter")
    for name, true in TRUE.items():
        assert table.at[name, "low"] <= true <= table.at[name, "high"], table.loc[name]


def test_a_parameter_the_record_says_nothing_about_is_not_identified(stopped_and_resumed) -> None:
    _, fit, _ = stopped_and_resumed
    table = fit.table().set_index("parameter")
    assert not table.at["late_tax", "identified"]
    # ... while those it counts narrow more than it does
    assert table.at["debt", "width_vs_prior"] < table.at["late_tax", "width_vs_prior"]
    assert table.at["met", "width_vs_prior"] < table.at["late_tax", "width_vs_prior"]


def test_resume_continues_a_stopped_fit_from_its_last_generation(stopped_and_resumed) -> None:
    first, resumed, _ = stopped_and_resumed
    assert list(first.generations["t"]) == [0]
    assert list(resumed.generations["t"]) == [0, 1, 2]
    eps = resumed.generations["epsilon"].to_numpy()
    # Only the first generation (from the prior) accepts everything: the resumed one starts
    # from the last one's distances (it read "inf" and rejected nothing).
    assert np.isinf(eps[0]) and np.isfinite(eps[1:]).all()
    assert eps[2] < eps[1]
    assert resumed.generations["runs"].iloc[0] == first.generations["runs"].iloc[0]


def test_held_out_observations_are_predicted_apart(stopped_and_resumed) -> None:
    _, fit, _ = stopped_and_resumed
    obs = fit.observations()
    assert sorted(obs["role"]) == ["fitted", "fitted", "held out", "held out"]
    assert (obs["runs"] == 6).all()
    assert (obs["predicted_low"] <= obs["predicted_high"]).all()


def test_the_fit_writes_a_pack_that_simulate_applies(stopped_and_resumed) -> None:
    _, _, out = stopped_and_resumed
    for name in ("posterior.csv", "observations.csv", "fitted.toml", "fit.html", "abc.db"):
        assert (out / name).is_file(), name
    pack = load_fitted(out / "fitted.toml")
    assert {v.path for v in pack.values} == {*DEBT, MET, "behaviours.late_tax.p"}
    for v in pack.values:
        assert v.low <= v.value <= v.high and "xinyong calibrate" in v.source
    assert "behaviours.late_tax.p" not in pack.overrides()  # not identified: not applied
    changed = apply(_tiny(), pack.overrides(all_values=True))
    assert math.isclose(get(changed, MET), next(v.value for v in pack.values if v.path == MET))
    assert tomllib.loads((out / "fitted.toml").read_text())["scenario"] == "history"


def test_resuming_with_other_options_is_refused(stopped_and_resumed, record_file: Path) -> None:
    from xinyong.studies.fit import calibrate

    _, _, out = stopped_and_resumed
    with pytest.raises(CalibrationError, match="another seed"):
        calibrate(
            _tiny(),
            _spec(),
            record=record_file,
            citizens=None,
            population=12,
            out=out,
            resume=True,
            seed=4,
        )
    with pytest.raises(CalibrationError, match="not empty: add --resume"):
        calibrate(_tiny(), _spec(), record=record_file, citizens=None, population=12, out=out)


def test_a_budget_that_ends_before_the_first_generation_says_so(record_file: Path) -> None:
    from xinyong.studies.fit import calibrate

    with pytest.raises(CalibrationError, match=r"ended before the first generation"):
        calibrate(
            _tiny(),
            _spec(),
            record=record_file,
            citizens=None,
            population=12,
            workers=1,
            hours=0.5 / 3600,
        )


def test_simulate_applies_a_fitted_pack_before_set(tmp_path: Path) -> None:
    from xinyong.scenario.fitted import FittedPack

    pack = FittedPack(
        name="fitted-reference",
        about="a hand-made fit, for the test",
        scenario="reference",
        record="record.toml",
        date=dt.date(2026, 1, 1),
        command="by hand",
        source="a test (assumption)",
        values=[
            {
                "path": p,
                "value": v,
                "low": v,
                "high": v,
                "parameter": p,
                "identified": ok,
                "source": "a test (assumption)",
            }
            for p, v, ok in (
                ("sensors.camera.misidentify", 0.07, True),
                ("sensors.camera.detect", 0.3, True),
                ("behaviours.jaywalking.p", 0.5, False),  # not identified: not applied
            )
        ],
    )
    (tmp_path / "fit.toml").write_text(pack.to_toml(), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--citizens",
            "200",
            "--days",
            "2",
            "--out",
            str(out),
            "--fitted",
            str(tmp_path / "fit.toml"),
            "--set",
            "sensors.camera.detect=0.4",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    overrides = json.loads((out / "summary.json").read_text())["overrides"]
    assert overrides == {"sensors.camera.misidentify": 0.07, "sensors.camera.detect": 0.4}
    bad = CliRunner().invoke(app, ["simulate", "--fitted", str(tmp_path / "none.toml")])
    assert bad.exit_code == 2 and "no fitted pack" in bad.output
