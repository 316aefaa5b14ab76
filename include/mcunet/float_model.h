// FloatModel: a trained float network for one Arch, as plain data (no torch).
//
// The hand-over point between the learning half (src/nn/, libtorch: the
// supernet's extract() fills one) and the inference half (src/quant/: PTQ
// turns one into an int8 Graph for the code generator and the .tflite
// writer). Keeping it torch-free lets the quantiser, its tests and the CLI
// run without libtorch.
//
// Layers come in execution order, named:
//   "first_conv", "blocks.<i>.expand" (absent when expand_ratio == 1),
//   "blocks.<i>.depthwise", "blocks.<i>.project", "feature_mix" (if any),
//   "classifier".
// Every layer but "classifier" and the "*.project" layers ends in ReLU6;
// blocks with `residual` add their input after "project"; global average
// pooling sits between the last conv and "classifier".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcunet/arch.h"

namespace mcunet {

inline constexpr int kFloatModelSchemaVersion = 1;

struct FloatLayer {
  std::string name;
  int in_channels = 0;   // input channels of the layer (all of them)
  int out_channels = 0;
  int kernel = 1;        // square kernel
  int stride = 1;
  bool depthwise = false;  // groups == in_channels == out_channels
  // OHWI (TFLite's layout): [out][kh][kw][in] for a conv; for a depthwise
  // conv [1][kh][kw][channels] (TFLite's [1, H, W, C]); for the classifier
  // [out][in].
  std::vector<float> weight;
  std::vector<float> bias;  // [out]; empty means zero
  // BatchNorm after the conv: y = gamma * (x - mean) / sqrt(var + eps) + beta.
  // Empty for layers without BatchNorm (the classifier, or already folded).
  std::vector<float> bn_gamma, bn_beta, bn_mean, bn_var;
  float bn_eps = 1e-5f;
  bool relu6 = false;

  bool has_bn() const { return !bn_gamma.empty(); }
};

struct FloatModel {
  Arch arch;
  // Input normalisation applied to pixel / 255 per channel before the first
  // conv: x = (pixel / 255 - mean[c]) / std[c]. Size arch.in_channels.
  std::vector<float> input_mean;
  std::vector<float> input_std;
  std::vector<FloatLayer> layers;

  // Throws InvalidInput naming the layer when names, shapes or weight sizes
  // do not match `arch`.
  void Validate() const;
};

// A FloatModel for `arch` with seeded random weights (He-uniform), small
// random biases and random BatchNorm statistics, and input mean/std in
// [0.3, 0.5) / [0.2, 0.4): for tests, demos and code-generation experiments
// without a trained network. Deterministic for a seed on every platform.
FloatModel RandomFloatModel(const Arch& arch, uint64_t seed);

// Versioned JSON ({"schema_version": 1, "kind": "float_model", "arch": ...,
// "layers": [...]}) with the weights as number arrays (exact for float).
// Load throws FileNotFound / InvalidInput naming the file and field.
void SaveFloatModel(const FloatModel& model, const std::string& path);
FloatModel LoadFloatModel(const std::string& path);

}  // namespace mcunet
