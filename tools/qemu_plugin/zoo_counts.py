#!/usr/bin/env python3
"""How well do our firmware's instruction counts predict TinyEngine's published latencies,
across models? Counts the guest instructions per inference (qemu-m7, DSP kernels) of every model
of data/latency_calibration.json that is held here, and fits one cycles-per-instruction factor per
board on the published latencies (leave-one-out errors).

The MCUNet zoo models are held as architectures only: they run as int8 models with seeded random
weights (FloatModel.random, PTQ on random images). Our kernels' instruction counts do not depend on
the weight values, only on the shapes and on which requantisation path a layer takes (the fast
path for every layer of these models, as for vww1, whose real .tflite is used).

  PYTHONPATH=python /usr/bin/python3 tools/qemu_plugin/zoo_counts.py --out data/instruction_counts_models.json

Needs build/bin/mcunet, arm-none-eabi-gcc and qemu-system-arm (minutes: the largest model has
126 M MACs). Prints a Markdown table.
"""
import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import mcunet
import mcunet.firmware as fw

ROOT = Path(__file__).resolve().parents[2]


def count_model(name, graph_or_path, work, seed):
    """Instructions per inference of the model's firmware on qemu-m7, after checking that its output
    equals the host run of the same generated code on the same (seeded random int8) input."""
    code_dir = work / name
    mcunet.codegen(graph_or_path, code_dir)
    cost = mcunet.cost(graph_or_path)
    g = cost.graph
    shape = g.tensors[g.inputs[0]].shape
    x = np.random.default_rng(seed).integers(-128, 128, size=int(np.prod(shape)), dtype=np.int8)
    r = fw.run_qemu(code_dir, "qemu-m7", input=x, count_instructions=True, out=work / (name + "-fw"),
                    timeout=1200)  # raises FirmwareError on a failed run
    host = mcunet.run_host(graph_or_path, x).reshape(-1)
    if not np.array_equal(np.asarray(r["output"]).reshape(-1), host):
        raise RuntimeError(f"{name}: the firmware's output differs from the host run")
    return r["instructions"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="JSON to write")
    ap.add_argument("--seed", type=int, default=7, help="seed of the weights, calibration images and input")
    ap.add_argument("--work", default="", help="build directory (default: a temporary one)")
    a = ap.parse_args()

    calib = json.loads((ROOT / "data" / "latency_calibration.json").read_text())
    clock_mhz = {b.name: b.clock_mhz for b in mcunet.boards()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.work) if a.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for model, info in calib["models"].items():
            if "arch" in info:
                arch = mcunet.Arch.load(ROOT / "data" / info["arch"])
                fm = mcunet.FloatModel.random(arch, a.seed)
                rng = np.random.default_rng(a.seed)
                r = arch.resolution
                images = rng.integers(0, 256, size=(16, r, r, arch.in_channels), dtype=np.uint8)
                graph = mcunet.quantize(fm, images)
                source = "architecture " + info["arch"] + ", seeded random weights"
            elif "tflite" in info:
                graph = str(ROOT / "data" / info["tflite"])
                source = info["tflite"] + " (real weights)"
            else:
                continue
            cost = mcunet.cost(graph)
            print(f"{model}: counting ...", file=sys.stderr, flush=True)
            ins = count_model(model, graph, work, a.seed)
            rows.append({"model": model, "source": source, "macs": cost.macs,
                         "instructions_per_inference": ins["per_inference"], "per_kind": ins["per_kind"]})

    by_model = {r["model"]: r for r in rows}
    fits = []
    for board in ("stm32h743", "stm32f746"):
        mhz = clock_mhz[board]
        pts = [(m["model"], m["latency_ms"]) for m in calib["measurements"]
               if m["board"] == board and m["model"] in by_model]
        if len(pts) < 2:
            continue
        cpi = {name: ms * mhz * 1e3 / by_model[name]["instructions_per_inference"] for name, ms in pts}
        # One factor per board: the geometric mean of the per-model ratios (least squares in log space),
        # and its leave-one-out prediction of each model.
        logs = {n: math.log(c) for n, c in cpi.items()}
        factor = math.exp(sum(logs.values()) / len(logs))
        per_model = []
        for name, ms in pts:
            others = [v for n, v in logs.items() if n != name]
            f_loo = math.exp(sum(others) / len(others))
            pred = by_model[name]["instructions_per_inference"] * f_loo / (mhz * 1e3)
            per_model.append({"model": name, "published_ms": ms, "cycles_per_instruction": cpi[name],
                              "loo_predicted_ms": pred, "loo_error": pred / ms - 1.0})
        errs = [p["loo_error"] for p in per_model]
        fits.append({"board": board, "clock_mhz": mhz, "cycles_per_instruction": factor,
                     "loo_rms_error": math.sqrt(sum(e * e for e in errs) / len(errs)),
                     "loo_max_abs_error": max(abs(e) for e in errs), "models": per_model})

    doc = {
        "schema_version": 1,
        "kind": "instruction_counts_models",
        "description": ("Guest instructions per inference of our firmware (qemu-m7, DSP kernels, -O2) for every "
                        "model of data/latency_calibration.json held here (zoo architectures with seeded random "
                        "weights; vww1 from its .tflite), and one cycles-per-instruction factor per board fitted "
                        "on TinyEngine's published latencies, with leave-one-out errors. Written by "
                        "tools/qemu_plugin/zoo_counts.py."),
        "seed": a.seed,
        "models": rows,
        "fits": fits,
    }
    Path(a.out).write_text(json.dumps(doc, indent=2) + "\n")

    w = sys.stdout.write
    w("| model | MACs | M7 instructions | per MAC |" + "".join(
        f" {f['board']} published ms | cycles/instr | LOO predicted ms (error) |" for f in fits) + "\n")
    w("|---|---:|---:|---:|" + "---:|---:|---:|" * len(fits) + "\n")
    for r in rows:
        line = (f"| {r['model']} | {r['macs'] / 1e6:.1f} M | {r['instructions_per_inference'] / 1e6:.2f} M | "
                f"{r['instructions_per_inference'] / r['macs']:.2f} |")
        for f in fits:
            p = next((p for p in f["models"] if p["model"] == r["model"]), None)
            line += (f" {p['published_ms']:g} | {p['cycles_per_instruction']:.3f} | "
                     f"{p['loo_predicted_ms']:.1f} ({100 * p['loo_error']:+.1f}%) |" if p else " - | - | - |")
        w(line + "\n")
    for f in fits:
        w(f"\n{f['board']}: {f['cycles_per_instruction']:.3f} cycles per instruction; leave-one-out error "
          f"{100 * f['loo_rms_error']:.1f}% RMS, {100 * f['loo_max_abs_error']:.1f}% max\n")


if __name__ == "__main__":
    main()
