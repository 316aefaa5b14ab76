// Accuracy of subnets for the evolution search (mcunet::Evaluator), from a
// trained supernet: per candidate, set it active, re-calibrate BatchNorm on
// `calib_batches` x `calib_batch_size` training images (the same images for
// every candidate), then top-1 on the validation split held out of the
// training set when the supernet was trained. Fitness is the accuracy in
// [0, 1]. Deterministic for a fixed seed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mcunet/evaluator.h"
#include "mcunet/nn/supernet.h"

namespace mcunet::nn {

struct SupernetEvaluatorOptions {
  int calib_batches = 20;
  int calib_batch_size = 64;
  int eval_batch_size = 256;
  int64_t limit_val = 0;  // >0: only the first N validation images
  uint64_t seed = 0;      // chooses the calibration images
  int threads = 2;
};

class SupernetEvaluator : public Evaluator {
 public:
  // Loads the checkpoint and the data it was trained on (its stored data
  // options). Throws FileNotFound / InvalidInput naming the file.
  explicit SupernetEvaluator(const std::string& checkpoint, SupernetEvaluatorOptions options = {});
  // In memory: `train` supplies the calibration images, `val` the accuracy
  // (both already at the supernet's resolution).
  SupernetEvaluator(std::shared_ptr<Supernet> net, const ImageDataset& train, const ImageDataset& val,
                    SupernetEvaluatorOptions options = {});
  ~SupernetEvaluator() override;

  std::string name() const override { return "supernet"; }
  // Throws InvalidInput for an arch outside the supernet's space.
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override;
  // One candidate: set active, BN re-calibration, validation top-1.
  double Accuracy(const Arch& arch);
  // Only the BN re-calibration of `arch` (left active).
  void Recalibrate(const Arch& arch);

  Supernet& supernet() { return *net_; }
  int64_t val_size() const;

 private:
  struct State;
  void Init(const ImageDataset& train, const ImageDataset& val);
  std::shared_ptr<Supernet> net_;
  SupernetEvaluatorOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace mcunet::nn
