"""mcunet.nn: the weight-sharing supernet on libtorch, in process.

Training, the BN re-calibration evaluator for the evolution search, and fine-tuning run in C++
(``mcunet._nn``, with the GIL released); images cross as NumPy arrays or CPU torch tensors
without a copy.

>>> import mcunet, mcunet.nn
>>> space = mcunet.search_space("fmnist_small")
>>> r = mcunet.nn.train_supernet(space, "w1-r32", "runs/supernet",
...                              config={"epochs": 1, "data": {"limit_train": 2000}})
>>> net = mcunet.nn.Supernet.load(r["final_path"])
>>> net.set_active(net.smallest_arch())
>>> logits = net.forward(mcunet.nn.normalize(images, net))      # images: uint8 [n, R, R, C]
>>> ev = mcunet.nn.SupernetEvaluator(r["final_path"], limit_val=500)
>>> search = mcunet.evolution_search(space, "w1-r32", evaluator=ev)

Importing this module loads libtorch; ``import mcunet`` alone does not.
"""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np

# libgomp's spinning threads make 2-thread training several times slower when the cores are
# shared (measured 5.9x, README); OpenMP reads this once, when libtorch loads. Import mcunet.nn
# before torch for it to apply (the CLI sets it for its nn verbs).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from . import _nn
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError("mcunet.nn needs the extension mcunet._nn, built with libtorch (CMake option "
                      "MCUNET_BUILD_NN=ON, Debian package libtorch-dev); this build has none: " + str(e)) from e

from ._nn import (  # noqa: F401  (the public API)
    Subnet,
    Supernet,
    SupernetEvaluator,
    configure_runtime,
    finetune,
    train_supernet,
)

__all__ = ["Subnet", "Supernet", "SupernetEvaluator", "configure_runtime", "finetune", "train_supernet",
           "normalize"]


def normalize(images: Any, net: Union[Supernet, Subnet, dict]) -> np.ndarray:
    """uint8 images [n, R, R, C] (NHWC, as ImageDataset.images) -> float32 [n, C, R, R] normalised
    with the network's per-channel mean and std (of pixel/255), as the trainer feeds them."""
    norm = net if isinstance(net, dict) else (net.normalization if isinstance(net, (Supernet, Subnet)) else None)
    if norm is None:
        raise TypeError("normalize: pass a Supernet or a {'mean': [...], 'std': [...]} dict")
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"normalize: expected images [n, R, R, C], got shape {x.shape}")
    mean = np.asarray(norm["mean"], np.float32)
    std = np.asarray(norm["std"], np.float32)
    if x.shape[3] != mean.size:
        raise ValueError(f"normalize: images have {x.shape[3]} channels, the network {mean.size}")
    out = (x.astype(np.float32) / 255.0 - mean) / std
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
