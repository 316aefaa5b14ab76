"""Where the mcunet sources and the `mcunet` command line are (for the parts that run as processes:
the main job's stages, the firmware build with arm-none-eabi-gcc, QEMU)."""

from __future__ import annotations

import os
from pathlib import Path


def source_dir() -> Path:
    """The repository root (python/mcunet/../..)."""
    return Path(__file__).resolve().parent.parent.parent


def cli_path() -> Path:
    """build/bin/mcunet, or $MCUNET_CLI."""
    env = os.environ.get("MCUNET_CLI")
    p = Path(env) if env else source_dir() / "build" / "bin" / "mcunet"
    if not p.exists():
        raise FileNotFoundError(f"{p}: the mcunet command line is not built (run ./scripts/test or "
                                f"cmake --build build), or set MCUNET_CLI")
    return p
