// Host-side derivation of the TFLite int8 requantisation parameters that the
// code generator writes as literals and the runtime kernels
// (engine/runtime/mcunet_kernels.h) consume. Bit-exact with TF-Lite Micro's
// Prepare() code (kernels/internal/quantization_util.cc, kernel_util.cc,
// micro/kernels/add_common.cc, micro/kernels/reduce_common.cc).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mcunet/graph.h"

namespace mcunet {

// A real multiplier m ~= multiplier * 2^(shift - 31), multiplier in
// [2^30, 2^31) (or 0), as consumed by MultiplyByQuantizedMultiplier.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
  bool operator==(const QuantizedMultiplier&) const = default;
};

// TFLite QuantizeMultiplier (double-rounding build): q = frexp(m, &shift),
// M = round_half_away(q * 2^31); M == 2^31 -> M = 2^30, shift + 1;
// shift < -31 -> M = 0, shift = 0; m == 0 -> {0, 0}.
// Throws InvalidInput if m is negative, NaN or infinite.
QuantizedMultiplier QuantizeMultiplier(double real_multiplier);

// TFLite QuantizeMultiplierSmallerThanOneExp (ADD): requires 0 < m < 1, so
// shift <= 0. Throws InvalidInput otherwise.
QuantizedMultiplier QuantizeMultiplierSmallerThanOneExp(double real_multiplier);

// Per-channel conv / depthwise / FC multiplier, as TFLite computes it:
// QuantizeMultiplier(((double)s_in * (double)s_w) / (double)s_out).
QuantizedMultiplier QuantizeConvMultiplier(float input_scale, float weight_scale, float output_scale);
// One per weight scale, into `multiplier` / `shift` (resized).
void QuantizeConvMultipliers(float input_scale, std::span<const float> weight_scales, float output_scale,
                             std::vector<int32_t>* multiplier, std::vector<int32_t>* shift);

// TFLite CalculateActivationRangeQuantized for int8: the fused activation's
// range quantized with round(x / scale) + zp (float, half away from zero),
// intersected with [-128, 127].
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};
ActivationRange QuantizedActivationRange(Activation act, float output_scale, int32_t output_zero_point);

// ADD parameters (TF-Lite Micro CalculateOpDataAdd, int8): left shift 20,
// twice_max = 2 * max(s1, s2), in_i = s_i / twice_max,
// out = twice_max / (2^20 * s_out), each QuantizeMultiplierSmallerThanOneExp.
struct AddQuantization {
  int32_t left_shift = 20;
  QuantizedMultiplier input1, input2, output;
};
AddQuantization QuantizeAddParams(float input1_scale, float input2_scale, float output_scale);

// MEAN over H, W (TF-Lite Micro EvalIntegerMean, int8): divide_only when the
// input and output share scale and zero point (reference_ops::Mean, integer
// division); otherwise QuantizeMultiplier(s_in / s_out) folded with 1 /
// num_elements (mcunet_mean_fold_multiplier).
struct MeanQuantization {
  bool divide_only = false;
  QuantizedMultiplier folded;  // unused when divide_only
};
MeanQuantization QuantizeMeanParams(float input_scale, int32_t input_zero_point, float output_scale,
                                    int32_t output_zero_point, int64_t num_elements);

}  // namespace mcunet
