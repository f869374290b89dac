"""The live city's HTTP service, started as a real process on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pytest
import schemathesis
from helpers import Server, consequence_city
from hypothesis import HealthCheck, given, settings

import xinyong
from xinyong.records.ledger import replay
from xinyong.service.live import LiveCity, LiveError

SOURCES = Path(xinyong.__file__).parents[1]  # the sources under test, for a subprocess
ADMIN, ANALYST, CAMERA, RAIL, CITIZEN5 = (
    {"X-API-Key": k} for k in ("adm", "ana", "cam", "rail", "c5")
)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "city.json"
    path.write_text(consequence_city(citizens=3000, days=60).model_dump_json(by_alias=True))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, scenario_file: Path) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("live") / "city", scenario_file)
    yield s
    s.stop()
    print(s.proc.stderr.read().decode()[-15000:], file=sys.stderr)  # shown if a test failed


def _adult(server: Server) -> int:
    """A citizen of 30 or more (the city's scheme scores adults only)."""
    for citizen in range(100):
        record = httpx.get(f"{server.url}/citizens/{citizen}", headers=ANALYST).json()
        if record["identity"] and int(record["identity"].split("-")[2]) <= 1994:
            return citizen
    raise AssertionError("no adult among the first 100 citizens")


def test_roles(server: Server) -> None:
    url = server.url
    assert httpx.get(f"{url}/citizens/5").status_code == 401
    assert httpx.get(f"{url}/citizens/5", headers={"X-API-Key": "nope"}).status_code == 401
    assert httpx.get(f"{url}/citizens/5", headers=CITIZEN5).status_code == 200
    assert httpx.get(f"{url}/citizens/6", headers=CITIZEN5).status_code == 403
    assert httpx.get(f"{url}/citizens/6", headers=CAMERA).status_code == 403
    assert httpx.get(f"{url}/gates/rail/6", headers=RAIL).status_code == 200
    assert httpx.get(f"{url}/gates/hospital/6", headers=RAIL).status_code == 403
    assert httpx.post(f"{url}/advance", json={"days": 1}, headers=ANALYST).status_code == 403
    bank = {"client_id": "r1", "citizen": 5, "behaviour": "bank_arrears"}
    refused = httpx.post(f"{url}/events", json=bank, headers=CAMERA)
    assert refused.status_code == 403 and "sensor 'camera', not 'bank'" in refused.json()["detail"]
    assert httpx.get(f"{url}/stats", headers=CITIZEN5).status_code == 403


def test_bad_input_is_refused_with_the_field(server: Server) -> None:
    url = server.url
    bad = httpx.post(f"{url}/events", json={"client_id": "", "citizen": -1}, headers=CAMERA)
    assert bad.status_code == 422
    fields = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert {("body", "client_id"), ("body", "citizen"), ("body", "behaviour")} <= fields
    unknown = httpx.post(
        f"{url}/events",
        headers=CAMERA,
        json={"client_id": "u1", "citizen": 10**6, "behaviour": "jaywalking"},
    )
    assert unknown.status_code == 404 and "citizens are numbered 0 to 2999" in unknown.text
    odd = httpx.post(
        f"{url}/events",
        headers=ADMIN,
        json={"client_id": "u2", "citizen": 1, "behaviour": "flying"},
    )
    assert odd.status_code == 422
    assert odd.json()["detail"][0]["loc"] == ["body", "behaviour"]
    assert "'jaywalking'" in odd.json()["detail"][0]["msg"]  # the allowed values are named


@pytest.mark.parametrize(
    "citizen", ["NaN", "Infinity", "-Infinity", "1e400", '"5"', "true", "5.5", "null"]
)
def test_a_citizen_is_a_whole_number_and_nothing_else(server: Server, citizen: str) -> None:
    body = f'{{"client_id": "n1", "citizen": {citizen}, "behaviour": "jaywalking"}}'
    reply = httpx.post(
        f"{server.url}/events", content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"] == ["body", "citizen"]


def test_a_whole_number_written_with_a_point_is_that_number(server: Server) -> None:
    """JSON Schema's integer, which the OpenAPI schema says, admits 5.0: so does the server."""
    body = '{"client_id": "w5", "citizen": 5.0, "behaviour": "jaywalking"}'
    reply = httpx.post(
        f"{server.url}/events", content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert reply.status_code == 200 and reply.json()["status"] == "accepted", reply.text
    assert any(
        p["client_id"] == "w5"
        for p in httpx.get(f"{server.url}/citizens/5", headers=ADMIN).json()["pending"]
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            '{"client_id": "d1", "citizen": 1, "citizen": 2, "behaviour": "jaywalking"}',
            ["body", "citizen"],
        ),
        (b'{"client_id": "d2", "citizen": 1, "behaviour": "jaywalking\xff"}', ["body"]),
        ("[" * 100_000 + "]" * 100_000, ["body"]),
    ],
    ids=["duplicate-key", "not-utf8", "deep"],
)
def test_a_body_that_cannot_be_read_whole_is_a_422_saying_where(
    server: Server, body: str | bytes, loc: list[str]
) -> None:
    reply = httpx.post(
        f"{server.url}/events", content=body, headers={**ADMIN, "content-type": "application/json"}
    )
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"] == loc
    assert "d1" not in str(httpx.get(f"{server.url}/citizens/1", headers=ADMIN).json()["pending"])


def test_hostile_input_gets_a_4xx_that_names_the_field(server: Server) -> None:
    url, json_ = server.url, {**ADMIN, "content-type": "application/json"}
    for body, field in (
        ('{"client_id": "\\ud800", "citizen": 1, "behaviour": "jaywalking"}', "client_id"),
        ('{"citizen": 1, "event": "0.0.1.1.5.0", "reason": "\\udfff"}', "reason"),
    ):
        path = "/events" if "client_id" in body else "/appeals"
        reply = httpx.post(url + path, content=body, headers=json_)
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", field]
    for path, body in (
        ("/appeals/1/decision", {"uphold": "yes"}),
        ("/advance", {"days": "1"}),
        ("/advance", {"days": 1.5}),
    ):
        assert httpx.post(url + path, json=body, headers=ADMIN).status_code == 422
    day = httpx.get(f"{url}/health").json()["day"]
    too_far = httpx.post(f"{url}/advance", json={"days": 3650}, headers=ADMIN)
    assert too_far.status_code == 409 and "at most" in too_far.text
    assert httpx.get(f"{url}/health").json()["day"] == day  # refused before simulating
    many = {
        "events": [
            {"client_id": f"m{i}", "citizen": 1, "behaviour": "jaywalking"} for i in range(10_001)
        ]
    }
    refused = httpx.post(f"{url}/events/batch", json=many, headers=ADMIN)
    assert refused.status_code == 422 and len(refused.content) < 1000  # nothing echoed
    huge = httpx.post(f"{url}/events/batch", content=b"x" * (64 * 2**20), headers=json_)
    assert huge.status_code == 413  # from its length, before reading it

    def streamed() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 2**20

    assert httpx.post(f"{url}/events/batch", content=streamed(), headers=json_).status_code == 413
    assert httpx.get(f"{url}/health", headers={"X-Big": "a" * 2**20}).status_code == 431
    assert httpx.get(f"{url}/health").status_code == 200  # and the server goes on


def test_advance_is_a_job_with_progress(server: Server) -> None:
    url = server.url
    started = httpx.post(f"{url}/advance", json={"days": 3}, headers=ADMIN)
    assert started.status_code == 202 and started.json()["status"] in ("running", "done")
    job = started.json()["job"]
    second = httpx.post(f"{url}/advance", json={"days": 1}, headers=ADMIN)
    assert second.status_code in (202, 409)  # 409 while the first runs
    if second.status_code == 409:
        assert f"GET /advance/{job}" in second.json()["detail"]
    jobs = [job] + ([second.json()["job"]] if second.status_code == 202 else [])
    for j in jobs:
        for _ in range(400):
            progress = httpx.get(f"{url}/advance/{j}", headers=ADMIN).json()
            if progress["status"] != "running":
                break
            time.sleep(0.05)
        assert progress["status"] == "done" and progress["day"] == progress["target_day"]
    assert httpx.get(f"{url}/advance/{job}", headers=ANALYST).status_code == 403
    assert httpx.get(f"{url}/advance/99999", headers=ADMIN).status_code == 404
    assert httpx.get(f"{url}/health").status_code == 200


def test_events_once_each_then_counted(server: Server) -> None:
    url, who = server.url, _adult(server)
    batch = {
        "events": [
            {"client_id": f"b{i}", "citizen": who, "behaviour": "jaywalking"} for i in range(3)
        ]
        + [{"client_id": "b0", "citizen": who, "behaviour": "jaywalking"}]
    }
    first = httpx.post(f"{url}/events/batch", json=batch, headers=CAMERA).json()
    assert (first["accepted"], first["duplicates"], first["duplicate_ids"]) == (3, 1, ["b0"])
    again = httpx.post(f"{url}/events/batch", json=batch, headers=CAMERA).json()
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    single = httpx.post(f"{url}/events", json=batch["events"][0], headers=CAMERA).json()
    assert single["status"] == "duplicate"
    before = httpx.get(f"{url}/citizens/{who}", headers=ANALYST).json()
    assert len(before["pending"]) == 3
    day = httpx.post(f"{url}/advance", json={"days": 1, "wait": True}, headers=ADMIN).json()["day"]
    after = httpx.get(f"{url}/citizens/{who}", headers=ANALYST).json()
    city = after["operators"][0]
    submitted = [
        e
        for e in city["ledger"]
        if "submitted through the API" in e["notes"] and e["day"] == day - 1
    ]
    assert len(submitted) == 3
    assert city["score"] == city["replayed_score"]


def test_a_batch_names_the_day_its_accepted_events_join(server: Server) -> None:
    """A batch whose first event was stored on an earlier day (a duplicate) names the day
    its accepted events join, not the duplicate's (the fault harness found this: seed 5)."""
    url = server.url
    first = {"client_id": "day-1", "citizen": 2, "behaviour": "jaywalking"}
    old = httpx.post(f"{url}/events", json=first, headers=CAMERA).json()["day"]
    httpx.post(f"{url}/advance", json={"days": 1, "wait": True}, headers=ADMIN)
    batch = {"events": [first, {"client_id": "day-2", "citizen": 2, "behaviour": "jaywalking"}]}
    reply = httpx.post(f"{url}/events/batch", json=batch, headers=CAMERA).json()
    assert (reply["accepted"], reply["duplicate_ids"]) == (1, ["day-1"])
    assert reply["day"] == old + 1 == httpx.get(f"{url}/health").json()["day"]


def test_appeal_reverses_exactly(server: Server) -> None:
    url, who = server.url, _adult(server)
    event = {"client_id": "ap1", "citizen": who, "behaviour": "contract_breach_judgment"}
    assert httpx.post(f"{url}/events", json=event, headers=ADMIN).json()["status"] == "accepted"
    before = httpx.get(f"{url}/citizens/{who}", headers=ANALYST).json()["operators"][0]
    httpx.post(f"{url}/advance", json={"days": 1, "wait": True}, headers=ADMIN)
    listed = httpx.get(f"{url}/citizens/{who}", headers=ANALYST).json()["operators"][0]
    assert listed["listed"] and listed["score"] <= before["score"] - 50 + 10
    denied = httpx.get(f"{url}/gates/rail/{who}", headers=ANALYST).json()
    assert denied["action"] == "deny" and "You are discredited" in denied["text"]
    wrong = [e for e in listed["ledger"] if e["behaviour"] == "contract_breach_judgment"][-1]
    body = {"citizen": who, "event": wrong["event"], "reason": "not me"}
    assert httpx.post(f"{url}/appeals", json=body, headers=CITIZEN5).status_code == 403
    assert httpx.post(f"{url}/appeals", json=body, headers=ANALYST).status_code == 403
    filed = httpx.post(f"{url}/appeals", json=body, headers=ADMIN).json()
    assert filed["status"] == "filed"
    path = f"{url}/appeals/{filed['appeal']}/decision"
    assert httpx.post(path, json={"uphold": True}, headers=ANALYST).status_code == 403
    assert httpx.post(path, json={"uphold": True}, headers=ADMIN).json()["status"] == "upheld"
    assert httpx.post(path, json={"uphold": True}, headers=ADMIN).status_code == 409
    after = httpx.get(f"{url}/citizens/{who}", headers=ANALYST).json()["operators"][0]
    assert after["score"] == after["replayed_score"] == listed["score"] + 50
    assert not after["listed"]
    reversed_ = [e for e in after["ledger"] if "reversed on appeal: not counted" in e["notes"]]
    assert [e["event"] for e in reversed_] == [wrong["event"]]
    assert httpx.get(f"{url}/gates/rail/{who}", headers=ANALYST).json()["action"] != "deny"


def test_notices_and_stats(server: Server) -> None:
    before = httpx.get(f"{server.url}/stats", headers=ANALYST).json()
    batch = {
        "events": [
            {"client_id": f"stats-{i}", "citizen": i, "behaviour": "jaywalking"} for i in range(3)
        ]
    }  # this test's own: whatever ran before it
    assert (
        httpx.post(f"{server.url}/events/batch", json=batch, headers=CAMERA).json()["accepted"] == 3
    )
    stats = httpx.get(f"{server.url}/stats", headers=ANALYST).json()
    assert stats["open_day"] == before["open_day"] >= 0
    assert stats["submitted"] == before["submitted"] + 3
    notices = httpx.get(f"{server.url}/notices?limit=5", headers=CITIZEN5).json()
    assert all("SYN-" in n["text"] for n in notices)


def test_killed_server_loses_nothing_it_acknowledged(tmp_path: Path, scenario_file: Path) -> None:
    folder = tmp_path / "city"
    server = Server(folder, scenario_file)
    acked: list[str] = []
    deadline = time.monotonic() + 2.5
    i = 0
    with httpx.Client(base_url=server.url, timeout=10) as client:
        while time.monotonic() < deadline:
            batch = [
                {"client_id": f"k{i}-{j}", "citizen": (i * 7 + j) % 3000, "behaviour": "jaywalking"}
                for j in range(50)
            ]
            reply = client.post("/events/batch", json={"events": batch}, headers=CAMERA)
            assert reply.status_code == 200
            acked += [e["client_id"] for e in batch]  # accepted, none repeated
            if i % 5 == 4 and i < 5 * 50:  # the city has 60 days: a fast server stops short
                assert (
                    client.post(
                        "/advance", json={"days": 1, "wait": True}, headers=ADMIN
                    ).status_code
                    == 200
                )
            i += 1
    server.stop(signal.SIGKILL)
    assert acked and i > 5

    again = Server(folder, None)  # restart on the same store
    day = httpx.get(f"{again.url}/health").json()["day"]
    assert day >= 1
    again.stop()
    with duckdb.connect(str(folder / "live.duckdb"), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT client_id FROM live_submissions").fetchall()}
    assert set(acked) <= stored

    live = LiveCity(folder)  # rebuilt from the store: every score is its ledger's replay
    try:
        for op in live.city.operators:
            rows = live.store.con.execute(
                "SELECT day, subject, points FROM ledger WHERE operator = ? AND day < ? "
                "AND NOT dismissed AND NOT reversed AND NOT unscored",
                [op.index, live.day],
            ).fetchnumpy()
            start = live.city.operators[op.index].standing
            expected = replay(
                op.scheme.score, op.n, rows["day"], rows["subject"], rows["points"], op.start
            )  # from xinyong.model.start
            assert np.array_equal(expected, start.score), op.name
    finally:
        live.close()


@pytest.mark.parametrize(
    "key", [ADMIN, CITIZEN5, CAMERA, {}], ids=["admin", "citizen", "collector", "no key"]
)
def test_the_schema_holds(server: Server, key: dict[str, str]) -> None:
    """No 5xx, and every answer matches the OpenAPI schema, for any input it allows and the
    negative cases schemathesis makes, with every check (a bounded number of examples per
    operation), as an admin, a citizen, a collector and a caller without a key."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=key)

        check()


@pytest.mark.parametrize(
    ("scenario", "override", "field"),
    [("rongcheng", "operators=[]", "score = None"), ("reference", "grades=[]", "grades = []")],
)
def test_a_scenario_left_without_a_scheme_is_refused(
    server: Server, scenario: str, override: str, field: str
) -> None:
    """Overrides that leave a city no scheme at all (its operators emptied, or its grades)
    are refused naming the field (they once ended in a 500), and the city served stays."""
    before = httpx.get(f"{server.url}/health").json()
    body = {"scenario": scenario, "citizens": 300, "days": 5, "set": [override]}
    refused = httpx.post(f"{server.url}/scenario", json=body, headers=ADMIN, timeout=120)
    assert refused.status_code == 422 and field in refused.json()["detail"], refused.text
    assert httpx.get(f"{server.url}/health").json() == before


def test_admin_loads_a_scenario_and_it_survives_a_restart(
    tmp_path: Path, scenario_file: Path
) -> None:
    server = Server(tmp_path / "base", scenario_file)
    try:
        body = {"scenario": "reference", "citizens": 500, "days": 20, "seed": 2}
        assert httpx.post(f"{server.url}/scenario", json=body, headers=ANALYST).status_code == 403
        missing = httpx.post(
            f"{server.url}/scenario", json={**body, "scenario": "atlantis"}, headers=ADMIN
        )
        assert missing.status_code == 404 and "reference" in missing.text
        loaded = httpx.post(f"{server.url}/scenario", json=body, headers=ADMIN).json()
        assert loaded == {"status": "ok", "scenario": "reference", "day": 0}
        assert (
            httpx.post(
                f"{server.url}/advance", json={"days": 3, "wait": True}, headers=ADMIN
            ).json()["day"]
            == 3
        )
        # The new city's schema lists its own behaviours.
        spec = httpx.get(f"{server.url}/openapi.json").json()
        assert "heroic_act" in str(spec["components"]["schemas"])
        assert spec["info"]["version"] == xinyong.__version__  # /docs: the package's version
        # ... and the new city is served with its dashboard, as the first was.
        page = httpx.get(f"{server.url}/")
        assert page.status_code == 200 and "<html" in page.text.lower()
    finally:
        server.stop()
    again = Server(tmp_path / "base", None)
    try:
        assert httpx.get(f"{again.url}/health").json() == {
            "status": "ok",
            "scenario": "reference",
            "day": 3,
        }
    finally:
        again.stop()


def test_the_api_does_not_import_the_dashboard() -> None:
    """The API is the dashboard's data source, not its host: ``xinyong serve`` composes them."""
    code = (
        "import sys, xinyong.service.api, xinyong.service.live; "
        "print(sorted(m for m in sys.modules if m.startswith(('xinyong.views.dashboard', "
        "'xinyong.views.pages'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SOURCES)},
        check=True,
    ).stdout.strip()
    assert found == "[]", f"importing xinyong.service.api loaded {found}"


def test_slow_idle_and_surplus_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that sends nothing, one whose head trickles in, and one whose body
    stalls are each answered 408 and closed at their deadline; past the bound on open
    connections, a new one is answered 503; a prompt request is served throughout."""
    import socket
    import threading

    import uvicorn

    from xinyong.service import limits

    monkeypatch.setattr(limits, "HEAD_SECONDS", 0.5)
    monkeypatch.setattr(limits, "BODY_SECONDS", 0.5)
    monkeypatch.setattr(limits, "MAX_CONNECTIONS", 8)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:  # the whole body first
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, port=port, http=limits.guarded_protocol(), timeout_keep_alive=1, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)

    def answer(sock: socket.socket) -> bytes:
        sock.settimeout(5)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data

    try:
        silent = socket.create_connection(("127.0.0.1", port))
        trickle = socket.create_connection(("127.0.0.1", port))
        stalled = socket.create_connection(("127.0.0.1", port))
        trickle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        began = time.monotonic()
        for _ in range(4):
            time.sleep(0.2)
            with contextlib.suppress(OSError):  # closed at its deadline
                trickle.sendall(b"X")  # a byte at a time never completes the head
        for sock in (silent, trickle, stalled):
            assert answer(sock).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - began < 4
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        time.sleep(0.1)
        surplus = socket.create_connection(("127.0.0.1", port))
        assert b" 503 " in answer(surplus).split(b"\r\n")[0]
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _resident(pid: int) -> int:
    """A process's resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_city_too_large_is_refused_before_it_is_built(
    tmp_path: Path, scenario_file: Path
) -> None:
    """Under an address-space limit (``ulimit -v``), a nation of 10 million citizens for ten
    years is refused at once with the memory it needs; the process keeps the memory it had,
    and a small city then builds at once."""
    import resource

    server = Server(tmp_path / "base", scenario_file)
    try:
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
        size = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmSize:")
        )
        limit = size * 1024 + 3 * 2**30
        resource.prlimit(server.proc.pid, resource.RLIMIT_AS, (limit, limit))
        before = _resident(server.proc.pid)
        began = time.monotonic()
        huge = {"scenario": "nation", "citizens": 10_000_000, "days": 3650}
        refused = httpx.post(f"{server.url}/scenario", json=huge, headers=ADMIN, timeout=120)
        assert refused.status_code == 507, refused.text
        detail = refused.json()["detail"]
        assert "GiB of memory" in detail and "choose at most about" in detail
        assert time.monotonic() - began < 60
        assert _resident(server.proc.pid) - before < 100 * 2**20
        assert not list((tmp_path / "base").glob("city-*"))  # nothing begun, nothing left
        assert httpx.get(f"{server.url}/health").json()["scenario"] == "multi"
        began = time.monotonic()
        small = {"scenario": "reference", "citizens": 1000, "days": 30}
        assert (
            httpx.post(f"{server.url}/scenario", json=small, headers=ADMIN, timeout=60).json()[
                "scenario"
            ]
            == "reference"
        )
        assert time.monotonic() - began < 30
        assert _resident(server.proc.pid) - before < 100 * 2**20
    finally:
        server.stop()


def test_a_city_that_fails_while_built_leaves_the_one_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that runs out of memory (an estimate too low) answers 507, leaves no folder,
    gives its memory back, and the city served goes on."""
    from xinyong.service import live
    from xinyong.service import switch as switching
    from xinyong.service.switch import Switch

    first = LiveCity(tmp_path / "base", consequence_city(citizens=300, days=20), seed=1)
    switch = Switch(tmp_path / "base", first, lambda city: None)  # type: ignore[arg-type,return-value]
    city = live.City

    def hungry(*args: Any, **kwargs: Any) -> Any:
        taken = np.ones(600 * 2**20 // 8)  # touched: resident
        assert taken.sum() > 0
        raise MemoryError("out of memory while the city was built")

    try:
        before = _resident(os.getpid())
        monkeypatch.setattr(switching, "needed_memory", lambda scenario, seed: 0)
        monkeypatch.setattr(live, "City", hungry)
        with pytest.raises(LiveError) as failed:
            switch.load(xinyong.load_scenario("reference").with_sizes(citizens=1000), 0)
        said = str(failed.value)
        assert failed.value.status == 507 and "ran out of memory" in said
        # The estimate was too low: what it says fits is no advice; fewer than asked is.
        assert "choose fewer than 1,000 citizens" in said and "at most" not in said
        assert _resident(os.getpid()) - before < 100 * 2**20
        assert switch.live is first and not list((tmp_path / "base").glob("city-*"))
        monkeypatch.setattr(live, "City", city)
        assert switch.load(xinyong.load_scenario("reference").with_sizes(citizens=1000), 0).day == 0
    finally:
        switch.live.close()
        if switch.live is not first:
            first.close()


def test_a_replaced_city_is_freed_though_the_server_froze_it(tmp_path: Path) -> None:
    """The server moves what its city keeps out of the collector's way (a full collection
    walked all of it, 0.2 s holding the GIL, the tail of record reads under load); a city
    replaced is made collectable again first, and is freed."""
    import gc
    import weakref

    from xinyong.service.switch import Switch

    first = LiveCity(tmp_path / "base", consequence_city(citizens=300, days=20), seed=1)
    gone = weakref.ref(first)
    switch = Switch(tmp_path / "base", first, lambda city: None)  # type: ignore[arg-type,return-value]
    try:
        assert gc.get_freeze_count() > 0
        del first
        switch.load(xinyong.load_scenario("reference").with_sizes(citizens=1000), 0)
        assert gone() is None
    finally:
        switch.live.close()
        gc.unfreeze()
