// `mcunet train-supernet`: train the weight-sharing supernet of one
// sub-space (sandwich rule), resumable; needs mcunet_nn (libtorch).
#if MCUNET_WITH_NN
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "mcunet/error.h"
#include "mcunet/evolution.h"
#include "mcunet/nn/trainer.h"
#include "mcunet/search_space.h"

namespace mcunet::cli {

namespace {

namespace fs = std::filesystem;

struct TrainSupernetOptions {
  std::string space;
  std::string subspace;
  std::string data;
  std::optional<int> epochs;
  std::string out;
  std::string config;
  bool resume = false;
  std::optional<int64_t> limit_train;
  std::optional<int64_t> limit_val;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  std::optional<int> random_subnets;
  bool no_progress = false;
  int stop_after_epoch = 0;
};

}  // namespace

void RegisterTrainSupernet(CLI::App& app) {
  auto o = std::make_shared<TrainSupernetOptions>();
  auto* cmd = app.add_subcommand("train-supernet",
                                 "Train the weight-sharing supernet of one sub-space (largest + N random subnets per "
                                 "batch); checkpoints every epoch, --resume continues");
  cmd->add_option("--space", o->space, "Search space JSON")->required();
  cmd->add_option("--subspace", o->subspace, "Sub-space, e.g. w0.5-r32")->required();
  cmd->add_option("--data", o->data,
                  "Data set: fashion-mnist (default), fashion-mnist:DIR, idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]");
  cmd->add_option("--epochs", o->epochs, "Epochs (default 5, or the config's)");
  cmd->add_option("--out", o->out, "Output directory: checkpoint.pt, supernet.pt, curve.csv, config.json")->required();
  cmd->add_option("--config", o->config, "Training config JSON (train_config; flags override it)");
  cmd->add_flag("--resume", o->resume, "Continue from <out>/checkpoint.pt (same config)");
  cmd->add_option("--limit-train", o->limit_train, "Use only the first N training images");
  cmd->add_option("--limit-val", o->limit_val, "Use only the first N validation images");
  cmd->add_option("--seed", o->seed, "Seed (default 0)");
  cmd->add_option("--threads", o->threads, "Torch intra-op threads (default 2)");
  cmd->add_option("--random-subnets", o->random_subnets, "Random subnets per batch besides the largest (default 4)");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->add_option("--stop-after-epoch", o->stop_after_epoch, "Stop after this epoch's checkpoint (testing resume)")
      ->group("");
  cmd->callback([o] {
    const SearchSpace space = LoadSearchSpace(o->space);
    const SubSpace sub = ParseSubSpaceLabel(o->subspace, "--subspace");
    nn::TrainConfig cfg;
    const std::string stored = (fs::path(o->out) / "config.json").string();
    if (!o->config.empty()) {
      cfg = nn::TrainConfig::Load(o->config);
    } else if (o->resume && fs::exists(stored)) {
      cfg = nn::TrainConfig::Load(stored);
    }
    if (!o->data.empty()) cfg.data.spec = o->data;
    if (o->epochs) cfg.epochs = *o->epochs;
    if (o->limit_train) cfg.data.limit_train = *o->limit_train;
    if (o->limit_val) cfg.data.limit_val = *o->limit_val;
    if (o->seed) cfg.seed = *o->seed;
    if (o->threads) cfg.threads = *o->threads;
    if (o->random_subnets) cfg.num_random_subnets = *o->random_subnets;
    cfg.data.resolution = sub.resolution;
    cfg.Validate(o->config.empty() ? "train-supernet" : o->config);
    if (!o->resume && fs::exists(fs::path(o->out) / "checkpoint.pt")) {
      throw InvalidInput("train-supernet: " + o->out + " already holds a training run (checkpoint.pt); continue it with "
                         "--resume or choose another --out");
    }
    nn::TrainOptions topt;
    topt.resume = o->resume;
    topt.progress = !o->no_progress;
    topt.stop_after_epoch = o->stop_after_epoch;
    const nn::TrainResult r = nn::TrainSupernet(space, sub, cfg, o->out, topt);
    if (!r.finished) {
      std::printf("stopped after epoch %d of %d; continue with --resume\n", r.curve.empty() ? 0 : r.curve.back().epoch,
                  cfg.epochs);
      return;
    }
    const nn::EpochRecord& last = r.curve.back();
    std::printf("supernet     %s\n", r.final_path.c_str());
    std::printf("val top-1    largest %.2f%%, smallest %.2f%% (after BN re-calibration)\n", 100 * last.val_acc,
                100 * last.val_acc_smallest);
    std::printf("time         %.1f s for %zu epochs in this run\n", r.seconds, r.curve.size());
    std::printf("curve        %s/curve.csv\n", o->out.c_str());
  });
}

}  // namespace mcunet::cli
#endif  // MCUNET_WITH_NN
