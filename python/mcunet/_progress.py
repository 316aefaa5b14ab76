"""Progress bars for the long operations of mcunet (tqdm when installed, silent otherwise).

``progress`` arguments of :func:`mcunet.sweep` and :func:`mcunet.evolution_search` accept:

- ``"auto"`` (default): a bar when tqdm is installed and the output is a terminal or a notebook;
- ``True``: a bar whenever tqdm is installed; ``False`` or ``None``: no bar;
- a callable: called as the C++ core calls it (no bar).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator, Optional

AUTO = "auto"


def _in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (not merely a process that imported ipykernel)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001  (any IPython oddity: not a notebook)
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _tqdm_class() -> Optional[type]:
    try:
        if _in_notebook():
            try:
                import ipywidgets  # noqa: F401  (tqdm's notebook bar needs it)
                from tqdm.notebook import tqdm
                return tqdm
            except ImportError:
                pass
        from tqdm import tqdm
        return tqdm
    except ImportError:
        return None


def wanted(progress: Any) -> bool:
    """Whether ``progress`` asks for a bar (not a callable)."""
    if progress is None or progress is False:
        return False
    if progress is True:
        return True
    if isinstance(progress, str):
        if progress != AUTO:
            raise ValueError(f"progress: expected 'auto', True, False or a callable, got '{progress}'")
        stream = sys.stderr
        return _in_notebook() or bool(getattr(stream, "isatty", lambda: False)())
    return False


@contextlib.contextmanager
def bar(progress: Any, desc: str, total: Optional[int] = None, unit: str = "it",
        update: Optional[Callable[..., None]] = None,
        total_of: Optional[Callable[..., Optional[int]]] = None) -> Iterator[Optional[Callable[..., None]]]:
    """The callback to hand to the core for ``progress``: the user's callable, a tqdm bar's, or None.

    The bar is created at the first callback (its total from ``total_of(*args)`` if given, else
    ``total``); ``update(tqdm_bar, *args)`` then moves it from the core's callback arguments.
    """
    if callable(progress) and not isinstance(progress, (bool, str)):
        yield progress
        return
    cls = _tqdm_class() if wanted(progress) else None
    if cls is None:
        yield None
        return
    bars = []

    def callback(*args: Any) -> None:
        if not bars:
            bars.append(cls(total=total_of(*args) if total_of else total, desc=desc, unit=unit, leave=True,
                            dynamic_ncols=True))
        update(bars[0], *args)

    try:
        yield callback
    finally:
        for b in bars:
            b.close()
