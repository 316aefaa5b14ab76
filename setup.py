"""Build hook for `pip install .`: the extension mcunet._core is built by CMake.

pyproject.toml holds the metadata; this file only teaches setuptools'
build_ext to configure and build the CMake target `mcunet_python` (and
build_py to ship the data files the package needs at run time: the search
spaces and the latency calibration). Needs cmake, a C++20 compiler, and the
Debian -dev packages the top-level CMakeLists.txt finds; no PyPI access.

Environment:
  MCUNET_CMAKE_ARGS        extra arguments for the CMake configure step
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: 2)
"""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Build products go to build-pip/ (ignored by git), not build/, which is the
# developers' CMake build directory.
BUILD_BASE = "build-pip"
(ROOT / BUILD_BASE).mkdir(exist_ok=True)

# Files copied into the installed package, relative to the repository root.
PACKAGE_DATA_FILES = [
    ("search_spaces", "*.json"),
    ("data", "latency_calibration.json"),
    # The freestanding int8 runtime: mcunet.run_host compiles generated code with it.
    ("engine/runtime", "*.c"),
    ("engine/runtime", "*.h"),
]


class CMakeExtension(Extension):
    """An extension built by a CMake target instead of by setuptools."""

    def __init__(self, name: str, target: str):
        super().__init__(name, sources=[])
        self.target = target


class CMakeBuild(build_ext):
    """Configures the top-level project and builds only the extension's target."""

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, CMakeExtension):
            return super().build_extension(ext)
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        cfg = "Debug" if self.debug else "Release"
        args = [
            f"-DCMAKE_BUILD_TYPE={cfg}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DMCUNET_PYTHON_OUTPUT_DIR={out_dir}",
            "-DMCUNET_BUILD_PYTHON=ON",
            "-DMCUNET_BUILD_TESTS=OFF",
            "-DMCUNET_BUILD_BENCHMARKS=OFF",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        args += shlex.split(os.environ.get("MCUNET_CMAKE_ARGS", ""))
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), *args], check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(["cmake", "--build", str(build_dir), "--target", ext.target, "--config", cfg,
                        "-j", jobs], check=True)
        # The ext suffix CMake chose must be the one setuptools expects.
        if not Path(self.get_ext_fullpath(ext.name)).exists():
            raise RuntimeError(f"CMake did not produce {self.get_ext_fullpath(ext.name)}")


class BuildPyWithData(build_py):
    """build_py that also copies the shipped data files into the package."""

    def run(self) -> None:
        super().run()
        pkg = Path(self.build_lib) / "mcunet"
        for sub, pattern in PACKAGE_DATA_FILES:
            for src in sorted((ROOT / sub).glob(pattern)):
                dst = pkg / sub / src.name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)


setup(
    ext_modules=[CMakeExtension("mcunet._core", target="mcunet_python")],
    cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData},
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
)
