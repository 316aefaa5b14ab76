"""Figures of the main job, from the files it wrote (run with /usr/bin/python3).

usage: plots.py OUT_DIR BOARD VWW1_TFLITE
Writes OUT_DIR/flops_cdf.png (paper Fig. 3), OUT_DIR/memory_vww1.png and
OUT_DIR/memory_best.png (per-op memory under each planner, paper Fig. 8
style) and OUT_DIR/pareto.png (the search's candidates).
"""
import csv
import json
import os
import sys

import mcunet
import mcunet.plot as mplot


def main(out: str, board: str, vww1: str) -> None:
    sweep = json.load(open(os.path.join(out, "sweep", "sweep.json")))
    case = next(c for c in sweep["cases"] if c["board"]["name"] == board and c["planner"] == "tinyengine")
    cdfs = {s["label"]: s["cdf_macs"] for s in case["subspaces"] if s.get("cdf_macs")}
    mplot.flops_cdf(cdfs, title=f"FLOPs CDF of fitting networks, {board} (tinyengine)").savefig(
        os.path.join(out, "flops_cdf.png"), dpi=120)
    mplot.memory_per_op(vww1, board=board).savefig(os.path.join(out, "memory_vww1.png"), dpi=120)
    best = os.path.join(out, "search", "best_arch.json")
    mplot.memory_per_op(mcunet.load_arch(best), board=board).savefig(os.path.join(out, "memory_best.png"), dpi=120)
    with open(os.path.join(out, "search", "history.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r.get("failed", "0") in ("0", "false", "False")]
    hist = [{k: float(v) for k, v in r.items() if k in ("peak_sram_bytes", "fitness", "generation")} for r in rows]
    mplot.pareto(hist, x="peak_sram_bytes", y="fitness").savefig(os.path.join(out, "pareto.png"), dpi=120)
    print(f"wrote {out}/flops_cdf.png, memory_vww1.png, memory_best.png, pareto.png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
