"""The command line, end to end, in a real subprocess as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import xinyong

SUMMARY_KEYS = {
    "citizens",
    "days",
    "seed",
    "mean_score",
    "grade_shares",
    "listed_share",
    "ever_listed_share",
    "events_occurred",
    "events_recorded",
    "events_misattributed",
    "wrongly_listed",
    "wall_seconds",
}


def xy(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``xinyong`` command (on the sources under test: a ``PYTHONPATH``
    that points at a worktree's ``src`` is passed on, made absolute)."""
    exe = Path(sys.executable).with_name("xinyong")
    env = {"COLUMNS": "120", "PATH": "/usr/bin:/bin"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep)
        )
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "city"
    result = xy(
        "simulate",
        "--scenario",
        "reference",
        "--citizens",
        "4000",
        "--days",
        "200",
        "--seed",
        "5",
        "--out",
        str(out),
    )
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
    assert (
        xy(
            "simulate", "--citizens", "4000", "--days", "200", "--seed", "5", "--out", str(again)
        ).returncode
        == 0
    )
    first, second = (json.loads((d / "summary.json").read_text()) for d in (run_dir, again))
    first.pop("wall_seconds"), second.pop("wall_seconds")
    assert first == second


def test_explain_prints_the_ledger(run_dir: Path) -> None:
    with xinyong.open_run(run_dir) as run:
        citizen = int(
            run.query("SELECT subject FROM ledger WHERE misattributed LIMIT 1")["subject"][0]
        )
        explanation = run.explain(citizen)
    result = xy("explain", str(run_dir), str(citizen))
    assert result.returncode == 0, result.stderr
    assert (
        f"Citizen {citizen} of 'reference' after 200 days: score {explanation.score}"
        in result.stdout
    )
    assert "done by citizen" in result.stdout
    for behaviour in explanation.events["behaviour"]:
        assert behaviour in result.stdout


def test_explain_json(run_dir: Path) -> None:
    with xinyong.open_run(run_dir) as run:
        citizen = int(
            run.query("SELECT subject FROM ledger WHERE points < 0 LIMIT 1")["subject"][0]
        )
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


# The newcomer's first hour (issue 16): one test per fault seen.


def test_help_texts_keep_their_brackets() -> None:
    simulate_help = xy("simulate", "--help").stdout
    assert "runs/SCENARIO-seedSEED" in simulate_help
    assert "xinyong[ray]" in simulate_help
    assert "[[keys]]" in xy("serve", "--help").stdout


def test_serve_help_explains_every_option() -> None:
    text = xy("serve", "--help").stdout
    for option, words in (
        ("--citizens", "Population"),
        ("--days", "Days"),
        ("--seed", "Seed"),
        ("--port", "Port"),
    ):
        line = next(line for line in text.splitlines() if option in line)
        assert words in line, line


def test_errors_keep_their_brackets(run_dir: Path) -> None:
    result = xy("gate", str(run_dir), "rail", "5")
    assert result.returncode == 1
    assert "has no [consequences] table" in result.stderr


@pytest.fixture(scope="module")
def notices_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers import consequence_city

    out = tmp_path_factory.mktemp("cli-notices") / "city"
    xinyong.simulate(consequence_city(citizens=1500, days=60), seed=2, out=out).close()
    return out


def test_notice_lines_keep_their_brackets(notices_run: Path) -> None:
    result = xy("notices", str(notices_run), "--kind", "billboard", "--limit", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert all("[billboard at the crossing, with photo]" in line for line in lines)
    with xinyong.open_run(notices_run) as run:
        total = run.count_notices(kind="billboard")
        assert total > 3 and total == len(run.notices(limit=10**6, kind="billboard"))
    # How many of how many, beside the notices (on stderr: the notices alone go down a pipe).
    assert f"The newest 3 of {total:,} notices of kind billboard" in result.stderr


def test_notices_filter_by_list(notices_run: Path) -> None:
    with xinyong.open_run(notices_run) as run:
        every = run.notices(limit=10_000)
        debtors = run.notices(limit=10_000, on_list="debtors")
    assert {"debtors", "low-scorers"} <= set(every["list"].dropna())  # others to leave out
    assert len(debtors) and set(debtors["list"]) == {"debtors"}
    assert len(debtors) == int((every["list"] == "debtors").sum())
    result = xy("notices", str(notices_run), "--list", "debtors", "--limit", "10000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == list(debtors["text"])
    assert all("[billboard" not in line for line in result.stdout.splitlines())


def test_an_unknown_notice_list_is_refused_with_the_known_names(notices_run: Path) -> None:
    result = xy("notices", str(notices_run), "--list", "detbors")
    assert result.returncode == 2
    assert "'detbors' is not a list of this run" in result.stderr
    assert "city:listing, debtors, low-scorers, model-citizens" in result.stderr


def test_an_unknown_notice_kind_is_refused() -> None:
    result = xy("notices", "anywhere", "--kind", "billbord")
    assert result.returncode == 2
    assert "'billbord' is not a kind of notice" in result.stderr
    assert "billboard, tv, published_list" in result.stderr


def test_report_into_a_missing_folder_is_an_error_not_a_traceback(
    run_dir: Path, tmp_path: Path
) -> None:
    result = xy("report", str(run_dir), "--out", str(tmp_path / "nodir" / "x.html"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_report_needs_force_to_replace_a_file(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("mine")
    result = xy("report", str(run_dir), "--out", str(out))
    assert result.returncode == 2 and "--force" in result.stderr
    assert out.read_text() == "mine"
    assert xy("report", str(run_dir), "--out", str(out), "--force").returncode == 0
    assert out.read_text().startswith("<!doctype html>")


def test_simulate_force_replaces_a_run_but_no_other_folder(tmp_path: Path) -> None:
    out = tmp_path / "city"
    assert xy("simulate", "--citizens", "300", "--days", "5", "--out", str(out)).returncode == 0
    refused = xy("simulate", "--citizens", "300", "--days", "5", "--out", str(out))
    assert refused.returncode == 1 and "--force" in refused.stderr
    again = xy("simulate", "--citizens", "301", "--days", "5", "--out", str(out), "--force")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "summary.json").read_text())["citizens"] == 301
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    result = xy("simulate", "--citizens", "300", "--days", "5", "--out", str(mine), "--force")
    assert result.returncode == 2 and (mine / "thesis.txt").read_text() == "precious"


def test_summary_json(run_dir: Path) -> None:
    result = xy("summary", str(run_dir), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads((run_dir / "summary.json").read_text())


def test_summary_prints_no_raw_dicts(run_dir: Path) -> None:
    text = xy("summary", str(run_dir)).stdout
    assert "{'" not in text and "grade_matrix" not in text
    assert len(text.splitlines()) < 80  # a row per figure with its words, no dumps


def test_gate_takes_the_run_folder_first(notices_run: Path) -> None:
    new = xy("gate", str(notices_run), "rail", "3")
    old = xy("gate", "rail", "3", "--run", str(notices_run))
    assert new.returncode == 0, new.stderr
    assert new.stdout == old.stdout and new.stdout.split()[0] in (
        "ALLOW",
        "DENY",
        "RESTRICT",
        "PRIORITY",
        "DISCOUNT",
        "WAIVE",
    )


def test_comparing_two_runs_says_where_it_wrote(run_dir: Path, notices_run: Path) -> None:
    result = xy("report", str(run_dir), str(notices_run))
    assert result.returncode == 0, result.stderr
    assert str(run_dir / "compare.html") in result.stdout.replace("\n", "")
    assert "first run's folder" in " ".join(result.stdout.split())  # however the line wraps
    page = (run_dir / "compare.html").read_text()
    assert "<th>B − A</th>" in page and "A: reference, seed 5" in page


def test_scale_zero_is_refused(tmp_path: Path) -> None:
    result = xy("simulate", "--scale", "0", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "gives no citizens" in result.stderr
    assert not (tmp_path / "o").exists()


def test_ledger_events_of_an_unknown_citizen_raise(run_dir: Path) -> None:
    with (
        xinyong.open_run(run_dir) as run,
        pytest.raises(xinyong.UnknownCitizenError, match="numbered 0 to 3999"),
    ):
        run.ledger.events(10**9)


def test_progress_shows_time_left_and_the_finishing_word() -> None:
    import io

    from rich.console import Console

    from xinyong.views.progress import FINISHING, days_bar

    screen = io.StringIO()
    with days_bar(
        "city: 10 citizens", 10, Console(file=screen, force_terminal=True, width=250)
    ) as update:
        update(5)
        update(10)  # the last day: the twin city and the store are still to come
        during = screen.getvalue()
    assert "left" in during and FINISHING in during
    assert "10/10" in screen.getvalue()


def test_describe_writes_the_model_description(tmp_path: Path) -> None:
    out = tmp_path / "odd.md"
    assert xy("describe", "rongcheng", "--out", str(out)).returncode == 0
    assert out.read_text().startswith("# Model description: `rongcheng` (ODD protocol)")
    assert xy("describe", "rongcheng", "--out", str(out)).returncode == 2  # no --force


def test_describe_tables_is_a_data_dictionary(notices_run: Path) -> None:
    result = xy("describe", "--tables", str(notices_run))
    assert result.returncode == 0, result.stderr
    assert "income_band" in result.stdout and "0 = low" in result.stdout


def test_the_report_embeds_the_model_description(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert xy("report", str(run_dir), "--out", str(out)).returncode == 0
    page = out.read_text()
    assert "Model description (ODD)" in page and "Design concepts" in page


def test_one_version_everywhere() -> None:
    import tomllib
    from importlib.metadata import version

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert version("xinyong") == declared == xinyong.__version__
    result = xy("--version")
    assert result.returncode == 0 and result.stdout == f"xinyong {declared}\n"
    # (/docs shows the same: tests/test_service.py reads it from the served OpenAPI schema.)


@pytest.fixture(scope="module")
def corporate_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-corporate") / "city"
    xinyong.simulate("corporate", citizens=6000, days=200, seed=1, out=out).close()
    return out


def test_a_company_at_its_gate_and_explained(corporate_run: Path) -> None:
    with xinyong.open_run(corporate_run) as run:
        org = int(run.query("SELECT subject FROM standings WHERE operator = 0 LIMIT 1").subject[0])
        expected = run.gate_company("public_tender", org)
    result = xy("gate", str(corporate_run), "public_tender", "--company", str(org))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == expected.label.upper()
    assert " ".join(result.stdout.split()[1:]) == " ".join(expected.text.split())
    explained = xy("explain", str(corporate_run), "--company", str(org))
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith(f"Organisation {org} ")
    # A company's service asked about a citizen, and the other way round: one line, the fix.
    wrong = xy("gate", str(corporate_run), "public_tender", "4")
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1
    assert "--company N" in wrong.stderr
    both = xy("explain", str(corporate_run), "3", "--company", "3")
    assert both.returncode == 2 and "not both" in both.stderr
    missing = xy("gate", str(corporate_run), "public_tender", "--company", "999999")
    assert missing.returncode == 1
    assert "organisation 999999 is not in this run: organisations are numbered" in missing.stderr
