// Internal (libtorch): BN re-calibration and top-1 evaluation of the active
// supernet subnet or a static net.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

#include "mcunet/dataset.h"
#include "mcunet/nn/data.h"

namespace mcunet::nn {

struct SupernetModuleImpl;
struct StaticNetImpl;

// `batches` x `batch_size` training images (no augmentation), chosen by a
// seeded shuffle: the same images for every candidate.
std::vector<torch::Tensor> CalibrationBatches(const ImageDataset& train, const Normalization& norm, int batches,
                                              int batch_size, uint64_t seed);

// Replaces the running statistics of every BatchNorm the active subnet uses
// by their average over `batches` (cumulative: momentum 1/(b+1)).
void RecalibrateBn(SupernetModuleImpl& m, const std::vector<torch::Tensor>& batches);
void RecalibrateBn(StaticNetImpl& m, const std::vector<torch::Tensor>& batches);

// Normalised validation images as batches with their labels.
struct EvalSet {
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> labels;
  int64_t count = 0;
};
EvalSet MakeEvalSet(const ImageDataset& data, const Normalization& norm, int batch_size);

// Top-1 accuracy in [0, 1] (inference mode).
double Accuracy(torch::nn::Module& m, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                const EvalSet& set);

}  // namespace mcunet::nn
