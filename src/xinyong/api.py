"""The live city's HTTP service (FastAPI): records, events, gates, appeals, time, notices.

Every route but ``/health`` needs an API key in the ``X-API-Key`` header; see
:mod:`xinyong.auth` for the roles. No key: 401. A key whose role may not do this, or may not do
it for this sensor, service or citizen: 403. OpenAPI at ``/docs`` and ``/openapi.json``.

(No ``from __future__ import annotations`` here: FastAPI reads the route annotations, some of
which are built per city, when the routes are defined.)
"""


from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from xinyong.auth import Identity, Keyring, Who, allow
from xinyong.dashboard import add_dashboard
from xinyong.docs import add_offline_docs
from xinyong.live import LiveCity, LiveError, Submission
from xinyong.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario

__all__ = ["Switch", "create_app"]


class Switch:
    """An ASGI app that forwards to the current city's app, so a loaded scenario (with its own
    behaviours and services in the schema) can replace the city being served."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)

CitizenId = Annotated[int, Path(ge=0, le=2**31 - 1, description="a citizen's id")]


class Problem(BaseModel):
    """An error: what is wrong and how to fix it."""

    detail: Any


class EventIn(BaseModel):
    """An event observed by the caller: the client's own id for it, who, and what.

    ``create_app`` narrows ``behaviour`` to the city's behaviours, so the schema lists them.
    """

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=200,
                           description="the client's id for the event; a repeat is ignored")
    citizen: int = Field(ge=0, le=2**31 - 1)
    behaviour: str = Field(min_length=1, max_length=100)


def _event_models(behaviours: list[str]) -> tuple[type[EventIn], type[BaseModel]]:
    """The event and batch models of one city, with its behaviours as the allowed values."""
    known = Literal[tuple(behaviours)]  # type: ignore[valid-type]
    event = create_model("Event", __base__=EventIn,
                         behaviour=(known, Field(description="one of the city's behaviours")))
    batch = create_model("Batch", __config__=ConfigDict(extra="forbid"),
                         events=(list[event], Field(min_length=1, max_length=10_000)))
    return event, batch


class ReceiptOut(BaseModel):
    client_id: str
    status: str = Field(description="accepted, or duplicate (stored before)")
    day: int = Field(description="the day whose records the event joins")


class BatchReceipt(BaseModel):
    """What became of a batch: how many were stored, and which ids were seen before."""

    accepted: int
    duplicates: int
    duplicate_ids: list[str] = Field(description="client ids already stored (or repeated)")
    day: int = Field(description="the day whose records the accepted events join")


class GateOut(BaseModel):
    service: str
    citizen: int
    action: str = Field(description="allow, waive, discount, priority, restrict or deny")
    reasons: list[str]
    text: str


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    citizen: int = Field(ge=0, le=2**31 - 1)
    event: str = Field(max_length=60, pattern=r"^\d{1,9}\.\d{1,4}\.-?\d{1,10}\.\d{1,4}$",
                       description="day.operator.actor.behaviour, as the record shows it")
    reason: str = Field(min_length=1, max_length=2000)


class AppealOut(BaseModel):
    appeal: int
    citizen: int
    event: str
    reason: str
    status: str
    filed_day: int
    decided_day: int | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uphold: bool


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(ge=1, le=3650)


class DayOut(BaseModel):
    day: int


class Health(BaseModel):
    status: str
    scenario: str
    day: int


class LoadIn(BaseModel):
    """A built-in scenario to start a new live city from (files are not read over HTTP)."""

    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=100)
    citizens: int | None = Field(default=None, ge=1, le=10_000_000)
    days: int | None = Field(default=None, ge=1, le=3650)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class Notice(BaseModel):
    day: int
    kind: str
    citizen: int
    text: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no or unknown API key"},
    403: {"model": Problem, "description": "the key's role may not do this"},
    404: {"model": Problem, "description": "no such citizen, service or appeal"},
    409: {"model": Problem, "description": "not possible in the city's present state"},
    422: {"model": Problem, "description": "a field is wrong; the detail names it"},
}


def create_app(live: LiveCity, keys: Keyring,
               on_load: Callable[[Scenario, int], LiveCity] | None = None,
               runs_root: FilePath | None = None) -> FastAPI:
    """The HTTP service over one live city.

    Args:
        live: the city.
        keys: the API keys.
        on_load: starts a new city from a scenario and seed, and makes it the one served
            (the ``/scenario`` route); None when the server cannot switch cities.
        runs_root: a folder of stored runs the dashboard can compare.
    """
    app = FastAPI(title="xinyong live city",
                  description="A synthetic city running the social credit system as "
                              "reported. Synthetic citizens only.",
                  version="0.1.0", docs_url=None, redoc_url=None)
    add_offline_docs(app)  # /docs from installed packages, not a CDN
    app.state.keys = keys
    event_model, batch_model = _event_models(live.behaviours)
    services = live.services or ["none"]
    service_name = Literal[tuple(services)]  # type: ignore[valid-type]

    @app.exception_handler(LiveError)
    async def _live_error(request: Request, exc: LiveError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": str(exc)})

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        """Is the city up, and which day is open."""
        return Health(status="ok", scenario=live.scenario.name, day=live.day)

    @app.get("/citizens/{citizen}", responses=_ERRORS)
    def citizen_record(citizen: CitizenId, identity: Who) -> dict[str, Any]:
        """A citizen's record: every operator's score, grade and lists, and the ledger with
        the reason for every point."""
        if identity.role == "citizen":
            if identity.citizen != citizen:
                raise HTTPException(403, "a citizen key reads only its own record")
        else:
            allow(identity, "analyst", "admin")
        return live.record(citizen)

    def _submit(events: list[EventIn], identity: Identity) -> list[Any]:
        allow(identity, "collector", "admin")
        if identity.role == "collector":
            for e in events:
                sensor = live.sensor_of(e.behaviour)
                if sensor != identity.sensor:
                    raise HTTPException(403, f"this collector key submits only what sensor "
                                             f"'{identity.sensor}' observes; '{e.behaviour}' "
                                             f"is observed by '{sensor}'")
        return live.submit([Submission(e.client_id, e.citizen, e.behaviour) for e in events],
                           identity.name)

    @app.post("/events", response_model=ReceiptOut, responses=_ERRORS)
    async def submit_event(event: event_model,  # type: ignore[valid-type]
                           identity: Who) -> ReceiptOut:
        """Submit one event; it is stored durably before the answer."""
        r = _submit([event], identity)[0]
        return ReceiptOut(client_id=r.client_id, status=r.status, day=r.day)

    @app.post("/events/batch", response_model=BatchReceipt, responses=_ERRORS)
    async def submit_batch(batch: batch_model,  # type: ignore[valid-type]
                           identity: Who) -> BatchReceipt:
        """Submit up to 10,000 events, stored together before the answer."""
        receipts = _submit(batch.events, identity)  # type: ignore[attr-defined]
        repeated = [r.client_id for r in receipts if r.status == "duplicate"]
        return BatchReceipt(accepted=len(receipts) - len(repeated), duplicates=len(repeated),
                            duplicate_ids=repeated, day=live.day)

    @app.get("/gates/{service}/{citizen}", response_model=GateOut, responses=_ERRORS)
    async def gate(service: Annotated[service_name, Path()],  # type: ignore[valid-type]
                   citizen: CitizenId, identity: Who) -> JSONResponse:
        """What a service says to a citizen at the point of service, and why."""
        if identity.role == "service":
            if identity.service != service:
                raise HTTPException(403, f"this service key checks only '{identity.service}'")
        else:
            allow(identity, "analyst", "admin")
        d = live.gate(service, citizen)
        # The hottest route: answered directly, without validating our own output again.
        return JSONResponse({"service": d.service, "citizen": d.citizen, "action": d.action,
                             "reasons": list(d.reasons), "text": d.text})

    @app.post("/appeals", response_model=AppealOut, responses=_ERRORS)
    def file_appeal(appeal: AppealIn, identity: Who) -> dict[str, Any]:
        """File an appeal against one event of a citizen's ledger."""
        if identity.role == "citizen":
            if identity.citizen != appeal.citizen:
                raise HTTPException(403, "a citizen key appeals only its own events")
        else:
            allow(identity, "analyst", "admin", also=", or the citizen's own key")
        return live.file_appeal(appeal.citizen, appeal.event, appeal.reason)

    @app.get("/appeals/{appeal}", response_model=AppealOut, responses=_ERRORS)
    def read_appeal(appeal: Annotated[int, Path(ge=1, le=2**31 - 1)],
                    identity: Who) -> dict[str, Any]:
        """One appeal and its status."""
        found = live.appeal(appeal)
        if identity.role == "citizen" and identity.citizen != found["citizen"]:
            raise HTTPException(403, "a citizen key reads only its own appeals")
        if identity.role not in ("citizen", "analyst", "admin"):
            allow(identity, "analyst", "admin")
        return found

    @app.post("/appeals/{appeal}/decision", response_model=AppealOut, responses=_ERRORS)
    def decide(appeal: Annotated[int, Path(ge=1, le=2**31 - 1)], decision: DecisionIn,
               identity: Who) -> dict[str, Any]:
        """Uphold (the event is reversed exactly and the score recomputed) or reject."""
        allow(identity, "admin")
        return live.decide_appeal(appeal, decision.uphold)

    @app.post("/advance", response_model=DayOut, responses=_ERRORS)
    def advance(body: AdvanceIn, identity: Who) -> DayOut:
        """Simulate some days; answers the new open day."""
        allow(identity, "admin")
        return DayOut(day=live.advance(body.days))

    @app.get("/stats", responses=_ERRORS)
    def stats(identity: Who) -> dict[str, Any]:
        """The city now: the run's summary figures so far."""
        allow(identity, "analyst", "admin")
        return live.stats()

    @app.post("/scenario", response_model=Health, responses=_ERRORS)
    def load(body: LoadIn, identity: Who) -> Health:
        """Start a new live city from a built-in scenario; it replaces the one served."""
        allow(identity, "admin")
        if on_load is None:
            raise HTTPException(409, "this server cannot load scenarios")
        builtins = builtin_scenarios()
        if body.scenario not in builtins:
            raise HTTPException(404, f"no built-in scenario '{body.scenario}'; built-in: "
                                     f"{', '.join(sorted(builtins))}")
        try:
            chosen = load_scenario(body.scenario).with_sizes(citizens=body.citizens,
                                                             days=body.days)
        except ScenarioError as exc:
            raise HTTPException(422, str(exc)) from None
        new = on_load(chosen, body.seed)
        return Health(status="ok", scenario=new.scenario.name, day=new.day)

    @app.get("/notices", response_model=list[Notice], responses=_ERRORS)
    def notices(identity: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 50
                ) -> list[dict[str, Any]]:
        """The city's public notices, newest first (synthetic citizens only)."""
        allow(identity, "analyst", "admin", "citizen", "collector", "service")
        return live.notices(limit)

    add_dashboard(app, live, runs_root)
    app.add_middleware(GZipMiddleware, minimum_size=2000)
    return app
