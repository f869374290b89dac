"""Joining a Ray cluster the way Ray's own tools join one, and what a run on one needs.

A split run on Ray either starts a Ray of its own on this machine (``address=None``: never a
cluster it happens to find, not even the one a stopped ``ray start`` left in Ray's
``ray_current_cluster`` file) or joins the cluster the user names: ``HOST:PORT`` of its head's
GCS, or ``auto`` for this machine's (``RAY_ADDRESS``, else the last ``ray start``, else any
running here), exactly as ``ray.init(address="auto")`` finds it.

Before Ray is asked to join, the address is tried the cheap way, so that a cluster that is not
there, does not answer, or refuses this machine fails within a few seconds with one line
saying what to run, rather than Ray's minute of retries and log lines:

1. a TCP connection to the GCS port (refused, or no answer within :data:`CONNECT_SECONDS`);
2. Ray's own GCS client, in a child process (so its retries can be cut short and its C++ log
   lines go nowhere): does the GCS accept this machine's token?

Token authentication follows Ray's documentation for clients: with ``RAY_AUTH_MODE=token``,
the token comes from ``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``. As
``ray.init`` does for this machine's cluster, a cluster started on this machine that asks for a
token is given the local token when ``RAY_AUTH_MODE`` is unset; a cluster elsewhere is never
sent one unasked (set ``RAY_AUTH_MODE=token`` to send it).

On a cluster of more than one node, the workers write the run's Parquet dataset into ``--out``
themselves, so it must be a folder every node sees at the same path: the user says so
(``shared=True``, ``--shared-out``), and :func:`check_output` checks that every node does see
it before any work starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

__all__ = ["CONNECT_SECONDS", "ClusterError", "alive_nodes", "check_output", "connect", "deal"]

CONNECT_SECONDS = 3.0  # a GCS port that neither accepts nor refuses by then is unreachable
# Ray's GCS client, in a child process that may take seconds to import Ray on a busy machine,
# answers within this; only a port where something else than a GCS listens takes it all.
HANDSHAKE_SECONDS = 12.0
_SEE_SECONDS = 60.0  # every node starts a worker to look for the output folder

_HANDSHAKE = """
import sys
from ray._raylet import GcsClient
try:
    GcsClient(address=sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    sys.exit(1)
"""


class ClusterError(RuntimeError):
    """A Ray cluster that cannot be joined or used as asked; the message says what to run."""


def connect(ray: Any, address: str | None) -> None:
    """Start a Ray of the run's own (``address=None``), or join the cluster at ``address``.

    Does nothing if this process is already connected to a Ray.

    Args:
        ray: the ray module.
        address: ``HOST:PORT`` of a cluster head's GCS, ``auto`` for this machine's
            cluster, or None for a new local Ray.

    Raises:
        ClusterError: the cluster is not found, does not answer, refuses this machine's
            token, or Ray cannot join it; within seconds, with what to run.
    """
    if ray.is_initialized():
        return
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is None or address == "local":
        _default_token_auth()
        ray.init(address="local", **options)  # "local": never a cluster found lying around
        return
    gcs, here = _resolve(address)
    name = gcs if address == "auto" else address  # as the user wrote it, if they did
    _reach(gcs, name, stale=address == "auto")
    _handshake(gcs, name, here)
    try:
        ray.init(address=gcs, **options)
    except Exception as exc:  # Ray raises many kinds here; each is one line to the user
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ClusterError(
            f"Ray could not join the cluster at {name}: {first}. Run xinyong "
            f"on a node of the cluster (its head is simplest)."
        ) from None


def alive_nodes(ray: Any) -> list[dict[str, Any]]:
    """The cluster's nodes that are alive, as ``ray.nodes()`` describes them."""
    return [node for node in ray.nodes() if node.get("Alive")]


def deal(ray: Any, count: int) -> list[Any]:
    """Where each of ``count`` blocks runs: dealt to the alive nodes in turn, so that every
    node gets as many blocks as it has CPUs before any gets more (a head started with
    ``--num-cpus 0`` gets none).

    Blocks reserve no CPU, so Ray's own placement would put them all beside the driver.

    Returns:
        One Ray scheduling strategy per block. It is binding: a node still joining is not yet
        in Ray's view of resources, and a preference would fall back to the driver's node.
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = sorted(alive_nodes(ray), key=lambda node: node["NodeID"])
    cpus = [int(node.get("Resources", {}).get("CPU", 0)) for node in nodes]
    seats = [
        node["NodeID"]
        for k in range(max(cpus, default=0))
        for node, n in zip(nodes, cpus, strict=True)
        if n > k
    ]
    if not seats:
        return ["DEFAULT"] * count
    return [NodeAffinitySchedulingStrategy(seats[i % len(seats)], soft=False) for i in range(count)]


def check_output(ray: Any, folder: Path | None, shared: bool) -> None:
    """Refuse, before any work starts, an output the workers of a cluster cannot all write.

    On one node, any folder will do. On more, the folder must be declared shared
    (``shared``), and every node must see it: a marker file written here is looked for by a
    task on every node. A folder this call creates for the look is removed again on refusal.

    Raises:
        ClusterError: no folder, a folder not declared shared, or one some node cannot see.
    """
    nodes = alive_nodes(ray)
    if len(nodes) < 2:
        return
    where = f"this Ray cluster has {len(nodes)} nodes, and the workers on each write the run"
    if folder is None:
        raise ClusterError(
            f"{where}: give --out DIR on a filesystem every node mounts at the "
            f"same path, and add --shared-out"
        )
    if not shared:
        raise ClusterError(
            f"--out '{folder}' may be a folder of this machine only, and {where} "
            f"there. Put it on a filesystem every node mounts at the same path "
            f"(NFS, a cluster filesystem) and add --shared-out"
        )
    blind = _nodes_not_seeing(ray, folder.absolute(), nodes)
    if blind:
        raise ClusterError(
            f"--out '{folder}' is not seen by {len(blind)} of the cluster's "
            f"{len(nodes)} nodes ({', '.join(blind)}): mount the shared "
            f"filesystem at the same path on every node, or choose a folder "
            f"on it"
        )


def _resolve(address: str) -> tuple[str, bool]:
    """The GCS address ``HOST:PORT`` to join, and whether its cluster runs on this machine."""
    from ray._private import services

    if address.startswith("ray://"):
        raise ClusterError(
            f"--ray {address} is a Ray Client address; xinyong joins a "
            f"cluster's GCS: run it on a node of the cluster with --ray auto, or "
            f"give HOST:PORT of the head (the --port of `ray start --head`)"
        )
    try:
        gcs = services.canonicalize_bootstrap_address(address)
    except ConnectionError:  # "auto", and no cluster recorded or running here
        raise ClusterError(
            "--ray auto found no Ray cluster on this machine: start one with "
            "`ray start --head`, or leave out --ray and the run starts a Ray "
            "of its own"
        ) from None
    except ValueError:
        raise ClusterError(
            f"--ray {address!r} is not an address: give HOST:PORT of the "
            f"cluster's head (`ray start --head` prints it), or auto for this "
            f"machine's cluster"
        ) from None
    if gcs is None:  # pragma: no cover - "local" is handled by connect
        raise ClusterError(f"--ray {address!r} names no cluster")
    here = (
        address == "auto"
        or gcs == services.find_bootstrap_address(None)
        or gcs in services.find_gcs_addresses()
    )
    return gcs, here


def _split(gcs: str) -> tuple[str, int]:
    host, _, port = gcs.rpartition(":")
    return host.strip("[]"), int(port)


def _reach(gcs: str, name: str, stale: bool) -> None:
    """Raise unless the GCS port accepts a TCP connection within :data:`CONNECT_SECONDS`
    (``stale``: the address came from the file the last ``ray start`` here wrote)."""
    host, port = _split(gcs)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            return
    except ConnectionRefusedError:
        why = ""
        if stale:
            from ray._private.utils import get_ray_address_file

            why = (
                f" (`ray start` recorded it in {get_ray_address_file(None)}, but that "
                f"cluster has stopped)"
            )
        raise ClusterError(
            f"no Ray cluster at {name}: the connection was refused{why}. "
            f"Start one with `ray start --head --port {port}`, or give the "
            f"address that `ray start --head` printed"
        ) from None
    except TimeoutError:
        raise ClusterError(
            f"no answer from a Ray cluster at {name} within "
            f"{CONNECT_SECONDS:.0f} s: check the address (`ray status` on the "
            f"head prints it) and that port {port} is open to this "
            f"machine"
        ) from None
    except OSError as exc:
        raise ClusterError(
            f"cannot reach a Ray cluster at {name}: {exc.strerror or exc}. "
            f"Check the address (`ray status` on the head prints it)"
        ) from None


def _handshake(gcs: str, name: str, here: bool) -> None:
    """Raise unless the GCS at ``gcs`` accepts this machine, presenting the local token to a
    cluster of this machine that asks for one (as ``ray.init`` does)."""
    answer = _try_gcs(gcs)
    if answer.startswith("AuthenticationError") and here and _enable_local_token():
        answer = _try_gcs(gcs)
    if not answer:
        return
    if answer.startswith("AuthenticationError"):
        mode = os.environ.get("RAY_AUTH_MODE", "")
        if mode == "token":
            raise ClusterError(
                f"the Ray cluster at {name} refused this machine's token: use "
                f"the cluster's own (`ray get-auth-token` on its head) in "
                f"~/.ray/auth_token, RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN"
            )
        raise ClusterError(
            f"the Ray cluster at {name} requires token authentication: "
            f"`export RAY_AUTH_MODE=token`, with the cluster's token "
            f"(`ray get-auth-token` on its head) in ~/.ray/auth_token, "
            f"RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN, and run again"
        )
    detail = f"no answer within {HANDSHAKE_SECONDS:.0f} s" if answer == "TimedOut" else answer
    raise ClusterError(
        f"something answers at {name}, but not as a Ray cluster's GCS ({detail}): "
        f"give the head's GCS port (the --port of `ray start --head`, 6379 by "
        f"default), not the dashboard's or Ray Client's"
    )


def _try_gcs(gcs: str) -> str:
    """What Ray's GCS client, in a child process, says to ``gcs``: "" if it connected."""
    env = {**os.environ, "RAY_py_gcs_connect_timeout_s": "2"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _HANDSHAKE, gcs],
            capture_output=True,
            text=True,
            timeout=HANDSHAKE_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "TimedOut"
    if done.returncode == 0:
        return ""
    said = done.stdout.strip()
    if said.startswith("RpcError") and "Timed out" in said:
        return "TimedOut"
    return said or (done.stderr.strip().splitlines() or ["the GCS client failed"])[-1]


def _enable_local_token() -> bool:
    """Present the local token from now on, as ``ray.init`` does for this machine's cluster:
    True if ``RAY_AUTH_MODE`` was unset and a token is there (the change is this process's)."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return False
    try:
        from ray._raylet import (  # type: ignore[attr-defined]  # compiled: no stubs
            AuthenticationTokenLoader,
            Config,
        )
    except ImportError:  # a Ray without token authentication (before 2.52)
        return False
    if not AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True):
        return False
    os.environ["RAY_AUTH_MODE"] = "token"
    Config.initialize("")  # Ray's cached configuration reads the mode again
    return True


def _default_token_auth() -> None:
    """Ray's own default for a new local Ray (token authentication, a token generated in
    ``~/.ray/auth_token`` if there is none), chosen here so that Ray does not warn about it on
    every run; ``RAY_AUTH_MODE`` set by the user is respected."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    try:
        from ray._raylet import Config  # type: ignore[attr-defined]  # compiled: no stubs
    except ImportError:  # a Ray without token authentication (before 2.52)
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    Config.initialize("")


def _nodes_not_seeing(ray: Any, folder: Path, nodes: list[dict[str, Any]]) -> list[str]:
    """The addresses of the nodes on which ``folder`` does not hold a marker written here."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".xinyong-shared-{uuid.uuid4().hex}"
    marker.write_text(marker.name)
    look = ray.remote(num_cpus=0)(_holds_marker)
    try:
        seen = ray.get(
            [
                look.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
                ).remote(str(marker))
                for node in nodes
            ],
            timeout=_SEE_SECONDS,
        )
    finally:
        marker.unlink(missing_ok=True)
    blind = [
        f"{node['NodeManagerAddress']} ({node['NodeID'][:8]})"
        for node, ok in zip(nodes, seen, strict=True)
        if not ok
    ]
    if blind and created:
        folder.rmdir()
    return blind


def _holds_marker(path: str) -> bool:
    """On a node: whether the marker file is there, with its own name in it."""
    marker = Path(path)
    try:
        return marker.read_text() == marker.name
    except OSError:
        return False
