// See train_options.h.
#if MCUNET_WITH_NN
#include "cli/train_options.h"

#include <filesystem>

#include "mcunet/error.h"

namespace mcunet::cli {

namespace fs = std::filesystem;

void AddTrainOptions(CLI::App* cmd, TrainCliOptions* o, const std::string& out_help, const std::string& config_help,
                     const std::string& resume_help) {
  cmd->add_option("--epochs", o->epochs, "Epochs (default 5, or the config's)");
  cmd->add_option("--out", o->out, out_help)->required();
  cmd->add_option("--config", o->config, config_help);
  cmd->add_flag("--resume", o->resume, resume_help);
  cmd->add_option("--limit-train", o->limit_train, "Use only the first N training images");
  cmd->add_option("--limit-val", o->limit_val, "Use only the first N validation images");
  cmd->add_option("--seed", o->seed, "Seed (default 0)");
  cmd->add_option("--threads", o->threads, "Torch intra-op threads (default 2)");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->add_option("--stop-after-epoch", o->stop_after_epoch, "Stop after this epoch's checkpoint (testing resume)")
      ->group("");
}

nn::TrainConfig TrainConfigFromCli(const TrainCliOptions& o, const nn::TrainConfig& fallback) {
  nn::TrainConfig cfg = fallback;
  const std::string stored = (fs::path(o.out) / "config.json").string();
  if (!o.config.empty()) {
    cfg = nn::TrainConfig::Load(o.config);
  } else if (o.resume && fs::exists(stored)) {
    cfg = nn::TrainConfig::Load(stored);
  }
  if (o.epochs) cfg.epochs = *o.epochs;
  if (o.limit_train) cfg.data.limit_train = *o.limit_train;
  if (o.limit_val) cfg.data.limit_val = *o.limit_val;
  if (o.seed) cfg.seed = *o.seed;
  if (o.threads) cfg.threads = *o.threads;
  return cfg;
}

void RequireFreshOrResume(const TrainCliOptions& o, const std::string& verb) {
  if (!o.resume && fs::exists(fs::path(o.out) / "checkpoint.pt")) {
    throw InvalidInput(verb + ": " + o.out + " already holds a run (checkpoint.pt); continue it with --resume or "
                       "choose another --out");
  }
}

nn::TrainOptions ToTrainOptions(const TrainCliOptions& o) {
  nn::TrainOptions t;
  t.resume = o.resume;
  t.progress = !o.no_progress;
  t.stop_after_epoch = o.stop_after_epoch;
  return t;
}

}  // namespace mcunet::cli
#endif  // MCUNET_WITH_NN
