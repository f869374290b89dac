"""The live city's HTTP service (FastAPI): records, events, gates, appeals, time, notices.

This module builds the JSON API only; ``xinyong serve`` (:mod:`xinyong.views.cli.serving`)
composes it with the dashboard, so the API does not depend on the pages drawn from it.

Every route but ``/health`` needs an API key in the ``X-API-Key`` header; see
:mod:`xinyong.service.auth` for the roles. No key: 401. A key whose role may not do this, or
may not do it for this sensor, service or citizen: 403. OpenAPI at ``/docs`` and ``/openapi.json``.

(No ``from __future__ import annotations`` here: FastAPI reads the route annotations, some of
which are built per city, when the routes are defined.)
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from xinyong import __version__
from xinyong.model.consequences import NoticeKind
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario
from xinyong.scenario.overrides import apply as apply_overrides
from xinyong.scenario.overrides import parse as parse_overrides
from xinyong.service.auth import Identity, Keyring, Who
from xinyong.service.docs import add_offline_docs
from xinyong.service.errors import disk_full
from xinyong.service.limits import SizeLimits, StrictRoute, add_error_handlers, safe_text
from xinyong.service.live import LiveCity, LiveError, Submission
from xinyong.service.roles import may, permit
from xinyong.service.schemas import (
    ERRORS,
    AdvanceIn,
    AppealIn,
    AppealOut,
    BatchReceipt,
    CitizenId,
    DecisionIn,
    EventIn,
    GateOut,
    Health,
    JobOut,
    LoadIn,
    Notice,
    ReceiptOut,
    event_models,
)

__all__ = [
    "INBOX_THREADS",
    "REQUEST_THREADS",
    "SLOW_THREADS",
    "WRITE_THREADS",
    "Pool",
    "create_app",
]

REQUEST_THREADS = 8  # threads serving the routes that read (records, stats, notices, ...)
# Threads of their own for the routes that wait on the city's writer (appeal decisions,
# advances, loading a city), and for submissions (which wait on the inbox alone): those queued
# behind a long write, such as an upheld appeal's install, never take the readers' threads,
# nor the submissions'.
WRITE_THREADS = 4
INBOX_THREADS = 4
# Reads that cost a computation over every citizen (the figures) when they are not cached
# yet for the day: a thread or two of their own, never the readers'.
SLOW_THREADS = 2


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Few request threads: each runnable thread is one more in line for the GIL ahead of the
    # event loop (gate checks); most requests wait on the store, not on Python.
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    yield


class Pool:
    """Threads of their own for routes by what they wait on or cost, so that those queued
    behind a long write (the city's writer, the inbox) or a long computation (the figures)
    never take the threads that serve records, appeals and notices.

    Args:
        size: how many of these routes run at once.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._limiter: anyio.CapacityLimiter | None = None  # made inside the event loop

    async def run(self, route: Callable[..., Any], *args: Any) -> Any:
        """Run ``route(*args)`` on one of the pool's threads."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        return await anyio.to_thread.run_sync(route, *args, limiter=self._limiter)


class _Pools:
    """The API's pools: ``writer`` (routes that wait for the city's writer lock), ``inbox``
    (submissions) and ``slow`` (the figures, computed once a day)."""

    def __init__(self) -> None:
        self._pools = {
            "writer": Pool(WRITE_THREADS),
            "inbox": Pool(INBOX_THREADS),
            "slow": Pool(SLOW_THREADS),
        }

    async def run(self, pool: str, route: Callable[..., Any], *args: Any) -> Any:
        """Run ``route(*args)`` on one of ``pool``'s threads."""
        return await self._pools[pool].run(route, *args)


def create_app(
    live: LiveCity, keys: Keyring, on_load: Callable[[Scenario, int], LiveCity] | None = None
) -> FastAPI:
    """The HTTP API over one live city (no pages: :func:`xinyong.views.cli.served_app` adds them).

    Routes that wait for the city (a lock, the store) are plain functions, which FastAPI runs
    on its thread pool: the event loop never waits for an advance. Who may call what is
    :mod:`xinyong.service.roles`.

    Args:
        live: the city.
        keys: the API keys.
        on_load: starts a new city from a scenario and seed, and makes it the one served
            (the ``/scenario`` route); None when the server cannot switch cities.
    """
    app = FastAPI(
        title="xinyong live city",
        description="A synthetic city running the social credit system as "
        "reported. Synthetic citizens only.",
        version=__version__,
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = StrictRoute  # every route added from here on reads JSON strictly
    add_offline_docs(app)  # /docs from installed packages, not a CDN
    app.state.keys = keys
    add_error_handlers(app)

    @app.exception_handler(LiveError)
    async def _live_error(request: Request, exc: LiveError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": safe_text(exc)})

    pools = _Pools()
    _add_records(app, live, pools)
    _add_submissions(app, live, pools)
    _add_gates(app, live)
    _add_appeals(app, live, pools)
    _add_time(app, live, pools, on_load)
    # Middleware wraps the whole router when the app starts, so routes added after this (the
    # dashboard's) pass through it too.
    app.add_middleware(GZipMiddleware, minimum_size=2000)
    app.add_middleware(SizeLimits)  # outermost: refuses before anything is read
    return app


def _add_records(app: FastAPI, live: LiveCity, pools: _Pools) -> None:
    """What the city holds: its health, a citizen's record, the figures, the notices."""

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        """Is the city up, and which day is open."""
        return Health(status="ok", scenario=live.scenario.name, day=live.day)

    @app.get("/citizens/{citizen}", responses=ERRORS)
    def citizen_record(citizen: CitizenId, identity: Who) -> dict[str, Any]:
        """A citizen's record: every operator's score, grade and lists, and the ledger with
        the reason for every point."""
        permit(identity, "record", citizen)
        return live.record(citizen)

    @app.get("/stats", responses=ERRORS)
    async def stats(identity: Who) -> dict[str, Any]:
        """The city now: the run's summary figures so far."""
        permit(identity, "stats")
        return await pools.run("slow", live.stats)

    @app.get("/notices", response_model=list[Notice], responses=ERRORS)
    def notices(
        identity: Who,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        kind: Annotated[NoticeKind | None, Query(description="only this kind")] = None,
        on_list: Annotated[
            str | None,
            Query(
                alias="list", max_length=200, description="only those caused by joining this list"
            ),
        ] = None,
    ) -> list[dict[str, Any]]:
        """The city's public notices, newest first (synthetic citizens only)."""
        permit(identity, "notices")
        return live.notices(limit, kind, on_list)


def _add_submissions(app: FastAPI, live: LiveCity, pools: _Pools) -> None:
    """Events submitted about citizens, one or a batch, stored durably before the answer."""
    event_model, batch_model = event_models(live.citizen_behaviours)

    def _submit(events: list[EventIn], identity: Identity) -> list[Any]:
        permit(identity, "submit")
        for e in events:
            permit(identity, "submit", live.sensor_of(e.behaviour))
        return live.submit(
            [Submission(e.client_id, e.citizen, e.behaviour) for e in events], identity.name
        )

    @app.post("/events", response_model=ReceiptOut, responses=ERRORS)
    async def submit_event(
        event: event_model,  # type: ignore[valid-type]  # made at run time
        identity: Who,
    ) -> ReceiptOut:
        """Submit one event about a citizen; it is stored durably before the answer."""
        r = (await pools.run("inbox", _submit, [event], identity))[0]
        return ReceiptOut(client_id=r.client_id, status=r.status, day=r.day)

    @app.post("/events/batch", response_model=BatchReceipt, responses=ERRORS)
    async def submit_batch(
        batch: batch_model,  # type: ignore[valid-type]  # made at run time
        identity: Who,
    ) -> BatchReceipt:
        """Submit up to 10,000 events, stored together before the answer."""
        receipts = await pools.run(
            "inbox",
            _submit,
            batch.events,  # type: ignore[attr-defined]  # made at run time
            identity,
        )
        repeated = [r.client_id for r in receipts if r.status == "duplicate"]
        # The day the accepted ones join (a duplicate's receipt names the day it was stored
        # for); all of them duplicates: the day open to submissions.
        accepted = [r.day for r in receipts if r.status == "accepted"]
        return BatchReceipt(
            accepted=len(receipts) - len(repeated),
            duplicates=len(repeated),
            duplicate_ids=repeated,
            day=accepted[0] if accepted else live.inbox.day,
        )


def _add_gates(app: FastAPI, live: LiveCity) -> None:
    """What a service says to a citizen at the point of service."""
    service_name = Literal[tuple(live.services or ["none"])]  # type: ignore[valid-type]  # made at run time

    @app.get("/gates/{service}/{citizen}", response_model=GateOut, responses=ERRORS)
    async def gate(
        service: Annotated[service_name, Path()],  # type: ignore[valid-type]  # made at run time
        citizen: CitizenId,
        identity: Who,
    ) -> JSONResponse:
        """What a service says to a citizen at the point of service, and why."""
        permit(identity, "gate", service)
        # The hottest route: answered on the loop (it reads the last day's copy and waits for
        # nothing), without validating our own output again.
        d = live.gate(service, citizen)
        return JSONResponse(
            {
                "service": d.service,
                "citizen": d.citizen,
                "action": d.action,
                "eligible": d.eligible,
                "reasons": list(d.reasons),
                "text": d.text,
            }
        )


def _add_appeals(app: FastAPI, live: LiveCity, pools: _Pools) -> None:
    """Appeals against one event of a ledger: filed, read, decided."""

    @app.post("/appeals", response_model=AppealOut, responses=ERRORS)
    def file_appeal(appeal: AppealIn, identity: Who) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger."""
        permit(identity, "file_appeal", appeal.citizen)
        # The appeals desk's own lock and cursor: filing never waits for the city's writer.
        return live.file_appeal(appeal.citizen, appeal.event, appeal.reason)

    @app.get("/appeals/{appeal}", response_model=AppealOut, responses=ERRORS)
    def read_appeal(
        appeal: Annotated[int, Path(ge=1, le=2**31 - 1)], identity: Who
    ) -> dict[str, Any]:
        """One appeal and its status."""
        permit(identity, "read_appeal")
        found = live.appeal(appeal)
        # A missing appeal and another citizen's answer alike: no existence oracle.
        if found is None or not may(identity, "read_appeal", found["citizen"]):
            raise HTTPException(404, f"no appeal {appeal} that this key may read")
        return found

    @app.post("/appeals/{appeal}/decision", response_model=AppealOut, responses=ERRORS)
    async def decide(
        appeal: Annotated[int, Path(ge=1, le=2**31 - 1)], decision: DecisionIn, identity: Who
    ) -> dict[str, Any]:
        """Uphold (the event is withdrawn and the city's days since re-simulated without it)
        or reject."""
        permit(identity, "decide")
        return await pools.run("writer", live.decide_appeal, appeal, decision.uphold)


def _add_time(
    app: FastAPI, live: LiveCity, pools: _Pools, on_load: Callable[[Scenario, int], LiveCity] | None
) -> None:
    """The city's time: advancing it by some days, and starting a new city."""

    @app.post(
        "/advance",
        response_model=JobOut,
        status_code=202,
        responses={**ERRORS, 200: {"model": JobOut, "description": "done (wait)"}},
    )
    async def advance(body: AdvanceIn, identity: Who) -> JSONResponse:
        """Start simulating some days, as a job (202); with ``wait``, answer once it is done
        (200). A second advance while one runs: 409."""
        permit(identity, "advance")
        job = await pools.run("writer", live.start_advance, body.days)
        if body.wait and job.thread is not None:
            await pools.run("writer", job.thread.join)
            return JSONResponse(job.as_json(), status_code=200)
        return JSONResponse(job.as_json(), status_code=202)

    @app.get("/advance/{job}", response_model=JobOut, responses=ERRORS)
    def advance_job(job: Annotated[int, Path(ge=1, le=2**31 - 1)], identity: Who) -> dict[str, Any]:
        """An advance job's progress."""
        permit(identity, "advance")
        return live.job(job).as_json()

    def _load(body: LoadIn) -> Health:
        if on_load is None:
            raise HTTPException(409, "this server cannot load scenarios")
        builtins = builtin_scenarios()
        if body.scenario not in builtins:
            raise HTTPException(
                404,
                f"no built-in scenario '{safe_text(body.scenario, 100)}'; "
                f"built-in: {', '.join(sorted(builtins))}",
            )
        try:
            chosen = apply_overrides(
                load_scenario(body.scenario), parse_overrides(body.set)
            ).with_sizes(citizens=body.citizens, days=body.days)
        except ScenarioError as exc:
            raise HTTPException(422, str(exc)) from None
        try:
            new = on_load(chosen, body.seed)
        except Exception as exc:  # a city not built (the one served stays): say why
            if disk_full(exc):
                raise live.failures.no_room(live.folder.parent, chosen.citizens) from None
            raise
        return Health(status="ok", scenario=new.scenario.name, day=new.day)

    @app.post("/scenario", response_model=Health, responses=ERRORS)
    async def load(body: LoadIn, identity: Who) -> Health:
        """Start a new live city from a built-in scenario; it replaces the one served."""
        permit(identity, "load")
        return await pools.run("writer", _load, body)
