"""Boards, the Arch IR and graphs through the Python bindings."""

import copy
import json
import pickle

import pytest

import mcunet

# The published zoo figures (tests/data/README.md / the MCUNet repository):
# file -> (resolution, MACs, params incl. BN, params excl. BN).
ZOO = {
    "mcunet-5fps_imagenet.json": (96, 12_790_096, 636_232, 624_216),
    "mcunet-256kb-1mb_imagenet.json": (160, 67_287_200, 729_392, 713_904),
    "mcunet-512kb-2mb_imagenet.json": (160, 125_874_400, 1_732_640, 1_711_232),
    "mbv2-w0.35-r144_imagenet.json": (144, 23_499_152, 750_280, 737_864),
    "proxyless-w0.3-r176_imagenet.json": (176, 38_282_216, 754_280, 742_680),
}


def test_import_and_version():
    assert mcunet.__version__
    assert mcunet._core.__doc__
    assert mcunet.DEFAULT_BOARD == "stm32f746"
    assert mcunet.DEFAULT_PLANNER == "tinyengine"
    assert set(mcunet.planners()) >= {"tinyengine", "tflm", "cmsis"}


def test_boards():
    names = [b.name for b in mcunet.boards()]
    assert names == ["stm32f412", "stm32f746", "stm32f765", "stm32h743"]
    b = mcunet.board("F746")
    assert (b.name, b.core, b.sram_bytes, b.flash_bytes, b.clock_mhz) == (
        "stm32f746", "cortex-m7", 320 * 1024, 1024 * 1024, 216)
    assert mcunet.board() == b
    assert mcunet.board("stm32h743").flash_bytes == 2 * 1024 * 1024
    assert mcunet.board("stm32f412").core == "cortex-m4"
    d = b.to_dict()
    assert d["sram_kb"] == 320
    assert mcunet.Board.from_dict(d) == b


def test_custom_board(tmp_path):
    b = mcunet.Board("myboard", "cortex-m4", sram_kb=128, flash_kb=512, clock_mhz=80)
    assert b.sram_bytes == 128 * 1024
    p = tmp_path / "myboard.json"
    p.write_text(json.dumps(b.to_dict()))
    assert mcunet.board(str(p)) == b
    assert mcunet.board(p) == b  # os.PathLike


@pytest.mark.parametrize("fname", sorted(ZOO))
def test_zoo_macs_and_params(zoo_dir, fname):
    res, macs, params, params_folded = ZOO[fname]
    arch = mcunet.Arch.load(zoo_dir / fname)
    assert arch.resolution == res
    assert arch.num_classes == 1000
    assert arch.name == fname[:-len(".json")]
    n = mcunet.count(arch)
    assert (n.macs, n.params, n.params_folded) == (macs, params, params_folded)
    c = mcunet.cost(arch)
    assert (c.macs, c.params, c.params_folded) == (macs, params, params_folded)
    # The same numbers from the path, and from the lowered graph's MACs.
    assert mcunet.cost(zoo_dir / fname).macs == macs
    assert mcunet.lower(arch).total_macs == macs


def test_arch_construct_and_roundtrip(tmp_path):
    blocks = [
        mcunet.MBBlock(in_channels=16, out_channels=8, mid_channels=16, kernel=3),
        mcunet.MBBlock(in_channels=8, out_channels=16, mid_channels=48, kernel=5, stride=2, expand_ratio=6),
        mcunet.MBBlock(in_channels=16, out_channels=16, mid_channels=48, kernel=7, expand_ratio=3,
                       residual=True),
    ]
    a = mcunet.Arch(name="tiny", resolution=32, num_classes=10, blocks=blocks,
                    first_conv=mcunet.FirstConv(out_channels=16))
    assert a.last_channels == 16
    assert len(a.blocks) == 3 and a.blocks[1].has_expand and not a.blocks[0].has_expand
    d = a.to_dict()
    assert d["schema_version"] == 1 and d["kind"] == "arch"
    assert mcunet.Arch.from_dict(d) == a
    assert mcunet.Arch.from_json(a.to_json()) == a
    p = tmp_path / "tiny.json"
    a.save(p)
    assert mcunet.Arch.load(p) == a
    assert mcunet.load_arch(str(p)) == a
    assert pickle.loads(pickle.dumps(a)) == a
    b = copy.deepcopy(a)
    b.resolution = 48
    assert b != a and a.resolution == 32


def test_zoo_json_dict_loads(zoo_dir):
    raw = json.loads((zoo_dir / "mcunet-5fps_imagenet.json").read_text())
    assert raw["name"] == "ProxylessNASNets"
    a = mcunet.Arch.from_dict(raw, "zoo")
    assert a.resolution == 96 and len(a.blocks) > 0
    # Ours round-trips, the zoo's original blocks and widths are preserved.
    assert mcunet.Arch.from_dict(a.to_dict()) == a


def test_graph_summary(zoo_dir):
    g = mcunet.lower(mcunet.Arch.load(zoo_dir / "mcunet-5fps_imagenet.json"))
    rows = g.summary()
    assert len(rows) == len(g) == len(g.ops)
    assert rows[0]["kind"] == "CONV_2D" and rows[0]["shape"] == [1, 48, 48, 16]
    assert rows[-1]["kind"] == "FULLY_CONNECTED" and rows[-1]["shape"] == [1, 1000]
    assert sum(r["macs"] for r in rows) == g.total_macs
    kinds = {r["kind"] for r in rows}
    assert {"DEPTHWISE_CONV_2D", "CONV_2D_1x1", "MEAN"} <= kinds
    t = g.tensors[g.inputs[0]]
    assert t.dtype == "int8" and t.shape == (1, 96, 96, 3) and not t.is_constant
    op = g.ops[0]
    assert op.kernel == (3, 3) and op.stride == (2, 2) and op.activation == "relu6"


def test_read_tflite(vww1):
    g = mcunet.read_tflite(vww1)
    assert g.name == "mcunet-vww1" or g.name
    assert len(g) == 63
    assert g.total_macs == 11_578_816
    kinds = [op.kind for op in g.ops]
    assert kinds[0] == "QUANTIZE" and kinds[-1] == "DEQUANTIZE"
    assert "PAD" in kinds and "TRANSPOSE" in kinds
    assert g.tensors[g.inputs[0]].dtype == "float32"
    # Bytes work as well as paths.
    g2 = mcunet.read_tflite(vww1.read_bytes(), "vww1")
    assert len(g2) == len(g) and g2.total_macs == g.total_macs
    folded = mcunet.fold_int8_input(g)
    fk = [op.kind for op in folded.ops]
    assert "QUANTIZE" not in fk and "DEQUANTIZE" not in fk and "PAD" not in fk
    assert folded.tensors[folded.inputs[0]].dtype == "int8"
