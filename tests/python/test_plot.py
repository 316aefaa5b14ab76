"""mcunet.plot returns matplotlib Figures that save headless."""

import random

import pytest

matplotlib = pytest.importorskip("matplotlib")

import mcunet  # noqa: E402
import mcunet.plot as mplot  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _save(fig, tmp_path, name):
    assert isinstance(fig, Figure)
    p = tmp_path / name
    fig.savefig(p, dpi=60)
    assert p.stat().st_size > 1000
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_memory_per_op_tflite(tmp_path, vww1):
    fig = mplot.memory_per_op(vww1, planners=["tinyengine", "tflm"])
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) >= 3
    _save(fig, tmp_path, "vww1.png")


def test_memory_per_op_arch_and_costs(tmp_path, zoo_dir):
    a = mcunet.Arch.load(zoo_dir / "mcunet-256kb-1mb_imagenet.json")
    _save(mplot.memory_per_op(a, planners=["tinyengine", "tflm", "cmsis"]), tmp_path, "a.png")
    costs = [mcunet.cost(a, planner=p) for p in ("tinyengine", "tflm")]
    _save(mplot.memory_per_op(costs), tmp_path, "b.png")


def test_sweep_plots(tmp_path, small_space):
    r = mcunet.sweep(small_space, boards=["stm32f412"], samples=20, seed=3)
    _save(mplot.flops_cdf(r, board="stm32f412"), tmp_path, "cdf.png")
    _save(mplot.subspace_heatmap(r, board="stm32f412"), tmp_path, "heat.png")
    _save(mplot.flops_cdf({"a": [1e6, 2e6, 3e6], "b": [2e6, 5e6]}), tmp_path, "cdf2.png")


def test_pareto_and_progress(tmp_path):
    rnd = random.Random(0)
    hist = [{"generation": g, "accuracy": rnd.random(), "peak_sram_bytes": rnd.randint(50_000, 300_000),
             "macs": rnd.randint(1_000_000, 90_000_000)} for g in range(5) for _ in range(10)]
    hist.append({"generation": 5, "accuracy": None, "peak_sram_bytes": 1})  # a failed evaluation
    _save(mplot.pareto(hist, y="accuracy", limit=320 * 1024), tmp_path, "pareto.png")
    _save(mplot.pareto(hist, x="macs", y="accuracy"), tmp_path, "pareto-macs.png")
    _save(mplot.evolution_progress(hist, key="accuracy"), tmp_path, "progress.png")


def test_pareto_front():
    xs = [1, 2, 3, 4, 5]
    ys = [0.1, 0.5, 0.4, 0.6, 0.6]
    assert mplot.pareto_front(xs, ys).tolist() == [0, 1, 3]
