"""Seeded fault schedules for runs (``benchmarks/faults.py`` starts this in a process of its
own, as Ray wants): a split run's worker killed at a random day, its checkpoint torn or damaged,
then ``--resume``; and ``simulate`` on a full disk.

    python benchmarks/fault_runs.py --split 5 --full-disk 5 --seed 1

- **Split runs.** A two-worker run of a small city with a checkpoint every few days has one
  of its workers killed on a day the seed draws; then, as the seed draws, the latest
  checkpoint is left as it is, cut short, garbled, deleted for one block, or joined by a stray
  temporary file; then the run is resumed. The resumed run must be bit-identical to the
  unbroken one (summary, daily series, ledger), or be refused in one line.
- **A full disk.** ``simulate`` into a small tmpfs (or under ``RLIMIT_FSIZE``): the run either
  fits, and is whole, or fails in one line naming the folder and the MiB to free, leaving no
  ``summary.json``.

Each schedule prints one line; the last line is a JSON summary ``faults.py`` reads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests")]

from helpers import consequence_city  # noqa: E402

import xinyong  # noqa: E402
from xinyong.engine.cluster import connect  # noqa: E402
from xinyong.engine.workers import WorkerError  # noqa: E402
from xinyong.records.run import RunError  # noqa: E402

SPLIT_CITIZENS, SPLIT_DAYS, WORKERS = 1500, 24, 2
NO_TMPFS = bool(os.environ.get("XINYONG_FAULTS_NO_TMPFS"))  # RLIMIT_FSIZE instead, as unprivileged
_references: dict[int, dict[str, Any]] = {}


def _one_line(exc: BaseException) -> str | None:
    """A violation if a refusal is not one line, or is not one of the refusals users get."""
    if not isinstance(exc, (RunError, WorkerError)):
        return f"{type(exc).__name__}, not a one-line refusal: {traceback.format_exc()[-1500:]}"
    if "\n" in str(exc):
        return f"a refusal of more than one line: {exc}"
    return None


def _result(run: Any) -> dict[str, Any]:
    """What must be bit-identical between a resumed run and the unbroken one."""
    order = "ORDER BY ALL"
    return {
        "summary": {k: v for k, v in run.summary.items() if k != "wall_seconds"},
        "daily": run.daily.to_dict("list"),
        "ledger": run.query(f"SELECT * FROM ledger {order}").to_dict("list"),
    }


def _reference(seed: int) -> dict[str, Any]:
    if seed not in _references:
        scenario = consequence_city(citizens=SPLIT_CITIZENS, days=SPLIT_DAYS)
        with xinyong.simulate(scenario, seed=seed, workers=WORKERS) as run:
            _references[seed] = _result(run)
    return _references[seed]


def split_schedule(seed: int, work: Path) -> tuple[list[str], str]:
    """A worker killed, a checkpoint perhaps damaged, a resume: bit-identical or refused."""
    import ray

    rng = random.Random(seed)
    run_seed, every = rng.choice([1, 2]), rng.choice([3, 4, 5])
    kill_day, victim = rng.randint(1, SPLIT_DAYS - 2), rng.randrange(WORKERS)
    damage = rng.choice(["none", "none", "truncate", "garble", "delete", "stray"])
    scenario = consequence_city(citizens=SPLIT_CITIZENS, days=SPLIT_DAYS)
    folder = work / "run"
    violations: list[str] = []
    told = f"kill block {victim} on day {kill_day}, checkpoint every {every}, damage {damage}"

    def kill(day: int) -> None:
        if day == kill_day:
            name = next(n for n in ray.util.list_named_actors() if n.endswith(f"-block-{victim}"))
            ray.kill(ray.get_actor(name))

    try:
        with xinyong.simulate(
            scenario,
            seed=run_seed,
            workers=WORKERS,
            out=folder,
            checkpoint_every=every,
            progress=kill,
        ) as run:  # the kill came too late: the run finished, and must be the unbroken one
            if _result(run) != _reference(run_seed):
                violations.append(
                    "a run whose worker was killed late differs from the unbroken run"
                )
            return violations, told + ": finished before the kill"
    except BaseException as exc:
        said = _one_line(exc)
        if said:
            return [said], told
    if (folder / "summary.json").exists():
        violations.append("a failed run left a summary.json")
    checkpoints = sorted((folder / "blocks").glob("day-*-block-*.pkl"), key=_day)
    if checkpoints and damage != "none":
        latest = [p for p in checkpoints if _day(p) == _day(checkpoints[-1])]
        target = rng.choice(latest)
        if damage == "truncate":
            size = target.stat().st_size
            with open(target, "r+b") as f:
                f.truncate(rng.randrange(size))
        elif damage == "garble":
            with open(target, "r+b") as f:
                f.seek(rng.randrange(target.stat().st_size))
                f.write(rng.randbytes(32))
        elif damage == "delete":
            target.unlink()
        else:
            target.with_name(target.name + ".tmp").write_bytes(rng.randbytes(1000))
        told += f" ({target.name})"
    try:
        with xinyong.simulate(
            scenario, seed=run_seed, workers=WORKERS, out=folder, resume=True
        ) as run:
            if _result(run) != _reference(run_seed):
                violations.append(f"the resumed run differs from the unbroken one ({told})")
            return violations, told + ": resumed, bit-identical"
    except BaseException as exc:
        said = _one_line(exc)
        if said:
            violations.append(said)
        if (folder / "summary.json").exists():
            violations.append("a refused resume left a summary.json")
        return violations, told + f": refused ({str(exc)[:120]})"


def _day(path: Path) -> int:
    return int(path.name.split("-")[1])


def full_disk_schedule(seed: int, work: Path) -> tuple[list[str], str]:
    """``simulate`` on a disk too small: whole, or one line naming the folder and the room."""
    rng = random.Random(seed)
    name = rng.choice(["reference", "rongcheng"])
    citizens, days = rng.choice([2000, 5000, 20000]), rng.choice([10, 30])
    blocks = rng.choice([1, 2])
    room = rng.choice([1, 2, 3, 4, 8]) * 2**20
    disk = work / "disk"
    disk.mkdir()
    mounted = not NO_TMPFS and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={room}", "tmpfs", str(disk)], capture_output=True
        ).returncode
        == 0
    )
    out = disk / "run"
    how = "tmpfs" if mounted else "RLIMIT_FSIZE"
    told = f"{name}, {citizens:,} x {days}, {blocks} block(s), {room >> 20} MiB ({how})"
    read, write = os.pipe()
    pid = os.fork()  # the limit, where there is no tmpfs, for this run's process alone
    if pid == 0:
        os.close(read)
        code = 0
        try:
            if not mounted:
                resource.setrlimit(resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))
            xinyong.simulate(name, citizens=citizens, days=days, blocks=blocks, out=out).close()
            said = "fitted"
        except BaseException as exc:
            said = _one_line(exc) or f"refused: {exc}"
            code = 0 if _one_line(exc) is None else 1
        with os.fdopen(write, "w") as f:
            f.write(json.dumps({"said": said, "code": code}))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        answer = json.loads(f.read() or '{"said": "the run died", "code": 1}')
    os.waitpid(pid, 0)
    violations = []
    said = answer["said"]
    if answer["code"]:
        violations.append(said)
    elif said == "fitted":
        if not (out / "summary.json").exists():
            violations.append("a run that fitted has no summary.json")
    else:
        if (out / "summary.json").exists():
            violations.append("a run refused on a full disk left a summary.json")
        if str(out) not in said or "MiB" not in said:
            violations.append(f"a full disk not said with its folder and room: {said}")
    if mounted:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
    return violations, f"{told}: {said[:160]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=int, default=3)
    parser.add_argument("--full-disk", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    totals: dict[str, Any] = {"split": 0, "full_disk": 0, "failed": [], "violations": 0}
    # The full disk first: its runs are forked, which a process running Ray must not do.
    kinds = [
        ("full_disk", full_disk_schedule, args.full_disk),
        ("split", split_schedule, args.split),
    ]
    for kind, schedule, count in kinds:
        if kind == "split" and count:
            import ray

            connect(ray, None)  # a Ray of this process's own, as a run starts one
        for i in range(count):
            seed = args.seed + i
            with tempfile.TemporaryDirectory(
                prefix=f"fault-runs-{seed}-", ignore_cleanup_errors=True
            ) as tmp:
                began = time.perf_counter()
                try:
                    violations, told = schedule(seed, Path(tmp))
                except BaseException as exc:  # a harness failure is a failure too
                    violations, told = [f"harness: {traceback.format_exc()[-1500:]}"], str(exc)
            totals[kind] += 1
            status = "ok" if not violations else "FAILED"
            print(
                f"{kind} schedule seed {seed}: {status} ({time.perf_counter() - began:.1f} s; "
                f"{told})",
                flush=True,
            )
            for v in violations[:3]:
                print(f"    {v}", flush=True)
            if violations:
                totals["failed"].append(f"{kind}:{seed}")
                totals["violations"] += len(violations)
    print(json.dumps(totals), flush=True)
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
