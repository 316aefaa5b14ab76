// Float reference forward pass of a FloatModel, without torch: plain loops
// over NHWC float images, OpenMP over images. The reference the int8 model is
// compared with (accuracy, argmax agreement) and the source of the activation
// ranges PTQ calibrates on.
//
// The pass walks LowerArch(model.arch) op by op (CONV_2D, 1x1 convs,
// DEPTHWISE_CONV_2D, ADD, MEAN, FULLY_CONNECTED), each conv / FC running its
// FloatLayer with BatchNorm applied as trained (eval mode, not folded) and
// ReLU6 where the layer has it. Activation statistics are therefore indexed by
// the tensor indices of that lowered graph, which are also the tensor indices
// of the int8 Graph that QuantizeModel (mcunet/ptq.h) returns.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mcunet/dataset.h"
#include "mcunet/float_model.h"
#include "mcunet/graph.h"

namespace mcunet {

// Per-tensor statistics of the activations seen during a forward pass.
// Vectors are indexed by tensor index of LowerArch(model.arch); entries of
// constant tensors stay untouched.
struct ActivationStats {
  std::vector<float> min, max;  // running min / max (+inf / -inf until seen)
  // Optional histograms for percentile calibration: when `hist_lo`/`hist_hi`
  // are set (same size as min/max) and `bins` > 0, every value of tensor t is
  // counted in `bins` equal bins over [hist_lo[t], hist_hi[t]] (clamped).
  int bins = 0;
  std::vector<float> hist_lo, hist_hi;
  std::vector<std::vector<uint64_t>> hist;

  // Sizes everything for `num_tensors` (min = +inf, max = -inf, hist zeroed).
  void Reset(size_t num_tensors);
  // Merges another set of statistics of the same layout.
  void Merge(const ActivationStats& other);
};

// Normalises uint8 HWC pixels as the model was trained:
// x = (pixel / 255 - input_mean[c]) / input_std[c]. `out` gets H*W*C floats.
void NormalizeImage(const FloatModel& model, const uint8_t* pixels, int64_t num_pixels, float* out);
// The first `count` images of `data` (all if count < 0), normalised, back to
// back. Throws InvalidInput naming data.source if the image size or channels
// differ from the model's input (resolution x resolution x in_channels).
std::vector<float> NormalizeImages(const FloatModel& model, const ImageDataset& data, int64_t count = -1);

// Runs `count` normalised images (NHWC, back to back, resolution x resolution
// x in_channels each) and returns count x num_classes logits. If `stats` is
// given it is reset to the lowered graph's tensor count (keeping its
// histogram ranges and bins) and filled. Throws InvalidInput if the images
// span has the wrong size or the model's weights do not match its arch.
std::vector<float> FloatForward(const FloatModel& model, std::span<const float> images, int64_t count,
                                ActivationStats* stats = nullptr);

// Every tensor of LowerArch(model.arch) for one normalised image (indexed by
// tensor; constant tensors empty): for layer-by-layer comparisons with the
// int8 model.
std::vector<std::vector<float>> FloatForwardTensors(const FloatModel& model, std::span<const float> image);

// Index of the largest logit of each row of `logits` (rows of `classes`).
std::vector<int32_t> ArgmaxRows(std::span<const float> logits, int classes);

// For each op of LowerArch(model.arch): the FloatLayer it runs (convs and the
// classifier FC), or nullptr (ADD, MEAN). Throws InvalidInput naming the
// missing layer or the mismatching field (channels, kernel, weight size).
std::vector<const FloatLayer*> LayersForOps(const FloatModel& model, const Graph& lowered);

}  // namespace mcunet
