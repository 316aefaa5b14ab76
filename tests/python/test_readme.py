"""The Python examples of README.md run as written.

Every ```python block of the README is executed in order, in one namespace, from a scratch
directory where the repository's `tests/` and `search_spaces/` are visible (so the README's relative
paths work and the files it writes land in the scratch directory). `my_accuracy`, the user's
evaluator in the README, is a stand-in here: MACs in millions.
"""

import os
import re
from pathlib import Path

import pytest

import mcunet

mcunet.set_log_level("error")


def python_blocks(readme: Path):
    return re.findall(r"^```python\n(.*?)^```", readme.read_text(), flags=re.S | re.M)


def test_readme_has_python_examples(root):
    assert python_blocks(root / "README.md")


def test_readme_python_examples_run(root, tmp_path, monkeypatch):
    for name in ("tests", "search_spaces"):
        (tmp_path / name).symlink_to(root / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace = {"my_accuracy": lambda arch: mcunet.count(arch).macs / 1e6, "__name__": "readme"}
    for i, block in enumerate(python_blocks(root / "README.md")):
        try:
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001  (report which block failed)
            pytest.fail(f"README.md python block {i + 1} failed: {type(e).__name__}: {e}\n{block}")
