"""The latency model through Python."""

import numpy as np
import pytest

import mcunet


def test_latency_estimates(zoo_dir, vww1):
    lm = mcunet.LatencyModel.default()
    assert lm.summary and lm.source.endswith(".json")
    a = mcunet.Arch.load(zoo_dir / "mcunet-5fps_imagenet.json")
    ms = mcunet.latency_ms(a, "stm32f746")
    assert ms > 0
    assert lm.estimate_ms(a, "stm32f746") == pytest.approx(ms)
    # The 480 MHz H743 is faster than the 216 MHz F746, the 100 MHz M4 slower.
    assert mcunet.latency_ms(a, "stm32h743") < ms < mcunet.latency_ms(a, "stm32f412")
    g = mcunet.lower(a)
    per_op = lm.op_ms(g, "stm32f746")
    assert isinstance(per_op, np.ndarray) and per_op.shape == (len(g),)
    assert per_op.sum() == pytest.approx(lm.estimate_ms(g, "stm32f746"))
    assert mcunet.latency_ms(vww1) > 0
    assert set(lm.coefficients) >= {"conv_mac", "pointwise_mac", "depthwise_mac"}
    assert mcunet.fps_to_latency_ms(5) == pytest.approx(200.0)


def test_latency_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="calib.json"):
        mcunet.LatencyModel.load(tmp_path / "calib.json")
