"""The house's layout holds: no import cycles, and every import points down a floor.

Imports are read from the source (every ``import`` a module runs, at its top or inside a
function; those under ``if TYPE_CHECKING:`` are for type checkers and do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import xinyong

ROOT = Path(xinyong.__file__).parent

#: The floors of the house, lowest first, and the rooms on each (README, "How it works"): a
#: module imports only from its own room and from rooms on lower floors. The ground holds the
#: primitives and the published record (data files and their reader); the scenario is data
#: the model is built from; the engine assembles and drives the model; the records keep what a
#: run leaves (and drive a whole run through the engine); the studies (experiments,
#: validation) and the live service run cities through the records; the views show all of it,
#: and register how the lower floors' objects show (:mod:`xinyong.primitives.shown`). The
#: package's ``__init__`` is the roof: it gathers the entry points from any floor.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("primitives", "sources"),
    ("scenario",),
    ("model",),
    ("engine",),
    ("records",),
    ("studies", "service"),
    ("views",),
)
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    class Reader(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (
                getattr(test, "id", None) == "TYPE_CHECKING"
                or getattr(test, "attr", None) == "TYPE_CHECKING"
            ):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)

    Reader().visit(ast.parse(path.read_text()))
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_a_cycle_is_found_where_there_is_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def _wrong_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a room on its own floor or above, but its own room."""
    wrong = []
    for name, imports in graph.items():
        if name == "xinyong":
            continue  # the roof
        room = name.split(".")[1]
        for target in imports:
            other = target.split(".")[1] if target.count(".") else ""
            if other and other != room and FLOOR[other] >= FLOOR[room]:
                wrong.append(f"{name} imports {target}")
    return sorted(wrong)


def test_every_room_is_on_a_floor() -> None:
    rooms = {name.split(".")[1] for name in _modules() if name.count(".")}
    assert rooms == set(FLOOR)


def test_every_import_points_down() -> None:
    assert _wrong_imports(_graph()) == []


def test_an_import_up_or_across_a_floor_is_found() -> None:
    graph = {
        "xinyong.model.gates": {"xinyong.views.notebook"},
        "xinyong.records.tally": {"xinyong.studies.chilling"},
        "xinyong.service.api": {"xinyong.studies.overrides", "xinyong.records.run"},
        "xinyong.views.cli": {"xinyong.service.api"},
    }
    assert _wrong_imports(graph) == [
        "xinyong.model.gates imports xinyong.views.notebook",
        "xinyong.records.tally imports xinyong.studies.chilling",
        "xinyong.service.api imports xinyong.studies.overrides",
    ]


def test_the_views_register_what_the_lower_floors_show() -> None:
    """A run's and an explanation's HTML, a run's and an experiment's plots are the views',
    registered for the classes below them (issue 25: ``run.plot(NAME)``, ``experiment.plot()``
    without the records or the studies importing the views)."""
    import xinyong
    from xinyong.primitives.shown import _html, _plots

    assert _html[xinyong.Run].__module__ == "xinyong.views.notebook"
    assert {kind.__name__ for kind in _plots} == {"Run", "Experiment", "Validation", "Fit"}
    assert all(f.__module__.startswith("xinyong.views") for f in _plots.values())
