#!/bin/sh
# ctest armnn_crosscheck: run_check.sh MAKE_MODELS MCUNET RUNTIME_DIR OUT_DIR VWW1
set -eu
MAKE_MODELS=$1 MCUNET=$2 RUNTIME=$3 OUT=$4 VWW1=$5
HERE=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c "import pyarmnn" >/dev/null 2>&1; then
  echo "python3-pyarmnn is not installed: skipping"; exit 77
fi
if [ -z "$(ls /usr/lib/*/armnn*/*CpuRef* 2>/dev/null)" ]; then
  echo "libarmnn-cpuref-backend22 (Arm NN's CpuRef backend) is not installed: skipping"; exit 77
fi
rm -rf "$OUT"
"$MAKE_MODELS" "$OUT" >/dev/null
CHECK="/usr/bin/python3 $HERE/armnn_check.py --mcunet $MCUNET --runtime-dir $RUNTIME --count 16"
# Models with a PAD op hit Arm NN 20.08's int8 PAD (pads with 0, not the zero
# point, unless folded into a CONV_2D): their agreement is reported, not asserted.
echo "== models with PAD ops (Arm NN 20.08 int8 PAD pads with 0; reported only)"
$CHECK --report-only "$OUT"/pad/*.tflite "$VWW1"
echo "== whole models without PAD ops (asserted: argmax 100%; Arm NN requantises in float, so +-1 LSB per layer accumulates)"
$CHECK --min-within-one 0 "$OUT"/exact/*.tflite
echo "== single ops (asserted: argmax 100%, >= 99% of outputs within 1 LSB)"
exec $CHECK "$OUT"/ops/*.tflite
