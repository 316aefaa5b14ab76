"""The cost model and memory plans through Python."""

import numpy as np
import pytest

import mcunet


def test_vww1_tflm_arena(vww1):
    # TF-Lite Micro's GreedyMemoryPlanner on the real vww1 file, byte-exact.
    c = mcunet.cost(vww1, planner="tflm")
    assert c.peak_sram_bytes == 161_472
    assert c.planner == "tflm"
    assert c.scratch_bytes == 0
    assert c.macs == 11_578_816


def test_vww1_tinyengine_runs_int8_io(vww1):
    te = mcunet.cost(vww1, planner="tinyengine")
    tflm = mcunet.cost(vww1, planner="tflm")
    # TinyEngine runs the .tflite with int8 I/O: no QUANTIZE/DEQUANTIZE/PAD in
    # the planned graph, and the plan indexes that graph.
    kinds = [op.kind for op in te.graph.ops]
    assert "QUANTIZE" not in kinds and "DEQUANTIZE" not in kinds and "PAD" not in kinds
    assert len(te.plan) == len(te.graph) < len(tflm.graph) == 63
    assert all(op.source_index >= 0 for op in te.graph.ops)
    # Below TF-Lite Micro's arena and TinyEngine's published 93,992 B.
    assert te.peak_sram_bytes < 93_992 < tflm.peak_sram_bytes
    te.plan.check_consistent()


@pytest.mark.parametrize("planner", ["tinyengine", "tflm", "cmsis"])
def test_cost_report_shape(zoo_dir, planner):
    c = mcunet.cost(zoo_dir / "mcunet-256kb-1mb_imagenet.json", board="stm32f412", planner=planner)
    assert c.planner == planner and c.board.name == "stm32f412"
    assert c.peak_sram_bytes == c.arena_bytes + c.scratch_bytes
    assert c.flash_bytes == c.flash["total"] > 0
    assert c.flash["weight_bytes"] == c.params_folded - 1000  # int8 weights (the FC bias is int32)
    plan = c.plan
    assert plan.peak_sram_bytes == c.peak_sram_bytes
    assert len(plan) == len(c.graph) == len(plan.ops)
    live = plan.live_bytes
    assert isinstance(live, np.ndarray) and live.dtype == np.int64 and live.shape == (len(plan),)
    assert np.array_equal(live, c.live_bytes)
    assert live.max() <= c.arena_bytes
    assert [r.live_bytes for r in plan.ops] == live.tolist()
    for r in plan.ops:
        assert r.kind == c.graph.ops[r.index].kind
        if r.output_offset >= 0:
            assert r.output_offset + r.output_bytes <= c.arena_bytes
    for b in plan.buffers:
        assert 0 <= b.first_op <= b.last_op < len(plan)
        assert b.offset >= 0 and b.size >= 0
    plan.check_consistent()
    tl = c.timeline()
    assert tl.startswith(planner) and len(tl.splitlines()) >= len(plan)
    d = c.to_dict()
    assert d["peak_sram_bytes"] == c.peak_sram_bytes and d["macs"] == c.macs
    assert len(d["plan"]["ops"]) == len(plan)


def test_tinyengine_beats_tflm_on_zoo(zoo_dir):
    for f in sorted(zoo_dir.glob("*.json")):
        te = mcunet.cost(f, planner="tinyengine")
        tflm = mcunet.cost(f, planner="tflm")
        assert te.peak_sram_bytes < tflm.peak_sram_bytes, f.name
        assert any(r.overlap == "inplace_depthwise" for r in te.plan.ops), f.name


def test_cost_of_graph_and_arch_agree(zoo_dir):
    a = mcunet.Arch.load(zoo_dir / "mcunet-5fps_imagenet.json")
    ca = mcunet.cost(a, planner="tflm")
    cg = mcunet.cost(mcunet.lower(a), planner="tflm")
    assert ca.peak_sram_bytes == cg.peak_sram_bytes
    assert ca.macs == cg.macs


def test_fits(zoo_dir):
    a = mcunet.Arch.load(zoo_dir / "mcunet-512kb-2mb_imagenet.json")
    c = mcunet.cost(a, board="stm32h743")
    f = c.fits()
    assert f and f.fits and f.sram_excess_bytes <= 0 and "fits stm32h743" in f.message
    small = c.fits("stm32f412")
    assert not small and small.flash_excess_bytes > 0
    assert "does not fit stm32f412" in small.message
    assert c.fits(mcunet.board("stm32f412")).fits is False


def test_cost_releases_gil_and_is_threadsafe(zoo_dir):
    from concurrent.futures import ThreadPoolExecutor
    files = sorted(zoo_dir.glob("*.json")) * 2
    with ThreadPoolExecutor(2) as ex:
        peaks = list(ex.map(lambda f: mcunet.cost(f).peak_sram_bytes, files))
    assert peaks == [mcunet.cost(f).peak_sram_bytes for f in files]
