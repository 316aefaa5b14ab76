// Internal (libtorch): the elastic supernet module, the static subnet module,
// and the Impl structs behind the torch-free mcunet/nn/supernet.h.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "mcunet/nn/supernet.h"

namespace mcunet::nn {

// A conv weight [out][in/groups][k][k] with an optional BatchNorm over `out`.
struct ConvBnImpl : torch::nn::Module {
  ConvBnImpl(int out, int in_per_group, int kernel, bool bn);
  torch::Tensor weight;
  torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;  // undefined without BN
  bool has_bn = false;
};

// Static description of one supernet block (its widest form).
struct BlockSpec {
  int in = 0, out = 0;
  int max_mid = 0;     // channels of the depthwise conv at the largest expand
  int max_kernel = 0;  // of the depthwise weights (7 in the MCUNet space)
  int stride = 1;
  bool has_expand = false;
  int stage = -1;      // -1: the fixed first block
  int slot = -1;       // gene slot (-1 for the first block)
};

struct SuperBlockImpl : torch::nn::Module {
  explicit SuperBlockImpl(const BlockSpec& spec);
  BlockSpec spec;
  std::shared_ptr<ConvBnImpl> expand;  // null without expansion
  std::shared_ptr<ConvBnImpl> depthwise;
  std::shared_ptr<ConvBnImpl> project;
};

// One block of the active subnet.
struct ActiveBlock {
  SuperBlockImpl* block = nullptr;
  int index = 0;  // in the supernet's block list
  int kernel = 3;
  int mid = 0;
  bool residual = false;
  bool expand = false;
};

struct SupernetModuleImpl : torch::nn::Module {
  SupernetModuleImpl(const SearchSpace& space, const SubSpace& sub);
  // Selects the subnet (no validation: Supernet::SetActive validates).
  void SetActive(const Arch& arch, const Genes& genes);
  torch::Tensor forward(torch::Tensor x);
  // Permutes expansion channels of every expandable block by decreasing L1
  // importance; tensors in `aligned` keyed by parameter/buffer name (e.g.
  // momentum buffers) are permuted alongside.
  void SortChannels(std::map<std::string, torch::Tensor>* aligned);

  std::shared_ptr<ConvBnImpl> first_conv;
  torch::nn::ModuleList blocks;
  std::shared_ptr<ConvBnImpl> feature_mix;  // null if none
  torch::nn::Linear classifier{nullptr};
  std::vector<SuperBlockImpl*> block_ptrs;
  std::vector<std::vector<int>> stage_blocks;  // supernet block indices per stage
  int first_block = -1;                       // index of the fixed first block
  int first_stride = 1, first_kernel = 3;
  std::vector<ActiveBlock> active;
  // BatchNorm momentum in training mode; BN re-calibration sets 1/(b+1)
  // for a cumulative average.
  double bn_momentum = 0.1;
  double bn_eps = 1e-5;
};

// One conv layer of a static net: Conv2d (no bias) + optional BatchNorm2d.
struct StaticLayerImpl : torch::nn::Module {
  StaticLayerImpl(int in, int out, int kernel, int stride, bool depthwise, bool bn);
  torch::Tensor forward(torch::Tensor x, bool relu6);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  int in = 0, out = 0, kernel = 1, stride = 1;
  bool depthwise = false;
};

struct StaticBlockImpl : torch::nn::Module {
  explicit StaticBlockImpl(const MBBlock& b);
  MBBlock spec;
  std::shared_ptr<StaticLayerImpl> expand;  // null if expand_ratio == 1
  std::shared_ptr<StaticLayerImpl> depthwise;
  std::shared_ptr<StaticLayerImpl> project;
};

// A plain libtorch network of one Arch.
struct StaticNetImpl : torch::nn::Module {
  explicit StaticNetImpl(const Arch& arch);
  torch::Tensor forward(torch::Tensor x);
  Arch arch;
  std::shared_ptr<StaticLayerImpl> first_conv;
  torch::nn::ModuleList blocks;
  std::vector<StaticBlockImpl*> block_ptrs;
  std::shared_ptr<StaticLayerImpl> feature_mix;
  torch::nn::Linear classifier{nullptr};
};

struct Supernet::Impl {
  SearchSpace space;
  SubSpace sub;
  std::shared_ptr<SupernetModuleImpl> module;
  Arch active_arch;
  Genes active_genes;
  Normalization norm;
  nlohmann::json meta = nlohmann::json::object();
};

struct Subnet::Impl {
  Arch arch;
  std::shared_ptr<StaticNetImpl> module;
  Normalization norm;
  nlohmann::json meta = nlohmann::json::object();
};

// ---- Checkpoint helpers (libtorch archives with a JSON header) --------------

// Every parameter and buffer of `m`, by name ("blocks.3.expand.weight").
std::vector<std::pair<std::string, torch::Tensor>> NamedState(const torch::nn::Module& m);
// Writes `m`'s state, `extra` tensors and `meta` atomically (temp + rename).
void SaveArchive(const std::string& path, const torch::nn::Module& m, const nlohmann::json& meta,
                 const std::map<std::string, torch::Tensor>& extra = {});
// Reads the JSON header. Throws FileNotFound / InvalidInput naming `path`.
nlohmann::json ReadArchiveMeta(const std::string& path, const std::string& expected_kind);
// Copies every tensor of `m` (and the `extra` names, created if missing)
// from the archive, checking shapes. Throws InvalidInput naming the tensor.
void LoadArchiveState(const std::string& path, torch::nn::Module& m,
                      std::map<std::string, torch::Tensor>* extra = nullptr,
                      const std::vector<std::string>& extra_names = {});

// InvalidInput unless `nchw` holds exactly n x channels x resolution^2 floats (n > 0).
void CheckInputSize(const std::vector<float>& nchw, int n, int channels, int resolution);

}  // namespace mcunet::nn
