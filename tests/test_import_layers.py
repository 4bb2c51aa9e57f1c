"""The library's imports go one way: solvers <- search <- discovery, and no module imports
itself back through others.

Every ``import`` statement is read from the source (function-level ones included; those under
``if TYPE_CHECKING:`` are annotations, not imports, and are skipped), so a cycle hidden behind
a function-level import fails here even though Python would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"solvers": 0, "search": 1, "discovery": 2}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in LAYERS:
        for path in (ROOT / pkg).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # drop annotation-only imports first
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _graph() -> nx.DiGraph:
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    g = nx.DiGraph()
    for m, path in mods.items():
        g.add_node(m)
        for name in _imports(path):
            target = resolve(name)
            if target and target != m and not m.startswith(target + "."):
                g.add_edge(m, target)
    return g


def test_the_walk_sees_function_level_imports():
    g = _graph()
    assert len(g) > 50
    # discovery/store.py imports the catalogue inside its methods
    assert g.has_edge("discovery.store", "discovery.catalogue")


def test_no_import_runs_up_the_layers():
    up = [(a, b) for a, b in _graph().edges
          if LAYERS[b.split(".")[0]] > LAYERS[a.split(".")[0]]]
    assert up == []


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert cycles == []
