// `mcunet train-supernet`: train the weight-sharing supernet of one
// sub-space (sandwich rule), resumable; needs mcunet_nn (libtorch).
#if MCUNET_WITH_NN
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "mcunet/error.h"
#include "mcunet/evolution.h"
#include "mcunet/nn/trainer.h"
#include "mcunet/search_space.h"

namespace mcunet::cli {

namespace {

struct TrainSupernetOptions {
  std::string space;
  std::string subspace;
  std::string data;
  std::optional<int> random_subnets;
  TrainCliOptions train;
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
  AddTrainOptions(cmd, &o->train, "Output directory: checkpoint.pt, supernet.pt, curve.csv, config.json",
                  "Training config JSON (train_config; flags override it)",
                  "Continue from <out>/checkpoint.pt (same config)");
  cmd->add_option("--random-subnets", o->random_subnets, "Random subnets per batch besides the largest (default 4)");
  cmd->callback([o] {
    const SearchSpace space = LoadSearchSpace(o->space);
    const SubSpace sub = ParseSubSpaceLabel(o->subspace, "--subspace");
    nn::TrainConfig cfg = TrainConfigFromCli(o->train, nn::TrainConfig());
    if (!o->data.empty()) cfg.data.spec = o->data;
    if (o->random_subnets) cfg.num_random_subnets = *o->random_subnets;
    cfg.data.resolution = sub.resolution;
    cfg.Validate(o->train.config.empty() ? "train-supernet" : o->train.config);
    RequireFreshOrResume(o->train, "train-supernet");
    const nn::TrainResult r = nn::TrainSupernet(space, sub, cfg, o->train.out, ToTrainOptions(o->train));
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
    std::printf("curve        %s/curve.csv\n", o->train.out.c_str());
  });
}

}  // namespace mcunet::cli
#endif  // MCUNET_WITH_NN
