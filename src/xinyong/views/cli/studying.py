"""Studies and reports: ``experiment`` (a design's arms on paired seeds, and its effects) and
``report`` (the HTML report of a run, two runs side by side, or an experiment)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.engine.workers import WorkerError
from xinyong.records.run import RunError, open_run
from xinyong.views.cli.common import _check_out_file, _fail, _safe, console


def experiment_command(
    design: Annotated[
        Path,
        typer.Argument(
            metavar="DESIGN.toml", help="The design: scenario, seeds, metrics, and arms or factors."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the runs and results; run "
            "again on it to finish an interrupted "
            "experiment [default: experiments/DESIGN]."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local processes running at once.")] = 1,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="Run on Ray instead: a cluster's address, or 'local'."),
    ] = None,
) -> None:
    """Run every arm of a design on every seed (paired), and the effects with intervals."""
    from xinyong.studies.design import DesignError
    from xinyong.studies.experiments import experiment

    folder = out or Path("experiments") / design.stem
    if ray is not None and workers != 1:
        raise _fail("give --workers N (local processes) or --ray ADDRESS, not both", 2)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(_safe(design.name), total=None)
            exp = experiment(
                design,
                out=folder,
                workers=workers,
                ray_address=ray,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )
    except (DesignError, WorkerError) as exc:
        raise _fail(str(exc), 2) from None
    except KeyboardInterrupt:
        raise _fail(
            f"interrupted; the finished runs are kept in {folder}/runs: run the "
            f"same command again to continue",
            130,
        ) from None
    for table in _experiment_tables(exp):
        console.print(table)
    console.print(
        f"{exp.ran} runs done, {len(exp.runs) - exp.ran} found finished. Wrote "
        f"[bold]{_safe(folder)}[/]: runs.parquet, runs.csv, effects.csv"
        f"{', sensitivity.csv' if exp.sensitivity is not None else ''}, "
        f"experiment.duckdb  (report: xinyong report {_safe(folder)})",
        highlight=False,
    )


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
            table = Table(
                title=_safe(
                    f"{metric}: {'Morris' if morris else 'Sobol'} indices (± 95 % bootstrap)"
                )
            )
            for header in ("factor", *heads):
                table.add_column(header, justify="left" if header == "factor" else "right")
            for r in rows.to_dict("records"):
                first = f"{r[heads[0]]:.4g} ± {r[heads[0] + '_conf']:.2g}"
                second = f"{r['sigma']:.4g}" if morris else f"{r['ST']:.4g} ± {r['ST_conf']:.2g}"
                table.add_row(_safe(r["name"]), first, second)
            tables.append(table)
        return tables
    table = Table(title=_safe(f"Effects against '{exp.plan.baseline}' (95 % intervals)"))
    width = {"metric": max([6, *map(len, exp.effects["metric"])])}
    for header in ("arm", "metric", "difference", "paired", "unpaired", "pairing gain"):
        left = header in ("arm", "metric")
        # Names keep their width; an interval wraps at its comma on a narrow terminal.
        table.add_column(
            header,
            justify="left" if left else "right",
            min_width=min(width.get(header, 0), 12) or None,
            no_wrap=header == "difference",
            overflow="fold",
        )
    for r in exp.effects.itertuples():
        table.add_row(
            _safe(r.arm),
            _safe(r.metric),
            _num(r.mean_diff),
            f"[{_num(r.lo)}, {_num(r.hi)}]",
            f"[{_num(r.unpaired_lo)}, {_num(r.unpaired_hi)}]",
            f"{r.variance_reduction:.3g}×",
        )
    return [table]


def report_command(
    run_dirs: Annotated[
        list[Path], typer.Argument(metavar="DIR [DIR2]", help="A run folder, or two to compare.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="The HTML file [default: DIR/report.html; "
            "for two runs, compare.html in the first run's "
            "folder]."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """Write one self-contained HTML report (opens offline) for a run, or two side by side."""
    from xinyong.views.headline import seed_warning
    from xinyong.views.report import write_report
    from xinyong.views.run_data import run_data

    if len(run_dirs) > 2:
        raise _fail("give one run folder, or two to compare", 2)
    if out is not None:
        _check_out_file(out, force)
    if len(run_dirs) == 1 and (run_dirs[0] / "design.json").is_file():
        from xinyong.views.experiment_report import write_experiment_report

        if not (run_dirs[0] / "effects.csv").is_file():
            raise _fail(
                f"the experiment in '{run_dirs[0]}' has not finished: run it "
                f"again to finish it, then report"
            )
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
        raise _fail(
            f"cannot write the report to '{out or default}': {exc.strerror}; give "
            f"--out a file in a folder that exists"
        ) from None
    finally:
        for r in runs:
            r.close()
    size = path.stat().st_size / 2**20
    where = (
        ""
        if out is not None or len(run_dirs) == 1
        else " (in the first run's folder; --out chooses another file)"
    )
    console.print(
        f"Wrote [bold]{_safe(path)}[/] ({size:.1f} MB; opens offline){_safe(where)}",
        highlight=False,
    )
    if len(data) == 2 and (warning := seed_warning(data[0].summary, data[1].summary)):
        console.print(f"[yellow]Note:[/] {_safe(warning)}", highlight=False)
