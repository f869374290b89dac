"""Running a city: ``simulate`` and ``validate``, and the tables a run prints (its summary,
what it set and changed, its profile), which ``summary`` prints too."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from xinyong.engine.chilling import chilling_text
from xinyong.engine.cluster import ClusterError
from xinyong.engine.twin import has_twin
from xinyong.engine.workers import WorkerError
from xinyong.records.run import RunError
from xinyong.records.simulation import check_output_folder, simulate
from xinyong.scenario import ScenarioError, load_scenario
from xinyong.scenario.overrides import apply, parse
from xinyong.views.cli.common import (
    _CONTROL,
    SET_HELP,
    _clear_run_folder,
    _fail,
    _safe,
    console,
    invoked_as,
)
from xinyong.views.progress import days_bar
from xinyong.views.summary_table import format_value

NATION = 1_400_000_000  # citizens in China [seed 002]


def simulate_command(
    scenario: Annotated[
        str, typer.Option(help="A built-in scenario name or a .toml/.json file.")
    ] = "reference",
    citizens: Annotated[
        int | None, typer.Option(min=1, help="Population (default: the scenario's).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Days to simulate (default: the scenario's).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for run.duckdb and summary.json [default: runs/SCENARIO-seedSEED]."
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(
            help="Population as a fraction of China's "
            "1.4 billion citizens, above 0 (overrides "
            "--citizens)."
        ),
    ] = None,
    blocks: Annotated[
        int,
        typer.Option(
            min=1,
            help="Simulate the city as this many blocks "
            "of citizens: the same results, split the way "
            "workers would split it.",
        ),
    ] = 1,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Simulate the city as this many blocks "
            "on Ray workers (pip install 'xinyong[ray]'); 0 runs "
            "in this process.",
        ),
    ] = 0,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Join an existing Ray cluster: "
            "HOST:PORT of its head (as `ray start --head` "
            "prints it), or auto for this machine's "
            "(default: a Ray of the run's own).",
        ),
    ] = None,
    shared_out: Annotated[
        bool,
        typer.Option(
            help="--out is on a filesystem every node of "
            "the Ray cluster mounts at the same path "
            "(required on more than one node)."
        ),
    ] = False,
    checkpoint_every: Annotated[
        int, typer.Option(min=0, help="With --workers and --out: checkpoint every this many days.")
    ] = 0,
    resume: Annotated[
        bool,
        typer.Option(help="Resume the unfinished --workers run in --out from its last checkpoint."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the run already in --out.")
    ] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    fitted: Annotated[
        str | None,
        typer.Option(
            "--fitted",
            help="Apply a fit's values first (the fitted.toml xinyong calibrate wrote, or a "
            "built-in fit such as fitted-history); --set still wins.",
        ),
    ] = None,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="Print the time, calls and events "
            "of each phase of the day, and where the rest of "
            "the wall time goes (in this process: not with "
            "--workers).",
        ),
    ] = False,
) -> None:
    """Simulate a city and write its ledger, daily series and summary."""
    if scale is not None:
        if not scale > 0 or round(scale * NATION) < 1:
            raise _fail(
                f"--scale {scale:g} gives no citizens: give a fraction above "
                f"{0.5 / NATION:.1e} (one citizen), e.g. --scale 1e-5 for 14,000",
                2,
            )
        citizens = round(scale * NATION)
    overrides: dict = {}
    if resume:  # the unfinished run's own scenario and seed
        if out is None or not (out / "run.duckdb").exists():
            raise _fail("--resume needs --out DIR, the folder of the unfinished run", 2)
        if set_ or fitted:
            raise _fail(
                "--resume continues a run as it was started: leave out --set and --fitted", 2
            )
        from xinyong.records.store import RunStore

        try:
            stored = RunStore(out / "run.duckdb", read_only=True)
            chosen, seed = stored.scenario(), int(stored.info()["seed"])
            stored.close()
        except (duckdb.Error, KeyError, ValueError) as exc:
            raise _fail(
                f"'{out / 'run.duckdb'}' is damaged ({str(exc).splitlines()[0]}): "
                f"start the run again in a new --out",
                2,
            ) from None
    else:
        try:
            chosen = load_scenario(scenario).with_sizes(citizens=citizens, days=days)
            overrides = parse(set_ or [])
            if fitted is not None:  # a fit's values, then --set over them
                from xinyong.scenario.fitted import load_fitted

                overrides = {**load_fitted(fitted).overrides(), **overrides}
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
    with days_bar(
        _CONTROL.sub("", f"{chosen.name}: {chosen.citizens:,} citizens"),
        chosen.days,
        console=console,
        twin=has_twin(chosen),
    ) as bar:
        try:
            run = simulate(
                chosen,
                seed=seed,
                out=folder,
                blocks=blocks,
                workers=workers,
                ray_address=ray,
                checkpoint_every=checkpoint_every,
                resume=resume,
                shared_out=shared_out,
                progress=bar,
                set=overrides,
                profile=profile,
            )
        except (RunError, WorkerError, ClusterError) as exc:
            raise _fail(str(exc)) from None
    with run:
        _print_summary(run.summary)
        _print_changes(run.summary)
        if run.profile is not None:
            _print_profile(run.profile, run.summary["wall_seconds"])
    data = " and its Parquet dataset data/" if (folder / "data").is_dir() else ""
    console.print(
        f"Wrote [bold]{_safe(folder / 'summary.json')}[/] and "
        f"[bold]{_safe(folder / 'run.duckdb')}[/]{data}  (explain a citizen: "
        f"{_safe(invoked_as())} explain {_safe(folder)} 0)"
    )


def _print_profile(rows: list[dict], wall: float) -> None:
    """The phases of the day and the rest of the run, timed (``simulate --profile``)."""
    table = Table(title=f"Where the {wall:.2f} s of wall time went")
    for header in ("part", "thread", "seconds", "share of wall", "calls", "events"):
        table.add_column(header, justify="left" if header in ("part", "thread") else "right")
    for r in rows:
        table.add_row(
            _safe(r["part"]),
            "beside" if r["beside"] else "main",
            f"{r['seconds']:.3f}",
            f"{r['share']:.1%}",
            f"{r['calls']:,}" if r["calls"] else "",
            f"{r['events']:,}" if r["events"] else "",
        )
    console.print(table)
    console.print(
        "Phases are the day's, summed over the days; parts on a thread beside the "
        "main one run at the same time, and are not part of the sum. Events: what "
        "a phase worked on (behaviours done, events recorded and scored, list "
        "changes, service uses checked, citizens who responded)."
    )


def _print_summary(summary: dict) -> None:
    """The summary's figures as a table, then its operators' and its cities' if it has them."""
    about = summary.get("about", {})
    table = Table(title="Summary", show_header=False, box=box.SIMPLE)
    # Names and figures are never cut: what a figure counts wraps to the width that is left.
    names = [k for k, v in summary.items() if not isinstance(v, (dict, list))]
    table.add_column("figure", no_wrap=True, min_width=max(map(len, names), default=6))
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("what it counts", style="dim", max_width=70, ratio=1, overflow="fold")
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
        ops = Table(title="Operators", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
        for header in (
            "operator",
            "scheme",
            "scored",
            "mean",
            "listed",
            "wrongly listed",
            "wrongly graded",
            "dismissed",
        ):
            ops.add_column(
                header,
                justify="left" if header in ("operator", "scheme") else "right",
                min_width=max(len(w) for w in header.split()),
                no_wrap=header in ("operator", "scheme"),
            )
        for name, f in operators.items():
            ops.add_row(
                _safe(name),
                _safe(f["scheme"]),
                f"{f['covered']:,}",
                f"{f['mean_score']:.1f}",
                f"{f['listed_share']:.2%}",
                f"{f['wrongly_listed']:,}",
                f"{f['wrongly_graded']:,}",
                f"{f['events_dismissed']:,}",
            )
        console.print(ops)
    cities = summary.get("cities")
    if cities:
        table = Table(title="Cities (their residents the schemes cover)", box=box.SIMPLE_HEAD)
        for header in (
            "city",
            "covered",
            "mean",
            "blacklisted",
            "wrongly blacklisted",
            "wrongly missing",
            "wrongly graded",
        ):
            table.add_column(
                header,
                justify="left" if header == "city" else "right",
                min_width=max(len(w) for w in header.split()),
                no_wrap=header == "city",
            )
        for name, f in cities.items():
            table.add_row(
                _safe(name),
                f"{f['covered']:,}",
                f"{f['mean_score']:.1f}",
                f"{f['blacklisted_share']:.2%}",
                f"{f['wrongly_blacklisted']:,}",
                f"{f['wrongly_missing']:,}",
                f"{f['wrongly_graded']:,}",
            )
        f = summary["country"]
        table.add_row(
            "[bold]country[/]",
            f"{f['covered']:,}",
            "",
            f"{f['blacklisted_share']:.2%}",
            f"{f['wrongly_blacklisted']:,}",
            f"{f['wrongly_missing']:,}",
            f"{f['wrongly_graded']:,}",
        )
        console.print(table)


def _print_changes(summary: dict) -> None:
    """What a run set (its overrides), and the chilling effect with its counts and
    intervals."""
    if summary.get("overrides"):
        table = Table(title="Set for this run (--set)", show_header=False)
        for path, value in summary["overrides"].items():
            table.add_row(_safe(path), _safe(json.dumps(value)))
        console.print(table)
    if summary.get("chilling_detail"):
        table = Table(
            title="Chilling effect: each behaviour in the city against its twin, the same "
            "city and seed where nothing acts on people",
            box=box.SIMPLE_HEAD,
        )
        detail = summary["chilling_detail"]
        table.add_column("behaviour", no_wrap=True)
        table.add_column("change, 95 % interval", justify="right", no_wrap=True)
        table.add_column("in the city", justify="right", min_width=6)
        table.add_column("in the twin", justify="right", min_width=6)
        for name, row in detail.items():
            table.add_row(
                _safe(name), _safe(chilling_text(row)), f"{row['with']:,}", f"{row['without']:,}"
            )
        console.print(table)


def validate_command(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a .toml/.json file.")
    ],
    citizens: Annotated[
        int | None, typer.Option(min=1, help="Population (default: the scenario's).")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days (default: the scenario's).")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="How many seeds (1 to K).")] = 3,
    patterns: Annotated[
        Path | None,
        typer.Option(help="A pattern file (default: the scenario's built-in patterns)."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            help="A record file of dated observations (the format of xinyong's own, "
            "sources/record.toml): each one the run covers, held to a third of its value."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes for the seeds (default: one per core).")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Hold a scenario to the published record: one row per published figure, with the
    simulated mean and its 95 % interval over seeds. A figure passes only when its whole
    interval lies in the accepted range; exits 1 unless every figure passes."""
    from xinyong.studies.validate import PASS, validate

    try:
        chosen = apply(load_scenario(scenario), parse(set_ or [])).with_sizes(
            citizens=citizens, days=days
        )
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("days"),
            TimeElapsedColumn(),
            TextColumn("elapsed,"),
            TimeRemainingColumn(),
            TextColumn("left"),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(
                _safe(f"{chosen.name}: {chosen.citizens:,} citizens x {seeds} seeds"),
                total=chosen.days * seeds,
            )
            result = validate(
                chosen,
                patterns,
                record=record,
                seeds=seeds,
                workers=workers,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except ScenarioError as exc:
        raise _fail(str(exc), 2) from None
    table = Table(
        title=_safe(
            f"{result.scenario} against {result.against} "
            f"({result.citizens:,} citizens, seeds {', '.join(map(str, result.seeds))}; "
            f"{result.wall_seconds:,.0f} s)"
        )
    )
    for header in ("figure", "published", "simulated, 95% over seeds", "accepted", "verdict"):
        table.add_column(header, justify="left" if header == "figure" else "right")
    for i, r in enumerate(result.rows.itertuples(), 1):
        colour = (
            "green"
            if r.verdict == PASS
            else "yellow"
            if "inconclusive" in r.verdict
            else "bold red"
        )
        table.add_row(
            f"{_safe(r.pattern)} [{i}]\n[dim]{_safe(r.unit)}[/]",
            _safe(_number(r.published)),
            f"{_number(r.mean)}\n[dim]{_number(r.lo)} to {_number(r.hi)}[/]",
            f"{_number(r.low)} to {_number(r.high)}",
            f"[{colour}]{_safe(r.verdict)}[/]",
        )
    console.print(table)
    for i, source in enumerate(result.rows["source"], 1):
        console.print(f"[dim]\\[{i}] {_safe(source)}[/]", highlight=False)
    if not result.passed:
        raise typer.Exit(1)


def _number(value: object) -> str:
    """A figure for a table: words as they are, big numbers short (12.1 M, 2 bn), small
    ones to three significant digits."""
    if isinstance(value, str):
        return value
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 1e9:
        return f"{x / 1e9:,.3g} bn"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.3g} M"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"
