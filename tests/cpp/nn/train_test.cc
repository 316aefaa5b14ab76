// Supernet training end to end on a few hundred Fashion-MNIST images:
// the loss goes down, an interrupted run (stopped, or killed with SIGKILL)
// resumes to the same weights, fine-tuning and the supernet-driven search
// work from the command line, and bad input is a clear error (exit 2).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "mcunet/dataset.h"
#include "mcunet/error.h"
#include "mcunet/float_model.h"
#include "mcunet/nn/supernet.h"
#include "mcunet/nn/trainer.h"
#include "nn/modules.h"

extern char** environ;

namespace mcunet::nn {
namespace {

namespace fs = std::filesystem;

const std::string kSpace = std::string(MCUNET_SOURCE_DIR) + "/search_spaces/fmnist_small.json";
const SubSpace kSub{0.5, 32};

fs::path TempDir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mcunet_nn_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TrainConfig TinyConfig() {
  TrainConfig c;
  c.epochs = 2;
  c.batch_size = 32;
  c.data.limit_train = 192;
  c.data.limit_val = 128;
  c.calib_batches = 2;
  c.calib_batch_size = 32;
  c.num_random_subnets = 2;
  c.threads = 1;
  return c;
}

struct RunOutput {
  int status = -1;
  std::string out;
};

// Runs the CLI with `args` (a shell word list), capturing stdout+stderr.
RunOutput Cli(const std::string& args) {
  const std::string cmd = std::string(MCUNET_CLI) + " " + args + " 2>&1";
  RunOutput r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void ExpectSameWeights(const std::string& a, const std::string& b) {
  Supernet x = Supernet::Load(a), y = Supernet::Load(b);
  const auto sa = NamedState(*x.impl().module), sb = NamedState(*y.impl().module);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first << " differs between " << a << " and " << b;
  }
}

TEST(TrainTest, LossGoesDownAndInterruptedRunsResumeToTheSameWeights) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  const fs::path dir = TempDir("train");
  TrainOptions quiet;
  quiet.progress = false;

  // Uninterrupted.
  const TrainResult full = TrainSupernet(space, kSub, TinyConfig(), (dir / "full").string(), quiet);
  ASSERT_TRUE(full.finished);
  ASSERT_EQ(full.curve.size(), 2u);
  EXPECT_LT(full.curve.back().train_loss, full.curve.front().train_loss);
  EXPECT_GE(full.curve.back().val_acc, 0.0);
  EXPECT_GE(full.curve.back().val_acc_smallest, 0.0);
  EXPECT_TRUE(fs::exists(dir / "full" / "curve.csv"));
  EXPECT_TRUE(fs::exists(dir / "full" / "config.json"));

  // Stopped after epoch 1, then resumed.
  TrainOptions stop = quiet;
  stop.stop_after_epoch = 1;
  const TrainResult part = TrainSupernet(space, kSub, TinyConfig(), (dir / "stopped").string(), stop);
  EXPECT_FALSE(part.finished);
  EXPECT_TRUE(fs::exists(dir / "stopped" / "checkpoint.pt"));
  EXPECT_FALSE(fs::exists(dir / "stopped" / "supernet.pt"));
  TrainOptions resume = quiet;
  resume.resume = true;
  const TrainResult rest = TrainSupernet(space, kSub, TinyConfig(), (dir / "stopped").string(), resume);
  ASSERT_TRUE(rest.finished);
  ASSERT_EQ(rest.curve.size(), 2u);
  EXPECT_EQ(rest.curve.back().train_loss, full.curve.back().train_loss);
  ExpectSameWeights((dir / "full" / "supernet.pt").string(), (dir / "stopped" / "supernet.pt").string());

  // Resuming with another configuration is refused.
  TrainConfig other = TinyConfig();
  other.lr = 0.01;
  EXPECT_THROW(TrainSupernet(space, kSub, other, (dir / "stopped").string(), resume), InvalidInput);

  // The CLI, killed with SIGKILL once the first checkpoint exists, then resumed.
  const fs::path killed = dir / "killed";
  const std::string out = killed.string();
  std::vector<std::string> argv_s = {MCUNET_CLI, "train-supernet", "--space", kSpace, "--subspace", "w0.5-r32",
                                     "--out", out, "--no-progress", "--config", (dir / "cfg.json").string()};
  {
    nlohmann::json cfg = TinyConfig().ToJson();
    std::ofstream(dir / "cfg.json") << cfg.dump(2);
  }
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, MCUNET_CLI, nullptr, nullptr, argv.data(), environ), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(killed / "checkpoint.pt") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(fs::exists(killed / "checkpoint.pt"));
  const RunOutput r = Cli("train-supernet --space " + kSpace + " --subspace w0.5-r32 --out " + out +
                          " --no-progress --resume");
  ASSERT_EQ(r.status, 0) << r.out;
  ExpectSameWeights((dir / "full" / "supernet.pt").string(), (killed / "supernet.pt").string());
  fs::remove_all(dir);
}

TEST(TrainTest, SearchWithTheSupernetThenFinetuneTheWinner) {
  const fs::path dir = TempDir("pipeline");
  const std::string sn = (dir / "sn").string();
  RunOutput r = Cli("train-supernet --space " + kSpace + " --subspace w0.5-r32 --epochs 1 --limit-train 128 "
                    "--limit-val 64 --random-subnets 1 --no-progress --out " + sn);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("val top-1"), std::string::npos) << r.out;
  const std::string ckpt = sn + "/supernet.pt";

  const std::string search = (dir / "search").string();
  r = Cli("search --space " + kSpace + " --subspace w0.5-r32 --board stm32f412 --supernet " + ckpt +
          " --population 4 --generations 1 --calib-batches 2 --limit-val 64 --out " + search);
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(fs::exists(search + "/best_arch.json")) << r.out;
  EXPECT_NE(r.out.find("supernet"), std::string::npos) << r.out;

  const std::string ft = (dir / "ft").string();
  r = Cli("finetune --arch " + search + "/best_arch.json --supernet " + ckpt +
          " --epochs 1 --limit-train 128 --limit-val 64 --no-progress --out " + ft);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("test top-1"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(ft + "/subnet.pt"));
  const FloatModel fm = LoadFloatModel(ft + "/float_model.json");
  EXPECT_NO_THROW(fm.Validate());
  EXPECT_EQ(fm.arch, LoadArch(search + "/best_arch.json"));
  // The FloatModel holds the fine-tuned weights.
  Subnet sub = Subnet::Load(ft + "/subnet.pt");
  EXPECT_EQ(sub.ToFloatModel().layers.front().weight, fm.layers.front().weight);
  fs::remove_all(dir);
}

TEST(TrainTest, BadInputIsAClearErrorNamingTheFile) {
  const fs::path dir = TempDir("bad");
  const std::string base = "train-supernet --space " + kSpace + " --subspace w0.5-r32 --epochs 1 --no-progress ";

  RunOutput r = Cli(base + "--data idx:/nonexistent/imgs.gz,/nonexistent/labels.gz --out " + (dir / "a").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/imgs.gz"), std::string::npos) << r.out;

  { std::ofstream(dir / "corrupt-images") << "this is not an IDX file at all"; }
  { std::ofstream(dir / "corrupt-labels") << "nor this"; }
  r = Cli(base + "--data idx:" + (dir / "corrupt-images").string() + "," + (dir / "corrupt-labels").string() +
          " --out " + (dir / "b").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("corrupt-"), std::string::npos) << r.out;

  { std::ofstream(dir / "cfg.json") << R"({"schema_version": 1, "kind": "train_config", "learning_rate": 0.1})"; }
  r = Cli(base + "--config " + (dir / "cfg.json").string() + " --out " + (dir / "c").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("learning_rate"), std::string::npos) << r.out;

  r = Cli(base + "--data /nonexistent/folder --out " + (dir / "f").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/folder"), std::string::npos) << r.out;

  // A supernet of another sub-space / space.
  Supernet other(LoadSearchSpace(kSpace), SubSpace{0.25, 32}, 0);
  other.meta()["data"] = DataOptions().ToJson();
  const std::string ckpt = (dir / "other.pt").string();
  other.Save(ckpt);
  r = Cli("search --space " + kSpace + " --subspace w0.5-r32 --supernet " + ckpt + " --population 2 --generations 0 "
          "--limit-val 32 --calib-batches 1 --out " + (dir / "s").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("other.pt"), std::string::npos) << r.out;

  // An arch outside the supernet's space.
  const std::string arch = std::string(MCUNET_TEST_DATA) + "/zoo/mcunet-5fps_imagenet.json";
  r = Cli("finetune --arch " + arch + " --supernet " + ckpt + " --epochs 1 --out " + (dir / "d").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("mcunet-5fps_imagenet.json"), std::string::npos) << r.out;

  // Not a checkpoint; a missing one.
  { std::ofstream(dir / "garbage.pt") << "garbage"; }
  r = Cli("finetune --arch " + arch + " --supernet " + (dir / "garbage.pt").string() + " --out " + (dir / "e").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("garbage.pt"), std::string::npos) << r.out;
  r = Cli("finetune --arch " + arch + " --supernet " + (dir / "missing.pt").string() + " --out " + (dir / "e").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("missing.pt"), std::string::npos) << r.out;

  // Resuming a run of another sub-space.
  r = Cli(base + "--resume --out " + (dir / "nothing").string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("checkpoint.pt"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mcunet::nn
