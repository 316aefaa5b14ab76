"""Shared fixtures of the mcunet Python tests.

Run from CTest (PYTHONPATH set to python/) or by hand:
    PYTHONPATH=python /usr/bin/python3 -m pytest -q tests/python
If mcunet is not importable, the source tree's python/ directory is tried.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MCUNET_SOURCE_DIR", Path(__file__).resolve().parents[2]))

try:
    import mcunet  # noqa: F401
except ImportError:  # not installed and no PYTHONPATH: use the in-tree build
    sys.path.insert(0, str(ROOT / "python"))
    import mcunet  # noqa: F401

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    """The source tree."""
    return ROOT


@pytest.fixture(scope="session")
def data_dir(root: Path) -> Path:
    """tests/data: the published zoo JSONs and mcunet-vww1.tflite."""
    return root / "tests" / "data"


@pytest.fixture(scope="session")
def zoo_dir(data_dir: Path) -> Path:
    return data_dir / "zoo"


@pytest.fixture(scope="session")
def vww1(data_dir: Path) -> Path:
    return data_dir / "mcunet-vww1.tflite"


@pytest.fixture(scope="session")
def mcunet_space(root: Path):
    import mcunet
    return mcunet.SearchSpace.load(root / "search_spaces" / "mcunet.json")


@pytest.fixture(scope="session")
def small_space(root: Path):
    import mcunet
    return mcunet.SearchSpace.load(root / "search_spaces" / "fmnist_small.json")
