// Training configuration of the supernet (and of fine-tuning a subnet): a
// versioned JSON file whose every field is optional (the defaults work):
//
//   {"schema_version": 1, "kind": "train_config",
//    "epochs": 5, "batch_size": 64,
//    "lr": 0.05, "momentum": 0.9, "nesterov": true,   // SGD, cosine schedule
//    "warmup_epochs": 0, "weight_decay": 5e-5,        // not on BN / biases
//    "label_smoothing": 0.1,
//    "num_random_subnets": 4,      // sandwich rule: largest + N random / batch
//    "train_smallest": false,      // and the smallest too (BigNAS sandwich)
//    "distill": false,             // in-place distillation from the largest
//    "sort_channels": true,        // L1 channel re-sorting each epoch
//    "bn_momentum": 0.1,
//    "calib_batches": 20, "calib_batch_size": 64,  // BN re-calibration
//    "eval_batch_size": 256, "eval_each_epoch": true,
//    "seed": 0, "threads": 2,
//    "augment": {"crop_padding": 2, "flip": true},
//    "data": {"spec": "fashion-mnist", "val_count": 5000, "split_seed": 0,
//             "resolution": 32, "resize": false}}
//
// Unknown keys are errors naming the key (they are usually typos).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "mcunet/nn/data.h"

namespace mcunet::nn {

inline constexpr int kTrainConfigSchemaVersion = 1;

struct TrainConfig {
  int epochs = 5;
  int batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = true;
  int warmup_epochs = 0;
  double weight_decay = 5e-5;
  double label_smoothing = 0.1;
  int num_random_subnets = 4;
  bool train_smallest = false;
  bool distill = false;
  bool sort_channels = true;
  double bn_momentum = 0.1;
  int calib_batches = 20;
  int calib_batch_size = 64;
  int eval_batch_size = 256;
  bool eval_each_epoch = true;
  uint64_t seed = 0;
  int threads = 2;
  AugmentOptions augment;
  DataOptions data;

  // Throws InvalidInput naming `source` and the field.
  void Validate(const std::string& source = "<train config>") const;
  nlohmann::json ToJson() const;
  static TrainConfig FromJson(const nlohmann::json& j, const std::string& source);
  static TrainConfig Load(const std::string& path);
};

}  // namespace mcunet::nn
