"""The notebooks in notebooks/ run headless (nbclient) with small settings, and are kept without outputs.

Each notebook is executed in a fresh `python3` kernel (Debian's /usr/bin/python3) with
MCUNET_NOTEBOOK_QUICK=1 and PYTHONPATH pointing at the mcunet package under test; any cell error
fails the test with the cell's traceback.
"""

import os
from pathlib import Path

import pytest

import mcunet

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(os.environ.get("MCUNET_SOURCE_DIR", Path(__file__).resolve().parents[2])) / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert "01_cost_model.ipynb" in names and "02_sweep.ipynb" in names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs"), f"{path.name}: cell {i} has outputs (clear them before committing)"
        assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


@pytest.fixture
def kernel_env(monkeypatch):
    """The kernel inherits os.environ: quick settings, and the mcunet package under test first on the path."""
    package_parent = str(Path(mcunet.__file__).resolve().parent.parent)
    path = [package_parent] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    monkeypatch.setenv("MCUNET_NOTEBOOK_QUICK", "1")
    # Let ipykernel choose its inline backend (figures become PNG outputs), as in Jupyter.
    monkeypatch.delenv("MPLBACKEND", raising=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600, startup_timeout=120,
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        pytest.fail(f"{path.name}: a cell failed:\n{e}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs, f"{path.name}: produced no output"
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    # Figures render as images, not as their repr.
    if any("mcunet.plot." in c.source for c in nb.cells if c.cell_type == "code"):
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name}: plots but shows no image"
