// Supernet: sub-network selection, extraction (standalone net and
// FloatModel), channel sorting, BN re-calibration, checkpoints.
#include "mcunet/nn/supernet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "mcunet/error.h"
#include "mcunet/evolution.h"
#include "mcunet/nn/supernet_evaluator.h"
#include "nn/bn_eval.h"
#include "nn/modules.h"

namespace mcunet::nn {
namespace {

namespace fs = std::filesystem;

SearchSpace Space() { return LoadSearchSpace(std::string(MCUNET_SOURCE_DIR) + "/search_spaces/fmnist_small.json"); }
const SubSpace kSub{0.5, 32};

std::vector<float> RandomInput(int n, int c, int r, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n) * c * r * r);
  for (float& v : x) v = static_cast<float>(rng.Uniform() * 4.0 - 2.0);
  return x;
}

// Non-trivial running statistics and BN affine parameters, so that
// extraction and sorting are tested on more than identity BNs.
void Perturb(Supernet& net, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& [name, t] : NamedState(*net.impl().module)) {
    if (name.find("bn_mean") != std::string::npos || name.find("bn_bias") != std::string::npos) {
      t.copy_(torch::randn_like(t) * 0.1);
    } else if (name.find("bn_var") != std::string::npos || name.find("bn_weight") != std::string::npos) {
      t.copy_(torch::rand_like(t) + 0.5);
    }
  }
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

TEST(SupernetTest, SetActiveRejectsArchOutsideTheSpace) {
  Supernet net(Space(), kSub, 1);
  Arch a = net.LargestArch();
  a.blocks[2].kernel = 9;
  try {
    net.SetActive(a);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("kernel"), std::string::npos) << e.what();
  }
  EXPECT_EQ(net.active(), net.LargestArch());  // unchanged
  Arch other = net.LargestArch();
  other.resolution = 48;
  EXPECT_THROW(net.SetActive(other), InvalidInput);
}

TEST(SupernetTest, ExtractedSubnetMatchesTheSupernet) {
  Supernet net(Space(), kSub, 2);
  Perturb(net, 3);
  Rng rng(4);
  std::vector<Arch> archs = {net.LargestArch(), net.SmallestArch()};
  for (int i = 0; i < 3; ++i) archs.push_back(net.SampleArch(rng));
  const std::vector<float> x = RandomInput(4, 1, 32, 5);
  for (const Arch& a : archs) {
    net.SetActive(a);
    const std::vector<float> want = net.Forward(x, 4);
    Subnet sub = net.Extract(a);
    EXPECT_EQ(sub.arch(), a);
    EXPECT_LE(MaxAbsDiff(sub.Forward(x, 4), want), 1e-4);
    if (a == archs[0]) {
      EXPECT_EQ(sub.num_parameters(), net.num_parameters());  // the largest uses every weight
    } else {
      EXPECT_LT(sub.num_parameters(), net.num_parameters());
    }
  }
  // A larger active subnet differs from a smaller one (weights are shared,
  // outputs are not).
  net.SetActive(archs[0]);
  const auto big = net.Forward(x, 4);
  net.SetActive(archs[1]);
  EXPECT_GT(MaxAbsDiff(net.Forward(x, 4), big), 1e-4);
}

TEST(SupernetTest, FloatModelFromExtractIsValidAndLaidOutAsSpecified) {
  Supernet net(Space(), kSub, 6);
  Perturb(net, 7);
  net.set_normalization({{0.3f}, {0.4f}});
  Rng rng(8);
  const Arch a = net.SampleArch(rng);
  const FloatModel fm = net.ExtractFloatModel(a);
  EXPECT_NO_THROW(fm.Validate());
  EXPECT_EQ(fm.arch, a);
  EXPECT_EQ(fm.input_mean, std::vector<float>{0.3f});
  EXPECT_EQ(fm.input_std, std::vector<float>{0.4f});
  ASSERT_FALSE(fm.layers.empty());
  EXPECT_EQ(fm.layers.front().name, "first_conv");
  EXPECT_EQ(fm.layers.back().name, "classifier");
  EXPECT_EQ(fm.layers.back().weight.size(), static_cast<size_t>(a.num_classes * a.last_channels()));
  size_t expected_layers = 2;
  for (const MBBlock& b : a.blocks) expected_layers += b.has_expand() ? 3 : 2;
  EXPECT_EQ(fm.layers.size(), expected_layers);

  // OHWI: weight[o][kh][kw][i] == torch OIHW [o][i][kh][kw].
  const torch::Tensor w = net.impl().module->first_conv->weight;
  const FloatLayer& fc = fm.layers.front();
  const int k = fc.kernel, in = fc.in_channels;
  for (int o = 0; o < fc.out_channels; o += 3) {
    for (int y = 0; y < k; ++y) {
      for (int x = 0; x < k; ++x) {
        EXPECT_EQ(fc.weight[((o * k + y) * k + x) * in + 0], w[o][0][y][x].item<float>());
      }
    }
  }
  // Depthwise [1][kh][kw][C], centre crop of the 7x7 weights.
  for (const FloatLayer& l : fm.layers) {
    if (l.name != "blocks.1.depthwise") continue;
    const torch::Tensor dw = net.impl().module->block_ptrs[1]->depthwise->weight;
    const int off = (7 - l.kernel) / 2;
    EXPECT_TRUE(l.depthwise);
    EXPECT_EQ(l.weight.size(), static_cast<size_t>(l.kernel * l.kernel * l.out_channels));
    EXPECT_EQ(l.weight[(1 * l.kernel + 0) * l.out_channels + 2], dw[2][0][off + 1][off + 0].item<float>());
    EXPECT_TRUE(l.has_bn());
    EXPECT_TRUE(l.relu6);
  }
}

TEST(SupernetTest, SortChannelsOrdersByImportanceAndPreservesTheLargest) {
  Supernet net(Space(), kSub, 9);
  Perturb(net, 10);
  const std::vector<float> x = RandomInput(2, 1, 32, 11);
  net.SetActive(net.LargestArch());
  const auto before = net.Forward(x, 2);
  net.SortChannels();
  EXPECT_LE(MaxAbsDiff(net.Forward(x, 2), before), 1e-4);
  for (SuperBlockImpl* b : net.impl().module->block_ptrs) {
    if (!b->expand) continue;
    const torch::Tensor imp = b->project->weight.abs().sum({0, 2, 3});
    EXPECT_TRUE(torch::all(imp.slice(0, 0, -1) >= imp.slice(0, 1)).item<bool>());
  }
}

ImageDataset RandomImages(int n, int r, uint64_t seed) {
  ImageDataset d;
  d.source = "random";
  d.height = d.width = r;
  d.channels = 1;
  d.num_classes = 10;
  Rng rng(seed);
  for (int i = 0; i < n * r * r; ++i) d.pixels.push_back(static_cast<uint8_t>(rng.Below(256)));
  for (int i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(rng.Below(10)));
  return d;
}

TEST(SupernetTest, BnRecalibrationSetsRunningStatsToTheCalibrationAverage) {
  auto net = std::make_shared<Supernet>(Space(), kSub, 12);
  Perturb(*net, 13);
  const ImageDataset train = RandomImages(96, 32, 14), val = RandomImages(32, 32, 15);
  SupernetEvaluatorOptions opt;
  opt.calib_batches = 3;
  opt.calib_batch_size = 32;
  SupernetEvaluator eval(net, train, val, opt);
  Rng rng(16);
  const Arch a = net->SampleArch(rng);
  SupernetModuleImpl& m = *net->impl().module;
  const torch::Tensor mean_before = m.first_conv->bn_mean.clone();
  const torch::Tensor var_before = m.first_conv->bn_var.clone();
  eval.Recalibrate(a);
  // Batches of equal size: the mean of batch means is the mean over all the
  // calibration images of the first conv's output.
  const auto batches = CalibrationBatches(train, net->normalization(), 3, 32, 0);
  torch::Tensor all = torch::cat(batches, 0);
  const torch::Tensor y = torch::conv2d(all, m.first_conv->weight, {}, 1, 1);
  const torch::Tensor want_mean = y.mean({0, 2, 3});
  EXPECT_TRUE(torch::allclose(m.first_conv->bn_mean, want_mean, 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(m.first_conv->bn_mean, mean_before));
  // Variance: mean of the per-batch unbiased variances.
  torch::Tensor var = torch::zeros_like(want_mean);
  for (const auto& b : batches) {
    var += torch::conv2d(b, m.first_conv->weight, {}, 1, 1).transpose(0, 1).reshape({want_mean.size(0), -1}).var(1, true);
  }
  EXPECT_TRUE(torch::allclose(m.first_conv->bn_var, var / 3.0, 1e-3, 1e-5));
  EXPECT_FALSE(torch::allclose(m.first_conv->bn_var, var_before));
  // Deterministic: the same candidate gets the same accuracy twice.
  const auto f1 = eval.Evaluate({a, net->LargestArch()});
  const auto f2 = eval.Evaluate({a, net->LargestArch()});
  EXPECT_EQ(f1, f2);
  EXPECT_GE(f1[0], 0.0);
  EXPECT_LE(f1[0], 1.0);
  Arch bad = a;
  bad.blocks[1].expand_ratio = 5;
  EXPECT_THROW(eval.Evaluate({bad}), InvalidInput);
}

TEST(SupernetTest, CheckpointRoundTripAndBadCheckpoints) {
  const fs::path dir = fs::temp_directory_path() / ("mcunet_supernet_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Supernet net(Space(), kSub, 17);
  Perturb(net, 18);
  net.set_normalization({{0.25f}, {0.5f}});
  net.meta()["data"] = {{"spec", "fashion-mnist"}};
  const std::string path = (dir / "supernet.pt").string();
  net.Save(path);
  Supernet back = Supernet::Load(path);
  EXPECT_EQ(back.normalization(), net.normalization());
  EXPECT_EQ(back.meta()["data"]["spec"], "fashion-mnist");
  const std::vector<float> x = RandomInput(2, 1, 32, 19);
  Rng rng(20);
  const Arch a = net.SampleArch(rng);
  net.SetActive(a);
  back.SetActive(a);
  EXPECT_EQ(net.Forward(x, 2), back.Forward(x, 2));
  EXPECT_NO_THROW(back.CheckSpace(Space(), kSub, path));
  EXPECT_THROW(back.CheckSpace(Space(), SubSpace{0.75, 32}, path), InvalidInput);
  SearchSpace other = Space();
  other.stages[1].base_width = 32;
  try {
    back.CheckSpace(other, kSub, path);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }

  // Subnet checkpoints.
  Subnet sub = net.Extract(a);
  sub.Save((dir / "subnet.pt").string());
  Subnet sub2 = Subnet::Load((dir / "subnet.pt").string());
  EXPECT_EQ(sub2.arch(), a);
  EXPECT_EQ(sub2.Forward(x, 2), sub.Forward(x, 2));
  EXPECT_THROW(Supernet::Load((dir / "subnet.pt").string()), InvalidInput);  // wrong kind

  EXPECT_THROW(Supernet::Load((dir / "missing.pt").string()), FileNotFound);
  { std::ofstream((dir / "garbage.pt").string()) << "not a checkpoint"; }
  try {
    Supernet::Load((dir / "garbage.pt").string());
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.pt"), std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mcunet::nn
