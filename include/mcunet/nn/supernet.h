// The TinyNAS weight-sharing supernet (MCUNet Sec. 3.1, once-for-all style)
// over one sub-space (W, R) of a search space, and standalone subnets
// extracted from it. Torch-free interface (pimpl): the implementation lives
// in src/nn/ on libtorch.
//
// Elastic MBConv blocks: the depthwise kernel k in {3, 5, 7} is the centre
// k x k crop of the block's 7x7 weights; the expand ratio takes the first
// mid channels of the 1x1 expansion (SortChannels() orders them by the L1
// importance of the projection weights, so the first channels are the most
// important ones); a stage of depth d runs its first d blocks. Every
// BatchNorm keeps running statistics for its widest form, sliced like the
// weights. W and R are fixed by the sub-space.
//
// Checkpoints are libtorch archives: every parameter and buffer by name plus
// a JSON header ("mcunet_meta": schema_version, space, sub-space,
// normalisation, data options, training state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/float_model.h"
#include "mcunet/nn/data.h"
#include "mcunet/search_space.h"

namespace mcunet::nn {

inline constexpr int kSupernetCheckpointSchemaVersion = 1;

class Subnet;

class Supernet {
 public:
  struct Impl;

  // A freshly initialised supernet (weights from torch's RNG seeded with
  // `seed`). Throws InvalidInput if `sub` is not in `space`.
  Supernet(SearchSpace space, SubSpace sub, uint64_t seed = 0);
  ~Supernet();
  Supernet(Supernet&&) noexcept;
  Supernet& operator=(Supernet&&) noexcept;

  const SearchSpace& space() const;
  const SubSpace& subspace() const;
  Arch LargestArch() const;
  Arch SmallestArch() const;
  Arch SampleArch(Rng& rng) const;

  // Selects the subnet `arch`. Throws InvalidInput naming the first choice
  // outside the supernet's space (and leaves the active subnet unchanged).
  void SetActive(const Arch& arch);
  const Arch& active() const;

  // Logits [n][num_classes] of the active subnet (inference mode, running
  // BN statistics) for normalised NCHW input [n][C][R][R].
  std::vector<float> Forward(const std::vector<float>& nchw, int n);
  // The same without copying the input: `nchw` holds n x C x R x R floats,
  // `logits` has room for n x num_classes (the Python bindings pass NumPy
  // arrays and torch tensors through this).
  void Forward(const float* nchw, int n, float* logits);

  // Reorders every block's expansion channels by decreasing L1 importance
  // (function preserving for the largest subnet).
  void SortChannels();

  // A standalone network with its own copy of `arch`'s weights and running
  // statistics; its outputs equal the supernet's for `arch`.
  Subnet Extract(const Arch& arch) const;
  // Extract(arch).ToFloatModel().
  FloatModel ExtractFloatModel(const Arch& arch) const;

  // Input normalisation (stored in checkpoints and FloatModels).
  const Normalization& normalization() const;
  void set_normalization(Normalization n);
  // Free-form metadata saved with the checkpoint (data options, training).
  nlohmann::json& meta();
  const nlohmann::json& meta() const;

  int64_t num_parameters() const;

  // Atomic (temp file + rename).
  void Save(const std::string& path) const;
  // Throws FileNotFound, or InvalidInput naming the file for anything that
  // is not a supernet checkpoint of this project.
  static Supernet Load(const std::string& path);
  // Throws InvalidInput naming `source` unless this supernet was built for
  // exactly `space` and `sub`.
  void CheckSpace(const SearchSpace& space, const SubSpace& sub, const std::string& source) const;

  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Supernet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A static float network for one Arch (own weights).
class Subnet {
 public:
  struct Impl;
  // Fresh weights (seeded).
  Subnet(const Arch& arch, uint64_t seed = 0);
  ~Subnet();
  Subnet(Subnet&&) noexcept;
  Subnet& operator=(Subnet&&) noexcept;

  const Arch& arch() const;
  std::vector<float> Forward(const std::vector<float>& nchw, int n);
  void Forward(const float* nchw, int n, float* logits);  // as Supernet's
  // Layers named and laid out as float_model.h specifies (OHWI weights, BN
  // unfolded), with this net's normalisation.
  FloatModel ToFloatModel() const;
  const Normalization& normalization() const;
  void set_normalization(Normalization n);
  nlohmann::json& meta();
  int64_t num_parameters() const;

  void Save(const std::string& path) const;
  static Subnet Load(const std::string& path);

  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  friend class Supernet;
  explicit Subnet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcunet::nn
