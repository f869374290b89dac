"""Seeded faults for runs (``benchmarks/fault_runs.py``): a split run's worker killed on a
seeded day and its latest checkpoint perhaps damaged, then ``--resume`` (bit-identical to the
unbroken run, or refused in one line); and ``simulate`` on a full disk (whole, or one line
naming the folder and the room to make, with no ``summary.json``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).parents[1] / "benchmarks" / "fault_runs.py"


def test_killed_workers_damaged_checkpoints_and_full_disks() -> None:
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--split", "3", "--full-disk", "4", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    totals = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and totals["failed"] == [], done.stdout[-6000:]
    assert (totals["split"], totals["full_disk"]) == (3, 4)
    assert "resumed, bit-identical" in done.stdout  # seed 3's kills come after a checkpoint
    assert "refused: the disk holding" in done.stdout  # and one of its disks is too small
