"""Serving a live city: ``serve``, and :func:`served_app`, the API with the dashboard on it."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xinyong.scenario import Scenario, ScenarioError, load_scenario
from xinyong.scenario.overrides import apply, parse
from xinyong.views.cli.common import SET_HELP, _fail, _safe, console

if TYPE_CHECKING:  # the service's modules load only for ``serve``
    from fastapi import FastAPI

    from xinyong.service.auth import Keyring
    from xinyong.service.classroom import Classroom
    from xinyong.service.live import LiveCity
    from xinyong.service.switch import Switch


def served_app(
    live: LiveCity,
    keys: Keyring,
    on_load: Callable[[Scenario, int], LiveCity] | None = None,
    runs_root: Path | None = None,
    classroom: Classroom | None = None,
) -> FastAPI:
    """What ``xinyong serve`` serves: the HTTP API over a live city, with the dashboard on it.

    The two are composed here, so neither the API nor the pages need the other's module.

    Args:
        live: the city.
        keys: the API keys; the dashboard's pages ask the API with them.
        on_load: starts a new city and makes it the one served (``POST /scenario``); None
            when the server cannot switch cities.
        runs_root: a folder of stored runs the dashboard can compare.
        classroom: a class playing in the city: its routes and its two pages are added
            (its keys must be in ``keys``).
    """
    from xinyong.service.api import create_app
    from xinyong.views.dashboard import add_dashboard

    served = create_app(live, keys, on_load)
    if classroom is not None:
        from xinyong.service.classroom_routes import add_classroom_routes
        from xinyong.views.pages.classroom import add_classroom_pages

        add_classroom_routes(served, classroom)
        add_classroom_pages(served)
    add_dashboard(served, live, runs_root)
    return served


def switching_app(
    folder: Path,
    live: LiveCity,
    keys: Keyring,
    runs: Path | None,
    seated: Classroom | None = None,
) -> Switch:
    """The app ``serve`` runs: the served app of the city in ``folder``, replaced by a new
    one's when an admin starts another city, or when a failed store is opened again.

    Args:
        folder: the base folder (a new city goes in a sub-folder of it).
        live: the city served first.
        keys: the API keys.
        runs: the stored runs the dashboard can compare.
        seated: a class playing in the city (no other city is loaded under it).
    """
    from xinyong.service.switch import Switch

    def build(city: LiveCity) -> FastAPI:
        load = None if seated else (lambda scenario, seed: switch.load(scenario, seed))
        return served_app(city, keys, load, runs, seated)

    switch = Switch(folder, live, build)
    return switch


def serve_command(
    scenario: Annotated[
        str | None, typer.Option(help="Start a new live city from this scenario (name or file).")
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run", help="The live city's folder: recovered if it holds one, else created."
        ),
    ] = None,
    citizens: Annotated[
        int | None, typer.Option(min=1, help="Population of a new city (default: the scenario's).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="Days a new city runs for (default: the scenario's).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of a new city's random streams.")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    keys: Annotated[
        Path | None, typer.Option(help="TOML file of [[keys]]; default: the XINYONG_KEYS variable.")
    ] = None,
    runs: Annotated[
        Path, typer.Option(help="Folder of stored runs the dashboard can compare.")
    ] = Path("runs"),
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    classroom: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=500,
            help="Seat a class of N students in the city: a teacher key and N join links "
            "(printed, and kept in the city's folder; the same on a restart).",
        ),
    ] = None,
) -> None:
    """Serve a live city over HTTP: the dashboard at /, OpenAPI at /docs."""
    from xinyong.service.auth import KeyFileError, Keyring
    from xinyong.service.classroom import Classroom
    from xinyong.service.live import CURRENT_FILE, STORE_FILE, LiveError, open_city

    try:
        if keys:
            keyring: Keyring | None = Keyring.from_file(keys)
        elif classroom is None or os.environ.get("XINYONG_KEYS"):
            keyring = Keyring.from_env()
        else:
            keyring = None  # the class's keys alone
        folder = run_dir or Path("runs") / f"live-{scenario or 'city'}-seed{seed}"
        chosen = None
        if not (folder / STORE_FILE).exists() and not (folder / CURRENT_FILE).exists():
            if scenario is None:
                raise LiveError(400, f"'{folder}' holds no live city: give --scenario to start one")
            chosen = apply(load_scenario(scenario), parse(set_ or [])).with_sizes(
                citizens=citizens, days=days
            )
        elif set_:
            raise LiveError(
                400,
                f"'{folder}' holds a live city already, which carries on as "
                f"it was started: --set applies to a new one (another --run)",
            )
        live = open_city(folder, chosen, seed)
        seated = Classroom(live, classroom) if classroom is not None else None
    except (KeyFileError, ScenarioError, LiveError) as exc:
        raise _fail(str(exc), 2) from None
    if seated is not None:
        keyring = keyring.joined(seated.keys()) if keyring else Keyring(seated.keys())
        _print_links(seated, f"http://{host}:{port}")
    assert keyring is not None
    switch = switching_app(folder, live, keyring, runs, seated)
    console.print(
        f"Live city '{_safe(live.scenario.name)}' at day {live.day}, store "
        f"{_safe(folder)}; listening on http://{host}:{port} (docs at /docs)"
    )
    run_app(switch, host, port)


def run_app(
    switch: Switch,
    host: str = "127.0.0.1",
    port: int = 8000,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve ``switch`` until stopped (SIGTERM, Ctrl-C), then close the city served.

    Args:
        switch: the app (:func:`switching_app`).
        host: the address to listen on.
        port: the port to listen on.
        sockets: sockets already listening, to serve on instead of ``host`` and ``port``.
    """
    import uvicorn

    from xinyong.service.limits import IDLE_SECONDS, guarded_protocol

    sys.setswitchinterval(0.001)  # the event loop gets the GIL back sooner during an advance
    config = uvicorn.Config(
        switch,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(),  # slow and idle connections closed, their number bounded
        timeout_keep_alive=IDLE_SECONDS,
    )
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        switch.live.close()


def _print_links(seated: Classroom, url: str) -> None:
    """The teacher's link and every seat's join link (their keys in the fragment, which a
    browser never sends)."""
    lines = [f"Teacher: {_safe(url)}/classroom/teacher#key={_safe(seated.teacher_key)}"] + [
        f"Seat {s.seat} (citizen {s.citizen}): "
        f"{_safe(url)}/classroom/student#key={_safe(s.key)}&citizen={s.citizen}"
        for s in seated.seats
    ]
    for line in lines:  # a link on one line, whatever the terminal's width
        console.print(line, highlight=False, soft_wrap=True)


def explore_command(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a scenario file.")],
    citizens: Annotated[
        int | None, typer.Option(min=1, help="Population (default: the scenario's).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="The most days it can run (default: the scenario's).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random streams.")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option(
            help="A path to put on a slider beside the scenario's own levers, e.g. "
            "behaviours.jaywalking.p (repeatable)."
        ),
    ] = None,
    save: Annotated[
        Path | None, typer.Option(help="Write the run to this folder when the server stops.")
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (the page has no keys: keep it local).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve a city on sliders as a page: step, run, pause and move its levers, offline."""
    import uvicorn

    from xinyong.records.run import RunError
    from xinyong.records.simulation import check_output_folder
    from xinyong.records.stepped import City
    from xinyong.views.explore import Explorer
    from xinyong.views.pages.explore import explore_app

    try:
        if save is not None:
            check_output_folder(save)
        city = City(scenario, citizens=citizens, days=days, seed=seed, set=parse(set_ or []))
        explorer = Explorer(city, lever or [])
    except (ScenarioError, RunError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    console.print(
        f"Exploring '{_safe(city.scenario.name)}' ({city.scenario.citizens:,} citizens, "
        f"{len(explorer.levers)} levers): open http://{host}:{port}"
    )
    try:
        uvicorn.run(explore_app(explorer), host=host, port=port, log_level="warning")
    finally:
        explorer.pause()
        explorer.wait()
        if save is not None and city.day > 0:
            run = city.save(save)
            run.close()
            console.print(f"Wrote the run, {city.day} days, to [bold]{_safe(save)}[/]")
        city.close()
