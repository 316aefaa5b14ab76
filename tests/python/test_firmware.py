"""Firmware from Python (mcunet.firmware over the CLI): a generated model built for a board and
run under QEMU gives the host's outputs byte for byte, with the arena the cost model predicted."""

import shutil

import numpy as np
import pytest

import mcunet
import mcunet.firmware as fw

needs_tools = pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                                 reason="gcc-arm-none-eabi / qemu-system-arm not installed")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    space = mcunet.search_space("fmnist_small")
    arch = space.decode((0.25, 28), space.sample(mcunet.Rng(2)))
    fm = mcunet.FloatModel.random(arch, seed=1)
    images = np.random.default_rng(0).integers(0, 256, size=(8, 28, 28, 1), dtype=np.uint8)
    g = mcunet.quantize(fm, images)
    code = tmp_path_factory.mktemp("code")
    info = mcunet.codegen(g, code)
    return g, code, info, mcunet.quantize_images(fm, g, images[:2])


@needs_tools
def test_qemu_output_equals_host(model, tmp_path):
    g, code, info, x = model
    r = fw.run_qemu(code, "qemu-m7", input=x[0], out=tmp_path / "fw")
    assert r["status"] == 0
    assert np.array_equal(r["output"], mcunet.run_host(g, x[:1])[0])
    assert r["arena_bytes_declared"] == info["arena_bytes"]
    elf = fw.build(code, "stm32f412", out=tmp_path / "f412")["elf"]
    assert elf.endswith(".elf")


def test_bad_input_is_a_python_error(model, tmp_path):
    _, code, _, _ = model
    with pytest.raises(FileNotFoundError, match="model.h"):
        fw.run_qemu(tmp_path / "nothing", "qemu-m7")
    if shutil.which("arm-none-eabi-gcc"):
        with pytest.raises(ValueError, match="stm32f764"):
            fw.build(code, "stm32f764", out=tmp_path / "x")
