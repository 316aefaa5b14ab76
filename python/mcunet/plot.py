"""Figures of mcunet results (matplotlib). Every function returns a ``Figure``.

- :func:`memory_per_op` -- arena bytes in use per op of a model under each
  memory planner (TinyEngine vs TF-Lite Micro; the MCUNet paper's Fig. 8).
- :func:`flops_cdf` -- CDF of the MACs of the networks that fit, per (W, R)
  sub-space (the paper's Fig. 3).
- :func:`subspace_heatmap` -- mean MACs of the fitting networks over W x R,
  the chosen sub-space marked.
- :func:`pareto` -- fitness (accuracy) vs peak SRAM / MACs / latency with the
  Pareto front (from evolution history records).
- :func:`evolution_progress` -- best and mean fitness per generation.
- :func:`training_curve` -- loss and accuracy columns of a training CSV.

Without a display (no ``DISPLAY``/``MPLBACKEND``, not in a notebook kernel)
the non-interactive Agg backend is selected, so figures can be saved headless::

    fig = mcunet.plot.memory_per_op("tests/data/mcunet-vww1.tflite")
    fig.savefig("vww1-memory.png")
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

import matplotlib

if (not os.environ.get("MPLBACKEND") and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY") and "ipykernel" not in sys.modules):
    matplotlib.use("Agg")

import matplotlib.patches  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import _core  # noqa: E402

__all__ = ["memory_per_op", "flops_cdf", "subspace_heatmap", "pareto", "evolution_progress", "training_curve"]

_KIB = 1024.0


def _new_figure(figsize: Tuple[float, float]) -> Figure:
    # Figure() directly, not pyplot: no global figure manager keeps it alive
    # (loops do not leak), it still saves with savefig() and shows in notebooks.
    return Figure(figsize=figsize)


def memory_per_op(model: Any, board: Union[str, "_core.Board"] = "stm32f746",
                  planners: Sequence[str] = ("tinyengine", "tflm"),
                  title: Optional[str] = None, figsize: Tuple[float, float] = (10.0, 4.0)) -> Figure:
    """Arena bytes live at every op of ``model`` under each planner (paper Fig. 8 style).

    ``model``: a :class:`mcunet.Arch`, :class:`mcunet.Graph`, a path to an
    architecture JSON or an int8 ``.tflite``, or a list of :class:`mcunet.Cost`
    already computed (then ``planners`` is ignored). One line per planner, its
    peak SRAM (arena + scratch) as a dashed line of the same colour, and the
    board's SRAM as a grey line. For a ``.tflite`` the x axis is the op index
    in the file, so planners that run a folded int8 graph line up with those
    that run every op.
    """
    if isinstance(model, (list, tuple)) and model and all(isinstance(c, _core.Cost) for c in model):
        costs = list(model)
    else:
        costs = [_core.cost(model, board=board, planner=p) for p in planners]
    b = costs[0].board
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    for i, c in enumerate(costs):
        x = np.array([op.source_index if op.source_index >= 0 else k
                      for k, op in enumerate(c.graph.ops)], dtype=float)
        y = c.plan.live_bytes / _KIB
        color = f"C{i}"
        ax.step(x, y, where="mid", color=color, linewidth=1.5,
                label=f"{c.planner}: arena {c.arena_bytes / _KIB:.1f} kB + scratch "
                      f"{c.scratch_bytes / _KIB:.1f} kB")
        ax.fill_between(x, y, step="mid", color=color, alpha=0.12)
        ax.axhline(c.peak_sram_bytes / _KIB, color=color, linestyle="--", linewidth=1.0)
    ax.axhline(b.sram_bytes / _KIB, color="0.5", linestyle=":", linewidth=1.0,
               label=f"{b.name} SRAM {b.sram_bytes / _KIB:.0f} kB")
    ax.set_xlabel("op")
    ax.set_ylabel("live activation memory (kB)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or f"{costs[0].graph.name or 'model'}: memory per op")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def _macs_by_subspace(data: Any, board: Any, planner: str) -> Mapping[str, np.ndarray]:
    """{label: ascending MACs of the fitting networks} from a sweep result or a mapping."""
    if isinstance(data, _core.SweepResult):
        case = data.case(board, planner)
        return {s.subspace.label: np.asarray(s.fitting_macs) for s in case.subspaces}
    if isinstance(data, _core.SweepCase):
        return {s.subspace.label: np.asarray(s.fitting_macs) for s in data.subspaces}
    return {str(k): np.sort(np.asarray(v, dtype=float)) for k, v in dict(data).items()}


def flops_cdf(data: Any, board: Union[str, "_core.Board"] = "stm32f746", planner: str = "tinyengine",
              subspaces: Optional[Iterable[str]] = None, top: Optional[int] = 8, scale: float = 1e6,
              title: Optional[str] = None, figsize: Tuple[float, float] = (7.0, 4.5)) -> Figure:
    """CDF of the MACs of the fitting networks, one curve per (W, R) sub-space (paper Fig. 3).

    ``data``: a :class:`mcunet.SweepResult` (the case ``board`` x ``planner``
    is plotted), a :class:`mcunet.SweepCase`, or a mapping ``{label: MACs}``.
    ``subspaces`` selects labels (e.g. ``['w0.3-r160', 'w0.5-r128']``);
    otherwise the ``top`` sub-spaces by mean MACs are drawn (all if None).
    The legend gives each curve's mean; the best one is drawn thickest.
    """
    series = {k: v for k, v in _macs_by_subspace(data, board, planner).items() if len(v)}
    means = {k: float(np.mean(v)) for k, v in series.items()}
    if subspaces is not None:
        labels = [s for s in subspaces if s in series]
    else:
        labels = sorted(series, key=lambda k: -means[k])
        if top is not None:
            labels = labels[:top]
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    best = max(labels, key=lambda k: means[k]) if labels else None
    for i, k in enumerate(labels):
        v = np.sort(series[k]) / scale
        cdf = np.arange(1, len(v) + 1) / len(v)
        ax.step(v, cdf, where="post", color=f"C{i % 10}", linewidth=2.5 if k == best else 1.2,
                label=f"{k} (mean {means[k] * 1.0 / scale:.1f})")
    unit = {1e6: "M", 1e3: "k", 1.0: ""}.get(scale, f"x{scale:g}")
    ax.set_xlabel(f"MACs of the networks that fit ({unit})")
    ax.set_ylabel("CDF")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    if labels:
        ax.legend(loc="lower right", fontsize="small", title="sub-space (mean)")
    ax.set_title(title or "FLOPs distribution of the satisfying networks")
    fig.tight_layout()
    return fig


def subspace_heatmap(data: Any, board: Union[str, "_core.Board"] = "stm32f746", planner: str = "tinyengine",
                     value: str = "mean_macs", scale: float = 1e6, title: Optional[str] = None,
                     figsize: Tuple[float, float] = (8.0, 5.0)) -> Figure:
    """A W x R heat map of a sweep statistic (default: mean MACs of the fitting networks).

    ``data``: a :class:`mcunet.SweepResult` or :class:`mcunet.SweepCase`.
    ``value`` is any numeric :class:`mcunet.SubSpaceStats` attribute
    (``'mean_macs'``, ``'fit_fraction'``, ``'fitting'``, ...); MAC-valued ones
    are divided by ``scale``. Sub-spaces where nothing fits are grey for
    ``'mean_macs'``. The chosen (best) sub-space is outlined.
    """
    case = data.case(board, planner) if isinstance(data, _core.SweepResult) else data
    ws = sorted({s.subspace.width_mult for s in case.subspaces})
    rs = sorted({s.subspace.resolution for s in case.subspaces})
    grid = np.full((len(ws), len(rs)), np.nan)
    divide = scale if "macs" in value else 1.0
    for s in case.subspaces:
        if value == "mean_macs" and s.fitting == 0:
            continue  # nothing fits: left blank (grey), not 0
        grid[ws.index(s.subspace.width_mult), rs.index(s.subspace.resolution)] = \
            float(getattr(s, value)) / divide
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("0.85")
    im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(rs)), [str(r) for r in rs])
    ax.set_yticks(range(len(ws)), [f"{w:g}" for w in ws])
    ax.set_xlabel("resolution R")
    ax.set_ylabel("width multiplier W")
    fig.colorbar(im, ax=ax, label=value + (" (M)" if divide == 1e6 else ""))
    best = case.best_stats
    if best is not None:
        iw, ir = ws.index(best.subspace.width_mult), rs.index(best.subspace.resolution)
        ax.add_patch(matplotlib.patches.Rectangle((ir - 0.5, iw - 0.5), 1, 1, fill=False,
                                                  edgecolor="red", linewidth=2))
    ax.set_title(title or f"{case.board.name} / {case.planner}: {value}")
    fig.tight_layout()
    return fig


def _get(rec: Any, key: str) -> Any:
    if isinstance(rec, Mapping):
        return rec.get(key)
    return getattr(rec, key, None)


def pareto_front(xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """Indices of the points not dominated (lower x and higher y are better), by ascending x."""
    order = np.lexsort((-np.asarray(ys, dtype=float), np.asarray(xs, dtype=float)))
    front, best = [], -np.inf
    for i in order:
        if ys[i] > best:
            front.append(i)
            best = ys[i]
    return np.asarray(front, dtype=int)


def pareto(history: Iterable[Any], x: str = "peak_sram_bytes", y: str = "fitness",
           color_by: Optional[str] = "generation", limit: Optional[float] = None,
           title: Optional[str] = None, figsize: Tuple[float, float] = (7.0, 4.5)) -> Figure:
    """Scatter ``y`` against ``x`` over evaluated candidates with their Pareto front.

    ``history``: records (dicts or objects) with the keys ``x`` and ``y``,
    e.g. an evolution search's ``history_dicts()`` or ``history``
    (``'peak_sram_bytes'``, ``'macs'``, ``'latency_ms'``, ``'flash_bytes'``
    vs ``'fitness'``, the evaluator's accuracy). Failed candidates (``y`` is
    None) are skipped.
    Byte-valued x axes are shown in kB, MACs in M. ``limit`` draws the
    constraint (same unit as ``x``) as a vertical line. Points are coloured by
    ``color_by`` when the records have it.
    """
    recs = [r for r in history if _get(r, x) is not None and _get(r, y) is not None]
    xs = np.array([float(_get(r, x)) for r in recs])
    ys = np.array([float(_get(r, y)) for r in recs])
    div, unit = (_KIB, " (kB)") if x.endswith("bytes") else (1e6, " (M)") if "macs" in x else (1.0, "")
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    cs = [_get(r, color_by) for r in recs] if color_by else []
    if cs and all(c is not None for c in cs):
        sc = ax.scatter(xs / div, ys, c=np.array(cs, dtype=float), s=12, cmap="viridis", alpha=0.7)
        fig.colorbar(sc, ax=ax, label=color_by)
    else:
        ax.scatter(xs / div, ys, s=12, alpha=0.7, color="C0")
    if len(recs):
        f = pareto_front(xs, ys)
        ax.step(xs[f] / div, ys[f], where="post", color="C3", linewidth=1.8, label="Pareto front")
        ax.scatter(xs[f] / div, ys[f], color="C3", s=24, zorder=3)
        ax.legend(loc="lower right", fontsize="small")
    if limit is not None:
        ax.axvline(limit / div, color="0.4", linestyle=":", linewidth=1.0)
    ax.set_xlabel(x + unit)
    ax.set_ylabel(y)
    ax.grid(True, alpha=0.3)
    ax.set_title(title or f"{y} vs {x}")
    fig.tight_layout()
    return fig


def evolution_progress(history: Iterable[Any], key: str = "fitness", generation: str = "generation",
                       title: Optional[str] = None, figsize: Tuple[float, float] = (7.0, 4.0)) -> Figure:
    """Best-so-far, per-generation best and mean of ``key`` against the generation number.

    ``history``: records (dicts or objects) with ``generation`` and ``key``,
    e.g. an evolution search's ``history_dicts()`` (records whose ``key`` is
    None, i.e. failed evaluations, are skipped).
    """
    by_gen: dict = {}
    for r in history:
        g, v = _get(r, generation), _get(r, key)
        if g is None or v is None:
            continue
        by_gen.setdefault(int(g), []).append(float(v))
    gens = np.array(sorted(by_gen))
    best = np.array([max(by_gen[g]) for g in gens]) if len(gens) else np.array([])
    mean = np.array([float(np.mean(by_gen[g])) for g in gens]) if len(gens) else np.array([])
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    if len(gens):
        ax.plot(gens, np.maximum.accumulate(best), color="C3", linewidth=2, label="best so far")
        ax.plot(gens, best, color="C0", marker="o", markersize=3, linewidth=1, label="generation best")
        ax.plot(gens, mean, color="C2", linestyle="--", linewidth=1, label="generation mean")
        ax.legend(loc="lower right", fontsize="small")
    ax.set_xlabel(generation)
    ax.set_ylabel(key)
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "evolution search")
    fig.tight_layout()
    return fig


def training_curve(csv_path: Union[str, "os.PathLike[str]"], x: Optional[str] = None,
                   title: Optional[str] = None, figsize: Tuple[float, float] = (7.0, 4.0)) -> Figure:
    """Loss (left axis) and accuracy (right axis) columns of a training curve CSV against ``x``.

    ``x`` defaults to the first of ``epoch``, ``step``, ``iteration`` the file
    has. Every column whose name contains ``loss`` is drawn on the left axis,
    every column containing ``acc`` on the right one.
    """
    import csv
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{os.fspath(csv_path)}: no rows")
    cols = list(rows[0].keys())
    if x is None:
        x = next((c for c in ("epoch", "step", "iteration") if c in cols), cols[0])
    if x not in cols:
        raise ValueError(f"{os.fspath(csv_path)}: no column '{x}' (columns: {', '.join(cols)})")

    def column(name: str) -> np.ndarray:
        return np.array([float(r[name]) if r.get(name) not in (None, "") else np.nan for r in rows])

    xs = column(x)
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    for i, c in enumerate(c for c in cols if "loss" in c.lower()):
        ax.plot(xs, column(c), color=f"C{i}", label=c)
    ax.set_xlabel(x)
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    acc_cols = [c for c in cols if "acc" in c.lower()]
    handles, labels = ax.get_legend_handles_labels()
    if acc_cols:
        ax2 = ax.twinx()
        for i, c in enumerate(acc_cols):
            ax2.plot(xs, column(c), color=f"C{i + 5}", linestyle="--", label=c)
        ax2.set_ylabel("accuracy")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, loc="center right", fontsize="small")
    ax.set_title(title or "training curve")
    fig.tight_layout()
    return fig
