// The elastic supernet module and mcunet::nn::Supernet.
#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "mcunet/error.h"
#include "mcunet/evolution.h"
#include "nn/modules.h"

namespace mcunet::nn {

namespace {

void InitConv(torch::Tensor& w) {
  torch::NoGradGuard g;
  torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor Narrow0(const torch::Tensor& t, int c) { return c == t.size(0) ? t : t.narrow(0, 0, c); }

// BatchNorm over the first `c` channels of `l`'s statistics, then ReLU6.
torch::Tensor BnAct(const torch::Tensor& x, ConvBnImpl& l, int c, bool training, double momentum, double eps,
                    bool relu6) {
  torch::Tensor y = torch::batch_norm(x, Narrow0(l.bn_weight, c), Narrow0(l.bn_bias, c), Narrow0(l.bn_mean, c),
                                      Narrow0(l.bn_var, c), training, momentum, eps, /*cudnn_enabled=*/false);
  return relu6 ? torch::hardtanh(y, 0.0, 6.0) : y;
}

Genes ExtremeGenes(const SearchSpace& s, bool largest) {
  Genes g;
  for (const StageSpec& st : s.stages) {
    const auto pick = [&](const std::vector<int>& v) {
      return largest ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
    };
    const int d = pick(st.depths);
    g.depths.push_back(d);
    for (int j = 0; j < st.max_depth(); ++j) {
      g.kernels.push_back(j < d ? pick(st.kernel_sizes) : 0);
      g.expands.push_back(j < d ? pick(st.expand_ratios) : 0);
    }
  }
  return g;
}

nlohmann::json ComparableSpace(const SearchSpace& s) {
  nlohmann::json j = SearchSpaceToJson(s);
  j.erase("description");
  j.erase("source");
  return j;
}

}  // namespace

ConvBnImpl::ConvBnImpl(int out, int in_per_group, int kernel, bool bn) : has_bn(bn) {
  weight = register_parameter("weight", torch::empty({out, in_per_group, kernel, kernel}));
  InitConv(weight);
  if (bn) {
    bn_weight = register_parameter("bn_weight", torch::ones({out}));
    bn_bias = register_parameter("bn_bias", torch::zeros({out}));
    bn_mean = register_buffer("bn_mean", torch::zeros({out}));
    bn_var = register_buffer("bn_var", torch::ones({out}));
  }
}

SuperBlockImpl::SuperBlockImpl(const BlockSpec& s) : spec(s) {
  if (s.has_expand) expand = register_module("expand", std::make_shared<ConvBnImpl>(s.max_mid, s.in, 1, true));
  depthwise = register_module("depthwise", std::make_shared<ConvBnImpl>(s.max_mid, 1, s.max_kernel, true));
  project = register_module("project", std::make_shared<ConvBnImpl>(s.out, s.max_mid, 1, true));
}

SupernetModuleImpl::SupernetModuleImpl(const SearchSpace& space, const SubSpace& sub) {
  // The widest subnet defines every tensor's shape.
  const Arch big = space.Decode(sub, ExtremeGenes(space, true));
  first_stride = big.first_conv.stride;
  first_kernel = big.first_conv.kernel;
  first_conv = register_module(
      "first_conv", std::make_shared<ConvBnImpl>(big.first_conv.out_channels, big.in_channels, first_kernel, true));
  blocks = register_module("blocks", torch::nn::ModuleList());
  size_t bi = 0;
  const auto add = [&](const MBBlock& b, int stage, int slot, int max_kernel) {
    BlockSpec s;
    s.in = b.in_channels;
    s.out = b.out_channels;
    s.max_mid = b.mid_channels;
    s.max_kernel = max_kernel;
    s.stride = b.stride;
    s.has_expand = b.has_expand();
    s.stage = stage;
    s.slot = slot;
    auto m = std::make_shared<SuperBlockImpl>(s);
    blocks->push_back(m);
    block_ptrs.push_back(m.get());
  };
  if (space.first_block_base_width > 0) {
    first_block = 0;
    add(big.blocks[bi++], -1, -1, big.blocks[0].kernel);
  }
  int slot = 0;
  for (int st = 0; st < space.num_stages(); ++st) {
    const StageSpec& spec = space.stages[st];
    const int kmax = *std::max_element(spec.kernel_sizes.begin(), spec.kernel_sizes.end());
    stage_blocks.emplace_back();
    for (int j = 0; j < spec.max_depth(); ++j, ++slot) {
      stage_blocks.back().push_back(static_cast<int>(block_ptrs.size()));
      add(big.blocks[bi++], st, slot, kmax);
    }
  }
  if (big.feature_mix_channels > 0) {
    const int in = big.blocks.empty() ? big.first_conv.out_channels : big.blocks.back().out_channels;
    feature_mix = register_module("feature_mix", std::make_shared<ConvBnImpl>(big.feature_mix_channels, in, 1, true));
  }
  classifier = register_module("classifier", torch::nn::Linear(big.last_channels(), big.num_classes));
  SetActive(big, ExtremeGenes(space, true));
}

void SupernetModuleImpl::SetActive(const Arch& arch, const Genes& genes) {
  active.clear();
  size_t ai = 0;
  const auto push = [&](int index) {
    const MBBlock& b = arch.blocks[ai++];
    ActiveBlock a;
    a.block = block_ptrs[index];
    a.index = index;
    a.kernel = b.kernel;
    a.mid = b.has_expand() ? b.mid_channels : b.in_channels;
    a.residual = b.residual;
    a.expand = b.has_expand();
    active.push_back(a);
  };
  if (first_block >= 0) push(first_block);
  for (size_t s = 0; s < stage_blocks.size(); ++s) {
    for (int j = 0; j < genes.depths[s]; ++j) push(stage_blocks[s][j]);
  }
}

torch::Tensor SupernetModuleImpl::forward(torch::Tensor x) {
  const bool train = is_training();
  // NHWC: libtorch's CPU depthwise convolution (mkldnn) is ~3x faster in
  // channels-last layout, forward and backward; the static net does the same.
  x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  x = torch::conv2d(x, first_conv->weight, {}, first_stride, first_kernel / 2);
  x = BnAct(x, *first_conv, static_cast<int>(first_conv->weight.size(0)), train, bn_momentum, bn_eps, true);
  for (const ActiveBlock& a : active) {
    SuperBlockImpl& b = *a.block;
    torch::Tensor h = x;
    if (a.expand) {  // (an expand ratio 1 choice skips the expansion conv)
      h = torch::conv2d(h, Narrow0(b.expand->weight, a.mid));
      h = BnAct(h, *b.expand, a.mid, train, bn_momentum, bn_eps, true);
    }
    torch::Tensor dw = Narrow0(b.depthwise->weight, a.mid);
    if (a.kernel != b.spec.max_kernel) {
      const int off = (b.spec.max_kernel - a.kernel) / 2;
      dw = dw.narrow(2, off, a.kernel).narrow(3, off, a.kernel);
    }
    h = torch::conv2d(h, dw, {}, b.spec.stride, a.kernel / 2, 1, a.mid);
    h = BnAct(h, *b.depthwise, a.mid, train, bn_momentum, bn_eps, true);
    torch::Tensor pw = b.project->weight;
    if (a.mid != b.spec.max_mid) pw = pw.narrow(1, 0, a.mid);
    h = torch::conv2d(h, pw);
    h = BnAct(h, *b.project, b.spec.out, train, bn_momentum, bn_eps, false);
    x = a.residual ? h + x : h;
  }
  if (feature_mix) {
    x = torch::conv2d(x, feature_mix->weight);
    x = BnAct(x, *feature_mix, static_cast<int>(feature_mix->weight.size(0)), train, bn_momentum, bn_eps, true);
  }
  x = x.mean({2, 3});
  return classifier->forward(x);
}

void SupernetModuleImpl::SortChannels(std::map<std::string, torch::Tensor>* aligned) {
  torch::NoGradGuard guard;
  for (size_t i = 0; i < block_ptrs.size(); ++i) {
    SuperBlockImpl& b = *block_ptrs[i];
    if (!b.expand) continue;
    const torch::Tensor importance = b.project->weight.abs().sum({0, 2, 3});
    const torch::Tensor order = std::get<1>(torch::sort(importance, /*stable=*/true, 0, /*descending=*/true));
    const std::string prefix = "blocks." + std::to_string(i) + ".";
    const auto permute = [&](torch::Tensor& t, const std::string& name, int dim) {
      t.copy_(t.index_select(dim, order));
      if (aligned != nullptr) {
        auto it = aligned->find(prefix + name);
        if (it != aligned->end() && it->second.defined()) it->second.copy_(it->second.index_select(dim, order));
      }
    };
    for (auto [layer, lname] : {std::pair{b.expand.get(), "expand."}, std::pair{b.depthwise.get(), "depthwise."}}) {
      permute(layer->weight, std::string(lname) + "weight", 0);
      permute(layer->bn_weight, std::string(lname) + "bn_weight", 0);
      permute(layer->bn_bias, std::string(lname) + "bn_bias", 0);
      permute(layer->bn_mean, std::string(lname) + "bn_mean", 0);
      permute(layer->bn_var, std::string(lname) + "bn_var", 0);
    }
    permute(b.project->weight, "project.weight", 1);
  }
}

// ---- Supernet -----------------------------------------------------------------

Supernet::Supernet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Supernet::Supernet(SearchSpace space, SubSpace sub, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  space.Validate();
  torch::manual_seed(seed);
  impl_->module = std::make_shared<SupernetModuleImpl>(space, sub);
  impl_->active_genes = ExtremeGenes(space, true);
  impl_->active_arch = space.Decode(sub, impl_->active_genes);
  impl_->norm.mean.assign(space.in_channels, 0.0f);
  impl_->norm.std.assign(space.in_channels, 1.0f);
  impl_->space = std::move(space);
  impl_->sub = sub;
}

Supernet::~Supernet() = default;
Supernet::Supernet(Supernet&&) noexcept = default;
Supernet& Supernet::operator=(Supernet&&) noexcept = default;

const SearchSpace& Supernet::space() const { return impl_->space; }
const SubSpace& Supernet::subspace() const { return impl_->sub; }
Arch Supernet::LargestArch() const { return impl_->space.Decode(impl_->sub, ExtremeGenes(impl_->space, true)); }
Arch Supernet::SmallestArch() const { return impl_->space.Decode(impl_->sub, ExtremeGenes(impl_->space, false)); }
Arch Supernet::SampleArch(Rng& rng) const { return impl_->space.Decode(impl_->sub, impl_->space.Sample(rng)); }

void Supernet::SetActive(const Arch& arch) {
  Genes g = impl_->space.Encode(impl_->sub, arch);  // throws InvalidInput naming the choice
  impl_->space.ValidateGenes(g);
  impl_->module->SetActive(arch, g);
  impl_->active_arch = arch;
  impl_->active_genes = std::move(g);
}

const Arch& Supernet::active() const { return impl_->active_arch; }

void CheckInputSize(const std::vector<float>& nchw, int n, int channels, int resolution) {
  const int64_t want = static_cast<int64_t>(n) * channels * resolution * resolution;
  if (n <= 0 || static_cast<int64_t>(nchw.size()) != want) {
    throw InvalidInput("Forward: expected " + std::to_string(n) + " x " + std::to_string(channels) + " x " +
                       std::to_string(resolution) + " x " + std::to_string(resolution) + " = " + std::to_string(want) +
                       " floats, got " + std::to_string(nchw.size()));
  }
}

std::vector<float> Supernet::Forward(const std::vector<float>& nchw, int n) {
  CheckInputSize(nchw, n, impl_->space.in_channels, impl_->sub.resolution);
  std::vector<float> logits(static_cast<size_t>(n) * impl_->space.num_classes);
  Forward(nchw.data(), n, logits.data());
  return logits;
}

void Supernet::Forward(const float* nchw, int n, float* logits) {
  if (n <= 0) throw InvalidInput("Forward: expected at least one image, got " + std::to_string(n));
  torch::NoGradGuard guard;
  impl_->module->eval();
  const int c = impl_->space.in_channels, r = impl_->sub.resolution;
  const torch::Tensor x = torch::from_blob(const_cast<float*>(nchw), {n, c, r, r}, torch::kFloat32);
  const torch::Tensor y = impl_->module->forward(x).contiguous();
  std::copy(y.data_ptr<float>(), y.data_ptr<float>() + y.numel(), logits);
}

void Supernet::SortChannels() { impl_->module->SortChannels(nullptr); }

const Normalization& Supernet::normalization() const { return impl_->norm; }
void Supernet::set_normalization(Normalization n) {
  if (static_cast<int>(n.mean.size()) != impl_->space.in_channels || n.std.size() != n.mean.size()) {
    throw InvalidInput("normalization: expected " + std::to_string(impl_->space.in_channels) + " channels");
  }
  impl_->norm = std::move(n);
}
nlohmann::json& Supernet::meta() { return impl_->meta; }
const nlohmann::json& Supernet::meta() const { return impl_->meta; }

int64_t Supernet::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->module->parameters()) n += p.numel();
  return n;
}

void Supernet::Save(const std::string& path) const {
  nlohmann::json meta = impl_->meta;
  meta["schema_version"] = kSupernetCheckpointSchemaVersion;
  meta["kind"] = "supernet";
  meta["space"] = SearchSpaceToJson(impl_->space);
  meta["subspace"] = impl_->sub.Label();
  meta["normalization"] = NormalizationToJson(impl_->norm);
  SaveArchive(path, *impl_->module, meta);
}

Supernet Supernet::Load(const std::string& path) {
  nlohmann::json meta = ReadArchiveMeta(path, "supernet");
  SearchSpace space;
  SubSpace sub;
  Normalization norm;
  try {
    space = SearchSpaceFromJson(meta.at("space"), path + ": space");
    sub = ParseSubSpaceLabel(meta.at("subspace").get<std::string>(), path + ": subspace");
    norm = NormalizationFromJson(meta.at("normalization"), path);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(path + ": checkpoint header: " + e.what());
  }
  Supernet net(space, sub, 0);
  LoadArchiveState(path, *net.impl_->module);
  net.set_normalization(norm);
  for (const char* k : {"schema_version", "kind", "space", "subspace", "normalization"}) meta.erase(k);
  net.impl_->meta = std::move(meta);
  return net;
}

void Supernet::CheckSpace(const SearchSpace& space, const SubSpace& sub, const std::string& source) const {
  if (ComparableSpace(space) != ComparableSpace(impl_->space)) {
    throw InvalidInput(source + ": the supernet was trained on search space '" + impl_->space.name +
                       "', which differs from '" + space.name + "'" +
                       (space.source.empty() ? std::string() : " (" + space.source + ")"));
  }
  if (!(sub == impl_->sub)) {
    throw InvalidInput(source + ": the supernet was trained for sub-space " + impl_->sub.Label() + ", not " +
                       sub.Label());
  }
}

Subnet Supernet::Extract(const Arch& arch) const {
  // Validate against the space without disturbing the active subnet.
  const Genes g = impl_->space.Encode(impl_->sub, arch);
  impl_->space.ValidateGenes(g);
  SupernetModuleImpl& sm = *impl_->module;
  auto impl = std::make_unique<Subnet::Impl>();
  impl->arch = arch;
  impl->module = std::make_shared<StaticNetImpl>(arch);
  impl->norm = impl_->norm;
  StaticNetImpl& st = *impl->module;
  torch::NoGradGuard guard;
  const auto copy_bn = [](StaticLayerImpl& dst, ConvBnImpl& src, int c) {
    dst.bn->weight.copy_(Narrow0(src.bn_weight, c));
    dst.bn->bias.copy_(Narrow0(src.bn_bias, c));
    dst.bn->running_mean.copy_(Narrow0(src.bn_mean, c));
    dst.bn->running_var.copy_(Narrow0(src.bn_var, c));
  };
  st.first_conv->conv->weight.copy_(sm.first_conv->weight);
  copy_bn(*st.first_conv, *sm.first_conv, st.first_conv->out);
  // The same block mapping as SetActive.
  std::vector<int> index;
  if (sm.first_block >= 0) index.push_back(sm.first_block);
  for (size_t s = 0; s < sm.stage_blocks.size(); ++s) {
    for (int j = 0; j < g.depths[s]; ++j) index.push_back(sm.stage_blocks[s][j]);
  }
  for (size_t i = 0; i < index.size(); ++i) {
    SuperBlockImpl& sb = *sm.block_ptrs[index[i]];
    StaticBlockImpl& db = *st.block_ptrs[i];
    const MBBlock& b = arch.blocks[i];
    const int mid = b.has_expand() ? b.mid_channels : b.in_channels;
    if (db.expand) {
      db.expand->conv->weight.copy_(Narrow0(sb.expand->weight, mid));
      copy_bn(*db.expand, *sb.expand, mid);
    }
    torch::Tensor dw = Narrow0(sb.depthwise->weight, mid);
    const int off = (sb.spec.max_kernel - b.kernel) / 2;
    dw = dw.narrow(2, off, b.kernel).narrow(3, off, b.kernel);
    db.depthwise->conv->weight.copy_(dw);
    copy_bn(*db.depthwise, *sb.depthwise, mid);
    db.project->conv->weight.copy_(sb.project->weight.narrow(1, 0, mid));
    copy_bn(*db.project, *sb.project, b.out_channels);
  }
  if (st.feature_mix) {
    st.feature_mix->conv->weight.copy_(sm.feature_mix->weight);
    copy_bn(*st.feature_mix, *sm.feature_mix, st.feature_mix->out);
  }
  st.classifier->weight.copy_(sm.classifier->weight);
  st.classifier->bias.copy_(sm.classifier->bias);
  impl->meta = {{"supernet_space", impl_->space.name}, {"subspace", impl_->sub.Label()}};
  return Subnet(std::move(impl));
}

FloatModel Supernet::ExtractFloatModel(const Arch& arch) const { return Extract(arch).ToFloatModel(); }

}  // namespace mcunet::nn
