"""Data sets and float models from Python: NumPy views, splits, clear errors."""

import os

import numpy as np
import pytest

import mcunet

FMNIST = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FMNIST), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_as_numpy_views():
    d = mcunet.load_dataset("fashion-mnist", "test")
    assert len(d) == 10000 and d.num_classes == 10
    imgs = d.images
    assert imgs.shape == (10000, 28, 28, 1) and imgs.dtype == np.uint8
    assert not imgs.flags.writeable or imgs.base is not None  # a view kept alive by the data set
    assert np.bincount(d.labels, minlength=10).tolist() == [1000] * 10
    small = d.subset(list(range(50)))
    train, val = mcunet.split_train_val(small, 10, seed=3)
    assert (len(train), len(val)) == (40, 10)
    assert train.resized(32).images.shape == (40, 32, 32, 1)
    again, _ = mcunet.split_train_val(small, 10, seed=3)
    assert np.array_equal(again.images, train.images)


def test_bad_data_paths_are_python_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-set"):
        mcunet.load_dataset("no-such-set")
    with pytest.raises(ValueError, match="no class folders"):
        mcunet.load_dataset(str(tmp_path))
    bad = tmp_path / "images.idx"
    bad.write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 12)
    labels = tmp_path / "labels.idx"
    labels.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    with pytest.raises(ValueError, match="images.idx"):
        mcunet.load_dataset(f"idx:{bad},{labels}")
    with pytest.raises(FileNotFoundError):
        mcunet.FloatModel.load(tmp_path / "missing.json")
