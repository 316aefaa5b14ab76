// BN re-calibration and accuracy.
#include "nn/bn_eval.h"

#include <numeric>

#include "mcunet/error.h"
#include "nn/modules.h"

namespace mcunet::nn {

std::vector<torch::Tensor> CalibrationBatches(const ImageDataset& train, const Normalization& norm, int batches,
                                              int batch_size, uint64_t seed) {
  if (train.size() == 0) throw InvalidInput(train.source + ": no training images for BN re-calibration");
  Rng rng = Rng::Stream(seed, 0xBC);
  std::vector<int64_t> order = Shuffled(train.size(), rng);
  const int64_t per_image = train.image_bytes();
  std::vector<torch::Tensor> out;
  int64_t pos = 0;
  for (int b = 0; b < batches; ++b) {
    const int n = static_cast<int>(std::min<int64_t>(batch_size, train.size()));
    std::vector<int64_t> idx(n);
    for (int i = 0; i < n; ++i) {
      if (pos == train.size()) pos = 0;  // fewer images than batches x size: wrap
      idx[i] = order[pos++];
    }
    torch::Tensor t = torch::empty({n, train.channels, train.height, train.width});
    MakeBatch(train, idx.data(), n, norm, nullptr, nullptr, t.data_ptr<float>());
    out.push_back(t);
    (void)per_image;
  }
  return out;
}

void RecalibrateBn(SupernetModuleImpl& m, const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard guard;
  const bool was_training = m.is_training();
  const double momentum = m.bn_momentum;
  m.train();
  for (size_t b = 0; b < batches.size(); ++b) {
    m.bn_momentum = 1.0 / static_cast<double>(b + 1);
    m.forward(batches[b]);
  }
  m.bn_momentum = momentum;
  m.train(was_training);
}

void RecalibrateBn(StaticNetImpl& m, const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard guard;
  const bool was_training = m.is_training();
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, double>> bns;
  for (const auto& child : m.modules(false)) {
    if (auto* bn = child->as<torch::nn::BatchNorm2dImpl>()) bns.emplace_back(bn, bn->options.momentum().value_or(0.1));
  }
  m.train();
  for (size_t b = 0; b < batches.size(); ++b) {
    for (auto& [bn, mom] : bns) bn->options.momentum(1.0 / static_cast<double>(b + 1));
    m.forward(batches[b]);
  }
  for (auto& [bn, mom] : bns) bn->options.momentum(mom);
  m.train(was_training);
}

EvalSet MakeEvalSet(const ImageDataset& data, const Normalization& norm, int batch_size) {
  EvalSet set;
  set.count = data.size();
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    const int n = static_cast<int>(std::min<int64_t>(batch_size, data.size() - start));
    std::vector<int64_t> idx(n);
    std::iota(idx.begin(), idx.end(), start);
    torch::Tensor x = torch::empty({n, data.channels, data.height, data.width});
    MakeBatch(data, idx.data(), n, norm, nullptr, nullptr, x.data_ptr<float>());
    torch::Tensor y = torch::from_blob(const_cast<int32_t*>(data.labels.data() + start), {n}, torch::kInt32)
                          .to(torch::kInt64);
    set.images.push_back(x);
    set.labels.push_back(y);
  }
  return set;
}

double Accuracy(torch::nn::Module& m, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                const EvalSet& set) {
  if (set.count == 0) return 0.0;
  torch::NoGradGuard guard;
  const bool was_training = m.is_training();
  m.eval();
  int64_t correct = 0;
  for (size_t b = 0; b < set.images.size(); ++b) {
    const torch::Tensor pred = forward(set.images[b]).argmax(1);
    correct += pred.eq(set.labels[b]).sum().item<int64_t>();
  }
  m.train(was_training);
  return static_cast<double>(correct) / static_cast<double>(set.count);
}

}  // namespace mcunet::nn
