// The options `mcunet train-supernet` and `mcunet finetune` share: epochs,
// output directory, config file, resume, data limits, seed, threads,
// progress, and how they combine with a config (needs mcunet_nn).
#pragma once
#if MCUNET_WITH_NN

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "mcunet/nn/train_config.h"
#include "mcunet/nn/trainer.h"

namespace mcunet::cli {

struct TrainCliOptions {
  std::optional<int> epochs;
  std::string out;
  std::string config;
  bool resume = false;
  std::optional<int64_t> limit_train;
  std::optional<int64_t> limit_val;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  bool no_progress = false;
  int stop_after_epoch = 0;
};

// Adds --epochs, --out (required), --config, --resume, --limit-train,
// --limit-val, --seed, --threads, --no-progress and the hidden
// --stop-after-epoch to `cmd`, with the verb's own help for --out, --config
// and --resume.
void AddTrainOptions(CLI::App* cmd, TrainCliOptions* o, const std::string& out_help, const std::string& config_help,
                     const std::string& resume_help);

// The run's config: --config, else (with --resume) the config stored in
// <out>/config.json, else `fallback`; then the flags given override it.
nn::TrainConfig TrainConfigFromCli(const TrainCliOptions& o, const nn::TrainConfig& fallback);

// Throws InvalidInput when <out> already holds a run (checkpoint.pt) and
// --resume was not given; `verb` names the command in the message.
void RequireFreshOrResume(const TrainCliOptions& o, const std::string& verb);

// --resume, --no-progress and --stop-after-epoch as nn::TrainOptions.
nn::TrainOptions ToTrainOptions(const TrainCliOptions& o);

}  // namespace mcunet::cli

#endif  // MCUNET_WITH_NN
