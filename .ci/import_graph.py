"""Import floors and circles of chargeplan's modules (run: .venv/bin/python .ci/import_graph.py).

Counts every import between the package's modules, at module level, inside functions and under
``TYPE_CHECKING`` (grimp's graph); the package's own ``__init__`` (lazy re-exports) is left out.
Prints the modules, the import edges, the floors (the longest import chain with circles
collapsed) and every import circle; exits 1 if there is a circle. ``tests/test_architecture.py``
runs it.
"""

from __future__ import annotations

import sys
from functools import cache

import grimp


def import_edges(package: str = "chargeplan") -> dict[str, set[str]]:
    """Module -> the package's modules it imports (itself and the package root left out)."""
    graph = grimp.build_graph(package, include_external_packages=False)
    modules = sorted(m for m in graph.modules if m != package)
    return {
        m: {d for d in graph.find_modules_directly_imported_by(m) if d not in (package, m)}
        for m in modules
    }


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (a component of two or more is a circle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    return components


def floors(edges: dict[str, set[str]], components: list[list[str]]) -> int:
    """The longest import chain, counted in modules, with each circle as one module."""
    component_of = {m: k for k, c in enumerate(components) for m in c}

    @cache
    def height(k: int) -> int:
        below = {component_of[d] for m in components[k] for d in edges[m]} - {k}
        return 1 + max((height(b) for b in below), default=0)

    return max((height(k) for k in range(len(components))), default=0)


def main() -> int:
    edges = import_edges()
    components = strongly_connected(edges)
    circles = [c for c in components if len(c) > 1]
    print(
        f"modules {len(edges)}, import edges {sum(map(len, edges.values()))}, "
        f"floors {floors(edges, components)}, import circles {len(circles)} {circles}"
    )
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())
