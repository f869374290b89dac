"""Serving a live city: ``serve``, and :func:`served_app`, the API with the dashboard on it."""

from __future__ import annotations

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
    from xinyong.service.live import LiveCity
    from xinyong.service.switch import Switch


def served_app(
    live: LiveCity,
    keys: Keyring,
    on_load: Callable[[Scenario, int], LiveCity] | None = None,
    runs_root: Path | None = None,
) -> FastAPI:
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


def switching_app(folder: Path, live: LiveCity, keys: Keyring, runs: Path | None) -> Switch:
    """The app ``serve`` runs: the served app of the city in ``folder``, replaced by a new
    one's when an admin starts another city, or when a failed store is opened again.

    Args:
        folder: the base folder (a new city goes in a sub-folder of it).
        live: the city served first.
        keys: the API keys.
        runs: the stored runs the dashboard can compare.
    """
    from xinyong.service.switch import Switch

    def build(city: LiveCity) -> FastAPI:
        return served_app(city, keys, lambda scenario, seed: switch.load(scenario, seed), runs)

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
) -> None:
    """Serve a live city over HTTP: the dashboard at /, OpenAPI at /docs."""
    from xinyong.service.auth import KeyFileError, Keyring
    from xinyong.service.live import CURRENT_FILE, STORE_FILE, LiveError, open_city

    try:
        keyring = Keyring.from_file(keys) if keys else Keyring.from_env()
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
    except (KeyFileError, ScenarioError, LiveError) as exc:
        raise _fail(str(exc), 2) from None
    switch = switching_app(folder, live, keyring, runs)
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
