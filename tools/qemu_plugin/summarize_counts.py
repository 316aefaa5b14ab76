#!/usr/bin/env python3
"""Collects `mcunet qemu --count-instructions --json` runs of one model into
data/instruction_counts.json (the second calibration source of the latency
model) and prints the Markdown tables of firmware/README.md.

  summarize_counts.py --model mcunet-vww1 --macs macs.json \
      --run qemu-m7:dsp:count-m7-dsp.json ... > tables.md

macs.json: {"pointwise_mac": N, "pointwise_output": N, "depthwise_mac": N,
"depthwise_output": N, "conv_mac": N, "conv_output": N, "add_element": N}
(the latency terms of the model, from model.c's shapes).
"""
import argparse
import json
import sys

KINDS = ["pointwise_conv", "depthwise_conv", "conv2d", "add", "pool", "fully_connected", "memcpy_memset", "other"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--macs", required=True)
    ap.add_argument("--run", action="append", required=True, help="machine:kernels:file.json")
    ap.add_argument("--published", default="", help="board:ms:mhz,... published latencies of the model")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    terms = json.load(open(a.macs))
    runs = []
    for r in a.run:
        machine, kernels, path = r.split(":", 2)
        j = json.load(open(path))
        ins = j["instructions"]
        runs.append({"machine": machine, "kernels": kernels, "per_inference": ins["per_inference"],
                     "per_kind": ins["per_kind"], "stack_high_water_bytes": j["stack_high_water_bytes"],
                     "flash_linked_bytes": j["flash_linked_bytes"]})
    published = []
    for p in filter(None, a.published.split(",")):
        board, ms, mhz = p.split(":")
        published.append({"board": board, "latency_ms": float(ms), "clock_mhz": float(mhz),
                          "cycles": float(ms) * float(mhz) * 1e3})
    m7dsp = next(r for r in runs if r["machine"] == "qemu-m7" and r["kernels"] == "dsp")
    k = m7dsp["per_kind"]
    per_term = {
        "pointwise_conv per MAC": k.get("pointwise_conv", 0) / terms["pointwise_mac"],
        "depthwise_conv per MAC": k.get("depthwise_conv", 0) / terms["depthwise_mac"],
        "conv2d per MAC": k.get("conv2d", 0) / terms["conv_mac"],
        "add per element": k.get("add", 0) / terms["add_element"],
    }
    for p in published:
        p["cycles_per_dsp_instruction"] = p["cycles"] / m7dsp["per_inference"]
    doc = {
        "schema_version": 1,
        "kind": "instruction_counts",
        "description": ("Guest instructions per inference of the firmware (firmware/, arm-none-eabi-gcc 12.2 -O2) "
                        "under qemu-system-arm 7.2, counted by tools/qemu_plugin/insn_count.c between "
                        "fw_count_begin/fw_count_end around mcunet_invoke (`mcunet qemu --count-instructions`), "
                        "per kernel kind; deterministic. Second calibration source of the latency model next to "
                        "the published board latencies of data/latency_calibration.json: QEMU does not model "
                        "cycles, so instructions convert to cycles only through a cycles-per-instruction factor, "
                        "given below for the published latencies of the same model."),
        "model": a.model,
        "latency_terms": terms,
        "runs": runs,
        "instructions_per_term_m7_dsp": per_term,
        "published": published,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    # Markdown
    w = sys.stdout.write
    w("| kernel kind | " + " | ".join(f"{r['machine']} {r['kernels']}" for r in runs) + " |\n")
    w("|---|" + "---:|" * len(runs) + "\n")
    for kind in KINDS:
        w(f"| {kind} | " + " | ".join(f"{r['per_kind'].get(kind, 0) / 1e6:.2f} M" for r in runs) + " |\n")
    w("| **total per inference** | " + " | ".join(f"**{r['per_inference'] / 1e6:.2f} M**" for r in runs) + " |\n\n")
    w("| M7 DSP instructions per latency term | value |\n|---|---:|\n")
    for t, v in per_term.items():
        w(f"| {t} | {v:.2f} |\n")
    w("\n| board | published ms | clock MHz | cycles | cycles per DSP instruction of ours |\n|---|---:|---:|---:|---:|\n")
    for p in published:
        w(f"| {p['board']} | {p['latency_ms']:g} | {p['clock_mhz']:g} | {p['cycles'] / 1e6:.2f} M | "
          f"{p['cycles_per_dsp_instruction']:.3f} |\n")


if __name__ == "__main__":
    main()
