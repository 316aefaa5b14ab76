#!/usr/bin/python3
"""Cross-check mcunet's generated int8 code against Arm NN (the independent
end of the correctness chain).

For each .tflite: Arm NN's TfLite parser loads it and runs it on the CpuRef
backend; `mcunet run-host` generates our C code for the same file, compiles it
on the host and runs it on the same inputs. Inputs are random int8 tensors of
the model's (int8-folded) input; a float-input model gets their exact
dequantised values, which its QUANTIZE op maps back to the same int8 values.
Float outputs are re-quantised with the output tensor's scale and zero point.

Prints per model: bit-exact share, share within 1 LSB, argmax agreement.
Exit status 1 if an argmax disagrees or fewer than --min-within-one (default
99%) of output values are within 1 LSB; --require-exact also fails on any
difference.

Usage: armnn_check.py --mcunet build/bin/mcunet [--count N] [--seed S] MODEL.tflite...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def load_armnn():
    # pyarmnn prints notes about the parsers it lacks on import; keep stdout clean.
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pyarmnn as ann
    return ann


class ArmnnModel:
    def __init__(self, ann, path):
        self.ann = ann
        parser = ann.ITfLiteParser()
        self.net = parser.CreateNetworkFromBinaryFile(path)
        in_names = parser.GetSubgraphInputTensorNames(0)
        out_names = parser.GetSubgraphOutputTensorNames(0)
        if len(in_names) != 1 or len(out_names) != 1:
            raise RuntimeError(f"{path}: expected one input and one output, got {in_names} / {out_names}")
        self.in_binding = parser.GetNetworkInputBindingInfo(0, in_names[0])
        self.out_binding = parser.GetNetworkOutputBindingInfo(0, out_names[0])
        self.runtime = ann.IRuntime(ann.CreationOptions())
        opt, messages = ann.Optimize(self.net, [ann.BackendId("CpuRef")], self.runtime.GetDeviceSpec(),
                                     ann.OptimizerOptions())
        self.net_id, err = self.runtime.LoadNetwork(opt)
        if err:
            raise RuntimeError(f"{path}: Arm NN LoadNetwork: {err}")

    def input_info(self):
        info = self.in_binding[1]
        shape = [info.GetShape()[i] for i in range(info.GetNumDimensions())]
        return shape, info.GetDataType()

    def run(self, x):
        ann = self.ann
        inputs = ann.make_input_tensors([self.in_binding], [x])
        outputs = ann.make_output_tensors([self.out_binding])
        self.runtime.EnqueueWorkload(self.net_id, inputs, outputs)
        return ann.workload_tensors_to_ndarray(outputs)[0]


def run_mcunet(mcunet, model, inputs, runtime_dir):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "inputs.bin")
        inputs.astype(np.int8).tofile(path)
        cmd = [mcunet, "run-host", "--model", model, "--input", path, "--json"]
        if runtime_dir:
            cmd += ["--runtime-dir", runtime_dir]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def check(ann, args, model):
    am = ArmnnModel(ann, model)
    shape, dtype = am.input_info()
    probe = run_mcunet(args.mcunet, model, np.zeros(int(np.prod(shape)), np.int8), args.runtime_dir)
    our_shape = probe["input_shape"]
    if int(np.prod(our_shape)) != int(np.prod(shape)):
        raise RuntimeError(f"{model}: Arm NN input {shape} vs mcunet input {our_shape}")
    perm = probe.get("input_permutation")  # set when a leading TRANSPOSE was folded
    rng = np.random.RandomState(args.seed)
    q = rng.randint(-128, 128, size=(args.count, int(np.prod(our_shape)))).astype(np.int8)
    q[0, :] = -128
    if args.count > 1:
        q[1, :] = 127
    ours = np.array(run_mcunet(args.mcunet, model, q.reshape(-1), args.runtime_dir)["outputs"], dtype=np.int32)
    s_in, zp_in = probe["input_scale"], probe["input_zero_point"]
    s_out, zp_out = probe["output_scale"], probe["output_zero_point"]
    theirs = []
    for i in range(args.count):
        x = q[i].reshape(our_shape)
        if perm is not None:
            # our input = transpose(model input, perm): invert it.
            x = np.transpose(x, np.argsort(perm))
        if dtype == ann.DataType_Float32:
            x = ((x.astype(np.float32) - np.float32(zp_in)) * np.float32(s_in)).astype(np.float32)
        else:
            x = x.astype(np.int8)
        y = am.run(np.ascontiguousarray(x.reshape(shape))).reshape(-1)
        if y.dtype == np.float32:
            y = np.clip(np.round(y / np.float32(s_out)) + zp_out, -128, 127)
        theirs.append(y.astype(np.int32))
    theirs = np.stack(theirs)
    diff = np.abs(theirs - ours)
    exact = float(np.mean(diff == 0))
    within1 = float(np.mean(diff <= 1))
    argmax = float(np.mean(theirs.argmax(axis=1) == ours.argmax(axis=1)))
    ok = argmax == 1.0 and within1 * 100 >= args.min_within_one and (not args.require_exact or exact == 1.0)
    print(f"{os.path.basename(model)}: {args.count} inputs x {ours.shape[1]} outputs: "
          f"bit-exact {100 * exact:.2f}%, within 1 LSB {100 * within1:.2f}%, max |diff| {int(diff.max())}, "
          f"argmax agreement {100 * argmax:.1f}% -> {'OK' if ok else ('differs' if args.report_only else 'FAIL')}")
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mcunet", required=True, help="the mcunet command line (build/bin/mcunet)")
    p.add_argument("--runtime-dir", default="", help="engine/runtime (default: the build's)")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-within-one", type=float, default=99.0)
    p.add_argument("--require-exact", action="store_true")
    p.add_argument("--report-only", action="store_true", help="print the agreement, never fail")
    p.add_argument("models", nargs="+")
    args = p.parse_args()
    ann = load_armnn()
    ok = True
    for m in args.models:
        ok = check(ann, args, m) and ok
    return 0 if ok or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
