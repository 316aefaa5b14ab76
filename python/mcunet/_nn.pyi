"""Type stubs of mcunet._nn, the libtorch part of mcunet (pybind11); use it as mcunet.nn.

Images are normalised float32 NCHW [n, C, R, R]: a NumPy array or a CPU torch tensor (read in
place when float32 and contiguous; a tensor in gives a tensor out). Errors as in mcunet._core:
FileNotFoundError, ValueError (bad input, with the file and field named), RuntimeError.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from ._core import Arch, FloatModel, ImageDataset, Rng, SearchSpace, SubSpace

PathLike = Union[str, "os.PathLike[str]"]
SubSpaceLike = Union[SubSpace, str]
Images = Any  # npt.ArrayLike of float32 [n, C, R, R] or torch.Tensor
TrainResult = Dict[str, Any]
"""{'curve': [{'epoch', 'lr', 'train_loss', 'train_acc', 'val_acc', 'val_acc_smallest', 'seconds',
'images_per_second'}], 'seconds', 'final_path', 'finished'}."""

def configure_runtime(threads: int = 2) -> None:
    """glibc malloc tuning and torch's intra-op threads (the trainers call it)."""

def train_supernet(space: SearchSpace, subspace: SubSpaceLike, out: PathLike,
                   config: Optional[Dict[str, Any]] = None, resume: bool = False, progress: bool = True,
                   stop_after_epoch: int = 0) -> TrainResult:
    """Sandwich-rule training of the supernet of `subspace`; checkpoint.pt every epoch,
    supernet.pt, curve.csv, config.json in `out`. `config`: a train_config dict."""

def finetune(supernet: PathLike, arch: Arch, out: PathLike, config: Optional[Dict[str, Any]] = None,
             resume: bool = False, progress: bool = True) -> Dict[str, Any]:
    """Inherit `arch`'s weights, fine-tune alone; the TrainResult plus inherited_val_acc, val_acc,
    test_acc (None without a test split), float_model_path."""

class Subnet:
    def __init__(self, arch: Arch, seed: int = 0) -> None: ...
    @property
    def arch(self) -> Arch: ...
    @property
    def num_parameters(self) -> int: ...
    @property
    def normalization(self) -> Dict[str, List[float]]: ...
    def forward(self, images: Images) -> Any:
        """Logits [n, classes]: np.ndarray, or torch.Tensor for a tensor input."""
    def to_float_model(self) -> FloatModel: ...
    def save(self, path: PathLike) -> None: ...
    @staticmethod
    def load(path: PathLike) -> Subnet: ...

class Supernet:
    def __init__(self, space: SearchSpace, subspace: SubSpaceLike, seed: int = 0) -> None: ...
    @staticmethod
    def load(path: PathLike) -> Supernet: ...
    def save(self, path: PathLike) -> None: ...
    @property
    def space(self) -> SearchSpace: ...
    @property
    def subspace(self) -> SubSpace: ...
    @property
    def active(self) -> Arch: ...
    @property
    def num_parameters(self) -> int: ...
    @property
    def normalization(self) -> Dict[str, List[float]]: ...
    @property
    def meta(self) -> Dict[str, Any]: ...
    def largest_arch(self) -> Arch: ...
    def smallest_arch(self) -> Arch: ...
    def sample_arch(self, rng: Rng) -> Arch: ...
    def set_active(self, arch: Arch) -> None: ...
    def forward(self, images: Images) -> Any:
        """Logits [n, classes] of the active subnet (inference mode)."""
    def sort_channels(self) -> None: ...
    def extract(self, arch: Arch) -> Subnet: ...
    def extract_float_model(self, arch: Arch) -> FloatModel: ...

class SupernetEvaluator:
    def __init__(self, supernet: Union[PathLike, Supernet], train: Optional[ImageDataset] = None,
                 val: Optional[ImageDataset] = None, calib_batches: int = 20, calib_batch_size: int = 64,
                 eval_batch_size: int = 256, limit_val: int = 0, seed: int = 0, threads: int = 2) -> None: ...
    @property
    def name(self) -> str: ...
    def __call__(self, archs: Sequence[Arch]) -> List[float]:
        """Top-1 validation accuracy (0..1) of each architecture after BN re-calibration."""
