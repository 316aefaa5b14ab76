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
"$MAKE_MODELS" "$OUT" >/dev/null
exec /usr/bin/python3 "$HERE/armnn_check.py" --mcunet "$MCUNET" --runtime-dir "$RUNTIME" --count 16 \
  "$OUT"/*.tflite "$VWW1"
