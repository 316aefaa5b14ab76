// `mcunet finetune`: inherit a subnet's weights from a trained supernet,
// fine-tune it alone, save it (libtorch checkpoint + FloatModel JSON) and
// report its test top-1; needs mcunet_nn (libtorch).
#if MCUNET_WITH_NN
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "mcunet/arch.h"
#include "mcunet/error.h"
#include "mcunet/nn/trainer.h"

namespace mcunet::cli {

namespace {

namespace fs = std::filesystem;

struct FinetuneOptions {
  std::string arch;
  std::string supernet;
  std::optional<int> epochs;
  std::string out;
  std::string config;
  bool resume = false;
  std::optional<double> lr;
  std::optional<int64_t> limit_train;
  std::optional<int64_t> limit_val;
  std::optional<uint64_t> seed;
  std::optional<int> threads;
  bool no_progress = false;
  int stop_after_epoch = 0;
};

}  // namespace

void RegisterFinetune(CLI::App& app) {
  auto o = std::make_shared<FinetuneOptions>();
  auto* cmd = app.add_subcommand("finetune",
                                 "Fine-tune a subnet with weights inherited from a trained supernet; writes subnet.pt, "
                                 "float_model.json, result.json and reports test top-1");
  cmd->add_option("--arch", o->arch, "Architecture JSON (e.g. a search's best_arch.json)")->required();
  cmd->add_option("--supernet", o->supernet, "Supernet checkpoint (supernet.pt)")->required();
  cmd->add_option("--epochs", o->epochs, "Epochs (default 5, or the config's)");
  cmd->add_option("--out", o->out, "Output directory")->required();
  cmd->add_option("--config", o->config, "Training config JSON (train_config); data options come from the supernet");
  cmd->add_flag("--resume", o->resume, "Continue from <out>/checkpoint.pt");
  cmd->add_option("--lr", o->lr, "Peak learning rate (default 0.02 without --config)");
  cmd->add_option("--limit-train", o->limit_train, "Use only the first N training images");
  cmd->add_option("--limit-val", o->limit_val, "Use only the first N validation images");
  cmd->add_option("--seed", o->seed, "Seed (default 0)");
  cmd->add_option("--threads", o->threads, "Torch intra-op threads (default 2)");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->add_option("--stop-after-epoch", o->stop_after_epoch, "Stop after this epoch's checkpoint (testing resume)")
      ->group("");
  cmd->callback([o] {
    const Arch arch = LoadArch(o->arch);
    nn::TrainConfig cfg;
    const std::string stored = (fs::path(o->out) / "config.json").string();
    if (!o->config.empty()) {
      cfg = nn::TrainConfig::Load(o->config);
    } else if (o->resume && fs::exists(stored)) {
      cfg = nn::TrainConfig::Load(stored);
    } else {
      cfg.lr = 0.02;
    }
    if (o->lr) cfg.lr = *o->lr;
    if (o->epochs) cfg.epochs = *o->epochs;
    if (o->limit_train) cfg.data.limit_train = *o->limit_train;
    if (o->limit_val) cfg.data.limit_val = *o->limit_val;
    if (o->seed) cfg.seed = *o->seed;
    if (o->threads) cfg.threads = *o->threads;
    if (!o->resume && fs::exists(fs::path(o->out) / "checkpoint.pt")) {
      throw InvalidInput("finetune: " + o->out + " already holds a run (checkpoint.pt); continue it with --resume or "
                         "choose another --out");
    }
    nn::TrainOptions topt;
    topt.resume = o->resume;
    topt.progress = !o->no_progress;
    topt.stop_after_epoch = o->stop_after_epoch;
    const nn::FinetuneResult r = nn::Finetune(o->supernet, arch, o->arch, cfg, o->out, topt);
    if (!r.train.finished) {
      std::printf("stopped after epoch %d; continue with --resume\n",
                  r.train.curve.empty() ? 0 : r.train.curve.back().epoch);
      return;
    }
    std::printf("inherited    %.2f%% val top-1 (BN re-calibrated, before fine-tuning)\n", 100 * r.inherited_val_acc);
    std::printf("fine-tuned   %.2f%% val top-1\n", 100 * r.val_acc);
    if (r.test_acc >= 0) std::printf("test top-1   %.2f%%\n", 100 * r.test_acc);
    std::printf("subnet       %s\n", r.train.final_path.c_str());
    std::printf("float model  %s\n", r.float_model_path.c_str());
    std::printf("time         %.1f s\n", r.train.seconds);
  });
}

}  // namespace mcunet::cli
#endif  // MCUNET_WITH_NN
