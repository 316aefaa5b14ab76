"""C++ errors arrive as Python exceptions with the same message."""

import pytest

import mcunet


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "no-such-arch.json"
    with pytest.raises(FileNotFoundError, match="no-such-arch.json"):
        mcunet.Arch.load(missing)
    with pytest.raises(FileNotFoundError, match="nothing.tflite"):
        mcunet.read_tflite(tmp_path / "nothing.tflite")
    with pytest.raises(FileNotFoundError, match="nothing.tflite"):
        mcunet.cost(str(tmp_path / "nothing.tflite"))
    with pytest.raises(FileNotFoundError, match="nospace.json"):
        mcunet.SearchSpace.load(tmp_path / "nospace.json")
    with pytest.raises(FileNotFoundError, match="no-such-space"):
        mcunet.search_space("no-such-space")


def test_malformed_json_names_file_and_field(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text("{ not json")
    with pytest.raises(ValueError, match="broken.json"):
        mcunet.Arch.load(p)
    p2 = tmp_path / "badfield.json"
    p2.write_text('{"schema_version": 1, "kind": "arch", "resolution": "big"}')
    with pytest.raises(ValueError, match="badfield.json") as e:
        mcunet.Arch.load(p2)
    assert "resolution" in str(e.value) or "missing" in str(e.value)


def test_bad_arch_is_value_error():
    with pytest.raises(ValueError, match="block"):
        mcunet.Arch(resolution=32, num_classes=10,
                    blocks=[mcunet.MBBlock(in_channels=99, out_channels=8, mid_channels=16)])
    # validate=False builds it; validate() then raises.
    a = mcunet.Arch(resolution=32, num_classes=10, validate=False,
                    blocks=[mcunet.MBBlock(in_channels=99, out_channels=8, mid_channels=16)])
    with pytest.raises(ValueError):
        a.validate()
    with pytest.raises(ValueError):
        mcunet.cost(a)


def test_unknown_board_and_planner(zoo_dir):
    with pytest.raises(ValueError, match="stm32f746"):  # the message lists the known boards
        mcunet.board("stm32f999")
    with pytest.raises(ValueError, match="unknown planner 'greedy'"):
        mcunet.cost(zoo_dir / "mcunet-5fps_imagenet.json", planner="greedy")
    with pytest.raises(TypeError):
        mcunet.cost(42)
    with pytest.raises(TypeError):
        mcunet.cost(zoo_dir / "mcunet-5fps_imagenet.json", board=3.5)


def test_corrupt_tflite(tmp_path, vww1):
    with pytest.raises(ValueError, match="TFL3"):
        mcunet.read_tflite(b"\0" * 64, "junk.tflite")
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(vww1.read_bytes()[:1000])
    with pytest.raises(ValueError, match="truncated.tflite"):
        mcunet.read_tflite(truncated)


def test_unsupported_error_is_value_error():
    assert issubclass(mcunet.UnsupportedError, ValueError)


def test_bad_genes(mcunet_space):
    g = mcunet_space.sample(0)
    bad = mcunet.Genes(g.depths, [9 if k else 0 for k in g.kernels], g.expands)
    with pytest.raises(ValueError, match="kernel 9"):
        mcunet_space.validate_genes(bad)
    with pytest.raises(ValueError):
        mcunet_space.decode((0.5, 160), bad)
    with pytest.raises(ValueError):
        mcunet_space.decode((0.55, 160), g)  # W not in the space
