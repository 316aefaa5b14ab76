// The static subnet module (a plain libtorch network of one Arch) and
// mcunet::nn::Subnet, including its export to FloatModel.
#include <nlohmann/json.hpp>

#include "mcunet/error.h"
#include "nn/modules.h"

namespace mcunet::nn {

StaticLayerImpl::StaticLayerImpl(int in_c, int out_c, int k, int s, bool dw, bool with_bn)
    : in(in_c), out(out_c), kernel(k), stride(s), depthwise(dw) {
  conv = register_module(
      "conv", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(in, out, k).stride(s).padding(k / 2).groups(dw ? in : 1).bias(false)));
  {
    torch::NoGradGuard g;
    torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
  }
  if (with_bn) bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).eps(1e-5).momentum(0.1)));
}

torch::Tensor StaticLayerImpl::forward(torch::Tensor x, bool relu6) {
  x = conv->forward(x);
  if (bn) x = bn->forward(x);
  return relu6 ? torch::hardtanh(x, 0.0, 6.0) : x;
}

StaticBlockImpl::StaticBlockImpl(const MBBlock& b) : spec(b) {
  const int mid = b.has_expand() ? b.mid_channels : b.in_channels;
  if (b.has_expand()) expand = register_module("expand", std::make_shared<StaticLayerImpl>(b.in_channels, mid, 1, 1, false, true));
  depthwise = register_module("depthwise", std::make_shared<StaticLayerImpl>(mid, mid, b.kernel, b.stride, true, true));
  project = register_module("project", std::make_shared<StaticLayerImpl>(mid, b.out_channels, 1, 1, false, true));
}

StaticNetImpl::StaticNetImpl(const Arch& a) : arch(a) {
  arch.Validate();
  first_conv = register_module("first_conv", std::make_shared<StaticLayerImpl>(a.in_channels, a.first_conv.out_channels,
                                                                               a.first_conv.kernel, a.first_conv.stride,
                                                                               false, true));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (const MBBlock& b : a.blocks) {
    auto m = std::make_shared<StaticBlockImpl>(b);
    blocks->push_back(m);
    block_ptrs.push_back(m.get());
  }
  if (a.feature_mix_channels > 0) {
    const int in = a.blocks.empty() ? a.first_conv.out_channels : a.blocks.back().out_channels;
    feature_mix = register_module("feature_mix", std::make_shared<StaticLayerImpl>(in, a.feature_mix_channels, 1, 1, false, true));
  }
  classifier = register_module("classifier", torch::nn::Linear(a.last_channels(), a.num_classes));
}

torch::Tensor StaticNetImpl::forward(torch::Tensor x) {
  x = x.contiguous(torch::MemoryFormat::ChannelsLast);  // as the supernet: faster depthwise convs
  x = first_conv->forward(x, true);
  for (StaticBlockImpl* b : block_ptrs) {
    torch::Tensor h = x;
    if (b->expand) h = b->expand->forward(h, true);
    h = b->depthwise->forward(h, true);
    h = b->project->forward(h, false);
    x = b->spec.residual ? h + x : h;
  }
  if (feature_mix) x = feature_mix->forward(x, true);
  x = x.mean({2, 3});
  return classifier->forward(x);
}

// ---- Subnet -------------------------------------------------------------------

Subnet::Subnet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Subnet::Subnet(const Arch& arch, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  torch::manual_seed(seed);
  impl_->arch = arch;
  impl_->module = std::make_shared<StaticNetImpl>(arch);
  impl_->norm.mean.assign(arch.in_channels, 0.0f);
  impl_->norm.std.assign(arch.in_channels, 1.0f);
}

Subnet::~Subnet() = default;
Subnet::Subnet(Subnet&&) noexcept = default;
Subnet& Subnet::operator=(Subnet&&) noexcept = default;

const Arch& Subnet::arch() const { return impl_->arch; }
const Normalization& Subnet::normalization() const { return impl_->norm; }
void Subnet::set_normalization(Normalization n) {
  if (static_cast<int>(n.mean.size()) != impl_->arch.in_channels || n.std.size() != n.mean.size()) {
    throw InvalidInput("normalization: expected " + std::to_string(impl_->arch.in_channels) + " channels");
  }
  impl_->norm = std::move(n);
}
nlohmann::json& Subnet::meta() { return impl_->meta; }

int64_t Subnet::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : impl_->module->parameters()) n += p.numel();
  return n;
}

std::vector<float> Subnet::Forward(const std::vector<float>& nchw, int n) {
  CheckInputSize(nchw, n, impl_->arch.in_channels, impl_->arch.resolution);
  std::vector<float> logits(static_cast<size_t>(n) * impl_->arch.num_classes);
  Forward(nchw.data(), n, logits.data());
  return logits;
}

void Subnet::Forward(const float* nchw, int n, float* logits) {
  if (n <= 0) throw InvalidInput("Forward: expected at least one image, got " + std::to_string(n));
  torch::NoGradGuard guard;
  impl_->module->eval();
  const int c = impl_->arch.in_channels, r = impl_->arch.resolution;
  const torch::Tensor x = torch::from_blob(const_cast<float*>(nchw), {n, c, r, r}, torch::kFloat32);
  const torch::Tensor y = impl_->module->forward(x).contiguous();
  std::copy(y.data_ptr<float>(), y.data_ptr<float>() + y.numel(), logits);
}

namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous().to(torch::kFloat32);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

FloatLayer Export(const std::string& name, StaticLayerImpl& l, bool relu6) {
  FloatLayer f;
  f.name = name;
  f.in_channels = l.in;
  f.out_channels = l.out;
  f.kernel = l.kernel;
  f.stride = l.stride;
  f.depthwise = l.depthwise;
  // torch OIHW -> OHWI; depthwise [C][1][kh][kw] -> [1][kh][kw][C].
  f.weight = ToVector(l.depthwise ? l.conv->weight.permute({1, 2, 3, 0}) : l.conv->weight.permute({0, 2, 3, 1}));
  if (l.bn) {
    f.bn_gamma = ToVector(l.bn->weight);
    f.bn_beta = ToVector(l.bn->bias);
    f.bn_mean = ToVector(l.bn->running_mean);
    f.bn_var = ToVector(l.bn->running_var);
    f.bn_eps = static_cast<float>(l.bn->options.eps());
  }
  f.relu6 = relu6;
  return f;
}

}  // namespace

FloatModel Subnet::ToFloatModel() const {
  StaticNetImpl& m = *impl_->module;
  FloatModel fm;
  fm.arch = impl_->arch;
  fm.input_mean = impl_->norm.mean;
  fm.input_std = impl_->norm.std;
  fm.layers.push_back(Export("first_conv", *m.first_conv, true));
  for (size_t i = 0; i < m.block_ptrs.size(); ++i) {
    StaticBlockImpl& b = *m.block_ptrs[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    if (b.expand) fm.layers.push_back(Export(p + "expand", *b.expand, true));
    fm.layers.push_back(Export(p + "depthwise", *b.depthwise, true));
    fm.layers.push_back(Export(p + "project", *b.project, false));
  }
  if (m.feature_mix) fm.layers.push_back(Export("feature_mix", *m.feature_mix, true));
  FloatLayer c;
  c.name = "classifier";
  c.in_channels = static_cast<int>(m.classifier->weight.size(1));
  c.out_channels = static_cast<int>(m.classifier->weight.size(0));
  c.weight = ToVector(m.classifier->weight);
  c.bias = ToVector(m.classifier->bias);
  fm.layers.push_back(std::move(c));
  return fm;
}

void Subnet::Save(const std::string& path) const {
  nlohmann::json meta = impl_->meta;
  meta["schema_version"] = kSupernetCheckpointSchemaVersion;
  meta["kind"] = "subnet";
  meta["arch"] = ArchToJson(impl_->arch);
  meta["normalization"] = NormalizationToJson(impl_->norm);
  SaveArchive(path, *impl_->module, meta);
}

Subnet Subnet::Load(const std::string& path) {
  nlohmann::json meta = ReadArchiveMeta(path, "subnet");
  Arch arch;
  Normalization norm;
  try {
    arch = ArchFromJson(meta.at("arch"), path + ": arch");
    norm = NormalizationFromJson(meta.at("normalization"), path);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(path + ": checkpoint header: " + e.what());
  }
  Subnet net(arch, 0);
  LoadArchiveState(path, *net.impl_->module);
  net.set_normalization(norm);
  for (const char* k : {"schema_version", "kind", "arch", "normalization"}) meta.erase(k);
  net.impl_->meta = std::move(meta);
  return net;
}

}  // namespace mcunet::nn
