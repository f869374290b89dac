"""The live city's HTTP API as data: the request bodies, the answers, the error responses.

Request bodies are strict (no unknown fields, no coercion); the event models are built per
city (:func:`event_models`), so the schema lists the city's own behaviours. The routes are in
:mod:`xinyong.service.api`.

(No ``from __future__ import annotations`` here: FastAPI and pydantic read these annotations
when the routes are defined.)
"""

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    create_model,
)

from xinyong.service.appeals import EVENT_PATTERN
from xinyong.service.limits import Text

__all__ = [
    "ERRORS",
    "WHOLE",
    "AdvanceIn",
    "AppealIn",
    "AppealOut",
    "BatchReceipt",
    "Citizen",
    "CitizenId",
    "DecisionIn",
    "EventIn",
    "GateOut",
    "Health",
    "JobOut",
    "LoadIn",
    "Notice",
    "Problem",
    "ReceiptOut",
    "Strict",
    "event_models",
]


def _whole(value: Any) -> Any:
    """A whole number written with a point (``5.0``) is that integer: JSON has one kind of
    number, and JSON Schema's ``integer`` (what the OpenAPI schema says) admits it."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


#: An integer in a request body is a whole number, ``5`` or ``5.0``; never ``"5"``, ``true``
#: or ``5.5``. It goes last in an ``Annotated``, after the bounds, so that the schema shows
#: them as JSON Schema's minimum and maximum.
WHOLE = BeforeValidator(_whole)
CitizenId = Annotated[int, Path(ge=0, le=2**31 - 1, description="a citizen's id")]
Citizen = Annotated[StrictInt, Field(ge=0, le=2**31 - 1, description="a citizen's id"), WHOLE]


class Strict(BaseModel):
    """A request body: no unknown fields, and no coercion ("5" is not a number, true is not
    a citizen, 5.5 is not an id; a whole number written 5.0 is 5, as JSON Schema has it)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Problem(BaseModel):
    """An error: what is wrong and how to fix it."""

    detail: Any


class EventIn(Strict):
    """An event observed by the caller: the client's own id for it, who, and what.

    :func:`event_models` narrows ``behaviour`` to the city's citizens' behaviours, so the schema
    lists them.
    """

    client_id: Text = Field(
        min_length=1,
        max_length=200,
        description="the client's id for the event; a repeat is ignored",
    )
    citizen: Citizen
    behaviour: Text = Field(min_length=1, max_length=100)


def event_models(behaviours: list[str]) -> tuple[type[EventIn], type[BaseModel]]:
    """The event and batch models of one city, with its behaviours as the allowed values."""
    known: Any = Literal[tuple(behaviours)]  # the city's behaviours, known at run time
    event: Any = create_model(
        "Event",
        __base__=EventIn,
        behaviour=(known, Field(description="one of the city's citizens' behaviours")),
    )
    batch = create_model(
        "Batch", __base__=Strict, events=(list[event], Field(min_length=1, max_length=10_000))
    )
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
    eligible: bool = Field(
        description="false: outside the service's ages, so its rules never ran (action allow)"
    )
    reasons: list[str]
    text: str


class AppealIn(Strict):
    citizen: Citizen
    event: str = Field(
        max_length=60,
        pattern=EVENT_PATTERN,
        description="day.operator.subject.actor.behaviour.n, as the record shows it",
    )
    reason: Text = Field(min_length=1, max_length=2000)


class AppealOut(BaseModel):
    appeal: int
    citizen: int
    event: str
    reason: str
    status: str
    filed_day: int
    decided_day: int | None


class DecisionIn(Strict):
    uphold: StrictBool


class AdvanceIn(Strict):
    days: Annotated[StrictInt, Field(ge=1, le=3650), WHOLE]
    wait: StrictBool = Field(
        default=False, description="answer only once the days are simulated (default: at once, 202)"
    )


class JobOut(BaseModel):
    """An advance: it runs on its own thread; poll ``GET /advance/{job}`` for its progress."""

    job: int
    status: str = Field(description="running, done, failed or stopped")
    start_day: int
    target_day: int
    day: int = Field(description="the open day now")
    error: str | None


class Health(BaseModel):
    status: str
    scenario: str
    day: int


class LoadIn(Strict):
    """A built-in scenario to start a new live city from (files are not read over HTTP)."""

    scenario: Text = Field(min_length=1, max_length=100)
    citizens: Annotated[StrictInt, Field(ge=1, le=10_000_000), WHOLE] | None = None
    days: Annotated[StrictInt, Field(ge=1, le=3650), WHOLE] | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=2**31 - 1), WHOLE] = 0
    set: list[Annotated[Text, Field(max_length=300)]] = Field(
        default=[],
        max_length=50,
        description="overrides, as PATH=VALUE (VALUE is TOML), e.g. "
        "sensors.camera.misidentify=0.05",
    )


class Notice(BaseModel):
    day: int
    kind: str
    citizen: int
    list: str | None = Field(
        default=None,
        description="the list whose joining caused the "
        "notice (a list's name, or OPERATOR:listing); null for a "
        "billboard, which shows an event",
    )
    text: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the Content-Length header is not a number"},
    401: {"model": Problem, "description": "no or unknown API key"},
    403: {"model": Problem, "description": "the key's role may not do this"},
    404: {
        "model": Problem,
        "description": "no such citizen, service or appeal (or none this key may see)",
    },
    409: {"model": Problem, "description": "not possible in the city's present state"},
    413: {"model": Problem, "description": "the request body is too large"},
    422: {
        "model": Problem,
        "description": "a field is wrong, or the body cannot be read as JSON (not UTF-8, "
        "nested too deeply, a key given twice); the detail says where",
    },
    431: {"model": Problem, "description": "the request headers are too large"},
    503: {
        "model": Problem,
        "description": "the city's store failed and is being opened again: try again shortly",
    },
    507: {
        "model": Problem,
        "description": "the disk holding the city is full: the detail names the folder and "
        "the room to make",
    },
}
