// Shared by `mcunet quantize` and `mcunet codegen --float-model`: load a
// FloatModel and a data set, calibrate, quantise.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "mcunet/dataset.h"
#include "mcunet/float_model.h"
#include "mcunet/graph.h"
#include "mcunet/ptq.h"

namespace mcunet::cli {

struct QuantizeCliOptions {
  std::string float_model_path;
  std::string data = "fashion-mnist";
  int64_t calib_images = 512;
  int64_t val_count = 5000;
  uint64_t split_seed = 0;
  bool resize = false;     // bilinear resize instead of centre pad / crop
  double percentile = 0;   // 0: min/max calibration
};

// Adds --float-model (required when `require_model`), --data, --calib-images,
// --val-count, --split-seed, --resize, --percentile to `cmd`.
void AddQuantizeOptions(CLI::App* cmd, QuantizeCliOptions* o, bool require_model);

// The data set's split ("train" / "test") at the model's resolution and
// channels. Throws InvalidInput naming the data set when channels differ.
ImageDataset LoadDataForModel(const QuantizeCliOptions& o, const FloatModel& m, const std::string& split);

struct QuantizedFromCli {
  FloatModel model;
  Graph graph;
  TrainValSplit split;  // of the training set; calibration used split.train
  int64_t calib_count = 0;
};
QuantizedFromCli QuantizeFromCli(const QuantizeCliOptions& o);

}  // namespace mcunet::cli
