"""Type stubs of mcunet._core, the C++ core of mcunet (pybind11).

Errors: mcunet::FileNotFound -> FileNotFoundError, mcunet::InvalidInput ->
ValueError (mcunet::Unsupported -> UnsupportedError, a ValueError), other
mcunet errors -> RuntimeError; the C++ message (naming the file and the
field) is kept.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
BoardLike = Union[str, "os.PathLike[str]", "Board"]
ModelLike = Union["Arch", "Graph", str, "os.PathLike[str]"]
SubSpaceLike = Union["SubSpace", Tuple[float, int]]

DEFAULT_BOARD: str
"""'stm32f746'."""
DEFAULT_PLANNER: str
"""'tinyengine'."""
SWEEP_QUANTILES: List[float]
"""Quantiles of SubSpaceStats.quantile_macs: 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1."""


class UnsupportedError(ValueError):
    """Valid input that mcunet does not support (e.g. a .tflite op it does not know)."""


# ---- Boards -----------------------------------------------------------------

class Board:
    """A target microcontroller: SRAM and Flash budgets and the core clock. kB means KiB."""

    def __init__(self, name: str, core: str, sram_kb: int, flash_kb: int, clock_mhz: int,
                 description: str = "") -> None:
        """A custom board; `core` is 'cortex-m4' or 'cortex-m7'. Raises ValueError on a bad field."""
    @property
    def name(self) -> str:
        """Board name, e.g. 'stm32f746'."""
    @property
    def core(self) -> str:
        """'cortex-m4' or 'cortex-m7'."""
    @property
    def sram_bytes(self) -> int:
        """SRAM budget in bytes."""
    @property
    def flash_bytes(self) -> int:
        """Flash budget in bytes."""
    @property
    def clock_mhz(self) -> int:
        """Core clock (MHz) used for latency estimates."""
    @property
    def description(self) -> str:
        """Human-readable description."""
    def to_dict(self) -> Dict[str, Any]:
        """The board as the JSON dict of a board file."""
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>") -> Board:
        """A board from the dict of a board file; `source` names it in errors (an unknown field names
        the closest known one)."""
    def __eq__(self, other: object) -> bool: ...


def boards() -> List[Board]:
    """The four boards of the MCUNet paper: stm32f412, stm32f746 (default), stm32f765, stm32h743."""
def board(name: BoardLike = "stm32f746") -> Board:
    """A board by name (case-insensitive; 'f746' works) or from a board JSON file.

    ValueError lists the known boards and suggests the closest ("did you mean 'stm32f746'?");
    FileNotFoundError for a missing board JSON."""


# ---- Architecture IR --------------------------------------------------------

class FirstConv:
    """The first (stem) convolution: k x k, stride s, BN + ReLU6."""

    out_channels: int
    kernel: int
    stride: int
    def __init__(self, out_channels: int = 16, kernel: int = 3, stride: int = 2) -> None: ...
    def __eq__(self, other: object) -> bool: ...


class MBBlock:
    """Inverted-residual block: 1x1 expand (absent when expand_ratio == 1), k x k depthwise, 1x1 projection."""

    in_channels: int
    out_channels: int
    mid_channels: int
    """Channels of the depthwise convolution."""
    kernel: int
    stride: int
    expand_ratio: int
    residual: bool
    """Identity shortcut."""
    def __init__(self, in_channels: int, out_channels: int, mid_channels: int, kernel: int = 3,
                 stride: int = 1, expand_ratio: int = 1, residual: bool = False) -> None: ...
    @property
    def has_expand(self) -> bool:
        """Whether the block has a 1x1 expand conv."""
    def __eq__(self, other: object) -> bool: ...


class Arch:
    """An MCUNet-style network as plain data (first conv -> MBConv blocks -> [feature mix] -> pool -> FC).

    Attributes return copies: assign `arch.blocks = blocks` to change blocks.
    """

    name: str
    resolution: int
    in_channels: int
    num_classes: int
    first_conv: FirstConv
    blocks: List[MBBlock]
    feature_mix_channels: int
    def __init__(self, name: str = "", *, resolution: int, num_classes: int, blocks: Sequence[MBBlock],
                 first_conv: FirstConv = ..., in_channels: int = 3, feature_mix_channels: int = 0,
                 validate: bool = True) -> None:
        """Build an architecture; validated unless validate=False (ValueError naming block and field)."""
    @property
    def last_channels(self) -> int:
        """Channels that reach the classifier."""
    def validate(self) -> None:
        """Raise ValueError naming the offending block/field if inconsistent."""
    def to_dict(self) -> Dict[str, Any]:
        """This project's versioned JSON as a dict ({'schema_version': 1, 'kind': 'arch', ...})."""
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>") -> Arch:
        """From a dict in our format or the original MCUNet/ProxylessNAS zoo format."""
    def to_json(self, indent: int = 2) -> str:
        """This project's versioned JSON text."""
    @staticmethod
    def from_json(text: str, source: str = "<json>") -> Arch:
        """From JSON text (ours or the zoo format)."""
    @staticmethod
    def load(path: PathLike) -> Arch:
        """Load a JSON file (ours or the original zoo format). FileNotFoundError / ValueError name the file."""
    def save(self, path: PathLike) -> None:
        """Write this project's versioned JSON (atomically)."""
    def copy(self) -> Arch:
        """A deep copy."""
    def __eq__(self, other: object) -> bool: ...


def load_arch(path: PathLike) -> Arch:
    """Same as Arch.load."""


# ---- Graphs -----------------------------------------------------------------

class Tensor:
    """A graph tensor (NHWC). Constants (weights, biases) live in Flash."""

    @property
    def name(self) -> str: ...
    @property
    def dtype(self) -> str:
        """'int8', 'uint8', 'int16', 'int32', 'int64' or 'float32'."""
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def is_constant(self) -> bool: ...
    @property
    def bytes(self) -> int: ...
    @property
    def scale(self) -> List[float]:
        """Quantisation scales (per tensor or per channel; empty if not quantised)."""
    @property
    def zero_point(self) -> List[int]: ...


class Op:
    """One operator; `inputs` follow TFLite's order ({data, weights, bias})."""

    @property
    def kind(self) -> str:
        """'CONV_2D', 'CONV_2D_1x1', 'DEPTHWISE_CONV_2D', 'ADD', 'MEAN', 'FULLY_CONNECTED', ..."""
    @property
    def inputs(self) -> List[int]: ...
    @property
    def output(self) -> int: ...
    @property
    def kernel(self) -> Tuple[int, int]: ...
    @property
    def stride(self) -> Tuple[int, int]: ...
    @property
    def padding(self) -> Tuple[int, int]:
        """(pad_top, pad_left) as resolved."""
    @property
    def activation(self) -> str:
        """'none', 'relu' or 'relu6'."""
    @property
    def depth_multiplier(self) -> int: ...
    @property
    def macs(self) -> int: ...
    @property
    def source_index(self) -> int:
        """Operator index in the .tflite it came from (-1: none)."""


class Graph:
    """The lowered form of a network: ops in execution order over NHWC tensors."""

    @property
    def name(self) -> str: ...
    @property
    def tensors(self) -> List[Tensor]: ...
    @property
    def ops(self) -> List[Op]: ...
    @property
    def inputs(self) -> List[int]: ...
    @property
    def outputs(self) -> List[int]: ...
    @property
    def total_macs(self) -> int: ...
    def validate(self) -> None:
        """Raise ValueError if an index is out of range or a read precedes its write."""
    def summary(self) -> List[Dict[str, Any]]:
        """One dict per op: {'index', 'kind', 'shape' (output, NHWC), 'macs'}."""
    def __len__(self) -> int: ...


def lower(arch: Arch) -> Graph:
    """Lower an architecture to its int8 graph."""
def read_tflite(model: Union[PathLike, bytes], source: str = "<buffer>") -> Graph:
    """Read an int8 .tflite (path or bytes). FileNotFoundError, ValueError (corrupt), UnsupportedError (op)."""
def fold_int8_input(graph: Graph) -> Graph:
    """The same network with int8 I/O, as TinyEngine runs a .tflite (tensor indices kept)."""


# ---- Cost model -------------------------------------------------------------

class ParamCounts:
    """MACs and parameters, counted as the original MCUNet repository counts them."""

    @property
    def macs(self) -> int: ...
    @property
    def params(self) -> int:
        """Including BatchNorm's weight and bias."""
    @property
    def params_folded(self) -> int:
        """After folding BN into the convolutions."""


def count(arch: Arch) -> ParamCounts:
    """MACs and parameters of an architecture (no planning; fast)."""


class FitResult:
    """Whether a cost fits a board, and by how much each budget fails. Truthy when it fits."""

    @property
    def fits(self) -> bool: ...
    @property
    def sram_excess_bytes(self) -> int:
        """> 0: SRAM over budget by this much."""
    @property
    def flash_excess_bytes(self) -> int:
        """> 0: Flash over budget by this much."""
    @property
    def message(self) -> str: ...
    def __bool__(self) -> bool: ...


class Buffer:
    """A planned buffer: a tensor (tensor >= 0) or scratch (-1); lifetime [first_op, last_op]."""

    @property
    def tensor(self) -> int: ...
    @property
    def op(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def first_op(self) -> int: ...
    @property
    def last_op(self) -> int: ...


class PlanOp:
    """One op of a memory plan: the graph op and what the planner decided for it."""

    @property
    def index(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def output_shape(self) -> List[int]: ...
    @property
    def macs(self) -> int: ...
    @property
    def overlap(self) -> str:
        """'none', 'inplace_depthwise', 'pointwise_forward', 'pointwise_reverse' or 'elementwise'."""
    @property
    def overlap_input(self) -> int: ...
    @property
    def scratch_bytes(self) -> int: ...
    @property
    def live_bytes(self) -> int:
        """Arena bytes in use while the op runs."""
    @property
    def output_offset(self) -> int:
        """Arena offset of the output (-1: not planned)."""
    @property
    def output_bytes(self) -> int: ...
    def to_dict(self) -> Dict[str, Any]: ...


class MemoryPlan:
    """Where every activation tensor and scratch buffer lives in SRAM."""

    @property
    def planner(self) -> str: ...
    @property
    def arena_bytes(self) -> int: ...
    @property
    def scratch_bytes(self) -> int: ...
    @property
    def peak_sram_bytes(self) -> int: ...
    @property
    def buffers(self) -> List[Buffer]: ...
    @property
    def ops(self) -> List[PlanOp]: ...
    @property
    def live_bytes(self) -> npt.NDArray[np.int64]:
        """Arena bytes in use per op."""
    @property
    def graph(self) -> Graph:
        """The graph the plan indexes (for a .tflite under tinyengine: the int8-I/O graph)."""
    def timeline(self, width: int = 80) -> str:
        """ASCII timeline: one row per op, a letter per buffer."""
    def check_consistent(self) -> None:
        """Raise RuntimeError if two buffers collide beyond what the ops' overlap allows."""
    def to_dict(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...


class Cost:
    """MACs, params, Flash and peak SRAM of a model under a memory planner."""

    @property
    def macs(self) -> int: ...
    @property
    def params(self) -> int: ...
    @property
    def params_folded(self) -> int: ...
    @property
    def flash_bytes(self) -> int: ...
    @property
    def flash(self) -> Dict[str, int]:
        """{'weight_bytes', 'bias_bytes', 'quant_bytes', 'code_bytes', 'total'}."""
    @property
    def peak_sram_bytes(self) -> int: ...
    @property
    def arena_bytes(self) -> int: ...
    @property
    def scratch_bytes(self) -> int: ...
    @property
    def planner(self) -> str: ...
    @property
    def board(self) -> Board: ...
    @property
    def plan(self) -> MemoryPlan: ...
    @property
    def graph(self) -> Graph: ...
    @property
    def live_bytes(self) -> npt.NDArray[np.int64]: ...
    def timeline(self, width: int = 80) -> str: ...
    def fits(self, board: Optional[BoardLike] = None) -> FitResult:
        """Whether the model fits `board` (default: the board given to cost())."""
    def to_dict(self) -> Dict[str, Any]:
        """The versioned cost JSON (as `mcunet cost --json` prints)."""


def cost(model: ModelLike, board: BoardLike = "stm32f746", planner: str = "tinyengine") -> Cost:
    """Cost of an Arch, a Graph, or an architecture JSON / int8 .tflite path under a planner, for a board."""
def planners() -> List[str]:
    """'tinyengine' (default), 'tflm', 'cmsis'."""


# ---- Latency ----------------------------------------------------------------

class LatencyModel:
    """Estimated latency (ms) of TinyEngine-style int8 inference, from a calibration file."""

    @staticmethod
    def load(path: PathLike) -> LatencyModel: ...
    @staticmethod
    def default() -> LatencyModel:
        """The shipped calibration ($MCUNET_LATENCY_CALIBRATION, else data/latency_calibration.json)."""
    @staticmethod
    def default_calibration_path() -> str: ...
    def estimate_ms(self, model: ModelLike, board: BoardLike = "stm32f746") -> float: ...
    def op_ms(self, graph: Graph, board: BoardLike = "stm32f746") -> npt.NDArray[np.float64]: ...
    def reference_cycles(self, graph: Graph) -> float: ...
    def cycle_factor(self, board: BoardLike) -> float: ...
    def board_note(self, board: BoardLike) -> str: ...
    @property
    def coefficients(self) -> Dict[str, float]: ...
    @property
    def source(self) -> str: ...
    @property
    def summary(self) -> str:
        """What the calibration was fitted on and its leave-one-out error."""


def latency_ms(model: ModelLike, board: BoardLike = "stm32f746") -> float:
    """Estimated ms of `model` on `board` with the default calibration."""
def fps_to_latency_ms(fps: float) -> float:
    """5 FPS -> 200 ms."""


# ---- Search space -----------------------------------------------------------

class Rng:
    """xoshiro256** seeded through splitmix64; portable, with saveable state."""

    state: List[int]
    def __init__(self, seed: int = 0) -> None: ...
    @staticmethod
    def stream(seed: int, stream: int) -> Rng:
        """Independent stream `stream` of `seed`."""
    def seed(self, seed: int) -> None: ...
    def next(self) -> int: ...
    def below(self, n: int) -> int: ...
    def uniform(self) -> float: ...
    def bernoulli(self, p: float) -> bool: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>") -> Rng: ...
    def copy(self) -> Rng: ...
    def __eq__(self, other: object) -> bool: ...


class SubSpace:
    """One (width multiplier, resolution) pair; a (W, R) tuple converts implicitly."""

    width_mult: float
    resolution: int
    @overload
    def __init__(self, width_mult: float, resolution: int) -> None: ...
    @overload
    def __init__(self, wr: Tuple[float, int]) -> None: ...
    @property
    def label(self) -> str:
        """e.g. 'w0.5-r160'."""
    def __iter__(self) -> Iterator[Union[float, int]]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...


class Genes:
    """A genome: depth per stage, kernel and expand per block slot (0 = inactive). Values, not indices."""

    depths: List[int]
    kernels: List[int]
    expands: List[int]
    def __init__(self, depths: Sequence[int], kernels: Sequence[int], expands: Sequence[int]) -> None: ...
    def to_dict(self) -> Dict[str, List[int]]: ...
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>") -> Genes: ...
    @property
    def hash64(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __lt__(self, other: Genes) -> bool: ...
    def __hash__(self) -> int: ...


class StageSpec:
    """One stage of a search space."""

    @property
    def base_width(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def depths(self) -> List[int]: ...
    @property
    def kernel_sizes(self) -> List[int]: ...
    @property
    def expand_ratios(self) -> List[int]: ...
    @property
    def max_depth(self) -> int: ...


class SearchSpace:
    """A TinyNAS search space over (W, R) sub-spaces; all variation deterministic given an Rng."""

    @staticmethod
    def load(path: PathLike) -> SearchSpace:
        """Read and validate a space file. FileNotFoundError / ValueError name the file and field;
        an unknown field is an error naming the closest known one."""
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>") -> SearchSpace: ...
    def to_dict(self) -> Dict[str, Any]: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def in_channels(self) -> int: ...
    @property
    def num_classes(self) -> int: ...
    @property
    def channel_divisor(self) -> int: ...
    @property
    def width_multipliers(self) -> List[float]: ...
    @property
    def resolutions(self) -> List[int]: ...
    @property
    def stages(self) -> List[StageSpec]: ...
    @property
    def num_stages(self) -> int: ...
    @property
    def num_slots(self) -> int: ...
    @property
    def num_subspaces(self) -> int: ...
    def stage_first_slot(self, stage: int) -> int: ...
    def subspaces(self) -> List[SubSpace]:
        """All (W, R) pairs, W-major in file order."""
    def width(self, base_width: int, width_mult: float) -> int: ...
    def validate(self) -> None: ...
    def validate_genes(self, genes: Genes) -> None:
        """Raise ValueError saying which gene is out of range."""
    def decode(self, subspace: SubSpaceLike, genes: Genes) -> Arch:
        """The (validated) architecture of `genes` in `subspace`."""
    def encode(self, subspace: SubSpaceLike, arch: Arch) -> Genes:
        """The genes of `arch`; ValueError names the first choice outside the space."""
    def match_subspace(self, arch: Arch) -> Optional[SubSpace]: ...
    @overload
    def sample(self, rng: Rng) -> Genes:
        """Random genes, advancing `rng`."""
    @overload
    def sample(self, seed: int) -> Genes:
        """Random genes from a fresh Rng(seed)."""
    def mutate(self, genes: Genes, prob: float, rng: Rng) -> Genes: ...
    def crossover(self, a: Genes, b: Genes, rng: Rng) -> Genes: ...


def make_divisible(v: float, divisor: int, min_value: int = 0) -> int:
    """The original's channel rounding (once-for-all make_divisible)."""


# ---- Sweep (TinyNAS stage 1) -------------------------------------------------

class SubSpaceStats:
    """Sweep statistics of one (W, R) sub-space for one (board, planner) case."""

    @property
    def subspace(self) -> SubSpace: ...
    @property
    def samples(self) -> int: ...
    @property
    def fitting(self) -> int: ...
    @property
    def fit_fraction(self) -> float: ...
    @property
    def mean_macs(self) -> float: ...
    @property
    def quantile_macs(self) -> List[int]: ...
    @property
    def fitting_macs(self) -> npt.NDArray[np.int64]:
        """MACs of every fitting network, ascending: the FLOPs CDF."""
    @property
    def min_peak_sram_bytes(self) -> int: ...
    @property
    def min_flash_bytes(self) -> int: ...
    @property
    def mean_macs_all(self) -> float: ...
    @property
    def rank(self) -> int:
        """0 = best; -1 = not ranked."""


class SweepCase:
    """The sweep for one (board, planner) pair."""

    @property
    def board(self) -> Board: ...
    @property
    def planner(self) -> str: ...
    @property
    def subspaces(self) -> List[SubSpaceStats]: ...
    @property
    def best(self) -> int: ...
    @property
    def best_stats(self) -> Optional[SubSpaceStats]: ...
    @property
    def min_peak_sram_bytes(self) -> int: ...
    @property
    def min_flash_bytes(self) -> int: ...
    @property
    def summary(self) -> str: ...


class SweepResult:
    """The result of a search-space optimisation sweep."""

    @property
    def space(self) -> SearchSpace: ...
    @property
    def samples(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def min_fit_fraction(self) -> float: ...
    @property
    def cdf_points(self) -> int: ...
    @property
    def cases(self) -> List[SweepCase]: ...
    @property
    def seconds(self) -> float: ...
    @property
    def threads(self) -> int: ...
    @property
    def evaluations(self) -> int: ...
    def case(self, board: BoardLike = "stm32f746", planner: str = "tinyengine") -> SweepCase:
        """The case of (board, planner); KeyError if absent."""
    def to_dict(self) -> Dict[str, Any]: ...
    def to_csv(self) -> str: ...
    def comparison_table(self) -> str: ...
    def write(self, dir: PathLike) -> None:
        """Write DIR/sweep.json and DIR/sweep.csv."""


def sweep(space: SearchSpace, boards: Union[BoardLike, Sequence[BoardLike]] = "stm32f746",
          planners: Sequence[str] = ("tinyengine",), samples: int = 1000, seed: int = 0, threads: int = 0,
          cdf_points: int = 101, min_fit_fraction: float = 0.0,
          progress: Union[str, bool, None, Callable[[int, int], None]] = "auto") -> SweepResult:
    """TinyNAS stage 1 over every (W, R) sub-space; reproducible for a seed whatever the thread count.

    `progress`: 'auto' (a tqdm bar on a terminal or in a notebook, when tqdm is installed), True,
    False/None, or a callable progress(done, total). (The package's wrapper; mcunet._core.sweep
    itself takes a callable or None.)"""


# ---- Evolution search (TinyNAS stage 2) --------------------------------------

Evaluator = Union[None, str, Dict[str, Any], Callable[[List[Arch]], Sequence[Optional[float]]]]
"""None (the config's evaluator), a kind ('macs'), a spec dict ({'kind': 'table', 'path': ...},
{'kind': 'synthetic', 'target_seed': 0}), or a callable: called with a batch (list) of Arch, returns
one fitness per Arch (higher is better; None or NaN marks a failed candidate)."""


class EvolutionConfig:
    """Configuration of an evolution search, as the JSON of `mcunet search --config`."""

    def __init__(self, config: Union[Dict[str, Any], PathLike]) -> None:
        """From a dict (the config JSON's fields) or a config file path. Unknown fields are errors."""
    @staticmethod
    def load(path: PathLike) -> EvolutionConfig: ...
    @staticmethod
    def from_dict(d: Dict[str, Any], source: str = "<dict>", base_dir: str = "") -> EvolutionConfig: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def validate(self) -> None: ...
    @property
    def space(self) -> str: ...
    @property
    def subspace(self) -> SubSpace: ...
    @property
    def board(self) -> str: ...
    @property
    def planner(self) -> str: ...
    @property
    def evaluator(self) -> Dict[str, Any]: ...
    @property
    def algorithm(self) -> str:
        """'evolution' or 'random' (the baseline)."""
    @property
    def population_size(self) -> int: ...
    @property
    def parent_ratio(self) -> float: ...
    @property
    def mutation_ratio(self) -> float: ...
    @property
    def mutate_prob(self) -> float: ...
    @property
    def generations(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def unique(self) -> bool: ...
    @property
    def on_evaluator_error(self) -> str:
        """'continue' (an evaluator's exception marks its candidates failed) or 'stop' (it stops the search)."""
    @property
    def num_parents(self) -> int: ...
    @property
    def num_mutations(self) -> int: ...
    @property
    def num_crossovers(self) -> int: ...
    @property
    def budget(self) -> int:
        """population_size * (generations + 1)."""


class Candidate:
    """One evaluated candidate of an evolution search."""

    @property
    def id(self) -> int: ...
    @property
    def generation(self) -> int: ...
    @property
    def origin(self) -> str:
        """'random', 'mutation' or 'crossover'."""
    @property
    def parents(self) -> Tuple[int, int]: ...
    @property
    def genes(self) -> Genes: ...
    @property
    def fitness(self) -> Optional[float]:
        """None if the evaluation failed."""
    @property
    def failed(self) -> bool: ...
    @property
    def error(self) -> str: ...
    @property
    def macs(self) -> int: ...
    @property
    def params(self) -> int: ...
    @property
    def flash_bytes(self) -> int: ...
    @property
    def peak_sram_bytes(self) -> int: ...
    @property
    def latency_ms(self) -> float: ...
    def to_dict(self) -> Dict[str, Any]: ...


class GenerationStats:
    """Progress of one generation."""

    @property
    def generation(self) -> int: ...
    @property
    def best_id(self) -> int: ...
    @property
    def best_fitness(self) -> float: ...
    @property
    def mean_parent_fitness(self) -> float: ...
    @property
    def evaluated(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def rejected_infeasible(self) -> int: ...
    @property
    def rejected_duplicate(self) -> int: ...
    def to_dict(self) -> Dict[str, Any]: ...


class EvolutionSearch:
    """TinyNAS stage 2 in one (W, R) sub-space under SRAM, Flash and latency constraints.

    The GIL is released while C++ works and held around a Python evaluator.
    on_error: None (default) follows the config's on_evaluator_error ('continue' unless set);
    'record' (or 'continue'): a raising evaluator's candidates are recorded as failed, with the
    message, and the search goes on; 'raise' (or 'stop'): the first exception stops the search and
    propagates. KeyboardInterrupt always stops it.
    """

    def __init__(self, config: Union[EvolutionConfig, Dict[str, Any], PathLike],
                 space: Optional[SearchSpace] = None, evaluator: Evaluator = None,
                 out_dir: Optional[PathLike] = None, on_error: Optional[str] = None) -> None: ...
    @staticmethod
    def resume(out_dir: PathLike, evaluator: Evaluator = None, on_error: Optional[str] = None) -> EvolutionSearch:
        """Continue the search checkpointed in `out_dir` (pass a Python evaluator again)."""
    def run(self, progress: Optional[Callable[[GenerationStats], None]] = None) -> None:
        """Run the remaining generations; write the results to out_dir if set."""
    def step(self) -> None:
        """The initial population or one more generation."""
    @property
    def done(self) -> bool: ...
    @property
    def generations_done(self) -> int: ...
    @property
    def config(self) -> EvolutionConfig: ...
    @property
    def space(self) -> SearchSpace: ...
    @property
    def board(self) -> Board: ...
    @property
    def constraints(self) -> str: ...
    @property
    def history(self) -> List[Candidate]: ...
    def history_dicts(self) -> List[Dict[str, Any]]:
        """Flat dicts: the input of mcunet.plot.pareto / evolution_progress."""
    @property
    def stats(self) -> List[GenerationStats]: ...
    @property
    def population(self) -> List[int]: ...
    @property
    def rng(self) -> Rng: ...
    def best(self) -> Candidate: ...
    def best_arch(self) -> Arch: ...
    def decode(self, candidate: Candidate) -> Arch: ...
    def cost(self, genes: Genes) -> Dict[str, Union[int, float]]: ...
    def violation(self, genes: Genes) -> Optional[str]:
        """None if `genes` satisfies the constraints, else what fails."""
    def history_json(self) -> Dict[str, Any]: ...
    def history_csv(self) -> str: ...
    def summary(self) -> Dict[str, Any]: ...
    def summary_text(self) -> str: ...
    def checkpoint(self) -> Dict[str, Any]: ...
    def save_checkpoint(self, dir: PathLike) -> None: ...
    def write_results(self, dir: PathLike) -> None:
        """best_arch.json, history.json, history.csv, summary.json."""


def evolution_search(space: SearchSpace, subspace: SubSpaceLike, evaluator: Evaluator = None,
                     out_dir: Optional[PathLike] = None, on_error: Optional[str] = None,
                     progress: Union[str, bool, None, Callable[[GenerationStats], None]] = "auto",
                     *, board: BoardLike = ..., planner: str = ..., population_size: int = ...,
                     parent_ratio: float = ..., mutation_ratio: float = ..., mutate_prob: float = ...,
                     generations: int = ..., seed: int = ..., unique: bool = ..., algorithm: str = ...,
                     max_child_attempts: int = ..., max_initial_attempts: int = ...,
                     latency_calibration: str = ..., peak_sram_kb: Union[None, str, float] = ...,
                     flash_kb: Union[None, str, float] = ..., latency_ms: Optional[float] = ...,
                     fps: Optional[float] = ..., constraints: Dict[str, Any] = ...,
                     on_evaluator_error: str = ...) -> EvolutionSearch:
    """Run an evolution search and return it. Keywords are the config's fields (defaults: the paper's
    population 100, 20 parents, 50 mutations, 50 crossovers, mutate_prob 0.1, 30 generations; the board's
    SRAM and Flash as constraints). An unknown keyword raises ValueError naming the closest known one.
    `progress`: 'auto' (a tqdm bar over generations on a terminal or in a notebook), True, False/None,
    or a callable progress(stats) called after each generation."""


def arch_hash(arch: Arch) -> str:
    """The 16-digit hex structural hash of an architecture (the key of accuracy tables)."""


def set_log_level(level: str) -> None:
    """Level of the C++ core's log messages: 'trace', 'debug', 'info' (default), 'warning', 'error',
    'critical' or 'off'."""


# ---- Data sets and float models (bindings_data.cc) ----------------------------------------------

class ImageDataset:
    """Images (N x H x W x C, uint8) and labels of a classification data set."""
    source: str
    num_classes: int
    class_names: List[str]
    @property
    def images(self) -> npt.NDArray[np.uint8]:
        """N x H x W x C uint8, a view (no copy); torch.from_numpy() on it is zero-copy too."""
    @property
    def labels(self) -> npt.NDArray[np.int32]: ...
    def __len__(self) -> int: ...
    def subset(self, indices: Sequence[int]) -> ImageDataset: ...
    def resized(self, size: int, resize: bool = ...) -> ImageDataset:
        """Centre pad/crop to size x size (resize=True: bilinear rescale)."""


def load_dataset(name: PathLike, split: str = ..., size: int = ..., channels: int = ...) -> ImageDataset:
    """'fashion-mnist' (split 'train'/'test'), 'idx:<images>,<labels>' or an image folder."""


def split_train_val(data: ImageDataset, val_count: int, seed: int = ...) -> Tuple[ImageDataset, ImageDataset]:
    """(train, val): a deterministic held-out validation split."""


class FloatModel:
    """A trained float network for one Arch (the supernet's extract(), the quantiser's input)."""
    arch: Arch
    input_mean: List[float]
    input_std: List[float]
    layer_names: List[str]
    @staticmethod
    def load(path: PathLike) -> FloatModel: ...
    def save(self, path: PathLike) -> None: ...
    def weight(self, name: str) -> npt.NDArray[np.float32]: ...
    @staticmethod
    def random(arch: Arch, seed: int = ...) -> FloatModel:
        """Seeded random weights and BatchNorm statistics (tests, demos)."""


# ---- Float forward, PTQ, .tflite export, codegen (bindings_quant.cc) ----------------------------

def float_forward(model: FloatModel, images: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Logits (N x classes) on uint8 images (N x R x R x C), torch-free reference forward."""


def quantize(model: FloatModel, calibration_images: npt.ArrayLike, method: str = ...,
             percentile: float = ...) -> Graph:
    """int8 PTQ (TFLite spec) calibrated on uint8 images: an int8 Graph."""


def quantize_images(model: FloatModel, graph: Graph, images: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """uint8 images as the int8 model's inputs (N x input bytes)."""


def write_tflite(graph: Graph, path: PathLike, float_io: bool = ...) -> None:
    """Writes a schema-v3 .tflite (int8 I/O, or float I/O with QUANTIZE/DEQUANTIZE)."""


def codegen(model: Union[Graph, PathLike], out_dir: PathLike, board: Optional[BoardLike] = ...,
            prefix: str = ...) -> Dict[str, Any]:
    """model.h / model.c into out_dir; returns files, kernels, arena/scratch/peak SRAM bytes."""


def _run_host(model: Union[Graph, PathLike], inputs: npt.NDArray[np.int8], runtime_dir: PathLike) -> npt.NDArray[np.int8]: ...
