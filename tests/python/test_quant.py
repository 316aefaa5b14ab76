"""The inference half from Python: float forward, int8 PTQ, .tflite export, codegen, host run."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mcunet


@pytest.fixture(scope="module")
def model():
    space = mcunet.search_space("fmnist_small")
    arch = space.decode((0.25, 28), space.sample(mcunet.Rng(5)))
    return mcunet.FloatModel.random(arch, seed=3)


def blobs(n, size, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.zeros((n, size, size, 1), dtype=np.uint8)
    for i in range(n):
        cx, cy, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(3, size / 2)]
        out[i, :, :, 0] = np.clip(255 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2), 0, 255)
    return out


def test_quantize_export_codegen_and_run_agree(model, tmp_path):
    calib = blobs(32, 28, 1)
    g = mcunet.quantize(model, calib)
    c = mcunet.cost(g, planner="tinyengine")
    info = mcunet.codegen(g, tmp_path / "code")
    assert info["arena_bytes"] + info["scratch_bytes"] == c.peak_sram_bytes  # one plan, two users
    assert (tmp_path / "code" / "model.c").exists()
    test = blobs(16, 28, 2)
    q_in = mcunet.quantize_images(model, g, test)
    assert q_in.dtype == np.int8 and q_in.shape == (16, 28 * 28)
    out = mcunet.run_host(g, q_in)
    assert out.shape == (16, model.arch.num_classes)
    # The exported .tflite reads back to the same computation.
    mcunet.write_tflite(g, tmp_path / "m.tflite")
    assert np.array_equal(mcunet.run_host(tmp_path / "m.tflite", q_in), out)
    # int8 tracks the float model (same argmax on most inputs).
    logits = mcunet.float_forward(model, test)
    assert logits.shape == (16, model.arch.num_classes)
    agree = np.mean(np.argmax(logits, 1) == np.argmax(out, 1))
    assert agree >= 0.75, agree


def test_bad_input_is_a_python_error(model, tmp_path):
    with pytest.raises(ValueError, match="shape"):
        mcunet.quantize(model, np.zeros((4, 32, 32, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match="minmax"):
        mcunet.quantize(model, blobs(4, 28, 0), method="median")
    g = mcunet.quantize(model, blobs(4, 28, 0))
    with pytest.raises(ValueError, match="whole number"):
        mcunet.run_host(g, np.zeros(5, dtype=np.int8))
    with pytest.raises(TypeError):
        mcunet.codegen(42, tmp_path)


def test_three_channel_models_do_not_overrun(zoo_dir):
    # Images with 3 channels (the ImageNet zoo's): the normalisation once wrote
    # 3x past its buffer (it was given values where it counts pixels), which
    # aborted the interpreter. In a child process, so an abort fails this test.
    code = textwrap.dedent(f"""
        import numpy as np, mcunet
        arch = mcunet.Arch.load({str(zoo_dir / "mcunet-5fps_imagenet.json")!r})
        assert arch.in_channels == 3
        fm = mcunet.FloatModel.random(arch, 7)
        x = np.random.default_rng(7).integers(0, 256, size=(2, arch.resolution, arch.resolution, 3), dtype=np.uint8)
        g = mcunet.quantize(fm, x)
        both, first = mcunet.float_forward(fm, x), mcunet.float_forward(fm, x[:1])
        assert np.allclose(both[:1], first), (both[:1], first)
        q = mcunet.quantize_images(fm, g, x)
        assert q.shape == (2, arch.resolution * arch.resolution * 3)
        print("ok")
        """)
    # The child imports the same mcunet as this process.
    package_root = os.path.dirname(os.path.dirname(mcunet.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
