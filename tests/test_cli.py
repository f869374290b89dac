"""The command line, end to end, in a real subprocess as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import xinyong

SUMMARY_KEYS = {"citizens", "days", "seed", "mean_score", "grade_shares", "listed_share",
                "ever_listed_share", "events_occurred", "events_recorded",
                "events_misattributed", "wrongly_listed", "wall_seconds"}


def xy(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``xinyong`` command."""
    exe = Path(sys.executable).with_name("xinyong")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "city"
    result = xy("simulate", "--scenario", "reference", "--citizens", "4000", "--days", "200",
                "--seed", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout and "summary.json" in result.stdout
    return out


def test_simulate_writes_summary_and_store(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert (summary["citizens"], summary["days"], summary["seed"]) == (4000, 200, 5)
    assert (run_dir / "run.duckdb").is_file()
    with xinyong.open_run(run_dir) as run:
        assert run.summary == summary
        assert len(run.daily) == 200
        assert len(run.ledger) == summary["events_recorded"]


def test_same_command_same_summary(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert xy("simulate", "--citizens", "4000", "--days", "200", "--seed", "5",
              "--out", str(again)).returncode == 0
    first, second = (json.loads((d / "summary.json").read_text()) for d in (run_dir, again))
    first.pop("wall_seconds"), second.pop("wall_seconds")
    assert first == second


def test_explain_prints_the_ledger(run_dir: Path) -> None:
    with xinyong.open_run(run_dir) as run:
        citizen = int(run.query("SELECT subject FROM ledger WHERE misattributed LIMIT 1")
                      ["subject"][0])
        explanation = run.explain(citizen)
    result = xy("explain", str(run_dir), str(citizen))
    assert result.returncode == 0, result.stderr
    assert f"Citizen {citizen} of 'reference' after 200 days: score {explanation.score}" \
        in result.stdout
    assert "done by citizen" in result.stdout
    for behaviour in explanation.events["behaviour"]:
        assert behaviour in result.stdout


def test_explain_json(run_dir: Path) -> None:
    with xinyong.open_run(run_dir) as run:
        citizen = int(run.query("SELECT subject FROM ledger WHERE points < 0 LIMIT 1")
                      ["subject"][0])
        expected = run.explain(citizen)
    result = xy("explain", str(run_dir), str(citizen), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["score"] == expected.score
    assert len(data["events"]) == len(expected.events) > 0
    assert data["events"][-1]["score"] == expected.score


def test_unknown_citizen(run_dir: Path) -> None:
    result = xy("explain", str(run_dir), "4000")
    assert result.returncode == 1
    assert "citizen 4000 is not in this run: citizens are numbered 0 to 3999" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_run(tmp_path: Path) -> None:
    result = xy("explain", str(tmp_path / "nowhere"), "1")
    assert result.returncode == 1
    assert "no run at" in result.stderr and "does not exist" in result.stderr


def test_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = xy("explain", str(tmp_path), "1")
    assert "is not a xinyong run" in result.stderr


def test_existing_output_folder_is_not_overwritten(run_dir: Path) -> None:
    before = (run_dir / "summary.json").read_text()
    result = xy("simulate", "--citizens", "100", "--days", "5", "--out", str(run_dir))
    assert result.returncode == 1
    assert "already exists and is not empty" in result.stderr
    assert (run_dir / "summary.json").read_text() == before


def test_interrupted_run_is_reported(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.duckdb").write_bytes((run_dir / "run.duckdb").read_bytes())
    result = xy("explain", str(broken), "1")
    assert result.returncode == 1
    assert "did not finish" in result.stderr and "interrupted" in result.stderr


def test_half_written_store_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "half"
    broken.mkdir()
    (broken / "run.duckdb").write_bytes(b"DUCK" * 100)
    (broken / "summary.json").write_text("{}")
    result = xy("explain", str(broken), "1")
    assert result.returncode == 1
    assert "summary.json' is damaged" in result.stderr and "simulate again" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "my-city.toml"
    path.write_text('name = "x"\ncitizens = 10\n')
    result = xy("simulate", "--scenario", str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "scenario 'my-city.toml', days: this field is required" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_scenario_name(tmp_path: Path) -> None:
    result = xy("simulate", "--scenario", "rongchen", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "no scenario 'rongchen'" in result.stderr


def test_scenarios_lists_the_reference() -> None:
    result = xy("scenarios")
    assert result.returncode == 0
    assert "reference" in result.stdout and "740,000" in result.stdout


def test_summary_command(run_dir: Path) -> None:
    result = xy("summary", str(run_dir))
    assert result.returncode == 0 and "listed_share" in result.stdout
