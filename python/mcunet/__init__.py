"""mcunet: TinyNAS + TinyEngine (MCUNet, NeurIPS 2020) as a Python package.

The heavy lifting is C++ (``mcunet._core``); this package re-exports it with a
few conveniences that only locate files:

>>> import mcunet
>>> arch = mcunet.Arch.load("tests/data/zoo/mcunet-5fps_imagenet.json")
>>> c = mcunet.cost(arch, board="stm32f746", planner="tinyengine")
>>> c.macs, c.peak_sram_bytes, bool(c.fits())
>>> space = mcunet.search_space("mcunet")
>>> result = mcunet.sweep(space, boards=["stm32f746"], samples=100)     # TinyNAS stage 1
>>> best = result.case("stm32f746").best_stats.subspace
>>> search = mcunet.evolution_search(space, best, evaluator=my_accuracy)  # stage 2
>>> search.best_arch()

``my_accuracy`` is any callable taking a list of :class:`Arch` and returning
one fitness per architecture (higher is better; None marks a failure).

Errors from C++ arrive as Python exceptions carrying the same message:
``FileNotFoundError`` for missing files, ``ValueError`` for bad input
(``UnsupportedError``, a ``ValueError``, for valid input mcunet does not
support).

Plots live in :mod:`mcunet.plot` (imported on first use; needs matplotlib), the supernet
(libtorch: training, evaluation, fine-tuning) in :mod:`mcunet.nn`, firmware builds and QEMU runs in
:mod:`mcunet.firmware`, the whole main job in :mod:`mcunet.pipeline`.
"""

from __future__ import annotations

import os as _os
from pathlib import Path as _Path
from typing import List as _List, Union as _Union

from . import _core, _progress
from ._core import *  # noqa: F401,F403  (the public C++ API)
from ._core import (  # noqa: F401  (explicit names for linters and IDEs)
    Arch,
    Board,
    Cost,
    EvolutionConfig,
    EvolutionSearch,
    FirstConv,
    Genes,
    Graph,
    LatencyModel,
    MBBlock,
    Rng,
    SearchSpace,
    SubSpace,
    UnsupportedError,
    board,
    boards,
    arch_hash,
    cost,
    count,
    evolution_search,
    latency_ms,
    load_arch,
    lower,
    planners,
    read_tflite,
    ImageDataset,
    FloatModel,
    load_dataset,
    split_train_val,
    float_forward,
    quantize,
    quantize_images,
    write_tflite,
    codegen,
    set_log_level,
    sweep,
)

__version__ = getattr(_core, "__version__", "0.0.0")

_PACKAGE_DIR = _Path(__file__).resolve().parent


def _data_roots() -> _List[_Path]:
    """Directories that may hold the shipped data, most specific first.

    An installed package carries copies under ``mcunet/``; a source tree has
    them at the repository root (``python/mcunet/../..``).
    """
    return [_PACKAGE_DIR, _PACKAGE_DIR.parent.parent]


def _find_data(*parts: str) -> _Union[_Path, None]:
    for root in _data_roots():
        p = root.joinpath(*parts)
        if p.exists():
            return p
    return None


# Point the latency model at the calibration this package ships (installed:
# mcunet/data/; source tree: data/), unless the user chose a file. The C++
# core's own fallback (a path from __FILE__) is relative, hence depends on the
# working directory, when the build rewrote paths (e.g. ccache's base_dir).
if not _os.environ.get("MCUNET_LATENCY_CALIBRATION"):
    _calibration = _find_data("data", "latency_calibration.json")
    if _calibration is not None:
        _os.environ["MCUNET_LATENCY_CALIBRATION"] = str(_calibration)


def search_space_names() -> _List[str]:
    """Names of the search spaces shipped with mcunet (e.g. ``'mcunet'``)."""
    names = set()
    for root in _data_roots():
        d = root / "search_spaces"
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.json"))
    return sorted(names)


def search_space(name_or_path: _Union[str, "_os.PathLike[str]"] = "mcunet") -> SearchSpace:
    """Load a search space by shipped name (``'mcunet'``, ``'fmnist_small'``) or from a JSON file.

    Raises FileNotFoundError naming the path and the shipped names when neither
    a file nor a shipped space of that name exists, ValueError on a malformed
    space.
    """
    path = _Path(_os.fspath(name_or_path))
    if path.suffix != ".json" and not path.exists():
        shipped = _find_data("search_spaces", path.name + ".json")
        if shipped is None:
            raise FileNotFoundError(
                f"search space '{name_or_path}': no such file, and not a shipped space "
                f"(shipped: {', '.join(search_space_names()) or 'none found'})")
        path = shipped
    return SearchSpace.load(path)


def data_path(*parts: str) -> _Path:
    """Path of a file shipped with mcunet, e.g. ``data_path('data', 'latency_calibration.json')``.

    Raises FileNotFoundError if it is not found in the package or the source tree.
    """
    p = _find_data(*parts)
    if p is None:
        raise FileNotFoundError(f"{'/'.join(parts)}: not shipped with this mcunet "
                                f"(looked in {', '.join(str(r) for r in _data_roots())})")
    return p


def _sweep_update(bar, done, total):
    bar.update(done - bar.n)


def sweep(*args, progress=_progress.AUTO, **kwargs) -> SweepResult:
    with _progress.bar(progress, "sweep", unit="arch", update=_sweep_update,
                       total_of=lambda done, total: total) as callback:
        return _core.sweep(*args, progress=callback, **kwargs)


sweep.__doc__ = (_core.sweep.__doc__ or "") + """

``progress``: 'auto' (default: a tqdm bar on a terminal or in a notebook, if tqdm is installed), True,
False/None, or a callable ``progress(done, total)``.
"""


def _default_generations() -> int:
    return EvolutionConfig({"schema_version": 1, "kind": "evolution_config", "space": "-",
                            "subspace": "w1-r32"}).generations


def evolution_search(*args, progress=_progress.AUTO, **kwargs) -> EvolutionSearch:
    total = None
    if _progress.wanted(progress):
        total = int(kwargs.get("generations", _default_generations())) + 1

    def update(bar, stats):
        bar.update(stats.generation + 1 - bar.n)
        if stats.best_id >= 0:
            bar.set_postfix(best=f"{stats.best_fitness:.4g}", failed=stats.failed, refresh=False)

    with _progress.bar(progress, "evolution", total=total, unit="gen", update=update) as callback:
        return _core.evolution_search(*args, progress=callback, **kwargs)


evolution_search.__doc__ = (_core.evolution_search.__doc__ or "") + """

``progress``: 'auto' (default: a tqdm bar over generations on a terminal or in a notebook, if tqdm is
installed), True, False/None, or a callable ``progress(stats)`` called with a GenerationStats after
each generation.
"""


def run_host(model, inputs, runtime_dir=None):
    """Runs the generated code of an int8 graph (or ``.tflite``) on the host: int8 ``inputs``
    (N x input bytes, NumPy or anything ``numpy.asarray`` takes, e.g. a CPU torch tensor) ->
    int8 outputs (N x output bytes). The runtime sources come from the source tree or the
    installed package (``engine/runtime``) unless ``runtime_dir`` is given."""
    import numpy as _np
    if runtime_dir is None:
        runtime_dir = data_path("engine", "runtime")
    return _core._run_host(model, _np.ascontiguousarray(_np.asarray(inputs), dtype=_np.int8), runtime_dir)


def __getattr__(name: str):
    # Lazy: `mcunet.plot` imports matplotlib, `mcunet.nn` libtorch, only when used.
    if name in ("plot", "nn", "firmware", "pipeline"):
        import importlib
        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'mcunet' has no attribute '{name}'")
