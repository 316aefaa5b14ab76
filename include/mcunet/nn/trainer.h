// Supernet training (sandwich rule) and subnet fine-tuning, resumable.
//
// TrainSupernet writes into `out_dir`:
//   checkpoint.pt  after every epoch (atomic): weights, running statistics,
//                  SGD momentum, schedule step, Rng, epoch, curve, config
//   supernet.pt    at the end: the trained supernet (Supernet::Load)
//   curve.csv      one row per epoch: lr, train loss/accuracy of the largest
//                  subnet, validation top-1 of the largest and smallest
//                  subnets after BN re-calibration, seconds, images/s
//   config.json    the effective TrainConfig
// With `resume`, training continues from checkpoint.pt and ends with the
// same weights as an uninterrupted run (same seed and thread count).
#pragma once

#include <string>
#include <vector>

#include "mcunet/arch.h"
#include "mcunet/nn/train_config.h"
#include "mcunet/search_space.h"

namespace mcunet::nn {

struct EpochRecord {
  int epoch = 0;  // 1-based
  double lr = 0;  // at the end of the epoch
  double train_loss = 0;
  double train_acc = 0;  // of the largest subnet (supernet) / the net (subnet)
  double val_acc = 0;    // largest subnet (or the fine-tuned net), after BN re-calibration
  double val_acc_smallest = -1;  // supernet only
  double seconds = 0;
  double images_per_second = 0;  // training images (not subnet passes) per s
};

struct TrainOptions {
  bool resume = false;
  bool progress = true;      // progress bar on stderr
  int stop_after_epoch = 0;  // >0: return after this epoch's checkpoint (tests)
};

struct TrainResult {
  std::vector<EpochRecord> curve;
  double seconds = 0;         // wall time of this call
  std::string final_path;     // supernet.pt / subnet.pt ("" if stopped early)
  bool finished = false;
};

// Sets glibc malloc tuning (mmap/trim thresholds, top pad) and torch's
// intra-op threads. Called by the trainers; harmless to call again.
void ConfigureRuntime(int threads);

TrainResult TrainSupernet(const SearchSpace& space, const SubSpace& sub, const TrainConfig& config,
                          const std::string& out_dir, const TrainOptions& options = {});

struct FinetuneResult {
  TrainResult train;
  double inherited_val_acc = 0;  // extracted weights, BN re-calibrated, before fine-tuning
  double val_acc = 0;
  double test_acc = -1;  // -1 when the data set has no test split
  std::string float_model_path;
};

// Inherits `arch`'s weights from the supernet checkpoint, fine-tunes it
// alone (data options from the checkpoint unless config.data was set via
// `data_from_config`), and writes <out_dir>/{checkpoint.pt, subnet.pt,
// float_model.json, curve.csv, result.json}.
FinetuneResult Finetune(const std::string& supernet_checkpoint, const Arch& arch, const std::string& arch_source,
                        TrainConfig config, const std::string& out_dir, const TrainOptions& options = {},
                        bool data_from_config = false);

}  // namespace mcunet::nn
