"""What every command shares: the two consoles, safe printing, errors, output checks.

One rule for the terminal: no user text goes through Rich markup unescaped. Help texts are
plain (``rich_markup_mode=None``), and every message, name and notice printed with markup is
passed through :func:`rich.markup.escape` first (:func:`_safe`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from xinyong.records.run import STORE_FILE, SUMMARY_FILE

SET_HELP = (
    "Change one field of the scenario, PATH=VALUE, e.g. sensors.camera.misidentify=0.05 "
    "(repeatable; VALUE is TOML; see xinyong scenarios --show NAME for the paths)."
)

console = Console()
errors = Console(stderr=True)


#: Terminal escape sequences (CSI, OSC) and the other control characters but newline and tab.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def _safe(text: object) -> str:
    """User text (a name, a path, a message quoting them) made safe to print: terminal escape
    sequences and control characters removed, Rich markup escaped."""
    return escape(_CONTROL.sub("", str(text)))


def invoked_as() -> str:
    """How to run xinyong again from the shell that ran this one, for the commands a command
    suggests: ``xinyong`` when that name finds this program, else the path it was started by
    (``.venv/bin/xinyong`` from ``make run``, before the virtual environment is activated)."""
    started = sys.argv[0]
    found = shutil.which("xinyong")
    if Path(started).name != "xinyong" or os.sep not in started:
        return "xinyong"
    if found is not None and Path(found).resolve() == Path(started).resolve():
        return "xinyong"
    return started


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (plain text, never markup) as an error; the exit to raise."""
    errors.print(
        f"[bold red]error:[/] {_safe(message)}", highlight=False, markup=True, soft_wrap=True
    )  # one line, whatever the terminal: the shell's to wrap
    return typer.Exit(code)


def _check_out_file(out: Path, force: bool) -> None:
    """Refuse an output file whose folder is missing, or that exists without ``--force``."""
    if not out.parent.is_dir():
        raise _fail(
            f"cannot write '{out}': the folder '{out.parent}' does not exist; create "
            f"it first, or choose another --out",
            2,
        )
    if out.is_dir():
        raise _fail(f"--out '{out}' is a folder: give a file name such as {out / 'report.html'}", 2)
    if out.exists() and not force:
        raise _fail(
            f"'{out}' already exists; add --force to replace it, or choose another --out", 2
        )


def _clear_run_folder(folder: Path) -> None:
    """Delete a finished or unfinished run (for ``--force``), never any other folder."""
    if not folder.exists():
        return
    if folder.is_dir() and not any(folder.iterdir()):
        return
    if not folder.is_dir() or not ({STORE_FILE, SUMMARY_FILE} & {p.name for p in folder.iterdir()}):
        raise _fail(
            f"--force replaces only a run folder, and '{folder}' holds no "
            f"{STORE_FILE}: delete it yourself or choose another --out",
            2,
        )
    shutil.rmtree(folder)
