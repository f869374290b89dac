"""Who may call what: the live city's access matrix, the one source of truth for every route,
its test, and the README's table of roles.

Each endpoint names, for each role, ``ANY`` (for every subject), ``OWN`` (only for the subject
the key is limited to: its citizen, its sensor or its service) or nothing (refused). A route
asks :func:`permit` before it reads or changes anything, so what a key learns from a refusal
never depends on whether the object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException

from xinyong.service.auth import ROLES, Identity

__all__ = ["ANY", "ENDPOINTS", "OWN", "Endpoint", "may", "permit", "roles_table"]

ANY, OWN = "any", "own"


@dataclass(frozen=True)
class Endpoint:
    """One operation of the service and who may call it."""

    method: str
    path: str
    what: str
    access: dict[str, str]  # role -> ANY or OWN; a role not named is refused


#: Every operation that needs a key, by name. ``/health`` and the pages need none.
ENDPOINTS: dict[str, Endpoint] = {
    "record": Endpoint(
        "GET",
        "/citizens/{citizen}",
        "a citizen's record",
        {"analyst": ANY, "admin": ANY, "citizen": OWN},
    ),
    "submit": Endpoint(
        "POST", "/events", "submit events (also /events/batch)", {"collector": OWN, "admin": ANY}
    ),
    "gate": Endpoint(
        "GET",
        "/gates/{service}/{citizen}",
        "a service's gate check",
        {"service": OWN, "analyst": ANY, "admin": ANY},
    ),
    "gates": Endpoint(
        "GET",
        "/api/gates/{citizen}",
        "every service's answer to a citizen",
        {"analyst": ANY, "admin": ANY, "citizen": OWN},
    ),
    "file_appeal": Endpoint(
        "POST", "/appeals", "file an appeal against an event", {"citizen": OWN, "admin": ANY}
    ),
    "read_appeal": Endpoint(
        "GET", "/appeals/{appeal}", "read an appeal", {"citizen": OWN, "analyst": ANY, "admin": ANY}
    ),
    "decide": Endpoint("POST", "/appeals/{appeal}/decision", "decide an appeal", {"admin": ANY}),
    "advance": Endpoint(
        "POST", "/advance", "advance time (a job; also GET /advance/{job})", {"admin": ANY}
    ),
    "stats": Endpoint("GET", "/stats", "the city's figures", {"analyst": ANY, "admin": ANY}),
    "figures": Endpoint(
        "GET", "/api/figures", "the dashboard's plots", {"analyst": ANY, "admin": ANY}
    ),
    "search": Endpoint(
        "GET",
        "/api/search",
        "search citizens by name",
        {"analyst": ANY, "admin": ANY, "citizen": OWN},
    ),
    "runs": Endpoint(
        "GET",
        "/api/runs",
        "stored runs to compare (also /api/compare)",
        {"analyst": ANY, "admin": ANY},
    ),
    "load": Endpoint(
        "POST", "/scenario", "start a new city from a built-in scenario", {"admin": ANY}
    ),
    "notices": Endpoint("GET", "/notices", "the public notices", dict.fromkeys(ROLES, ANY)),
    "seat": Endpoint(
        "GET",
        "/classroom/seat/{citizen}",
        "a classroom seat's day: choices, notices",
        {"citizen": OWN, "admin": ANY},
    ),
    "act": Endpoint(
        "POST",
        "/classroom/seat/{citizen}/act",
        "choose what a seat's citizen does today",
        {"citizen": OWN},
    ),
    "class": Endpoint(
        "GET", "/classroom", "the class against the rest (also /classroom/report)", {"admin": ANY}
    ),
    "policy": Endpoint(
        "POST", "/classroom/policy", "change a policy from the open day on", {"admin": ANY}
    ),
}

_SCOPE_NAME = {"citizen": "citizen", "collector": "sensor", "service": "service"}


def _scope(identity: Identity) -> object:
    return {
        "citizen": identity.citizen,
        "collector": identity.sensor,
        "service": identity.service,
    }.get(identity.role)


def may(identity: Identity, endpoint: str, subject: object = None) -> bool:
    """Whether a key may call an endpoint for a subject (its citizen, sensor or service;
    None where the endpoint has no subject, or to ask about the endpoint as a whole)."""
    rule = ENDPOINTS[endpoint].access.get(identity.role)
    if rule == ANY:
        return True
    return rule == OWN and (subject is None or subject == _scope(identity))


def permit(identity: Identity, endpoint: str, subject: object = None) -> None:
    """Refuse (403) a call the matrix does not allow, saying who may make it."""
    if may(identity, endpoint, subject):
        return
    e = ENDPOINTS[endpoint]
    rule = e.access.get(identity.role)
    if rule == OWN:
        raise HTTPException(
            403,
            f"a {identity.role} key may {e.what} only for its own "
            f"{_SCOPE_NAME[identity.role]} {_scope(identity)!r}, "
            f"not {subject!r}",
        )
    who = ", ".join(f"{role}{' (own)' if r == OWN else ''}" for role, r in e.access.items())
    raise HTTPException(403, f"a {identity.role} key may not {e.what}; it needs one of: {who}")


def roles_table() -> str:
    """The access matrix as a Markdown table (the README's, checked by a test)."""
    head = "| endpoint | what | " + " | ".join(ROLES) + " |"
    rows = [head, "|---|---|" + "---|" * len(ROLES)]
    mark = {ANY: "yes", OWN: "own"}
    for e in ENDPOINTS.values():
        cells = " | ".join(mark.get(e.access.get(role, ""), "—") for role in ROLES)
        rows.append(f"| `{e.method} {e.path}` | {e.what} | {cells} |")
    return "\n".join(rows) + "\n"
