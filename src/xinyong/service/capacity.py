"""Will a new live city fit: the memory it would need, measured on a small city of the same
scenario, against the memory this process can still take.

A city too large for the machine is refused before it is built, with both figures, rather than
half-built until the machine runs out (which once took 107 s and left every later city
failing). The estimate is deliberately rough and on the safe side:

    needed = citizens × (state bytes a citizen of a PROBE_CITIZENS-citizen city, twin included)
             × HEADROOM + FIXED_BYTES

The state bytes are every NumPy buffer the small city holds on day 0
(:func:`xinyong.engine.memory.state_bytes`); ``HEADROOM`` covers what the measured peaks hold
beyond them (a day's working arrays, the state's growth through a year, the allocator's slack:
the README's memory table has peaks 1.4 to 2.7 times the largest state) and the gates' copy;
``FIXED_BYTES`` a city's store and caches. Both are assumptions, checked against the measured
peaks there.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from xinyong.engine.city import City
from xinyong.engine.memory import state_bytes
from xinyong.engine.twin import keep_twin
from xinyong.scenario import Scenario

__all__ = ["FIXED_BYTES", "HEADROOM", "PROBE_CITIZENS", "free_memory", "needed_memory"]

PROBE_CITIZENS = 2_000  # the small city measured (well under a second to build)
HEADROOM = 3.0  # peak resident memory / state bytes, on the safe side (assumption)
FIXED_BYTES = 64 * 2**20  # a new city's store, caches and gates' copy beyond its arrays
_UNLIMITED = 2**62


def needed_memory(scenario: Scenario, seed: int = 0) -> int:
    """Bytes a live city of ``scenario`` would take, from a small one built and measured."""
    size = min(scenario.citizens, PROBE_CITIZENS)
    probe = City(scenario.with_sizes(citizens=size), seed, None, threads=False)
    keep_twin(probe)
    per_citizen = state_bytes(probe) / size
    return int(per_citizen * scenario.citizens * HEADROOM) + FIXED_BYTES


def free_memory() -> int:
    """Bytes this process can still take: the least of the machine's available memory, what
    its control group still allows, and what its address-space limit (``ulimit -v``) leaves."""
    found = [_meminfo("MemAvailable")]
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit, usage = _number(limit_file), _number(usage_file)
        if limit is not None and usage is not None and limit < _UNLIMITED:
            found.append(limit - usage)
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        found.append(soft - _status("VmSize"))
    return max(0, min(found))


def _number(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _meminfo(key: str) -> int:
    """A ``/proc/meminfo`` figure in bytes (everything, where there is none)."""
    return _field("/proc/meminfo", key)


def _status(key: str) -> int:
    """A ``/proc/self/status`` figure in bytes (0 where there is none)."""
    return _field(f"/proc/{os.getpid()}/status", key, 0)


def _field(path: str, key: str, missing: int = _UNLIMITED) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name == key:
                return int(value.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return missing
