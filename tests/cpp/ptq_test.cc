// Float reference forward and post-training quantisation: the int8 graph of a
// (random) FloatModel goes through the cost model and the code generator,
// runs bit-exact with the independent reference runner, declares the arena
// the cost model predicts for its Arch, and its logits track the float ones.
#include "mcunet/ptq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>
#include <span>
#include <vector>

#include "int8_reference.h"
#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/float_forward.h"
#include "mcunet/lower.h"
#include "mcunet/quantize_multiplier.h"
#include "random_float_model.h"

namespace mcunet {
namespace {

const std::string kSpaces = MCUNET_SOURCE_DIR "/search_spaces/";
const std::string kRuntimeDir = MCUNET_SOURCE_DIR "/engine/runtime";

struct Case {
  std::string space;
  double width;
  int resolution;
  uint64_t seed;
  int classes;
  // Assert that int8 logits track float ones. Off for the deep network: with
  // random weights its image-dependent signal shrinks layer by layer while
  // each layer adds rounding noise (LayerByLayerErrorInOutputSteps shows
  // steady growth, no jump at any op), so only bit-exactness is asserted.
  bool track = true;
};

const std::vector<Case> kCases = {
    {"fmnist_small.json", 0.5, 28, 1, 10},
    {"fmnist_small.json", 1.0, 32, 2, 10},
    {"mcunet.json", 0.3, 48, 3, 10, false},
};

TEST(FloatForward, IdentityBatchNormEqualsNoBatchNormAndStatsAreRecorded) {
  const Arch arch = SampleArch(kSpaces + "fmnist_small.json", 0.5, 28, 11, 10);
  FloatModel m = RandomFloatModel(arch, 11);
  FloatModel plain = m;
  for (FloatLayer& l : m.layers) {
    if (!l.has_bn()) continue;
    std::fill(l.bn_gamma.begin(), l.bn_gamma.end(), 1.0f);
    std::fill(l.bn_beta.begin(), l.bn_beta.end(), 0.0f);
    std::fill(l.bn_mean.begin(), l.bn_mean.end(), 0.0f);
    std::fill(l.bn_var.begin(), l.bn_var.end(), 1.0f - l.bn_eps);
  }
  for (FloatLayer& l : plain.layers) l.bn_gamma.clear(), l.bn_beta.clear(), l.bn_mean.clear(), l.bn_var.clear();
  const int n = 6;
  const std::vector<uint8_t> px = RandomImages(arch.resolution, arch.in_channels, n, 5);
  ImageDataset data;
  data.height = data.width = arch.resolution;
  data.channels = arch.in_channels;
  data.pixels = px;
  data.labels.assign(n, 0);
  const std::vector<float> x = NormalizeImages(m, data);
  ActivationStats stats;
  const std::vector<float> a = FloatForward(m, x, n, &stats);
  const std::vector<float> b = FloatForward(plain, x, n);
  ASSERT_EQ(a.size(), static_cast<size_t>(n * arch.num_classes));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::abs(b[i])));
  // Logits depend on the image.
  EXPECT_NE(std::vector<float>(a.begin(), a.begin() + 10), std::vector<float>(a.begin() + 10, a.begin() + 20));
  // Every activation tensor was seen; ReLU6 outputs stay in [0, 6].
  const Graph g = LowerArch(arch);
  for (const Op& op : g.ops) {
    EXPECT_LE(stats.min[op.output], stats.max[op.output]);
    if (op.activation == Activation::kRelu6) {
      EXPECT_GE(stats.min[op.output], 0.0f);
      EXPECT_LE(stats.max[op.output], 6.0f);
    }
  }
  // One image at a time gives the same logits as the batch (OpenMP split).
  const std::vector<float> one = FloatForward(m, std::span<const float>(x).subspan(x.size() / n * 3, x.size() / n), 1);
  for (int k = 0; k < arch.num_classes; ++k) EXPECT_EQ(one[k], a[3 * arch.num_classes + k]);
}

TEST(FloatForward, BadModelsNameTheLayerAndField) {
  const Arch arch = SampleArch(kSpaces + "fmnist_small.json", 0.5, 28, 12, 10);
  const FloatModel good = RandomFloatModel(arch, 12);
  const std::vector<float> x(static_cast<size_t>(arch.resolution) * arch.resolution * arch.in_channels, 0.0f);
  FloatModel missing = good;
  missing.layers.erase(missing.layers.begin() + 1);
  try {
    FloatForward(missing, x, 1);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(good.layers[1].name), std::string::npos) << e.what();
  }
  FloatModel short_w = good;
  short_w.layers[2].weight.pop_back();
  try {
    FloatForward(short_w, x, 1);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(good.layers[2].name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("weight size"), std::string::npos) << e.what();
  }
  EXPECT_THROW(FloatForward(good, x, 2), InvalidInput);
}

TEST(Ptq, ChooseActivationQuantCoversTheRangeAndZero) {
  float s;
  int32_t zp;
  ChooseActivationQuant(0.0f, 6.0f, &s, &zp);
  EXPECT_EQ(zp, -128);
  EXPECT_FLOAT_EQ(s, 6.0f / 255.0f);
  ChooseActivationQuant(-1.0f, 3.0f, &s, &zp);
  EXPECT_NEAR((-128 - zp) * s, -1.0f, s);
  EXPECT_NEAR((127 - zp) * s, 3.0f, s);
  ChooseActivationQuant(2.0f, 3.0f, &s, &zp);  // range is widened to hold 0
  EXPECT_EQ(zp, -128);
  ChooseActivationQuant(0.0f, 0.0f, &s, &zp);
  EXPECT_GT(s, 0.0f);
}

class PtqModels : public testing::TestWithParam<Case> {};

TEST_P(PtqModels, GeneratedCodeIsBitExactArenaMatchesAndLogitsTrackFloat) {
  const Case& c = GetParam();
  const Arch arch = SampleArch(kSpaces + c.space, c.width, c.resolution, c.seed, c.classes);
  SCOPED_TRACE(arch.name);
  const FloatModel m = RandomFloatModel(arch, c.seed);
  const int calib_n = 32, test_n = 48;
  const std::vector<uint8_t> calib_px = RandomImages(arch.resolution, arch.in_channels, calib_n, c.seed * 7);
  const std::vector<uint8_t> test_px = RandomImages(arch.resolution, arch.in_channels, test_n, c.seed * 7 + 1);
  ImageDataset calib;
  calib.height = calib.width = arch.resolution;
  calib.channels = arch.in_channels;
  calib.pixels = calib_px;
  calib.labels.assign(calib_n, 0);
  const std::vector<float> calib_x = NormalizeImages(m, calib);
  const Graph g = QuantizeModel(m, calib_x, calib_n);

  // Spec invariants of the quantised graph.
  for (const Op& op : g.ops) {
    if (op.inputs[1] < 0 || op.kind == OpKind::kAdd) continue;
    const Tensor& w = g.tensors[op.inputs[1]];
    const Tensor& b = g.tensors[op.inputs[2]];
    const size_t channels = op.kind == OpKind::kFullyConnected ? 1 : g.tensors[op.output].shape[3];
    EXPECT_EQ(w.quant.scale.size(), channels);
    EXPECT_EQ(w.quant.quantized_dimension, op.kind == OpKind::kDepthwiseConv2D ? 3 : 0);
    for (uint8_t v : w.data) EXPECT_NE(static_cast<int8_t>(v), -128);
    for (int64_t zp : w.quant.zero_point) EXPECT_EQ(zp, 0);
    EXPECT_EQ(b.dtype, DType::kInt32);
    const float s_in = g.tensors[op.inputs[0]].quant.scale[0];
    for (size_t k = 0; k < b.quant.scale.size(); ++k) {
      EXPECT_FLOAT_EQ(b.quant.scale[k], s_in * w.quant.scale[k]);
    }
    if (op.activation == Activation::kRelu6) EXPECT_EQ(g.tensors[op.output].quant.zero_point[0], -128);
  }

  // Cost model and code generator accept it; arena == the Arch's figure.
  const CostReport by_arch = EvaluateCost(arch, "tinyengine");
  const CostReport report = EvaluateCost(g, "tinyengine");
  const GeneratedCode code = GenerateCode(report);
  EXPECT_EQ(code.arena_bytes, by_arch.plan.arena_bytes);
  EXPECT_EQ(code.peak_sram_bytes, by_arch.peak_sram_bytes());

  // Bit-exact with the reference runner on quantised test images.
  const std::vector<int8_t> q = QuantizeImages(m, g, test_px.data(), test_n);
  ASSERT_EQ(static_cast<int64_t>(q.size()), test_n * code.input_bytes);
  HostRunOptions ro;
  ro.runtime_dir = kRuntimeDir;
  const HostRunResult r = RunOnHost(code, q, ro);
  ASSERT_EQ(r.outputs.size(), static_cast<size_t>(test_n * code.output_bytes));
  for (int i = 0; i < test_n; ++i) {
    const std::vector<int8_t> expect =
        RunReference(report.graph, std::span<const int8_t>(q).subspan(i * code.input_bytes, code.input_bytes));
    EXPECT_EQ(std::vector<int8_t>(r.outputs.begin() + i * code.output_bytes,
                                  r.outputs.begin() + (i + 1) * code.output_bytes),
              expect)
        << "image " << i;
  }

  // int8 logits track the float ones.
  ImageDataset test;
  test.height = test.width = arch.resolution;
  test.channels = arch.in_channels;
  test.pixels = test_px;
  test.labels.assign(test_n, 0);
  const std::vector<float> fl = FloatForward(m, NormalizeImages(m, test), test_n);
  const std::vector<float> ql = DequantizeOutput(g, r.outputs);
  const std::vector<int32_t> fa = ArgmaxRows(fl, c.classes), qa = ArgmaxRows(ql, c.classes);
  // Random networks' logits are dominated by a per-class constant (biases,
  // BatchNorm shifts through global pooling); what depends on the image is
  // the deviation from each class's mean logit. Compare that part.
  std::vector<double> fmean(c.classes, 0), qmean(c.classes, 0);
  for (size_t i = 0; i < fl.size(); ++i) fmean[i % c.classes] += fl[i] / test_n, qmean[i % c.classes] += ql[i] / test_n;
  double err = 0, centred_err = 0, between = 0;
  for (size_t i = 0; i < fl.size(); ++i) {
    const size_t k = i % c.classes;
    err += std::abs(fl[i] - ql[i]);
    centred_err += std::abs((fl[i] - fmean[k]) - (ql[i] - qmean[k]));
    between += std::abs(fl[i] - fmean[k]);
  }
  err /= fl.size();
  centred_err /= fl.size();
  between /= fl.size();
  // Argmax must agree wherever the float top-1 leads the runner-up by more
  // than a few times the mean quantisation error (random networks have many
  // near-ties, where int8 may legitimately flip the order).
  int agree = 0, confident = 0, confident_agree = 0;
  for (int i = 0; i < test_n; ++i) {
    std::vector<float> row(fl.begin() + i * c.classes, fl.begin() + (i + 1) * c.classes);
    std::sort(row.rbegin(), row.rend());
    agree += fa[i] == qa[i];
    if (row[0] - row[1] > 6 * err) {
      ++confident;
      confident_agree += fa[i] == qa[i];
    }
  }
  std::printf("%s: argmax agreement %d/%d (%d/%d with a float margin > 6x the mean error); mean |float - int8| "
              "logit error %.4f, %.4f without the per-class constant, against a mean image-dependent part of %.4f\n",
              arch.name.c_str(), agree, test_n, confident_agree, confident, err, centred_err, between);
  if (!c.track) return;
  EXPECT_EQ(confident_agree, confident);
  EXPECT_GE(agree, test_n * 8 / 10);
  EXPECT_LT(centred_err, 0.6 * between);
  EXPECT_LT(err, 0.1 * (*std::max_element(fl.begin(), fl.end()) - *std::min_element(fl.begin(), fl.end())));
}

INSTANTIATE_TEST_SUITE_P(Sampled, PtqModels, testing::ValuesIn(kCases));

TEST(Ptq, LayerByLayerErrorInOutputSteps) {
  for (const Case& c : kCases) {
    const Arch arch = SampleArch(kSpaces + c.space, c.width, c.resolution, c.seed, c.classes);
    const FloatModel m = RandomFloatModel(arch, c.seed);
    ImageDataset calib;
    calib.height = calib.width = arch.resolution;
    calib.channels = arch.in_channels;
    calib.pixels = RandomImages(arch.resolution, arch.in_channels, 17, c.seed * 7);
    calib.labels.assign(17, 0);
    const std::vector<float> x = NormalizeImages(m, calib);
    const Graph g = QuantizeModel(m, std::span<const float>(x).first(x.size() / 17 * 16), 16);
    const std::span<const float> img = std::span<const float>(x).last(x.size() / 17);
    const std::vector<std::vector<float>> f = FloatForwardTensors(m, img);
    std::vector<std::vector<int8_t>> q;
    RunReference(g, QuantizeInput(g, img), &q);
    std::printf("%s\n", arch.name.c_str());
    for (size_t k = 0; k < g.ops.size(); ++k) {
      const Op& op = g.ops[k];
      const Tensor& t = g.tensors[op.output];
      double err = 0, mag = 0;
      for (size_t i = 0; i < f[op.output].size(); ++i) {
        const double dq = (q[op.output][i] - t.quant.zero_point[0]) * static_cast<double>(t.quant.scale[0]);
        err += std::abs(dq - f[op.output][i]);
        mag += std::abs(f[op.output][i]);
      }
      const double steps = err / f[op.output].size() / t.quant.scale[0];
      std::printf("  op %2zu %-18s err %.4f  |f| %.4f  rel %.3f  (%.2f steps)\n", k,
                  std::string(OpKindName(op.kind)).c_str(), err / f[op.output].size(), mag / f[op.output].size(),
                  err / mag, steps);
      // The first conv sees only input and weight rounding: well under one
      // output step on average.
      if (k == 0) EXPECT_LT(steps, 0.5) << arch.name;
      if (c.track && op.kind == OpKind::kFullyConnected) EXPECT_LT(err / mag, 0.25) << arch.name;
    }
  }
}

TEST(Ptq, PercentileCalibrationNarrowsRangesAndStillRuns) {
  const Arch arch = SampleArch(kSpaces + "fmnist_small.json", 0.5, 28, 21, 10);
  const FloatModel m = RandomFloatModel(arch, 21);
  const int n = 16;
  ImageDataset calib;
  calib.height = calib.width = arch.resolution;
  calib.channels = arch.in_channels;
  calib.pixels = RandomImages(arch.resolution, arch.in_channels, n, 3);
  calib.labels.assign(n, 0);
  const std::vector<float> x = NormalizeImages(m, calib);
  const Graph minmax = QuantizeModel(m, x, n);
  PtqOptions po;
  po.method = CalibrationMethod::kPercentile;
  po.percentile = 99.0;
  const Graph pct = QuantizeModel(m, x, n, po);
  int narrower = 0;
  for (const Op& op : minmax.ops) {
    EXPECT_LE(pct.tensors[op.output].quant.scale[0], minmax.tensors[op.output].quant.scale[0] * 1.0001f);
    narrower += pct.tensors[op.output].quant.scale[0] < minmax.tensors[op.output].quant.scale[0];
  }
  EXPECT_GT(narrower, 0);
  EXPECT_NO_THROW(GenerateCode(EvaluateCost(pct, "tinyengine")));
  po.percentile = 0;
  EXPECT_THROW(QuantizeModel(m, x, n, po), InvalidInput);
  EXPECT_THROW(QuantizeModel(m, x, 0), InvalidInput);
}

TEST(Ptq, QuantizeInputRoundsHalfAwayFromZeroAndSaturates) {
  Graph g;
  const int32_t t = g.AddTensor(DType::kInt8, MakeShape({1, 1, 1, 5}));
  g.inputs = {t};
  g.tensors[t].quant.scale = {0.5f};
  g.tensors[t].quant.zero_point = {3};
  const std::vector<float> x = {0.25f, -0.25f, 1.0f, 1000.0f, -1000.0f};
  const std::vector<int8_t> q = QuantizeInput(g, x);
  EXPECT_EQ(q, (std::vector<int8_t>{4, 2, 5, 127, -128}));
}

}  // namespace
}  // namespace mcunet
