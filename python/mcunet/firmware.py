"""Firmware from Python: build the ELF of a generated model for a board, run it under QEMU.

Both drive the `mcunet` command line (``mcunet firmware`` / ``mcunet qemu``), which runs CMake with
``arm-none-eabi-gcc`` and ``qemu-system-arm``: they are processes by nature, so this module calls
the CLI rather than duplicating it.

>>> import numpy as np, mcunet.firmware as fw
>>> elf = fw.build("runs/model_c", "stm32f746")["elf"]
>>> r = fw.run_qemu("runs/model_c", "qemu-m7", input=np.zeros(1024, np.int8))
>>> r["output"], r["arena_bytes_declared"], r["stack_high_water_bytes"]

:func:`run_qemu` raises :class:`FirmwareError` when the firmware reports a failure (its exit
status is not 0: output mismatch, damaged canary, arena size different from the prediction).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from ._cli import cli_path

PathLike = Union[str, "os.PathLike[str]"]

class FirmwareError(RuntimeError):
    """The firmware ran but reported a failure; ``report`` holds what it printed (a dict)."""

    def __init__(self, message: str, report: Dict[str, Any]):
        super().__init__(message)
        self.report = report


def _run(args: Sequence[Any]) -> subprocess.CompletedProcess:
    argv = [str(cli_path())] + [str(a) for a in args]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _fail(verb: str, r: subprocess.CompletedProcess) -> None:
    """Raises the Python exception for a failed ``mcunet <verb>`` (status 2: mcunet's own error)."""
    lines = (r.stderr.strip() or r.stdout.strip()).splitlines()
    text = f"mcunet {verb}: " + ("\n".join(lines[-20:]) if lines else f"exit status {r.returncode}")
    if "no such file" in text.lower():
        raise FileNotFoundError(text)
    if r.returncode == 2:
        raise ValueError(text)
    raise RuntimeError(text)


def _input_args(tmp: str, input: Optional[Union[np.ndarray, bytes]]) -> list:
    """``--input FILE`` with the int8 tensor written into ``tmp``, or nothing for None."""
    if input is None:
        return []
    path = Path(tmp) / "input.bin"
    path.write_bytes(input if isinstance(input, bytes) else np.ascontiguousarray(input, dtype=np.int8).tobytes())
    return ["--input", path]


def _model_dir(model: PathLike) -> Path:
    p = Path(os.fspath(model))
    if not (p / "model.h").exists():
        raise FileNotFoundError(f"{p}: not a generated model directory (no model.h; run mcunet.codegen first)")
    return p


def build(model: PathLike, board: str, out: Optional[PathLike] = None, *, opt: str = "-O2",
          kernels: str = "dsp", input: Optional[Union[np.ndarray, bytes]] = None) -> Dict[str, Any]:
    """Builds the firmware ELF of the generated model in ``model`` for ``board`` (stm32f412, stm32f746,
    stm32f765, stm32h743, qemu-m7 or qemu-m4).

    Returns {'board', 'elf', 'log'} ('log': the build's memory usage and ``size`` report). A model
    that does not fit the board fails the link: ValueError with the linker's message (by how much).
    """
    model_dir = _model_dir(model)
    args = ["firmware", "--model", model_dir, "--board", board, "--opt", opt, "--kernels", kernels]
    if out is not None:
        args += ["--out", os.fspath(out)]
    with tempfile.TemporaryDirectory() as tmp:
        r = _run(args + _input_args(tmp, input))
    if r.returncode != 0:
        _fail("firmware", r)
    fields = dict(line.split(None, 1) for line in r.stdout.splitlines() if len(line.split(None, 1)) == 2)
    return {"board": board, "elf": fields.get("elf", "").strip(), "log": r.stdout}


def run_qemu(model: Optional[PathLike], machine: str = "qemu-m7", *, input: Optional[Union[np.ndarray, bytes]] = None,
             random_seed: Optional[int] = None, out: Optional[PathLike] = None, kernels: str = "dsp",
             count_instructions: bool = False, selftest: bool = False, timeout: int = 120) -> Dict[str, Any]:
    """Builds the firmware for a QEMU machine (qemu-m7: Cortex-M7, qemu-m4: Cortex-M4), runs it and
    returns what it measured: 'output' (int8 NumPy array), 'arena_bytes_declared',
    'stack_high_water_bytes', canaries, 'status', and with ``count_instructions`` 'instructions'
    (per inference, per kernel kind, per function). ``input``: the int8 input tensor (NHWC), or
    None for the seeded random input. ``selftest=True`` runs the kernel self-test (no model).
    """
    args = ["qemu", "--board", machine, "--kernels", kernels, "--timeout", timeout, "--json"]
    if selftest:
        args.append("--selftest")
    else:
        args += ["--model", _model_dir(model)]
    if out is not None:
        args += ["--out", os.fspath(out)]
    if count_instructions:
        args.append("--count-instructions")
    if input is None and random_seed is not None and not selftest:
        args += ["--random-seed", random_seed]
    with tempfile.TemporaryDirectory() as tmp:
        r = _run(args + _input_args(tmp, input))
    start = r.stdout.find("{")
    if start < 0:
        _fail("qemu", r)
    report = json.loads(r.stdout[start:])
    if "output" in report:
        report["output"] = np.asarray(report["output"], dtype=np.int8)
    if r.returncode != 0:
        raise FirmwareError(f"mcunet qemu: the firmware reported status {report.get('status')} "
                            f"(exit {r.returncode}): {r.stderr.strip()[-2000:]}", report)
    return report
