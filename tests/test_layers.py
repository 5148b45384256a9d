"""The package's layers: no module-level import circle, and no module importing a higher layer.

Layers, lower never importing higher at module level (imports inside functions are lazy and
not counted): base utilities < data (``variants``, ``profiles``, ``measure``) < core
(``instance``, ``evaluate``, ``heuristics``, ``formulations``, ``solvers``, ...) <
``longterm`` < ``rl`` < the applications (``cli``, ``demo``, ``bench``, the package itself).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Package name -> source folder (``pyproject.toml`` maps the two sub-packages).
SOURCES = {
    "mecopt": ROOT / "mecopt",
    "mecopt.formulations": ROOT / "formulations",
    "mecopt.solvers": ROOT / "solvers",
}
BASE = {
    "mecopt.errors",
    "mecopt.registry",
    "mecopt.jsonio",
    "mecopt._version",
    "mecopt.uncertainty",
}
LAYERS = {
    "datasets": 0,
    "variants": 1,
    "profiles": 1,
    "measure": 1,
    "longterm": 3,
    "rl": 4,
    "cli": 5,
    "demo": 5,
    "bench": 5,
    "__main__": 5,
}


def _modules() -> dict[str, Path]:
    mods = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if package == "mecopt" and parts[0] in ("formulations", "solvers"):
                continue
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join([package, *parts])] = path
    return mods


MODULES = _modules()


def _layer(name: str) -> int:
    if name in BASE:
        return 0
    if name == "mecopt":
        return 5
    return LAYERS.get(name.split(".")[1], 2)


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _top_level_imports(name: str) -> set[str]:
    """Modules of mecopt that ``name`` imports when it is imported (not in functions, not
    under ``TYPE_CHECKING``)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            targets = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package
                    for _ in range(child.level - 1):
                        up = up.rpartition(".")[0]
                    base = f"{up}.{base}" if base else up
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                    for a in child.names
                ]
            for target in targets:
                found = _resolve(target)
                if found is not None and found != name:
                    out.add(found)
            visit(child)

    visit(ast.parse(path.read_text()))
    return out


GRAPH = {name: _top_level_imports(name) for name in MODULES}


def test_the_graph_is_read():
    assert len(MODULES) > 100
    assert "mecopt.instance" in GRAPH["mecopt.evaluate"]
    assert "mecopt.longterm.simulator" in GRAPH["mecopt.longterm.run"]


def _cycle() -> list[str] | None:
    """One import circle of the graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            # A package's __init__ importing its own modules is how it re-exports them.
            if node.startswith(nxt + ".") and MODULES[nxt].name == "__init__.py":
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_no_import_circle():
    assert _cycle() is None, " -> ".join(_cycle() or [])


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _layer(n) < 5))
def test_no_module_imports_a_higher_layer(name):
    higher = sorted(t for t in GRAPH[name] if _layer(t) > _layer(name))
    assert not higher, f"{name} (layer {_layer(name)}) imports {higher}"
