"""The house's layout holds: no import cycles, and the lower layers do not import the upper.

Imports are read from the source (every ``import`` a module runs, at its top or inside a
function; those under ``if TYPE_CHECKING:`` are for type checkers and do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import xinyong

ROOT = Path(xinyong.__file__).parent

# What each layer may not import at run time.
FORBIDDEN = {
    "primitives": (
        "model",
        "engine",
        "records",
        "scenario",
        "studies",
        "service",
        "views",
        "sources",
    ),
    "engine": ("views", "service", "studies"),
    "model": ("views", "service", "studies", "records"),
    "records": ("views", "service"),
    "scenario": ("engine", "model.behaviour", "records", "service", "studies", "views"),
}


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


def test_lower_layers_do_not_import_upper_ones() -> None:
    wrong = []
    for name, imports in _graph().items():
        layer = name.split(".")[1] if name.count(".") else ""
        for target in imports:
            inside = target.removeprefix("xinyong.")
            if any(inside == f or inside.startswith(f + ".") for f in FORBIDDEN.get(layer, ())):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_the_views_register_what_the_lower_floors_show() -> None:
    """A run's HTML, its plots, an explanation's, a decision's and the progress bar are the
    views', found by name in the ground floor's registry (issue 25: the model and the
    records never import the views)."""
    import xinyong  # noqa: F401  (registers them)
    from xinyong.primitives.display import view

    for name in (
        "run_html",
        "run_figures",
        "explanation_html",
        "decision_html",
        "experiment_figures",
        "days_bar",
    ):
        assert view(name).__module__.startswith("xinyong.views."), name
