"""The supernet from Python (mcunet.nn over mcunet._nn): training, forward with NumPy and torch,
extraction, the BN re-calibration evaluator in the evolution search, fine-tuning, bad input.
Tiny runs (a few hundred Fashion-MNIST images, one epoch): they assert behaviour, not accuracy."""

import json

import numpy as np
import pytest

import mcunet

nn = pytest.importorskip("mcunet.nn", reason="built without libtorch (MCUNET_BUILD_NN=OFF)")

SUB = "w0.25-r28"
DATA = {"limit_train": 256, "limit_val": 128, "resolution": 28}


@pytest.fixture(scope="module")
def space():
    return mcunet.search_space("fmnist_small")


@pytest.fixture(scope="module")
def trained(space, tmp_path_factory):
    out = tmp_path_factory.mktemp("supernet")
    cfg = {"epochs": 1, "num_random_subnets": 1, "train_smallest": True, "calib_batches": 2,
           "calib_batch_size": 32, "data": DATA}
    r = nn.train_supernet(space, SUB, out, config=cfg, progress=False)
    return out, r


def test_train_supernet_writes_checkpoints_and_curve(trained):
    out, r = trained
    assert r["finished"] and len(r["curve"]) == 1
    epoch = r["curve"][0]
    assert np.isfinite(epoch["train_loss"]) and 0 <= epoch["val_acc"] <= 1 and 0 <= epoch["val_acc_smallest"] <= 1
    assert epoch["images_per_second"] > 0
    for name in ("checkpoint.pt", "supernet.pt", "curve.csv", "config.json"):
        assert (out / name).exists(), name
    assert json.loads((out / "config.json").read_text())["train_smallest"] is True


def images(n, res=28, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, res, res, 1), dtype=np.uint8)


def test_forward_numpy_and_torch_agree_and_extract_matches(trained):
    torch = pytest.importorskip("torch")
    net = nn.Supernet.load(trained[0] / "supernet.pt")
    assert net.subspace.label == SUB
    arch = net.smallest_arch()
    net.set_active(arch)
    x = nn.normalize(images(5), net)
    assert x.dtype == np.float32 and x.shape == (5, 1, 28, 28)
    logits = net.forward(x)
    assert isinstance(logits, np.ndarray) and logits.shape == (5, 10)
    t = net.forward(torch.from_numpy(x))
    assert isinstance(t, torch.Tensor) and np.allclose(t.numpy(), logits)
    sub = net.extract(arch)
    assert np.allclose(sub.forward(x), logits, atol=1e-5)
    # The largest subnet is a different network.
    net.set_active(net.largest_arch())
    assert not np.allclose(net.forward(x), logits)
    fm = net.extract_float_model(arch)
    assert isinstance(fm, mcunet.FloatModel)


def test_evaluator_drives_the_evolution_search(space, trained):
    ckpt = trained[0] / "supernet.pt"
    ev = nn.SupernetEvaluator(ckpt, calib_batches=2, calib_batch_size=32, limit_val=64)
    net = nn.Supernet.load(ckpt)
    archs = [net.largest_arch(), net.smallest_arch()]
    acc = ev(archs)
    assert len(acc) == 2 and all(0 <= a <= 1 for a in acc)
    assert ev(archs) == acc  # deterministic
    search = mcunet.evolution_search(space, (0.25, 28), evaluator=ev, board="stm32f412", population_size=4,
                                     generations=1, seed=3, progress=False)
    best = search.best()
    assert 0 <= best.fitness <= 1


def test_finetune_inherits_and_reports_test_accuracy(space, trained, tmp_path):
    net = nn.Supernet.load(trained[0] / "supernet.pt")
    r = nn.finetune(trained[0] / "supernet.pt", net.smallest_arch(), tmp_path / "ft",
                    config={"epochs": 1, "calib_batches": 2, "calib_batch_size": 32, "data": DATA}, progress=False)
    assert r["finished"] and r["test_acc"] is not None and 0 <= r["test_acc"] <= 1
    assert 0 <= r["inherited_val_acc"] <= 1
    model = mcunet.FloatModel.load(r["float_model_path"])
    assert model.arch.resolution == 28


def test_bad_input_is_a_python_error(space, trained, tmp_path):
    with pytest.raises(ValueError, match="epochz"):
        nn.train_supernet(space, SUB, tmp_path / "x", config={"epochz": 1})
    with pytest.raises(ValueError, match="expected a dict"):
        nn.finetune(trained[0] / "supernet.pt", space.decode((0.25, 28), space.sample(mcunet.Rng(0))),
                    tmp_path / "ft", config=[1])
    with pytest.raises(ValueError, match="width multiplier 0.3"):
        nn.Supernet(space, "w0.3-r28")
    with pytest.raises(FileNotFoundError):
        nn.Supernet.load(tmp_path / "missing.pt")
    net = nn.Supernet.load(trained[0] / "supernet.pt")
    with pytest.raises(ValueError, match=r"\[n, 1, 28, 28\]"):
        net.forward(np.zeros((2, 1, 32, 32), np.float32))
    other = mcunet.search_space("fmnist_small").decode((1.0, 32), mcunet.search_space("fmnist_small").sample(mcunet.Rng(1)))
    with pytest.raises(ValueError):
        net.set_active(other)
    with pytest.raises(ValueError, match="train="):
        nn.SupernetEvaluator(net)
