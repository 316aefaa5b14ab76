// `mcunet finetune`: inherit a subnet's weights from a trained supernet,
// fine-tune it alone, save it (libtorch checkpoint + FloatModel JSON) and
// report its test top-1; needs mcunet_nn (libtorch).
#if MCUNET_WITH_NN
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "mcunet/arch.h"
#include "mcunet/error.h"
#include "mcunet/nn/trainer.h"

namespace mcunet::cli {

namespace {

struct FinetuneOptions {
  std::string arch;
  std::string supernet;
  std::optional<double> lr;
  TrainCliOptions train;
};

}  // namespace

void RegisterFinetune(CLI::App& app) {
  auto o = std::make_shared<FinetuneOptions>();
  auto* cmd = app.add_subcommand("finetune",
                                 "Fine-tune a subnet with weights inherited from a trained supernet; writes subnet.pt, "
                                 "float_model.json, result.json and reports test top-1");
  cmd->add_option("--arch", o->arch, "Architecture JSON (e.g. a search's best_arch.json)")->required();
  cmd->add_option("--supernet", o->supernet, "Supernet checkpoint (supernet.pt)")->required();
  AddTrainOptions(cmd, &o->train, "Output directory",
                  "Training config JSON (train_config); data options come from the supernet",
                  "Continue from <out>/checkpoint.pt");
  cmd->add_option("--lr", o->lr, "Peak learning rate (default 0.02 without --config)");
  cmd->callback([o] {
    const Arch arch = LoadArch(o->arch);
    nn::TrainConfig fallback;
    fallback.lr = 0.02;
    nn::TrainConfig cfg = TrainConfigFromCli(o->train, fallback);
    if (o->lr) cfg.lr = *o->lr;
    RequireFreshOrResume(o->train, "finetune");
    const nn::FinetuneResult r = nn::Finetune(o->supernet, arch, o->arch, cfg, o->train.out, ToTrainOptions(o->train));
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
