"""How much memory a city's state takes: every NumPy array it holds, counted once.

    >>> import xinyong
    >>> from xinyong.engine.city import City
    >>> city = City(xinyong.load_scenario("reference").with_sizes(citizens=1000, days=30), 0, None)
    >>> state_bytes(city) > 0
    True

This counts the arrays' buffers only, not the Python objects around them nor what the
allocator or the libraries keep: ``benchmarks/memory_slope.py`` measures the resident memory a
run actually takes per citizen, beside this count.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["give_back", "state_bytes"]

_MISSING = object()


def _slot_names(cls: type) -> Iterator[str]:
    """The attribute names the ``__slots__`` of ``cls`` and its bases declare (private names
    mangled as Python stores them; ``__dict__`` and ``__weakref__`` left out)."""
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            yield name


def _attributes(obj: Any) -> list[Any]:
    """The values an object holds: its ``__dict__`` and every slot it has filled."""
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    for name in _slot_names(type(obj)):
        value = getattr(obj, name, _MISSING)
        if value is not _MISSING:
            values.append(value)
    return values


def state_bytes(root: Any) -> int:
    """Bytes of every NumPy array reachable from ``root``, each buffer counted once.

    Arrays are found through attributes (an object's ``__dict__`` and the ``__slots__`` of every
    class in its MRO, so slotted dataclasses count too), dicts (their values), lists, tuples and
    sets. Views count as the array they view, so a buffer shared by several views counts once.

    Args:
        root: the object to walk, e.g. a ``City``.

    Returns:
        The total ``nbytes`` of the distinct base arrays reached.
    """
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
        elif not isinstance(obj, type):
            stack.extend(_attributes(obj))
    return sum(buffers.values())


def give_back() -> None:
    """Return the free memory the allocator holds to the system, where the C library can
    (glibc's ``malloc_trim``; elsewhere nothing happens).

    glibc keeps what a thread frees in that thread's own arena, where the main thread never
    reuses it: a city's set-up, which makes half its first draws on the second core, would
    otherwise keep their temporaries (15 MiB of the reference city's peak).
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()
