"""Studies and reports: ``experiment`` (a design's arms on paired seeds, and its effects) and
``report`` (the HTML report of a run, two runs side by side, or an experiment)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong.engine.workers import WorkerError
from xinyong.records.run import STORE_FILE, RunError, damaged, open_run
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


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num(value: float) -> str:
    """A figure as a reader writes it, never as ``1.6e-05``: up to 4 significant digits
    (``818.5``, ``0.1352``, ``1.72``), large ones whole with thousands separated
    (``33,727``), and the very small and very large as a power of ten (``-1.6×10⁻⁵``,
    ``1.62×10⁷``)."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞" if value < 0 else "—"
    if value == 0:
        return "0"
    power = math.floor(math.log10(abs(value)))
    if power < -3 or power >= 7:
        mantissa = f"{value / 10**power:.3g}"
        if mantissa.lstrip("-") == "10":  # rounding reached the next power
            mantissa, power = mantissa.replace("10", "1"), power + 1
        return f"{mantissa}×10{str(power).translate(_SUPERSCRIPT)}"
    if power >= 4:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def _interval(lo: float, hi: float) -> str:
    """An interval, which wraps between its ends (never inside a number)."""
    return f"{_num(lo)} to {_num(hi)}"


#: The widest a metric's line gets in a table: longer names break at their dots.
_NAME_WIDTH = 26


def _wrapped_name(name: str, width: int = _NAME_WIDTH) -> str:
    """A metric's name in lines of at most ``width``, broken only after a dot (a nested
    summary key), never inside a word."""
    lines = [""]
    for part in re.split(r"(?<=\.)", name):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def _experiment_tables(exp: Any) -> list[Table]:
    """The effects against the baseline; for a sensitivity design, its indices instead.

    Every table fits 80 columns: names break only at their dots, intervals between their
    ends, and numbers are never written with exponents.
    """
    if exp.sensitivity is not None:
        morris = "mu_star" in exp.sensitivity
        indices = ("mu_star", "sigma") if morris else ("S1", "ST")
        tables = []
        for metric, found in exp.sensitivity.groupby("metric", sort=False):
            title = f"{metric}: {'Morris' if morris else 'Sobol'} indices (± 95 % bootstrap)"
            table = Table(title=_safe(title), box=box.SIMPLE_HEAD, min_width=len(metric) + 2)
            for header in ("factor", *indices):
                table.add_column(
                    header, justify="left" if header == "factor" else "right", no_wrap=True
                )
            for r in found.to_dict("records"):
                first = f"{_num(r[indices[0]])} ± {_num(r[indices[0] + '_conf'])}"
                second = _num(r["sigma"]) if morris else f"{_num(r['ST'])} ± {_num(r['ST_conf'])}"
                table.add_row(_safe(r["name"]), first, second)
            tables.append(table)
        return tables
    heads = ("metric, arm", "difference", "paired", "as if unpaired", "variance reduction (×)")
    rows: list[tuple[str, ...]] = []
    for metric, group in exp.effects.groupby("metric", sort=False):
        rows.append((_wrapped_name(metric), "", "", "", ""))
        rows += [
            (
                "  " + r.arm,
                _num(r.mean_diff),
                _interval(r.lo, r.hi),
                _interval(r.unpaired_lo, r.unpaired_hi),
                _num(r.variance_reduction),
            )
            for r in group.itertuples()
        ]
    table = Table(
        title=_safe(f"Effects against '{exp.plan.baseline}': difference of means, 95 % intervals"),
        box=box.SIMPLE_HEAD,
    )
    for i, header in enumerate(heads):
        # No column narrower than its longest word: a cell wraps between words, never in one.
        words = [w for row in rows for w in row[i].split()] + header.split()
        table.add_column(
            header,
            justify="left" if i == 0 else "right",
            no_wrap=i < 2,
            min_width=max(map(len, words)),
        )
    for row in rows:
        bold = not row[1]  # a metric's own row
        table.add_row(*(f"[bold]{_safe(c)}[/]" if bold and c else _safe(c) for c in row))
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
    default = run_dirs[0] / ("report.html" if len(runs) == 1 else "compare.html")
    try:
        data = []
        for folder, r in zip(run_dirs, runs, strict=True):
            try:
                data.append(run_data(r))
            except duckdb.Error as exc:
                raise _fail(str(damaged(folder / STORE_FILE, exc))) from None
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
