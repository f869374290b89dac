"""Reading a finished run, and the scenarios: ``explain``, ``gate``, ``notices``,
``summary``, ``scenarios`` and ``describe``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xinyong.primitives.codes import NOTICE_KINDS
from xinyong.records.run import RunError, UnknownCitizenError, reading_run
from xinyong.scenario import ScenarioError, builtin_scenarios, load_scenario
from xinyong.views.cli.common import _check_out_file, _fail, _safe, console, errors
from xinyong.views.cli.running import _print_changes, _print_summary


def explain_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    citizen: Annotated[
        int | None, typer.Argument(help="The citizen's id (or --company N instead).")
    ] = None,
    company: Annotated[
        int | None,
        typer.Option(
            "--company",
            metavar="N",
            help="Explain organisation N (a company or government body) instead.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the explanation as JSON instead.")
    ] = False,
) -> None:
    """Show how a citizen's (or a company's) score, grade and listing came to be, event by
    event."""
    if (citizen is None) == (company is None):
        raise _fail(
            "give a citizen or --company N, not both: xinyong explain DIR 42, or xinyong "
            "explain DIR --company 3",
            2,
        )
    try:
        with reading_run(run_dir) as run:
            if company is not None:
                explanation = run.explain_company(company)
            else:
                assert citizen is not None  # one of the two, checked above
                explanation = run.explain(citizen)
    except (RunError, UnknownCitizenError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(explanation.to_dict(), indent=1))
    else:
        console.print(explanation)


def gate_command(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="DIR SERVICE CITIZEN",
            help="A run folder, the service (e.g. rail, hotel, university) and the citizen's "
            "id; with --company, the run folder and an organisations' service (e.g. "
            "public_tender).",
            show_default=False,
        ),
    ],
    company: Annotated[
        int | None,
        typer.Option(
            "--company",
            metavar="N",
            help="Ask about organisation N (a company or government body) instead of a citizen.",
        ),
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(
            "--run", hidden=True, help="Deprecated: give the run folder as the first argument."
        ),
    ] = None,
) -> None:
    """Ask a service about a citizen, as at the ticket office (or about a company, as at a
    public tender): allow, deny... and why."""
    if run is not None:  # the old form: gate SERVICE CITIZEN --run DIR
        args = [str(run), *args]
    wanted = 2 if company is not None else 3
    if len(args) != wanted:
        raise _fail(
            "give the run folder and the service, and the citizen or --company N: xinyong "
            "gate DIR SERVICE CITIZEN, e.g. xinyong gate runs/rongcheng-seed0 rail 42, or "
            "xinyong gate runs/rongcheng-seed0 public_tender --company 3",
            2,
        )
    run_dir, service = Path(args[0]), args[1]
    if company is None:
        try:
            citizen = int(args[2])
        except ValueError:
            raise _fail(
                f"citizen {args[2]!r} is not an id: give a whole number, e.g. 42", 2
            ) from None
    try:
        with reading_run(run_dir) as opened:
            decision = (
                opened.gate(service, citizen)
                if company is None
                else opened.gate_company(service, company)
            )
    except (RunError, UnknownCitizenError) as exc:
        raise _fail(str(exc)) from None
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    colour = {"deny": "red", "restrict": "yellow", "allow": "default"}.get(decision.action, "green")
    console.print(
        f"[bold {colour}]{decision.label.upper()}[/] {_safe(decision.text)}", highlight=False
    )


def notices_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind: " + ", ".join(NOTICE_KINDS) + ".")
    ] = None,
    on_list: Annotated[
        str | None,
        typer.Option(
            "--list",
            metavar="NAME",
            help="Only notices caused by joining this list (a list's "
            "name, or OPERATOR:listing for a scheme's listing).",
        ),
    ] = None,
) -> None:
    """The city's public notices (about synthetic citizens only), newest first."""
    if kind is not None and kind not in NOTICE_KINDS:
        raise _fail(
            f"--kind {kind!r} is not a kind of notice: choose one of {', '.join(NOTICE_KINDS)}", 2
        )
    try:
        with reading_run(run_dir) as run:
            if on_list is not None and on_list not in run.notice_lists:
                raise _fail(
                    f"--list {on_list!r} is not a list of this run: choose one of "
                    f"{', '.join(run.notice_lists) or '(none: it has no lists)'}",
                    2,
                )
            rows = run.notices(limit=limit, kind=kind, on_list=on_list)
            total = run.count_notices(kind=kind, on_list=on_list)
    except RunError as exc:
        raise _fail(str(exc)) from None
    for text in rows["text"]:
        console.print(_safe(text), highlight=False, soft_wrap=True)
    chosen = " and ".join(
        part
        for part in (
            f"of kind {kind}" if kind else "",
            f"caused by joining {on_list}" if on_list else "",
        )
        if part
    )
    what = f"notices {chosen}" if chosen else "notices"
    # How many of how many, on stderr: the notices alone go down a pipe.
    if rows.empty:
        errors.print(f"No {_safe(what)}.", highlight=False)
    elif len(rows) < total:
        errors.print(
            f"The newest {len(rows):,} of {total:,} {_safe(what)} (--limit N shows more).",
            highlight=False,
        )
    else:
        errors.print(f"All {total:,} {_safe(what)}, newest first.", highlight=False)


def summary_command(
    run_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A run folder.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole summary as JSON instead.")
    ] = False,
) -> None:
    """Print a finished run's summary."""
    try:
        with reading_run(run_dir) as run:
            summary = run.summary
    except RunError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(summary, indent=1))
    else:
        _print_summary(summary)
        _print_changes(summary)


def scenarios_command(
    show: Annotated[
        str | None, typer.Option(help="Print this built-in scenario as TOML, to copy and edit.")
    ] = None,
    resolved: Annotated[
        bool,
        typer.Option(
            help="With --show: every field written out, the "
            "packs it names included (the paths --set "
            "takes)."
        ),
    ] = False,
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
        table.add_row(_safe(name), f"{s.citizens:,}", str(s.days), _safe(s.about.split(". ")[0]))
    console.print(table)


def describe_command(
    scenario: Annotated[
        str | None, typer.Argument(help="A built-in scenario name or a .toml/.json file.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the Markdown to this file instead of printing it.")
    ] = None,
    tables: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Instead: the data "
            "dictionary of this run folder, every table "
            "and column with its meaning, unit and "
            "labels.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
) -> None:
    """Describe a scenario as a model (the ODD protocol, Markdown), or a run's tables."""
    from xinyong.views.describe import data_dictionary, odd

    if tables is not None:
        try:
            with reading_run(tables) as run:
                frame = data_dictionary(run)
        except RunError as exc:
            raise _fail(str(exc)) from None
        table = Table(title=_safe(f"The tables of {tables}"))
        for header in ("table", "column", "type", "meaning and unit", "labels"):
            table.add_column(header, overflow="fold")
        for row in frame.itertuples():
            table.add_row(
                *(_safe(v) for v in (row.table, row.column, row.type, row.meaning, row.labels))
            )
        console.print(table)
        return
    if scenario is None:
        raise _fail(
            "give a scenario (e.g. xinyong describe rongcheng), or --tables DIR for "
            "a run's data dictionary",
            2,
        )
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
