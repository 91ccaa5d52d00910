"""The test suite's own layout: test modules do not import one another.

A test module that imports another (``from .test_decompose import _problem``) makes one
specification depend on another's private helpers: changing a test silently changes others, and
running one file collects the other's tests' imports too. Shared instances, brute-force
references and checks live in helper modules (``tests/instances.py``, ``tests/bruteforce.py``,
``tests/folders.py``, ``tests/solver_values.py``) or in ``conftest.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def imported_test_modules(source: str) -> list[str]:
    """The ``test_*`` modules that ``source`` imports, in any spelling: ``from .test_x import``,
    ``from . import test_x``, ``from tests.test_x import``, ``import tests.test_x``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [module] + [f"{module}.{alias.name}".lstrip(".") for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if any(part.startswith("test_") for part in parts):
                found.append(next(part for part in parts if part.startswith("test_")))
    return sorted(set(found))


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        ("from .test_decompose import EXACT, _problem", ["test_decompose"]),
        ("from . import test_reliability", ["test_reliability"]),
        ("from tests.test_model_bruteforce import to_problem", ["test_model_bruteforce"]),
        ("import tests.test_rollout as rollout", ["test_rollout"]),
        ("def f():\n    from .test_sizing import TOL\n", ["test_sizing"]),
        ("from .instances import EXACT\nfrom .conftest import write_tiny_scenario", []),
        ("from chargeplan.model.queueing import erlang_c\nimport pytest", []),
    ],
)
def test_the_check_finds_every_spelling_of_an_import(source: str, imported: list[str]) -> None:
    assert imported_test_modules(source) == imported


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    modules = sorted(TESTS.rglob("*.py"))
    assert len([m for m in modules if m.name.startswith("test_")]) >= 20  # the suite is there
    imports = {str(m.relative_to(TESTS)): imported_test_modules(m.read_text()) for m in modules}
    assert {name: found for name, found in imports.items() if found} == {}
