"""The MCUNet main job, end to end, as resumable stages.

    data -> sweep -> supernet -> search -> fine-tune -> int8 (.tflite)
         -> code generation -> firmware (+ QEMU run checked against the host) -> report

Every stage is one ``mcunet <verb>`` of the C++ command line, run as a child
process, so each step is also reproducible by hand from the command printed
in ``OUT/pipeline.log``. A stage writes its files into ``OUT/<stage>/`` and
finishes by writing ``OUT/<stage>/stage.json`` with a key: a hash of its
configuration and of its inputs' keys. On a re-run a stage whose key is
unchanged is skipped; an interrupted stage (no ``stage.json``) runs again,
resuming from its own checkpoint where the verb supports it (supernet
training and evolution search do).

Use it from Python::

    import mcunet.pipeline as p
    report = p.run(board="stm32f746", out="runs/main", quick=True)

or from the command line: ``mcunet run [--config FILE] [--board NAME]
[--out DIR] [--quick]`` (which calls :func:`main`).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import gzip
import hashlib
import html
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from ._cli import cli_path, source_dir  # noqa: F401  (re-exported: mcunet.pipeline.cli_path)

SCHEMA_VERSION = 1

#: The embedded default: Fashion-MNIST on the STM32F746, sized to finish in
#: about 15 minutes on 2 cores. ``--quick`` overrides parts with QUICK.
DEFAULT_CONFIG: Dict[str, Any] = {
    "schema_version": SCHEMA_VERSION,
    "kind": "pipeline",
    "board": "stm32f746",
    "space": "fmnist_small",
    "data": "fashion-mnist",
    "seed": 0,
    "sweep": {
        "samples": 1000,
        # Training budget: the sweep picks among these resolutions only
        # (None: all of the space's). Fashion-MNIST is 28x28; 32 pads it.
        "resolutions": [32],
        "width_multipliers": None,
    },
    # Training budget on 2 cores (~300 images/s for one subnet at 32x32): a
    # subset of the training split, the largest + 2 random subnets per batch.
    "supernet": {"epochs": 2, "limit_train": 12000, "val_images": 2000, "random_subnets": 2, "config": {}},
    "search": {"population": 20, "generations": 4, "fps": None, "recalib_batches": 5,
               "val_limit": 1000},
    "finetune": {"epochs": 2, "limit_train": 20000},
    # eval_images: images per split for float vs int8 top-1 (0: whole splits).
    "quantize": {"calib_images": 512, "eval_images": 2000},
    "firmware": {"test_images": 3},
}

QUICK: Dict[str, Any] = {
    "sweep": {"samples": 200},
    "supernet": {"epochs": 1, "limit_train": 2000, "val_images": 500},
    "search": {"population": 8, "generations": 2, "recalib_batches": 2, "val_limit": 300},
    "finetune": {"epochs": 1, "limit_train": 1000},
    "quantize": {"calib_images": 64, "eval_images": 300},
    "firmware": {"test_images": 1},
}

STAGES = ["sweep", "supernet", "search", "finetune", "quantize", "codegen", "firmware", "report"]


class PipelineError(RuntimeError):
    """A stage failed; the message names the stage and the command."""


# ---- Configuration -------------------------------------------------------------------------


def _merge(base: Dict[str, Any], over: Dict[str, Any], where: str = "") -> Dict[str, Any]:
    """Deep-merges ``over`` into a copy of ``base``; unknown keys are errors naming the nearest."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            near = difflib.get_close_matches(k, list(base.keys()), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (valid: {', '.join(sorted(base))})"
            raise ValueError(f"pipeline config: unknown key '{where}{k}'{hint}")
        if isinstance(base[k], dict) and k != "config":
            if not isinstance(v, dict):
                raise ValueError(f"pipeline config: '{where}{k}' must be an object")
            out[k] = _merge(base[k], v, f"{where}{k}.")
        else:
            out[k] = copy.deepcopy(v)
    return out


def make_config(config: Optional[Dict[str, Any]] = None, *, quick: bool = False,
                board: Optional[str] = None) -> Dict[str, Any]:
    """The default configuration, with ``--quick`` settings, a user config and a board applied."""
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if quick:
        cfg = _merge(cfg, QUICK)
    if config:
        if not isinstance(config, dict):
            raise ValueError(f"pipeline config: expected a JSON object, got {type(config).__name__}")
        user = dict(config)
        if user.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise ValueError(f"pipeline config: schema_version {user['schema_version']} is not "
                             f"{SCHEMA_VERSION}")
        cfg = _merge(cfg, user)
    if board:
        cfg["board"] = board
    return cfg


def load_config(path: str) -> Dict[str, Any]:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such pipeline config file") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


# ---- Locating the build ----------------------------------------------------------------------


def _space_path(space: str) -> Path:
    p = Path(space)
    if p.suffix == ".json" or p.exists():
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such search space file")
        return p.resolve()
    shipped = source_dir() / "search_spaces" / f"{space}.json"
    if not shipped.exists():
        raise FileNotFoundError(f"search space '{space}': not a file and not shipped in search_spaces/")
    return shipped


def _qemu_machine(board: str) -> str:
    """The QEMU machine with the board's core: qemu-m4 for the F412 (Cortex-M4), else qemu-m7."""
    return "qemu-m4" if "f412" in board.lower() else "qemu-m7"


# ---- Stages ---------------------------------------------------------------------------------


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


class Runner:
    """Runs stages with skip-if-unchanged, logging and timing."""

    def __init__(self, out: Path, cfg: Dict[str, Any], progress: bool = True):
        self.out = out
        self.cfg = cfg
        self.cli = cli_path()
        self.keys: Dict[str, str] = {}
        self.times: Dict[str, float] = {}
        self.skipped: List[str] = []
        self.progress = progress
        out.mkdir(parents=True, exist_ok=True)
        self.log = open(out / "pipeline.log", "a")

    def dir(self, stage: str) -> Path:
        d = self.out / stage
        d.mkdir(parents=True, exist_ok=True)
        return d

    def cmd(self, stage: str, args: Sequence[Any], *, capture: bool = False,
            env: Optional[Dict[str, str]] = None) -> str:
        """Runs ``mcunet <args>``; raises PipelineError with its output on failure."""
        argv = [str(self.cli)] + [str(a) for a in args]
        line = " ".join(shlex.quote(a) for a in argv)
        self.log.write(f"[{time.strftime('%H:%M:%S')}] {stage}: {line}\n")
        self.log.flush()
        full_env = dict(os.environ)
        full_env.update(env or {})
        if capture or not self.progress:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)
            self.log.write(r.stdout[-4000:] + r.stderr[-4000:])
            if r.returncode != 0:
                raise PipelineError(f"stage {stage}: `{line}` failed with status {r.returncode}:\n"
                                    f"{r.stderr[-3000:] or r.stdout[-3000:]}")
            return r.stdout
        r = subprocess.run(argv, env=full_env)  # progress bars go straight to the terminal
        if r.returncode != 0:
            raise PipelineError(f"stage {stage}: `{line}` failed with status {r.returncode}")
        return ""

    def stage(self, name: str, inputs: Dict[str, Any], fn: Callable[[Path], Dict[str, Any]]) -> Dict[str, Any]:
        """Runs ``fn(stage_dir)`` unless OUT/name/stage.json has the same key; returns its result."""
        key = _hash({"stage": name, "inputs": inputs, "schema": SCHEMA_VERSION})
        d = self.dir(name)
        stamp = d / "stage.json"
        if stamp.exists():
            try:
                done = json.loads(stamp.read_text())
                if done.get("key") == key:
                    self.keys[name] = key
                    self.times[name] = done.get("seconds", 0.0)
                    self.skipped.append(name)
                    print(f"==> {name}: unchanged, skipped ({stamp})", flush=True)
                    return done["result"]
            except (json.JSONDecodeError, KeyError):
                pass
            stamp.unlink()
        # A stage interrupted with the same key resumes from its own checkpoint;
        # one started with other inputs starts over in an empty directory.
        started = d / "started.json"
        if started.exists():
            try:
                same = json.loads(started.read_text()).get("key") == key
            except json.JSONDecodeError:
                same = False
            if not same:
                shutil.rmtree(d)
                d.mkdir(parents=True)
        started.write_text(json.dumps({"key": key}))
        print(f"==> {name}", flush=True)
        t0 = time.time()
        result = fn(d)
        seconds = time.time() - t0
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "kind": "pipeline_stage", "stage": name,
                                   "key": key, "seconds": seconds, "result": result}, indent=2))
        os.replace(tmp, stamp)
        self.keys[name] = key
        self.times[name] = seconds
        print(f"    {name}: {seconds:.1f} s", flush=True)
        return result


# ---- Helpers on files -------------------------------------------------------------------------


def _read_idx_images(path: str) -> "Any":
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n, h, w = struct.unpack(">IIII", data[:16])
    if magic != 0x803:
        raise ValueError(f"{path}: not an IDX image file")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w)


def _read_idx_labels(path: str) -> "Any":
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def _test_inputs(float_model: Dict[str, Any], input_quant: Dict[str, Any], count: int) -> List[Any]:
    """The first ``count`` Fashion-MNIST test images as int8 model inputs (pad, normalise, quantise)."""
    import numpy as np
    fm = "/usr/share/datasets/fashion-mnist"
    imgs = _read_idx_images(f"{fm}/t10k-images-idx3-ubyte.gz")[:count]
    labels = _read_idx_labels(f"{fm}/t10k-labels-idx1-ubyte.gz")[:count]
    r = float_model["arch"]["resolution"]
    pad = (r - imgs.shape[1]) // 2
    out = []
    for img in imgs:
        x = np.zeros((r, r), dtype=np.float32)
        x[pad:pad + img.shape[0], pad:pad + img.shape[1]] = img / 255.0
        x = (x - float_model["input_mean"][0]) / float_model["input_std"][0]
        q = np.clip(np.round(x / input_quant["scale"]) + input_quant["zero_point"], -128, 127).astype(np.int8)
        out.append(q)
    return list(zip(out, labels.tolist()))


# ---- The pipeline -----------------------------------------------------------------------------


def run(config: Optional[Dict[str, Any]] = None, *, board: Optional[str] = None, out: str = "runs/main",
        quick: bool = False, progress: bool = True) -> Dict[str, Any]:
    """Runs (or resumes) the whole pipeline; returns the report as a dict (also OUT/report.json)."""
    cfg = make_config(config, quick=quick, board=board)
    outp = Path(out).resolve()
    runner = Runner(outp, cfg, progress=progress)
    (outp / "config.json").write_text(json.dumps(cfg, indent=2))
    space = _space_path(cfg["space"])
    b = cfg["board"]
    seed = cfg["seed"]
    t_start = time.time()

    # An unknown board name is an error (with a suggestion) from the first stage's C++ side.

    # 1. Search-space optimisation (TinyNAS stage 1).
    def do_sweep(d: Path) -> Dict[str, Any]:
        sp = json.loads(space.read_text())
        if cfg["sweep"]["resolutions"]:
            sp["resolutions"] = [r for r in sp["resolutions"] if r in cfg["sweep"]["resolutions"]]
        if cfg["sweep"]["width_multipliers"]:
            sp["width_multipliers"] = [w for w in sp["width_multipliers"] if w in cfg["sweep"]["width_multipliers"]]
        if not sp["resolutions"] or not sp["width_multipliers"]:
            raise PipelineError("sweep: the configured resolutions/width_multipliers leave no sub-space")
        (d / "space.json").write_text(json.dumps(sp, indent=2))
        runner.cmd("sweep", ["sweep", "--space", d / "space.json", "--boards", b, "--planners", "tinyengine,tflm",
                             "--samples", cfg["sweep"]["samples"], "--seed", seed, "--out", d, "-q"], capture=True)
        sw = json.loads((d / "sweep.json").read_text())
        case = next(c for c in sw["cases"] if c["planner"] == "tinyengine")
        if not case.get("best"):
            raise PipelineError(f"sweep: no sub-space of {space.name} fits {b}")
        best = next(s for s in case["subspaces"] if s["label"] == case["best"])
        return {"best": case["best"], "space": str(d / "space.json"),
                "best_stats": {k: best.get(k) for k in ("fit_fraction", "mean_macs", "label")}}

    sweep = runner.stage("sweep", {"cfg": cfg["sweep"], "board": b, "space": space.read_text(), "seed": seed},
                         do_sweep)
    sub = sweep["best"]
    space_file = sweep["space"]

    # 2. Supernet training on the chosen sub-space.
    def do_supernet(d: Path) -> Dict[str, Any]:
        sn = cfg["supernet"]
        args = ["train-supernet", "--space", space_file, "--subspace", sub, "--data", cfg["data"],
                "--epochs", sn["epochs"], "--out", d, "--seed", seed, "--limit-val", sn["val_images"],
                "--random-subnets", sn["random_subnets"]]
        if sn["limit_train"]:
            args += ["--limit-train", sn["limit_train"]]
        if sn["config"]:
            (d / "train_config.json").write_text(json.dumps(sn["config"]))
            args += ["--config", d / "train_config.json"]
        if (d / "checkpoint.pt").exists():
            args += ["--resume"]
        runner.cmd("supernet", args)
        return {"checkpoint": str(d / "supernet.pt"), "curve": str(d / "curve.csv")}

    supernet = runner.stage("supernet", {"cfg": cfg["supernet"], "sweep": runner.keys["sweep"], "data": cfg["data"],
                                         "seed": seed}, do_supernet)

    # 3. Evolution search under the board's SRAM and Flash, fitness = supernet accuracy.
    def do_search(d: Path) -> Dict[str, Any]:
        s = cfg["search"]
        args = ["search", "--space", space_file, "--subspace", sub, "--board", b, "--population", s["population"],
                "--generations", s["generations"], "--seed", seed, "--supernet", supernet["checkpoint"],
                "--calib-batches", s["recalib_batches"], "--limit-val", s["val_limit"]]
        if s["fps"]:
            args += ["--fps", s["fps"]]
        if (d / "checkpoint.json").exists():
            args = ["search", "--resume", d]
        else:
            args += ["--out", d]
        runner.cmd("search", args)
        return {"best_arch": str(d / "best_arch.json"), "summary": _maybe_json(d / "summary.json")}

    search = runner.stage("search", {"cfg": cfg["search"], "supernet": runner.keys["supernet"], "board": b},
                          do_search)

    # 4. Fine-tune the winner alone (inheriting the supernet's weights).
    def do_finetune(d: Path) -> Dict[str, Any]:
        f = cfg["finetune"]
        args = ["finetune", "--arch", search["best_arch"], "--supernet", supernet["checkpoint"],
                "--epochs", f["epochs"], "--out", d, "--seed", seed]
        if f["limit_train"]:
            args += ["--limit-train", f["limit_train"]]
        runner.cmd("finetune", args)
        return {"float_model": str(d / "float_model.json"), "summary": _maybe_json(d / "result.json")}

    finetune = runner.stage("finetune", {"cfg": cfg["finetune"], "search": runner.keys["search"]}, do_finetune)

    # 5. int8 post-training quantisation and .tflite export, float vs int8 accuracy.
    def do_quantize(d: Path) -> Dict[str, Any]:
        text = runner.cmd("quantize", ["quantize", "--float-model", finetune["float_model"], "--data", cfg["data"],
                                       "--calib-images", cfg["quantize"]["calib_images"], "--out",
                                       d / "model.tflite", "--json"]
                            + (["--eval-images", cfg["quantize"]["eval_images"]] if cfg["quantize"]["eval_images"]
                               else []), capture=True)
        q = json.loads(text)
        (d / "quantize.json").write_text(json.dumps(q, indent=2))
        acc = {f"{kind}_{split}": q[split][f"{kind}_top1"] / 100.0
               for split in ("val", "test") if split in q for kind in ("float", "int8")}
        acc["images"] = {split: q[split]["images"] for split in ("val", "test") if split in q}
        return {"tflite": str(d / "model.tflite"), "accuracy": acc}

    quant = runner.stage("quantize", {"cfg": cfg["quantize"], "finetune": runner.keys["finetune"]}, do_quantize)

    # 6. Code generation, and the cost model's view of the winner (ours vs TF-Lite Micro's planner).
    def do_codegen(d: Path) -> Dict[str, Any]:
        runner.cmd("codegen", ["codegen", "--model", quant["tflite"], "--board", b, "--out", d / "code"], capture=True)
        costs = {}
        for planner in ("tinyengine", "tflm"):
            costs[planner] = json.loads(runner.cmd("codegen", ["cost", "--model", quant["tflite"], "--board", b,
                                                              "--planner", planner, "--json"], capture=True))
        latency = {}
        for lb in ("stm32f412", "stm32f746", "stm32f765", "stm32h743"):
            latency[lb] = json.loads(runner.cmd("codegen", ["latency", "--model", quant["tflite"], "--board", lb,
                                                           "--json"], capture=True))
        (d / "costs.json").write_text(json.dumps({"costs": costs, "latency": latency}, indent=2))
        return {"code": str(d / "code"), "costs": costs, "latency": latency}

    codegen = runner.stage("codegen", {"quantize": runner.keys["quantize"], "board": b}, do_codegen)

    # 7. Firmware for the board, and the winner under QEMU on test images, checked against the host.
    def do_firmware(d: Path) -> Dict[str, Any]:
        fw = runner.cmd("firmware", ["firmware", "--model", codegen["code"], "--board", b, "--out", d / b],
                        capture=True)
        (d / "firmware_build.txt").write_text(fw)
        fmodel = json.loads(Path(finetune["float_model"]).read_text())
        probe = json.loads(runner.cmd("firmware", ["run-host", "--model", quant["tflite"], "--random-seed", 0,
                                                   "--json"], capture=True))
        iq = {"scale": float(probe["input_scale"]), "zero_point": int(probe["input_zero_point"])}
        machine = _qemu_machine(b)
        runs = []
        for i, (x, label) in enumerate(_test_inputs(fmodel, iq, cfg["firmware"]["test_images"])):
            inp = d / f"test_{i}.bin"
            inp.write_bytes(x.tobytes())
            host = json.loads(runner.cmd("firmware", ["run-host", "--model", quant["tflite"], "--input", inp,
                                                      "--json"], capture=True))["output"]
            q = json.loads(runner.cmd("firmware", ["qemu", "--model", codegen["code"], "--board", machine,
                                                   "--input", inp, "--out", d / machine, "--json"], capture=True))
            fw_out = q["output"]
            runs.append({"image": i, "label": label, "host": host, "firmware": fw_out, "equal": host == fw_out,
                         "predicted": int(max(range(len(fw_out)), key=lambda k: fw_out[k])),
                         "memory": {k: q.get(k) for k in q if k not in ("output", "outputs")}})
        if not all(r["equal"] for r in runs):
            raise PipelineError("firmware: the QEMU outputs differ from the host run of the same code: "
                                + json.dumps([(r["host"], r["firmware"]) for r in runs if not r["equal"]]))
        return {"machine": machine, "runs": runs, "build": fw}

    firmware = runner.stage("firmware", {"codegen": runner.keys["codegen"], "cfg": cfg["firmware"]}, do_firmware)

    # 8. The report.
    report = _report(runner, cfg, sweep, supernet, search, finetune, quant, codegen, firmware)
    report["plots"], report["plot_errors"] = _plots(outp, b, sweep, search, quant, supernet)
    report["total_seconds"] = time.time() - t_start
    (outp / "report.json").write_text(json.dumps(report, indent=2))
    _write_markdown(outp, report)
    te = codegen["costs"]["tinyengine"]
    print(f"mcunet run: {b}, sub-space {sub}, int8 test top-1 {_fmt_pct(report['accuracy'].get('int8_test'))}, "
          f"peak SRAM {te.get('peak_sram_bytes')} B predicted / {report['firmware']['arena_declared']} B arena in "
          f"firmware, Flash {te.get('flash_bytes')} B; {report['total_seconds']:.0f} s; {outp}/report.md", flush=True)
    return report


def _maybe_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _winner_summary(arch_path: Path, cost: Dict[str, Any]) -> str:
    a = json.loads(arch_path.read_text())
    blocks = a.get("blocks", [])
    ks = ",".join(str(b.get("kernel")) for b in blocks)
    es = ",".join(str(b.get("expand_ratio")) for b in blocks)
    return (f"{len(blocks)} MBConv blocks (kernels {ks}; expand ratios {es}), "
            f"{cost.get('macs', 0) / 1e6:.2f} M MACs, {cost.get('params', 0) / 1e3:.1f} k params")


def _fmt_pct(x: Optional[float]) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _report(runner: Runner, cfg, sweep, supernet, search, finetune, quant, codegen, firmware):
    te, tf = codegen["costs"]["tinyengine"], codegen["costs"]["tflm"]
    mem = firmware["runs"][0]["memory"] if firmware["runs"] else {}
    acc = quant["accuracy"]
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "pipeline_report",
        "board": cfg["board"],
        "config": cfg,
        "subspace": {"chosen": sweep["best"], "why": "largest mean MACs among the sub-spaces whose sampled networks "
                     "fit the board's SRAM and Flash under the tinyengine planner", **sweep["best_stats"]},
        "winner": json.loads(Path(search["best_arch"]).read_text()),
        "winner_summary": _winner_summary(Path(search["best_arch"]), te),
        "supernet": {"checkpoint": supernet["checkpoint"], "curve": supernet["curve"]},
        "search": search.get("summary"),
        "finetune": finetune.get("summary"),
        "accuracy": {"float_val": acc.get("float_val"), "int8_val": acc.get("int8_val"),
                     "float_test": acc.get("float_test"), "int8_test": acc.get("int8_test")},
        "memory": {"tinyengine_peak_sram_bytes": te.get("peak_sram_bytes"),
                   "tflm_peak_sram_bytes": tf.get("peak_sram_bytes"),
                   "flash_bytes": te.get("flash_bytes")},
        "firmware": {"machine": firmware["machine"], "arena_declared": mem.get("arena_bytes_declared"),
                     "arena_touched": mem.get("arena_bytes_touched"), "scratch": mem.get("scratch_bytes_declared"),
                     "stack_high_water": mem.get("stack_high_water_bytes"),
                     "runtime_ram": mem.get("runtime_ram_bytes"), "sram_needed": mem.get("sram_needed_bytes"),
                     "canaries": mem.get("canaries"), "flash_linked": mem.get("flash_linked_bytes"),
                     "outputs_equal_host": all(r["equal"] for r in firmware["runs"]),
                     "runs": firmware["runs"]},
        "latency": {k: v.get("latency_ms") for k, v in codegen["latency"].items()},
        "stage_seconds": runner.times,
        "skipped": runner.skipped,
    }


def _plots(out: Path, board: str, sweep, search, quant, supernet):
    """The report's figures as PNG files in OUT; returns (names written, errors by name)."""
    import csv as _csv
    import mcunet.plot as mplot
    written: List[str] = []
    errors: Dict[str, str] = {}

    def save(name: str, make: Callable[[], Any]) -> None:
        try:
            make().savefig(out / name, dpi=110)
            written.append(name)
        except Exception as e:  # a figure must not lose the report; the error is reported in it
            errors[name] = f"{type(e).__name__}: {e}"

    sw = json.loads((Path(sweep["space"]).parent / "sweep.json").read_text())
    case = next(c for c in sw["cases"] if c["planner"] == "tinyengine")
    cdfs = {s["label"]: s["cdf_macs"] for s in case["subspaces"] if s.get("cdf_macs")}
    save("flops_cdf.png", lambda: mplot.flops_cdf(cdfs, title=f"FLOPs CDF of fitting networks, {board}"))
    save("memory_winner.png", lambda: mplot.memory_per_op(quant["tflite"], board=board,
                                                          title="winner: arena per op, tinyengine vs tflm"))
    hist_csv = Path(search["best_arch"]).parent / "history.csv"

    def history() -> List[Dict[str, float]]:
        with open(hist_csv) as f:
            rows = [r for r in _csv.DictReader(f) if r.get("failed", "0") in ("0", "false", "False")]
        return [{k: float(v) for k, v in r.items() if k in ("peak_sram_bytes", "fitness", "generation", "macs")}
                for r in rows]

    save("pareto_sram.png", lambda: mplot.pareto(history(), x="peak_sram_bytes", y="fitness"))
    save("evolution.png", lambda: mplot.evolution_progress(history()))
    curve = Path(supernet["curve"])
    save("training_curve.png", lambda: mplot.training_curve(curve, title="supernet training"))
    return written, errors


def _write_markdown(out: Path, r: Dict[str, Any]) -> None:
    lines = [f"# mcunet run on {r['board']}", "",
             f"Sub-space: **{r['subspace']['chosen']}** ({r['subspace']['why']}).", "",
             "| accuracy | float | int8 |", "|---|---|---|",
             f"| validation | {_fmt_pct(r['accuracy']['float_val'])} | {_fmt_pct(r['accuracy']['int8_val'])} |",
             f"| test | {_fmt_pct(r['accuracy']['float_test'])} | {_fmt_pct(r['accuracy']['int8_test'])} |", "",
             "| memory | bytes |", "|---|---|",
             f"| peak SRAM, tinyengine planner (predicted) | {r['memory']['tinyengine_peak_sram_bytes']} |",
             f"| peak SRAM, TF-Lite Micro planner | {r['memory']['tflm_peak_sram_bytes']} |",
             f"| arena declared by the firmware | {r['firmware']['arena_declared']} |",
             f"| scratch | {r['firmware']['scratch']} |",
             f"| stack high-water mark | {r['firmware']['stack_high_water']} |",
             f"| runtime state (firmware .data/.bss besides the buffers) | {r['firmware']['runtime_ram']} |",
             f"| SRAM needed in firmware (arena + scratch + stack + runtime) | {r['firmware']['sram_needed']} |",
             f"| Flash (cost model) | {r['memory']['flash_bytes']} |",
             f"| Flash linked in the firmware ELF | {r['firmware']['flash_linked']} |", "",
             f"Canaries after the buffers: {r['firmware']['canaries']}.", "",
             f"Winner: {r['winner_summary']}.", "",
             f"Firmware outputs equal the host run: {r['firmware']['outputs_equal_host']} "
             f"({len(r['firmware']['runs'])} test images on {r['firmware']['machine']}).", "",
             "| board | estimated latency (ms) | FPS |", "|---|---|---|"]
    for b, ms in r["latency"].items():
        lines.append(f"| {b} | {ms:.1f} | {1000 / ms:.1f} |" if ms else f"| {b} | n/a | n/a |")
    lines += ["", "| stage | seconds |", "|---|---|"]
    for s, t in r["stage_seconds"].items():
        lines.append(f"| {s} | {t:.1f}{' (skipped, from an earlier run)' if s in r['skipped'] else ''} |")
    lines += ["", "Winner architecture: `winner` in report.json.", ""]
    lines += [f"![{p}]({p})" for p in r.get("plots", [])]
    for name, err in r.get("plot_errors", {}).items():
        lines.append(f"- figure {name} could not be drawn: {err}")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    (out / "report.html").write_text(_markdown_to_html(lines))


def _markdown_to_html(lines: List[str]) -> str:
    """The report's small markdown subset (headings, tables, images, paragraphs) as HTML."""
    out = ["<!doctype html><meta charset=utf-8><title>mcunet run</title>",
           "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #bbb;padding:.2em .6em;text-align:right}img{max-width:100%}</style>"]
    table: List[List[str]] = []

    def flush() -> None:
        if table:
            head, rows = table[0], [r for r in table[2:]]
            out.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>" +
                       "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows) +
                       "</table>")
            table.clear()

    for line in lines:
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip("|").split("|")])
            continue
        flush()
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("![") and "](" in line:
            src = line[line.index("](") + 2:-1]
            out.append(f'<p><img src="{html.escape(src)}" alt="{html.escape(src)}"></p>')
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "\n".join(out) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="mcunet run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="pipeline config JSON (keys as DEFAULT_CONFIG)")
    ap.add_argument("--board", help="target board (default stm32f746)")
    ap.add_argument("--out", default="runs/main", help="output directory (default runs/main)")
    ap.add_argument("--quick", action="store_true", help="tiny settings (about 3 minutes)")
    a = ap.parse_args(argv)
    try:
        run(load_config(a.config) if a.config else None, board=a.board, out=a.out, quick=a.quick)
    except (ValueError, FileNotFoundError, PipelineError) as e:
        print(f"mcunet run: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
