#include "mcunet/quantize_multiplier.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "mcunet/error.h"
// The fold used by the runtime's MEAN (a static inline C function), so host
// and firmware share one definition.
#include "../../engine/runtime/requantize.h"

namespace mcunet {

namespace {

void CheckMultiplier(double m, const char* what) {
  if (!std::isfinite(m) || m < 0.0) {
    throw InvalidInput(std::string(what) + ": real multiplier must be finite and >= 0, got " + std::to_string(m));
  }
}

void CheckScale(float s, const char* what) {
  if (!std::isfinite(s) || !(s > 0.0f)) {
    throw InvalidInput(std::string(what) + " must be finite and > 0, got " + std::to_string(s));
  }
}

}  // namespace

QuantizedMultiplier QuantizeMultiplier(double real_multiplier) {
  CheckMultiplier(real_multiplier, "QuantizeMultiplier");
  QuantizedMultiplier r;
  if (real_multiplier == 0.0) return r;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  // std::round: half away from zero, like TfLiteRound.
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  r.multiplier = static_cast<int32_t>(q_fixed);
  r.shift = shift;
  return r;
}

QuantizedMultiplier QuantizeMultiplierSmallerThanOneExp(double real_multiplier) {
  if (!(real_multiplier > 0.0 && real_multiplier < 1.0)) {
    throw InvalidInput("QuantizeMultiplierSmallerThanOneExp: real multiplier must be in (0, 1), got " +
                       std::to_string(real_multiplier));
  }
  QuantizedMultiplier r = QuantizeMultiplier(real_multiplier);
  if (r.shift > 0) {
    throw InvalidInput("QuantizeMultiplierSmallerThanOneExp: shift " + std::to_string(r.shift) + " > 0");
  }
  return r;
}

QuantizedMultiplier QuantizeConvMultiplier(float input_scale, float weight_scale, float output_scale) {
  CheckScale(input_scale, "input scale");
  CheckScale(weight_scale, "weight scale");
  CheckScale(output_scale, "output scale");
  const double m = (static_cast<double>(input_scale) * static_cast<double>(weight_scale)) /
                   static_cast<double>(output_scale);
  return QuantizeMultiplier(m);
}

void QuantizeConvMultipliers(float input_scale, std::span<const float> weight_scales, float output_scale,
                             std::vector<int32_t>* multiplier, std::vector<int32_t>* shift) {
  multiplier->resize(weight_scales.size());
  shift->resize(weight_scales.size());
  for (size_t i = 0; i < weight_scales.size(); ++i) {
    const QuantizedMultiplier q = QuantizeConvMultiplier(input_scale, weight_scales[i], output_scale);
    (*multiplier)[i] = q.multiplier;
    (*shift)[i] = q.shift;
  }
}

ActivationRange QuantizedActivationRange(Activation act, float output_scale, int32_t output_zero_point) {
  CheckScale(output_scale, "output scale");
  auto quantize = [&](float x) { return output_zero_point + static_cast<int32_t>(std::round(x / output_scale)); };
  ActivationRange r;
  switch (act) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      r.min = std::max(r.min, quantize(0.0f));
      break;
    case Activation::kRelu6:
      r.min = std::max(r.min, quantize(0.0f));
      r.max = std::min(r.max, quantize(6.0f));
      break;
  }
  return r;
}

AddQuantization QuantizeAddParams(float input1_scale, float input2_scale, float output_scale) {
  CheckScale(input1_scale, "ADD input1 scale");
  CheckScale(input2_scale, "ADD input2 scale");
  CheckScale(output_scale, "ADD output scale");
  AddQuantization r;
  r.left_shift = 20;
  const double twice_max = 2 * static_cast<double>(std::max(input1_scale, input2_scale));
  r.input1 = QuantizeMultiplierSmallerThanOneExp(static_cast<double>(input1_scale) / twice_max);
  r.input2 = QuantizeMultiplierSmallerThanOneExp(static_cast<double>(input2_scale) / twice_max);
  r.output = QuantizeMultiplierSmallerThanOneExp(
      twice_max / (static_cast<double>(1 << r.left_shift) * static_cast<double>(output_scale)));
  return r;
}

MeanQuantization QuantizeMeanParams(float input_scale, int32_t input_zero_point, float output_scale,
                                    int32_t output_zero_point, int64_t num_elements) {
  CheckScale(input_scale, "MEAN input scale");
  CheckScale(output_scale, "MEAN output scale");
  if (num_elements <= 0) {
    throw InvalidInput("MEAN: number of reduced elements must be > 0, got " + std::to_string(num_elements));
  }
  MeanQuantization r;
  r.divide_only = input_zero_point == output_zero_point && input_scale == output_scale;
  const QuantizedMultiplier q =
      QuantizeMultiplier(static_cast<double>(input_scale) / static_cast<double>(output_scale));
  mcunet_mean_fold_multiplier(q.multiplier, q.shift, num_elements, &r.folded.multiplier, &r.folded.shift);
  return r;
}

}  // namespace mcunet
