"""API keys and roles for the live city's HTTP service.

Roles:
    analyst    reads everything.
    collector  submits events observed by its own sensor only.
    service    checks gates for its own service only.
    citizen    reads only its own record, and files appeals on it.
    admin      advances time, decides appeals, and reads everything.

Keys come from a TOML file (``[[keys]]`` tables with ``key``, ``role`` and the role's
``sensor``, ``service`` or ``citizen``) or from the environment variable ``XINYONG_KEYS``
(``key=role[:scope]`` pairs separated by commas, e.g. ``k1=admin,k2=collector:camera``). Keys are
compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

__all__ = ["ROLES", "Identity", "KeyFileError", "Keyring", "Who", "allow"]

Role = Literal["analyst", "collector", "service", "citizen", "admin"]
ROLES: tuple[str, ...] = ("analyst", "collector", "service", "citizen", "admin")
_SCOPE = {"collector": "sensor", "service": "service", "citizen": "citizen"}


class KeyFileError(ValueError):
    """A key file or variable that cannot be used, with what to fix."""


@dataclass(frozen=True)
class Identity:
    """Who a key belongs to: a role, and the sensor, service or citizen it is limited to."""

    name: str
    role: str
    sensor: str | None = None
    service: str | None = None
    citizen: int | None = None


class Keyring:
    """The known keys."""

    def __init__(self, entries: list[tuple[str, Identity]]) -> None:
        if not entries:
            raise KeyFileError(
                "no API keys: give --keys FILE or set XINYONG_KEYS, e.g. "
                "XINYONG_KEYS='secret1=admin,secret2=collector:camera'"
            )
        self._entries = [(key.encode(), who) for key, who in entries]

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """Read ``[[keys]]`` tables from a TOML file."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KeyFileError(f"key file '{path}': {exc}") from None
        entries = []
        for i, row in enumerate(data.get("keys", [])):
            entries.append(
                (
                    _required(row, "key", path, i),
                    _identity(row, f"key file '{path}', keys[{i}]", f"keys[{i}]"),
                )
            )
        return cls(entries)

    @classmethod
    def from_env(cls, value: str | None = None) -> Keyring:
        """Read ``key=role[:scope]`` pairs from ``XINYONG_KEYS`` (or the value given)."""
        value = os.environ.get("XINYONG_KEYS", "") if value is None else value
        entries = []
        for i, pair in enumerate(p.strip() for p in value.split(",") if p.strip()):
            key, _, spec = pair.partition("=")
            role, _, scope = spec.partition(":")
            row: dict[str, object] = {"role": role}
            if role in _SCOPE:
                row[_SCOPE[role]] = int(scope) if role == "citizen" and scope.isdigit() else scope
            entries.append((key, _identity(row, f"XINYONG_KEYS entry {i + 1}", f"entry {i + 1}")))
        return cls(entries)

    def joined(self, entries: list[tuple[str, Identity]]) -> Keyring:
        """These keys and ``entries`` (a classroom's) together."""
        return Keyring([(k.decode(), who) for k, who in self._entries] + entries)

    def identify(self, presented: str | None) -> Identity | None:
        """The identity of a presented key, compared in constant time against every key."""
        if not presented:
            return None
        given = presented.encode()
        found = None
        for key, who in self._entries:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(key, given):
                found = who
        return found


def _required(row: dict, field: str, path: Path, i: int) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value:
        raise KeyFileError(f"key file '{path}', keys[{i}].{field}: required, a non-empty string")
    return value


def _identity(row: dict, where: str, name: str) -> Identity:
    role = row.get("role")
    if role not in ROLES:
        raise KeyFileError(f"{where}.role = {role!r}: must be one of {', '.join(ROLES)}")
    scope = _SCOPE.get(str(role))
    if scope and row.get(scope) in (None, ""):
        raise KeyFileError(f"{where}: a {role} key needs {scope} = ... (what it may act for)")
    if role == "citizen" and not isinstance(row.get("citizen"), int):
        raise KeyFileError(f"{where}.citizen: a citizen id, a whole number")
    return Identity(
        name=str(row.get("name", name)),
        role=str(role),
        sensor=row.get("sensor"),
        service=row.get("service"),
        citizen=row.get("citizen"),
    )


_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="an API key; its role decides what it may do"
)


async def _caller(request: Request, key: Annotated[str | None, Depends(_HEADER)]) -> Identity:
    identity = request.app.state.keys.identify(key)
    if identity is None:
        raise HTTPException(401, "no or unknown API key: send it in the X-API-Key header")
    return identity


#: The caller of a route, identified by its key (401 without a known key).
Who = Annotated[Identity, Depends(_caller)]


def allow(identity: Identity, *roles: str, also: str = "") -> None:
    """Refuse (403) a caller whose role is not one of ``roles`` (``also`` names who else may)."""
    if identity.role not in roles:
        raise HTTPException(
            403, f"a {identity.role} key may not do this; it needs one of: {', '.join(roles)}{also}"
        )
