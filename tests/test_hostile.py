"""Hostile scenario files and damaged run folders: every one refused with a clear, one-line
error naming the file, never a traceback, and nothing left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import xy

import xinyong
from xinyong.engine.city import City
from xinyong.records.run import RunError, open_run
from xinyong.records.simulation import claim_output_folder
from xinyong.scenario import ScenarioError, load_scenario

HOSTILE = sorted(p for p in (Path(__file__).parent / "hostile").iterdir() if p.is_file())


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name for p in HOSTILE])
def test_every_hostile_scenario_is_refused_naming_the_file(path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"'{path.name}'" in str(err.value).splitlines()[0]


@pytest.mark.parametrize(
    "name", ["nan-response-factor.json", "huge-government.json", "pack-outside-folder.json"]
)
def test_the_command_refuses_them_before_writing(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    result = xy(
        "simulate", "--scenario", str(Path(__file__).parent / "hostile" / name), "--out", str(out)
    )
    assert result.returncode == 2 and f"scenario '{name}'" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("good") / "run"
    xinyong.simulate("reference", citizens=300, days=5, out=out).close()
    return out


DAMAGE = {
    "summary-not-utf8": ("summary.json", b"\xff\xfe{"),
    "summary-list": ("summary.json", b"[]"),
    "summary-empty-table": ("summary.json", b"{}"),
    "summary-null": ("summary.json", b"null"),
    "store-empty": ("run.duckdb", b""),
    "store-truncated": ("run.duckdb", None),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_run_folder_names_the_file(tmp_path: Path, good_run: Path, damage: str) -> None:
    folder = tmp_path / damage
    shutil.copytree(good_run, folder)
    name, content = DAMAGE[damage]
    if content is None:  # the first 4 KiB of the database only
        content = (folder / name).read_bytes()[:4096]
    (folder / name).write_bytes(content)
    with pytest.raises(RunError) as err:
        open_run(folder)
    message = str(err.value)
    assert name in message and "simulate again" in message and "\n" not in message
    if damage in ("summary-null", "store-truncated"):  # and from the command line
        result = xy("summary", str(folder))
        assert result.returncode == 1 and name in result.stderr
        assert "Traceback" not in result.stderr


def test_out_is_claimed_once(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    assert claim_output_folder(out)
    with pytest.raises(RunError, match="taken by another run"):
        claim_output_folder(out)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = xy("simulate", "--citizens", "100", "--days", "2", "--out", str(a_file / "sub"))
    assert result.returncode == 1 and "cannot make output folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_run_leaves_no_summary_and_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    observe = City.observe  # every day of every loop starts here

    def failing(self: City) -> object:
        if self.day == 3:
            raise MemoryError("out of memory on day 3")
        return observe(self)

    monkeypatch.setattr(City, "observe", failing)
    out = tmp_path / "failed"
    with pytest.raises(MemoryError):
        xinyong.simulate("reference", citizens=200, days=6, out=out)
    assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(MemoryError):
        xinyong.simulate("reference", citizens=200, days=6, out=kept)
    assert kept.is_dir() and not any(kept.iterdir())  # the user's folder stays, empty


def test_names_and_paths_are_printed_safely(tmp_path: Path) -> None:
    data = json.loads(load_scenario("reference").model_dump_json(by_alias=True))
    data.update(name="[bold red]evil[/] \x1b[2J\x1b]0;pwned\x07city", citizens=200, days=3)
    path = tmp_path / "[bold]markup.json"
    path.write_text(json.dumps(data))
    ok = xy("simulate", "--scenario", str(path), "--out", str(tmp_path / "o"))
    assert ok.returncode == 0, ok.stderr
    assert "\x1b[2J" not in ok.stdout and "pwned" not in ok.stdout
    bad = tmp_path / "[bold]bad.json"
    bad.write_text("{")
    refused = xy("simulate", "--scenario", str(bad), "--out", str(tmp_path / "p"))
    assert refused.returncode == 2 and "[bold]bad.json" in refused.stderr
    report = xy("report", str(tmp_path / "o"), "--out", str(tmp_path / "missing" / "r.html"))
    assert report.returncode == 2 and "does not exist" in report.stderr
    assert "Traceback" not in report.stderr
