"""Helpers for the tests: tiny hand-made scenarios whose outcome can be worked out by hand."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from xinyong.primitives.scratch import Scratch
from xinyong.scenario import Scenario, validate_scenario

if TYPE_CHECKING:
    from xinyong.engine.city import City


def tiny_scenario(behaviours: list[dict[str, Any]], **overrides: Any) -> Scenario:
    """A small city with a 0-100 style scale, grades A/B/C, and sure sensors by default.

    Args:
        behaviours: the behaviours (name, p, points, sensor, severe).
        **overrides: top-level fields to replace; ``score``, ``listing``, ``sensors`` and
            ``listed_response`` are merged into the defaults.
    """
    data: dict[str, Any] = {
        "name": "tiny",
        "citizens": 10,
        "days": 10,
        "score": {"start": 100, "floor": 0, "ceiling": 200},
        "grades": [{"grade": "A", "min": 150}, {"grade": "B", "min": 50}, {"grade": "C", "min": 0}],
        "listed_grade": "D",
        "conduct_lognormal_sigma": 0.0,
        "listed_response": {"negative": 1.0, "positive": 1.0},
        "listing": {"min_days": 3, "release_min_score": 50, "at_floor": True},
        "sensors": {
            "sure": {"detect": 1.0, "misidentify": 0.0},
            "blind": {"detect": 0.0, "misidentify": 0.0},
            "wrong": {"detect": 1.0, "misidentify": 1.0},
        },
        "behaviours": behaviours,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return validate_scenario(data, source="tiny")


MULTI_CITY = Path(__file__).with_name("multi_city.toml")


def multi_city(**overrides: Any) -> Scenario:
    """A small city with households, companies, three operators, sharing, assessment and
    collectors (``tests/multi_city.toml``), with top-level fields replaced."""
    data = tomllib.loads(MULTI_CITY.read_text())
    data.update(overrides)
    return validate_scenario(data, source=MULTI_CITY.name)


def blame_city(**overrides: Any) -> dict[str, Any]:
    """Two citizens, a camera that always blames the other one, and a court list of debtors:
    on seed 7 the only fraud is citizen 1's, on day 1, blamed on citizen 0 (scenario data)."""
    data: dict[str, Any] = {
        "name": "blame",
        "citizens": 2,
        "days": 20,
        "conduct_lognormal_sigma": 0.0,
        "listed_response": {"negative": 1.0, "positive": 1.0},
        "sensors": {"wrong": {"detect": 1.0, "misidentify": 1.0}},
        "behaviours": [{"name": "fraud", "p": 0.05, "sensor": "wrong", "harmful": True}],
        "operators": [
            {
                "name": "court",
                "scheme": {
                    "name": "court",
                    "score": {"start": 100, "floor": 0, "ceiling": 100},
                    "grades": [{"grade": "A", "min": 0}],
                    "points": [{"behaviour": "fraud", "points": -1}],
                    "lists": [
                        {
                            "name": "debtors",
                            "title": "a debtor",
                            "behaviours": ["fraud"],
                            "term_days": 100,
                        }
                    ],
                },
            }
        ],
    }
    data.update(overrides)
    return data


CONSEQUENCES: dict[str, Any] = {
    "services": [
        {"name": "rail", "title": "a train ticket", "uses_per_year": 24},
        {"name": "hospital", "title": "an appointment", "min_age": 0, "uses_per_year": 12},
        {
            "name": "university",
            "title": "a university place",
            "min_age": 0,
            "max_age": 17,
            "uses_per_year": 12,
        },
        {"name": "internet", "title": "broadband", "min_age": 0, "uses_per_year": 12},
    ],
    "rules": [
        {"service": "rail", "action": "deny", "blacklisted": True, "what": "no train tickets"},
        {
            "service": "hospital",
            "action": "priority",
            "red": "model-citizens",
            "what": "shorter hospital waits",
        },
        {
            "service": "university",
            "action": "deny",
            "parent_blacklisted": True,
            "what": "university entry refused",
        },
        {"service": "internet", "action": "restrict", "grades": ["C"], "what": "slower internet"},
    ],
    "notices": [
        {"kind": "billboard", "behaviour": "jaywalking", "sensor": "camera"},
        {"kind": "published_list", "on_list": "*"},
        {"kind": "dial_tone", "on_list": "debtors"},
        {"kind": "poster", "red": "model-citizens"},
        {"kind": "civilized_family", "red": "model-citizens"},
    ],
}

CITY_LISTS = [
    {
        "name": "debtors",
        "title": "a dishonest debtor",
        "behaviours": ["contract_breach_judgment", "bank_arrears"],
        "terms": {"contract_breach_judgment": 1095},
        "term_days": 730,
        "repair_after_days": 40,
        "repair_min_score": 990,
    },
    {
        "name": "low-scorers",
        "escalation": {"below": 980, "counsel_after_days": 10, "list_after_days": 20},
        "term_days": 60,
    },
    {"name": "model-citizens", "kind": "red", "min_score": 1010},
]

RESPONSE = {
    "grade": {"B": 0.8, "C": 0.6, "D": 0.5},
    "sanction_met": 0.7,
    "memory_days": 60,
    "household_listed": 0.8,
}


def consequence_city(**overrides: Any) -> Scenario:
    """The multi city with lists, the joint sanctions table, notices and responses."""
    data = tomllib.loads(MULTI_CITY.read_text())
    data["operators"][0]["scheme"]["lists"] = CITY_LISTS
    data["consequences"] = {"name": "test-sanctions", **CONSEQUENCES}
    data["response"] = RESPONSE
    data.update(overrides)
    return validate_scenario(data, source="consequence city")


#: API keys of the test servers: one of each role, and a citizen key for citizens 0 to 49.
KEYS = ",".join(
    [
        "adm=admin",
        "ana=analyst",
        "cam=collector:camera",
        "rail=service:rail",
        *(f"c{i}=citizen:{i}" for i in range(50)),
    ]
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(proc: subprocess.Popen, url: str, what: str) -> None:
    """Wait until ``url`` answers 200 (60 s at most); a process that died says why."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "")
    raise RuntimeError(f"{what} did not start in 60 s")


class Server:
    """A ``xinyong serve`` process on loopback."""

    def __init__(self, folder: Path, scenario: Path | None, *extra: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).with_name("xinyong")
        args = [str(exe), "serve", "--run", str(folder), "--port", str(self.port)]
        if scenario is not None:
            args += ["--scenario", str(scenario), "--seed", "3"]
        args += list(extra)
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, "XINYONG_KEYS": KEYS},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until_up(self.proc, f"{self.url}/health", "the service")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


#: The organisations' gates of a small city: tenders, loans and bond issues, read from the
#: corporate grade and listing and from the legal representative's listing.
ORG_CONSEQUENCES: dict[str, Any] = {
    "org_services": [
        {"name": "tender", "title": "a public tender", "uses_per_year": 12},
        {"name": "loan", "title": "a bank loan", "uses_per_year": 12},
        {"name": "bond", "title": "a bond issue", "uses_per_year": 6},
    ],
    "org_rules": [
        {"service": "tender", "action": "priority", "grades": ["A"], "what": "wins public tenders"},
        {"service": "tender", "action": "deny", "blacklisted": True, "what": "no public tenders"},
        {"service": "loan", "action": "restrict", "rep_on_list": "debtors", "what": "less credit"},
        {"service": "bond", "action": "deny", "rep_blacklisted": True, "what": "no bond issues"},
    ],
}


def org_consequence_city(**overrides: Any) -> Scenario:
    """The consequence city where organisations meet gates too, the legal representative of a
    blacklisted company is refused train tickets, and citizens have a social circle (a
    blacklisted friend makes them careful) and reach for the perk just above them."""
    data = tomllib.loads(MULTI_CITY.read_text())
    data["operators"][0]["scheme"]["lists"] = CITY_LISTS
    rules = [
        *CONSEQUENCES["rules"],
        {
            "service": "rail",
            "action": "deny",
            "company_blacklisted": True,
            "what": "no train tickets for the legal representative of a blacklisted company",
        },
    ]
    data["consequences"] = {
        "name": "test-sanctions",
        **CONSEQUENCES,
        "rules": rules,
        **ORG_CONSEQUENCES,
    }
    data["response"] = {**RESPONSE, "contact_listed": 0.8, "near_perk": 0.8}
    data["network"] = {"friends": 3}
    data.update(overrides)
    return validate_scenario(data, source="org consequence city")


def city_state(
    obj: Any, path: str = "city", seen: set[int] | None = None, out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every array and number a city holds, by path: two cities in the same state give equal
    dictionaries (threads, the store and what a live city keeps for replay are left out)."""
    seen = set() if seen is None else seen
    out = {} if out is None else out
    if id(obj) in seen:
        return out
    if isinstance(obj, np.ndarray):  # compared as bytes: fast, and NaN equals itself
        out[path] = (
            obj.tolist() if obj.dtype == object else (obj.dtype.str, obj.shape, obj.tobytes())
        )
    elif isinstance(obj, (int, float, str, bool, np.generic)) or obj is None:
        out[path] = obj
    elif isinstance(obj, dict):
        seen.add(id(obj))
        for k, v in obj.items():
            city_state(v, f"{path}[{k!r}]", seen, out)
    elif isinstance(obj, (list, tuple)):
        seen.add(id(obj))
        for i, v in enumerate(obj):
            city_state(v, f"{path}[{i}]", seen, out)
    elif isinstance(obj, Scratch):  # its columns hold what earlier questions left: no state
        return out
    elif type(obj).__module__.startswith("xinyong") and hasattr(obj, "__dict__"):
        seen.add(id(obj))
        for k, v in vars(obj).items():
            if k in ("store", "ledger", "_second_core", "withdrawn", "injected"):
                continue
            if isinstance(getattr(type(obj), k, None), cached_property):  # a cache, made on use
                continue
            city_state(v, f"{path}.{k}", seen, out)
    return out


def city_differences(a: City, b: City) -> list[str]:
    """The paths at which two cities' states differ (none: the same city)."""
    sa, sb = city_state(a), city_state(b)
    return [k for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)]
