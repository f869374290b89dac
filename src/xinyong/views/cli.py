"""The ``xinyong`` command line: a thin layer over the Python API.

One rule for the terminal: no user text goes through Rich markup unescaped. Help texts are
plain (``rich_markup_mode=None``), and every message, name and notice printed with markup is
passed through :func:`rich.markup.escape` first.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.engine.cluster import ClusterError
from xinyong.engine.workers import WorkerError
from xinyong.model.codes import NOTICE_KINDS
from xinyong.records.run import (
    STORE_FILE,
    SUMMARY_FILE,
    RunError,
    UnknownCitizenError,
    check_output_folder,
    open_run,
    simulate,
)
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from xinyong.studies.chilling import chilling_text
from xinyong.studies.overrides import apply, parse
from xinyong.views.figures import format_value
from xinyong.views.progress import days_bar

if TYPE_CHECKING:  # the service's modules load only for ``serve``
    from fastapi import FastAPI

    from xinyong.service.auth import Keyring
    from xinyong.service.live import LiveCity

NATION = 1_400_000_000  # citizens in China [seed 002]

SET_HELP = ("Change one field of the scenario, PATH=VALUE, e.g. sensors.camera.misidentify=0.05 "
            "(repeatable; VALUE is TOML; see xinyong scenarios --show NAME for the paths).")

app = typer.Typer(
    help="xinyong: the social credit system as publicly reported, run on synthetic cities.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: '[default: ...]' and "xinyong[ray]" survive
)
console = Console()
errors = Console(stderr=True)


#: Terminal escape sequences (CSI, OSC) and the other control characters but newline and tab.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: object) -> str:
    """User text (a name, a path, a message quoting them) made safe to print: terminal escape
    sequences and control characters removed, Rich markup escaped."""
    return escape(_CONTROL.sub("", str(text)))


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (plain text, never markup) as an error; the exit to raise."""
    errors.print(f"[bold red]error:[/] {_safe(message)}", highlight=False, markup=True,
                 soft_wrap=True)  # one line, whatever the terminal: the shell's to wrap
    return typer.Exit(code)


def _check_out_file(out: Path, force: bool) -> None:
    """Refuse an output file whose folder is missing, or that exists without ``--force``."""
    if not out.parent.is_dir():
        raise _fail(f"cannot write '{out}': the folder '{out.parent}' does not exist; create "
                    f"it first, or choose another --out", 2)
    if out.is_dir():
        raise _fail(f"--out '{out}' is a folder: give a file name such as {out / 'report.html'}",
                    2)
    if out.exists() and not force:
        raise _fail(f"'{out}' already exists; add --force to replace it, or choose another "
                    f"--out", 2)


def _clear_run_folder(folder: Path) -> None:
    """Delete a finished or unfinished run (for ``--force``), never any other folder."""
    if not folder.exists():
        return
    if folder.is_dir() and not any(folder.iterdir()):
        return
    if not folder.is_dir() or not ({STORE_FILE, SUMMARY_FILE} & {p.name for p in
                                                                   folder.iterdir()}):
        raise _fail(f"--force replaces only a run folder, and '{folder}' holds no "
                    f"{STORE_FILE}: delete it yourself or choose another --out", 2)
    shutil.rmtree(folder)


@app.command("simulate")
def simulate_command(
    scenario: Annotated[str, typer.Option(help="A built-in scenario name or a .toml/.json file."
                                          )] = "reference",
    citizens: Annotated[int | None, typer.Option(min=1, help="Population (default: the "
                                                 "scenario's).")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days to simulate (default: the "
                                             "scenario's).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for run.duckdb and summary.json "
                                             "[default: runs/SCENARIO-seedSEED].")] = None,
    scale: Annotated[float | None, typer.Option(help="Population as a fraction of China's "
                                                "1.4 billion citizens, above 0 (overrides "
                                                "--citizens).")] = None,
    blocks: Annotated[int, typer.Option(min=1, help="Simulate the city as this many blocks "
                                        "of citizens: the same results, split the way "
                                        "workers would split it.")] = 1,
    workers: Annotated[int, typer.Option(min=0, help="Simulate the city as this many blocks "
                                         "on Ray workers (pip install 'xinyong[ray]'); 0 runs "
                                         "in this process.")] = 0,
    ray: Annotated[str | None, typer.Option("--ray", help="Join an existing Ray cluster: "
                                            "HOST:PORT of its head (as `ray start --head` "
                                            "prints it), or auto for this machine's "
                                            "(default: a Ray of the run's own).")] = None,
    shared_out: Annotated[bool, typer.Option(help="--out is on a filesystem every node of "
                                             "the Ray cluster mounts at the same path "
                                             "(required on more than one node).")] = False,
    checkpoint_every: Annotated[int, typer.Option(min=0, help="With --workers and --out: "
                                                  "checkpoint every this many days.")] = 0,
    resume: Annotated[bool, typer.Option(help="Resume the unfinished --workers run in --out "
                                         "from its last checkpoint.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace the run already in --out."
                                        )] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    profile: Annotated[bool, typer.Option("--profile", help="Print the time, calls and events "
                                          "of each phase of the day, and where the rest of "
                                          "the wall time goes (in this process: not with "
                                          "--workers).")] = False,
) -> None:
    """Simulate a city and write its ledger, daily series and summary."""
    if scale is not None:
        if not scale > 0 or round(scale * NATION) < 1:
            raise _fail(f"--scale {scale:g} gives no citizens: give a fraction above "
                        f"{0.5 / NATION:.1e} (one citizen), e.g. --scale 1e-5 for 14,000", 2)
        citizens = round(scale * NATION)
    overrides: dict = {}
    if resume:  # the unfinished run's own scenario and seed
        if out is None or not (out / "run.duckdb").exists():
            raise _fail("--resume needs --out DIR, the folder of the unfinished run", 2)
        if set_:
            raise _fail("--resume continues a run as it was started: leave out --set", 2)
        from xinyong.records.store import RunStore

        try:
            stored = RunStore(out / "run.duckdb", read_only=True)
            chosen, seed = stored.scenario(), int(stored.info()["seed"])
            stored.close()
        except (duckdb.Error, KeyError, ValueError) as exc:
            raise _fail(f"'{out / 'run.duckdb'}' is damaged ({str(exc).splitlines()[0]}): "
                        f"start the run again in a new --out", 2) from None
    else:
        try:
            chosen = load_scenario(scenario).with_sizes(citizens=citizens, days=days)
            overrides = parse(set_ or [])
            apply(chosen, overrides)  # refused now, before a folder is made; simulate records
        except ScenarioError as exc:
            raise _fail(str(exc), 2) from None
    folder = out or Path("runs") / f"{chosen.name}-seed{seed}"
    if force and not resume:
        _clear_run_folder(folder)
    try:
        if not resume:
            check_output_folder(folder)
    except RunError as exc:
        raise _fail(f"{exc} (or add --force to replace a run)") from None
    with days_bar(_CONTROL.sub("", f"{chosen.name}: {chosen.citizens:,} citizens"),
                  chosen.days, console=console) as bar:
        try:
            run = simulate(chosen, seed=seed, out=folder, blocks=blocks, workers=workers,
                           ray_address=ray, checkpoint_every=checkpoint_every, resume=resume,
                           shared_out=shared_out, progress=bar, set=overrides,
                           profile=profile)
        except (RunError, WorkerError, ClusterError) as exc:
            raise _fail(str(exc)) from None
    with run:
        _print_summary(run.summary)
        _print_changes(run.summary)
        if run.profile is not None:
            _print_profile(run.profile, run.summary["wall_seconds"])
    data = " and its Parquet dataset data/" if (folder / "data").is_dir() else ""
    console.print(f"Wrote [bold]{_safe(folder / 'summary.json')}[/] and "
                  f"[bold]{_safe(folder / 'run.duckdb')}[/]{data}  (explain a citizen: xinyong "
                  f"explain {_safe(folder)} 0)")


def _print_profile(rows: list[dict], wall: float) -> None:
    """The phases of the day and the rest of the run, timed (``simulate --profile``)."""
    table = Table(title=f"Where the {wall:.2f} s of wall time went")
    for header in ("part", "thread", "seconds", "share of wall", "calls", "events"):
        table.add_column(header, justify="left" if header in ("part", "thread") else "right")
    for r in rows:
        table.add_row(_safe(r["part"]), "beside" if r["beside"] else "main",
                      f"{r['seconds']:.3f}", f"{r['share']:.1%}",
                      f"{r['calls']:,}" if r["calls"] else "",
                      f"{r['events']:,}" if r["events"] else "")
    console.print(table)
    console.print("Phases are the day's, summed over the days; parts on a thread beside the "
                  "main one run at the same time, and are not part of the sum. Events: what "
                  "a phase worked on (behaviours done, events recorded and scored, list "
                  "changes, service uses checked, citizens who responded).")


def _print_summary(summary: dict) -> None:
    about = summary.get("about", {})
    table = Table(title="Summary", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("what it counts", style="dim", max_width=70)
    for key, value in summary.items():
        if key == "grade_shares":
            table.add_row("grade shares", "", _safe(about.get(key, "")))
            for grade, share in value.items():
                table.add_row(f"  grade {_safe(grade)}", f"{share:.3%}")
        elif key in ("population", "billboard_harms"):
            table.add_row(_safe(key.replace("_", " ")), "", _safe(about.get(key, "")))
            for part, count in value.items():
                table.add_row(f"  {_safe(part.replace('_', ' '))}", f"{count:,}")
        elif not isinstance(value, (dict, list)):  # nested figures have their own tables
            table.add_row(_safe(key), _safe(format_value(key, value)), _safe(about.get(key, "")))
    console.print(table)
    operators = summary.get("operators")
    if operators:
        ops = Table(title="Operators")
        for header in ("operator", "scheme", "scored", "mean", "listed", "wrongly listed",
                       "wrongly graded", "dismissed"):
            ops.add_column(header, justify="left" if header in ("operator", "scheme") else "right")
        for name, f in operators.items():
            ops.add_row(_safe(name), _safe(f["scheme"]), f"{f['covered']:,}",
                        f"{f['mean_score']:.1f}", f"{f['listed_share']:.2%}",
                        f"{f['wrongly_listed']:,}", f"{f['wrongly_graded']:,}",
                        f"{f['events_dismissed']:,}")
        console.print(ops)
    cities = summary.get("cities")
    if cities:
        table = Table(title="Cities (their residents the schemes cover)")
        for header in ("city", "covered", "mean", "blacklisted", "wrongly blacklisted",
                       "wrongly missing", "wrongly graded"):
            table.add_column(header, justify="left" if header == "city" else "right")
        for name, f in cities.items():
            table.add_row(_safe(name), f"{f['covered']:,}", f"{f['mean_score']:.1f}",
                          f"{f['blacklisted_share']:.2%}", f"{f['wrongly_blacklisted']:,}",
                          f"{f['wrongly_missing']:,}", f"{f['wrongly_graded']:,}")
        f = summary["country"]
        table.add_row("[bold]country[/]", f"{f['covered']:,}", "", f"{f['blacklisted_share']:.2%}",
                      f"{f['wrongly_blacklisted']:,}", f"{f['wrongly_missing']:,}",
                      f"{f['wrongly_graded']:,}")
        console.print(table)


@app.command("validate")
def validate_command(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a .toml/.json "
                                            "file.")],
    citizens: Annotated[int | None, typer.Option(min=1, help="Population (default: the "
                                                 "scenario's).")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days (default: the scenario's).")
                    ] = None,
    seeds: Annotated[int, typer.Option(min=1, help="How many seeds (1 to K).")] = 3,
    patterns: Annotated[Path | None, typer.Option(help="A pattern file (default: the "
                                                  "scenario's built-in patterns).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for the seeds "
                                                "(default: one per core).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Hold a scenario to the published record: one row per published pattern, with the
    simulated mean and its 95 % interval over seeds; exits 1 when a pattern fails."""
    from xinyong.studies.validate import validate

    try:
        chosen = apply(load_scenario(scenario), parse(set_ or [])).with_sizes(
            citizens=citizens, days=days)
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("runs"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(_safe(f"{chosen.name}: {chosen.citizens:,} citizens"),
                                total=seeds)
            result = validate(chosen, patterns, seeds=seeds, workers=workers,
                              progress=lambda done: bar.update(task, completed=done))
    except ScenarioError as exc:
        raise _fail(str(exc), 2) from None
    table = Table(title=_safe(f"{result.scenario} against the published record "
                               f"({result.citizens:,} citizens, seeds "
                               f"{', '.join(map(str, result.seeds))})"))
    for header in ("pattern", "published", "simulated, 95% over seeds", "accepted", "verdict"):
        table.add_column(header, justify="left" if header == "pattern" else "right")
    for i, r in enumerate(result.rows.itertuples(), 1):
        colour = "green" if r.verdict == "pass" else "bold red"
        table.add_row(f"{_safe(r.pattern)} [{i}]\n[dim]{_safe(r.unit)}[/]",
                      _safe(str(r.published)), f"{r.mean:.3g}\n[dim]{r.lo:.3g} to {r.hi:.3g}[/]",
                      f"{r.low:g} to {r.high:g}", f"[{colour}]{r.verdict}[/]")
    console.print(table)
    for i, source in enumerate(result.rows["source"], 1):
        console.print(f"[dim]\\[{i}] {_safe(source)}[/]", highlight=False)
    if not result.passed:
        raise typer.Exit(1)


@app.command("explain")
def explain_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    citizen: Annotated[int, typer.Argument(help="The citizen's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON "
                                          "instead.")] = False,
) -> None:
    """Show how a citizen's score, grade and listing came to be, event by event."""
    try:
        with open_run(run_dir) as run:
            explanation = run.explain(citizen)
    except (RunError, UnknownCitizenError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(explanation.to_dict(), indent=1))
    else:
        console.print(explanation)


@app.command("gate")
def gate_command(
    args: Annotated[list[str], typer.Argument(metavar="DIR SERVICE CITIZEN", help="A run "
                                              "folder, the service (e.g. rail, hotel, "
                                              "university) and the citizen's id.",
                                              show_default=False)],
    run: Annotated[Path | None, typer.Option("--run", hidden=True, help="Deprecated: give "
                                             "the run folder as the first argument.")] = None,
) -> None:
    """Ask a service about a citizen, as at the ticket office: allow, deny... and why."""
    if run is not None:  # the old form: gate SERVICE CITIZEN --run DIR
        args = [str(run), *args]
    if len(args) != 3:
        raise _fail("give the run folder, the service and the citizen: xinyong gate DIR "
                    "SERVICE CITIZEN, e.g. xinyong gate runs/rongcheng-seed0 rail 42", 2)
    run_dir, service = Path(args[0]), args[1]
    try:
        citizen = int(args[2])
    except ValueError:
        raise _fail(f"citizen {args[2]!r} is not an id: give a whole number, e.g. 42", 2
                    ) from None
    try:
        with open_run(run_dir) as run:
            decision = run.gate(service, citizen)
    except (RunError, UnknownCitizenError) as exc:
        raise _fail(str(exc)) from None
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    colour = {"deny": "red", "restrict": "yellow", "allow": "default"}.get(decision.action,
                                                                           "green")
    console.print(f"[bold {colour}]{decision.action.upper()}[/] {_safe(decision.text)}",
                  highlight=False)


@app.command("notices")
def notices_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
    kind: Annotated[str | None, typer.Option(help="Only this kind: " + ", ".join(NOTICE_KINDS)
                                             + ".")] = None,
    on_list: Annotated[str | None, typer.Option(
        "--list", metavar="NAME", help="Only notices caused by joining this list (a list's "
        "name, or OPERATOR:listing for a scheme's listing).")] = None,
) -> None:
    """The city's public notices (about synthetic citizens only), newest first."""
    if kind is not None and kind not in NOTICE_KINDS:
        raise _fail(f"--kind {kind!r} is not a kind of notice: choose one of "
                    f"{', '.join(NOTICE_KINDS)}", 2)
    try:
        with open_run(run_dir) as run:
            if on_list is not None and on_list not in run.notice_lists:
                raise _fail(f"--list {on_list!r} is not a list of this run: choose one of "
                            f"{', '.join(run.notice_lists) or '(none: it has no lists)'}", 2)
            rows = run.notices(limit=limit, kind=kind, on_list=on_list)
    except RunError as exc:
        raise _fail(str(exc)) from None
    for text in rows["text"]:
        console.print(_safe(text), highlight=False, soft_wrap=True)
    if rows.empty:
        console.print("No notices.")


def served_app(live: LiveCity, keys: Keyring,
               on_load: Callable[[Scenario, int], LiveCity] | None = None,
               runs_root: Path | None = None) -> FastAPI:
    """What ``xinyong serve`` serves: the HTTP API over a live city, with the dashboard on it.

    The two are composed here, so neither the API nor the pages need the other's module.

    Args:
        live: the city.
        keys: the API keys; the dashboard's pages ask the API with them.
        on_load: starts a new city and makes it the one served (``POST /scenario``); None
            when the server cannot switch cities.
        runs_root: a folder of stored runs the dashboard can compare.
    """
    from xinyong.service.api import create_app
    from xinyong.views.dashboard import add_dashboard

    served = create_app(live, keys, on_load)
    add_dashboard(served, live, runs_root)
    return served


@app.command("serve")
def serve_command(
    scenario: Annotated[str | None, typer.Option(help="Start a new live city from this "
                                                 "scenario (name or file).")] = None,
    run_dir: Annotated[Path | None, typer.Option("--run", help="The live city's folder: "
                                                 "recovered if it holds one, else created.")
                       ] = None,
    citizens: Annotated[int | None, typer.Option(min=1, help="Population of a new city "
                                                 "(default: the scenario's).")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days a new city runs for "
                                             "(default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of a new city's random streams.")
                    ] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    keys: Annotated[Path | None, typer.Option(help="TOML file of [[keys]]; default: the "
                                              "XINYONG_KEYS variable.")] = None,
    runs: Annotated[Path, typer.Option(help="Folder of stored runs the dashboard can "
                                       "compare.")] = Path("runs"),
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Serve a live city over HTTP: the dashboard at /, OpenAPI at /docs."""
    import uvicorn

    from xinyong.service.api import Switch
    from xinyong.service.auth import KeyFileError, Keyring
    from xinyong.service.live import CURRENT_FILE, STORE_FILE, LiveError, load_city, open_city

    try:
        keyring = Keyring.from_file(keys) if keys else Keyring.from_env()
        folder = run_dir or Path("runs") / f"live-{scenario or 'city'}-seed{seed}"
        chosen = None
        if not (folder / STORE_FILE).exists() and not (folder / CURRENT_FILE).exists():
            if scenario is None:
                raise LiveError(400, f"'{folder}' holds no live city: give --scenario to "
                                     f"start one")
            chosen = apply(load_scenario(scenario), parse(set_ or [])).with_sizes(
                citizens=citizens, days=days)
        elif set_:
            raise LiveError(400, f"'{folder}' holds a live city already, which carries on as "
                                 f"it was started: --set applies to a new one (another --run)")
        live = open_city(folder, chosen, seed)
    except (KeyFileError, ScenarioError, LiveError) as exc:
        raise _fail(str(exc), 2) from None
    switch = Switch()
    current: list[LiveCity] = [live]

    def on_load(new_scenario: Scenario, new_seed: int) -> LiveCity:
        new = load_city(folder, new_scenario, new_seed)
        old, current[0] = current[0], new
        switch.app = served_app(new, keyring, on_load, runs)
        old.close()
        return new

    switch.app = served_app(live, keyring, on_load, runs)
    sys.setswitchinterval(0.001)  # the event loop gets the GIL back sooner during an advance
    console.print(f"Live city '{_safe(live.scenario.name)}' at day {live.day}, store "
                  f"{_safe(folder)}; listening on http://{host}:{port} (docs at /docs)")
    try:
        uvicorn.run(switch, host=host, port=port, log_level="warning", access_log=False)
    finally:
        current[0].close()


@app.command("report")
def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="DIR [DIR2]",
                                                   help="A run folder, or two to compare.")],
    out: Annotated[Path | None, typer.Option(help="The HTML file [default: DIR/report.html; "
                                             "for two runs, compare.html in the first run's "
                                             "folder].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")
                     ] = False,
) -> None:
    """Write one self-contained HTML report (opens offline) for a run, or two side by side."""
    from xinyong.views.figures import run_data
    from xinyong.views.report import write_report

    if len(run_dirs) > 2:
        raise _fail("give one run folder, or two to compare", 2)
    if out is not None:
        _check_out_file(out, force)
    if len(run_dirs) == 1 and (run_dirs[0] / "design.json").is_file():
        from xinyong.views.experiment_report import write_experiment_report

        if not (run_dirs[0] / "effects.csv").is_file():
            raise _fail(f"the experiment in '{run_dirs[0]}' has not finished: run it "
                        f"again to finish it, then report")
        path = write_experiment_report(run_dirs[0], out)
        console.print(f"Wrote [bold]{_safe(path)}[/] (opens offline)")
        return
    try:
        runs = [open_run(d) for d in run_dirs]
    except RunError as exc:
        raise _fail(str(exc)) from None
    try:
        data = [run_data(r) for r in runs]
        default = run_dirs[0] / ("report.html" if len(runs) == 1 else "compare.html")
        path = write_report(out or default, data[0], data[1] if len(data) == 2 else None)
    except OSError as exc:
        raise _fail(f"cannot write the report to '{out or default}': {exc.strerror}; give "
                    f"--out a file in a folder that exists") from None
    finally:
        for r in runs:
            r.close()
    size = path.stat().st_size / 2**20
    where = "" if out is not None or len(run_dirs) == 1 else \
        " (in the first run's folder; --out chooses another file)"
    console.print(f"Wrote [bold]{_safe(path)}[/] ({size:.1f} MB; opens offline)"
                  f"{_safe(where)}", highlight=False)


@app.command("describe")
def describe_command(
    scenario: Annotated[str | None, typer.Argument(help="A built-in scenario name or a "
                                                   ".toml/.json file.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the Markdown to this file instead "
                                             "of printing it.")] = None,
    tables: Annotated[Path | None, typer.Option(metavar="DIR", help="Instead: the data "
                                                "dictionary of this run folder, every table "
                                                "and column with its meaning, unit and "
                                                "labels.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")
                     ] = False,
) -> None:
    """Describe a scenario as a model (the ODD protocol, Markdown), or a run's tables."""
    from xinyong.views.describe import data_dictionary, odd

    if tables is not None:
        try:
            with open_run(tables) as run:
                frame = data_dictionary(run)
        except RunError as exc:
            raise _fail(str(exc)) from None
        table = Table(title=_safe(f"The tables of {tables}"))
        for header in ("table", "column", "type", "meaning and unit", "labels"):
            table.add_column(header, overflow="fold")
        for row in frame.itertuples():
            table.add_row(*(_safe(v) for v in (row.table, row.column, row.type,
                                                      row.meaning, row.labels)))
        console.print(table)
        return
    if scenario is None:
        raise _fail("give a scenario (e.g. xinyong describe rongcheng), or --tables DIR for "
                    "a run's data dictionary", 2)
    try:
        text = odd(load_scenario(scenario))
    except ScenarioError as exc:
        raise _fail(str(exc), 2) from None
    if out is None:
        print(text)
        return
    _check_out_file(out, force)
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"Wrote [bold]{_safe(out)}[/]", highlight=False)


@app.command("experiment")
def experiment_command(
    design: Annotated[Path, typer.Argument(metavar="DESIGN.toml", help="The design: scenario, "
                                           "seeds, metrics, and arms or factors.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the runs and results; run "
                                             "again on it to finish an interrupted "
                                             "experiment [default: experiments/DESIGN].")
                   ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local processes running at once.")] = 1,
    ray: Annotated[str | None, typer.Option("--ray", help="Run on Ray instead: a cluster's "
                                            "address, or 'local'.")] = None,
) -> None:
    """Run every arm of a design on every seed (paired), and the effects with intervals."""
    from xinyong.studies.design import DesignError
    from xinyong.studies.experiments import experiment

    folder = out or Path("experiments") / design.stem
    if ray is not None and workers != 1:
        raise _fail("give --workers N (local processes) or --ray ADDRESS, not both", 2)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("runs"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(_safe(design.name), total=None)
            exp = experiment(design, out=folder, workers=workers, ray_address=ray,
                             progress=lambda n, total: bar.update(task, completed=n,
                                                                  total=total))
    except (DesignError, WorkerError) as exc:
        raise _fail(str(exc), 2) from None
    except KeyboardInterrupt:
        raise _fail(f"interrupted; the finished runs are kept in {folder}/runs: run the "
                    f"same command again to continue", 130) from None
    for table in _experiment_tables(exp):
        console.print(table)
    console.print(f"{exp.ran} runs done, {len(exp.runs) - exp.ran} found finished. Wrote "
                  f"[bold]{_safe(folder)}[/]: runs.parquet, runs.csv, effects.csv"
                  f"{', sensitivity.csv' if exp.sensitivity is not None else ''}, "
                  f"experiment.duckdb  (report: xinyong report {_safe(folder)})",
                  highlight=False)


def _print_changes(summary: dict) -> None:
    """What a run set (its overrides), and the chilling effect with its counts and
    intervals."""
    if summary.get("overrides"):
        table = Table(title="Set for this run (--set)", show_header=False)
        for path, value in summary["overrides"].items():
            table.add_row(_safe(path), _safe(json.dumps(value)))
        console.print(table)
    if summary.get("chilling_detail"):
        table = Table(title="Chilling effect: each behaviour against the same city where "
                            "nothing acts on people (95 % interval)")
        table.add_column("behaviour")
        table.add_column("change", justify="right")
        for name, row in summary["chilling_detail"].items():
            table.add_row(_safe(name), _safe(chilling_text(row)))
        console.print(table)


def _num(value: float) -> str:
    """A figure in 4 significant digits, large ones whole with thousands separated."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def _experiment_tables(exp: Any) -> list[Table]:
    """The effects against the baseline; for a sensitivity design, its indices instead."""
    if exp.sensitivity is not None:
        morris = "mu_star" in exp.sensitivity
        heads = ("mu_star", "sigma") if morris else ("S1", "ST")
        tables = []
        for metric, rows in exp.sensitivity.groupby("metric", sort=False):
            table = Table(title=_safe(f"{metric}: {'Morris' if morris else 'Sobol'} indices "
                                       f"(± 95 % bootstrap)"))
            for header in ("factor", *heads):
                table.add_column(header, justify="left" if header == "factor" else "right")
            for r in rows.to_dict("records"):
                first = f"{r[heads[0]]:.4g} ± {r[heads[0] + '_conf']:.2g}"
                second = f"{r['sigma']:.4g}" if morris else \
                    f"{r['ST']:.4g} ± {r['ST_conf']:.2g}"
                table.add_row(_safe(r["name"]), first, second)
            tables.append(table)
        return tables
    table = Table(title=_safe(f"Effects against '{exp.plan.baseline}' (95 % intervals)"))
    width = {"metric": max([6, *map(len, exp.effects["metric"])])}
    for header in ("arm", "metric", "difference", "paired", "unpaired", "pairing gain"):
        left = header in ("arm", "metric")
        # Names keep their width; an interval wraps at its comma on a narrow terminal.
        table.add_column(header, justify="left" if left else "right",
                         min_width=min(width.get(header, 0), 12) or None,
                         no_wrap=header == "difference", overflow="fold")
    for r in exp.effects.itertuples():
        table.add_row(_safe(r.arm), _safe(r.metric), _num(r.mean_diff),
                      f"[{_num(r.lo)}, {_num(r.hi)}]",
                      f"[{_num(r.unpaired_lo)}, {_num(r.unpaired_hi)}]",
                      f"{r.variance_reduction:.3g}×")
    return [table]


@app.command("scenarios")
def scenarios_command(
    show: Annotated[str | None, typer.Option(help="Print this built-in scenario as TOML, to "
                                             "copy and edit.")] = None,
    resolved: Annotated[bool, typer.Option(help="With --show: every field written out, the "
                                           "packs it names included (the paths --set "
                                           "takes).")] = False,
) -> None:
    """List the built-in scenarios, or print one as TOML (--show NAME)."""
    if show is not None:
        from xinyong.studies.scenario_text import scenario_toml

        try:
            print(scenario_toml(show, resolved=resolved), end="")
        except ScenarioError as exc:
            raise _fail(str(exc), 2) from None
        return
    table = Table(show_header=True)
    table.add_column("name", style="bold")
    table.add_column("citizens", justify="right")
    table.add_column("days", justify="right")
    table.add_column("about")
    for name in sorted(builtin_scenarios()):
        s = load_scenario(name)
        table.add_row(_safe(name), f"{s.citizens:,}", str(s.days),
                      _safe(s.about.split(". ")[0]))
    console.print(table)


@app.command("summary")
def summary_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole summary as JSON "
                                          "instead.")] = False,
) -> None:
    """Print a finished run's summary."""
    try:
        with open_run(run_dir) as run:
            summary = run.summary
    except RunError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(summary, indent=1))
    else:
        _print_summary(summary)
        _print_changes(summary)


if __name__ == "__main__":  # pragma: no cover
    app()
