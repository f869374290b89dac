"""``calibrate``: a scenario's assumed values fitted to a published record (ABC-SMC), with
progress, the posterior table, the fit on the held-out observations, and the output folder."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.views.cli.common import _fail, _safe, console


def calibrate_command(
    scenario: Annotated[
        str, typer.Argument(help="A built-in scenario name or a .toml/.json file.")
    ] = "history",
    record: Annotated[
        str, typer.Option(help="A record file (xinyong/sources/record.toml's format).")
    ] = "record",
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            help="A calibration file: parameters, ties, held-out observations [default: the "
            "scenario's built-in one].",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="Fit one path, PATH=LOW:HIGH or PATH=LOW:HIGH:log (repeatable)."
        ),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="Every --param prior log-uniform.")] = False,
    citizens: Annotated[
        int, typer.Option(min=100, help="The sampled population of every run.")
    ] = 20_000,
    days: Annotated[
        int | None, typer.Option(min=1, help="Days of every run [default: the scenario's].")
    ] = None,
    hours: Annotated[
        float, typer.Option(help="The wall-time budget, fit and predictive runs.")
    ] = 1.0,
    max_runs: Annotated[
        int | None, typer.Option(min=1, help="A budget in runs of the fit, beside --hours.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local processes [default: the machine's cores].")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Run on Ray instead: a cluster's address, or 'local'."),
    ] = None,
    population: Annotated[int, typer.Option(min=2, help="Particles a generation keeps.")] = 20,
    generations: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many generations.")
    ] = None,
    predictive: Annotated[
        int, typer.Option(min=0, help="Runs at posterior draws, for the predictive intervals.")
    ] = 16,
    seed: Annotated[int, typer.Option(min=0, help="The root of every draw's address.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="The output folder [default: calibrations/SCENARIO].")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the fit in --out from its last generation.")
    ] = False,
    allow_sourced: Annotated[
        bool,
        typer.Option("--allow-sourced", help="Fit paths whose value has a published source too."),
    ] = False,
) -> None:
    """Fit a scenario's assumed values to the published record by ABC-SMC: each parameter's
    posterior and 95 % interval, which the record does not identify, the fitted values as a
    pack, and the plot of the fit."""
    from xinyong.scenario import ScenarioError

    if ray is not None and workers is not None:
        raise _fail("give --workers N (local processes) or --ray ADDRESS, not both", 2)
    if hours <= 0:
        raise _fail(f"--hours {hours}: give a budget above 0, e.g. --hours 1", 2)
    folder = out or Path("calibrations") / Path(scenario).stem
    try:
        from xinyong.studies.fit import calibrate
    except ImportError as exc:  # pyabc, an optional extra
        raise _fail(str(exc), 2) from None
    command = shlex.join(["xinyong", "calibrate", *sys.argv[2:]]) if len(sys.argv) > 1 else None
    columns = (
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(f"fitting {_safe(scenario)}", line="starting the workers")

            shown = [-1]  # runs already printed (a log file gets a line per run)

            def show(s: Any) -> None:
                eps = "∞" if math.isinf(s.epsilon) else f"{s.epsilon:.3g}"
                rate = s.accepted / s.runs if s.runs else 0.0
                line = (
                    f"generation {s.generation}: {s.accepted}/{s.population} accepted of "
                    f"{s.runs} runs ({rate:.0%}), epsilon {eps}; {s.total_runs} runs in "
                    f"all, {s.seconds / 60:.0f} of {hours * 60:.0f} min"
                )
                bar.update(task, line=line)
                if not console.is_terminal and s.total_runs != shown[0]:
                    shown[0] = s.total_runs
                    console.print(line, highlight=False, markup=False)

            fit = calibrate(
                scenario,
                params,
                param=param or [],
                log=log,
                record=record,
                citizens=citizens,
                days=days,
                seed=seed,
                population=population,
                generations=generations,
                predictive=predictive,
                hours=hours,
                max_runs=max_runs,
                workers=workers,
                ray_address=ray,
                out=folder,
                resume=resume,
                allow_sourced=allow_sourced,
                progress=show,
                command=command,
            )
    except ScenarioError as exc:
        raise _fail(str(exc), 2) from None
    except KeyboardInterrupt:
        raise _fail(
            f"interrupted; the finished generations are kept in {folder}: the same command "
            "with --resume continues the fit",
            130,
        ) from None
    for table in _tables(fit):
        console.print(table)
    ended = {
        "budget": "the budget ended it",
        "epsilon": "epsilon reached the runs' own sampling noise",
        "generations": "it ran the generations asked for",
        "acceptance": "it ended",
    }[fit.ended]
    console.print(
        f"{len(fit.generations)} generations, {fit.runs} runs in {fit.seconds / 60:.1f} min "
        f"({_safe(ended)}). Wrote [bold]{_safe(folder)}[/]: posterior.csv, observations.csv, "
        "fitted.toml, fit.html (apply with: xinyong simulate --fitted "
        f"{_safe(folder / 'fitted.toml')})",
        highlight=False,
    )


def _tables(fit: Any) -> list[Table]:
    posterior = Table(
        title=_safe(
            f"Posterior of {len(fit.spec.parameters)} parameters (median, 95 % interval; "
            "identified: the interval under half the prior's width)"
        )
    )
    for head in ("parameter", "prior", "median", "95 % interval", "width", "identified"):
        posterior.add_column(head, justify="left" if head in ("parameter", "prior") else "right")
    for r in fit.table().itertuples():
        posterior.add_row(
            _safe(r.parameter),
            _safe(r.prior),
            f"{r.median:.4g}",
            f"{r.low:.3g} to {r.high:.3g}",
            f"{r.width_vs_prior:.0%}",
            ("yes" if r.identified else "[bold]no[/]") + (f" ({_safe(r.note)})" if r.note else ""),
        )
    observed = Table(
        title="Published against the fitted model (posterior predictive median, 95 % interval)"
    )
    for head in ("observation", "role", "published", "predicted", "95 % interval", "ratio"):
        observed.add_column(head, justify="left" if head in ("observation", "role") else "right")
    for r in fit.observations().itertuples():
        off = r.within_a_third is False
        observed.add_row(
            _safe(r.observation),
            r.role,
            f"{r.published:,.4g}",
            f"{r.predicted:,.4g}",
            f"{r.predicted_low:,.3g} to {r.predicted_high:,.3g}",
            (f"[bold]{r.ratio:.2f}[/]" if off else f"{r.ratio:.2f}"),
        )
    return [posterior, observed]
