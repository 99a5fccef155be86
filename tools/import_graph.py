"""course_lib's import graph in four numbers: modules, wings, cycles, private imports across files.

    python tools/import_graph.py [REPO]     # REPO: a checkout (default: this one)

The architecture (CONTRIBUTING.md, "Layout") is enforced by ``lint-imports`` and
tests/basics/test_architecture.py; this script prints the state so that a change can show it
before and after (issue 19's closing note did).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (Tarjan's algorithm), size > 1 only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def private_imports(package: Path) -> list[str]:
    """``from x import _y`` and imports of a ``_private`` module, anywhere in the package."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if module == "__future__":
                    continue
                names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if any(part.startswith("_") for part in module.split(".")):
                    names.append(f"(module {module})")
                for name in names:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {'.' * node.level}{module} import {name}")
    return found


def main() -> None:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("course_lib")
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}
    packages = sorted({m for m in modules if (ROOT / m.replace(".", "/") / "__init__.py").exists()} - {"course_lib"})
    cycles = strongly_connected(edges)
    private = private_imports(ROOT / "course_lib")
    print(f"modules: {len(modules)} ({sum(len(e) for e in edges.values())} imports between them)")
    print(f"sub-packages (wings and rooms): {len(packages)}: {', '.join(p.split('.', 1)[1] for p in packages)}")
    print(f"import cycles: {len(cycles)}")
    for group in cycles:
        print("   ", " <-> ".join(group))
    print(f"private names or modules imported from another file: {len(private)}")
    for line in private:
        print("   ", line)


if __name__ == "__main__":
    main()
