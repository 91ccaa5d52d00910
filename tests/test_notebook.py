"""notebooks/explore.ipynb runs from top to bottom, so it cannot rot, and is committed clean."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import REPO

NOTEBOOK = REPO / "notebooks" / "explore.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_notebook_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Executed in notebooks/ with the venv's own kernel (ipykernel; jupyter_client starts
    ``python`` as this interpreter). Solves the default scenario twice, at a loose gap."""
    monkeypatch.delenv("MPLBACKEND", raising=False)  # let the kernel draw inline, as Jupyter does
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    text = "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs
    )
    assert "capex per extra million users: CNY" in text
    assert "china-2030 target=10M" in text  # with_values names the variant
    assert "solve: " in text and "read inputs: " in text  # plan_network's progress in a notebook
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert "chargeplan Plan" in html and "sites opened" in html  # Plan._repr_html_
    assert "folium" in html  # plan.explore()
    assert "20000000" in text.replace(",", "")  # the 20 M plan's summary table
    assert any("image/png" in output.get("data", {}) for output in outputs)  # the gap map
    assert any("text/html" in output.get("data", {}) for output in outputs)  # tables, folium map
