"""The main job end to end: `mcunet run --quick`, then a re-run that skips every stage.

Run by CTest as `pipeline_quick` (a few minutes on 2 cores), or by hand:
    PYTHONPATH=python /usr/bin/python3 -m pytest -q tests/pipeline
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MCUNET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT / "python"))

import mcunet.pipeline as pipeline  # noqa: E402

CLI = os.environ.get("MCUNET_CLI", str(ROOT / "build" / "bin" / "mcunet"))


def test_config_errors_name_the_key_and_suggest():
    with pytest.raises(ValueError, match="did you mean 'supernet'"):
        pipeline.make_config({"supernt": {"epochs": 1}})
    with pytest.raises(ValueError, match="search.populaton.*did you mean 'population'"):
        pipeline.make_config({"search": {"populaton": 3}})
    with pytest.raises(ValueError, match="expected a JSON object"):
        pipeline.make_config([1, 2])
    with pytest.raises(ValueError, match="schema_version"):
        pipeline.make_config({"schema_version": 99})
    cfg = pipeline.make_config({"search": {"population": 3}}, quick=True, board="stm32f412")
    assert cfg["search"]["population"] == 3 and cfg["board"] == "stm32f412"
    assert cfg["supernet"]["epochs"] == pipeline.QUICK["supernet"]["epochs"]


def test_cli_rejects_bad_input(tmp_path):
    r = subprocess.run([CLI, "run", "--board", "stm32f764", "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and "stm32f764" in r.stderr
    r = subprocess.run([CLI, "run", "--config", str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert r.returncode == 2 and "nope.json" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"supernet": {"epochs": 1,}}')
    r = subprocess.run([CLI, "run", "--config", str(bad), "--out", str(tmp_path / "o")], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "bad.json" in r.stderr and "malformed" in r.stderr


def test_quick_run_completes_and_resumes(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([CLI, "run", "--quick", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    for f in ("report.md", "report.html", "flops_cdf.png", "memory_winner.png", "training_curve.png"):
        assert (out / f).exists(), f
    assert not report["plot_errors"], report["plot_errors"]
    # The firmware ran the winner under QEMU and agreed with the host byte for byte, in the
    # arena the cost model predicted.
    assert report["firmware"]["outputs_equal_host"]
    te = report["memory"]["tinyengine_peak_sram_bytes"]
    assert report["firmware"]["arena_declared"] + report["firmware"]["scratch"] == te
    assert report["memory"]["tflm_peak_sram_bytes"] >= te
    for k in ("float_test", "int8_test"):
        assert 0.0 <= report["accuracy"][k] <= 1.0
    assert set(report["stage_seconds"]) >= {"sweep", "supernet", "search", "finetune", "quantize", "codegen",
                                            "firmware"}
    # A second run with the same inputs skips every stage.
    r = subprocess.run([CLI, "run", "--quick", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    again = json.loads((out / "report.json").read_text())
    assert set(again["skipped"]) >= {"sweep", "supernet", "search", "finetune", "quantize", "codegen", "firmware"}
