// Seeded random FloatModels for the quantisation tests: an architecture
// sampled from a search space, He-initialised weights and random BatchNorm
// statistics (so BN folding is exercised), plus random-ish images.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mcunet/arch.h"
#include "mcunet/float_model.h"
#include "mcunet/search_space.h"

namespace mcunet {
namespace {

inline FloatLayer RandomLayer(Rng& rng, const std::string& name, int in_c, int out_c, int kernel, int stride,
                              bool depthwise, bool bn, bool relu6) {
  FloatLayer l;
  l.name = name;
  l.in_channels = in_c;
  l.out_channels = out_c;
  l.kernel = kernel;
  l.stride = stride;
  l.depthwise = depthwise;
  l.relu6 = relu6;
  const int fan_in = depthwise ? kernel * kernel : kernel * kernel * in_c;
  const size_t n = depthwise ? static_cast<size_t>(kernel) * kernel * out_c
                             : static_cast<size_t>(out_c) * kernel * kernel * in_c;
  const double a = std::sqrt(6.0 / fan_in);
  for (size_t i = 0; i < n; ++i) l.weight.push_back(static_cast<float>((2 * rng.Uniform() - 1) * a));
  for (int c = 0; c < out_c; ++c) l.bias.push_back(static_cast<float>(0.1 * (2 * rng.Uniform() - 1)));
  if (bn) {
    for (int c = 0; c < out_c; ++c) {
      l.bn_gamma.push_back(static_cast<float>(0.5 + rng.Uniform()));
      l.bn_beta.push_back(static_cast<float>(0.3 * (2 * rng.Uniform() - 1)));
      l.bn_mean.push_back(static_cast<float>(0.2 * (2 * rng.Uniform() - 1)));
      l.bn_var.push_back(static_cast<float>(0.5 + rng.Uniform()));
    }
  }
  return l;
}

// A FloatModel for `arch` with seeded random weights.
inline FloatModel RandomFloatModel(const Arch& arch, uint64_t seed) {
  Rng rng(seed);
  FloatModel m;
  m.arch = arch;
  for (int c = 0; c < arch.in_channels; ++c) {
    m.input_mean.push_back(static_cast<float>(0.3 + 0.2 * rng.Uniform()));
    m.input_std.push_back(static_cast<float>(0.2 + 0.2 * rng.Uniform()));
  }
  m.layers.push_back(RandomLayer(rng, "first_conv", arch.in_channels, arch.first_conv.out_channels,
                                 arch.first_conv.kernel, arch.first_conv.stride, false, true, true));
  for (size_t i = 0; i < arch.blocks.size(); ++i) {
    const MBBlock& b = arch.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    if (b.has_expand()) m.layers.push_back(RandomLayer(rng, p + "expand", b.in_channels, b.mid_channels, 1, 1, false, true, true));
    m.layers.push_back(RandomLayer(rng, p + "depthwise", b.mid_channels, b.mid_channels, b.kernel, b.stride, true, true, true));
    m.layers.push_back(RandomLayer(rng, p + "project", b.mid_channels, b.out_channels, 1, 1, false, true, false));
  }
  int c = arch.blocks.empty() ? arch.first_conv.out_channels : arch.blocks.back().out_channels;
  if (arch.feature_mix_channels > 0) {
    m.layers.push_back(RandomLayer(rng, "feature_mix", c, arch.feature_mix_channels, 1, 1, false, true, true));
    c = arch.feature_mix_channels;
  }
  m.layers.push_back(RandomLayer(rng, "classifier", c, arch.num_classes, 1, 1, false, false, false));
  // Classifier weights are [out][in]; RandomLayer already made out*1*1*in.
  return m;
}

// `count` images of smooth random blobs (not white noise), uint8 HWC.
inline std::vector<uint8_t> RandomImages(int size, int channels, int count, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> px(static_cast<size_t>(count) * size * size * channels);
  for (int i = 0; i < count; ++i) {
    const double cx = size * rng.Uniform(), cy = size * rng.Uniform(), r = size * (0.15 + 0.4 * rng.Uniform());
    const double fx = 0.1 + 0.5 * rng.Uniform(), fy = 0.1 + 0.5 * rng.Uniform();
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        for (int ch = 0; ch < channels; ++ch) {
          const double d = std::hypot(x - cx, y - cy) / r;
          double v = 255.0 * std::exp(-d * d) * (0.6 + 0.4 * std::sin(fx * x + fy * y + ch));
          v += 20.0 * (rng.Uniform() - 0.5);
          px[((static_cast<size_t>(i) * size + y) * size + x) * channels + ch] =
              static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        }
  }
  return px;
}

inline Arch SampleArch(const std::string& space_file, double width, int resolution, uint64_t seed, int classes) {
  const SearchSpace space = LoadSearchSpace(space_file);
  Rng rng(seed);
  Arch arch = space.Decode({width, resolution}, space.Sample(rng));
  arch.num_classes = classes;
  arch.name += "-s" + std::to_string(seed);
  return arch;
}

}  // namespace
}  // namespace mcunet
