"""The shape of the code: stage folders, short modules and functions, a light ``import chargeplan``.

The import direction between the stage folders is checked by import-linter (contracts in
``pyproject.toml``, run by ``.ci/lint``); these tests check what a linter does not:

- every module is at most :data:`MAX_MODULE_LINES` lines;
- every function body is at most :data:`MAX_FUNCTION_LINES` lines, unless its docstring says
  why it is longer (a paragraph starting ``Long because``);
- ``import chargeplan`` and ``chargeplan --help`` load none of the heavy libraries;
- every stage folder says in its docstring what it does, and ``docs/architecture.md`` names it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "chargeplan"
STAGES = ("config", "inputs", "model", "solver", "results", "outputs", "workflows")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
HEAVY = ("pyomo", "highspy", "geopandas", "pandas", "numpy", "dask", "folium", "matplotlib")


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function after its docstring (nested functions count towards it)."""
    body = node.body
    first = body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start = first.end_lineno + 1 if has_doc and len(body) > 1 else first.lineno
    assert node.end_lineno is not None
    return node.end_lineno - start + 1


def test_modules_are_short() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {long}"


def test_functions_are_short_or_say_why() -> None:
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            n = _body_lines(node)
            doc = ast.get_docstring(node) or ""
            if n > MAX_FUNCTION_LINES and "Long because" not in doc:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, (
        f"functions over {MAX_FUNCTION_LINES} lines without 'Long because' in their docstring: "
        f"{long}"
    )


def test_the_function_length_rule_counts_lines_after_the_docstring() -> None:
    """The rule itself, on a function whose body length is known."""
    source = 'def f():\n    """Doc."""\n' + "    x = 1\n" * 81
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert _body_lines(node) == 81


@pytest.mark.parametrize(
    "code",
    [
        "import chargeplan",
        "import chargeplan.cli",
        "import chargeplan; chargeplan.__version__",
    ],
)
def test_import_chargeplan_is_light(code: str) -> None:
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(ast.literal_eval(out))
    assert not loaded & set(HEAVY), f"{code!r} loads {sorted(loaded & set(HEAVY))}"


def test_help_is_light() -> None:
    probe = (
        "import sys\nfrom chargeplan.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "usage: chargeplan" in result.stdout
    loaded = set(ast.literal_eval(result.stderr.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), f"chargeplan --help loads {sorted(loaded & set(HEAVY))}"


def test_public_names_resolve_lazily() -> None:
    import chargeplan

    for name in chargeplan.__all__:
        assert getattr(chargeplan, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        chargeplan.nope  # noqa: B018


def test_every_stage_folder_is_documented() -> None:
    architecture = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for stage in STAGES:
        init = SRC / stage / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), stage
        assert f"`{stage}/`" in architecture, f"docs/architecture.md does not describe {stage}/"


def test_no_import_circles() -> None:
    """No two modules import each other, even through others or only for type checking."""
    script = REPO / ".ci" / "import_graph.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "import circles 0" in result.stdout
