"""Every code block of the README runs, as a reader would run it after ``make run`` and
``. .venv/bin/activate``, so that a broken command fails here first.

How each block is run, by its language:

- ``sh``: each command (a line, with its ``\\`` continuations) in bash, in one working folder
  shared by every block in README order, with the virtual environment's ``bin`` first on
  ``PATH`` (as activated) and a copy of ``examples/``. A command must exit 0 and print no
  traceback (``xinyong validate`` may exit 1: at a reduced size a published pattern can fail).
- ``python``: the block as one script, in the same folder.
- ``toml``: a design the README shows; it must be the file of ``examples/`` its text names.
- ``text``: output the README shows. Its ``$ `` lines are commands, run as ``sh`` lines.

Sizes are reduced, by one documented rewrite (:func:`reduce`): a simulation runs 5,000
citizens (the README's citizen 4242 among them) for 30 days (``--citizens``/``--days`` replaced
or added, ``--scale`` replaced), Python's ``citizens=``/``days=`` likewise; ``validate`` runs
2,000 citizens for a year (its patterns count a year's service uses) on two seeds;
``calibrate`` fits 2,000 citizens in 6 runs of 3 particles and 2 predictive runs; and the
experiment designs in the working copy of ``examples/`` run 2,000 citizens for 30 days on their
first two seeds (a Morris screen on its first seed, with 2 trajectories).

A block that cannot run in a test (a Ray cluster on two machines, ``serve`` forever, ``make``)
starts with a comment a reader sees, and the test reads: ``# not run by the README test:`` and
the reason. Any other block runs; a block of another language, or a marker without a reason,
fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
MARK = "# not run by the README test:"
CITIZENS, DAYS = 5000, 30  # a run's size (the README asks about citizen 4242)
DESIGN_CITIZENS = 2000  # an experiment design's
LANGUAGES = ("sh", "python", "toml", "text")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, its text and the README line it starts on."""

    language: str
    text: str
    line: int

    @property
    def skipped(self) -> str | None:
        """The reason the README gives for not running it, or None."""
        first = self.text.lstrip("\n").splitlines()[0] if self.text.strip() else ""
        if first.startswith(MARK):
            return first[len(MARK) :].strip()
        return None


def blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, in order."""
    out, lines = [], markdown.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        out.append(Block(m.group(1), "\n".join(body), start))
        i += 1
    return out


def commands(block: Block) -> list[str]:
    """The commands of a block: ``sh`` lines, or a transcript's ``$`` lines, continuations
    joined."""
    lines = block.text.splitlines()
    if block.language == "text":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    out: list[str] = []
    pending = ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1] + " "
            continue
        out.append(pending.strip())
        pending = ""
    return out


def _option(command: str, name: str, value: str) -> str:
    """``command`` with ``--name value``, replaced where given (before a comment)."""
    given = re.compile(rf"--{name}[ =]\S+")
    if given.search(command):
        return given.sub(f"--{name} {value}", command)
    code, hash_, comment = command.partition(" #")
    return f"{code.rstrip()} --{name} {value}" + (f"  #{comment}" if hash_ else "")


def reduce(command: str) -> str:
    """A README command at the test's size (see the module's docstring)."""
    if re.match(r"xinyong simulate\b", command):
        command = re.sub(r"--scale[ =]\S+", f"--citizens {CITIZENS}", command)
        command = _option(command, "citizens", str(CITIZENS))
        command = _option(command, "days", str(DAYS))
    elif re.match(r"xinyong calibrate\b", command):  # a few runs of the whole history
        command = _option(command, "citizens", str(DESIGN_CITIZENS))
        command = _option(command, "max-runs", "6")
        command = _option(command, "population", "3")
        command = _option(command, "predictive", "2")
    elif re.match(r"xinyong validate\b", command):  # a year: its patterns count a year's uses
        command = _option(command, "citizens", str(DESIGN_CITIZENS))
        command = _option(command, "days", "365")
        command = _option(command, "seeds", "2")
    return command


def reduce_python(code: str) -> str:
    """A README Python block at the test's size."""
    code = re.sub(r"\bcitizens=[\d_]+", f"citizens={CITIZENS}", code)
    return re.sub(r"\bdays=[\d_]+", f"days={DAYS}", code)


def reduce_design(path: Path) -> None:
    """An experiment design of the working copy of ``examples/``, at the test's size."""
    text = path.read_text(encoding="utf-8")
    design = tomllib.loads(text)
    seeds = design["seeds"] if isinstance(design["seeds"], list) else [1, 2, 3]
    keep = seeds[:1] if design.get("design") in ("morris", "sobol") else seeds[:2]
    text = re.sub(r"(?m)^citizens = .*$", f"citizens = {DESIGN_CITIZENS}", text)
    text = re.sub(r"(?m)^days = .*$", f"days = {DAYS}", text)
    text = re.sub(r"(?m)^seeds = .*$", f"seeds = {keep}", text)
    text = re.sub(r"(?m)^samples = \d+", "samples = 2", text)
    path.write_text(text, encoding="utf-8")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PATH"] = f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin"  # as `. .venv/bin/activate`
    env["VIRTUAL_ENV"] = str(BIN.parent)
    env["COLUMNS"] = "100"
    if os.environ.get("PYTHONPATH"):  # a worktree's sources under test, made absolute
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep)
        )
    return env


def run_block(block: Block, folder: Path) -> list[str]:
    """Run one block in ``folder``; the failures, each with its README line (none: it ran)."""
    env, failures = _environment(), []
    where = f"README line {block.line}"
    if block.language == "python":
        script = folder / f"block-{block.line}.py"
        script.write_text(reduce_python(block.text), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, script.name],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            failures.append(f"{where}: the Python block failed:\n{done.stderr[-3000:]}")
        return failures
    if block.language == "toml":
        return []  # a design shown: test_designs_shown_are_the_example_files checks it
    for command in commands(block):
        reduced = reduce(command)
        done = subprocess.run(
            ["bash", "-c", reduced],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        allowed = (0, 1) if reduced.startswith("xinyong validate") else (0,)
        if done.returncode not in allowed or "Traceback" in done.stderr:
            failures.append(
                f"{where}: `{command}` (run as `{reduced}`) exited {done.returncode}:\n"
                f"{(done.stderr or done.stdout)[-3000:]}"
            )
    return failures


def _workspace(folder: Path) -> Path:
    """A working folder as a reader's checkout has it: a copy of ``examples/`` at the test's
    size."""
    shutil.copytree(ROOT / "examples", folder / "examples")
    for design in (folder / "examples").glob("*.toml"):
        reduce_design(design)
    return folder


def test_every_block_is_run_or_says_why_not() -> None:
    found = blocks(README.read_text(encoding="utf-8"))
    assert len(found) > 10
    for block in found:
        assert block.language in LANGUAGES, (
            f"README line {block.line}: a ```{block.language} block; give it one of "
            f"{', '.join(LANGUAGES)} (text: output shown)"
        )
        if block.text.lstrip().startswith(MARK):
            assert block.skipped, f"README line {block.line}: say why it is not run"
    reasons = [b.skipped for b in found if b.skipped]
    assert len(reasons) <= 5, reasons  # a few, each with its reason


def test_designs_shown_are_the_example_files() -> None:
    for block in blocks(README.read_text(encoding="utf-8")):
        if block.language != "toml":
            continue
        before = README.read_text(encoding="utf-8").splitlines()[: block.line]
        named = re.findall(r"`(examples/[\w.-]+\.toml)`", "\n".join(before[-5:]))
        assert named, f"README line {block.line}: say which file of examples/ this is"
        shown = tomllib.loads(block.text)
        assert shown == tomllib.loads((ROOT / named[-1]).read_text(encoding="utf-8"))


def test_every_readme_block_runs(tmp_path: Path) -> None:
    folder = _workspace(tmp_path)
    failures: list[str] = []
    for block in blocks(README.read_text(encoding="utf-8")):
        if block.skipped is None:
            failures += run_block(block, folder)
    assert not failures, "\n\n".join(failures)


def test_a_broken_readme_command_fails_the_test(tmp_path: Path) -> None:
    folder = _workspace(tmp_path)
    broken = blocks(
        "```sh\nxinyong scenarios\nxinyong simulate --scenario nowhere --out runs/x\n```\n"
        "```python\nimport xinyong\nxinyong.open_run('runs/none')\n```\n"
        "```text\n$ xinyong gate runs/x rail\n```\n"
    )
    assert [len(run_block(b, folder)) for b in broken] == [1, 1, 1]
    assert "nowhere" in run_block(broken[0], folder)[0]


def test_sizes_are_reduced_as_documented() -> None:
    assert reduce("xinyong simulate --scenario rongcheng --citizens 100000 --out runs/r") == (
        "xinyong simulate --scenario rongcheng --citizens 5000 --out runs/r --days 30"
    )
    assert reduce("xinyong simulate --scale 0.01 --days 365 --seed 1  # a comment") == (
        "xinyong simulate --citizens 5000 --days 30 --seed 1  # a comment"
    )
    assert reduce("xinyong validate rongcheng            # 740,000 citizens, 3 seeds") == (
        "xinyong validate rongcheng --citizens 2000 --days 365 --seeds 2  # 740,000 citizens, "
        "3 seeds"
    )
    assert "--seeds 2" in reduce("xinyong validate nation --citizens 200000 --seeds 2")
    assert reduce("xinyong explain runs/a 4242") == "xinyong explain runs/a 4242"
    assert reduce_python('simulate("reference", citizens=50_000, days=365)') == (
        'simulate("reference", citizens=5000, days=30)'
    )


def test_make_runs_suggestion_works_before_the_environment_is_activated(
    tmp_path: Path,
) -> None:
    """``make run`` runs ``.venv/bin/xinyong``: what it suggests next must work as printed,
    from the same folder, before ``. .venv/bin/activate``."""
    exe = os.path.relpath(BIN / "xinyong", tmp_path)
    env = {**_environment(), "PATH": f"/usr/bin{os.pathsep}/bin"}
    out = tmp_path / "runs" / "reference"
    OUT = ("--out", "runs/reference")  # noqa: N806
    done = subprocess.run(
        [exe, "simulate", "--scenario", "reference", "--citizens", "2000", "--days", "30", *OUT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert out.is_dir()
    suggested = re.search(r"\(explain a citizen: (.+?)\)", " ".join(done.stdout.split()))
    assert suggested, done.stdout[-500:]
    command = suggested.group(1)
    assert command.startswith(exe)  # the path make ran, not a name the shell cannot find
    again = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "Citizen 0" in again.stdout
