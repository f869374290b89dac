"""How much memory a city's state takes: every NumPy array it holds, counted once.

    >>> import xinyong
    >>> from xinyong.city import City
    >>> city = City(xinyong.load_scenario("reference").with_sizes(citizens=1000, days=30), 0, None)
    >>> state_bytes(city) > 0
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["state_bytes"]


def state_bytes(root: Any) -> int:
    """Bytes of every NumPy array reachable from ``root`` (through attributes, dicts, lists and
    tuples), each buffer counted once however many views share it."""
    seen: set[int] = set()
    buffers: dict[int, int] = {}
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            base = obj
            while isinstance(base.base, np.ndarray):
                base = base.base
            buffers[id(base)] = base.nbytes
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack.extend(vars(obj).values())
    return sum(buffers.values())
