"""The seeded fault harness in the suite (``benchmarks/faults.py``): 50 schedules of the live
city's server, killed, starved of disk, slowed and crowded, with every invariant checked after
each; every seed the harness ever recorded as failing (``tests/hostile/schedules/``); and a bug
planted on purpose, which the harness must catch, name by its seed, and catch again from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
HARNESS = ROOT / "benchmarks" / "faults.py"


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HARNESS), *args], capture_output=True, text=True, timeout=3600
    )


def test_fifty_seeded_schedules_break_no_invariant() -> None:
    done = _harness("--schedules", "50", "--seed", "2026", "--quick")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert re.search(r"^50 schedules in \d+ s: 0 failed \(0 violations\)", done.stdout, re.M)
    assert ", 0 lost, 0 stored twice" in done.stdout


def test_every_recorded_seed_runs_clean_again() -> None:
    recorded = sorted((ROOT / "tests" / "hostile" / "schedules").glob("seed-*.json"))
    assert recorded, "the corpus keeps the seeds the harness found failing"
    done = _harness("--regressions")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert f"{len(recorded)} schedules in" in done.stdout


def test_a_planted_bug_is_caught_by_its_seed_and_again_from_it() -> None:
    """The first events stored lose one, acknowledged all the same: the harness reports the
    lost event with the seed and the command that runs it again, which fails the same way."""
    caught = _harness("--seeds", "7", "--quick", "--plant", "lose-event")
    assert caught.returncode == 1
    assert "schedule seed 7: FAILED" in caught.stdout and "is not stored" in caught.stdout
    again = re.search(r"again: python benchmarks/faults.py (.*)", caught.stdout)
    assert again is not None and "--seeds 7 --quick --plant lose-event" in again.group(1)
    rerun = _harness(*again.group(1).replace("--verbose", "").split())
    assert rerun.returncode == 1 and "is not stored" in rerun.stdout
