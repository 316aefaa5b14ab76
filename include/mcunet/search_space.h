// TinyNAS search spaces: the MCUNet mobile space (and any user-written space)
// as data, sub-spaces (W, R), a compact gene encoding of architectures, and
// seeded, reproducible sampling, mutation and crossover.
//
// A search space is a JSON file (see search_spaces/mcunet.json):
//
//   {
//     "schema_version": 1,
//     "kind": "search_space",
//     "name": "mcunet",
//     "in_channels": 3, "num_classes": 1000,
//     "channel_divisor": 8,                 // make_divisible(w * W, 8)
//     "width_multipliers": [0.2, ..., 1.0],
//     "resolutions": [48, 64, ..., 224],
//     "kernel_sizes": [3, 5, 7],            // depthwise kernel per block
//     "expand_ratios": [3, 4, 6],           // per block
//     "depths": [2, 3, 4],                  // per stage (default)
//     "first_conv":  {"base_width": 32, "kernel": 3, "stride": 2},
//     "first_block": {"base_width": 16, "kernel": 3, "expand_ratio": 1},
//     "stages": [ {"base_width": 24, "stride": 2}, ...,
//                 {"base_width": 320, "stride": 1, "depths": [1]} ],
//     "feature_mix": {"base_width": 0}      // 0: no 1x1 feature-mix layer
//   }
//
// A stage may override "depths", "kernel_sizes" and "expand_ratios". The
// first block (stride 1, no shortcut) is fixed: it is not part of the genes.
//
// Channel widths follow the original (once-for-all / MCUNet):
//   width(base, W) = MakeDivisible(base * W, channel_divisor)
//   mid_channels   = MakeDivisible(round(in_channels * expand), divisor)
// Every block whose stride is 1 and whose in == out channels has an identity
// shortcut (the first block of a stage usually changes width or stride).
//
// Genes (within a fixed sub-space (W, R)): one depth per stage, and one
// kernel and one expand ratio per block *slot*. A stage with max depth D has
// D slots; slots beyond the stage's chosen depth are inactive and hold 0, so
// Encode(Decode(g)) == g for every valid genome. Genes hold choice *values*
// (kernel 5, expand 4, depth 3), not indices, so they read well in JSON.
//
// Randomness comes only from mcunet::Rng (xoshiro256**, seeded through
// splitmix64): the same seed gives the same results with every compiler and
// standard library, and the state can be saved and restored (resume).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/arch.h"

namespace mcunet {

inline constexpr int kSearchSpaceSchemaVersion = 1;

// ---- Random numbers ----------------------------------------------------------

// xoshiro256** with explicit, serialisable state; seeded by splitmix64.
// Portable: every draw is defined here, nothing depends on <random>'s
// distributions (which differ between standard libraries).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }
  // Independent stream `stream` of `seed` (e.g. one per sub-space, so that
  // results do not depend on thread count or order).
  static Rng Stream(uint64_t seed, uint64_t stream);

  void Seed(uint64_t seed);
  uint64_t Next();
  // Uniform integer in [0, n); n > 0. Unbiased (rejection sampling).
  uint64_t Below(uint64_t n);
  // Uniform double in [0, 1) with 53 random bits.
  double Uniform();
  // True with probability p (p <= 0: never, p >= 1: always, no draw made
  // in either case).
  bool Bernoulli(double p);
  // A uniformly chosen element of a non-empty vector.
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Below(v.size()))];
  }

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }
  // {"algorithm": "xoshiro256**", "state": ["0x...", x4]} (hex strings: JSON
  // numbers cannot hold 64-bit values portably).
  nlohmann::json ToJson() const;
  // Throws InvalidInput naming `source` on a malformed state.
  static Rng FromJson(const nlohmann::json& j, const std::string& source = "<json>");

  bool operator==(const Rng&) const = default;

 private:
  std::array<uint64_t, 4> s_{};
};

// ---- Space definition --------------------------------------------------------

// The original's channel rounding (once-for-all `make_divisible`): round to
// the nearest multiple of `divisor`, at least `min_value` (default: divisor),
// and never more than 10% below v (then add one divisor).
int MakeDivisible(double v, int divisor, int min_value = 0);

struct StageSpec {
  int base_width = 0;            // output channels at W = 1.0
  int stride = 1;                // stride of the stage's first block
  std::vector<int> depths;       // number of blocks, choices
  std::vector<int> kernel_sizes;   // depthwise kernel, choices
  std::vector<int> expand_ratios;  // expand ratio, choices

  int max_depth() const;
};

// One (width multiplier, resolution) pair of a space.
struct SubSpace {
  double width_mult = 1.0;
  int resolution = 224;

  // "w0.5-r160": stable, used in file names, JSON and CSV.
  std::string Label() const;
  bool operator==(const SubSpace& o) const = default;
};

// A compact genome. See the file comment for the slot layout.
struct Genes {
  std::vector<int> depths;   // one per stage
  std::vector<int> kernels;  // one per block slot; 0 when inactive
  std::vector<int> expands;  // one per block slot; 0 when inactive

  // "d2,3,4,2,3,1 k3,5,7,0|... e..." -- compact, for logs and tables.
  std::string ToString() const;
  // 64-bit hash (FNV-1a over the values), for de-duplication in searches.
  uint64_t Hash() const;
  bool operator==(const Genes&) const = default;
  auto operator<=>(const Genes&) const = default;
};

// {"depths": [...], "kernels": [...], "expands": [...]}
nlohmann::json GenesToJson(const Genes& g);
// Structural check only (array lengths and integer values); use
// SearchSpace::ValidateGenes for the choices. Throws InvalidInput.
Genes GenesFromJson(const nlohmann::json& j, const std::string& source = "<json>");

struct SearchSpace {
  std::string name;
  std::string description;
  std::string source;  // file it was loaded from ("" if built in code)

  int in_channels = 3;
  int num_classes = 1000;
  int channel_divisor = 8;
  std::vector<double> width_multipliers;
  std::vector<int> resolutions;

  int first_conv_base_width = 32;
  int first_conv_kernel = 3;
  int first_conv_stride = 2;
  // The fixed first block (MBConv, stride 1, no shortcut). base_width 0:
  // no first block.
  int first_block_base_width = 16;
  int first_block_kernel = 3;
  int first_block_expand = 1;

  std::vector<StageSpec> stages;
  int feature_mix_base_width = 0;  // 0: no feature-mix layer
  // If true the feature mix scales with W like the other layers; if false
  // its width is base_width for W <= 1 and scaled above (as OFA does).
  bool feature_mix_scales = false;

  // ---- Structure ---------------------------------------------------------
  int num_stages() const { return static_cast<int>(stages.size()); }
  // Total block slots = sum of the stages' max depths (genome length).
  int num_slots() const;
  // Index of the first slot of `stage`.
  int stage_first_slot(int stage) const;
  // All (W, R) pairs, W-major in file order (index = iw * |R| + ir).
  std::vector<SubSpace> SubSpaces() const;
  int num_subspaces() const {
    return static_cast<int>(width_multipliers.size() * resolutions.size());
  }

  // Channel widths at width multiplier `w`.
  int Width(int base_width, double w) const;
  int FirstConvWidth(double w) const { return Width(first_conv_base_width, w); }
  int FirstBlockWidth(double w) const;  // 0 if there is no first block
  int StageWidth(int stage, double w) const { return Width(stages.at(stage).base_width, w); }
  int FeatureMixWidth(double w) const;  // 0 if none

  // Throws InvalidInput naming `source` and the field: empty or invalid
  // choice lists, widths that round to 0, a resolution that collapses to 0
  // after the strides, non-positive classes/channels, etc.
  void Validate() const;

  // ---- Genes <-> Arch ---------------------------------------------------
  // Throws InvalidInput saying which gene is out of range (e.g.
  // "stage 2 block 1: kernel 9 not in {3, 5, 7}").
  void ValidateGenes(const Genes& g) const;
  // The architecture of `g` in sub-space `sub`; validated. Its name is
  // "<space>-<sub.Label()>". Throws InvalidInput for invalid genes or a
  // sub-space whose W or R is not in the space.
  Arch Decode(const SubSpace& sub, const Genes& g) const;
  // Same, into a reusable Arch (no allocation once warmed up, for hot loops).
  void DecodeInto(const SubSpace& sub, const Genes& g, Arch* out) const;
  // The genes of `arch` in `sub`. Throws InvalidInput naming the first
  // choice outside the space ("block 3 (stage 1 block 1): expand_ratio 5 not
  // in {3, 4, 6}", "resolution 96 is not 160", "stage 0 width 16, expected
  // 24 at W=1.0", ...). The name is ignored.
  Genes Encode(const SubSpace& sub, const Arch& arch) const;
  // The first sub-space (file order) whose widths and resolution match
  // `arch`'s, or nullopt. Widths can coincide for neighbouring W; the first
  // (smallest index) match is returned.
  std::optional<SubSpace> MatchSubSpace(const Arch& arch) const;

  // ---- Variation (all deterministic given the Rng state) ----------------
  // Uniform over the choices: each stage's depth uniformly, then each active
  // slot's kernel and expand uniformly (not uniform over distinct
  // architectures, as in the paper / OFA).
  Genes Sample(Rng& rng) const;
  void SampleInto(Rng& rng, Genes* out) const;
  // Each choice (depth per stage, kernel and expand per active slot) is
  // resampled uniformly with probability `prob` (the new value may equal the
  // old). Slots activated by a deeper stage are sampled fresh; slots
  // deactivated are cleared. prob 0 returns `g` unchanged and draws nothing.
  Genes Mutate(const Genes& g, double prob, Rng& rng) const;
  // Per stage, the depth of parent a or b (50/50); per active slot of the
  // child, kernel and expand each from a or b (50/50) when both parents have
  // that slot active, else from the parent that has it. Every child gene is
  // one of its parents' genes at the same position.
  Genes Crossover(const Genes& a, const Genes& b, Rng& rng) const;
};

// Reads and validates a space file. Throws FileNotFound or InvalidInput
// ("<file>: stages[2].base_width: ...").
SearchSpace LoadSearchSpace(const std::string& path);
SearchSpace SearchSpaceFromJson(const nlohmann::json& j, const std::string& source = "<json>");
nlohmann::json SearchSpaceToJson(const SearchSpace& s);

}  // namespace mcunet
