"""Who may call what: every endpoint × every role × the key's own subject and another's,
against the one access matrix (:mod:`xinyong.service.roles`), and the README's table made from
it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import KEYS, consequence_city

import xinyong
from xinyong.service.auth import ROLES, Identity, Keyring
from xinyong.service.classroom import Classroom
from xinyong.service.live import LiveCity, Submission
from xinyong.service.roles import ENDPOINTS, may, roles_table
from xinyong.views.cli import served_app

README = Path(__file__).parents[1] / "README.md"


class World:
    """A live city, a client, and for each role a key and what is its own."""

    def __init__(self, folder: Path) -> None:
        self.live = LiveCity(folder, consequence_city(citizens=400, days=30), seed=3)
        pop = self.live.city.population
        assert pop is not None
        adults = [int(c) for c in np.flatnonzero(pop.age[:50] >= 30)]
        self.mine, self.other = adults[0], adults[1]  # own and another citizen
        # A class of two, seated on those two citizens (the classroom's routes).
        self.classroom = Classroom(self.live, 2, [self.mine, self.other])
        self.client = TestClient(
            served_app(self.live, Keyring.from_env(KEYS), classroom=self.classroom)
        )
        self.keys = {
            "analyst": "ana",
            "collector": "cam",
            "service": "rail",
            "citizen": f"c{self.mine}",
            "admin": "adm",
        }
        self.ids = {
            r: Identity("t", r, sensor="camera", service="rail", citizen=self.mine) for r in ROLES
        }
        self.live.submit(
            [
                Submission(f"{c}-{i}", c, "jaywalking")
                for c in (self.mine, self.other)
                for i in range(40)
            ],
            "setup",
        )
        self.live.advance(1)
        self.events = {
            c: iter(
                e["event"]
                for e in self.live.record(c)["operators"][0]["ledger"]
                if e["day"] == 0 and e["behaviour"] == "jaywalking"
            )
            for c in (self.mine, self.other)
        }
        self._filed: dict[int, list[int]] = {self.mine: [], self.other: []}
        for c in (self.mine, self.other):
            for _ in range(10):
                self._filed[c].append(
                    self.live.file_appeal(c, next(self.events[c]), "setup")["appeal"]
                )
        self.appeals = {c: iter(ids) for c, ids in self._filed.items()}

    def close(self) -> None:
        self.client.close()
        self.live.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("roles") / "city")
    yield w
    w.close()


Call = tuple[str, str, dict[str, Any] | None, object]  # method, path, body, subject


def _calls(w: World) -> dict[str, Callable[[bool], Call]]:
    """For each endpoint: the call for the key's own subject (True) or another's (False),
    and the subject the matrix is asked about."""

    def citizen(own: bool) -> int:
        return w.mine if own else w.other

    return {
        "record": lambda own: ("GET", f"/citizens/{citizen(own)}", None, citizen(own)),
        "submit": lambda own: (
            "POST",
            "/events",
            {
                "client_id": f"m-{next(_counter)}",
                "citizen": w.other,
                "behaviour": "jaywalking" if own else "bank_arrears",
            },
            "camera" if own else "bank",
        ),
        "gate": lambda own: (
            "GET",
            f"/gates/{'rail' if own else 'hospital'}/{w.other}",
            None,
            "rail" if own else "hospital",
        ),
        "gates": lambda own: ("GET", f"/api/gates/{citizen(own)}", None, citizen(own)),
        "file_appeal": lambda own: (
            "POST",
            "/appeals",
            {"citizen": citizen(own), "event": next(w.events[citizen(own)]), "reason": "not me"},
            citizen(own),
        ),
        "read_appeal": lambda own: (
            "GET",
            f"/appeals/{w._filed[citizen(own)][0]}",
            None,
            citizen(own),
        ),
        "decide": lambda own: (
            "POST",
            f"/appeals/{next(w.appeals[citizen(own)])}/decision",
            {"uphold": False},
            None,
        ),
        "advance": lambda own: ("POST", "/advance", {"days": 1, "wait": True}, None),
        "stats": lambda own: ("GET", "/stats", None, None),
        "figures": lambda own: ("GET", "/api/figures", None, None),
        "search": lambda own: ("GET", f"/api/search?q={w.mine}", None, None),
        "runs": lambda own: ("GET", "/api/runs", None, None),
        "load": lambda own: ("POST", "/scenario", {"scenario": "reference", "citizens": 10}, None),
        "notices": lambda own: ("GET", "/notices", None, None),
        "seat": lambda own: ("GET", f"/classroom/seat/{citizen(own)}", None, citizen(own)),
        "act": lambda own: (
            "POST",
            f"/classroom/seat/{citizen(own)}/act",
            {"behaviour": "jaywalking"},
            citizen(own),
        ),
        "class": lambda own: ("GET", "/classroom", None, None),
        "policy": lambda own: (
            "POST",
            "/classroom/policy",
            {"set": {"sensors.camera.misidentify": 0.02}, "what": "a test"},
            None,
        ),
    }


_counter = itertools.count()


def test_every_endpoint_role_and_subject(world: World) -> None:
    calls = _calls(world)
    assert set(calls) == set(ENDPOINTS)  # a new endpoint needs its row here
    seen = []
    for endpoint, role, own in itertools.product(ENDPOINTS, ROLES, (True, False)):
        method, path, body, subject = calls[endpoint](own)
        reply = world.client.request(
            method, path, json=body, headers={"X-API-Key": world.keys[role]}
        )
        allowed = may(world.ids[role], endpoint, subject)
        where = f"{endpoint} as {role} ({'own' if own else 'other'}): {reply.text[:200]}"
        if not allowed:
            # A citizen asking for another's appeal learns nothing of whether it exists.
            expected = 404 if endpoint == "read_appeal" and role == "citizen" else 403
            assert reply.status_code == expected, where
        elif endpoint == "load":
            assert reply.status_code == 409, where  # allowed; this app cannot load cities
        else:
            assert 200 <= reply.status_code < 300, where
        seen.append((endpoint, role, own, allowed))
    refused = {(e, r) for e, r, _, allowed in seen if not allowed}
    assert ("file_appeal", "analyst") in refused
    assert ("submit", "service") in refused and ("decide", "citizen") in refused


def test_no_existence_oracle_for_appeals(world: World) -> None:
    citizen = {"X-API-Key": world.keys["citizen"]}
    theirs = world.client.get(f"/appeals/{world._filed[world.other][1]}", headers=citizen)
    missing = world.client.get("/appeals/999999", headers=citizen)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace(
        str(world._filed[world.other][1]), "N"
    ) == missing.json()["detail"].replace("999999", "N")


def test_subject_kinds_are_kept_apart(world: World) -> None:
    """A company behaviour is never submitted against a citizen, and a citizen cannot appeal a
    company's event that happens to carry its number."""
    tax = Keyring.from_env("k=collector:tax")
    client = TestClient(served_app(world.live, tax))
    late_tax = client.post(
        "/events",
        headers={"X-API-Key": "k"},
        json={"client_id": "t1", "citizen": world.mine, "behaviour": "late_tax"},
    )
    assert late_tax.status_code == 422 and "jaywalking" in late_tax.text
    company_op = next(op.index for op in world.live.city.operators if op.subject == "company")
    fake = f"0.{company_op}.{world.mine}.{world.mine}.5.0"
    reply = world.client.post(
        "/appeals",
        headers={"X-API-Key": world.keys["citizen"]},
        json={"citizen": world.mine, "event": fake, "reason": "x"},
    )
    assert reply.status_code == 404


def test_the_readme_table_is_the_matrix() -> None:
    assert roles_table() in README.read_text(encoding="utf-8")


def test_writes_queued_behind_a_long_write_leave_the_readers_threads(tmp_path: Path) -> None:
    """While the city's writer is held (a day of an advance, an upheld appeal's install),
    submissions and appeals being filed are still stored and answered (neither waits for it),
    and more decisions than the server has request threads queue on threads of their own:
    records and stats are still answered."""
    from concurrent.futures import ThreadPoolExecutor

    from xinyong.service.api import REQUEST_THREADS

    live = LiveCity(
        tmp_path / "w", xinyong.load_scenario("reference").with_sizes(citizens=300, days=5), 0
    )
    camera, analyst, admin = {"X-API-Key": "cam"}, {"X-API-Key": "ana"}, {"X-API-Key": "adm"}
    try:
        with (
            TestClient(served_app(live, Keyring.from_env(KEYS))) as client,
            ThreadPoolExecutor(max_workers=2 * REQUEST_THREADS) as pool,
        ):
            with live.locks.writer:
                queued = [
                    pool.submit(
                        client.post,
                        f"/appeals/{i + 1}/decision",
                        headers=admin,
                        json={"uphold": False},
                    )
                    for i in range(2 * REQUEST_THREADS - 2)
                ]
                submitted = client.post(
                    "/events",
                    headers=camera,
                    json={"client_id": "w1", "citizen": 7, "behaviour": "jaywalking"},
                )
                assert submitted.status_code == 200 and submitted.json()["day"] == 0
                filed = client.post(
                    "/appeals",
                    headers={"X-API-Key": "c3"},
                    json={"citizen": 3, "event": "0.0.3.3.0.0", "reason": "not me"},
                )
                assert filed.status_code == 404  # answered (there is no such event yet)
                read = pool.submit(
                    lambda: (
                        client.get("/stats", headers=analyst),
                        client.get("/citizens/3", headers=analyst),
                    )
                )
                stats, record = read.result(timeout=30)  # answered with the writer held
                assert stats.status_code == record.status_code == 200
                assert not any(q.done() for q in queued)  # the decisions are still waiting
            assert all(q.result(timeout=30).status_code == 404 for q in queued)  # no such appeal
    finally:
        live.close()
