// FloatModel: validation against its Arch and an exact JSON round trip.
#include "mcunet/float_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mcunet/error.h"
#include "mcunet/search_space.h"

namespace mcunet {
namespace {

// A model for `arch` with deterministic pseudo-random weights.
FloatModel MakeModel(const Arch& arch) {
  FloatModel m;
  m.arch = arch;
  m.input_mean.assign(arch.in_channels, 0.5f);
  m.input_std.assign(arch.in_channels, 0.25f);
  Rng rng(3);
  auto fill = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.Uniform() - 0.5) / 3.0f;
    return v;
  };
  auto add = [&](std::string name, int in, int out, int k, int s, bool dw, bool bn, bool relu) {
    FloatLayer l;
    l.name = std::move(name);
    l.in_channels = in;
    l.out_channels = out;
    l.kernel = k;
    l.stride = s;
    l.depthwise = dw;
    l.relu6 = relu;
    l.weight = fill(dw ? int64_t{k} * k * out : int64_t{k} * k * in * out);
    l.bias = bn ? std::vector<float>{} : fill(out);
    if (bn) {
      l.bn_gamma = fill(out);
      l.bn_beta = fill(out);
      l.bn_mean = fill(out);
      l.bn_var.assign(out, 1.1f);
    }
    m.layers.push_back(std::move(l));
  };
  add("first_conv", arch.in_channels, arch.first_conv.out_channels, arch.first_conv.kernel, arch.first_conv.stride,
      false, true, true);
  for (size_t i = 0; i < arch.blocks.size(); ++i) {
    const MBBlock& b = arch.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    if (b.has_expand()) add(p + "expand", b.in_channels, b.mid_channels, 1, 1, false, true, true);
    add(p + "depthwise", b.mid_channels, b.mid_channels, b.kernel, b.stride, true, true, true);
    add(p + "project", b.mid_channels, b.out_channels, 1, 1, false, true, false);
  }
  add("classifier", arch.last_channels(), arch.num_classes, 1, 1, false, false, false);
  return m;
}

Arch SmallArch() {
  const SearchSpace s = LoadSearchSpace(MCUNET_SOURCE_DIR "/search_spaces/fmnist_small.json");
  Rng rng(11);
  return s.Decode({0.5, 32}, s.Sample(rng));
}

TEST(FloatModel, SaveLoadRoundTripIsExact) {
  const FloatModel m = MakeModel(SmallArch());
  ASSERT_NO_THROW(m.Validate());
  const std::string path = (std::filesystem::temp_directory_path() / ("mcunet_float_model_test_" + std::to_string(getpid()) + ".json")).string();
  SaveFloatModel(m, path);
  const FloatModel back = LoadFloatModel(path);
  EXPECT_EQ(back.arch, m.arch);
  EXPECT_EQ(back.input_std, m.input_std);
  ASSERT_EQ(back.layers.size(), m.layers.size());
  for (size_t i = 0; i < m.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].name, m.layers[i].name);
    EXPECT_EQ(back.layers[i].weight, m.layers[i].weight);  // bit-exact floats
    EXPECT_EQ(back.layers[i].bias, m.layers[i].bias);
    EXPECT_EQ(back.layers[i].bn_var, m.layers[i].bn_var);
  }
}

TEST(FloatModel, ValidateNamesTheBadLayer) {
  FloatModel m = MakeModel(SmallArch());
  m.layers[2].weight.pop_back();
  try {
    m.Validate();
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("layers[2]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("weight"), std::string::npos) << e.what();
  }
  FloatModel missing = MakeModel(SmallArch());
  missing.layers.pop_back();
  EXPECT_THROW(missing.Validate(), InvalidInput);
  FloatModel bad_std = MakeModel(SmallArch());
  bad_std.input_std[0] = 0;
  EXPECT_THROW(bad_std.Validate(), InvalidInput);
}

TEST(FloatModel, LoadRejectsOtherFilesClearly) {
  const std::string path = (std::filesystem::temp_directory_path() / ("mcunet_float_model_bad_" + std::to_string(getpid()) + ".json")).string();
  std::ofstream(path) << R"({"schema_version": 1, "kind": "arch"})";
  try {
    LoadFloatModel(path);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("kind"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LoadFloatModel("/nonexistent/model.json"), FileNotFound);
}

}  // namespace
}  // namespace mcunet
