// Search spaces: loading and validation, genes <-> Arch, sampling, mutation,
// crossover, the portable RNG.
#include "mcunet/search_space.h"

#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"

namespace mcunet {
namespace {

const std::string kSpaces = MCUNET_SOURCE_DIR "/search_spaces/";
const std::string kZoo = MCUNET_TEST_DATA "/zoo/";

SearchSpace McuNet() { return LoadSearchSpace(kSpaces + "mcunet.json"); }

nlohmann::json McuNetJson() {
  std::ifstream in(kSpaces + "mcunet.json");
  return nlohmann::json::parse(in);
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/mcunet_space_test_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Loads a modified copy of mcunet.json and returns the InvalidInput message.
std::string LoadError(const std::string& name, const nlohmann::json& j) {
  const std::string path = WriteTemp(name, j.dump());
  try {
    LoadSearchSpace(path);
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
    return msg;
  }
  ADD_FAILURE() << name << ": expected InvalidInput";
  return "";
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(MakeDivisible, MatchesTheOriginal) {
  EXPECT_EQ(MakeDivisible(32 * 0.5, 8), 16);
  EXPECT_EQ(MakeDivisible(24 * 0.5, 8), 16);  // 12 -> 16 (round half up)
  EXPECT_EQ(MakeDivisible(40 * 0.5, 8), 24);  // 20 -> 24
  EXPECT_EQ(MakeDivisible(192 * 0.3, 8), 56);  // 57.6 -> 56
  EXPECT_EQ(MakeDivisible(24 * 0.3, 8), 8);   // 7.2 -> 8
  EXPECT_EQ(MakeDivisible(32 * 0.3, 8), 16);  // 9.6 -> 8 would lose > 10%: 16
  EXPECT_EQ(MakeDivisible(3.2, 8), 8);        // never below the divisor
  EXPECT_EQ(MakeDivisible(96 * 0.9, 8), 88);  // 86.4 -> 88
}

TEST(SearchSpace, LoadsTheShippedSpaces) {
  const SearchSpace s = McuNet();
  EXPECT_EQ(s.name, "mcunet");
  EXPECT_EQ(s.width_multipliers.size(), 9u);
  EXPECT_EQ(s.resolutions.size(), 12u);
  EXPECT_EQ(s.num_subspaces(), 108);
  EXPECT_EQ(s.SubSpaces().size(), 108u);
  EXPECT_EQ(s.num_stages(), 6);
  EXPECT_EQ(s.num_slots(), 5 * 4 + 1);
  EXPECT_EQ(s.stage_first_slot(5), 20);
  EXPECT_EQ(s.in_channels, 3);
  EXPECT_EQ(s.num_classes, 1000);
  const std::vector<int> strides = {2, 2, 2, 1, 2, 1};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s.stages[i].stride, strides[i]);
  EXPECT_EQ(s.stages[5].depths, std::vector<int>{1});
  EXPECT_EQ(s.stages[0].kernel_sizes, (std::vector<int>{3, 5, 7}));
  EXPECT_EQ(s.stages[0].expand_ratios, (std::vector<int>{3, 4, 6}));

  const SearchSpace f = LoadSearchSpace(kSpaces + "fmnist_small.json");
  EXPECT_EQ(f.in_channels, 1);
  EXPECT_EQ(f.num_classes, 10);
  EXPECT_EQ(f.resolutions.front(), 28);
  Rng rng(1);
  const Arch a = f.Decode({f.width_multipliers[0], 28}, f.Sample(rng));
  EXPECT_EQ(a.in_channels, 1);
  EXPECT_EQ(a.num_classes, 10);
  const CostReport r = EvaluateCost(a);
  EXPECT_GT(r.counts.macs, 0);
  EXPECT_GT(r.peak_sram_bytes(), 0);
}

TEST(SearchSpace, JsonRoundTrip) {
  const SearchSpace s = McuNet();
  const SearchSpace t = SearchSpaceFromJson(SearchSpaceToJson(s), "roundtrip");
  EXPECT_EQ(SearchSpaceToJson(t), SearchSpaceToJson(s));
}

TEST(SearchSpace, LargestConfigHasTheOriginalWidths) {
  const SearchSpace s = McuNet();
  Genes g;
  for (const StageSpec& st : s.stages) {
    g.depths.push_back(st.max_depth());
    for (int j = 0; j < st.max_depth(); ++j) {
      g.kernels.push_back(7);
      g.expands.push_back(6);
    }
  }
  const Arch a = s.Decode({1.0, 224}, g);
  EXPECT_EQ(a.resolution, 224);
  EXPECT_EQ(a.first_conv.out_channels, 32);
  ASSERT_EQ(a.blocks.size(), 1u + 4 * 5 + 1);
  EXPECT_EQ(a.blocks[0].out_channels, 16);
  EXPECT_EQ(a.blocks[0].expand_ratio, 1);
  EXPECT_EQ(a.blocks[0].mid_channels, 32);
  EXPECT_FALSE(a.blocks[0].residual);
  const std::vector<int> widths = {24, 40, 80, 96, 192, 320};
  for (int st = 0; st < 6; ++st) {
    const int first = 1 + 4 * st;
    EXPECT_EQ(a.blocks[first].out_channels, widths[st]) << "stage " << st;
    EXPECT_EQ(a.blocks[first].stride, s.stages[st].stride) << "stage " << st;
    EXPECT_FALSE(a.blocks[first].residual) << "stage " << st;
    if (st < 5) EXPECT_TRUE(a.blocks[first + 1].residual) << "stage " << st;
  }
  EXPECT_EQ(a.blocks[1].mid_channels, 16 * 6);
  EXPECT_EQ(a.blocks[2].mid_channels, 24 * 6);
  EXPECT_EQ(a.blocks.back().in_channels, 192);
  EXPECT_EQ(a.blocks.back().mid_channels, 192 * 6);
  EXPECT_EQ(a.feature_mix_channels, 0);
  EXPECT_EQ(a.last_channels(), 320);
}

TEST(SearchSpace, HalfWidthMatchesTheZooModels) {
  // mcunet-5fps (ImageNet) is a W=0.5 network of this space's widths.
  const SearchSpace s = McuNet();
  const Arch zoo = LoadArch(kZoo + "mcunet-5fps_imagenet.json");
  EXPECT_EQ(s.FirstConvWidth(0.5), zoo.first_conv.out_channels);
  EXPECT_EQ(s.FirstBlockWidth(0.5), zoo.blocks[0].out_channels);
  std::vector<int> zoo_widths;
  for (size_t i = 1; i < zoo.blocks.size(); ++i) {
    if (zoo_widths.empty() || zoo_widths.back() != zoo.blocks[i].out_channels) {
      zoo_widths.push_back(zoo.blocks[i].out_channels);
    }
  }
  std::vector<int> ours;
  for (int st = 0; st < 6; ++st) ours.push_back(s.StageWidth(st, 0.5));
  EXPECT_EQ(ours, zoo_widths);
  // And W=1.0 matches mcunet-512kb-2mb.
  const Arch big = LoadArch(kZoo + "mcunet-512kb-2mb_imagenet.json");
  EXPECT_EQ(s.FirstConvWidth(1.0), big.first_conv.out_channels);
  EXPECT_EQ(s.StageWidth(5, 1.0), big.blocks.back().out_channels);
}

TEST(SearchSpace, SampledGenesDecodeValidateAndRoundTrip) {
  const SearchSpace s = McuNet();
  Rng rng(7);
  for (const SubSpace& sub : s.SubSpaces()) {
    for (int k = 0; k < 20; ++k) {
      const Genes g = s.Sample(rng);
      ASSERT_NO_THROW(s.ValidateGenes(g)) << g.ToString();
      const Arch a = s.Decode(sub, g);  // Decode validates the Arch
      ASSERT_NO_THROW(a.Validate());
      EXPECT_EQ(a.resolution, sub.resolution);
      EXPECT_EQ(s.Encode(sub, a), g) << sub.Label() << " " << g.ToString();
      // Through the Arch JSON too.
      EXPECT_EQ(s.Encode(sub, ArchFromJson(ArchToJson(a))), g);
    }
  }
}

// In fmnist_small at W=0.5, stage 2 (stride 2) and stage 3 (stride 1) have
// the same width, so stage 3's blocks continue stage 2's run: Encode must
// leave stage 3 its minimum depth (it once gave the whole run to stage 2).
TEST(SearchSpace, EncodeSplitsRunsOfEqualWidthStages) {
  const SearchSpace s = LoadSearchSpace(kSpaces + "fmnist_small.json");
  const Genes g({3, 2, 1, 1, 1}, {3, 5, 5, 7, 5, 0, 3, 0, 0, 7, 0, 0, 7}, {6, 4, 4, 3, 6, 0, 3, 0, 0, 3, 0, 0, 4});
  const SubSpace sub{0.5, 32};
  const Arch a = s.Decode(sub, g);
  EXPECT_EQ(s.Encode(sub, a), g);
  Rng rng(3);
  for (const SubSpace& each : s.SubSpaces()) {
    for (int k = 0; k < 50; ++k) {
      const Genes sample = s.Sample(rng);
      const Arch arch = s.Decode(each, sample);
      Genes back;
      ASSERT_NO_THROW(back = s.Encode(each, arch)) << each.Label() << " " << sample.ToString();
      EXPECT_EQ(ArchToJson(s.Decode(each, back)), ArchToJson(arch)) << each.Label() << " " << sample.ToString();
    }
  }
}

TEST(SearchSpace, MatchSubSpaceFindsTheWidthMultiplier) {
  const SearchSpace s = McuNet();
  Rng rng(3);
  const Arch a = s.Decode({0.7, 160}, s.Sample(rng));
  const auto sub = s.MatchSubSpace(a);
  ASSERT_TRUE(sub.has_value());
  EXPECT_DOUBLE_EQ(sub->width_mult, 0.7);
  EXPECT_EQ(sub->resolution, 160);
  Arch off = a;
  off.resolution = 100;
  EXPECT_FALSE(s.MatchSubSpace(off).has_value());
}

TEST(SearchSpace, ZooArchOutsideTheSpaceIsRejectedNamingTheChoice) {
  const SearchSpace s = McuNet();
  const Arch zoo = LoadArch(kZoo + "mcunet-5fps_imagenet.json");  // uses expand ratio 5
  try {
    s.Encode({0.5, zoo.resolution}, zoo);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(Has(msg, "expand_ratio 5 not in {3, 4, 6}")) << msg;
    EXPECT_TRUE(Has(msg, "stage 1 block 1")) << msg;
  }
  EXPECT_FALSE(s.MatchSubSpace(zoo).has_value());
}

TEST(SearchSpace, EncodeNamesWhatIsOutOfRange) {
  const SearchSpace s = McuNet();
  Rng rng(11);
  Genes g = s.Sample(rng);
  g.depths[2] = 4;
  for (int j = 0; j < 4; ++j) {
    g.kernels[s.stage_first_slot(2) + j] = 3;
    g.expands[s.stage_first_slot(2) + j] = 3;
  }
  const SubSpace sub{0.5, 128};
  const Arch a = s.Decode(sub, g);
  const auto error_of = [&](const Arch& x) -> std::string {
    try {
      s.Encode(sub, x);
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "";
  };
  Arch b = a;
  b.blocks[1].kernel = 9;
  EXPECT_TRUE(Has(error_of(b), "kernel 9 not in {3, 5, 7}")) << error_of(b);
  b = a;
  b.resolution = 130;
  EXPECT_TRUE(Has(error_of(b), "resolution 130, expected 128")) << error_of(b);
  b = a;
  b.num_classes = 10;
  EXPECT_TRUE(Has(error_of(b), "num_classes 10, expected 1000")) << error_of(b);
  // A fifth block in stage 2 (depth 5).
  b = a;
  const int at = 1 + g.depths[0] + g.depths[1] + 1;  // second block of stage 2
  b.blocks.insert(b.blocks.begin() + at, b.blocks[at]);
  EXPECT_TRUE(Has(error_of(b), "stage 2: depth 5 not in {2, 3, 4}")) << error_of(b);
  // Wrong sub-space.
  EXPECT_THROW(s.Encode({0.55, 128}, a), InvalidInput);
  EXPECT_THROW(s.Decode({0.5, 100}, g), InvalidInput);
}

TEST(SearchSpace, GenesOutOfRangeAreRejected) {
  const SearchSpace s = McuNet();
  Rng rng(5);
  Genes g = s.Sample(rng);
  g.kernels[0] = 9;
  try {
    s.ValidateGenes(g);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_TRUE(Has(e.what(), "stage 0 block 0: kernel 9 not in {3, 5, 7}")) << e.what();
  }
  g = s.Sample(rng);
  g.depths[5] = 2;
  EXPECT_THROW(s.ValidateGenes(g), InvalidInput);
  g = s.Sample(rng);
  g.kernels.pop_back();
  EXPECT_THROW(s.ValidateGenes(g), InvalidInput);
  g = s.Sample(rng);
  g.depths[0] = 2;
  g.kernels[3] = 5;  // inactive slot must hold 0
  g.expands[3] = 0;
  g.kernels[2] = 0;
  g.expands[2] = 0;
  EXPECT_THROW(s.ValidateGenes(g), InvalidInput);
}

TEST(Genes, JsonStringAndHash) {
  const SearchSpace s = McuNet();
  Rng rng(9);
  const Genes g = s.Sample(rng);
  EXPECT_EQ(GenesFromJson(GenesToJson(g)), g);
  Genes h = g;
  EXPECT_EQ(h.Hash(), g.Hash());
  h.depths[0] = h.depths[0] == 2 ? 3 : 2;
  EXPECT_NE(h.Hash(), g.Hash());
  EXPECT_EQ(g.ToString().substr(0, 1), "d");
  EXPECT_THROW(GenesFromJson(nlohmann::json{{"depths", {1}}}), InvalidInput);
}

TEST(Rng, GoldenValuesArePortable) {
  // xoshiro256** seeded by splitmix64, computed by an independent Python
  // implementation: the same numbers with every compiler and libstdc++/libc++.
  Rng a(42);
  EXPECT_EQ(a.Next(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(a.Next(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(a.Next(), 0xae17533239e499a1ULL);
  Rng b(0);
  EXPECT_EQ(b.Next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(b.Next(), 0xbf6e1f784956452aULL);
}

TEST(Rng, BelowIsUniformAndStreamsDiffer) {
  Rng rng(123);
  std::map<uint64_t, int> counts;
  for (int i = 0; i < 30000; ++i) ++counts[rng.Below(3)];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [v, n] : counts) EXPECT_NEAR(n, 10000, 400) << v;
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_NE(Rng::Stream(1, 0).Next(), Rng::Stream(1, 1).Next());
  EXPECT_NE(Rng::Stream(1, 0).Next(), Rng::Stream(2, 0).Next());
  EXPECT_EQ(Rng::Stream(1, 5).Next(), Rng::Stream(1, 5).Next());
}

TEST(Rng, StateRoundTripsThroughJson) {
  Rng a(99);
  for (int i = 0; i < 10; ++i) a.Next();
  Rng b = Rng::FromJson(a.ToJson());
  EXPECT_EQ(a, b);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
  EXPECT_THROW(Rng::FromJson(nlohmann::json{{"algorithm", "mt19937"}, {"state", {}}}), InvalidInput);
  EXPECT_THROW(Rng::FromJson(nlohmann::json{{"algorithm", "xoshiro256**"}, {"state", {"0x1", "zz", "0x2", "0x3"}}}),
               InvalidInput);
}

TEST(SearchSpace, SamplingIsReproducible) {
  const SearchSpace s = McuNet();
  Rng a(2024), b(2024), c(2025);
  bool any_diff = false;
  for (int i = 0; i < 50; ++i) {
    const Genes ga = s.Sample(a);
    EXPECT_EQ(ga, s.Sample(b));
    any_diff = any_diff || !(ga == s.Sample(c));
  }
  EXPECT_TRUE(any_diff);
  // Every choice shows up.
  Rng r(1);
  std::map<int, int> kernels, expands, depths;
  for (int i = 0; i < 300; ++i) {
    const Genes g = s.Sample(r);
    for (int k : g.kernels) ++kernels[k];
    for (int e : g.expands) ++expands[e];
    for (int d : g.depths) ++depths[d];
  }
  for (int k : {3, 5, 7}) EXPECT_GT(kernels[k], 0);
  for (int e : {3, 4, 6}) EXPECT_GT(expands[e], 0);
  for (int d : {1, 2, 3, 4}) EXPECT_GT(depths[d], 0);
}

TEST(SearchSpace, MutationZeroIsIdentityAndMutantsAreValid) {
  const SearchSpace s = McuNet();
  Rng rng(17);
  for (int i = 0; i < 100; ++i) {
    const Genes g = s.Sample(rng);
    const Rng before = rng;
    EXPECT_EQ(s.Mutate(g, 0.0, rng), g);
    EXPECT_EQ(rng, before) << "prob 0 must not draw";
    const Genes m = s.Mutate(g, 0.3, rng);
    EXPECT_NO_THROW(s.ValidateGenes(m));
    EXPECT_NO_THROW(s.Decode({0.4, 112}, m));
  }
  // With probability 1 nearly every genome changes.
  int changed = 0;
  for (int i = 0; i < 50; ++i) {
    const Genes g = s.Sample(rng);
    changed += !(s.Mutate(g, 1.0, rng) == g);
  }
  EXPECT_GE(changed, 45);
}

TEST(SearchSpace, CrossoverChildrenTakeGenesFromParents) {
  const SearchSpace s = McuNet();
  Rng rng(31);
  int from_a = 0, from_b = 0;
  for (int i = 0; i < 100; ++i) {
    const Genes a = s.Sample(rng);
    const Genes b = s.Sample(rng);
    const Genes c = s.Crossover(a, b, rng);
    ASSERT_NO_THROW(s.ValidateGenes(c));
    for (int st = 0; st < s.num_stages(); ++st) {
      EXPECT_TRUE(c.depths[st] == a.depths[st] || c.depths[st] == b.depths[st]);
    }
    for (int k = 0; k < s.num_slots(); ++k) {
      if (c.kernels[k] == 0) continue;
      EXPECT_TRUE(c.kernels[k] == a.kernels[k] || c.kernels[k] == b.kernels[k]) << k;
      EXPECT_TRUE(c.expands[k] == a.expands[k] || c.expands[k] == b.expands[k]) << k;
      from_a += c.kernels[k] == a.kernels[k] && c.kernels[k] != b.kernels[k];
      from_b += c.kernels[k] == b.kernels[k] && c.kernels[k] != a.kernels[k];
    }
  }
  EXPECT_GT(from_a, 100);
  EXPECT_GT(from_b, 100);
  const Genes x = s.Sample(rng);
  EXPECT_EQ(s.Crossover(x, x, rng), x);
}

TEST(SearchSpace, BadSpaceFilesNameTheField) {
  nlohmann::json j = McuNetJson();
  j["kernel_sizes"] = nlohmann::json::array();
  EXPECT_TRUE(Has(LoadError("empty_kernels.json", j), "kernel_sizes: empty choice list"));

  j = McuNetJson();
  j["stages"][2]["expand_ratios"] = nlohmann::json::array();
  EXPECT_TRUE(Has(LoadError("empty_stage_expand.json", j), "stages[2].expand_ratios: empty choice list"));

  j = McuNetJson();
  j["stages"][1]["base_width"] = 0;
  EXPECT_TRUE(Has(LoadError("zero_width.json", j), "stages[1].base_width"));

  j = McuNetJson();
  j["width_multipliers"] = {0.0, 0.5};
  EXPECT_TRUE(Has(LoadError("zero_w.json", j), "width_multipliers[0]"));

  j = McuNetJson();
  j["channel_divisor"] = 0;
  EXPECT_TRUE(Has(LoadError("zero_divisor.json", j), "channel_divisor"));

  j = McuNetJson();
  j["resolutions"] = {16, 48};
  const std::string collapse = LoadError("collapse.json", j);
  EXPECT_TRUE(Has(collapse, "resolutions[0]") && Has(collapse, "collapses to 0 after the strides")) << collapse;

  j = McuNetJson();
  j["resolutions"] = nlohmann::json::array();
  EXPECT_TRUE(Has(LoadError("no_res.json", j), "resolutions: empty choice list"));

  j = McuNetJson();
  j["kernel_sizes"] = {3, 4};
  EXPECT_TRUE(Has(LoadError("even_kernel.json", j), "must be odd"));

  j = McuNetJson();
  j.erase("num_classes");
  EXPECT_TRUE(Has(LoadError("no_classes.json", j), "num_classes: missing required field"));

  j = McuNetJson();
  j["in_channels"] = "three";
  EXPECT_TRUE(Has(LoadError("string_channels.json", j), "in_channels: expected an integer"));

  j = McuNetJson();
  j["schema_version"] = 7;
  EXPECT_TRUE(Has(LoadError("version.json", j), "schema_version"));

  j = McuNetJson();
  j["resolution"] = {96};
  const std::string typo = LoadError("typo.json", j);
  EXPECT_TRUE(Has(typo, "resolution: unknown field; did you mean 'resolutions'?")) << typo;

  j = McuNetJson();
  j["stages"][3]["strides"] = 2;
  EXPECT_TRUE(Has(LoadError("stage_typo.json", j), "stages[3].strides: unknown field; did you mean 'stride'?"));

  j = McuNetJson();
  j["depths"] = {2, 0};
  EXPECT_TRUE(Has(LoadError("zero_depth.json", j), "depths"));

  const std::string bad = WriteTemp("malformed.json", "{\"schema_version\": 1, \"name\": ");
  try {
    LoadSearchSpace(bad);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_TRUE(Has(e.what(), bad) && Has(e.what(), "malformed JSON")) << e.what();
  }
  EXPECT_THROW(LoadSearchSpace(testing::TempDir() + "/does_not_exist.json"), FileNotFound);
}

TEST(SearchSpace, UserSpaceForSmallImagesNeedsNoCode) {
  nlohmann::json j = McuNetJson();
  j["name"] = "tiny32";
  j["in_channels"] = 1;
  j["num_classes"] = 10;
  j["resolutions"] = {32};
  j["width_multipliers"] = {0.25, 0.5};
  j["first_conv"]["stride"] = 1;
  j["stages"] = {{{"base_width", 16}, {"stride", 2}},
                 {{"base_width", 32}, {"stride", 2}, {"kernel_sizes", {3, 5}}},
                 {{"base_width", 64}, {"stride", 1}, {"depths", {1}}, {"expand_ratios", {6}}}};
  const std::string path = WriteTemp("tiny32.json", j.dump());
  const SearchSpace s = LoadSearchSpace(path);
  EXPECT_EQ(s.num_slots(), 4 + 4 + 1);
  Rng rng(1);
  for (int i = 0; i < 50; ++i) {
    const Genes g = s.Sample(rng);
    const Arch a = s.Decode({0.25, 32}, g);
    EXPECT_EQ(a.in_channels, 1);
    EXPECT_EQ(s.Encode({0.25, 32}, a), g);
    EXPECT_EQ(a.blocks.back().expand_ratio, 6);
  }
}

}  // namespace
}  // namespace mcunet
