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

// RandomFloatModel(arch, seed) is the library's (mcunet/float_model.h).

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
