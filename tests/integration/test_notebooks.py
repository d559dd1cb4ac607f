"""The notebooks run top to bottom against the demo warehouse, and are committed without outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"market.ipynb", "account.ipynb"}
CELL_TIMEOUT_S = 120


def test_the_market_and_account_notebooks_are_in_the_notebooks_directory() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


def test_the_python3_kernel_is_this_virtual_environments_python() -> None:
    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    # jupyter_client runs a kernel spec's bare "python" (ipykernel's own spec) with sys.executable.
    same = argv0 in {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"} or (
        Path(argv0).resolve() == Path(sys.executable).resolve())
    assert same, f"the python3 kernel runs {argv0}, not {sys.executable}: the notebooks would not see this venv"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_against_the_demo_warehouse_without_an_error(
    path: Path, demo_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel inherits this environment: the warehouse to read, and a backend that needs no screen.
    monkeypatch.setenv("MARKETREC_WAREHOUSE", str(demo_warehouse))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT_S, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError, naming the cell and the traceback, on the first error
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert ran and all(cell.execution_count for cell in ran)  # every code cell ran


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_committed_notebook_carries_no_outputs_and_no_execution_counts(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code"
    with_outputs = [i for i, cell in enumerate(notebook.cells) if cell.get("outputs")]
    counted = [i for i, cell in enumerate(notebook.cells) if cell.get("execution_count") is not None]
    assert with_outputs == [], f"{path.name}: cells {with_outputs} carry outputs (strip them before committing)"
    assert counted == [], f"{path.name}: cells {counted} carry execution counts"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
