// Post-training int8 quantisation (TFLite int8 specification) of a FloatModel.
//
// QuantizeModel returns the int8 Graph of LowerArch(model.arch) (same ops,
// same tensor indices) with every constant filled and every tensor
// quantised, ready for EvaluateCost(graph, "tinyengine") + GenerateCode and
// for WriteTflite:
//   - BatchNorm folded into the conv weights and biases;
//   - conv / depthwise weights per-channel symmetric int8 in [-127, 127],
//     zero point 0 (quantized_dimension 0 for CONV_2D [O,kh,kw,I], 3 for
//     DEPTHWISE_CONV_2D [1,kh,kw,C]); scale max|w[c]| / 127;
//   - FULLY_CONNECTED weights per-tensor (the spec), zero point 0;
//   - int32 biases round(b / (s_in * s_w[c])), zero point 0, their tensors
//     carrying those scales;
//   - activations per-tensor asymmetric int8 from calibration ranges (always
//     including 0; min/max, or a percentile of the histogram), ReLU6 folded
//     into the output range (the range is intersected with [0, 6]);
//   - the input's range is the exact range of normalised pixels
//     ((0 - mean) / std .. (1 - mean) / std), so no test image saturates;
//   - ADD and MEAN get their own calibrated output scales (requantising, as
//     the spec allows), FULLY_CONNECTED logits too.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mcunet/float_forward.h"
#include "mcunet/float_model.h"
#include "mcunet/graph.h"

namespace mcunet {

enum class CalibrationMethod : uint8_t { kMinMax, kPercentile };

struct PtqOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  // kPercentile: keep this share of each tensor's values inside the range
  // (the rest is clipped, half on each side), from a 2048-bin histogram.
  double percentile = 99.99;
  int histogram_bins = 2048;
};

// Activation range [lo, hi] -> (scale, zero point) for int8 [-128, 127]:
// lo = min(lo, 0), hi = max(hi, 0); scale = (hi - lo) / 255 (a tiny positive
// scale for an all-zero tensor); zero_point = clamp(round(-128 - lo / scale)).
void ChooseActivationQuant(float lo, float hi, float* scale, int32_t* zero_point);

// Quantises `model` with calibration images `calib` (count normalised NHWC
// float images, see NormalizeImages). Throws InvalidInput naming the layer /
// field if the model does not match its arch, or if count < 1.
Graph QuantizeModel(const FloatModel& model, std::span<const float> calib, int64_t count,
                    const PtqOptions& options = {});

// The graph's int8 input for normalised float values (TFLite QUANTIZE:
// clamp(round(x / scale) + zero_point), round half away from zero in float),
// for one or more images back to back.
std::vector<int8_t> QuantizeInput(const Graph& graph, std::span<const float> normalized);
// Same from uint8 pixels (HWC, back to back), normalised as the model was
// trained (NormalizeImage) first.
std::vector<int8_t> QuantizeImages(const FloatModel& model, const Graph& graph, const uint8_t* pixels,
                                   int64_t count);

// Dequantised graph output: (q - zp) * scale.
std::vector<float> DequantizeOutput(const Graph& graph, std::span<const int8_t> q);

}  // namespace mcunet
