"""The classroom's routes (``xinyong serve --classroom N``): a student's choice and day, and
the teacher's class, policy changes and report. Who may call each is the access matrix's
(:mod:`xinyong.service.roles`): a seat's key reaches its own citizen alone, the teacher's key
(admin) the whole class.

(No ``from __future__ import annotations``: FastAPI reads the routes' annotations.)
"""

from typing import Any

from fastapi import FastAPI
from pydantic import Field

from xinyong.service.auth import Who
from xinyong.service.classroom import Classroom
from xinyong.service.limits import Text
from xinyong.service.roles import permit
from xinyong.service.schemas import ERRORS, CitizenId, Strict

__all__ = ["add_classroom_routes"]


class ActIn(Strict):
    """What the seat's citizen does on the day open to choices."""

    behaviour: str = Field(
        max_length=100, description="a citizen behaviour, or 'nothing in particular'"
    )


class PolicyIn(Strict):
    """A policy change from the open day on: paths as --set names them."""

    set: dict[str, Any] = Field(min_length=1, max_length=20, description="path -> value")
    what: Text = Field(min_length=1, max_length=300, description="the change in words")


def add_classroom_routes(app: FastAPI, classroom: Classroom) -> None:
    """Add the classroom's JSON routes to the service's app."""
    live = classroom.live

    @app.get("/classroom/seat/{citizen}", tags=["classroom"], responses=ERRORS)
    def seat_day(citizen: CitizenId, identity: Who) -> dict[str, Any]:
        """A seat's day: its citizen, the choices, today's choice, the notices about it."""
        permit(identity, "seat", citizen)
        return classroom.me(classroom.seat(citizen))

    @app.post("/classroom/seat/{citizen}/act", tags=["classroom"], responses=ERRORS)
    def act(citizen: CitizenId, body: ActIn, identity: Who) -> dict[str, Any]:
        """Choose what the seat's citizen does on the day open to choices (once a day)."""
        permit(identity, "act", citizen)
        return classroom.act(classroom.seat(citizen), body.behaviour)

    @app.get("/classroom", tags=["classroom"], responses=ERRORS)
    def the_class(identity: Who) -> dict[str, Any]:
        """The class against the synthetic city that fills the rest."""
        permit(identity, "class")
        return classroom.view()

    @app.get("/classroom/report", tags=["classroom"], responses=ERRORS)
    def report(identity: Who) -> dict[str, Any]:
        """The session's report: every choice counted, the appeals, the policy changes."""
        permit(identity, "class")
        return classroom.report()

    @app.post("/classroom/policy", tags=["classroom"], responses=ERRORS)
    def policy(body: PolicyIn, identity: Who) -> dict[str, Any]:
        """Change a policy from the open day on: a change of the run's timeline."""
        permit(identity, "policy")
        day = live.change(body.set, what=body.what, source=f"classroom, {identity.name}")
        return {"day": day, "set": body.set, "what": body.what}
