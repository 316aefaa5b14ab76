// SupernetEvaluator: BN re-calibration + validation top-1 per candidate.
#include "mcunet/nn/supernet_evaluator.h"

#include <spdlog/spdlog.h>

#include "mcunet/error.h"
#include "mcunet/nn/trainer.h"
#include "nn/bn_eval.h"
#include "nn/modules.h"

namespace mcunet::nn {

struct SupernetEvaluator::State {
  std::vector<torch::Tensor> calib;
  EvalSet val;
};

SupernetEvaluator::SupernetEvaluator(const std::string& checkpoint, SupernetEvaluatorOptions options)
    : options_(options) {
  ConfigureRuntime(options_.threads);
  net_ = std::make_shared<Supernet>(Supernet::Load(checkpoint));
  if (!net_->meta().contains("data")) throw InvalidInput(checkpoint + ": data: missing (no data options stored)");
  DataOptions d = DataOptions::FromJson(net_->meta()["data"], checkpoint);
  d.limit_val = options_.limit_val;
  d.channels = net_->space().in_channels;
  const DataSplits data = LoadData(d);
  Init(data.train, data.val);
  spdlog::info("supernet evaluator: {} ({}), BN re-calibration on {} x {} training images, {} validation images",
               checkpoint, net_->subspace().Label(), options_.calib_batches, options_.calib_batch_size,
               data.val.size());
}

SupernetEvaluator::SupernetEvaluator(std::shared_ptr<Supernet> net, const ImageDataset& train, const ImageDataset& val,
                                     SupernetEvaluatorOptions options)
    : net_(std::move(net)), options_(options) {
  Init(train, val);
}

SupernetEvaluator::~SupernetEvaluator() = default;

void SupernetEvaluator::Init(const ImageDataset& train, const ImageDataset& val) {
  if (options_.calib_batches < 1 || options_.calib_batch_size < 1 || options_.eval_batch_size < 1) {
    throw InvalidInput("supernet evaluator: calib_batches, calib_batch_size and eval_batch_size must be >= 1");
  }
  if (val.size() == 0) throw InvalidInput(val.source + ": no validation images");
  const int r = net_->subspace().resolution;
  if (train.height != r || val.height != r) {
    throw InvalidInput(train.source + ": images are " + std::to_string(train.height) + " pixels, the supernet expects " +
                       std::to_string(r));
  }
  state_ = std::make_unique<State>();
  state_->calib = CalibrationBatches(train, net_->normalization(), options_.calib_batches, options_.calib_batch_size,
                                     options_.seed);
  state_->val = MakeEvalSet(val, net_->normalization(), options_.eval_batch_size);
}

int64_t SupernetEvaluator::val_size() const { return state_->val.count; }

void SupernetEvaluator::Recalibrate(const Arch& arch) {
  net_->SetActive(arch);
  RecalibrateBn(*net_->impl().module, state_->calib);
}

double SupernetEvaluator::Accuracy(const Arch& arch) {
  Recalibrate(arch);
  SupernetModuleImpl& m = *net_->impl().module;
  return nn::Accuracy(m, [&](const torch::Tensor& x) { return m.forward(x); }, state_->val);
}

std::vector<double> SupernetEvaluator::Evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const Arch& a : archs) out.push_back(Accuracy(a));
  return out;
}

}  // namespace mcunet::nn
