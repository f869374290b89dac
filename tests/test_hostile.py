"""Hostile scenario files and damaged run folders: every one refused with a clear, one-line
error naming the file, never a traceback, and nothing left behind."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import duckdb
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


DAMAGED = sorted((Path(__file__).parent / "hostile" / "damaged").glob("*.json"))
#: Every command that reads a run folder, as a user types it (RUN: the folder).
READERS = [
    ["explain", "RUN", "3"],
    ["explain", "RUN", "3", "--json"],
    ["gate", "RUN", "rail", "3"],
    ["notices", "RUN"],
    ["summary", "RUN"],
    ["describe", "--tables", "RUN"],
    ["report", "RUN", "--out", "REPORT", "--force"],
]


@pytest.fixture(scope="module")
def good_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A whole run and a split run of a city with gates and notices."""
    base = tmp_path_factory.mktemp("runs")
    for kind, blocks in (("whole", 1), ("split", 2)):
        xinyong.simulate("rongcheng", citizens=300, days=5, blocks=blocks, out=base / kind).close()
    return {"whole": base / "whole", "split": base / "split"}


def _damage(folder: Path, steps: list[dict[str, Any]], seed: int) -> None:
    """Apply a damaged-folder recipe's steps (``tests/hostile/damaged/*.json``)."""
    rng = random.Random(seed)
    for step in steps:
        if "sql" in step:
            with duckdb.connect(str(folder / "run.duckdb")) as con:
                con.execute(step["sql"])
            continue
        name = step.get("garble") or step.get("truncate") or step.get("write") or step["delete"]
        paths = sorted(folder.glob(name)) if "*" in name else [folder / name]
        if "delete" in step:
            for path in paths[: step["count"]]:
                path.unlink()
            continue
        path = paths[0]
        if "write" in step:
            data = step["text"].encode() if "text" in step else rng.randbytes(step["bytes"])
            path.write_bytes(data)
        elif "truncate" in step:
            with open(path, "r+b") as f:
                f.truncate(int(path.stat().st_size * step["keep"]))
        else:
            size, at = path.stat().st_size, step["at"]
            count = min(step["bytes"], size // 2)
            offset = int(size * at) if isinstance(at, float) else at
            with open(path, "r+b") as f:
                f.seek(min(offset, size - count))
                f.write(rng.randbytes(count))


@pytest.mark.parametrize("recipe", DAMAGED, ids=[p.stem for p in DAMAGED])
def test_a_damaged_folder_is_said_in_one_line_by_every_command(
    tmp_path: Path, good_runs: dict[str, Path], recipe: Path
) -> None:
    """Every command that reads a run, given a damaged one: no traceback, and a refusal in
    one line naming the damaged file; at least one of them notices the damage."""
    from typer.testing import CliRunner

    from xinyong.views.cli import app

    spec = json.loads(recipe.read_text())
    folder = tmp_path / recipe.stem
    shutil.copytree(good_runs[spec["run"]], folder)
    _damage(folder, spec["damage"], seed=len(recipe.stem))
    refused = 0
    for words in READERS:
        args = [
            w.replace("RUN", str(folder)).replace("REPORT", str(tmp_path / "r.html")) for w in words
        ]
        result = CliRunner().invoke(app, args)
        said = f"xinyong {' '.join(words)}: {result.output[-2000:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), said
        if result.exit_code:
            refused += 1
            lines = [line for line in result.output.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: "), said
            assert str(folder) in lines[0], said
    if spec.get("harmless"):
        assert not refused, f"a harmless change refused: {spec['about']}"
    else:
        assert refused, f"no command noticed: {spec['about']}"
