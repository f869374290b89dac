"""The ``xinyong`` command line: a thin layer over the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.chilling import chilling_text
from xinyong.overrides import apply, parse
from xinyong.run import RunError, UnknownCitizenError, check_output_folder, open_run, simulate
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from xinyong.workers import WorkerError

NATION = 1_400_000_000  # citizens in China [seed 002]

SET_HELP = ("Change one field of the scenario, PATH=VALUE, e.g. sensors.camera.misidentify=0.05 "
            "(repeatable; VALUE is TOML; see xinyong scenarios --show NAME for the paths).")

app = typer.Typer(
    help="xinyong: the social credit system as publicly reported, run on synthetic cities.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


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
    scale: Annotated[float | None, typer.Option(min=0.0, help="Population as a fraction of "
                                                "China's 1.4 billion citizens (overrides "
                                                "--citizens).")] = None,
    blocks: Annotated[int, typer.Option(min=1, help="Simulate the city as this many blocks "
                                        "of citizens: the same results, split the way "
                                        "workers would split it.")] = 1,
    workers: Annotated[int, typer.Option(min=0, help="Simulate the city as this many blocks "
                                         "on Ray workers (pip install 'xinyong[ray]'); 0 runs "
                                         "in this process.")] = 0,
    ray: Annotated[str | None, typer.Option("--ray", help="Address of an existing Ray "
                                            "cluster (default: a local one).")] = None,
    checkpoint_every: Annotated[int, typer.Option(min=0, help="With --workers and --out: "
                                                  "checkpoint every this many days.")] = 0,
    resume: Annotated[bool, typer.Option(help="Resume the unfinished --workers run in --out "
                                         "from its last checkpoint.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Simulate a city and write its ledger, daily series and summary."""
    if scale is not None:
        citizens = max(1, round(scale * NATION))
    overrides: dict = {}
    if resume:  # the unfinished run's own scenario and seed
        if out is None or not (out / "run.duckdb").exists():
            raise _fail("--resume needs --out DIR, the folder of the unfinished run", 2)
        if set_:
            raise _fail("--resume continues a run as it was started: leave out --set", 2)
        from xinyong.store import RunStore

        stored = RunStore(out / "run.duckdb", read_only=True)
        chosen, seed = stored.scenario(), int(stored.info()["seed"])
        stored.close()
    else:
        try:
            chosen = load_scenario(scenario).with_sizes(citizens=citizens, days=days)
            overrides = parse(set_ or [])
            apply(chosen, overrides)  # refused now, before a folder is made; simulate records
        except ScenarioError as exc:
            raise _fail(escape(str(exc)), 2) from None
    folder = out or Path("runs") / f"{chosen.name}-seed{seed}"
    try:
        if not resume:
            check_output_folder(folder)
    except RunError as exc:
        raise _fail(str(exc)) from None
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("days"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"{chosen.name}: {chosen.citizens:,} citizens", total=chosen.days)
        try:
            run = simulate(chosen, seed=seed, out=folder, blocks=blocks, workers=workers,
                           ray_address=ray, checkpoint_every=checkpoint_every, resume=resume,
                           progress=lambda day: bar.update(task, completed=day),
                           set=overrides)
        except (RunError, WorkerError) as exc:
            raise _fail(str(exc)) from None
    with run:
        _print_summary(run.summary)
        _print_changes(run.summary)
    data = " and its Parquet dataset data/" if (folder / "data").is_dir() else ""
    console.print(f"Wrote [bold]{folder / 'summary.json'}[/] and [bold]{folder / 'run.duckdb'}"
                  f"[/]{data}  (explain a citizen: xinyong explain {folder} 0)")


def _figure(key: str, value: object) -> str:
    if key.endswith("_share"):
        return f"{value:.3%}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _print_summary(summary: dict) -> None:
    table = Table(title="Summary", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key == "grade_shares":
            for grade, share in value.items():
                table.add_row(f"  grade {grade}", f"{share:.3%}")
        elif key == "population":
            for part, count in value.items():
                table.add_row(f"  {part}", f"{count:,}")
        elif key != "operators":
            table.add_row(key, _figure(key, value))
    console.print(table)
    operators = summary.get("operators")
    if operators:
        ops = Table(title="Operators")
        for header in ("operator", "scheme", "scored", "mean", "listed", "wrongly", "dismissed"):
            ops.add_column(header, justify="left" if header in ("operator", "scheme") else "right")
        for name, f in operators.items():
            ops.add_row(name, f["scheme"], f"{f['covered']:,}",
                        f"{f['mean_score']:.1f}", f"{f['listed_share']:.2%}",
                        f"{f['wrongly_listed']:,}", f"{f['events_dismissed']:,}")
        console.print(ops)


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
    service: Annotated[str, typer.Argument(help="The service, e.g. rail, hotel, university.")],
    citizen: Annotated[int, typer.Argument(help="The citizen's id.")],
    run_dir: Annotated[Path, typer.Option("--run", help="A run folder.")],
) -> None:
    """Ask a service about a citizen, as at the ticket office: allow, deny... and why."""
    try:
        with open_run(run_dir) as run:
            decision = run.gate(service, citizen)
    except (RunError, UnknownCitizenError) as exc:
        raise _fail(str(exc)) from None
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    colour = {"deny": "red", "restrict": "yellow", "allow": "default"}.get(decision.action,
                                                                           "green")
    console.print(f"[bold {colour}]{decision.action.upper()}[/] {decision.text}",
                  highlight=False)


@app.command("notices")
def notices_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
    kind: Annotated[str | None, typer.Option(help="billboard, tv, published_list, dial_tone, "
                                             "poster or civilized_family.")] = None,
) -> None:
    """The city's public notices (about synthetic citizens only), newest first."""
    try:
        with open_run(run_dir) as run:
            rows = run.notices(limit=limit, kind=kind)
    except RunError as exc:
        raise _fail(str(exc)) from None
    for text in rows["text"]:
        console.print(text, highlight=False)
    if rows.empty:
        console.print("No notices.")


@app.command("serve")
def serve_command(
    scenario: Annotated[str | None, typer.Option(help="Start a new live city from this "
                                                 "scenario (name or file).")] = None,
    run_dir: Annotated[Path | None, typer.Option("--run", help="The live city's folder: "
                                                 "recovered if it holds one, else created.")
                       ] = None,
    citizens: Annotated[int | None, typer.Option(min=1)] = None,
    days: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    keys: Annotated[Path | None, typer.Option(help="TOML file of [[keys]]; default: the "
                                              "XINYONG_KEYS variable.")] = None,
    runs: Annotated[Path, typer.Option(help="Folder of stored runs the dashboard can "
                                       "compare.")] = Path("runs"),
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Serve a live city over HTTP: the dashboard at /, OpenAPI at /docs."""
    import uvicorn

    from xinyong.api import Switch, create_app
    from xinyong.auth import KeyFileError, Keyring
    from xinyong.live import CURRENT_FILE, STORE_FILE, LiveCity, LiveError, load_city, open_city

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
        raise _fail(escape(str(exc)), 2) from None
    switch = Switch()
    current: list[LiveCity] = [live]

    def on_load(new_scenario: Scenario, new_seed: int) -> LiveCity:
        new = load_city(folder, new_scenario, new_seed)
        old, current[0] = current[0], new
        switch.app = create_app(new, keyring, on_load, runs)
        old.close()
        return new

    switch.app = create_app(live, keyring, on_load, runs)
    console.print(f"Live city '{live.scenario.name}' at day {live.day}, store {folder}; "
                  f"listening on http://{host}:{port} (docs at /docs)")
    try:
        uvicorn.run(switch, host=host, port=port, log_level="warning", access_log=False)
    finally:
        current[0].close()


@app.command("report")
def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="DIR [DIR2]",
                                                   help="A run folder, or two to compare.")],
    out: Annotated[Path | None, typer.Option(help="The HTML file [default: DIR/report.html, "
                                             "or DIR/compare.html for two runs].")] = None,
) -> None:
    """Write one self-contained HTML report (opens offline) for a run, or two side by side."""
    from xinyong.figures import run_data
    from xinyong.report import write_report

    if len(run_dirs) > 2:
        raise _fail("give one run folder, or two to compare", 2)
    if len(run_dirs) == 1 and (run_dirs[0] / "design.json").is_file():
        from xinyong.experiment_report import write_experiment_report

        if not (run_dirs[0] / "effects.csv").is_file():
            raise _fail(escape(f"the experiment in '{run_dirs[0]}' has not finished: run it "
                               f"again to finish it, then report"))
        path = write_experiment_report(run_dirs[0], out)
        console.print(f"Wrote [bold]{escape(str(path))}[/] (opens offline)")
        return
    try:
        runs = [open_run(d) for d in run_dirs]
    except RunError as exc:
        raise _fail(str(exc)) from None
    try:
        data = [run_data(r) for r in runs]
        default = run_dirs[0] / ("report.html" if len(runs) == 1 else "compare.html")
        path = write_report(out or default, data[0], data[1] if len(data) == 2 else None)
    finally:
        for r in runs:
            r.close()
    size = path.stat().st_size / 2**20
    console.print(f"Wrote [bold]{path}[/] ({size:.1f} MB; opens offline)")


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
    from xinyong.design import DesignError
    from xinyong.experiments import experiment

    folder = out or Path("experiments") / design.stem
    if ray is not None and workers != 1:
        raise _fail("give --workers N (local processes) or --ray ADDRESS, not both", 2)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("runs"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(escape(design.name), total=None)
            exp = experiment(design, out=folder, workers=workers, ray_address=ray,
                             progress=lambda n, total: bar.update(task, completed=n,
                                                                  total=total))
    except (DesignError, WorkerError) as exc:
        raise _fail(escape(str(exc)), 2) from None
    except KeyboardInterrupt:
        raise _fail(escape(f"interrupted; the finished runs are kept in {folder}/runs: run the "
                           f"same command again to continue"), 130) from None
    for table in _experiment_tables(exp):
        console.print(table)
    console.print(f"{exp.ran} runs done, {len(exp.runs) - exp.ran} found finished. Wrote "
                  f"[bold]{escape(str(folder))}[/]: runs.parquet, runs.csv, effects.csv"
                  f"{', sensitivity.csv' if exp.sensitivity is not None else ''}, "
                  f"experiment.duckdb  (report: xinyong report {escape(str(folder))})",
                  highlight=False)


def _print_changes(summary: dict) -> None:
    """What a run set (its overrides), and the chilling effect with its counts and
    intervals."""
    if summary.get("overrides"):
        table = Table(title="Set for this run (--set)", show_header=False)
        for path, value in summary["overrides"].items():
            table.add_row(escape(path), escape(json.dumps(value)))
        console.print(table)
    if summary.get("chilling_detail"):
        table = Table(title="Chilling effect: each behaviour against the same city where "
                            "nothing acts on people (95 % interval)")
        table.add_column("behaviour")
        table.add_column("change", justify="right")
        for name, row in summary["chilling_detail"].items():
            table.add_row(escape(name), escape(chilling_text(row)))
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
            table = Table(title=escape(f"{metric}: {'Morris' if morris else 'Sobol'} indices "
                                       f"(± 95 % bootstrap)"))
            for header in ("factor", *heads):
                table.add_column(header, justify="left" if header == "factor" else "right")
            for r in rows.to_dict("records"):
                first = f"{r[heads[0]]:.4g} ± {r[heads[0] + '_conf']:.2g}"
                second = f"{r['sigma']:.4g}" if morris else \
                    f"{r['ST']:.4g} ± {r['ST_conf']:.2g}"
                table.add_row(escape(r["name"]), first, second)
            tables.append(table)
        return tables
    table = Table(title=escape(f"Effects against '{exp.plan.baseline}' (95 % intervals)"))
    for header in ("arm", "metric", "difference", "paired", "as if unpaired", "pairing gain"):
        left = header in ("arm", "metric")
        table.add_column(header, justify="left" if left else "right", no_wrap=not left,
                         overflow="fold")
    for r in exp.effects.itertuples():
        table.add_row(escape(r.arm), escape(r.metric), _num(r.mean_diff),
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
        from xinyong.scenario_text import scenario_toml

        try:
            print(scenario_toml(show, resolved=resolved), end="")
        except ScenarioError as exc:
            raise _fail(escape(str(exc)), 2) from None
        return
    table = Table(show_header=True)
    table.add_column("name", style="bold")
    table.add_column("citizens", justify="right")
    table.add_column("days", justify="right")
    table.add_column("about")
    for name in sorted(builtin_scenarios()):
        s = load_scenario(name)
        table.add_row(name, f"{s.citizens:,}", str(s.days), s.about.split(". ")[0])
    console.print(table)


@app.command("summary")
def summary_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
) -> None:
    """Print a finished run's summary."""
    try:
        with open_run(run_dir) as run:
            _print_summary(run.summary)
            _print_changes(run.summary)
    except RunError as exc:
        raise _fail(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    app()
