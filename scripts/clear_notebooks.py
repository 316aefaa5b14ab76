#!/usr/bin/env python3
"""Clears the outputs and execution counts of notebooks in place (they are committed without outputs).

Usage: /usr/bin/python3 scripts/clear_notebooks.py notebooks/*.ipynb
"""

import sys

import nbformat


def clear(path: str) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell.outputs = []
            cell.execution_count = None
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(("cleared " if clear(p) else "clean   ") + p)
