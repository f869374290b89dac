"""A real Ray cluster of two nodes on this machine, started with ``ray start`` and joined the
way its users join one: ``xinyong simulate --ray ...`` in a subprocess.

Every Ray process here runs with its own ``RAY_TMPDIR`` (so no other Ray on the machine sees
this cluster's ``ray_current_cluster`` file, nor this one theirs) and token authentication
with its own token file. Teardown kills what the test started: each node's process group, then
any process left carrying this cluster's ``RAY_TMPDIR`` (its workers, which Ray puts in
process groups of their own).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import _free_port

import xinyong

RAY = str(Path(sys.executable).with_name("ray"))
XINYONG = str(Path(sys.executable).with_name("xinyong"))
SCENARIO = ("--scenario", "nation", "--citizens", "4000", "--seed", "9")
# Long enough that a node killed after the first checkpoint dies before the run ends.
DAYS = 240
ORDER = "ORDER BY day, operator, subject, actor, behaviour"
# A dead node is noticed within about 2 s instead of Ray's default 15 s.
HEALTH = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "3",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_initial_delay_ms": "0",
}
_NODES_READY = """
import sys, time
from ray._raylet import GcsClient
gcs, deadline = GcsClient(address=sys.argv[1]), time.monotonic() + 60
while sum(1 for node in gcs.get_all_node_info().values()
          if node.state == 0 and node.resources_total.get("CPU")) < int(sys.argv[2]):
    assert time.monotonic() < deadline, "the nodes did not all join in 60 s"
    time.sleep(0.1)
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Ray setting (an earlier ``ray.init`` in this
    process may have set ``RAY_AUTH_MODE``), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return {**env, "COLUMNS": "200", "RAY_USAGE_STATS_ENABLED": "0", **extra}


def _proc(pid: int) -> tuple[int, int, str]:
    """(parent pid, process group, command line) of a process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return int(fields[1]), int(fields[2]), cmdline


def _processes() -> Iterator[tuple[int, int, int, str]]:
    """(pid, parent pid, process group, command line) of every process still there."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield (int(entry.name), *_proc(int(entry.name)))
            except (OSError, ValueError, IndexError):
                continue


@dataclass
class Cluster:
    """A head and a second node on this machine, each a ``ray start --block`` process group."""

    root: Path
    port: int
    nodes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of this cluster's nodes (token authentication on)."""
        return _clean_env(
            RAY_TMPDIR=str(self.root),
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN_PATH=str(self.root / "token"),
            **HEALTH,
            **extra,
        )

    def user(self, **extra: str) -> dict[str, str]:
        """A user's shell on this machine: the cluster's token in a file, RAY_AUTH_MODE
        unset, as after `ray get-auth-token` (HOME is empty: no ~/.ray of the machine's)."""
        return _clean_env(
            RAY_TMPDIR=str(self.root),
            HOME=str(self.root / "home"),
            RAY_AUTH_TOKEN_PATH=str(self.root / "token"),
            **extra,
        )

    def launch(self, name: str) -> None:
        """Start the head, or the second node (``ray start --block``, a group of its own)."""
        where = (
            ["--head", "--port", str(self.port), "--include-dashboard", "false"]
            if name == "head"
            else ["--address", self.address]
        )
        log = (self.root / f"{name}.log").open("ab")
        self.nodes[name] = subprocess.Popen(
            [
                RAY,
                "start",
                *where,
                "--node-ip-address",
                "127.0.0.1",
                "--num-cpus",
                "1",
                "--disable-usage-stats",
                "--block",
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until(self, name: str, up: Callable[[], bool]) -> None:
        """Wait until ``up()``, failing with the node's log if it ended or took 60 s."""
        deadline = time.monotonic() + 60
        while not up():
            assert self.nodes[name].poll() is None, (self.root / f"{name}.log").read_text()
            assert time.monotonic() < deadline, f"ray start ({name}) took over 60 s"
            time.sleep(0.1)

    def started(self, name: str) -> bool:
        return b"Ray runtime started" in (self.root / f"{name}.log").read_bytes()

    def gcs_listens(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_for_nodes(self, count: int) -> None:
        """Wait until ``count`` nodes are alive and have told the cluster their CPUs (asking
        the GCS, as a driver's ``ray.nodes()`` does)."""
        subprocess.run(
            [sys.executable, "-c", _NODES_READY, self.address, str(count)],
            env=self.env(),
            check=True,
            timeout=90,
            capture_output=True,
        )

    def raylet(self, name: str) -> int:
        """The pid of a node's raylet."""
        group = self.nodes[name].pid
        return next(
            pid for pid, _, pgid, cmd in _processes() if pgid == group and "/raylet " in cmd
        )

    def stop(self) -> None:
        """Kill every process this cluster started: the nodes' groups, then their workers."""
        for node in self.nodes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait(timeout=30)
        kill_carrying(self.root)


def kill_carrying(root: Path) -> None:
    """Kill every process started with ``RAY_TMPDIR=root`` (Ray gives each worker a process
    group of its own, so a node's group does not hold them)."""
    marker = f"RAY_TMPDIR={root}".encode()
    for pid, *_ in list(_processes()):
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                os.kill(pid, signal.SIGKILL)
        except OSError:
            continue


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Short: Ray's socket paths under the temp folder must fit in 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="xyc-", dir="/tmp"))
    (root / "token").write_text(secrets.token_hex(32))
    (root / "home").mkdir()
    cluster = Cluster(root, _free_port())
    try:
        cluster.launch("head")
        cluster.wait_until("head", cluster.gcs_listens)  # the second node can join now
        cluster.launch("second")
        for name in ("head", "second"):
            cluster.wait_until(name, lambda name=name: cluster.started(name))
        cluster.wait_for_nodes(2)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def xy(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [XINYONG, *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed: ``error: ...``, no traceback, no log."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def same_run(folder: Path, days: int) -> None:
    """The stored run in ``folder`` is the single-process run of the same city."""
    scenario = xinyong.load_scenario("nation").with_sizes(citizens=4000, days=days)
    with xinyong.open_run(folder) as split, xinyong.simulate(scenario, seed=9) as whole:
        drop = {"wall_seconds"}
        assert {k: v for k, v in split.summary.items() if k not in drop} == {
            k: v for k, v in whole.summary.items() if k not in drop
        }
        assert split.daily.equals(whole.daily)
        assert split.query(f"SELECT * FROM ledger {ORDER}").equals(
            whole.query(f"SELECT * FROM ledger {ORDER}")
        )


def test_a_local_out_on_two_nodes_is_refused_before_any_work(
    cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    line = one_error_line(
        xy(
            "simulate",
            *SCENARIO,
            "--days",
            "5",
            "--workers",
            "2",
            "--ray",
            cluster.address,
            "--out",
            str(out),
            env=cluster.user(),
        )
    )
    assert f"--out '{out}' may be a folder of this machine only" in line
    assert "2 nodes" in line and "--shared-out" in line
    assert not out.exists()  # nothing written: the same command, corrected, works


@pytest.mark.parametrize("auth", ["none", "wrong"])
def test_a_cluster_refusing_this_machine_says_so_at_once(
    cluster: Cluster, auth: str, tmp_path: Path
) -> None:
    env = _clean_env(RAY_TMPDIR=str(cluster.root), HOME=str(tmp_path))  # no token at all
    if auth == "wrong":
        env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    started = time.monotonic()
    line = one_error_line(
        xy(
            "simulate",
            *SCENARIO,
            "--days",
            "5",
            "--workers",
            "2",
            "--ray",
            cluster.address,
            "--out",
            str(tmp_path / "run"),
            "--shared-out",
            env=env,
        )
    )
    assert time.monotonic() - started < 20  # not Ray's minute of retries
    if auth == "none":
        assert "requires token authentication: `export RAY_AUTH_MODE=token`" in line
    else:
        assert "refused this machine's token" in line
    assert "ray get-auth-token" in line
    assert not (tmp_path / "run").exists()


def block_hosts(raylets: set[int]) -> set[int]:
    """Which of ``raylets`` are the parents of processes that hold a block of a split run now
    (a Ray of another test, still ending, has raylets of its own)."""
    return {
        ppid for _, ppid, _, cmd in _processes() if cmd.startswith("ray::") and "BlockRun" in cmd
    } & raylets


def test_a_split_city_on_two_nodes_one_killed_and_back_is_the_single_process_run(
    cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    command = [
        "simulate",
        *SCENARIO,
        "--days",
        str(DAYS),
        "--workers",
        "2",
        "--ray",
        "auto",
        "--out",
        str(out),
        "--shared-out",
        "--checkpoint-every",
        "5",
    ]
    raylets = {cluster.raylet("head"), cluster.raylet("second")}
    hosts: set[int] = set()
    run = subprocess.Popen(
        [XINYONG, *command],
        env=cluster.user(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:  # kill the second node's raylet once the first checkpoint is complete
        while not (out / "blocks" / "LATEST").exists():
            assert run.poll() is None, run.stderr.read() if run.stderr else ""
            hosts |= block_hosts(raylets)
            time.sleep(0.02)
        hosts |= block_hosts(raylets)
        os.kill(cluster.raylet("second"), signal.SIGKILL)
        stderr = run.communicate(timeout=60)[1]
    finally:
        if run.poll() is None:
            run.kill()
    assert hosts == raylets  # a block on each node
    assert run.returncode == 1
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: a worker of the split run failed on day "), stderr
    assert 5 < int(last.split("failed on day ")[1].split(":")[0]) <= DAYS
    assert "the same command with --resume" in last
    assert "Traceback" not in stderr and not (out / "summary.json").exists()

    cluster.nodes["second"].wait(timeout=30)  # `ray start --block` ends with its raylet
    cluster.launch("second")  # the node is back
    cluster.wait_until("second", lambda: cluster.started("second"))
    cluster.wait_for_nodes(2)
    resumed = subprocess.Popen(
        [XINYONG, *command, "--resume"],
        env=cluster.user(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    hosts, raylets = set(), {cluster.raylet("head"), cluster.raylet("second")}  # a new one
    while resumed.poll() is None:
        hosts |= block_hosts(raylets)
        time.sleep(0.02)
    assert resumed.returncode == 0, resumed.stderr.read() if resumed.stderr else ""
    assert hosts == raylets
    same_run(out, DAYS)  # the days before the kill, and after it, across both nodes


def test_a_stopped_clusters_address_is_never_joined_by_a_run_of_its_own() -> None:
    root = Path(tempfile.mkdtemp(prefix="xys-", dir="/tmp"))
    env = _clean_env(RAY_TMPDIR=str(root), HOME=str(root))
    try:
        with socket.socket() as held:  # bound, never listening: a connection is refused
            held.bind(("0.0.0.0", 0))
            port = held.getsockname()[1]
            started = time.monotonic()
            line = one_error_line(
                xy(
                    "simulate",
                    "--citizens",
                    "500",
                    "--days",
                    "5",
                    "--workers",
                    "1",
                    "--ray",
                    f"127.0.0.1:{port}",
                    "--out",
                    str(root / "a"),
                    env=env,
                )
            )
            assert time.monotonic() - started < 20
            assert f"no Ray cluster at 127.0.0.1:{port}: the connection was refused" in line
            assert f"`ray start --head --port {port}`" in line
            # What a stopped `ray start` leaves behind: its address, with nothing listening.
            (root / "ray").mkdir()
            (root / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{port}")
            own = xy(
                "simulate",
                "--citizens",
                "500",
                "--days",
                "5",
                "--workers",
                "1",
                "--out",
                str(root / "b"),
                env=env,
                timeout=90,
            )
        assert own.returncode == 0, own.stderr
        assert (root / "b" / "summary.json").exists()
    finally:
        kill_carrying(root)  # the run's own Ray, should it outlive the run
        shutil.rmtree(root, ignore_errors=True)


def test_an_object_store_uri_is_refused_not_taken_for_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(xinyong.RunError, match=r"'s3://bucket/run' is a URI.*not supported yet"):
        xinyong.simulate("reference", citizens=100, days=2, out="s3://bucket/run")
    assert not any(tmp_path.iterdir())  # no folder 's3:' made here


class FakeRay:
    """Just enough of the ray module for dealing blocks and looking for the output folder:
    ``nodes()`` as given, and remote calls run here, where a node in ``blind`` looks for the
    marker under a folder that does not exist (as a node without the shared mount would)."""

    def __init__(self, nodes: list[dict[str, object]], blind: set[str] = frozenset()) -> None:
        self._nodes, self.blind = nodes, blind

    def nodes(self) -> list[dict[str, object]]:
        return self._nodes

    def remote(self, **_: object) -> Callable[[Callable[[str], bool]], FakeRay.Task]:
        return lambda fn: FakeRay.Task(fn, self.blind)

    @staticmethod
    def get(results: list[bool], timeout: float) -> list[bool]:
        return results

    @dataclass
    class Task:
        fn: Callable[[str], bool]
        blind: set[str]
        node: str = ""

        def options(self, scheduling_strategy: object) -> FakeRay.Task:
            node = scheduling_strategy.node_id  # type: ignore[attr-defined]
            return FakeRay.Task(self.fn, self.blind, node)

        def remote(self, path: str) -> bool:
            return self.fn("/nonexistent" + path if self.node in self.blind else path)


def node(name: str, cpus: int, alive: bool = True) -> dict[str, object]:
    """A node as ``ray.nodes()`` describes it; ``name`` a hex digit, its id that repeated."""
    return {
        "NodeID": name * 56,
        "Alive": alive,
        "NodeManagerAddress": f"10.0.0.{ord(name)}",
        "Resources": {"CPU": float(cpus)} if cpus else {},
    }


def test_blocks_are_dealt_to_the_alive_nodes_in_turn() -> None:
    from xinyong.engine.cluster import deal

    ray = FakeRay([node("a", 2), node("b", 1), node("c", 0), node("d", 4, alive=False)])
    assert [s.node_id[0] for s in deal(ray, 5)] == ["a", "b", "a", "a", "b"]  # c: no CPU
    assert all(not s.soft for s in deal(ray, 2))  # binding: not all beside the driver


def test_the_output_folder_must_be_declared_shared_and_seen_by_every_node(tmp_path: Path) -> None:
    from xinyong.engine.cluster import ClusterError, check_output

    one = FakeRay([node("a", 1), node("b", 1, alive=False)])
    check_output(one, None, shared=False)  # one node: any output will do
    two = FakeRay([node("a", 1), node("b", 1)])
    with pytest.raises(ClusterError, match=r"2 nodes.*--out DIR.*--shared-out"):
        check_output(two, None, shared=False)
    with pytest.raises(ClusterError, match="may be a folder of this machine only"):
        check_output(two, tmp_path / "run", shared=False)
    check_output(two, tmp_path / "run", shared=True)  # both see it
    assert [p.name for p in (tmp_path / "run").iterdir()] == []  # the marker is gone
    blind = FakeRay([node("a", 1), node("b", 1)], blind={"b" * 56})
    with pytest.raises(
        ClusterError,
        match=r"not seen by 1 of the cluster's 2 nodes "
        r"\(10\.0\.0\.98 \(bbbbbbbb\)\)",
    ):
        check_output(blind, tmp_path / "new", shared=True)
    assert not (tmp_path / "new").exists()  # made for the look, removed on refusal
